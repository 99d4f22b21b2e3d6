// Replays a slice in a child process whose TZ the parent chose (time.test.ts): prints what the
// replay did, or the UserError it raised, as one JSON line.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runHeadless } from '../../src/core/engine/run';
import { UserError } from '../../src/core/errors';

const host = { now: () => '2025-01-01T00:00:00.000Z', user: 'tz', host: 'tz', cwd: process.cwd() };

async function main(): Promise<unknown> {
  const events: { id: string; dropped: string[]; stale: string[] }[] = [];
  try {
    const r = await runHeadless(
      {
        slice: process.argv[2] as string,
        ranker: 'recorded',
        traceDir: mkdtempSync(join(tmpdir(), 'recreplay-tz-')),
        stopWhen: (ex) => {
          events.push({ id: ex.event.id, dropped: [...ex.dropped], stale: ex.stale.map((s) => s.name) });
          return false;
        },
      },
      host,
    );
    r.replayer.dispose();
    return { traceSha256: r.traceSha256, events };
  } catch (e) {
    if (e instanceof UserError) return { error: e.message, where: e.where };
    throw e;
  }
}

void main().then((out) => process.stdout.write(JSON.stringify({ tzOffsetMin: new Date(Date.UTC(2025, 6, 21)).getTimezoneOffset(), ...(out as object) }) + '\n'));
