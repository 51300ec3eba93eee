import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import type { Recognizer } from '../../../src/asr/engines/Engine.js';
import type { RecognitionResult } from '../../../src/asr/types.js';
import { PocketsphinxEngine } from '../../../src/asr/engines/pocketsphinx/PocketsphinxEngine.js';
import { DEBIAN_MODEL } from '../../../src/asr/engines/pocketsphinx/paths.js';
import { AsrWorkerPool } from '../../../src/asr/pool/AsrWorkerPool.js';
import { GatewayMetrics } from '../../../src/metrics.js';
import { WebRtcVad } from '../../../src/audio/vad/WebRtcVad.js';
import { SpeechGate } from '../../../src/audio/vad/SpeechGate.js';
import { chunks, concat, silence, synthesize } from '../../helpers/speech.js';

const RATE = 16000;
const logger = pino({ level: process.env['LOG_LEVEL'] ?? 'silent' });

/** Feeds 20 ms chunks through the gate (or straight into the recogniser without one), then finishes. */
function run(recognizer: Recognizer, pcm: Int16Array, gate?: SpeechGate): RecognitionResult[] {
  const results: RecognitionResult[] = [];
  for (const chunk of chunks(pcm, RATE, 20)) results.push(...(gate ? gate.process(chunk, recognizer) : recognizer.accept(chunk)));
  results.push(...(gate ? gate.finish(recognizer) : recognizer.finish()));
  return results;
}

/** Records what the gate feeds; returns no results. */
class CountingRecognizer implements Recognizer {
  readonly sampleRate = RATE;
  fed = 0;
  readonly finishedAt: number[] = [];
  accept(pcm: Int16Array): RecognitionResult[] {
    this.fed += pcm.length;
    return [];
  }
  finish(): RecognitionResult[] {
    this.finishedAt.push(this.fed);
    return [];
  }
  free(): void {}
}

describe('WebRtcVad', () => {
  test('classifies speech and silence at 8 and 16 kHz in 10/20/30 ms frames; free() is idempotent', async () => {
    for (const rate of [8000, 16000]) {
      const speech = await synthesize('cancel my order please', { rate });
      for (const frameMs of [10, 20, 30] as const) {
        const vad = await WebRtcVad.create({ sampleRate: rate, frameMs, mode: 2 });
        assert.equal(vad.frameSamples, (rate * frameMs) / 1000);
        let voiced = 0;
        const frames = chunks(speech, rate, frameMs).filter((f) => f.length === vad.frameSamples);
        for (const f of frames) if (vad.isSpeech(f)) voiced++; // subarrays: not views of their own buffer
        assert.ok(voiced > frames.length * 0.4, `${rate} Hz ${frameMs} ms: ${voiced}/${frames.length} speech frames`);
        assert.equal(vad.isSpeech(new Int16Array(vad.frameSamples)), false);
        assert.throws(() => vad.isSpeech(new Int16Array(vad.frameSamples + 1)), RangeError);
        vad.free();
        vad.dispose();
        assert.ok(vad.freed);
        assert.throws(() => vad.isSpeech(new Int16Array(vad.frameSamples)), /after free/);
      }
    }
    await assert.rejects(WebRtcVad.create({ sampleRate: 11025 }), RangeError);
  });
});

