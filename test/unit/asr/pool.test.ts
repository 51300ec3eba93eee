import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { pino } from 'pino';
import { GatewayError } from '../../../src/errors.js';
import { GatewayMetrics } from '../../../src/metrics.js';
import { AsrWorkerPool, type AsrWorkerPoolOptions } from '../../../src/asr/pool/AsrWorkerPool.js';
import type { SpeechStream } from '../../../src/asr/SpeechStream.js';
import type { RecognitionResult } from '../../../src/asr/types.js';
import { DEBIAN_MODEL } from '../../../src/asr/engines/pocketsphinx/paths.js';
import { chunks, concat, silence, synthesize } from '../../helpers/speech.js';

const logger = pino({ level: process.env['LOG_LEVEL'] ?? 'silent' });
const POCKETSPHINX = { engine: 'pocketsphinx', ...DEBIAN_MODEL } as const;

function poolOptions(metrics: GatewayMetrics, extra: Partial<AsrWorkerPoolOptions> = {}): AsrWorkerPoolOptions {
  return { engine: POCKETSPHINX, workers: 2, logger, metrics, ...extra };
}

/** Reads a stream in the background; `final(n)` resolves once n finals arrived. */
function collect(stream: SpeechStream) {
  const results: RecognitionResult[] = [];
  const waiters: { n: number; resolve: () => void }[] = [];
  const finals = () => results.filter((r) => r.final);
  const done = (async () => {
    for await (const r of stream) {
      results.push(r);
      for (const w of waiters.filter((w) => finals().length >= w.n)) w.resolve();
    }
  })();
  return {
    results,
    finals,
    done,
    final(n: number, timeoutMs = 15_000): Promise<void> {
      if (finals().length >= n) return Promise.resolve();
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`timed out waiting for final #${n}; got ${JSON.stringify(results.map((r) => r.text))}`)), timeoutMs);
        waiters.push({ n, resolve: () => (clearTimeout(timer), resolve()) });
      });
    },
  };
}

/**
 * Writes 20 ms chunks faster than real time but keeps the worker backlog
 * under a second, so the stream's 5 s drop policy never kicks in.
 */
async function writeChunked(stream: SpeechStream, pcm: Int16Array, rate: number): Promise<void> {
  for (const chunk of chunks(pcm, rate, 20)) {
    while (stream.bufferedAudioMs > 1000) await new Promise((resolve) => setTimeout(resolve, 5));
    stream.write(chunk);
  }
}

async function until(predicate: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Child processes of this process (ASR workers under process isolation). */
function childProcesses(): number {
  let count = 0;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // Field 4 of /proc/<pid>/stat, after the parenthesised command name, is the parent pid.
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === process.pid) count++;
    } catch {
      // The process went away while we looked.
    }
  }
  return count;
}

function osThreads(): number {
  const match = /^Threads:\s+(\d+)/m.exec(readFileSync('/proc/self/status', 'utf8'));
  return Number(match?.[1] ?? NaN);
}

async function counter(metric: { get(): Promise<{ values: { value: number }[] }> }): Promise<number> {
  return (await metric.get()).values.reduce((sum, v) => sum + v.value, 0);
}

