// The Debian packages of the sandbox: checked with dpkg-query, installed with apt-get only when
// missing (after one `apt-get update`), as root; otherwise the user is told the command to run.
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { APT_PACKAGES, LOGS } from './config.mjs';
import { StepError } from './exec.mjs';

/** Installs the Debian packages that are missing (`apt-get update` once first); returns installed versions. */
export function aptPackages(log) {
  const versions = () => Object.fromEntries(APT_PACKAGES.map((p) => [p, dpkgVersion(p)]));
  let have = versions();
  const missing = APT_PACKAGES.filter((p) => !have[p]);
  if (missing.length === 0) {
    log(`Debian packages present: ${APT_PACKAGES.map((p) => `${p} ${have[p]}`).join(', ')}`);
    return have;
  }
  if (process.getuid?.() !== 0) {
    throw new StepError('apt', `missing Debian packages: ${missing.join(' ')}`, `run: sudo apt-get update && sudo apt-get install -y ${missing.join(' ')}`);
  }
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const apt = (args, what) => {
    const t = performance.now();
    log(`apt-get ${args.join(' ')}`);
    const r = spawnSync('apt-get', args, { env, encoding: 'utf8', maxBuffer: 64 << 20 });
    mkdirSync(LOGS, { recursive: true });
    writeFileSync(join(LOGS, `apt-${what}.log`), `${r.stdout}\n${r.stderr}`);
    if (r.status !== 0) {
      throw new StepError('apt', `apt-get ${args.join(' ')} failed (exit ${r.status}); log: ${join(LOGS, `apt-${what}.log`)}\n${r.stderr.trim().split('\n').slice(-10).join('\n')}`,
        'check that Debian\'s mirror is reachable and no other apt/dpkg is running, then retry.');
    }
    log(`  done in ${seconds(t)}`);
  };
  apt(['update'], 'update');
  apt(['install', '-y', '--no-install-recommends', ...missing], 'install');
  have = versions();
  const still = APT_PACKAGES.filter((p) => !have[p]);
  if (still.length) throw new StepError('apt', `still missing after apt-get install: ${still.join(' ')}`, 'install them by hand and retry.');
  return have;
}

function dpkgVersion(pkg) {
  const r = spawnSync('dpkg-query', ['-W', '-f=${db:Status-Abbrev}${Version}', pkg], { encoding: 'utf8' });
  return r.status === 0 && r.stdout.startsWith('ii') ? r.stdout.slice(2).trim() : undefined;
}

function seconds(t0) {
  return `${((performance.now() - t0) / 1000).toFixed(1)} s`;
}
