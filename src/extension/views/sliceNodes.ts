import * as vscode from 'vscode';
import type { SliceEntry } from '../slices/sliceStore';
import { clockTime, fmt } from '../slices/summaries';
import { shownText } from './shownText';

export type Section = 'manifest' | 'versions' | 'integrity' | 'users' | 'items' | 'events' | 'sessions' | 'userFeatures' | 'itemFeatures' | 'categories' | 'segments' | 'knownFaults';
export type Paged = 'events' | 'users' | 'items' | 'sessions';

/** Nodes of the Slices view. Everything below a slice is computed when it is expanded. */
export type SliceNode =
  | { kind: 'slice'; entry: SliceEntry }
  | { kind: 'section'; entry: SliceEntry; section: Section; label: string; count?: number }
  | { kind: 'range'; entry: SliceEntry; what: Paged; from: number; to: number; label: string; description: string; session?: number }
  | { kind: 'event'; entry: SliceEntry; n: number; id: string; t: string; user: string; session: string | undefined; served: string[]; clicks: string[]; candidates: number; error?: string }
  | { kind: 'record'; entry: SliceEntry; what: 'user' | 'item'; index: number }
  | { kind: 'session'; entry: SliceEntry; session: string; index: number; count: number; first: number }
  | { kind: 'field'; label: string; description: string; tooltip?: string; icon?: string; open?: string }
  | { kind: 'message'; label: string; icon: string; tooltip?: string; retry?: boolean };

/** Sliced ids keep the tree's expansion state across refreshes. */
export function nodeId(n: SliceNode): string | undefined {
  switch (n.kind) {
    case 'slice':
      return n.entry.dir;
    case 'section':
      return `${n.entry.dir}#${n.section}`;
    case 'range':
      return `${n.entry.dir}#${n.what}:${n.session ?? ''}:${n.from}-${n.to}`;
    case 'event':
      return `${n.entry.dir}#event:${n.n}`;
    case 'record':
      return `${n.entry.dir}#${n.what}:${n.index}`;
    case 'session':
      return `${n.entry.dir}#session:${n.session}`;
    default:
      return undefined;
  }
}

function statusOf(entry: SliceEntry): { text: string; icon: vscode.ThemeIcon; detail: string } {
  const s = entry.status;
  switch (s.kind) {
    case 'unchecked':
      return { text: 'not checked yet', icon: new vscode.ThemeIcon('database'), detail: 'Expand the slice or run Verify Slice to check its hashes.' };
    case 'ok':
      return { text: 'intact', icon: new vscode.ThemeIcon('database', new vscode.ThemeColor('testing.iconPassed')), detail: 'Catalogue and users match the manifest; events.jsonl is checked chunk by chunk as it is read (Verify Slice checks every byte now).' };
    case 'verified':
      return { text: 'verified', icon: new vscode.ThemeIcon('verified-filled', new vscode.ThemeColor('testing.iconPassed')), detail: 'Every file matches its sha256 in the manifest.' };
    case 'modified':
      return { text: `modified: ${[...s.files, ...s.missing.map((m) => `${m} (missing)`)].join(', ')}`, icon: new vscode.ThemeIcon('warning', new vscode.ThemeColor('problemsWarningIcon.foreground')), detail: 'These files do not match the manifest. A modified slice is never replayed silently: re-freeze it, restore the files, or launch with "force": true.' };
    case 'error':
      return { text: 'cannot be read', icon: new vscode.ThemeIcon('error', new vscode.ThemeColor('problemsErrorIcon.foreground')), detail: s.message };
  }
}

/**
 * Text from a slice (an event id, a folder name) as a Markdown code span: fenced with more backticks
 * than it holds, its content is literal — a crafted id cannot close the span and add links or
 * remote images to a tooltip.
 */
