/**
 * EventHub isolates its subscribers: a listener that throws is counted and
 * logged (one rate-limited line), the publisher never sees the exception, and
 * the listeners after it still get the event.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { LogLimiter } from '../../../src/LogLimiter.js';
import { createLogger } from '../../../src/logger.js';
import { GatewayMetrics } from '../../../src/metrics.js';
import { EventHub } from '../../../src/push/EventHub.js';
import type { GatewayEvent } from '../../../src/events.js';
import { MemoryDestination } from '../../helpers/logLines.js';
import { metricValue } from '../../helpers/metrics.js';

describe('EventHub subscriber isolation', () => {
  test('a throwing listener first in line: publish returns, the next listener gets every event, 100 throws are counted and logged once', async () => {
    const metrics = new GatewayMetrics({ defaultMetrics: false });
    const out = new MemoryDestination();
    const logLimiter = new LogLimiter({ metrics });
    const hub = new EventHub(metrics, 100, undefined, { logger: createLogger('info', out), logLimiter });
    hub.subscribe(() => {
      throw new Error('listener bug');
    }, 'broken-screen');
    const seen: GatewayEvent[] = [];
    hub.subscribe((event) => seen.push(event), 'after');

    for (let i = 0; i < 100; i++) {
      assert.doesNotThrow(() => hub.publish({ type: 'dtmf', callId: 'c1', leg: 'customer', digit: '1', atMs: i }));
    }

    assert.equal(seen.length, 100, 'the listener after the broken one got every event');
    assert.equal(await metricValue(metrics, 'sgw_event_listener_errors_total', { listener: 'broken-screen' }), 100);
    assert.equal(await metricValue(metrics, 'sgw_event_listener_errors_total', { listener: 'after' }), 0);
    const lines = out.parsed.filter((l) => l.msg?.startsWith('event listener threw') === true);
    assert.equal(lines.length, 1, 'one line for 100 throws');
    assert.equal(lines[0]?.['listener'], 'broken-screen');
    assert.equal(lines[0]?.['eventType'], 'dtmf');
    assert.equal(await metricValue(metrics, 'sgw_log_suppressed_total', { reason: 'event-listener-error' }), 99);
    logLimiter.close();
    assert.match(out.parsed.at(-1)?.msg ?? '', /repeated 99 more times/);
  });
});
