/**
 * The limiter for lines a client can repeat at will: the first of a
 * (reason, source) is written, repeats in the window are counted and
 * summarised once, a quiet window forgets the key, the key table is bounded
 * and past it new sources share one entry, and every occurrence is counted.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { LogLimiter, OVERFLOW_SOURCE, peerAddress } from '../../../src/LogLimiter.js';
import { createLogger } from '../../../src/logger.js';
import { GatewayMetrics } from '../../../src/metrics.js';
import { MemoryDestination } from '../../helpers/logLines.js';
import { metricValue } from '../../helpers/metrics.js';

function setup(options: { maxKeys?: number } = {}) {
  const out = new MemoryDestination();
  const log = createLogger('info', out);
  const metrics = new GatewayMetrics({ defaultMetrics: false });
  let now = 1_000_000;
  const limiter = new LogLimiter({ metrics, windowMs: 60_000, now: () => now, ...options });
  return { out, log, metrics, limiter, advance: (ms: number) => (now += ms) };
}

const REASON = 'grpc-refused:SGW_UNAUTHENTICATED' as const;

describe('LogLimiter', () => {
  test('1,000 repeats from one source write one line, then one summary with the suppressed count', async () => {
    const { out, log, metrics, limiter, advance } = setup();
    for (let i = 0; i < 1000; i++) limiter.log(log, 'info', REASON, '10.0.0.1', { method: 'StartCall', i }, 'control-plane request refused');
    assert.equal(out.lines.length, 1);
    assert.deepEqual(out.parsed[0], { ...out.parsed[0], msg: 'control-plane request refused', method: 'StartCall', i: 0, source: '10.0.0.1' });

    advance(59_999);
    limiter.sweep();
    assert.equal(out.lines.length, 1, 'nothing before the window ends');
    advance(1);
    limiter.sweep();
    assert.equal(out.lines.length, 2);
    const summary = out.parsed[1];
    assert.equal(summary?.['suppressed'], 999);
    assert.equal(summary?.['source'], '10.0.0.1');
    assert.equal(summary?.['windowS'], 60);
    assert.match(summary?.msg ?? '', /^control-plane request refused \(repeated 999 more times in 60 s; not logged\)$/);
    assert.equal(await metricValue(metrics, 'sgw_log_occurrences_total', { reason: REASON }), 1000);
    assert.equal(await metricValue(metrics, 'sgw_log_suppressed_total', { reason: REASON }), 999);
    limiter.close();
  });

  test('a flood that goes on gets one summary a window; a quiet window forgets the key', () => {
    const { out, log, limiter, advance } = setup();
    const hit = () => limiter.log(log, 'warn', 'rtp-ssrc-change', '10.0.0.2:4000', {}, 'RTP SSRC changed');
    hit();
    for (let window = 0; window < 3; window++) {
      for (let i = 0; i < 10; i++) hit();
      advance(60_000);
      limiter.sweep();
    }
    assert.deepEqual(out.parsed.map((l) => l['suppressed'] ?? 'first'), ['first', 10, 10, 10]);
    advance(60_000);
    limiter.sweep();
    assert.equal(limiter.size, 0, 'a window without repeats forgets the key');
    hit();
    assert.equal(out.lines.length, 5);
    assert.equal(out.parsed[4]?.['suppressed'], undefined, 'logged in full again');
    limiter.close();
  });

  test('reasons and sources are limited separately', () => {
    const { out, log, limiter } = setup();
    limiter.log(log, 'info', REASON, '10.0.0.1', {}, 'a');
    limiter.log(log, 'info', REASON, '10.0.0.3', {}, 'a');
    limiter.log(log, 'info', 'grpc-refused:SGW_INVALID_ARGUMENT', '10.0.0.1', {}, 'b');
    limiter.log(log, 'info', REASON, '10.0.0.1', {}, 'a');
    assert.equal(out.lines.length, 3);
    limiter.close();
  });

  test('the key table is bounded: past it new sources share one entry per reason, still counted', async () => {
    const { out, log, metrics, limiter } = setup({ maxKeys: 10 });
    for (let i = 0; i < 500; i++) limiter.log(log, 'warn', 'audiohook-protocol-error', `10.1.${i >> 8}.${i & 255}`, {}, 'audiohook protocol error');
    assert.equal(limiter.size, 11, '10 keys and the overflow entry');
    assert.equal(out.lines.length, 11, 'one line per tracked source and one for all the others');
    assert.equal(out.parsed[10]?.['source'], OVERFLOW_SOURCE);
    limiter.close();
    assert.equal(out.lines.length, 12, 'close() writes the pending summary');
    assert.equal(out.parsed[11]?.['suppressed'], 489);
    assert.equal(await metricValue(metrics, 'sgw_log_occurrences_total', { reason: 'audiohook-protocol-error' }), 500);
  });

  test('peerAddress keeps the address of a gRPC peer without its port', () => {
    assert.equal(peerAddress('127.0.0.1:50123'), '127.0.0.1');
    assert.equal(peerAddress('ipv4:10.1.2.3:443'), '10.1.2.3');
    assert.equal(peerAddress('[::1]:50123'), '::1');
    assert.equal(peerAddress('ipv6:[2001:db8::1]:5'), '2001:db8::1');
    assert.equal(peerAddress('unix:/tmp/sock'), '/tmp/sock');
  });
});
