import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { GatewayError } from '../../../src/errors.js';
import type { SpotHit } from '../../../src/asr/types.js';
import type { Spotter } from '../../../src/asr/engines/Engine.js';
import { PocketsphinxEngine } from '../../../src/asr/engines/pocketsphinx/PocketsphinxEngine.js';
import { DEBIAN_MODEL } from '../../../src/asr/engines/pocketsphinx/paths.js';
import { PhraseFinder } from '../../../src/asr/spotting/PhraseFinder.js';
import { HighBandFill } from '../../../src/audio/HighBandFill.js';
import { Resampler } from '../../../src/audio/Resampler.js';
import { decodeUlaw, encodeUlaw } from '../../../src/audio/codecs/g711.js';
import { chunks, concat, silence, synthesize } from '../../helpers/speech.js';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const PHRASES = ['speak to your manager', 'cancel my order', 'where is my parcel', 'i want a refund'];

function spot(spotter: Spotter, pcm: Int16Array, rate: number, fill?: HighBandFill): SpotHit[] {
  const hits: SpotHit[] = [];
  for (const chunk of chunks(pcm, rate, 20)) hits.push(...spotter.accept(fill ? fill.process(chunk.slice()) : chunk));
  hits.push(...spotter.finish());
  return hits;
}

/** 16 kHz speech through an 8 kHz mu-law telephone line and back up to 16 kHz, as a PCMU leg reaches the recogniser. */
async function telephone(wideband: Int16Array): Promise<Int16Array> {
  const down = await Resampler.create(16000, 8000);
  const narrow = decodeUlaw(encodeUlaw(down.process(wideband)));
  down.destroy();
  const up = await Resampler.create(8000, 16000);
  const out = up.process(narrow);
  up.destroy();
  return out;
}

describe('pocketsphinx keyword spotting', () => {
  let engine: PocketsphinxEngine;
  let speech: Int16Array;
  before(async () => {
    engine = new PocketsphinxEngine(DEBIAN_MODEL);
    speech = concat(
      silence(400, 16000),
      await synthesize('hello, this is the third time I am calling and I want to speak to your manager right now', { rate: 16000 }),
      silence(800, 16000),
    );
  });
  after(() => engine.free());

  test('hears a grammar phrase in wideband speech, with its time span', () => {
    const spotter = engine.createSpotter('en-US', PHRASES);
    const hits = spot(spotter, speech, 16000);
    spotter.free();
    const manager = hits.filter((h) => h.phrase === 'speak to your manager');
    assert.equal(manager.length, 1, JSON.stringify(hits));
    const hit = manager[0]!;
    const audioMs = (speech.length * 1000) / 16000;
    // The phrase is near the end of the sentence: after the middle, inside the audio, ~1 s long.
    assert.ok(hit.startMs > audioMs / 2 && hit.endMs <= audioMs, `${hit.startMs}-${hit.endMs} of ${audioMs}`);
    assert.ok(hit.endMs - hit.startMs > 400 && hit.endMs - hit.startMs < 2500, `span ${hit.endMs - hit.startMs} ms`);
    assert.deepEqual(hits.filter((h) => h.phrase !== 'speak to your manager'), [], 'no other phrase was said');
  });

  test('a phrase said twice is reported twice (the search restarts after a detection)', async () => {
    const twice = concat(speech, await synthesize('I want to speak to your manager', { rate: 16000 }), silence(600, 16000));
    const spotter = engine.createSpotter('en-US', PHRASES);
    const hits = spot(spotter, twice, 16000).filter((h) => h.phrase === 'speak to your manager');
    spotter.free();
    assert.equal(hits.length, 2, JSON.stringify(hits));
    assert.ok(hits[1]!.startMs > hits[0]!.endMs);
  });

  test('telephone profile: with the high-band fill it hears phrases in 8 kHz mu-law speech', async () => {
    // Measured (docs/asr.md): over four flite voices the fill roughly doubles what is heard on a mu-law line.
    const said = ['cancel my order', 'i want a refund', 'speak to your manager'];
    const heard: string[] = [];
    for (const voice of ['rms', 'awb'] as const) {
      const line = await telephone(concat(
        silence(400, 16000),
        await synthesize('please cancel my order, I want a refund. I want to speak to your manager', { voice, rate: 16000 }),
        silence(800, 16000),
      ));
      // Filled audio is wideband-like again: the wideband profile, as the worker chooses.
      const spotter = engine.createSpotter('en-US', PHRASES);
      heard.push(...spot(spotter, line, 16000, new HighBandFill({ sampleRate: 16000, sourceSampleRate: 8000 })).map((h) => h.phrase));
      spotter.free();
    }
    assert.ok(heard.filter((p) => said.includes(p)).length >= 4, `heard ${JSON.stringify(heard)} of 2 x ${JSON.stringify(said)}`);
    assert.deepEqual(heard.filter((p) => !said.includes(p)), [], 'no false alarm for a phrase not said');
  });

  test('phrases with words the dictionary lacks are skipped and listed; none left is an error', () => {
    const spotter = engine.createSpotter('en-US', ['cancel my order', 'zorblax my qwibble']);
    assert.deepEqual(spotter.skipped, ['zorblax my qwibble']);
    spotter.free();
    spotter.free(); // idempotent
    assert.throws(() => engine.createSpotter('en-US', ['zorblax qwibble']), (err: unknown) => err instanceof GatewayError && err.code === 'SGW_INVALID_ARGUMENT');
    assert.throws(() => engine.createSpotter('nl-NL', PHRASES), (err: unknown) => err instanceof GatewayError && err.code === 'SGW_LANGUAGE_UNSUPPORTED');
  });
});

