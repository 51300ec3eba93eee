import type { Redis } from 'ioredis';
import type { Principal } from '../auth/Principal.js';
import { canSee } from '../auth/scope.js';
import type { EventBus } from '../calls/EventBus.js';
import { GatewayError } from '../errors.js';
import type { AlertAckEvent, AlertEvent } from '../events.js';
import type { Logger } from '../logger.js';
import type { LogLimiter } from '../LogLimiter.js';
import { GatewayMetrics } from '../metrics.js';
import { AlertStore, type Alerts, type StoredAlert } from '../push/AlertStore.js';
import { createRedisClient, redisErrorMessage } from './redisClient.js';

export interface RedisAlertStoreOptions {
  readonly url: string;
  readonly keyPrefix: string;
  readonly instanceId: string;
  readonly bus: EventBus;
  readonly metrics: GatewayMetrics;
  readonly logger: Logger;
  readonly logLimiter: LogLimiter;
  /** ALERTS_KEPT: alerts the cluster keeps; past it the oldest goes first. */
  readonly capacity: number;
}

/** Alerts that could not be written yet (Redis away), retried on reconnect; past it the oldest is given up. */
const MAX_UNWRITTEN = 1000;

/**
 * The cluster's alerts and acknowledgements in Redis, so every gateway lists
 * the same alerts (also one started after they were raised) and an
 * acknowledgement made on any gateway holds on all:
 *
 * - `<prefix>alerts`: alertId → the `alert` event (a hash);
 * - `<prefix>alerts:order`: alertIds by `ts` (a sorted set), trimmed to
 *   ALERTS_KEPT with ZPOPMIN (the oldest first, acknowledged or not, counted in
 *   `sgw_alerts_evicted_total` by the gateway that popped it);
 * - `<prefix>alerts:acks`: alertId → `{ackedBy, ackedAt}`, written with HSETNX:
 *   the first acknowledgement in the cluster stands, and only the gateway that
 *   wrote it publishes `alert.ack`.
 *
 * Every gateway reads every `alert` and `alert.ack` from the event stream and
 * writes it with HSETNX (only the first write counts). While Redis is away
 * the gateway answers from its own AlertStore (the alerts and
 * acknowledgements it has seen; one made meanwhile is its own, and reaches
 * Redis through the stream once Redis is back), keeps what it could not write
 * (up to 1000) and writes it when Redis is back.
 */
export class RedisAlertStore implements Alerts {
  private readonly redis: Redis;
  /** What this gateway has seen, for the answers while Redis is away. */
  private readonly local: AlertStore;
  private unwritten: (AlertEvent | AlertAckEvent)[] = [];
  private readonly unsubscribe: () => void;

  constructor(private readonly options: RedisAlertStoreOptions) {
    this.redis = createRedisClient({ url: options.url, name: `${options.instanceId}:alerts`, logger: options.logger, logLimiter: options.logLimiter, socketTimeoutMs: 3000 });
    // Its own metrics: the cluster's store (Redis) is the one reported.
    this.local = new AlertStore(options.bus, new GatewayMetrics({ defaultMetrics: false }), options.capacity);
    this.unsubscribe = options.bus.subscribe((event) => {
      // An acknowledgement is written by every gateway that reads it too: one made while Redis was away reaches it later.
      if (event.type === 'alert' || event.type === 'alert.ack') this.write([event]);
    }, 'alert-store-redis');
    this.redis.on('ready', () => {
      const retry = this.unwritten;
      this.unwritten = [];
      if (retry.length > 0) this.write(retry);
    });
  }

  private key(...parts: string[]): string {
    return `${this.options.keyPrefix}${parts.join(':')}`;
  }

  private write(alerts: readonly (AlertEvent | AlertAckEvent)[]): void {
    this.store(alerts).catch((err: unknown) => {
      this.unwritten.push(...alerts);
      if (this.unwritten.length > MAX_UNWRITTEN) this.unwritten.splice(0, this.unwritten.length - MAX_UNWRITTEN);
      this.options.logLimiter.log(this.options.logger, 'warn', 'event-bus-error', 'alerts', { err: redisErrorMessage(err), unwritten: this.unwritten.length }, 'storing an alert in Redis failed: retried when Redis is back');
    });
  }

