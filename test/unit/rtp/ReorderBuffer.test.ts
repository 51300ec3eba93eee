import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ReorderBuffer, seqDelta, type ReorderedFrame } from '../../../src/ingest/rtp/ReorderBuffer.js';

const SPP = 160; // 20 ms at 8 kHz

/** A buffer whose payload is the sequence number, collecting what it releases. */
function setup(depth = 3, extra: { maxDropout?: number; maxMisorder?: number } = {}) {
  const out: ReorderedFrame<number>[] = [];
  const buffer = new ReorderBuffer<number>({ depth, ...extra, onRelease: (f) => out.push(f) });
  /** Pushes packet `seq` with timestamp derived from `index` (default: seq relative to base 0). */
  const push = (seq: number, index = seq, samples = SPP) =>
    buffer.push(seq & 0xffff, (1000 + index * SPP) >>> 0, samples, seq & 0xffff, index);
  /** Released packet payloads, with 'gap:N:samples' for gaps. */
  const order = () => out.map((f) => (f.kind === 'packet' ? f.payload : `gap:${f.lostPackets}:${f.samples}`));
  return { buffer, out, push, order };
}

void describe('seqDelta', () => {
  void it('is wrap-safe', () => {
    assert.equal(seqDelta(0, 65535), 1);
    assert.equal(seqDelta(65535, 0), -1);
    assert.equal(seqDelta(5, 5), 0);
    assert.equal(seqDelta(32767, 0), 32767);
    assert.equal(seqDelta(32768, 0), -32768);
  });
});

