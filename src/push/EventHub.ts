import type { CallOwner } from '../auth/Principal.js';
import type { EventBus, EventBusHealth, EventListener, PublishOptions } from '../calls/EventBus.js';
import { createLogger, type Logger } from '../logger.js';
import { LogLimiter } from '../LogLimiter.js';
import type { GatewayMetrics } from '../metrics.js';
import { formatCursor, newEpoch, parseCursor } from './EventCursor.js';
import type { EventSource, HistoryEntry, Replay, ResumeGapReason } from './EventSource.js';
import { Subscribers } from './Subscribers.js';
import type { GatewayEvent, UnpublishedEvent } from '../events.js';

export type { EventListener, PublishOptions } from '../calls/EventBus.js';
export type { HistoryEntry, Replay, ResumeGapReason } from './EventSource.js';

/** Where a throwing listener is logged; default: a silent logger and a limiter of the hub's own. */
export interface EventHubIsolation {
  readonly logger: Logger;
  readonly logLimiter: LogLimiter;
}

/** A history entry with its sequence number in this run. */
interface Retained extends HistoryEntry {
  readonly seq: number;
}

/**
 * In-process fan-out of gateway events to push channels: the event bus of a
 * gateway that runs alone (no REDIS_URL). Listeners are called synchronously
 * and must not block; each push channel bounds its own per-client buffer. A
 * listener that throws is isolated (Subscribers): counted, logged, and the
 * publisher and the other listeners go on.
 *
 * Every event gets a gateway-wide `eventId`, `<epoch>-<seq>` (EventCursor.ts):
 * the cursor clients resume from, naming the run so that a cursor from before
 * a restart is never mistaken for one of this run. The hub remembers which
 * agent and queue each active call belongs to (from `call.started`, forgotten
 * after `call.summary`), so that every event carries the scope that decides
 * who may see it.
 *
 * A bounded history ring keeps the last `historySize` events for clients that
 * connect late or resume; when it is full the oldest event is overwritten.
 */
export class EventHub implements EventBus, EventSource {
  private readonly subscribers: Subscribers;
  private readonly history: (Retained | undefined)[];
  private readonly owners = new Map<string, CallOwner>();
  private historyNext = 0;
  private lastSeq = 0;
  /** This run of the gateway: part of every eventId. */
  readonly epoch: number;

  constructor(
    private readonly metrics: GatewayMetrics,
    readonly historySize = 10_000,
    epoch = newEpoch(),
    isolation: EventHubIsolation = { logger: createLogger('silent'), logLimiter: new LogLimiter({ metrics }) },
  ) {
    this.history = new Array<Retained | undefined>(historySize);
    this.epoch = epoch;
    this.subscribers = new Subscribers({ metrics, ...isolation });
    metrics.eventBusConnected.set(1);
  }

  /** In memory: always connected, nothing buffered. */
  health(): EventBusHealth {
    return { connected: true, buffered: 0, lastError: undefined };
  }

  /** Nothing to wait for: publication is delivery. */
  drain(_deadline: number): Promise<void> {
    return Promise.resolve();
  }

  close(): Promise<void> {
    return Promise.resolve();
  }

  publish(unpublished: UnpublishedEvent, options: PublishOptions = {}): GatewayEvent {
    const now = Date.now();
    this.lastSeq += 1;
    const event = { ...unpublished, ts: now, eventId: formatCursor({ epoch: this.epoch, seq: this.lastSeq }) } as GatewayEvent;
    if (event.type === 'call.started') this.owners.set(event.callId, { agentId: event.agentId, queue: event.queue });
    const owner = options.owner ?? this.owners.get(event.callId);
    // The summary is a call's last event: its scope is kept in the history entries, not here.
    if (event.type === 'call.summary') this.owners.delete(event.callId);
    this.history[this.historyNext] = { event, owner, seq: this.lastSeq };
    this.historyNext = (this.historyNext + 1) % this.historySize;
    this.metrics.eventsPublished.inc({ type: event.type });
    if (options.audioEndedAt !== undefined) {
      this.metrics.eventLatency.observe({ type: event.type }, Math.max(0, now - options.audioEndedAt) / 1000);
    }
    this.subscribers.deliver(event, owner, true);
    return event;
  }

  /** Returns an unsubscribe function; `name` labels the listener's errors (sgw_event_listener_errors_total). */
  subscribe(listener: EventListener, name = 'unnamed'): () => void {
    return this.subscribers.add(listener, name);
  }

  /** The owner of an active call, if the hub saw it start. */
  ownerOf(callId: string): CallOwner | undefined {
    return this.owners.get(callId);
  }

  /** `<epoch>-0`: before the first event of this run. */
  get origin(): string {
    return formatCursor({ epoch: this.epoch, seq: 0 });
  }

  /** eventId of the newest event (`<epoch>-0` before the first): a cursor for "everything after now". */
  get cursor(): string {
    return formatCursor({ epoch: this.epoch, seq: this.lastSeq });
  }

  /** Retained events, oldest first. */
  recent(): GatewayEvent[] {
    return this.entries().map((e) => e.event);
  }

  /**
   * Retained events after `since` (a `since=` value as the client sent it),
   * oldest first. A cursor of this run gets exactly the events after it when
   * they are all retained; anything else (another run, a bare integer id, not
   * a cursor, one older than the history, one never published) gets every
   * retained event and a `gap` saying why some may be missing.
   */
  since(since: string): Replay {
    const all = this.entries();
    const oldestEventId = all[0]?.event.eventId ?? null;
    const latestEventId = this.cursor;
    const everything = (gap: ResumeGapReason): Replay => ({ entries: all, gap, oldestEventId, latestEventId });
    const parsed = parseCursor(since);
    if (parsed.kind === 'malformed') return everything('malformed');
    if (parsed.kind === 'legacy' || parsed.cursor.epoch !== this.epoch) return everything('other-run');
    const { seq } = parsed.cursor;
    if (seq > this.lastSeq) return everything('unknown');
    const entries = all.filter((e) => e.seq > seq);
    // Complete when the first retained event after the cursor is the one right after it.
    const complete = seq === this.lastSeq || entries[0]?.seq === seq + 1;
    return { entries, gap: complete ? undefined : 'expired', oldestEventId, latestEventId };
  }

  private entries(): Retained[] {
    const out: Retained[] = [];
    for (let i = 0; i < this.historySize; i++) {
      const entry = this.history[(this.historyNext + i) % this.historySize];
      if (entry !== undefined) out.push(entry);
    }
    return out;
  }
}
