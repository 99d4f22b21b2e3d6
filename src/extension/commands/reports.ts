import type { Slice } from '../../core/slice/reader';
import type { ReplayOutcome } from '../headless/protocol';
import type { SliceStatus } from '../slices/sliceStore';
import { fmt } from '../slices/summaries';

/** `cold-start-linear-20250721-091203`: a run folder name that sorts by time and says what ran. */
export function runFolderName(slice: string, ranker: string, when: Date): string {
  const kind = ranker.replace(/^(\w+):.*?([^/\\]+?)(\.json)?$/, '$1-$2').replace(/[^\w.-]+/g, '_');
  const p = (n: number) => String(n).padStart(2, '0');
  const stamp = `${when.getFullYear()}${p(when.getMonth() + 1)}${p(when.getDate())}-${p(when.getHours())}${p(when.getMinutes())}${p(when.getSeconds())}`;
  return `${slice.replace(/[^\w.-]+/g, '_')}-${kind}-${stamp}`;
}

/** One sentence after a headless replay: events, the headline metrics, faults. */
export function runSummary(name: string, r: ReplayOutcome & { type: 'done' }): string {
  const m = r.metrics;
  const pick = (prefix: string) => Object.entries(m).find(([k]) => k === prefix || (k.startsWith(prefix) && k[prefix.length] === '@'));
  const parts = ['hit_rate', 'ndcg', 'ctr', 'coverage', 'fallback_rate']
    .map(pick)
    .filter((x): x is [string, number] => x !== undefined)
    .map(([k, v]) => `${k} ${fmt(v)}`);
  const faults = Object.entries(r.faults).filter(([, c]) => c > 0);
  return `${name}: replayed ${r.events.toLocaleString('en-US')} events — ${parts.join(', ')}${faults.length ? `; faults: ${faults.map(([k, c]) => `${k} ×${c}`).join(', ')}` : '; no faults'}${r.modified.length ? ` (modified files: ${r.modified.join(', ')})` : ''}.`;
}

// Markdown's metacharacters (not . and -: a value never starts a line), and line breaks as spaces: a slice's text is shown, never read as
// Markdown (an image or raw HTML in a description loaded a remote URL when the preview opened).
const esc = (s: string) => s.replace(/[\r\n]+/g, ' ').replace(/[\\`*_{}[\]()#+!|<>~]/g, '\\$&');

/** Slice Info as a Markdown document: what `recreplay info` prints, for reading and copying. */
export function infoMarkdown(slice: Slice, status: SliceStatus): string {
  const m = slice.manifest;
  const lines = [`# ${esc(m.name)}`, '', esc(m.description), '', '| | |', '| --- | --- |'];
  const row = (k: string, v: string) => lines.push(`| ${k} | ${esc(v)} |`);
  row('folder', slice.dir);
  row('events', slice.eventCount.toLocaleString('en-US'));
  row('users', String(slice.userCount));
  row('items', String(slice.items.length));
  row('source', [m.source.kind, m.source.query, m.source.generator].filter(Boolean).join(' · '));
  row('frozen at', m.frozenAt);
  row('clock', `${m.clock.start} (${m.clock.timezone})`);
  row('seed', String(m.seed));
  if (m.pipeline) row('pipeline', JSON.stringify(m.pipeline));
  row('integrity', status.kind === 'modified' ? `MODIFIED: ${[...status.files, ...status.missing].join(', ')}` : status.kind === 'error' ? `cannot be read: ${status.message}` : status.kind === 'verified' ? 'verified: every file matches' : 'small files match; events are checked chunk by chunk as read (run Verify Slice for a full check)');
  row('manifest sha256', slice.manifestSha256);
  lines.push('', '## Versions', '');
  // Every piece from the manifest escaped, keys and hashes too: a version key the format does not
  // know is kept (only warned about), and an image in it loaded a remote URL in the preview.
  for (const [k, v] of Object.entries(m.versions)) if (v) lines.push(`- **${esc(k)}**: ${esc(String(v.name))} ${esc(String(v.version))}${v.sha256 ? ` (${esc(String(v.sha256))})` : ''}`);
  lines.push('', '## Files', '');
  for (const f of m.files) lines.push(`- ${esc(f.path)}: ${f.records !== undefined ? `${esc(String(f.records))} records, ` : ''}${esc(String(f.bytes))} bytes, sha256 ${esc(String(f.sha256))}`);
  if (m.faults.length) {
    lines.push('', '## Known faults', '');
    for (const f of m.faults) lines.push(`- **${esc(f.kind)}** at ${esc(f.event)}${f.note ? `: ${esc(f.note)}` : ''}`);
  }
  lines.push('', '## Redaction', '', `${esc(m.redaction.identifiers)}${m.redaction.dropped.length ? `; dropped: ${m.redaction.dropped.map(esc).join(', ')}` : ''}`, '');
  return lines.join('\n');
}