void describe('ReorderBuffer', () => {
  void it('passes in-order packets straight through', () => {
    const { push, order, buffer } = setup();
    for (let s = 10; s < 20; s++) assert.equal(push(s), undefined);
    assert.deepEqual(order(), [10, 11, 12, 13, 14, 15, 16, 17, 18, 19]);
    assert.equal(buffer.pending, 0);
    assert.equal(buffer.stats.lost, 0);
  });

  void it('reorders within its depth', () => {
    const { push, order, buffer } = setup(3);
    push(1);
    push(3);
    push(4);
    assert.deepEqual(order(), [1]);
    assert.equal(buffer.pending, 2);
    push(2);
    assert.deepEqual(order(), [1, 2, 3, 4]);
    push(6);
    push(5);
    assert.deepEqual(order(), [1, 2, 3, 4, 5, 6]);
    assert.equal(buffer.stats.lost, 0);
  });

  void it('keeps the receive time and timestamp of each packet', () => {
    const { push, out } = setup();
    push(1);
    push(3);
    push(2);
    assert.deepEqual(
      out.map((f) => (f.kind === 'packet' ? [f.sequenceNumber, f.timestamp, f.receivedAt] : [])),
      [
        [1, 1000 + SPP, 1],
        [2, 1000 + 2 * SPP, 2],
        [3, 1000 + 3 * SPP, 3],
      ],
    );
  });

  void it('handles the sequence wrap 65535 -> 0, in order and reordered', () => {
    const { push, order, buffer } = setup();
    push(65534, 0);
    push(65535, 1);
    push(1, 3);
    push(0, 2);
    push(2, 4);
    assert.deepEqual(order(), [65534, 65535, 0, 1, 2]);
    assert.equal(buffer.stats.lost, 0);
    assert.equal(buffer.stats.late, 0);
  });

  void it('fills a loss with silence of the right length once the buffer is full, and counts it', () => {
    const { push, order, out, buffer } = setup(3);
    push(1);
    push(2);
    // 3 is lost.
    push(4);
    push(5);
    push(6);
    assert.deepEqual(order(), [1, 2], 'waits while it holds up to depth packets');
    push(7);
    assert.deepEqual(order(), [1, 2, `gap:1:${SPP}`, 4, 5, 6, 7]);
    const gap = out[2];
    assert.ok(gap?.kind === 'gap');
    assert.equal(gap.sequenceNumber, 3);
    assert.equal(gap.timestamp, 1000 + 3 * SPP);
    assert.equal(buffer.stats.lost, 1);
    assert.equal(buffer.pending, 0);
  });

  void it('sizes a multi-packet gap from the neighbours timestamps', () => {
    const { push, order, buffer } = setup(1);
    push(1);
    // 2, 3, 4 lost.
    push(5);
    push(6);
    assert.deepEqual(order(), [1, `gap:3:${3 * SPP}`, 5, 6]);
    assert.equal(buffer.stats.lost, 3);
  });

  void it('uses the timestamps for the gap length even when packet size changed', () => {
    const { buffer, out } = setup(0);
    buffer.push(1, 0, 80, 1, 0); // 10 ms packet
    buffer.push(3, 80 + 240, 240, 3, 0); // a 30 ms packet went missing (ts 80..320)
    assert.deepEqual(
      out.map((f) => (f.kind === 'gap' ? f.samples : -1)),
      [-1, 240, -1],
    );
  });

  void it('falls back to the last packet duration when timestamps are implausible', () => {
    const { buffer, out } = setup(0);
    buffer.push(1, 0, SPP, 1, 0);
    buffer.push(3, 0x7fffffff, SPP, 3, 0); // timestamp jumped by ~2^31
    const gap = out[1];
    assert.ok(gap?.kind === 'gap');
    assert.equal(gap.samples, SPP);
  });

  void it('drops duplicates, held or already released', () => {
    const { push, order, buffer } = setup(3);
    push(1);
    assert.equal(push(1), 'duplicate');
    push(3);
    assert.equal(push(3), 'duplicate');
    push(2);
    assert.equal(push(2), 'duplicate');
    assert.deepEqual(order(), [1, 2, 3]);
    assert.equal(buffer.stats.duplicate, 3);
  });

  void it('drops late packets whose slot was already given up', () => {
    const { push, order, buffer } = setup(2);
    push(1);
    push(3);
    push(4);
    push(5); // gives up 2
    assert.equal(push(2), 'late');
    assert.deepEqual(order(), [1, `gap:1:${SPP}`, 3, 4, 5]);
    assert.equal(buffer.stats.late, 1);
    assert.equal(buffer.stats.lost, 1);
  });

  void it('drops packets older than the first one as late', () => {
    const { push, order } = setup();
    push(10);
    assert.equal(push(9), 'late');
    assert.deepEqual(order(), [10]);
  });

  void it('flush() releases everything held, filling the holes, and later packets are late', () => {
    const { push, order, buffer } = setup(5);
    push(1);
    push(3);
    push(5);
    assert.equal(buffer.pending, 2);
    buffer.flush();
    assert.deepEqual(order(), [1, `gap:1:${SPP}`, 3, `gap:1:${SPP}`, 5]);
    assert.equal(buffer.pending, 0);
    assert.equal(push(4), 'late');
    assert.equal(push(2), 'late');
    push(6);
    assert.deepEqual(order().slice(-1), [6]);
    buffer.flush(); // nothing held: no-op
    assert.equal(order().length, 6);
  });

  void it('with depth 0 gives a hole up immediately', () => {
    const { push, order } = setup(0);
    push(1);
    push(3);
    assert.deepEqual(order(), [1, `gap:1:${SPP}`, 3]);
    assert.equal(push(2), 'late');
  });

  void it('a jump beyond the ring but within maxDropout is a loss, not a restart', () => {
    const { push, order, buffer } = setup(3);
    push(1);
    push(3);
    push(101); // 99 lost in total, 3 held first
    assert.deepEqual(order(), [1, `gap:1:${SPP}`, 3, `gap:97:${97 * SPP}`, 101]);
    assert.equal(buffer.stats.lost, 98);
  });

  void it('treats a huge jump as a restart only when the next packet confirms it (RFC 3550 A.1)', () => {
    const { buffer, push, order } = setup(3, { maxDropout: 100 });
    push(1);
    push(2);
    assert.equal(push(30000, 5000), 'out_of_range');
    push(3);
    assert.equal(push(40000, 9000), 'out_of_range');
    assert.equal(push(40001, 9001), undefined);
    push(40002, 9002);
    assert.deepEqual(order(), [1, 2, 3, 40001, 40002]);
    assert.equal(buffer.stats.resyncs, 1);
    assert.equal(buffer.stats.lost, 0, 'a restart invents no silence');
    assert.equal(buffer.stats.outOfRange, 2);
  });

  void it('placeholders use up a sequence number without counting as loss', () => {
    const { buffer, out } = setup(3);
    buffer.push(1, 0, SPP, 1, 0);
    buffer.push(2, SPP, 0, undefined, 0); // e.g. an RFC 4733 event packet
    buffer.push(3, 2 * SPP, SPP, 3, 0);
    assert.deepEqual(
      out.map((f) => (f.kind === 'packet' ? f.payload ?? 'placeholder' : 'gap')),
      [1, 'placeholder', 3],
    );
    assert.equal(buffer.stats.lost, 0);
  });

  void it('reset() starts a new stream base', () => {
    const { buffer, push, order } = setup(3);
    push(100);
    buffer.reset();
    push(5);
    push(6);
    assert.deepEqual(order(), [100, 5, 6]);
  });

  void it('keeps a contiguous, gap-filled timeline under random jitter, loss and duplication', () => {
    let state = 12345;
    const random = () => ((state = (state * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
    for (let round = 0; round < 50; round++) {
      const depth = 1 + Math.floor(random() * 6);
      const { buffer, out } = setup(depth);
      const base = Math.floor(random() * 65536);
      const count = 300;
      // Arrival order: each packet delayed by up to `depth` slots, some lost, some duplicated.
      const arrivals: { seq: number; key: number }[] = [];
      for (let i = 0; i < count; i++) {
        if (i > 0 && random() < 0.05) continue;
        arrivals.push({ seq: i, key: i + random() * depth });
        if (random() < 0.03) arrivals.push({ seq: i, key: i + random() * depth });
      }
      arrivals.sort((a, b) => a.key - b.key);
      for (const { seq } of arrivals) buffer.push((base + seq) & 0xffff, (7 + seq * SPP) >>> 0, SPP, seq, 0);
      buffer.flush();

      // The first arrival sets the base; anything older is late.
      const first = arrivals[0]?.seq ?? 0;
      let expectedSeq = (base + first) & 0xffff;
      let expectedTs = 7 + first * SPP;
      const seen = new Set<number>();
      for (const f of out) {
        assert.equal(f.sequenceNumber, expectedSeq, `round ${round}: order`);
        assert.equal(f.timestamp, expectedTs, `round ${round}: timeline`);
        if (f.kind === 'packet') {
          assert.ok(!seen.has(f.sequenceNumber), 'released once');
          seen.add(f.sequenceNumber);
          expectedSeq = (expectedSeq + 1) & 0xffff;
          expectedTs += f.samples;
        } else {
          expectedSeq = (expectedSeq + f.lostPackets) & 0xffff;
          expectedTs += f.samples;
          assert.equal(f.samples, f.lostPackets * SPP);
        }
      }
      const { released, lost, duplicate, late } = buffer.stats;
      assert.equal(released + lost, Math.max(...arrivals.map((a) => a.seq)) - first + 1);
      assert.equal(released + duplicate + late, arrivals.length, 'every push is accounted for');
    }
  });

  void it('rejects invalid options', () => {
    assert.throws(() => new ReorderBuffer<number>({ depth: -1, onRelease: () => undefined }), RangeError);
    assert.throws(() => new ReorderBuffer<number>({ depth: 1.5, onRelease: () => undefined }), RangeError);
  });
});
