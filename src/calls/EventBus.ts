import type { CallOwner } from '../auth/Principal.js';
import type { GatewayEvent, UnpublishedEvent } from '../events.js';

/**
 * Delivered to subscribers with the owner of the event's call (the agent and
 * queue that decide who may see it; undefined when unknown) and whether this
 * gateway published it (`local`: always on the in-memory bus; in a cluster,
 * false for the events read from other gateways). A side effect that must
 * happen once per event in the cluster (a webhook) acts on local events only.
 */
export type EventListener = (event: GatewayEvent, owner: CallOwner | undefined, local: boolean) => void;

export interface PublishOptions {
  /**
   * Wall-clock ms at which the audio this event describes ended; feeds the
   * event-latency histogram.
   */
  readonly audioEndedAt?: number;
  /** Scope of the event when its call is no longer tracked (e.g. an alert acknowledged after the call ended). */
  readonly owner?: CallOwner;
}

/**
 * What calls, analytics and the alert store publish to: the in-memory hub of
 * one gateway, or the cluster's Redis stream. `publish` never blocks and never
 * throws into the live path: the bus stamps the event (`ts`, `eventId`) and
 * owns its delivery.
 */
export interface EventPublisher {
  publish(event: UnpublishedEvent, options?: PublishOptions): void;
}

/**
 * Events as they are delivered, for the ingest services that send a call's own
 * events back on its stream (StreamAudio, AudioSocket). A listener that throws
 * is isolated: counted in `sgw_event_listener_errors_total{listener=name}` and
 * logged, and the publisher and the other listeners go on.
 */
export interface EventFeed {
  /** Returns an unsubscribe function. `name` labels the listener's errors. */
  subscribe(listener: EventListener, name: string): () => void;
}

/** Both sides, for the services that publish and follow. */
export type EventBus = EventPublisher & EventFeed;

/** What /readyz and the metrics say of the bus. */
export interface EventBusHealth {
  /** The in-memory bus always; the Redis bus while both its connections are ready. */
  readonly connected: boolean;
  /** Events waiting in the outgoing buffer. */
  readonly buffered: number;
  /** The last connection or command error, until the bus is connected again. */
  readonly lastError: string | undefined;
}
