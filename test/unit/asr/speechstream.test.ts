import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { GatewayMetrics } from '../../../src/metrics.js';
import { SpeechStream, type StreamTransport } from '../../../src/asr/SpeechStream.js';
import type { RecognitionResult } from '../../../src/asr/types.js';
import type { SpeechGap } from '../../../src/asr/SpeechService.js';

class FakeTransport implements StreamTransport {
  readonly sent: ArrayBuffer[] = [];
  closed = 0;
  ended = 0;
  sendAudio(_streamId: number, pcm: ArrayBuffer): boolean {
    this.sent.push(pcm);
    return true;
  }
  end(): Promise<void> {
    this.ended++;
    return Promise.resolve();
  }
  close(): void {
    this.closed++;
  }
}

function setup(options: { maxBufferedAudioMs?: number; maxQueuedResults?: number } = {}) {
  const transport = new FakeTransport();
  const metrics = new GatewayMetrics({ defaultMetrics: false });
  const controller = SpeechStream.create({
    id: 1,
    language: 'en-US',
    inputSampleRate: 8000,
    transport,
    metrics,
    logger: pino({ level: 'silent' }),
    ...options,
  });
  return { transport, metrics, controller, stream: controller.stream };
}

function result(final: boolean, utteranceId: number, startMs: number, endMs: number): RecognitionResult {
  return { final, utteranceId, text: final ? 'final' : 'partial', startMs, endMs, words: [{ word: 'w', startMs, endMs }] };
}

async function droppedSeconds(metrics: GatewayMetrics): Promise<number> {
  return (await metrics.asrAudioDropped.get()).values[0]?.value ?? 0;
}

test('write copies and sends chunks; beyond the backlog bound chunks are dropped and counted', async () => {
  const { transport, metrics, controller, stream } = setup({ maxBufferedAudioMs: 100 });
  const chunk = new Int16Array(160).fill(7); // 20 ms at 8 kHz
  for (let i = 0; i < 8; i++) stream.write(chunk);
  assert.equal(transport.sent.length, 5);
  assert.notEqual(transport.sent[0], chunk.buffer, 'the caller keeps its buffer');
  assert.equal(new Int16Array(transport.sent[0]!)[0], 7);
  assert.equal(stream.droppedAudioMs, 60);
  assert.ok(Math.abs((await droppedSeconds(metrics)) - 0.06) < 1e-9);

  controller.acknowledge(320);
  stream.write(chunk);
  stream.write(chunk);
  stream.write(chunk);
  assert.equal(transport.sent.length, 7, 'room for two more after 40 ms were processed');
  assert.equal(stream.bufferedAudioMs, 100);
});

test('result times count dropped audio, so they stay on the stream clock', async () => {
  const { controller, stream } = setup({ maxBufferedAudioMs: 40 });
  const chunk = new Int16Array(160);
  stream.write(chunk);
  stream.write(chunk); // 40 ms fed
  stream.write(chunk); // dropped: recogniser time 40 ms = stream time 60 ms
  controller.acknowledge(320);
  controller.deliver([result(true, 0, 10, 30), result(true, 1, 50, 70)]);
  stream.close();
  const got: RecognitionResult[] = [];
  for await (const r of stream) got.push(r);
  assert.deepEqual(got.map((r) => [r.startMs, r.endMs]), [[10, 30], [70, 90]]);
  assert.deepEqual(got[1]!.words.map((w) => [w.startMs, w.endMs]), [[70, 90]]);
});

test('after a worker restart, times and utterance ids continue; the cut utterance is published from its partial; the gap covers the rest', async () => {
  const { controller, stream } = setup();
  const gaps: SpeechGap[] = [];
  stream.onGap((gap) => gaps.push(gap));
  stream.write(new Int16Array(8000)); // 1 s, never acknowledged: lost with the worker
  controller.deliver([result(false, 0, 100, 200)]);
  assert.equal(controller.rebind(), 1000);
  controller.deliver([result(true, 0, 50, 150)]);
  stream.close();
  const got: RecognitionResult[] = [];
  for await (const r of stream) got.push(r);
  assert.deepEqual(got.map((r) => [r.utteranceId, r.final, r.text, r.startMs]), [[0, false, 'partial', 100], [0, true, 'partial', 100], [1, true, 'final', 1050]]);
  assert.deepEqual(gaps, [{ startMs: 0, endMs: 1000, reason: 'asr-worker-restart' }]);
});

