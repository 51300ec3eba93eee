import type { Principal } from '../auth/Principal.js';
import { canSee } from '../auth/scope.js';
import { GatewayError } from '../errors.js';
import type { GatewayMetrics } from '../metrics.js';
import type { EventBus } from '../calls/EventBus.js';
import type { AlertEvent } from '../events.js';

/** An alert as GET /v1/alerts returns it: the `alert` event plus its acknowledgement. */
export interface StoredAlert extends AlertEvent {
  /** Token subject of who acknowledged it; absent while unacknowledged. */
  readonly ackedBy?: string;
  /** Milliseconds since the Unix epoch. */
  readonly ackedAt?: number;
}

/**
 * What GET /v1/alerts and POST /v1/alerts/{id}/ack use: this gateway's
 * AlertStore, or in a cluster the alerts of every gateway in Redis
 * (cluster/RedisAlertStore).
 */
export interface Alerts {
  /** Alerts `principal` may see, oldest first. */
  list(principal: Principal, options?: { unackedOnly?: boolean }): StoredAlert[] | Promise<StoredAlert[]>;
  /** @throws GatewayError SGW_ALERT_NOT_FOUND (also for one out of scope). */
  get(alertId: string, principal?: Principal): StoredAlert | Promise<StoredAlert>;
  /** Idempotent: the first acknowledgement stands; only it publishes `alert.ack`. */
  acknowledge(alertId: string, by: Principal): StoredAlert | Promise<StoredAlert>;
  close(): void;
}

/**
 * The recent supervisor alerts, so that a wall opened (or reconnected) after
 * an alert was raised still shows it, and acknowledgements. Bounded: past
 * `capacity` the oldest alert is dropped (`sgw_alerts_evicted_total`), acked
 * or not. Acknowledging publishes `alert.ack` so every open screen updates.
 */
export class AlertStore implements Alerts {
  private readonly alerts = new Map<string, StoredAlert>();
  private readonly unsubscribe: () => void;

  constructor(
    private readonly hub: EventBus,
    private readonly metrics: GatewayMetrics,
    readonly capacity = 1000,
  ) {
    this.unsubscribe = hub.subscribe((event) => {
      if (event.type === 'alert') this.add(event);
      // An acknowledgement made elsewhere (another gateway of the cluster) marks the alert here too.
      if (event.type === 'alert.ack') this.markAcked(event.alertId, event.ackedBy, event.ackedAt);
    }, 'alert-store');
  }

  private add(alert: AlertEvent): void {
    this.alerts.set(alert.alertId, alert);
    for (const [id, stored] of this.alerts) {
      if (this.alerts.size <= this.capacity) break;
      this.alerts.delete(id);
      this.metrics.alertsEvicted.inc({ acked: stored.ackedAt === undefined ? 'false' : 'true' });
    }
    this.metrics.alertsStored.set(this.alerts.size);
  }

  private markAcked(alertId: string, ackedBy: string, ackedAt: number): void {
    const alert = this.alerts.get(alertId);
    if (alert === undefined || alert.ackedAt !== undefined) return;
    this.alerts.set(alertId, { ...alert, ackedBy, ackedAt });
  }

  /** Alerts `principal` may see (agent: own calls; supervisor: its queues; admin: all), oldest first. */
  list(principal: Principal, options: { unackedOnly?: boolean } = {}): StoredAlert[] {
    return [...this.alerts.values()].filter((a) => canSee(principal, a) && !(options.unackedOnly === true && a.ackedAt !== undefined));
  }

  /**
   * The alert, if `principal` (when given) may see it. One outside its scope
   * is answered exactly as an unknown one, so alert ids cannot be probed.
   * @throws GatewayError SGW_ALERT_NOT_FOUND (never raised, dropped from the store, or out of scope).
   */
  get(alertId: string, principal?: Principal): StoredAlert {
    const alert = this.alerts.get(alertId);
    if (alert === undefined || (principal !== undefined && !canSee(principal, alert))) throw new GatewayError('SGW_ALERT_NOT_FOUND', `alert ${alertId.slice(0, 64)} not found`);
    return alert;
  }

  /**
   * Records who acknowledged the alert and when, and publishes `alert.ack`.
   * Idempotent: a second acknowledgement returns the first one unchanged.
   * Authorization is the caller's (see `canAcknowledge`).
   */
  acknowledge(alertId: string, by: Principal): StoredAlert {
    const alert = this.get(alertId);
    if (alert.ackedAt !== undefined) return alert;
    const acked: StoredAlert = { ...alert, ackedBy: by.subject, ackedAt: Date.now() };
    this.alerts.set(alertId, acked);
    this.metrics.alertsAcked.inc();
    this.hub.publish(
      { type: 'alert.ack', callId: alert.callId, alertId, agentId: alert.agentId, queue: alert.queue, ackedBy: by.subject, ackedAt: acked.ackedAt ?? Date.now() },
      { owner: { agentId: alert.agentId, queue: alert.queue } },
    );
    return acked;
  }

  close(): void {
    this.unsubscribe();
  }
}
