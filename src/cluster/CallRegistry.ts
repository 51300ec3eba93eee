import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { CallOwner } from '../auth/Principal.js';
import type { EventFeed, EventPublisher } from '../calls/EventBus.js';
import type { CallManager } from '../calls/CallManager.js';
import type { CallSnapshot } from '../calls/types.js';
import type { Logger } from '../logger.js';
import type { LogLimiter } from '../LogLimiter.js';
import { createRedisClient, redisErrorMessage } from './redisClient.js';

export interface CallRegistryOptions {
  readonly url: string;
  readonly keyPrefix: string;
  readonly instanceId: string;
  /** CLUSTER_HEARTBEAT_MS. */
  readonly heartbeatMs: number;
  /** CLUSTER_INSTANCE_TTL_MS. */
  readonly instanceTtlMs: number;
  readonly calls: CallManager;
  /** Where a lost instance's calls are ended (call.ended, alert). */
  readonly bus: EventPublisher & EventFeed;
  readonly logger: Logger;
  readonly logLimiter: LogLimiter;
}

/** A call as the registry holds it: its snapshot and the gateway that has it. */
export interface RegisteredCall {
  readonly instanceId: string;
  readonly snapshot: CallSnapshot;
}

/** How long an ended call stays findable by GetCall and EndCall on every gateway. */
const ENDED_CALL_TTL_MS = 15 * 60_000;
/** How long the gateway ending a lost instance's calls holds the job (then another may retry what is left). */
const LOST_LOCK_MS = 60_000;

/**
 * Which gateway has which call, in Redis, refreshed by each gateway's
 * heartbeat:
 *
 * - `<prefix>instances`: the gateways of the cluster (a set);
 * - `<prefix>instance:<id>`: a gateway's heartbeat, set every
 *   CLUSTER_HEARTBEAT_MS with a TTL of CLUSTER_INSTANCE_TTL_MS;
 * - `<prefix>instance:<id>:calls`: the ids of its active calls (a set);
 * - `<prefix>call:<callId>`: `{instanceId, snapshot}`, refreshed by the owner
 *   while the call is active (TTL three heartbeat TTLs), kept 15 minutes
 *   after it ended.
 *
 * A gateway whose heartbeat expired is lost: the first survivor to take the
 * lock `<prefix>lost:<id>` (SET NX, 60 s) publishes, for each of its calls,
 * `call.ended` with reason `instance-lost` and a critical `alert` (source
 * `instance-lost`) for the call's supervisors, marks the call ended in the
 * registry, and forgets the gateway. What the lost gateway had published
 * stays in the stream. A gateway only judges others once it has itself been
 * connected and beating for a whole TTL, so a Redis outage that let every
 * heartbeat expire does not end the calls of gateways that are alive.
 */
export class CallRegistry {
  private readonly redis: Redis;
  private readonly timer: NodeJS.Timeout;
  /** Calls registered by the last sync (to notice which ended since). */
  private registered = new Set<string>();
  private syncing: Promise<void> | undefined;
  private syncAgain = false;
  private connectedSince: number | undefined;
  /** Calls a previous run under this INSTANCE_ID left in the registry have been ended. */
  private ownLeftoversEnded = false;
  private closed = false;
  private readonly unsubscribe: () => void;

  constructor(private readonly options: CallRegistryOptions) {
    this.redis = createRedisClient({ url: options.url, name: `${options.instanceId}:registry`, logger: options.logger, logLimiter: options.logLimiter, socketTimeoutMs: 3000 });
    this.redis.on('ready', () => {
      this.connectedSince = Date.now();
      this.sync();
    });
    this.redis.on('close', () => {
      this.connectedSince = undefined;
    });
    this.timer = setInterval(() => this.sync(), options.heartbeatMs);
    this.timer.unref();
    // A call of this gateway that starts or ends is in the registry at once, not at the next heartbeat.
    this.unsubscribe = options.bus.subscribe((event) => {
      if ((event.type === 'call.started' || event.type === 'call.ended') && this.isLocal(event.callId)) this.sync();
    }, 'call-registry');
  }

  private key(...parts: string[]): string {
    return `${this.options.keyPrefix}${parts.join(':')}`;
  }

