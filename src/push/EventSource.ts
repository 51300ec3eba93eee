import type { CallOwner } from '../auth/Principal.js';
import type { EventFeed } from '../calls/EventBus.js';
import type { GatewayEvent } from '../events.js';

export interface HistoryEntry {
  readonly event: GatewayEvent;
  readonly owner: CallOwner | undefined;
}

/**
 * Why a replay may lack events after the cursor: `other-run` (the cursor is
 * from another run of the gateway, e.g. before a restart, or a bare integer id
 * from before run epochs), `expired` (events after it are no longer retained),
 * `malformed` (not a cursor), `unknown` (never published), `unavailable` (the
 * cluster's event stream cannot be read now: Redis is down).
 */
export type ResumeGapReason = 'other-run' | 'expired' | 'malformed' | 'unknown' | 'unavailable';

/** Events after a cursor, and whether some of them may be missing. */
export interface Replay {
  readonly entries: readonly HistoryEntry[];
  /** Set when events after the cursor may be missing from `entries`: the client must reload its state. */
  readonly gap: ResumeGapReason | undefined;
  /** eventId of the oldest retained event (null when none). */
  readonly oldestEventId: string | null;
  /** The newest eventId published (a cursor for "everything after now"). */
  readonly latestEventId: string;
}

/**
 * What the push channels (/v1/events, the alert store, the call board) read:
 * live events, a replay after a cursor, and the cursor of "now".
 */
export interface EventSource extends EventFeed {
  /**
   * Retained events after `since` (a `since=` value as the client sent it),
   * oldest first, and a `gap` whenever some may be missing.
   */
  since(since: string): Replay | Promise<Replay>;
  /** eventId of the newest event delivered: resume after it with `since=`. */
  readonly cursor: string;
  /**
   * A cursor before every event the bus can replay: `since=` it replays all
   * that is retained (`<epoch>-0` of the hub's run; `0-0` for the cluster's stream).
   */
  readonly origin: string;
}