describe('SpeechGate with pocketsphinx', () => {
  let engine: PocketsphinxEngine;
  let cancel: Int16Array;
  let balance: Int16Array;

  before(async () => {
    engine = new PocketsphinxEngine(DEBIAN_MODEL);
    [cancel, balance] = await Promise.all([
      synthesize('I want to cancel my order', { rate: RATE }),
      synthesize('please check my account balance', { rate: RATE }),
    ]);
  });
  after(() => engine.free());

  test('passes a flite utterance: recognition still finds "cancel ... order"', async () => {
    const gate = await SpeechGate.create({ sampleRate: RATE });
    const recognizer = engine.createRecognizer('en-US');
    try {
      const finals = run(recognizer, concat(silence(2000, RATE), cancel, silence(2000, RATE)), gate).filter((r) => r.final);
      assert.equal(finals.length, 1, JSON.stringify(finals.map((f) => f.text)));
      assert.match(finals[0]!.text, /\bcancel\b.*\border\b/);
      assert.ok(gate.passedSamples > 0 && gate.skippedSamples > 0);
    } finally {
      recognizer.free();
      gate.free();
      gate.free();
    }
  });

  test('drops long silence: more than half of a call that is 70% silence is skipped', async () => {
    const speechMs = ((cancel.length + balance.length) * 1000) / RATE;
    const gapMs = Math.round((speechMs * 0.7) / 0.3 / 3);
    const audio = concat(silence(gapMs, RATE), cancel, silence(gapMs, RATE), balance, silence(gapMs, RATE));
    const gate = await SpeechGate.create({ sampleRate: RATE });
    const recognizer = engine.createRecognizer('en-US');
    try {
      const finals = run(recognizer, audio, gate).filter((r) => r.final);
      const ratio = gate.skippedSamples / audio.length;
      assert.ok(ratio > 0.5, `skipped ${(ratio * 100).toFixed(1)}% of a ${(audio.length / RATE).toFixed(1)} s call`);
      assert.ok(gate.skippedSamples + gate.passedSamples <= audio.length);
      assert.equal(finals.length, 2, JSON.stringify(finals.map((f) => f.text)));
      assert.match(finals[0]!.text, /cancel.*order/);
      assert.match(finals[1]!.text, /account|balance/);
    } finally {
      recognizer.free();
      gate.free();
    }
  });

  test('maps recogniser time back to the stream: words after 5 s of skipped silence land at 5 s+ (within 100 ms)', async () => {
    const audio = concat(silence(5000, RATE), cancel, silence(1500, RATE));
    const plain = engine.createRecognizer('en-US');
    const gated = engine.createRecognizer('en-US');
    const gate = await SpeechGate.create({ sampleRate: RATE });
    try {
      const reference = run(plain, audio).filter((r) => r.final);
      const finals = run(gated, audio, gate).filter((r) => r.final);
      assert.ok(gate.skippedSamples / RATE > 4.5, `skipped ${gate.skippedSamples / RATE} s`);
      assert.equal(finals.length, 1);
      const final = finals[0]!;
      assert.match(final.text, /cancel.*order/);
      assert.ok(final.startMs >= 4700, `utterance starts at ${final.startMs} ms`);
      const cancelWord = final.words.find((w) => w.word === 'cancel');
      assert.ok(cancelWord && cancelWord.startMs >= 5000, `"cancel" at ${cancelWord?.startMs}`);
      // The same words at the same times as a recogniser that heard every sample.
      const refWords = reference[0]?.words ?? [];
      for (const w of final.words) {
        const ref = refWords.find((r) => r.word === w.word);
        if (!ref) continue;
        assert.ok(Math.abs(ref.startMs - w.startMs) <= 100, `${w.word}: ${w.startMs} ms gated vs ${ref.startMs} ms ungated`);
        assert.ok(Math.abs(ref.endMs - w.endMs) <= 100, `${w.word}: ends ${w.endMs} ms gated vs ${ref.endMs} ms ungated`);
      }
      assert.ok(final.words.filter((w) => refWords.some((r) => r.word === w.word)).length >= 3, 'compared at least three words');
      assert.ok(final.endMs <= (audio.length * 1000) / RATE);
    } finally {
      plain.free();
      gated.free();
      gate.free();
    }
  });

  test('finish() on hangover expiry yields the final promptly, without waiting for more speech', async () => {
    const hangoverMs = 400;
    const gate = await SpeechGate.create({ sampleRate: RATE, hangoverMs });
    const recognizer = engine.createRecognizer('en-US');
    try {
      let fedMs = 0;
      let finalAtMs: number | undefined;
      const results: RecognitionResult[] = [];
      const speechEndMs = 1000 + (cancel.length * 1000) / RATE;
      for (const chunk of chunks(concat(silence(1000, RATE), cancel, silence(3000, RATE)), RATE, 20)) {
        const out = gate.process(chunk, recognizer);
        fedMs += (chunk.length * 1000) / RATE;
        results.push(...out);
        if (finalAtMs === undefined && out.some((r) => r.final)) finalAtMs = fedMs;
      }
      assert.ok(finalAtMs !== undefined, 'a final came out with no end() and no further speech');
      const delay = finalAtMs - speechEndMs;
      assert.ok(delay <= hangoverMs + 100, `final ${delay.toFixed(0)} ms after the speech ended (hangover ${hangoverMs} ms)`);
      assert.match(results.find((r) => r.final)!.text, /cancel.*order/);
      assert.equal(gate.isOpen, false);
      assert.deepEqual(gate.finish(recognizer), [], 'nothing left to flush');
    } finally {
      recognizer.free();
      gate.free();
    }
  });
});

