import type { GatewayMetrics } from '../metrics.js';
import type { GatewayEvent, UnpublishedEvent } from './events.js';

export type EventListener = (event: GatewayEvent) => void;

export interface PublishOptions {
  /**
   * Wall-clock ms at which the audio this event describes ended; feeds the
   * event-latency histogram.
   */
  readonly audioEndedAt?: number;
}

/**
 * In-process fan-out of gateway events to push channels (WebSocket, later gRPC
 * watch). Listeners are called synchronously and must not block; each push
 * channel bounds its own per-client buffer.
 *
 * A bounded history ring keeps the last `historySize` events for clients that
 * connect late; when it is full the oldest event is overwritten.
 */
export class EventHub {
  private readonly listeners = new Set<EventListener>();
  private readonly history: (GatewayEvent | undefined)[];
  private historyNext = 0;

  constructor(
    private readonly metrics: GatewayMetrics,
    readonly historySize = 10_000,
  ) {
    this.history = new Array<GatewayEvent | undefined>(historySize);
  }

  publish(unpublished: UnpublishedEvent, options: PublishOptions = {}): GatewayEvent {
    const now = Date.now();
    const event = { ...unpublished, ts: now } as GatewayEvent;
    this.history[this.historyNext] = event;
    this.historyNext = (this.historyNext + 1) % this.historySize;
    this.metrics.eventsPublished.inc({ type: event.type });
    if (options.audioEndedAt !== undefined) {
      this.metrics.eventLatency.observe({ type: event.type }, Math.max(0, now - options.audioEndedAt) / 1000);
    }
    for (const listener of this.listeners) listener(event);
    return event;
  }

  /** Returns an unsubscribe function. */
  subscribe(listener: EventListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Retained events, oldest first. */
  recent(): GatewayEvent[] {
    const out: GatewayEvent[] = [];
    for (let i = 0; i < this.historySize; i++) {
      const event = this.history[(this.historyNext + i) % this.historySize];
      if (event !== undefined) out.push(event);
    }
    return out;
  }
}
