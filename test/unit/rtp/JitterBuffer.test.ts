import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ReorderBuffer, type JitterEvent, type ReorderedFrame } from '../../../src/ingest/rtp/ReorderBuffer.js';

// The jitter-buffer behaviours added on top of reordering (ReorderBuffer.test.ts has the rest):
// sender silence filled from timestamps, timestamp discontinuities, and an event per occurrence.
const SPP = 160;

function setup(depth = 3, maxSilenceFill = 8000 * 5) {
  const out: ReorderedFrame<number>[] = [];
  const events: Partial<Record<JitterEvent, number>> = {};
  const buffer = new ReorderBuffer<number>({
    depth,
    maxSilenceFill,
    onRelease: (f) => out.push(f),
    onEvent: (e, n) => (events[e] = (events[e] ?? 0) + n),
  });
  const push = (seq: number, ts: number) => buffer.push(seq & 0xffff, ts >>> 0, SPP, seq, 0);
  const order = () => out.map((f) => (f.kind === 'packet' ? f.payload : `gap:${f.lostPackets}:${f.samples}`));
  return { buffer, out, events, push, order };
}

void describe('jitter buffer', () => {
  void it('fills a sender silence (timestamp gap, no sequence gap) with silence, not loss', () => {
    const { buffer, events, push, order } = setup();
    push(1, 0);
    push(2, 160);
    push(3, 160 + 160 + 8000); // a second of silence suppressed
    push(4, 160 + 160 + 8000 + 160);
    assert.deepEqual(order(), [1, 2, 'gap:0:8000', 3, 4]);
    assert.equal(buffer.stats.lost, 0);
    assert.equal(buffer.stats.silenceFills, 1);
    assert.equal(buffer.stats.silenceFillTicks, 8000);
    assert.equal(events.silence_fill, 1);
    assert.equal(events.lost, undefined);
  });

  void it('fills across the 32-bit timestamp wrap', () => {
    const { push, order } = setup();
    push(1, 0xffffff00);
    push(2, 0xffffff00 + 160 + 320);
    assert.deepEqual(order(), [1, 'gap:0:320', 2]);
  });

  void it('treats a huge or backward timestamp step as a discontinuity: counted, no fill, timing restarts', () => {
    const { buffer, events, push, order } = setup(3, 8000);
    push(1, 0);
    push(2, 160 + 900_000); // far beyond maxSilenceFill
    push(3, 160 + 900_000 + 160); // continues from the new base: no fill
    push(4, 5000); // backwards
    push(5, 5160);
    assert.deepEqual(order(), [1, 2, 3, 4, 5]);
    assert.equal(buffer.stats.timestampJumps, 2);
    assert.equal(events.timestamp_jump, 2);
  });

  void it('counts reordered, duplicate, late and lost packets as events', () => {
    const { events, push, order } = setup(2);
    push(10, 0);
    push(12, 320);
    push(11, 160); // reordered: fills the hole 12 waited on
    push(11, 160); // duplicate
    push(14, 640);
    push(15, 800);
    push(16, 960); // 13 given up
    push(13, 480); // late
    assert.deepEqual(order(), [10, 11, 12, 'gap:1:160', 14, 15, 16]);
    assert.deepEqual(events, { reordered: 1, duplicate: 1, lost: 1, late: 1 });
  });

  void it('a loss followed by a silence period gives both, without double counting', () => {
    const { buffer, push, order } = setup(0);
    push(1, 0);
    push(3, 320); // 2 lost
    push(4, 480 + 1600); // then 200 ms of sender silence
    assert.deepEqual(order(), [1, 'gap:1:160', 3, 'gap:0:1600', 4]);
    assert.equal(buffer.stats.lost, 1);
  });

  void it('a telephone-event placeholder neither fills nor jumps', () => {
    const { buffer, out, push, order } = setup();
    push(1, 0);
    buffer.push(2, 160, 0, undefined, 0); // RFC 4733 packet, event timestamp
    buffer.push(3, 160, 0, undefined, 0);
    push(4, 160 + 800); // audio resumes after the 100 ms press
    assert.deepEqual(order(), [1, undefined, undefined, 'gap:0:800', 4]);
    assert.equal(buffer.stats.timestampJumps, 0);
    assert.equal(out.length, 5);
  });
});
