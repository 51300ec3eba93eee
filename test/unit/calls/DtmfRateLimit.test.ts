/**
 * The per-leg DTMF bound: people and auto-diallers get every press through;
 * a sender pressing 4,000 times a second gets 20 a second (plus one burst).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DTMF_BURST, DTMF_PRESSES_PER_SECOND, DtmfRateLimit } from '../../../src/calls/DtmfRateLimit.js';

function admitted(limit: DtmfRateLimit, times: readonly number[]): number {
  return times.filter((t) => limit.admit(t)).length;
}

describe('DtmfRateLimit', () => {
  test('4,000 presses in one second: the burst and 20 a second get through', () => {
    const times = Array.from({ length: 4000 }, (_, i) => i / 4);
    const n = admitted(new DtmfRateLimit(), times);
    assert.equal(n, DTMF_BURST + DTMF_PRESSES_PER_SECOND - 1, `${n} of 4000`);
  });

  test('a flood that goes on gets 20 a second', () => {
    const limit = new DtmfRateLimit();
    admitted(limit, Array.from({ length: 1000 }, (_, i) => i));
    const nextSecond = admitted(limit, Array.from({ length: 4000 }, (_, i) => 1000 + i / 4));
    assert.ok(nextSecond >= DTMF_PRESSES_PER_SECOND - 1 && nextSecond <= DTMF_PRESSES_PER_SECOND + 1, `${nextSecond}`);
  });

  test('ITU-T Q.24 dialling (40 ms tone + 40 ms pause, 12.5 a second) and a card number keyed fast all get through', () => {
    assert.equal(admitted(new DtmfRateLimit(), Array.from({ length: 200 }, (_, i) => i * 80)), 200);
    // 16 digits bunched into 10 ms (a batching client), then a pause: the burst covers them.
    assert.equal(admitted(new DtmfRateLimit(), [...Array.from({ length: 10 }, (_, i) => i), ...Array.from({ length: 6 }, (_, i) => 1000 + i)]), 16);
  });
});
