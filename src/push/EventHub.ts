import type { CallOwner } from '../auth/Principal.js';
import type { GatewayMetrics } from '../metrics.js';
import type { GatewayEvent, UnpublishedEvent } from './events.js';

/** Delivered to listeners with the owner of the event's call (undefined when the hub never saw its call.started). */
export type EventListener = (event: GatewayEvent, owner: CallOwner | undefined) => void;

export interface PublishOptions {
  /**
   * Wall-clock ms at which the audio this event describes ended; feeds the
   * event-latency histogram.
   */
  readonly audioEndedAt?: number;
  /** Scope of the event when its call is no longer tracked (e.g. an alert acknowledged after the call ended). */
  readonly owner?: CallOwner;
}

export interface HistoryEntry {
  readonly event: GatewayEvent;
  readonly owner: CallOwner | undefined;
}

/** Events after a cursor, and whether some of them are no longer retained. */
export interface Replay {
  readonly entries: readonly HistoryEntry[];
  /** True when events after the cursor were overwritten (or the cursor is unknown to this gateway, e.g. after a restart). */
  readonly gap: boolean;
  /** eventId of the oldest retained event (0 when none). */
  readonly oldestEventId: number;
  /** eventId of the newest event published (0 when none). */
  readonly latestEventId: number;
}

/**
 * In-process fan-out of gateway events to push channels (WebSocket, later gRPC
 * watch). Listeners are called synchronously and must not block; each push
 * channel bounds its own per-client buffer.
 *
 * Every event gets a gateway-wide `eventId` (1, 2, 3 …): the cursor clients
 * resume from. The hub remembers which agent and queue each active call
 * belongs to (from `call.started`, forgotten after `call.summary`), so that
 * every event carries the scope that decides who may see it.
 *
 * A bounded history ring keeps the last `historySize` events for clients that
 * connect late or resume; when it is full the oldest event is overwritten.
 */
export class EventHub {
  private readonly listeners = new Set<EventListener>();
  private readonly history: (HistoryEntry | undefined)[];
  private readonly owners = new Map<string, CallOwner>();
  private historyNext = 0;
  private lastEventId = 0;

  constructor(
    private readonly metrics: GatewayMetrics,
    readonly historySize = 10_000,
  ) {
    this.history = new Array<HistoryEntry | undefined>(historySize);
  }

  publish(unpublished: UnpublishedEvent, options: PublishOptions = {}): GatewayEvent {
    const now = Date.now();
    this.lastEventId += 1;
    const event = { ...unpublished, ts: now, eventId: this.lastEventId } as GatewayEvent;
    if (event.type === 'call.started') this.owners.set(event.callId, { agentId: event.agentId, queue: event.queue });
    const owner = options.owner ?? this.owners.get(event.callId);
    // The summary is a call's last event: its scope is kept in the history entries, not here.
    if (event.type === 'call.summary') this.owners.delete(event.callId);
    this.history[this.historyNext] = { event, owner };
    this.historyNext = (this.historyNext + 1) % this.historySize;
    this.metrics.eventsPublished.inc({ type: event.type });
    if (options.audioEndedAt !== undefined) {
      this.metrics.eventLatency.observe({ type: event.type }, Math.max(0, now - options.audioEndedAt) / 1000);
    }
    for (const listener of this.listeners) listener(event, owner);
    return event;
  }

  /** Returns an unsubscribe function. */
  subscribe(listener: EventListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** The owner of an active call, if the hub saw it start. */
  ownerOf(callId: string): CallOwner | undefined {
    return this.owners.get(callId);
  }

  /** eventId of the newest event (0 before the first): a cursor for "everything after now". */
  get cursor(): number {
    return this.lastEventId;
  }

  /** Retained events, oldest first. */
  recent(): GatewayEvent[] {
    return this.entries().map((e) => e.event);
  }

  /** Retained events with their scope, oldest first. */
  recentEntries(): HistoryEntry[] {
    return this.entries();
  }

  /**
   * Retained events with `eventId > cursor`, oldest first. `gap` says whether
   * any such event is gone from the ring, or the cursor is from the future
   * (another run of the gateway): the client must then reload its state.
   */
  since(cursor: number): Replay {
    const all = this.entries();
    const oldestEventId = all[0]?.event.eventId ?? 0;
    const entries = all.filter((e) => e.event.eventId > cursor);
    const firstWanted = cursor + 1;
    const gap = cursor > this.lastEventId || (entries.length > 0 && (entries[0]?.event.eventId ?? 0) > firstWanted) || (entries.length === 0 && cursor < this.lastEventId);
    return { entries, gap, oldestEventId, latestEventId: this.lastEventId };
  }

  private entries(): HistoryEntry[] {
    const out: HistoryEntry[] = [];
    for (let i = 0; i < this.historySize; i++) {
      const entry = this.history[(this.historyNext + i) % this.historySize];
      if (entry !== undefined) out.push(entry);
    }
    return out;
  }
}