export function codeSpan(text: string): string {
  // Every line break CommonMark knows (a lone CR too): two of them would end the span with a blank line.
  const t = text.replace(/\r\n|[\r\n\u2028\u2029]/g, ' ');
  let longest = 0;
  for (const run of t.match(/`+/g) ?? []) longest = Math.max(longest, run.length);
  const fence = '`'.repeat(longest + 1);
  // A space inside the fence keeps a backtick at either end from joining it, and keeps spaces at
  // both ends: CommonMark strips one from each side when both are there.
  const pad = t.startsWith('`') || t.endsWith('`') || (t.startsWith(' ') && t.endsWith(' ') && t.trim() !== '') ? ' ' : '';
  return `${fence}${pad}${t}${pad}${fence}`;
}

function sliceItem(entry: SliceEntry): vscode.TreeItem {
  const item = new vscode.TreeItem(entry.name, vscode.TreeItemCollapsibleState.Collapsed);
  const st = statusOf(entry);
  const count = entry.eventCount;
  item.description = `${count === undefined ? '' : `${count.toLocaleString('en-US')} events · `}${st.text}`;
  item.iconPath = st.icon;
  const md = new vscode.MarkdownString();
  md.appendMarkdown('**').appendText(entry.name).appendMarkdown('**  \n');
  if (entry.manifest) md.appendText(`${entry.manifest.description}\n\n`);
  md.appendMarkdown(`${codeSpan(entry.dir)}\n\n`);
  md.appendText(st.detail);
  item.tooltip = md;
  item.contextValue = entry.status.kind === 'modified' ? 'slice.modified' : entry.status.kind === 'error' ? 'slice.error' : 'slice';
  item.resourceUri = vscode.Uri.file(entry.dir);
  return item;
}

const SECTION_ICONS: Record<Section, string> = {
  manifest: 'file-code',
  versions: 'versions',
  integrity: 'shield',
  users: 'person',
  items: 'package',
  events: 'list-ordered',
  sessions: 'history',
  userFeatures: 'symbol-field',
  itemFeatures: 'symbol-field',
  categories: 'symbol-enum',
  segments: 'symbol-enum',
  knownFaults: 'bug',
};

/** The TreeItem of a node. */
export function treeItemOf(n: SliceNode): vscode.TreeItem {
  const id = nodeId(n);
  let item: vscode.TreeItem;
  switch (n.kind) {
    case 'slice':
      item = sliceItem(n.entry);
      break;
    case 'section': {
      item = new vscode.TreeItem(n.label, vscode.TreeItemCollapsibleState.Collapsed);
      if (n.count !== undefined) item.description = n.count.toLocaleString('en-US');
      item.iconPath = new vscode.ThemeIcon(SECTION_ICONS[n.section]);
      if (n.section === 'integrity') {
        const st = statusOf(n.entry);
        item.description = st.text;
        item.iconPath = st.icon;
        item.tooltip = st.detail;
      }
      item.contextValue = `section.${n.section}`;
      break;
    }
    case 'range':
      item = new vscode.TreeItem(n.label, vscode.TreeItemCollapsibleState.Collapsed);
      item.description = n.description;
      item.iconPath = new vscode.ThemeIcon('folder-library');
      item.contextValue = `range.${n.what}`;
      break;
    case 'event': {
      item = new vscode.TreeItem(`#${n.n}  ${n.id}`, vscode.TreeItemCollapsibleState.None);
      if (n.error) {
        item.description = n.error;
        item.iconPath = new vscode.ThemeIcon('error', new vscode.ThemeColor('problemsErrorIcon.foreground'));
      } else {
        item.description = `${clockTime(n.t)} · ${n.user} · ${n.clicks.length} click${n.clicks.length === 1 ? '' : 's'}`;
        item.iconPath = new vscode.ThemeIcon(n.clicks.length ? 'pass' : 'circle-outline');
        const md = new vscode.MarkdownString();
        md.appendMarkdown(`**Event ${n.n}** ${codeSpan(n.id)}  \n`);
        md.appendText(`${n.t} · user ${n.user}${n.session ? ` · session ${n.session}` : ''}\n`);
        md.appendText(`${n.candidates} candidates · served ${n.served.slice(0, 5).join(', ')}${n.served.length > 5 ? ', …' : ''}\n`);
        md.appendText(`clicks: ${n.clicks.join(', ') || 'none'}`);
        item.tooltip = md;
      }
      item.contextValue = 'event';
      item.command = { command: 'recreplay.revealEvent', title: 'Reveal Event', arguments: [{ sliceDir: n.entry.dir, event: n.n }] };
      break;
    }
    case 'record': {
      const s = n.entry.slice;
      // One user parsed, not all of them (a million took 1.5 s to show a page).
      const rec = n.what === 'user' ? (s && n.index < s.userCount ? s.userById.at(n.index) : undefined) : s?.items[n.index];
      item = new vscode.TreeItem(rec?.id ?? '?', vscode.TreeItemCollapsibleState.None);
      const features = Object.entries(rec?.features ?? {});
      const lead = n.what === 'user' ? (rec as { segment?: string } | undefined)?.segment : (rec as { category?: string } | undefined)?.category;
      item.description = [lead, ...features.slice(0, 4).map(([k, v]) => `${k}=${typeof v === 'number' ? fmt(v) : String(v)}`)].filter(Boolean).join(' · ');
      item.tooltip = JSON.stringify(rec, (k, v: unknown) => (k === 'embedding' && Array.isArray(v) ? `[${v.length} numbers]` : v), 2);
      item.iconPath = new vscode.ThemeIcon(n.what === 'user' ? 'person' : 'package');
      item.contextValue = n.what;
      break;
    }
    case 'session':
      item = new vscode.TreeItem(n.session, vscode.TreeItemCollapsibleState.Collapsed);
      item.description = `${n.count.toLocaleString('en-US')} event${n.count === 1 ? '' : 's'} · from #${n.first}`;
      item.iconPath = new vscode.ThemeIcon('history');
      item.contextValue = 'session';
      break;
    case 'field':
      item = new vscode.TreeItem(n.label, vscode.TreeItemCollapsibleState.None);
      item.description = n.description;
      item.tooltip = n.tooltip ?? `${n.label}: ${n.description}`;
      if (n.icon) item.iconPath = new vscode.ThemeIcon(n.icon);
      if (n.open) item.command = { command: 'vscode.open', title: 'Open', arguments: [vscode.Uri.file(n.open)] };
      item.contextValue = 'field';
      break;
    case 'message':
      item = new vscode.TreeItem(n.label, vscode.TreeItemCollapsibleState.None);
      item.iconPath = new vscode.ThemeIcon(n.icon);
      if (n.tooltip) item.tooltip = n.tooltip;
      // VS Code keeps the children it fetched: collapsing and expanding again asks for none, so a
      // retry goes through a refresh, on a click.
      if (n.retry) item.command = { command: 'recreplay.refreshSlices', title: 'Try again' };
      item.contextValue = 'message';
      break;
  }
  if (id !== undefined) item.id = id;
  return shownText(item);
}