describe('PhraseFinder (grammar recognisers: Vosk with [unk])', () => {
  const w = (word: string, startMs: number): { word: string; startMs: number; endMs: number } => ({ word, startMs, endMs: startMs + 200 });
  test('finds phrases as consecutive words, longest first, without overlap', () => {
    const finder = new PhraseFinder(['cancel my order', 'cancel my order number', 'my order']);
    const hits = finder.find([w('[unk]', 0), w('cancel', 200), w('my', 400), w('order', 600), w('number', 800), w('my', 1000), w('order', 1200)]);
    assert.deepEqual(hits, [
      { phrase: 'cancel my order number', startMs: 200, endMs: 1000 },
      { phrase: 'my order', startMs: 1000, endMs: 1400 },
    ]);
  });
  test('an interrupted phrase is not found', () => {
    assert.deepEqual(new PhraseFinder(['cancel my order']).find([w('cancel', 0), w('[unk]', 200), w('my', 400), w('order', 600)]), []);
  });
});

describe('HighBandFill', () => {
  /** Power of `pcm` at `freq` Hz (one DFT bin). */
  function power(pcm: Int16Array, rate: number, freq: number): number {
    let re = 0;
    let im = 0;
    for (let i = 0; i < pcm.length; i++) {
      re += (pcm[i] as number) * Math.cos((2 * Math.PI * freq * i) / rate);
      im -= (pcm[i] as number) * Math.sin((2 * Math.PI * freq * i) / rate);
    }
    return (re * re + im * im) / pcm.length;
  }

  test('adds noise at the stated RMS, above the narrowband Nyquist frequency only', () => {
    const fill = new HighBandFill({ sampleRate: 16000, sourceSampleRate: 8000, levelDbfs: -40 });
    const noise = fill.process(new Int16Array(16000));
    let sum = 0;
    for (const v of noise) sum += v * v;
    const dbfs = 20 * Math.log10(Math.sqrt(sum / noise.length) / 32768);
    assert.ok(Math.abs(dbfs - -40) < 0.5, `RMS ${dbfs.toFixed(2)} dBFS`);
    const low = [300, 1000, 2000, 3000].map((f) => power(noise, 16000, f));
    const high = [5000, 6000, 7000].map((f) => power(noise, 16000, f));
    const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
    assert.ok(mean(high) > 100 * mean(low), `high band ${mean(high).toFixed(0)} vs low band ${mean(low).toFixed(0)}`);
  });

  test('saturates instead of wrapping, and rejects a source rate that is not narrower', () => {
    const fill = new HighBandFill({ sampleRate: 16000, sourceSampleRate: 8000, levelDbfs: -10 });
    const loud = fill.process(new Int16Array(1000).fill(32767));
    assert.ok(loud.every((v) => v <= 32767 && v > 0));
    assert.throws(() => new HighBandFill({ sampleRate: 16000, sourceSampleRate: 16000 }), RangeError);
  });
});

