import type { CallOwner } from '../auth/Principal.js';
import type { EventListener } from '../calls/EventBus.js';
import { errorMessage } from '../errors.js';
import type { GatewayEvent } from '../events.js';
import type { Logger } from '../logger.js';
import type { LogLimiter } from '../LogLimiter.js';
import type { GatewayMetrics } from '../metrics.js';

export interface SubscribersOptions {
  readonly metrics: GatewayMetrics;
  readonly logger: Logger;
  readonly logLimiter: LogLimiter;
}

/**
 * The listeners of a bus, each isolated from the others and from the
 * publisher: a listener that throws is counted
 * (`sgw_event_listener_errors_total{listener}`) and logged through the
 * LogLimiter (one line per listener a window), and the event still reaches
 * every other listener while the publishing leg goes on recognising.
 */
export class Subscribers {
  private readonly listeners = new Map<EventListener, string>();

  constructor(private readonly options: SubscribersOptions) {}

  /** Returns an unsubscribe function; `name` labels the listener's errors. */
  add(listener: EventListener, name: string): () => void {
    // A function subscribed twice is one listener, as with a Set.
    this.listeners.set(listener, name);
    return () => this.listeners.delete(listener);
  }

  deliver(event: GatewayEvent, owner: CallOwner | undefined, local: boolean): void {
    for (const [listener, name] of this.listeners) {
      try {
        listener(event, owner, local);
      } catch (err) {
        const { metrics, logger, logLimiter } = this.options;
        metrics.eventListenerErrors.inc({ listener: name });
        logLimiter.log(logger, 'error', 'event-listener-error', name, { listener: name, eventType: event.type, err: errorMessage(err) }, 'event listener threw: the event was not handled by it');
      }
    }
  }

  get size(): number {
    return this.listeners.size;
  }
}
