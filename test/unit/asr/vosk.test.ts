import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GatewayError } from '../../../src/errors.js';
import type { RecognitionResult, SpotHit } from '../../../src/asr/types.js';
import { VoskEngine, parseVoskResult } from '../../../src/asr/engines/vosk/VoskEngine.js';
import { chunks, concat, silence, synthesize } from '../../helpers/speech.js';

function isUnavailableNaming(path: string) {
  return (err: unknown): boolean =>
    err instanceof GatewayError &&
    err.code === 'SGW_ASR_UNAVAILABLE' &&
    err.message.includes(path) &&
    err.message.includes('https://alphacephei.com/vosk/models') &&
    err.message.includes('VOSK_MODEL=');
}

test('a non-existent model path is SGW_ASR_UNAVAILABLE naming the path', () => {
  const path = '/nonexistent/vosk-model-small-en-us-0.15';
  assert.throws(() => new VoskEngine({ 'en-US': path }), isUnavailableNaming(path));
});

test('an empty directory is rejected by libvosk (NULL model) without crashing the process', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'sgw-vosk-empty-'));
  try {
    assert.throws(() => new VoskEngine({ 'en-US': dir }), isUnavailableNaming(dir));
    // Still alive and able to try again.
    assert.throws(() => new VoskEngine({ 'nl-NL': dir }), isUnavailableNaming(dir));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('no configured model is SGW_ASR_UNAVAILABLE', () => {
  assert.throws(() => new VoskEngine({}), (err: unknown) => err instanceof GatewayError && err.code === 'SGW_ASR_UNAVAILABLE');
  assert.throws(() => new VoskEngine({ 'en-US': '' }), (err: unknown) => err instanceof GatewayError && err.code === 'SGW_ASR_UNAVAILABLE');
});

test('parses Vosk final and partial JSON into text and word timings', () => {
  const final = parseVoskResult(
    '{"result":[{"conf":0.98,"end":1.02,"start":0.5,"word":"cancel"},{"conf":1.0,"end":1.5,"start":1.02,"word":"order"}],"text":"cancel order"}',
  );
  assert.equal(final.text, 'cancel order');
  assert.deepEqual(final.words, [
    { word: 'cancel', startMs: 500, endMs: 1020, confidence: 0.98 },
    { word: 'order', startMs: 1020, endMs: 1500, confidence: 1 },
  ]);
  const partial = parseVoskResult('{"partial":"cancel my","partial_result":[{"conf":1,"end":0.9,"start":0.5,"word":"cancel"}]}');
  assert.equal(partial.text, 'cancel my');
  assert.equal(partial.words.length, 1);
  assert.deepEqual(parseVoskResult('{"text":""}'), { text: '', words: [], alternatives: [] });
  assert.deepEqual(parseVoskResult('not json'), { text: '', words: [], alternatives: [] });
  assert.deepEqual(parseVoskResult('{"result":[{"word":1}],"text":5}'), { text: '', words: [], alternatives: [] });
});

test('parses a Vosk final with alternatives (max_alternatives): the first is the best, repeats dropped', () => {
  const parsed = parseVoskResult(
    JSON.stringify({
      alternatives: [
        { confidence: 210.5, result: [{ start: 0.5, end: 0.9, word: 'file' }, { start: 0.9, end: 1.0, word: 'a' }, { start: 1.0, end: 1.6, word: 'compliant' }], text: 'file a compliant' },
        { confidence: 205.1, result: [{ start: 0.5, end: 0.9, word: 'file' }, { start: 0.9, end: 1.0, word: 'a' }, { start: 1.0, end: 1.6, word: 'complaint' }], text: 'file a complaint' },
        { confidence: 201.0, result: [], text: 'file a compliant' },
        'garbage',
      ],
    }),
  );
  assert.equal(parsed.text, 'file a compliant');
  assert.equal(parsed.words.length, 3);
  assert.deepEqual(parsed.alternatives.map((a) => a.text), ['file a complaint']);
  assert.deepEqual(parsed.alternatives[0]?.words[2], { word: 'complaint', startMs: 1000, endMs: 1600 });
});

const model = process.env['VOSK_MODEL'];
test('full recognition with a real model', model ? {} : { skip: 'VOSK_MODEL not set' }, async () => {
  const engine = new VoskEngine({ 'en-US': model ?? '' });
  try {
    const recognizer = engine.createRecognizer('en-US');
    const rate = recognizer.sampleRate;
    const audio = concat(silence(500, rate), await synthesize('I want to cancel my order', { rate }), silence(1500, rate));
    const audioMs = (audio.length * 1000) / rate;
    const results: RecognitionResult[] = [];
    for (const chunk of chunks(audio, rate, 20)) results.push(...recognizer.accept(chunk));
    results.push(...recognizer.finish());
    recognizer.free();

    const finals = results.filter((r) => r.final);
    assert.ok(results.some((r) => !r.final), 'partials while speaking');
    assert.ok(finals.length >= 1);
    const text = finals.map((f) => f.text).join(' ');
    assert.match(text, /cancel/);
    assert.match(text, /order/);
    for (const f of finals) {
      let previous = -1;
      for (const w of f.words) {
        assert.ok(w.startMs >= previous && w.startMs <= w.endMs && w.endMs <= audioMs);
        previous = w.startMs;
      }
    }
  } finally {
    engine.free();
  }
});

test('phrase spotting with a grammar recogniser and a real model', model ? {} : { skip: 'VOSK_MODEL not set' }, async () => {
  const engine = new VoskEngine({ 'en-US': model ?? '' });
  try {
    const spotter = engine.createSpotter('en-US', ['cancel my order', 'speak to your manager']);
    const rate = spotter.sampleRate;
    const audio = concat(silence(500, rate), await synthesize('hello I want to cancel my order today', { rate }), silence(1500, rate));
    const hits: SpotHit[] = [];
    for (const chunk of chunks(audio, rate, 20)) hits.push(...spotter.accept(chunk));
    hits.push(...spotter.finish());
    spotter.free();
    assert.deepEqual(hits.map((h) => h.phrase), ['cancel my order'], 'reported once, though partials and the final repeat it');
    assert.ok(hits[0]!.startMs > 500 && hits[0]!.endMs <= (audio.length * 1000) / rate);
    assert.throws(() => engine.createSpotter('en-US', ['  ']), /no spotting phrases/);
  } finally {
    engine.free();
  }
});