  private async store(events: readonly (AlertEvent | AlertAckEvent)[]): Promise<void> {
    for (const event of events) {
      if (event.type === 'alert.ack') {
        await this.redis.hsetnx(this.key('alerts', 'acks'), event.alertId, JSON.stringify({ ackedBy: event.ackedBy, ackedAt: event.ackedAt }));
        continue;
      }
      const added = await this.redis.hsetnx(this.key('alerts'), event.alertId, JSON.stringify(event));
      if (added === 1) await this.redis.zadd(this.key('alerts', 'order'), String(event.ts), event.alertId);
    }
    const stored = await this.redis.zcard(this.key('alerts', 'order'));
    const excess = stored - this.options.capacity;
    if (excess > 0) {
      // ZPOPMIN hands each evicted id to one gateway only: it is counted once.
      const popped = await this.redis.zpopmin(this.key('alerts', 'order'), excess);
      const ids = popped.filter((_, i) => i % 2 === 0);
      if (ids.length > 0) {
        const acks = await this.redis.hmget(this.key('alerts', 'acks'), ...ids);
        await this.redis.multi().hdel(this.key('alerts'), ...ids).hdel(this.key('alerts', 'acks'), ...ids).exec();
        for (const ack of acks) this.options.metrics.alertsEvicted.inc({ acked: ack === null ? 'false' : 'true' });
      }
    }
    this.options.metrics.alertsStored.set(Math.min(stored, this.options.capacity));
  }

  private get connected(): boolean {
    return this.redis.status === 'ready';
  }

  async list(principal: Principal, options: { unackedOnly?: boolean } = {}): Promise<StoredAlert[]> {
    if (!this.connected) return this.local.list(principal, options);
    try {
      const ids = await this.redis.zrange(this.key('alerts', 'order'), 0, -1);
      if (ids.length === 0) return [];
      const [alerts, acks] = await Promise.all([this.redis.hmget(this.key('alerts'), ...ids), this.redis.hmget(this.key('alerts', 'acks'), ...ids)]);
      const out: StoredAlert[] = [];
      for (const [i, text] of alerts.entries()) {
        const alert = merge(text ?? null, acks[i] ?? null);
        if (alert !== undefined && canSee(principal, alert) && !(options.unackedOnly === true && alert.ackedAt !== undefined)) out.push(alert);
      }
      return out;
    } catch {
      return this.local.list(principal, options);
    }
  }

  async get(alertId: string, principal?: Principal): Promise<StoredAlert> {
    let alert: StoredAlert | undefined;
    if (this.connected) {
      try {
        const [text, ack] = await Promise.all([this.redis.hget(this.key('alerts'), alertId), this.redis.hget(this.key('alerts', 'acks'), alertId)]);
        alert = merge(text, ack);
      } catch {
        return this.local.get(alertId, principal);
      }
    } else {
      return this.local.get(alertId, principal);
    }
    if (alert === undefined || (principal !== undefined && !canSee(principal, alert))) throw new GatewayError('SGW_ALERT_NOT_FOUND', `alert ${alertId.slice(0, 64)} not found`);
    return alert;
  }

  /**
   * The first acknowledgement in the cluster stands (HSETNX); the gateway
   * that wrote it publishes `alert.ack`, which marks the alert on every
   * screen and in every gateway's own store. While Redis is away the
   * acknowledgement is this gateway's own (its AlertStore), as on a gateway alone.
   */
  async acknowledge(alertId: string, by: Principal): Promise<StoredAlert> {
    const alert = await this.get(alertId);
    if (alert.ackedAt !== undefined) return alert;
    if (!this.connected) {
      this.options.metrics.alertsAcked.inc();
      return this.local.acknowledge(alertId, by);
    }
    const ack = { ackedBy: by.subject, ackedAt: Date.now() };
    const first = await this.redis.hsetnx(this.key('alerts', 'acks'), alertId, JSON.stringify(ack));
    if (first !== 1) return this.get(alertId);
    this.options.metrics.alertsAcked.inc();
    this.options.bus.publish(
      { type: 'alert.ack', callId: alert.callId, alertId, agentId: alert.agentId, queue: alert.queue, ackedBy: ack.ackedBy, ackedAt: ack.ackedAt },
      { owner: { agentId: alert.agentId, queue: alert.queue } },
    );
    return { ...alert, ...ack };
  }

  close(): void {
    this.unsubscribe();
    this.local.close();
    this.redis.disconnect();
  }
}

/** An alert from its hash value and its acknowledgement's, undefined when absent or unreadable. */
function merge(alertText: string | null, ackText: string | null): StoredAlert | undefined {
  if (alertText === null) return undefined;
  try {
    const alert = JSON.parse(alertText) as AlertEvent;
    if (typeof alert.alertId !== 'string' || typeof alert.queue !== 'string' || typeof alert.agentId !== 'string') return undefined;
    if (ackText === null) return alert;
    const ack = JSON.parse(ackText) as { ackedBy?: unknown; ackedAt?: unknown };
    return typeof ack.ackedBy === 'string' && typeof ack.ackedAt === 'number' ? { ...alert, ackedBy: ack.ackedBy, ackedAt: ack.ackedAt } : alert;
  } catch {
    return undefined;
  }
}