describe('AsrWorkerPool with pocketsphinx', () => {
  let cancel16: Int16Array;
  let greeting8: Int16Array;
  let cancel8: Int16Array;
  let balance16: Int16Array;

  before(async () => {
    // 8 kHz telephone-band speech is far from the wideband model's initial
    // cepstral mean, so a fresh decoder's first utterance is unreliable; a call
    // starts with a greeting, after which the live CMN has adapted.
    [cancel16, greeting8, cancel8, balance16] = await Promise.all([
      synthesize('I want to cancel my order', { rate: 16000 }),
      synthesize('hello this is a call about my account', { rate: 8000, voice: 'kal' }),
      synthesize('I want to cancel my order', { rate: 8000, voice: 'kal' }),
      synthesize('please check my account balance', { rate: 16000 }),
    ]);
  });

  for (const isolation of ['process', 'thread'] as const) test(`two streams on two ${isolation} workers (8 kHz resampled and 16 kHz) produce finals; close() stops every worker`, async () => {
    const metrics = new GatewayMetrics({ defaultMetrics: false });
    const pool = await AsrWorkerPool.create(poolOptions(metrics, { isolation }));
    const workers = [pool.workerForTest(0)!, pool.workerForTest(1)!];
    assert.ok(workers.every((w) => w.isolation === isolation && (isolation === 'thread') === (w.pid === undefined)));
    const exits = workers.map((w) => w.exited.then((e) => e.code));
    try {
      assert.deepEqual(pool.health(), { status: 'ok', instances: 2, ready: 2, restarts: 0 });
      const narrow = await pool.openStream({ language: 'en-US', inputSampleRate: 8000 });
      const wide = await pool.openStream({ language: 'en-US', inputSampleRate: 16000 });
      assert.deepEqual(pool.stats().streamsPerWorker, [1, 1], 'least-loaded placement');
      assert.equal(pool.usage().openStreams, 2);
      assert.equal(pool.usage().capacity, 2, 'one core per worker');
      const a = collect(narrow);
      const b = collect(wide);

      const narrowAudio = concat(silence(500, 8000), greeting8, silence(1000, 8000), cancel8, silence(1500, 8000));
      const wideAudio = concat(silence(500, 16000), cancel16, silence(1500, 16000));
      await Promise.all([writeChunked(narrow, narrowAudio, 8000), writeChunked(wide, wideAudio, 16000)]);
      await Promise.all([a.final(2), b.final(1)]);
      await Promise.all([narrow.end(), wide.end()]);
      await Promise.all([a.done, b.done]); // iterators end after end()

      const narrowFinals = a.finals();
      assert.equal(narrowFinals.length, 2, JSON.stringify(narrowFinals.map((f) => f.text)));
      assert.match(narrowFinals[1]!.text, /cancel my order/);
      // The phrase starts after 500 + greeting + 1000 ms: 8 kHz time survives resampling.
      const phraseStart = 1500 + (greeting8.length * 1000) / 8000;
      assert.ok(Math.abs(narrowFinals[1]!.startMs - phraseStart) < 400, `8 kHz phrase at ${narrowFinals[1]!.startMs}, expected ~${phraseStart}`);
      assert.deepEqual(narrowFinals.map((f) => f.utteranceId), [0, 1]);
      const wideFinals = b.finals();
      assert.equal(wideFinals.length, 1, JSON.stringify(wideFinals.map((f) => f.text)));
      assert.match(wideFinals[0]!.text, /cancel my order/);
      assert.ok(wideFinals[0]!.startMs >= 400 && wideFinals[0]!.endMs <= (wideAudio.length * 1000) / 16000);
      for (const c of [a, b]) assert.ok(c.results.some((r) => !r.final), 'partials came first');

      assert.deepEqual(pool.stats().streamsPerWorker, [0, 0]);
      assert.equal(pool.usage().openStreams, 0);
      const audioSeconds = await counter(metrics.asrAudioSeconds);
      assert.ok(Math.abs(pool.usage().audioSeconds - audioSeconds) < 1e-9, 'usage() is the accounting the metrics get');
      const expectedSeconds = narrowAudio.length / 8000 + wideAudio.length / 16000;
      assert.ok(Math.abs(audioSeconds - expectedSeconds) < 0.01, `audio seconds ${audioSeconds}, expected ${expectedSeconds}`);
      assert.ok((await counter(metrics.asrProcessingSeconds)) > 0);
    } finally {
      await Promise.all([pool.close(), pool.close()]);
    }
    assert.deepEqual(await Promise.all(exits), [0, 0], 'workers exited on their own after freeing their decoders');
    assert.ok(workers.every((w) => w.pid === undefined || !alive(w.pid)), 'no worker process left');
    assert.equal(pool.health().status, 'down');
    const rtf = (await metrics.asrRealTimeFactor.get()).values[0]?.value ?? NaN;
    assert.ok(rtf > 0 && rtf < 1, `real-time factor ${rtf}`);
    await assert.rejects(pool.openStream({ language: 'en-US', inputSampleRate: 8000 }), (err: unknown) => err instanceof GatewayError && err.code === 'SGW_SHUTTING_DOWN');
  });

  test('a 16 kHz stream that carries telephone speech is switched to the telephone profile after its first 1.5 s of speech', async () => {
    const metrics = new GatewayMetrics({ defaultMetrics: false });
    const pool = await AsrWorkerPool.create(poolOptions(metrics, { workers: 1 }));
    try {
      // flite's kal voice is an 8 kHz voice: rendered at 16 kHz it has nothing above 4 kHz, as a call from a telephone line bridged into a wideband leg.
      const [greeting, cancel] = await Promise.all([
        synthesize('hello this is a call about my account', { rate: 16000, voice: 'kal' }),
        synthesize('I want to cancel my order', { rate: 16000, voice: 'kal' }),
      ]);
      const stream = await pool.openStream({ language: 'en-US', inputSampleRate: 16000 });
      const c = collect(stream);
      const audio = concat(silence(500, 16000), greeting, silence(1000, 16000), cancel, silence(1500, 16000));
      await writeChunked(stream, audio, 16000);
      await c.final(2);
      await stream.end();
      await c.done;
      const finals = c.finals();
      assert.match(finals.at(-1)?.text ?? '', /cancel my order/, JSON.stringify(finals.map((f) => f.text)));
      assert.deepEqual(finals.map((f) => f.utteranceId), [0, 1]);
      const phraseStart = 1500 + (greeting.length * 1000) / 16000;
      assert.ok(Math.abs((finals[1]?.startMs ?? 0) - phraseStart) < 400, `phrase at ${finals[1]?.startMs}, expected ~${phraseStart}`);
      const counted = (await metrics.asrStreamBandwidth.get()).values.map((v) => [v.labels.bandwidth, v.value]);
      assert.deepEqual(counted, [['narrowband', 1]]);
      // A wideband voice stays wideband.
      const wide = await pool.openStream({ language: 'en-US', inputSampleRate: 16000 });
      const w = collect(wide);
      await writeChunked(wide, concat(silence(500, 16000), cancel16, silence(300, 16000), balance16, silence(1500, 16000)), 16000);
      await wide.end();
      await w.done;
      assert.ok(w.finals().some((f) => /cancel my order/.test(f.text)));
      const after = Object.fromEntries((await metrics.asrStreamBandwidth.get()).values.map((v) => [String(v.labels.bandwidth), v.value]));
      assert.deepEqual(after, { narrowband: 1, wideband: 1 });
    } finally {
      await pool.close();
    }
  });

  test('a record-only stream (an agent leg) reaches its worker as such: it gets the engine\'s record flags', async () => {
    const metrics = new GatewayMetrics({ defaultMetrics: false });
    // Five active HMMs per frame cannot follow the sentence: the flags show in the words.
    const pool = await AsrWorkerPool.create(poolOptions(metrics, { engine: { ...POCKETSPHINX, recordArgs: ['-maxhmmpf', '5'] }, workers: 1 }));
    try {
      const full = await pool.openStream({ language: 'en-US', inputSampleRate: 16000 });
      const record = await pool.openStream({ language: 'en-US', inputSampleRate: 16000, recordOnly: true });
      const a = collect(full);
      const b = collect(record);
      const audio = concat(silence(500, 16000), cancel16, silence(1500, 16000));
      await Promise.all([writeChunked(full, audio, 16000), writeChunked(record, audio, 16000)]);
      await Promise.all([full.end(), record.end()]);
      await Promise.all([a.done, b.done]);
      assert.match(a.finals().map((f) => f.text).join(' '), /cancel my order/);
      assert.doesNotMatch(b.finals().map((f) => f.text).join(' '), /cancel my order/);
    } finally {
      await pool.close();
    }
  });

  test('unsupported language and bad sample rates are rejected', async () => {
    const pool = await AsrWorkerPool.create(poolOptions(new GatewayMetrics({ defaultMetrics: false }), { workers: 1 }));
    try {
      assert.deepEqual(pool.supportedLanguages, ['en-US']);
      assert.equal(pool.engine, 'pocketsphinx');
      assert.deepEqual(pool.capabilities, { partials: true, spotting: true, alternatives: 0 });
      await assert.rejects(pool.openStream({ language: 'nl-NL', inputSampleRate: 8000 }), (err: unknown) => err instanceof GatewayError && err.code === 'SGW_LANGUAGE_UNSUPPORTED');
      await assert.rejects(pool.openStream({ language: 'en-US', inputSampleRate: 0 }), (err: unknown) => err instanceof GatewayError && err.code === 'SGW_INVALID_ARGUMENT');
    } finally {
      await pool.close();
    }
  });

  test('a process worker accounts for all the CPU it uses: the processing seconds agree with /proc within 10%', async () => {
    const metrics = new GatewayMetrics({ defaultMetrics: false });
    const pool = await AsrWorkerPool.create(poolOptions(metrics, { workers: 1, isolation: 'process' }));
    try {
      const pid = pool.workerForTest(0)?.pid;
      assert.ok(pid !== undefined);
      const stream = await pool.openStream({ language: 'en-US', inputSampleRate: 8000 });
      const c = collect(stream);
      await writeChunked(stream, concat(silence(300, 8000), greeting8, silence(800, 8000), cancel8, silence(1500, 8000)), 8000);
      await stream.end();
      await c.done;
      // utime and stime, fields 14 and 15 of /proc/<pid>/stat, in clock ticks (USER_HZ, 100 on Linux).
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const procSeconds = (Number(fields[11]) + Number(fields[12])) / 100;
      const accounted = await counter(metrics.asrProcessingSeconds);
      assert.equal(accounted, pool.usage().processingSeconds);
      assert.ok(procSeconds > 0.2, `the worker used ${procSeconds} s of CPU`);
      assert.ok(Math.abs(accounted - procSeconds) <= 0.1 * procSeconds, `accounted ${accounted.toFixed(3)} s, /proc says ${procSeconds.toFixed(3)} s`);
    } finally {
      await pool.close();
    }
  });

  test('opening a stream does not wait behind the audio other streams have queued on the worker', async () => {
    const metrics = new GatewayMetrics({ defaultMetrics: false });
    const pool = await AsrWorkerPool.create(poolOptions(metrics, { workers: 1 }));
    try {
      const busy = await Promise.all([0, 1, 2].map(() => pool.openStream({ language: 'en-US', inputSampleRate: 16000, vad: false })));
      const readers = busy.map(collect);
      // Four seconds per stream, all at once: about twelve seconds of audio queued on the one worker.
      const audio = concat(cancel16, silence(4000 - (cancel16.length * 1000) / 16000, 16000));
      for (const stream of busy) for (const chunk of chunks(audio, 16000, 20)) stream.write(chunk);
      const queuedAtOpen = busy.reduce((ms, s) => ms + s.bufferedAudioMs, 0);
      assert.ok(queuedAtOpen > 10_000, `queued ${queuedAtOpen} ms`);
      const late = await pool.openStream({ language: 'en-US', inputSampleRate: 16000 });
      const stillQueued = busy.reduce((ms, s) => ms + s.bufferedAudioMs, 0);
      // In arrival order the open would have come after all of it (nothing left queued).
      assert.ok(stillQueued > 4000, `the open waited for the backlog: ${Math.round(stillQueued)} ms of ${Math.round(queuedAtOpen)} ms still queued when it was ready`);
      await Promise.all(busy.map((s) => s.end()));
      await Promise.all(readers.map((r) => r.done));
      for (const r of readers) assert.match(r.finals().map((f) => f.text).join(' '), /cancel/, 'the queued audio was still recognised');
      late.close();
    } finally {
      await pool.close();
    }
  });

  test('sgw_asr_backlog_max_seconds reports the largest backlog of one stream, and falls back to 0 once the worker caught up', async () => {
    const metrics = new GatewayMetrics({ defaultMetrics: false });
    const pool = await AsrWorkerPool.create(poolOptions(metrics, { workers: 1, metricsIntervalMs: 50 }));
    const backlog = async (): Promise<number> => (await metrics.asrBacklogMaxSeconds.get()).values[0]?.value ?? NaN;
    try {
      const streams = await Promise.all([0, 1].map(() => pool.openStream({ language: 'en-US', inputSampleRate: 16000, vad: false })));
      const readers = streams.map(collect);
      // Four seconds on each stream at once: the worker takes them in turn, so each waits.
      const audio = concat(cancel16, silence(4000 - (cancel16.length * 1000) / 16000, 16000));
      for (const stream of streams) for (const chunk of chunks(audio, 16000, 20)) stream.write(chunk);
      let peak = 0;
      const deadline = Date.now() + 10_000;
      while (peak < 2 && Date.now() < deadline) {
        peak = Math.max(peak, await backlog());
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      assert.ok(peak >= 2 && peak <= 4, `peak ${peak} s: one stream's backlog (at most its 4 s), not the sum of both`);
      await until(() => streams.every((s) => s.bufferedAudioMs === 0));
      const caughtUp = Date.now() + 5000;
      while ((await backlog()) !== 0 && Date.now() < caughtUp) await new Promise((resolve) => setTimeout(resolve, 20));
      assert.equal(await backlog(), 0);
      await Promise.all(streams.map((s) => s.end()));
      await Promise.all(readers.map((r) => r.done));
    } finally {
      await pool.close();
    }
  });

  for (const kind of ['terminated from outside', 'exits abruptly', 'crashes in native code (SIGABRT)', 'stops answering heartbeats'] as const) {
    test(`a worker that ${kind} is replaced and the stream keeps producing results`, async () => {
      const metrics = new GatewayMetrics({ defaultMetrics: false });
      const pool = await AsrWorkerPool.create(poolOptions(metrics, { heartbeatIntervalMs: 100, heartbeatTimeoutMs: 600 }));
      try {
        const stream = await pool.openStream({ language: 'en-US', inputSampleRate: 16000 });
        const slot = pool.stats().streamsPerWorker.indexOf(1);
        const c = collect(stream);
        const firstPart = concat(silence(300, 16000), cancel16, silence(1500, 16000));
        await writeChunked(stream, firstPart, 16000);
        await c.final(1);

        const old = pool.workerForTest(slot)!;
        if (kind === 'terminated from outside') await old.terminate();
        else if (kind === 'exits abruptly') pool.simulateFailureForTest(slot, 'exit');
        // A native abort in a thread would take this test process down with it: process isolation is what survives it.
        else if (kind === 'crashes in native code (SIGABRT)') pool.simulateFailureForTest(slot, 'crash');
        else pool.simulateFailureForTest(slot, 'hang', 5000);
        await until(() => pool.stats().workerRestarts === 1);
        assert.notEqual(pool.workerForTest(slot), old);
        await until(() => pool.health().status === 'ok');
        assert.equal(pool.health().restarts, 1);

        await writeChunked(stream, concat(balance16, silence(1500, 16000)), 16000);
        await c.final(2);
        const [first, second] = c.finals() as [RecognitionResult, RecognitionResult];
        assert.match(first.text, /cancel/);
        assert.match(second.text, /balance/);
        assert.equal(second.utteranceId, first.utteranceId + 1);
        // Times continue on the stream clock: the second phrase starts where it was written.
        const expectedStart = (firstPart.length * 1000) / 16000;
        assert.ok(Math.abs(second.startMs - expectedStart) < 500, `second starts at ${second.startMs}, expected ~${expectedStart}`);
        assert.equal(await counter(metrics.asrWorkerRestarts), 1);
        await stream.end();
        await c.done;
      } finally {
        await pool.close();
      }
    });
  }
});

for (const isolation of ['process', 'thread'] as const) {
  test(`a pool of ${isolation} workers whose engine cannot load rejects create() with the worker message and leaves no worker`, async () => {
    await synthesize('warm up', { rate: 8000 }); // starts libuv's thread pool so the thread count is stable
    const threadsBefore = osThreads();
    const childrenBefore = childProcesses();
    const metrics = new GatewayMetrics({ defaultMetrics: false });
    const path = '/nonexistent/vosk-model';
    await assert.rejects(
      AsrWorkerPool.create({ engine: { engine: 'vosk', models: { 'en-US': path } }, workers: 2, isolation, logger, metrics }),
      (err: unknown) => err instanceof GatewayError && err.code === 'SGW_ASR_UNAVAILABLE' && err.message.includes(path) && err.message.includes('VOSK_MODEL='),
    );
    await until(() => osThreads() <= threadsBefore && childProcesses() <= childrenBefore, 5000);
    assert.equal(await counter(metrics.asrWorkerRestarts), 0);
  });
}
