/** Theme colours (through the --vscode-* variables VS Code sets on the webview) and number formats. */
import { SERIES, type SeriesInfo } from '../src/shared/webview';

/** A CSS variable of the current theme, or a fallback outside VS Code. */
export function css(name: string, fallback: string): string {
  return getComputedStyle(document.body).getPropertyValue(name).trim() || fallback;
}

const PALETTE = ['--vscode-charts-blue', '--vscode-charts-orange', '--vscode-charts-green', '--vscode-charts-purple', '--vscode-charts-red', '--vscode-charts-yellow', '--vscode-terminal-ansiCyan'];
const FALLBACK = ['#3794ff', '#d18616', '#89d185', '#b180d7', '#f14c4c', '#cca700', '#29b8db'];

/** A series' colour: its place in its group picks one of the theme's chart colours. */
export function colorOf(s: SeriesInfo): string {
  const inGroup = SERIES.filter((x) => x.group === s.group);
  const i = inGroup.indexOf(s) % PALETTE.length;
  return css(PALETTE[i] as string, FALLBACK[i] as string);
}

/** `#rrggbb` with an alpha, for range bands; other colour syntaxes are returned as they are. */
export function withAlpha(color: string, a: number): string {
  const m = /^#([0-9a-f]{6})$/i.exec(color);
  if (!m) return color;
  const n = parseInt(m[1] as string, 16);
  return `rgba(${n >> 16}, ${(n >> 8) & 255}, ${n & 255}, ${a})`;
}

/** A value as the readout and summary show it: 4 significant digits, whole numbers from 100. */
export function fmt(v: number | null): string {
  if (v === null || !Number.isFinite(v)) return '—';
  if (Math.abs(v) >= 100) return v.toFixed(0);
  return Number(v.toPrecision(4)).toString();
}