describe('pocketsphinx telephone profile (narrowband cepstral mean)', () => {
  test('8 kHz mu-law speech is recognised from the first utterance with the telephone profile, not with the wideband one', async () => {
    const line = await telephone(concat(silence(400, 16000), await synthesize('hello, I have been waiting for an hour. I want to speak to your manager', { voice: 'slt', rate: 16000 }), silence(800, 16000)));
    const reference = new Set(['hello', 'i', 'have', 'been', 'waiting', 'for', 'an', 'hour', 'want', 'to', 'speak', 'your', 'manager']);
    const heard = (narrowband: boolean): { text: string; hits: number } => {
      // A fresh engine each: decoders keep adapting their cepstral mean across streams, which would blur the comparison.
      const engine = new PocketsphinxEngine(DEBIAN_MODEL);
      try {
        const recognizer = engine.createRecognizer('en-US', { narrowband });
        const finals = [];
        for (const chunk of chunks(line, 16000, 20)) finals.push(...recognizer.accept(chunk).filter((r) => r.final));
        finals.push(...recognizer.finish());
        recognizer.free();
        const text = finals.map((r) => r.text).join(' ');
        return { text, hits: text.split(' ').filter((w) => reference.has(w)).length };
      } finally {
        engine.free();
      }
    };
    const wideband = heard(false);
    const narrowband = heard(true);
    assert.match(narrowband.text, /waiting for an hour/, `telephone profile heard: ${narrowband.text}`);
    assert.ok(narrowband.hits > wideband.hits + 3, `telephone profile ${narrowband.hits} words right ("${narrowband.text}") vs wideband ${wideband.hits} ("${wideband.text}")`);
  });

  test('the profile folder: the model linked, the telephone mean in feat.params, one per configuration; a malformed mean is refused', () => {
    const engine = new PocketsphinxEngine(DEBIAN_MODEL, { telephoneCmninit: '40.00,30,-30,38,-22,-2,14,-26,17,-8,2,9,-14' });
    engine.createRecognizer('en-US', { narrowband: true }).free();
    const again = new PocketsphinxEngine(DEBIAN_MODEL, { telephoneCmninit: '40.00,30,-30,38,-22,-2,14,-26,17,-8,2,9,-14' });
    again.createRecognizer('en-US', { narrowband: true }).free();
    const dirs = readdirSync(tmpdir())
      .filter((d) => d.startsWith('sgw-ps-telephone-'))
      .filter((d) => readFileSync(join(tmpdir(), d, 'feat.params'), 'utf8').includes('-cmninit 40.00,30,-30'));
    assert.equal(dirs.length, 1, 'both engines share one folder');
    const dir = join(tmpdir(), dirs[0]!);
    assert.equal(readFileSync(join(dir, 'feat.params'), 'utf8').match(/^-cmninit/gm)?.length, 1, 'the model\'s own mean is replaced, not repeated');
    assert.ok(existsSync(join(dir, 'mdef')), 'the model files are linked in');
    engine.free();
    again.free();
    assert.throws(() => new PocketsphinxEngine(DEBIAN_MODEL, { telephoneCmninit: '1,2,3' }), /13 comma-separated numbers/);
  });
});