  private isLocal(callId: string): boolean {
    try {
      this.options.calls.get(callId);
      return true;
    } catch {
      return false;
    }
  }

  /** Runs a heartbeat now (once more after the running one, if one runs). */
  sync(): void {
    if (this.closed && this.syncing !== undefined) return;
    if (this.syncing !== undefined) {
      this.syncAgain = true;
      return;
    }
    this.syncing = (async () => {
      do {
        this.syncAgain = false;
        try {
          if (!this.ownLeftoversEnded && this.redis.status === 'ready') {
            await this.endCallsOf(this.options.instanceId);
            this.ownLeftoversEnded = true;
          }
          await this.heartbeat();
          await this.findLost();
        } catch (err) {
          this.options.logLimiter.log(this.options.logger, 'warn', 'event-bus-error', 'registry', { err: redisErrorMessage(err) }, 'call registry heartbeat failed');
        }
      } while (this.syncAgain && !this.closed);
    })().finally(() => {
      this.syncing = undefined;
    });
  }

  /** Once the running heartbeat (if any) is done. */
  async settled(): Promise<void> {
    while (this.syncing !== undefined) await this.syncing;
  }

  /** The heartbeat key, and this gateway's calls: active ones refreshed, ended ones marked ended and dropped from its set. */
  private async heartbeat(): Promise<void> {
    if (this.redis.status !== 'ready') return;
    const { instanceId, instanceTtlMs } = this.options;
    const active = this.options.calls.list();
    const activeIds = new Set(active.map((c) => c.callId));
    const multi = this.redis.multi();
    multi.set(this.key('instance', instanceId), String(Date.now()), 'PX', instanceTtlMs);
    multi.sadd(this.key('instances'), instanceId);
    for (const snapshot of active) {
      multi.set(this.key('call', snapshot.callId), JSON.stringify({ instanceId, snapshot }), 'PX', 3 * instanceTtlMs);
      multi.sadd(this.key('instance', instanceId, 'calls'), snapshot.callId);
    }
    const ended = [...this.registered].filter((id) => !activeIds.has(id));
    for (const callId of ended) {
      let snapshot: CallSnapshot | undefined;
      try {
        snapshot = this.options.calls.get(callId);
      } catch {
        snapshot = undefined;
      }
      if (snapshot !== undefined) multi.set(this.key('call', callId), JSON.stringify({ instanceId, snapshot }), 'PX', ENDED_CALL_TTL_MS);
      else multi.del(this.key('call', callId));
      multi.srem(this.key('instance', instanceId, 'calls'), callId);
    }
    await multi.exec();
    this.registered = activeIds;
  }

  /** Gateways in the set whose heartbeat expired: one survivor ends their calls. */
  private async findLost(): Promise<void> {
    const since = this.connectedSince;
    if (since === undefined || Date.now() - since < this.options.instanceTtlMs || this.closed) return;
    const instances = await this.redis.smembers(this.key('instances'));
    const others = instances.filter((id) => id !== this.options.instanceId);
    if (others.length === 0) return;
    const alive = await Promise.all(others.map((id) => this.redis.exists(this.key('instance', id))));
    for (const [i, id] of others.entries()) {
      if (alive[i] !== 0) continue;
      const locked = await this.redis.set(this.key('lost', id), this.options.instanceId, 'PX', LOST_LOCK_MS, 'NX');
      if (locked !== 'OK') continue;
      await this.endCallsOf(id);
    }
  }

