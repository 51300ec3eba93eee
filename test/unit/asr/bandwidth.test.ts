import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { BandwidthProbe, DEFAULT_PROBE_MS } from '../../../src/audio/BandwidthProbe.js';
import { Resampler } from '../../../src/audio/Resampler.js';
import { decodeUlaw, encodeUlaw } from '../../../src/audio/codecs/g711.js';
import { StreamSink } from '../../../src/asr/pool/StreamSink.js';
import type { Recognizer, Spotter } from '../../../src/asr/engines/Engine.js';
import type { RecognitionResult, SpotHit } from '../../../src/asr/types.js';

/** Deterministic white noise: every frequency up to the Nyquist of whatever rate it is played at. */
function noise(samples: number, seed = 1): Int16Array {
  let s = seed;
  const out = new Int16Array(samples);
  for (let i = 0; i < samples; i++) {
    s = (s * 16807) % 2147483647;
    out[i] = Math.round(((s / 2147483647) * 2 - 1) * 6000);
  }
  return out;
}

/** Voice-like: a 125 Hz voice's harmonics up to 3.4 kHz falling 6 dB an octave as speech does, with a hiss of the rate's whole band 20 dB under it (fricatives, line noise). */
function voice(samples: number, rate: number, seed = 1): Int16Array {
  const hiss = noise(samples, seed);
  const out = new Int16Array(samples);
  for (let i = 0; i < samples; i++) {
    let v = 0;
    for (let k = 1; k * 125 <= 3400; k++) v += (6000 / k) * Math.sin((2 * Math.PI * k * 125 * i) / rate + k * seed);
    out[i] = Math.max(-32768, Math.min(32767, Math.round(v / 4 + (hiss[i] as number) * 0.1)));
  }
  return out;
}

/** As a telephone line carries it: rolled off towards 4 kHz (as G.712's 3.4 kHz band edge), G.711, upsampled. */
async function telephone(pcm8k: Int16Array): Promise<Int16Array> {
  const band = pcm8k.map((x, i) => Math.round((x + (pcm8k[i - 1] ?? 0)) / 2));
  const up = await Resampler.create(8000, 16000);
  try {
    return up.process(decodeUlaw(encodeUlaw(band)));
  } finally {
    up.destroy();
  }
}

/** A recogniser that says, at each finish, how many samples it got and when they started; one utterance id per finish. */
class CountingRecognizer implements Recognizer {
  readonly sampleRate = 16000;
  samples = 0;
  freed = false;
  private utterance = 1;
  private startSample = -1;
  constructor(readonly label: string) {}
  accept(pcm: Int16Array): RecognitionResult[] {
    if (this.startSample < 0) this.startSample = this.samples;
    this.samples += pcm.length;
    return [];
  }
  finish(): RecognitionResult[] {
    const startMs = Math.max(0, this.startSample) / 16;
    const endMs = this.samples / 16;
    this.startSample = -1;
    const id = this.utterance++;
    return [{ final: true, utteranceId: id, text: `${this.label} ${this.samples}`, startMs, endMs, words: [{ word: this.label, startMs, endMs }] }];
  }
  free(): void {
    this.freed = true;
  }
}

class CountingSpotter implements Spotter {
  readonly sampleRate = 16000;
  readonly skipped: readonly string[] = [];
  samples = 0;
  freed = false;
  accept(pcm: Int16Array): SpotHit[] {
    this.samples += pcm.length;
    return [];
  }
  finish(): SpotHit[] {
    return [{ phrase: 'cancel my order', startMs: 0, endMs: this.samples / 16 }];
  }
  free(): void {
    this.freed = true;
  }
}

const chunks = (pcm: Int16Array, size = 320): Int16Array[] => Array.from({ length: Math.ceil(pcm.length / size) }, (_, i) => pcm.subarray(i * size, (i + 1) * size));

