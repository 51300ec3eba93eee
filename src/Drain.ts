import type { IngestProtocol } from './calls/types.js';
import { GatewayError } from './errors.js';
import type { Logger } from './logger.js';
import type { GatewayMetrics } from './metrics.js';
import type { CheckResult } from './Readiness.js';

/** What started a drain: a signal to the process, or `POST /v1/admin/drain`. */
export type DrainOrigin = 'SIGTERM' | 'SIGINT' | 'admin';

/**
 * `serving`: new calls come in. `draining`: none do; active calls go on.
 * `closing`: the gateway is stopping (after a drain, or without one).
 */
export type DrainState = 'serving' | 'draining' | 'closing';

/**
 * How a drain ended: no call was left, the limit came (the calls still
 * running then end with reason `shutdown`), or it was cut short (a second
 * signal, or the gateway closed during it).
 */
export type DrainOutcome = 'calls-ended' | 'limit' | 'cut';

/** The drain's progress (`GET /v1/admin/drain`, and the answer to `POST`). */
export interface DrainStatus {
  readonly state: DrainState;
  /** Calls still active or starting on this instance. */
  readonly activeCalls: number;
  /** DRAIN_TIMEOUT_MS. */
  readonly limitMs: number;
  readonly origin?: DrainOrigin;
  /** The `sub` of the admin who asked (origin `admin`). */
  readonly requestedBy?: string;
  readonly startedAt?: string;
  /** When calls still running are ended with reason `shutdown`. */
  readonly deadline?: string;
  readonly remainingMs?: number;
  /** New calls and connections refused since the drain began. */
  readonly refused?: number;
  /** Set once the drain is over; the gateway then flushes and exits. */
  readonly outcome?: DrainOutcome;
}

/** The calls a drain waits for. */
export interface DrainedCalls {
  /** Active or starting. */
  readonly count: number;
  /** Resolves once none is left. */
  whenIdle(): Promise<void>;
}

export interface DrainOptions {
  /** How long active calls may go on (DRAIN_TIMEOUT_MS); 0: they end at once. */
  readonly limitMs: number;
  readonly calls: DrainedCalls;
  readonly metrics: GatewayMetrics;
  readonly logger: Logger;
}

/**
 * One instance's drain, for rolling upgrades: once started (SIGTERM, SIGINT
 * or the admin endpoint; idempotent) no new call is admitted on any ingest
 * protocol (`admit` throws SGW_DRAINING, counted by protocol), readiness
 * fails so a load balancer sends new work elsewhere, and the calls already
 * running go on until they end or the limit comes. `finished` then resolves
 * and the gateway closes as before (remaining calls end with `shutdown`,
 * records and events flushed).
 */
export class Drain {
  private state: DrainState = 'serving';
  private origin: DrainOrigin | undefined;
  private requestedBy: string | undefined;
  private startedAt: number | undefined;
  private deadline: number | undefined;
  private outcome: DrainOutcome | undefined;
  private refused = 0;
  private timer: NodeJS.Timeout | undefined;
  private settle: (outcome: DrainOutcome) => void = () => undefined;
  /** Resolves when a drain is over; never when none starts. */
  readonly finished: Promise<DrainOutcome>;

  constructor(private readonly options: DrainOptions) {
    this.finished = new Promise((resolve) => {
      this.settle = resolve;
    });
    options.metrics.draining.set(0);
  }

  /** Starts the drain, or returns the running one's status (a second request changes nothing, the deadline included). */
  start(origin: DrainOrigin, requestedBy?: string): DrainStatus {
    if (this.state !== 'serving') return this.status();
    const { options } = this;
    this.state = 'draining';
    this.origin = origin;
    this.requestedBy = requestedBy;
    this.startedAt = Date.now();
    this.deadline = this.startedAt + options.limitMs;
    options.metrics.draining.set(1);
    options.logger.info(
      { origin, requestedBy, activeCalls: options.calls.count, drainTimeoutMs: options.limitMs, deadline: new Date(this.deadline).toISOString() },
      'draining: new calls are refused; active calls go on until they end or the drain limit',
    );
    // Not unref'd: the process waits for its drain (close() and the drain's end clear it).
    this.timer = setTimeout(() => this.end('limit'), options.limitMs);
    void options.calls.whenIdle().then(() => this.end('calls-ended'));
    return this.status();
  }

  /** Ends a running drain now (a second signal): the calls still running end with `shutdown`. */
  cut(): void {
    if (this.state === 'draining') this.end('cut');
  }

  /** The gateway is stopping: nothing is admitted any more, and a drain still running is over. */
  close(): void {
    if (this.state === 'draining') this.end('cut');
    this.state = 'closing';
    this.options.metrics.draining.set(1);
  }

  private end(outcome: DrainOutcome): void {
    if (this.outcome !== undefined) return;
    this.outcome = outcome;
    clearTimeout(this.timer);
    const activeCalls = this.options.calls.count;
    const fields = { outcome, activeCalls, refused: this.refused, drainedMs: Date.now() - (this.startedAt ?? Date.now()) };
    if (outcome === 'calls-ended') this.options.logger.info(fields, 'drain over: no call left');
    else this.options.logger.warn(fields, `drain over (${outcome}): the calls still running end with reason shutdown`);
    this.settle(outcome);
  }

  /**
   * Refuses a new call (or a connection that would start one) while the
   * gateway drains or stops; a no-op while it serves.
   * @throws GatewayError SGW_DRAINING (counted by protocol), SGW_SHUTTING_DOWN
   */
  admit(protocol: IngestProtocol): void {
    if (this.state === 'serving') return;
    if (this.state === 'closing') throw new GatewayError('SGW_SHUTTING_DOWN', 'gateway is shutting down');
    this.refused++;
    this.options.metrics.drainRefusals.inc({ protocol });
    throw new GatewayError('SGW_DRAINING', `gateway is draining (${this.origin ?? 'admin'}): no new calls; start it on another instance`);
  }

  /** The `draining` readiness check. */
  readiness(): CheckResult {
    switch (this.state) {
      case 'serving':
        return { ok: true };
      case 'closing':
        return { ok: false, reason: 'shutting down' };
      case 'draining': {
        const { origin, startedAt, deadline, activeCalls } = this.status();
        return { ok: false, reason: `draining (${origin ?? 'admin'}): no new calls`, origin, startedAt, deadline, activeCalls };
      }
    }
  }

  status(): DrainStatus {
    const base = { state: this.state, activeCalls: this.options.calls.count, limitMs: this.options.limitMs };
    if (this.startedAt === undefined || this.deadline === undefined) return base;
    return {
      ...base,
      origin: this.origin,
      ...(this.requestedBy === undefined ? {} : { requestedBy: this.requestedBy }),
      startedAt: new Date(this.startedAt).toISOString(),
      deadline: new Date(this.deadline).toISOString(),
      remainingMs: this.outcome === undefined ? Math.max(0, this.deadline - Date.now()) : 0,
      refused: this.refused,
      ...(this.outcome === undefined ? {} : { outcome: this.outcome }),
    };
  }
}
