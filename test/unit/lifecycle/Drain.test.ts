import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Drain } from '../../../src/Drain.js';
import { GatewayError } from '../../../src/errors.js';
import { createLogger } from '../../../src/logger.js';
import { GatewayMetrics } from '../../../src/metrics.js';
import { metricValue } from '../../helpers/gateway.js';

describe('Drain', () => {
  const setup = (limitMs: number) => {
    const metrics = new GatewayMetrics({ defaultMetrics: false });
    const calls = { count: 2, idle: undefined as (() => void) | undefined };
    const drain = new Drain({
      limitMs,
      calls: {
        get count() {
          return calls.count;
        },
        whenIdle: () => (calls.count === 0 ? Promise.resolve() : new Promise<void>((resolve) => (calls.idle = resolve))),
      },
      metrics,
      logger: createLogger('silent'),
    });
    return { drain, metrics, calls };
  };

  test('serving admits; draining refuses with SGW_DRAINING, counted by protocol; closing refuses with SGW_SHUTTING_DOWN', async () => {
    const { drain, metrics } = setup(60_000);
    drain.admit('start-call');
    assert.deepEqual(drain.readiness(), { ok: true });
    const started = drain.start('SIGTERM');
    assert.equal(started.state, 'draining');
    assert.throws(() => drain.admit('twilio'), (err: unknown) => err instanceof GatewayError && err.code === 'SGW_DRAINING' && /draining \(SIGTERM\)/.test(err.message));
    assert.equal(await metricValue(metrics, 'sgw_drain_refusals_total', { protocol: 'twilio' }), 1);
    assert.equal(await metricValue(metrics, 'sgw_draining'), 1);
    assert.equal(drain.readiness().ok, false);
    drain.close();
    assert.throws(() => drain.admit('twilio'), (err: unknown) => err instanceof GatewayError && err.code === 'SGW_SHUTTING_DOWN');
    assert.equal(await metricValue(metrics, 'sgw_drain_refusals_total', { protocol: 'twilio' }), 1, 'a refusal while closing is not a drain refusal');
    assert.equal(await drain.finished, 'cut');
  });

  test('idempotent: a second start keeps the first origin and deadline', async () => {
    const { drain } = setup(60_000);
    const first = drain.start('admin', 'ops');
    await sleep(5);
    const second = drain.start('SIGTERM');
    assert.deepEqual([second.origin, second.requestedBy, second.startedAt, second.deadline], [first.origin, 'ops', first.startedAt, first.deadline]);
    drain.cut();
    assert.equal(await drain.finished, 'cut');
  });

  test('over when the last call ends, or at the limit with calls left', async () => {
    const idle = setup(60_000);
    idle.drain.start('SIGTERM');
    idle.calls.count = 0;
    idle.calls.idle?.();
    assert.equal(await idle.drain.finished, 'calls-ended');
    assert.equal(idle.drain.status().outcome, 'calls-ended');

    const stuck = setup(20);
    stuck.drain.start('SIGTERM');
    assert.equal(await stuck.drain.finished, 'limit');
    assert.equal(stuck.drain.status().activeCalls, 2);
  });
});
