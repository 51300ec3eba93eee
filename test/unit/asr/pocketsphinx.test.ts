import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { GatewayError } from '../../../src/errors.js';
import type { RecognitionResult } from '../../../src/asr/types.js';
import type { Recognizer } from '../../../src/asr/engines/Engine.js';
import { PocketsphinxEngine } from '../../../src/asr/engines/pocketsphinx/PocketsphinxEngine.js';
import { DEBIAN_MODEL } from '../../../src/asr/engines/pocketsphinx/paths.js';
import { POCKETSPHINX_AGENT_DEFAULT_ARGS, POCKETSPHINX_DEFAULT_ARGS } from '../../../src/asr/engines/pocketsphinx/args.js';
import { chunks, concat, silence, synthesize } from '../../helpers/speech.js';

const RATE = 16000;

function feed(recognizer: Recognizer, pcm: Int16Array): { results: RecognitionResult[]; ms: number } {
  const results: RecognitionResult[] = [];
  const start = performance.now();
  for (const chunk of chunks(pcm, RATE, 20)) results.push(...recognizer.accept(chunk));
  results.push(...recognizer.finish());
  return { results, ms: performance.now() - start };
}

function assertWordTimings(result: RecognitionResult, audioMs: number): void {
  let previousStart = -1;
  for (const w of result.words) {
    assert.ok(w.startMs >= 0 && w.startMs <= w.endMs && w.endMs <= audioMs, `${w.word} ${w.startMs}-${w.endMs} within 0-${audioMs}`);
    assert.ok(w.startMs >= previousStart, `${w.word} starts after the previous word`);
    assert.doesNotMatch(w.word, /^[<[]|\(\d+\)$/, 'fillers and variant markers are removed');
    previousStart = w.startMs;
  }
}

describe('PocketsphinxEngine', () => {
  let engine: PocketsphinxEngine;
  let utterance: Int16Array;
  let second: Int16Array;

  before(async () => {
    engine = new PocketsphinxEngine(DEBIAN_MODEL);
    utterance = await synthesize('I want to cancel my order', { rate: RATE });
    second = await synthesize('please check my account balance', { rate: RATE });
  });
  after(() => engine.free());

  test('recognises flite speech: partials, then a final with word timings', () => {
    const audio = concat(silence(500, RATE), utterance, silence(1500, RATE));
    const audioMs = (audio.length * 1000) / RATE;
    const recognizer = engine.createRecognizer('en-US');
    const { results, ms } = feed(recognizer, audio);
    recognizer.free();

    const partials = results.filter((r) => !r.final);
    const finals = results.filter((r) => r.final);
    assert.ok(partials.length >= 2, `partials: ${partials.map((p) => p.text).join(' | ')}`);
    assert.equal(finals.length, 1, `finals: ${finals.map((f) => f.text).join(' | ')}`);
    const final = finals[0]!;
    assert.match(final.text, /\bcancel\b/);
    assert.match(final.text, /\border\b/);
    assert.equal(final.utteranceId, 0);
    assert.ok(partials.every((p) => p.utteranceId === final.utteranceId));
    assert.ok(final.words.length >= 4);
    assertWordTimings(final, audioMs);
    // The speech starts after 500 ms of silence.
    assert.ok(final.startMs >= 400 && final.startMs < 1200, `final starts at ${final.startMs}`);
    assert.ok(final.endMs <= audioMs);
    const rtf = ms / audioMs;
    console.log(`pocketsphinx real-time factor (one stream, 20 ms chunks): ${rtf.toFixed(3)}`);
    assert.ok(rtf < 1, `real-time factor ${rtf}`);
  });

  test('continuous recognition: two utterances, ids increase, times on the stream clock', () => {
    const audio = concat(silence(300, RATE), utterance, silence(1500, RATE), second, silence(1500, RATE));
    const audioMs = (audio.length * 1000) / RATE;
    const secondStartMs = 300 + (utterance.length * 1000) / RATE + 1500;
    const recognizer = engine.createRecognizer('en-US');
    const { results } = feed(recognizer, audio);
    recognizer.free();

    const finals = results.filter((r) => r.final);
    assert.deepEqual(finals.map((f) => f.utteranceId), [0, 1], finals.map((f) => f.text).join(' | '));
    const [first, next] = finals as [RecognitionResult, RecognitionResult];
    assert.match(first.text, /cancel/);
    assert.match(next.text, /balance/);
    assert.ok(next.startMs > first.endMs);
    assert.ok(Math.abs(next.startMs - secondStartMs) < 400, `second utterance at ${next.startMs}, expected ~${secondStartMs}`);
    for (const f of finals) assertWordTimings(f, audioMs);
  });

  test('silence produces nothing; finish() on an idle recogniser is empty', () => {
    const recognizer = engine.createRecognizer('en-US');
    const { results } = feed(recognizer, silence(2000, RATE));
    assert.deepEqual(results, []);
    assert.deepEqual(recognizer.finish(), []);
    recognizer.free();
    recognizer.free();
    assert.throws(() => recognizer.accept(silence(20, RATE)), /after free/);
  });

  test('only en-US is supported', () => {
    assert.equal(engine.supports('en-US'), true);
    assert.equal(engine.supports('nl-NL'), false);
    assert.throws(
      () => engine.createRecognizer('nl-NL'),
      (err: unknown) => err instanceof GatewayError && err.code === 'SGW_LANGUAGE_UNSUPPORTED',
    );
  });
});

test('a missing model is SGW_ASR_UNAVAILABLE with an install hint', () => {
  assert.throws(
    () => new PocketsphinxEngine({ ...DEBIAN_MODEL, hmm: '/nonexistent/hmm' }),
    (err: unknown) => err instanceof GatewayError && err.code === 'SGW_ASR_UNAVAILABLE' && /\/nonexistent\/hmm/.test(err.message) && /apt-get install/.test(err.message),
  );
});

test('free() releases live recognisers and the engine refuses new ones', () => {
  const engine = new PocketsphinxEngine(DEBIAN_MODEL, { maxIdleDecoders: 1 });
  const a = engine.createRecognizer('en-US');
  const b = engine.createRecognizer('en-US');
  a.free();
  engine.free();
  engine.free();
  assert.throws(() => b.accept(silence(20, RATE)), /after free/);
  assert.throws(() => engine.createRecognizer('en-US'), (err: unknown) => err instanceof GatewayError);
});

describe('every stream starts from the same decoder state', () => {
  // One idle decoder, so every stream below runs on the very decoder the one before it used.
  let engine: PocketsphinxEngine;
  let probe: Int16Array;
  let tone: Int16Array;
  let otherSpeech: Int16Array;

  before(async () => {
    engine = new PocketsphinxEngine(DEBIAN_MODEL, { maxIdleDecoders: 1 });
    probe = concat(
      silence(300, RATE),
      await synthesize('Hello. I want to file a complaint about my order.', { rate: RATE }),
      silence(1000, RATE),
      await synthesize('Please cancel my order, it has not arrived.', { rate: RATE }),
      silence(1500, RATE),
    );
    // Hold music at its simplest: 20 s of a loud 1 kHz tone, which drags the live cepstral mean far off.
    tone = new Int16Array(RATE * 20).map((_, i) => Math.round(8000 * Math.sin((2 * Math.PI * 1000 * i) / RATE)));
    otherSpeech = concat(await synthesize('My name is John and I live in a big house by the sea with three dogs.', { rate: RATE, voice: 'awb' }), silence(800, RATE));
  });
  after(() => engine.free());

  const finals = (pcm: Int16Array, narrowband = false): string => {
    const recognizer = engine.createRecognizer('en-US', { narrowband });
    const text = feed(recognizer, pcm)
      .results.filter((r) => r.final)
      .map((r) => r.text)
      .join(' | ');
    recognizer.free();
    return text;
  };
  const spots = (pcm: Int16Array): string => {
    const spotter = engine.createSpotter('en-US', ['file a complaint', 'cancel my order']);
    const hits: string[] = [];
    for (const chunk of chunks(pcm, RATE, 20)) hits.push(...spotter.accept(chunk).map((h) => `${h.phrase}@${h.startMs}`));
    hits.push(...spotter.finish().map((h) => `${h.phrase}@${h.startMs}`));
    spotter.free();
    return hits.join(', ');
  };

  test('the same audio gives the same transcript after a tone-only call and after other speech', () => {
    for (const narrowband of [false, true]) {
      const fresh = finals(probe, narrowband);
      // Wideband hears it right; the telephone profile on wideband audio garbles some of it, which is fine here.
      assert.match(fresh, narrowband ? /cancel my order/ : /file a complaint/);
      finals(tone, narrowband);
      assert.equal(finals(probe, narrowband), fresh, `after a tone (narrowband ${narrowband})`);
      finals(otherSpeech, narrowband);
      assert.equal(finals(probe, narrowband), fresh, `after other speech (narrowband ${narrowband})`);
      finals(tone, narrowband);
      finals(tone, narrowband);
      assert.equal(finals(probe, narrowband), fresh, `after two tones (narrowband ${narrowband})`);
    }
  });

  test('a reused spotter hears the same phrases at the same times after a tone', () => {
    const fresh = spots(probe);
    assert.match(fresh, /cancel my order/);
    spots(tone);
    assert.equal(spots(probe), fresh);
    spots(otherSpeech);
    assert.equal(spots(probe), fresh);
  });
});

test('N-best: a final carries up to the asked number of distinct lower hypotheses, timed like the best', async () => {
  const engine = new PocketsphinxEngine(DEBIAN_MODEL);
  try {
    const audio = concat(silence(300, RATE), await synthesize('I want to file a complaint about the delivery.', { rate: RATE, voice: 'rms' }), silence(1200, RATE));
    const audioMs = (audio.length * 1000) / RATE;
    const withAlternatives = engine.createRecognizer('en-US', { alternatives: 3 });
    const finals = feed(withAlternatives, audio).results.filter((r) => r.final);
    withAlternatives.free();
    assert.equal(finals.length, 1);
    const final = finals[0]!;
    const alternatives = final.alternatives ?? [];
    assert.ok(alternatives.length >= 1 && alternatives.length <= 3, `alternatives: ${alternatives.map((a) => a.text).join(' | ')}`);
    const texts = new Set([final.text, ...alternatives.map((a) => a.text)]);
    assert.equal(texts.size, alternatives.length + 1, 'no repeats, and none the same as the best');
    for (const alternative of alternatives) assertWordTimings({ ...final, text: alternative.text, words: alternative.words }, audioMs);
    const plain = engine.createRecognizer('en-US');
    const without = feed(plain, audio).results.filter((r) => r.final);
    plain.free();
    assert.equal(without[0]?.alternatives, undefined, 'none unless asked for');
    assert.equal(without[0]?.text, final.text, 'asking for alternatives does not change the best');
  } finally {
    engine.free();
  }
});

test("vocabulary: recognisers search only the language model's N most probable words", async () => {
  // Ranks by unigram in the Debian en-US model: "cancel" 5162, "order" 581, "supervisor" 8043.
  const full = new PocketsphinxEngine(DEBIAN_MODEL, { maxIdleDecoders: 0 });
  const small = new PocketsphinxEngine(DEBIAN_MODEL, { maxIdleDecoders: 0, vocabulary: 6000 });
  try {
    const transcript = (engine: PocketsphinxEngine, pcm: Int16Array): string => {
      const recognizer = engine.createRecognizer('en-US');
      const text = feed(recognizer, pcm)
        .results.filter((r) => r.final)
        .map((r) => r.text)
        .join(' ');
      recognizer.free();
      return text;
    };
    const common = concat(silence(300, RATE), await synthesize('I want to cancel my order', { rate: RATE }), silence(1200, RATE));
    const rare = concat(silence(300, RATE), await synthesize('I want to speak to a supervisor', { rate: RATE }), silence(1200, RATE));
    assert.match(transcript(small, common), /cancel my order/);
    assert.match(transcript(full, rare), /\bsupervisor\b/, 'the whole model hears the word');
    assert.doesNotMatch(transcript(small, rare), /\bsupervisor\b/, 'outside the 6000 words it cannot be heard');
  } finally {
    full.free();
    small.free();
  }
  assert.throws(() => new PocketsphinxEngine(DEBIAN_MODEL, { vocabulary: 0 }), RangeError);
  assert.throws(() => new PocketsphinxEngine(DEBIAN_MODEL, { vocabulary: 1.5 }), RangeError);
});

test('N-best works with the one-pass search (-fwdflat no) too: the agent legs\' default, an option for the others', async () => {
  const audio = concat(silence(300, RATE), await synthesize('I want to cancel my order', { rate: RATE }), silence(1200, RATE));
  for (const [name, args] of [['POCKETSPHINX_ARGS + -fwdflat no', [...POCKETSPHINX_DEFAULT_ARGS, '-fwdflat', 'no']], ['POCKETSPHINX_AGENT_ARGS', POCKETSPHINX_AGENT_DEFAULT_ARGS]] as const) {
    assert.ok(args.join(' ').includes('-fwdflat no'), name);
    const engine = new PocketsphinxEngine(DEBIAN_MODEL, { extraArgs: args });
    try {
      const recognizer = engine.createRecognizer('en-US', { alternatives: 3 });
      const finals = feed(recognizer, audio).results.filter((r) => r.final);
      recognizer.free();
      assert.equal(finals.length, 1, name);
      assert.match(finals[0]!.text, /cancel my order/, name);
      const alternatives = finals[0]!.alternatives ?? [];
      assert.ok(alternatives.length >= 1, `${name}: alternatives ${alternatives.map((a) => a.text).join(' | ')}`);
      assert.equal(new Set([finals[0]!.text, ...alternatives.map((a) => a.text)]).size, alternatives.length + 1, `${name}: distinct`);
    } finally {
      engine.free();
    }
  }
});

test('record-only recognisers (agent legs) get the record flags and vocabulary, in decoders pooled apart from the full ones', async () => {
  const audio = concat(silence(300, RATE), await synthesize('I want to cancel my order', { rate: RATE }), silence(1200, RATE));
  const transcript = (engine: PocketsphinxEngine, recordOnly: boolean): string => {
    const recognizer = engine.createRecognizer('en-US', { recordOnly });
    const text = feed(recognizer, audio)
      .results.filter((r) => r.final)
      .map((r) => r.text)
      .join(' ');
    recognizer.free();
    return text;
  };
  // Five active HMMs per frame cannot follow the sentence: the flags show in the words.
  const engine = new PocketsphinxEngine(DEBIAN_MODEL, { recordArgs: ['-maxhmmpf', '5'] });
  try {
    for (let round = 0; round < 2; round++) {
      // The second round reuses both pools' decoders: each kind stays with its own flags.
      assert.match(transcript(engine, false), /cancel my order/, `full search, round ${round}`);
      assert.doesNotMatch(transcript(engine, true), /cancel my order/, `record flags, round ${round}`);
    }
  } finally {
    engine.free();
  }
  // Ranks by unigram in the Debian en-US model: "cancel" 5162, "supervisor" 8043.
  const rare = concat(silence(300, RATE), await synthesize('I want to speak to a supervisor', { rate: RATE }), silence(1200, RATE));
  const small = new PocketsphinxEngine(DEBIAN_MODEL, { recordArgs: [], recordVocabulary: 6000 });
  try {
    const heard = (recordOnly: boolean): string => {
      const recognizer = small.createRecognizer('en-US', { recordOnly });
      const text = feed(recognizer, rare).results.filter((r) => r.final).map((r) => r.text).join(' ');
      recognizer.free();
      return text;
    };
    assert.match(heard(false), /\bsupervisor\b/, 'the full vocabulary hears the word');
    assert.doesNotMatch(heard(true), /\bsupervisor\b/, 'the record-only vocabulary of 6000 words cannot');
    assert.match(transcript(small, true), /cancel my order/);
  } finally {
    small.free();
  }
  assert.throws(() => new PocketsphinxEngine(DEBIAN_MODEL, { recordVocabulary: 0 }), RangeError);
  const shared = new PocketsphinxEngine(DEBIAN_MODEL);
  try {
    assert.match(transcript(shared, true), /cancel my order/, 'without record flags a record-only stream is searched as any other');
  } finally {
    shared.free();
  }
});
