/** The comparison table and the PNG export of the timeline. */
import type { SummaryRow } from '../src/shared/webview';
import { css, fmt } from './theme';

/** Fills `el` with the final metrics of the compared runs (and B − A for two), or hides it. */
export function renderSummary(el: HTMLElement, summary: { columns: string[]; rows: SummaryRow[] } | undefined): void {
  if (!summary) {
    el.hidden = true;
    return;
  }
  el.hidden = false;
  const table = document.createElement('table');
  const head = document.createElement('tr');
  for (const c of ['metric', ...summary.columns, ...(summary.columns.length === 2 ? ['B − A'] : [])]) {
    const th = document.createElement('th');
    th.textContent = c;
    head.append(th);
  }
  table.append(head);
  for (const r of summary.rows) {
    const tr = document.createElement('tr');
    const cells = [r.metric, ...r.values.map(fmt)];
    if (r.values.length === 2) {
      const [a, b] = r.values;
      cells.push(a !== null && a !== undefined && b !== null && b !== undefined ? `${b - a >= 0 ? '+' : ''}${fmt(b - a)}` : '—');
    }
    for (const c of cells) {
      const td = document.createElement('td');
      td.textContent = c;
      tr.append(td);
    }
    table.append(tr);
  }
  const h = document.createElement('h3');
  h.textContent = 'Final metrics';
  el.replaceChildren(h, table);
}

/** The chart canvases stacked into one PNG (data URL), each under its group title. */
export function chartsPng(canvases: readonly HTMLCanvasElement[], groups: readonly string[], title: string): string {
  const dpr = devicePixelRatio || 1;
  const titleH = Math.round(22 * dpr);
  const w = Math.max(...canvases.map((c) => c.width));
  const h = canvases.reduce((s, c) => s + c.height + titleH, 0);
  const out = document.createElement('canvas');
  out.width = w;
  out.height = h;
  const ctx = out.getContext('2d') as CanvasRenderingContext2D;
  ctx.fillStyle = css('--vscode-editor-background', '#1e1e1e');
  ctx.fillRect(0, 0, w, h);
  let y = 0;
  canvases.forEach((c, i) => {
    ctx.fillStyle = css('--vscode-foreground', '#ccc');
    ctx.font = `${Math.round(13 * dpr)}px sans-serif`;
    ctx.fillText(`${title} — ${groups[i] ?? ''}`, 8 * dpr, y + 16 * dpr);
    y += titleH;
    ctx.drawImage(c, 0, y);
    y += c.height;
  });
  return out.toDataURL('image/png');
}
