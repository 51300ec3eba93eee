import { errorMessage } from './errors.js';

/** What one check says: ready or not, why not, and any detail worth showing (JSON). */
export interface CheckResult {
  readonly ok: boolean;
  /** Why this instance should get no new work; every failing check gives one. */
  readonly reason?: string;
  readonly [detail: string]: unknown;
}

/** A named check; may be async (a round trip to Redis), and is given `timeoutMs` to answer. */
export type ReadinessCheck = () => CheckResult | Promise<CheckResult>;

/** GET /readyz's body: ready when every check is. */
export interface ReadinessReport {
  readonly ready: boolean;
  readonly checks: Readonly<Record<string, CheckResult>>;
}

const CHECK_NAME = /^[a-z][a-z0-9_-]{0,63}$/;

/**
 * The checks behind `/readyz`: whether this instance should be given new
 * work (a load balancer's question), unlike `/healthz`, which says only that
 * the process serves (liveness). Any part of the gateway adds a named check
 * of its own (the drain; the cluster's Redis connection); the instance is
 * ready when every check is. A check that throws or does not answer within
 * `timeoutMs` counts as not ready, with that as its reason, so one stuck
 * dependency can never hang the probe.
 */
export class Readiness {
  private readonly checks = new Map<string, ReadinessCheck>();

  constructor(private readonly timeoutMs = 1000) {}

  /** Adds a check under `name` (lower case, `[a-z0-9_-]`, the key in the report); a name is taken once. */
  add(name: string, check: ReadinessCheck): void {
    if (!CHECK_NAME.test(name)) throw new Error(`readiness check name '${name}' must match ${String(CHECK_NAME)}`);
    if (this.checks.has(name)) throw new Error(`readiness check '${name}' is already registered`);
    this.checks.set(name, check);
  }

  /** Removes a check (its part stopped); unknown names are ignored. */
  remove(name: string): void {
    this.checks.delete(name);
  }

  /** Runs every check at once. */
  async report(): Promise<ReadinessReport> {
    const entries = await Promise.all([...this.checks].map(async ([name, check]) => [name, await this.run(check)] as const));
    return { ready: entries.every(([, result]) => result.ok), checks: Object.fromEntries(entries) };
  }

  private async run(check: ReadinessCheck): Promise<CheckResult> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<CheckResult>((resolve) => {
      timer = setTimeout(() => resolve({ ok: false, reason: `no answer within ${this.timeoutMs} ms` }), this.timeoutMs);
    });
    try {
      const result = await Promise.race([Promise.resolve().then(check), late]);
      return result.ok || result.reason !== undefined ? result : { ...result, reason: 'not ready' };
    } catch (err) {
      return { ok: false, reason: `check failed: ${errorMessage(err)}` };
    } finally {
      clearTimeout(timer);
    }
  }
}