test('a restart after processed audio: the gap starts where the cut utterance was last heard', () => {
  const { controller, stream } = setup();
  const gaps: SpeechGap[] = [];
  stream.onGap((gap) => gaps.push(gap));
  stream.write(new Int16Array(8000)); // 1 s
  controller.acknowledge(4000); // half of it processed
  controller.deliver([result(false, 0, 100, 300)]);
  controller.rebind();
  assert.deepEqual(gaps, [{ startMs: 300, endMs: 1000, reason: 'asr-worker-restart' }]);
  stream.close();
});

test('audio dropped by the backlog bound is a gap: one per run of drops, reported when the run ends', async () => {
  const { controller, stream } = setup({ maxBufferedAudioMs: 100 });
  const gaps: SpeechGap[] = [];
  stream.onGap((gap) => gaps.push(gap));
  const chunk = new Int16Array(160); // 20 ms
  for (let i = 0; i < 8; i++) stream.write(chunk); // 100 ms sent, 60 ms dropped
  assert.deepEqual(gaps, [], 'the run is still going');
  controller.acknowledge(800);
  stream.write(chunk); // gets through: the run ended
  assert.deepEqual(gaps, [{ startMs: 100, endMs: 160, reason: 'asr-backlog' }]);
  for (let i = 0; i < 6; i++) stream.write(chunk); // 80 ms more fit (100 ms bound), then 40 ms dropped
  await stream.end();
  assert.deepEqual(gaps[1], { startMs: 260, endMs: 300, reason: 'asr-backlog' }, 'end() reports the open run');
  assert.equal(gaps.length, 2);
});

test('a lagging consumer loses the oldest partials first, never finals', async () => {
  const { controller, stream } = setup({ maxQueuedResults: 10 });
  const batch: RecognitionResult[] = [];
  for (let u = 0; u < 5; u++) {
    for (let p = 0; p < 4; p++) batch.push(result(false, u, p, p + 1));
    batch.push(result(true, u, 0, 10));
  }
  controller.deliver(batch); // 25 results, 5 finals
  stream.close();
  const got: RecognitionResult[] = [];
  for await (const r of stream) got.push(r);
  assert.equal(got.length, 10);
  assert.equal(stream.droppedResults, 15);
  assert.deepEqual(got.filter((r) => r.final).map((r) => r.utteranceId), [0, 1, 2, 3, 4]);
  // Surviving partials are the newest ones.
  assert.deepEqual(got.filter((r) => !r.final).map((r) => r.utteranceId), [3, 4, 4, 4, 4]);
});

test('iteration waits for results and ends after end(); end/close are idempotent; writes after end are ignored', async () => {
  const { transport, controller, stream } = setup();
  const got: RecognitionResult[] = [];
  const consumer = (async () => {
    for await (const r of stream) got.push(r);
  })();
  controller.deliver([result(false, 0, 0, 10)]);
  await new Promise((resolve) => setImmediate(resolve));
  controller.deliver([result(true, 0, 0, 20)]);
  await Promise.all([stream.end(), stream.end()]);
  stream.close();
  stream.write(new Int16Array(160));
  await consumer;
  assert.equal(got.length, 2);
  assert.equal(transport.ended, 1);
  assert.equal(transport.closed, 1);
  assert.equal(transport.sent.length, 0);
});

test('a failed stream rejects the iterator after queued results', async () => {
  const { controller, stream } = setup();
  controller.deliver([result(true, 0, 0, 10)]);
  controller.fail(new Error('worker gone'));
  const iterator = stream[Symbol.asyncIterator]();
  assert.equal((await iterator.next()).done, false);
  await assert.rejects(iterator.next(), /worker gone/);
  assert.equal((await iterator.next()).done, true);
});

test('breaking out of for-await closes the stream', async () => {
  const { transport, controller, stream } = setup();
  controller.deliver([result(true, 0, 0, 10), result(true, 1, 10, 20)]);
  for await (const r of stream) {
    assert.equal(r.utteranceId, 0);
    break;
  }
  assert.equal(transport.closed, 1);
});

void test('write with transfer hands a whole buffer over without a copy; views and plain writes are copied', () => {
  const { transport, stream } = setup();
  const owned = new Int16Array(160).fill(7);
  stream.write(owned, { transfer: true });
  assert.equal(transport.sent[0], owned.buffer, 'the same buffer, not a copy');

  const big = new Int16Array(320).fill(3);
  const view = big.subarray(160);
  stream.write(view, { transfer: true });
  assert.notEqual(transport.sent[1], big.buffer, 'a view into a larger buffer is copied');
  assert.equal(transport.sent[1]?.byteLength, 320);

  const reused = new Int16Array(160).fill(5);
  stream.write(reused);
  assert.notEqual(transport.sent[2], reused.buffer, 'without transfer the caller keeps its buffer');
  assert.deepEqual(new Int16Array(transport.sent[2] ?? new ArrayBuffer(0)), reused);
});