describe('SpeechGate mechanics', () => {
  test('pre-roll and hangover: passes speech plus padding, finishes once per gap, keeps time on the stream clock', async () => {
    const speech = await synthesize('hello there', { rate: RATE, trim: true });
    const gate = await SpeechGate.create({ sampleRate: RATE, preRollMs: 300, hangoverMs: 600 });
    const rec = new CountingRecognizer();
    const audio = concat(silence(3000, RATE), speech, silence(3000, RATE), speech, silence(3000, RATE));
    for (const chunk of chunks(audio, RATE, 20)) gate.process(chunk, rec);
    assert.equal(rec.finishedAt.length, 2, 'the recogniser was told each utterance ended');
    const passedMs = (gate.passedSamples * 1000) / RATE;
    const speechMs = (speech.length * 1000) / RATE;
    // Each utterance: ~300 ms pre-roll + speech + 600 ms hangover (+ the VAD's own few frames of smoothing).
    assert.ok(passedMs >= 2 * speechMs + 2 * 600 && passedMs <= 2 * (speechMs + 300 + 600 + 300), `passed ${passedMs} ms for 2 x ${speechMs} ms speech`);
    // What is neither passed nor skipped yet is the pre-roll held in the ring (plus a partial frame).
    const held = audio.length - gate.passedSamples - gate.skippedSamples;
    assert.ok(held >= 0 && held < (RATE * 320) / 1000, `held ${held} samples`);
    // Recogniser time just after the first gap maps past the 3 s of silence less the pre-roll.
    assert.ok(Math.abs(gate.toStreamMs(0) - 2700) <= 40, `recogniser 0 ms -> ${gate.toStreamMs(0)} ms`);
    gate.free();
  });

  test('pools: on by default and counted in sgw_asr_vad_skipped_seconds_total; vad: false feeds everything', async () => {
    const cancel = await synthesize('I want to cancel my order', { rate: 16000 });
    const audio = concat(silence(4000, 16000), cancel, silence(4000, 16000));
    const metrics = new GatewayMetrics({ defaultMetrics: false });
    const pool = await AsrWorkerPool.create({ engine: { engine: 'pocketsphinx', ...DEBIAN_MODEL }, workers: 1, logger, metrics });
    try {
      const gated = await pool.openStream({ language: 'en-US', inputSampleRate: 16000 });
      const plain = await pool.openStream({ language: 'en-US', inputSampleRate: 16000, vad: false });
      const read = async (stream: typeof gated): Promise<RecognitionResult[]> => {
        const out: RecognitionResult[] = [];
        for await (const r of stream) out.push(r);
        return out;
      };
      const results = [read(gated), read(plain)];
      for (const chunk of chunks(audio, 16000, 20)) {
        while (gated.bufferedAudioMs > 1000 || plain.bufferedAudioMs > 1000) await new Promise((resolve) => setTimeout(resolve, 5));
        gated.write(chunk);
        plain.write(chunk);
      }
      await Promise.all([gated.end(), plain.end()]);
      const [g, p] = await Promise.all(results);
      const gFinal = g!.filter((r) => r.final);
      const pFinal = p!.filter((r) => r.final);
      assert.equal(gFinal.length, 1, JSON.stringify(gFinal.map((r) => r.text)));
      assert.match(gFinal[0]!.text, /cancel/);
      assert.ok(Math.abs(gFinal[0]!.startMs - (pFinal[0]?.startMs ?? NaN)) <= 150, `gated ${gFinal[0]!.startMs} ms vs ungated ${pFinal[0]?.startMs} ms`);
      const skipped = (await metrics.asrVadSkippedSeconds.get()).values.reduce((n, v) => n + v.value, 0);
      assert.ok(skipped > 5 && skipped < 8, `skipped ${skipped} s of ${audio.length / 16000} s (one gated stream)`);
      assert.equal(pool.stats().vadSkippedSeconds, skipped);
    } finally {
      await pool.close();
    }
  });
});
