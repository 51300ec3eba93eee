/**
 * The `eventId` of an event and the `since=` cursor of /v1/events:
 * `<epoch>-<seq>`, where `epoch` names one run of the gateway (its start, ms
 * since the Unix epoch) and `seq` counts that run's events from 1. A cursor
 * of another run is then recognisable as one, instead of silently meaning
 * "after event n" of this run. The shape is that of a Redis stream id, so
 * clients keep working when events move to a stream.
 */
export interface EventCursor {
  readonly epoch: number;
  /** Events of the run up to and including this one; 0 before the first. */
  readonly seq: number;
}

/** A `since=` value: a cursor, a bare integer (an id of a gateway before epochs: always another run), or not a cursor. */
export type ParsedCursor = { readonly kind: 'cursor'; readonly cursor: EventCursor } | { readonly kind: 'legacy' } | { readonly kind: 'malformed' };

const CURSOR = /^(\d{1,15})-(\d{1,15})$/;
const LEGACY = /^\d{1,15}$/;

export function formatCursor(cursor: EventCursor): string {
  return `${cursor.epoch}-${cursor.seq}`;
}

export function parseCursor(text: string): ParsedCursor {
  const match = CURSOR.exec(text);
  if (match !== null) return { kind: 'cursor', cursor: { epoch: Number(match[1]), seq: Number(match[2]) } };
  return LEGACY.test(text) ? { kind: 'legacy' } : { kind: 'malformed' };
}

let lastEpoch = 0;

/**
 * The epoch of a new run: its start time, and later than any epoch this
 * process handed out before (two hubs started within one millisecond, as in
 * a test that restarts a gateway, must still be two runs).
 */
export function newEpoch(now = Date.now()): number {
  lastEpoch = Math.max(now, lastEpoch + 1);
  return lastEpoch;
}

/**
 * Orders two eventIds: by run, then by event within the run (later runs have
 * later epochs). Not string order: "9-2" is before "10-1".
 */
export function compareEventIds(a: string, b: string): number {
  const x = parseCursor(a);
  const y = parseCursor(b);
  if (x.kind !== 'cursor' || y.kind !== 'cursor') throw new RangeError(`not an eventId: ${x.kind === 'cursor' ? b : a}`);
  return x.cursor.epoch - y.cursor.epoch || x.cursor.seq - y.cursor.seq;
}
