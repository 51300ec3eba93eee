import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Readiness } from '../../../src/Readiness.js';

describe('Readiness', () => {
  test('ready when every check is; a failing check names its reason, the others still show', async () => {
    const readiness = new Readiness();
    let redisUp = true;
    readiness.add('draining', () => ({ ok: true }));
    readiness.add('redis', () => Promise.resolve(redisUp ? { ok: true } : { ok: false, reason: 'connection refused', url: 'redis://x' }));
    assert.deepEqual(await readiness.report(), { ready: true, checks: { draining: { ok: true }, redis: { ok: true } } });
    redisUp = false;
    assert.deepEqual(await readiness.report(), { ready: false, checks: { draining: { ok: true }, redis: { ok: false, reason: 'connection refused', url: 'redis://x' } } });
    readiness.remove('redis');
    assert.equal((await readiness.report()).ready, true);
  });

  test('a check that throws, hangs or gives no reason is not ready, with a reason; the probe never hangs', async () => {
    const readiness = new Readiness(50);
    readiness.add('throws', () => {
      throw new Error('boom');
    });
    readiness.add('hangs', () => new Promise(() => undefined));
    readiness.add('silent', () => ({ ok: false }));
    const report = await readiness.report();
    assert.equal(report.ready, false);
    assert.deepEqual(report.checks, {
      throws: { ok: false, reason: 'check failed: boom' },
      hangs: { ok: false, reason: 'no answer within 50 ms' },
      silent: { ok: false, reason: 'not ready' },
    });
  });

  test('a name is taken once, and must be a plain key', () => {
    const readiness = new Readiness();
    readiness.add('redis', () => ({ ok: true }));
    assert.throws(() => readiness.add('redis', () => ({ ok: true })), /already registered/);
    assert.throws(() => readiness.add('Not A Key', () => ({ ok: true })), /must match/);
  });
});