  /**
   * Ends every call registered for a lost gateway: `call.ended` (reason
   * `instance-lost`, the duration up to now) and a critical alert, scoped to
   * the call's agent and queue; the registry marks it ended. Also run at
   * start for this gateway's own id, for calls a previous run under the same
   * INSTANCE_ID left behind.
   */
  async endCallsOf(lostId: string): Promise<number> {
    const callIds = await this.redis.smembers(this.key('instance', lostId, 'calls'));
    let ended = 0;
    for (const callId of callIds) {
      // This gateway's own calls (a previous run's leftovers are not among them).
      if (this.isLocal(callId)) continue;
      const registered = parseRegistered(await this.redis.get(this.key('call', callId)));
      if (registered !== undefined && registered.snapshot.state === 'active' && registered.instanceId === lostId) {
        const { snapshot } = registered;
        const now = Date.now();
        const durationMs = Math.max(0, now - snapshot.startedAt);
        const owner: CallOwner = { agentId: snapshot.agentId, queue: snapshot.queue };
        this.options.bus.publish({ type: 'call.ended', callId, reason: 'instance-lost', durationMs }, { owner });
        this.options.bus.publish(
          {
            type: 'alert',
            callId,
            alertId: randomUUID(),
            severity: 'critical',
            agentId: snapshot.agentId,
            queue: snapshot.queue,
            source: 'instance-lost',
            message: `gateway ${lostId} was lost: the call is no longer analysed`,
            reasons: [],
            atMs: durationMs,
          },
          { owner },
        );
        const endedSnapshot: CallSnapshot = { ...snapshot, state: 'ended', endReason: 'instance-lost', durationMs };
        await this.redis.set(this.key('call', callId), JSON.stringify({ instanceId: lostId, snapshot: endedSnapshot }), 'PX', ENDED_CALL_TTL_MS);
        ended += 1;
      }
      await this.redis.srem(this.key('instance', lostId, 'calls'), callId);
    }
    if (lostId !== this.options.instanceId) await this.redis.srem(this.key('instances'), lostId);
    if (lostId === this.options.instanceId && ended === 0) return 0;
    this.options.logger.warn({ instance: lostId, calls: ended }, lostId === this.options.instanceId ? 'calls of a previous run of this instance ended as lost' : 'gateway instance lost: its calls ended');
    return ended;
  }

  /** Active calls of every gateway (this one's from memory, the others' from Redis). */
  async list(): Promise<CallSnapshot[]> {
    const local = this.options.calls.list();
    const localIds = new Set(local.map((c) => c.callId));
    const instances = (await this.redis.smembers(this.key('instances'))).filter((id) => id !== this.options.instanceId);
    const callIds = (await Promise.all(instances.map((id) => this.redis.smembers(this.key('instance', id, 'calls'))))).flat().filter((id) => !localIds.has(id));
    if (callIds.length === 0) return local;
    const values = await this.redis.mget(callIds.map((id) => this.key('call', id)));
    const remote = values.map(parseRegistered).filter((r): r is RegisteredCall => r !== undefined && r.snapshot.state === 'active').map((r) => r.snapshot);
    return [...local, ...remote];
  }

  /** A call of any gateway as the registry holds it (active, or ended in the last 15 minutes). */
  async lookup(callId: string): Promise<RegisteredCall | undefined> {
    return parseRegistered(await this.redis.get(this.key('call', callId)));
  }

  get connected(): boolean {
    return this.redis.status === 'ready';
  }

  /**
   * Leaves the cluster cleanly (after this gateway's calls ended): their
   * ended snapshots are written, the heartbeat key and the membership go, so
   * nobody takes this gateway for lost. Idempotent.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.timer);
    this.unsubscribe();
    await this.settled();
    try {
      if (this.redis.status === 'ready') {
        await this.heartbeat();
        await this.redis.multi().del(this.key('instance', this.options.instanceId)).srem(this.key('instances'), this.options.instanceId).exec();
      }
    } catch (err) {
      this.options.logger.warn({ err: redisErrorMessage(err) }, 'leaving the call registry failed: the others will take this gateway for lost');
    }
    this.redis.disconnect();
  }
}

function parseRegistered(value: string | null): RegisteredCall | undefined {
  if (value === null) return undefined;
  try {
    const parsed = JSON.parse(value) as unknown;
    if (typeof parsed !== 'object' || parsed === null || !('instanceId' in parsed) || !('snapshot' in parsed) || typeof parsed.instanceId !== 'string') return undefined;
    const snapshot = parsed.snapshot as CallSnapshot;
    if (typeof snapshot !== 'object' || snapshot === null || typeof snapshot.callId !== 'string' || typeof snapshot.queue !== 'string' || typeof snapshot.agentId !== 'string') return undefined;
    return { instanceId: parsed.instanceId, snapshot };
  } catch {
    return undefined;
  }
}
