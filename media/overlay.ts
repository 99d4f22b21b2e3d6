/** What the charts draw over the series: fault ticks, breakpoint / fault markers, the replay cursor. */
import type uPlot from 'uplot';
import type { Marker } from '../src/shared/webview';
import type { FaultSpan } from './timelineData';
import { css } from './theme';

export interface OverlayState {
  faults: readonly FaultSpan[];
  markers: readonly Marker[];
  cursor: number | undefined;
}

/** The uPlot draw hook of the overlay; `state` is read at every draw. */
export function overlayPlugin(state: () => OverlayState): uPlot.Plugin {
  return {
    hooks: {
      draw: [
        (u: uPlot) => {
          const { faults, markers, cursor } = state();
          const ctx = u.ctx;
          const { left, top, width, height } = u.bbox;
          const x = (ev: number) => Math.round(u.valToPos(ev, 'x', true));
          const inView = (px: number) => px >= left && px <= left + width;
          const dpr = devicePixelRatio || 1;
          ctx.save();
          // Faults per bucket: a short tick along the bottom, one row per lane.
          const faultColor = css('--vscode-charts-orange', '#d18616');
          ctx.fillStyle = faultColor;
          for (const f of faults) {
            const a = x(f.from);
            const b = x(f.to);
            if (!inView(a) && !inView(b)) continue;
            ctx.fillRect(Math.max(left, a), top + height - (f.lane + 1) * 4 * dpr, Math.max(dpr, Math.min(left + width, b) - Math.max(left, a)), 3 * dpr);
          }
          for (const m of markers) {
            const px = x(m.event);
            if (!inView(px)) continue;
            ctx.strokeStyle = m.kind === 'fault' ? faultColor : m.kind === 'exception' ? css('--vscode-charts-red', '#f14c4c') : css('--vscode-debugIcon-breakpointForeground', '#e51400');
            ctx.lineWidth = dpr;
            ctx.setLineDash([3 * dpr, 3 * dpr]);
            ctx.beginPath();
            ctx.moveTo(px, top);
            ctx.lineTo(px, top + height);
            ctx.stroke();
            ctx.setLineDash([]);
            ctx.fillStyle = ctx.strokeStyle;
            ctx.beginPath();
            ctx.arc(px, top + 5 * dpr, 4 * dpr, 0, 2 * Math.PI);
            ctx.fill();
          }
          if (cursor !== undefined && inView(x(cursor))) {
            ctx.strokeStyle = css('--vscode-charts-yellow', '#cca700');
            ctx.lineWidth = 2 * dpr;
            ctx.beginPath();
            ctx.moveTo(x(cursor), top);
            ctx.lineTo(x(cursor), top + height);
            ctx.stroke();
          }
          ctx.restore();
        },
      ],
    },
  };
}
