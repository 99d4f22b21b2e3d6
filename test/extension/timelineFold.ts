// What the timeline webview holds after a session source's data messages: a `dataFrom` spliced onto
// the data before it (src/shared/laneDelta.ts), as media/timeline.ts does.
import assert from 'node:assert/strict';
import { applyDataFrom, type HeldData } from '../../src/shared/laneDelta';
import type { HostMessage, LaneData, TimelineMode } from '../../src/shared/webview';

export type DataMessage = HostMessage & { type: 'data' | 'dataFrom' };
export const isData = (m: HostMessage): m is DataMessage => m.type === 'data' || m.type === 'dataFrom';

export interface DataState {
  /** The message that brought it: whole (`data`) or a delta (`dataFrom`). */
  type: DataMessage['type'];
  mode: TimelineMode;
  lanes: LaneData[];
  eventCount: number;
}

/** The lanes after each data message of `posted`; a delta that does not fit what is held fails the test. */
export function dataStates(posted: readonly HostMessage[]): DataState[] {
  const out: DataState[] = [];
  let held: HeldData | undefined;
  for (const m of posted) {
    if (!isData(m)) continue;
    const lanes = m.type === 'data' ? m.lanes : applyDataFrom(held, m.base, m.lanes);
    assert.ok(lanes, `dataFrom ${m.type === 'dataFrom' ? `on ${m.base}` : ''} does not fit what the webview holds (${held?.seq})`);
    held = m.seq !== undefined ? { seq: m.seq, lanes } : undefined;
    out.push({ type: m.type, mode: m.mode, lanes, eventCount: m.eventCount });
  }
  return out;
}