describe('telephone speech in a wideband leg', () => {
  test('the probe tells upsampled G.711 from wideband sound, after its stretch of speech only', async () => {
    const wide = new BandwidthProbe({ sampleRate: 16000 });
    wide.add(voice(8000, 16000));
    assert.equal(wide.ready, false, 'half a second is not enough');
    wide.add(voice(24000, 16000, 2));
    assert.equal(wide.ready, true);
    assert.equal(wide.bandwidth, 'wideband');
    assert.ok(wide.highBandDb > -40, `the hiss above 5.2 kHz (${wide.highBandDb.toFixed(1)} dB)`);
    const white = new BandwidthProbe({ sampleRate: 16000 });
    white.add(noise(32000));
    assert.ok(white.highBandDb > -10, `white noise keeps about a third of its energy above 5.2 kHz (${white.highBandDb.toFixed(1)} dB)`);
    const narrow = new BandwidthProbe({ sampleRate: 16000 });
    narrow.add(await telephone(voice(16000, 8000)));
    assert.equal(narrow.ready, true);
    assert.equal(narrow.bandwidth, 'narrowband');
    assert.ok(narrow.highBandDb < -55, `${narrow.highBandDb.toFixed(1)} dB`);
    assert.equal(new BandwidthProbe({ sampleRate: 16000 }).bandwidth, 'wideband', 'nothing heard: the leg keeps its rate');
    assert.throws(() => new BandwidthProbe({ sampleRate: 8000 }), /rate above/);
  });

  test('telephone speech switches the stream to the telephone pair before any of it is decoded; times and utterance ids run on', async () => {
    const wide = new CountingRecognizer('wide');
    const wideSpotter = new CountingSpotter();
    const narrow = new CountingRecognizer('narrow');
    const narrowSpotter = new CountingSpotter();
    const decided: string[] = [];
    const sink = new StreamSink(wide, wideSpotter, null, {
      probe: new BandwidthProbe({ sampleRate: 16000 }),
      create: () => ({ recognizer: narrow, spotter: narrowSpotter }),
      onDecided: (bandwidth) => decided.push(bandwidth),
    });
    // A short first utterance ends before the probe can tell: decoded by what the stream has.
    const short = await telephone(voice(4000, 8000, 3));
    for (const c of chunks(short)) assert.deepEqual(sink.accept(c), []);
    const [first] = sink.finish();
    assert.equal(first?.text, `wide ${short.length}`);
    assert.equal(first.utteranceId, 1);
    assert.deepEqual(decided, []);
    // The next utterance completes the probe: the held speech goes to the telephone pair.
    const long = await telephone(voice(16000, 8000, 4));
    for (const c of chunks(long)) sink.accept(c);
    assert.deepEqual(decided, ['narrowband']);
    assert.ok(wide.freed && wideSpotter.freed, 'the wideband pair is freed');
    assert.equal(wide.samples, short.length, 'the wideband recogniser never saw the second utterance');
    assert.equal(narrow.samples, long.length, 'nothing held back is lost');
    assert.equal(narrowSpotter.samples, long.length);
    const [second] = sink.finish();
    assert.equal(second?.utteranceId, 2, 'ids go on from the wideband recogniser’s');
    assert.equal(second.startMs, short.length / 16, 'time goes on from the audio the wideband recogniser had');
    assert.equal(second.words[0]?.startMs, short.length / 16);
    const hits = sink.takeHits();
    assert.equal(hits.at(-1)?.endMs, (short.length + long.length) / 16);
  });

  test('wideband speech keeps the stream as it is; the probe runs once', () => {
    const wide = new CountingRecognizer('wide');
    let created = 0;
    const decided: string[] = [];
    const sink = new StreamSink(wide, null, null, {
      probe: new BandwidthProbe({ sampleRate: 16000 }),
      create: () => {
        created++;
        return { recognizer: new CountingRecognizer('narrow'), spotter: null };
      },
      onDecided: (bandwidth) => decided.push(bandwidth),
    });
    const speech = voice((DEFAULT_PROBE_MS / 1000) * 16000 * 2, 16000, 5);
    for (const c of chunks(speech)) sink.accept(c);
    assert.equal(wide.samples, speech.length);
    assert.deepEqual(sink.finish().map((r) => r.text), [`wide ${speech.length}`]);
    assert.equal(created, 0);
    assert.deepEqual(decided, ['wideband']);
  });

  test('a telephone pair that cannot be made leaves the wideband one, with the error told', async () => {
    const wide = new CountingRecognizer('wide');
    const errors: unknown[] = [];
    const sink = new StreamSink(wide, null, null, {
      probe: new BandwidthProbe({ sampleRate: 16000 }),
      create: () => {
        throw new Error('no telephone model');
      },
      onDecided: (_b, _db, error) => errors.push(error),
    });
    const speech = await telephone(voice(16000, 8000, 6));
    for (const c of chunks(speech)) sink.accept(c);
    assert.equal(wide.freed, false);
    assert.equal(wide.samples, speech.length, 'the held speech still reaches the recogniser');
    assert.match(String(errors[0]), /no telephone model/);
  });
});
