import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, test } from 'node:test';
import { GrammarError, GrammarSet } from '../../../src/analytics/grammar/GrammarSet.js';
import { PhraseSyntaxError, expandPhrase, tokenize } from '../../../src/analytics/grammar/phrase.js';
import { IntentMatcher, UtteranceIntentTracker } from '../../../src/analytics/intents/IntentMatcher.js';
import type { RecognitionResult } from '../../../src/asr/types.js';
import { PACKAGE_ROOT } from '../../../src/config.js';

describe('phrase patterns', () => {
  test('alternatives and optional groups expand to every accepted sequence', () => {
    assert.deepEqual(expandPhrase('cancel (my | the) order').map((s) => s.join(' ')), ['cancel my order', 'cancel the order']);
    assert.deepEqual(expandPhrase('[please] cancel').map((s) => s.join(' ')), ['please cancel', 'cancel']);
    assert.deepEqual(expandPhrase('(i | we) (want | would like) to go').length, 4);
    assert.deepEqual(expandPhrase('a [b [c]] d').map((s) => s.join(' ')), ['a b c d', 'a b d', 'a d']);
    assert.deepEqual(expandPhrase('Waar BLIJFT mijn bestelling').map((s) => s.join(' ')), ['waar blijft mijn bestelling']);
  });

  test('syntax errors name the problem and the column', () => {
    const cases: [string, RegExp, number][] = [
      ['cancel (my order', /missing '\)'/, 17],
      ['cancel my) order', /unexpected '\)'/, 10],
      ['cancel (my ] order', /expected '\)' but found '\]'/, 12],
      ['cancel ( | my) order', /empty alternative/, 10],
      ['[optional]', /empty string/, 1],
      ['cancel $ order', /unexpected character '\$'/, 8],
    ];
    for (const [pattern, message, column] of cases) {
      assert.throws(
        () => expandPhrase(pattern),
        (err: unknown) => err instanceof PhraseSyntaxError && message.test(err.message) && err.column + 1 === column,
        pattern,
      );
    }
  });

  test('a pattern that explodes is refused at load time', () => {
    const huge = Array.from({ length: 13 }, () => '(a | b)').join(' ');
    assert.throws(() => expandPhrase(huge), /more than 4096/);
  });

  test('tokenize lower-cases and drops punctuation but keeps Dutch letters and contractions', () => {
    assert.deepEqual(tokenize("Where's my order?! It's LATE."), ["where's", 'my', 'order', "it's", 'late']);
    assert.deepEqual(tokenize('Ik wil één ticket, graag.'), ['ik', 'wil', 'één', 'ticket', 'graag']);
  });
});

describe('grammar files', () => {
  test('the shipped en-US and nl-NL grammars load and define cancel_order and order_status', async () => {
    const set = await GrammarSet.load(path.join(PACKAGE_ROOT, 'grammars'));
    for (const language of ['en-US', 'nl-NL'] as const) {
      const ids = set.intents(language).map((i) => i.id);
      assert.ok(ids.includes('cancel_order') && ids.includes('order_status'), `${language}: ${ids.join(', ')}`);
    }
  });

  test('broken files report every problem with file and line', () => {
    const text = [
      'intents:', //                       1
      '  - id: Bad-Id', //                  2
      '    phrases: [cancel order]', //     3
      '  - id: ok_one', //                  4
      '    speaker: robot', //              5
      '    phrases:', //                    6
      '      - cancel (my order', //        7
      '  - id: no_phrases', //              8
      '    colour: blue', //                9
    ].join('\n');
    assert.throws(
      () => GrammarSet.fromSources([{ file: 'grammars/en-US/bad.yaml', language: 'en-US', text }]),
      (err: unknown) => {
        assert.ok(err instanceof GrammarError);
        const lines = err.problems.map((p) => `${p.file}:${p.line}: ${p.message}`);
        assert.ok(lines.some((l) => /bad\.yaml:2: "id" must match/.test(l)), lines.join('\n'));
        assert.ok(lines.some((l) => /bad\.yaml:5: "speaker" must be one of customer, agent, either/.test(l)), lines.join('\n'));
        assert.ok(lines.some((l) => /bad\.yaml:7: phrase "cancel \(my order": missing '\)'/.test(l)), lines.join('\n'));
        assert.ok(lines.some((l) => /bad\.yaml:9: unknown key 'colour'/.test(l)), lines.join('\n'));
        assert.ok(lines.some((l) => /bad\.yaml:8: "phrases" must be a non-empty list/.test(l)), lines.join('\n'));
        assert.match(err.message, /invalid grammar/);
        return true;
      },
    );
  });

  test('YAML syntax errors and duplicate ids are located', () => {
    assert.throws(
      () => GrammarSet.fromSources([{ file: 'x.yaml', language: 'en-US', text: 'intents:\n  - id: a\n    phrases: [unclosed\n' }]),
      (err: unknown) => err instanceof GrammarError && err.problems[0]?.file === 'x.yaml' && /Flow sequence/.test(err.problems[0].message),
    );
    const twice = 'intents:\n  - id: a\n    phrases: [x]\n  - id: a\n    phrases: [y]\n';
    assert.throws(() => GrammarSet.fromSources([{ file: 'x.yaml', language: 'en-US', text: twice }]), /x\.yaml:4: intent 'a' is already defined at x\.yaml:2/);
    // The same id in two languages is fine.
    GrammarSet.fromSources([
      { file: 'en.yaml', language: 'en-US', text: 'intents:\n  - id: a\n    phrases: [x]\n' },
      { file: 'nl.yaml', language: 'nl-NL', text: 'intents:\n  - id: a\n    phrases: [x]\n' },
    ]);
    assert.throws(() => GrammarSet.fromSources([{ file: 'x.yaml', language: 'en-US', text: 'intents: 3\n' }]), /x\.yaml:1: "intents" must be a list/);
  });
});

const grammar = GrammarSet.fromSources([
  {
    file: 'test.yaml',
    language: 'en-US',
    text: `
intents:
  - id: cancel_order
    phrases: ["cancel (my | the) order", "i want to cancel"]
  - id: order_status
    phrases: ["where is my (order | package)"]
  - id: agent_offer
    speaker: agent
    phrases: ["would you like"]
  - id: anyone_manager
    speaker: either
    phrases: ["manager"]
`,
  },
]);
const matcher = new IntentMatcher(grammar.intents('en-US'));

const result = (utteranceId: number, text: string, final: boolean, words = true): RecognitionResult => {
  const tokens = text.split(' ');
  return {
    final,
    utteranceId,
    text,
    startMs: 1000,
    endMs: 1000 + tokens.length * 300,
    words: words ? tokens.map((word, i) => ({ word, startMs: 1000 + i * 300, endMs: 1000 + (i + 1) * 300, confidence: 0.8 })) : [],
  };
};

describe('intent matcher', () => {
  test('finds phrases in a transcript with the matched words and their times', () => {
    const matches = matcher.match(
      result(1, 'hello i want to cancel my order please', true).words.map((w) => ({ text: w.word, startMs: w.startMs, endMs: w.endMs, confidence: w.confidence })),
      'customer',
    );
    assert.equal(matches.length, 1);
    assert.equal(matches[0]?.intent.id, 'cancel_order');
    // Earliest start wins ("i want to cancel"), extended as far as it matches from there.
    assert.equal(matches[0]?.text, 'i want to cancel');
    assert.equal(matches[0]?.startMs, 1300);
    assert.equal(matches[0]?.endMs, 2500);
    assert.equal(matches[0]?.confidence, 0.8);
  });

  test('does not match across missing words, near-misses or partial phrases', () => {
    const tokens = (text: string) => text.split(' ').map((t) => ({ text: t, startMs: 0, endMs: 0, confidence: undefined }));
    assert.deepEqual(matcher.match(tokens('cancel your order'), 'customer'), []);
    assert.deepEqual(matcher.match(tokens('where is my'), 'customer'), []);
    assert.deepEqual(matcher.match(tokens('cancelled my order'), 'customer'), []);
  });

  test('who may say it: customer intents ignore the agent, agent intents the customer, either both', () => {
    const tokens = (text: string) => text.split(' ').map((t) => ({ text: t, startMs: 0, endMs: 0, confidence: undefined }));
    assert.deepEqual(matcher.match(tokens('shall i cancel the order'), 'agent').map((m) => m.intent.id), []);
    assert.deepEqual(matcher.match(tokens('would you like a refund'), 'agent').map((m) => m.intent.id), ['agent_offer']);
    assert.deepEqual(matcher.match(tokens('would you like a refund'), 'customer').map((m) => m.intent.id), []);
    assert.deepEqual(matcher.match(tokens('get me a manager'), 'customer').map((m) => m.intent.id), ['anyone_manager']);
    assert.deepEqual(matcher.match(tokens('get me a manager'), 'agent').map((m) => m.intent.id), ['anyone_manager']);
  });

  test('fires once per utterance across partials and the final, again in the next utterance', () => {
    const tracker = new UtteranceIntentTracker(matcher, 'customer');
    assert.deepEqual(tracker.onResult(result(1, 'i want', false, false)), []);
    assert.deepEqual(tracker.onResult(result(1, 'i want to cancel', false, false)).map((m) => m.intent.id), ['cancel_order']);
    assert.deepEqual(tracker.onResult(result(1, 'i want to cancel my order', false, false)), []);
    assert.deepEqual(tracker.onResult(result(1, 'i want to cancel my order where is my package', true)).map((m) => m.intent.id), ['order_status']);
    assert.deepEqual(tracker.onResult(result(2, 'cancel the order', true)).map((m) => m.intent.id), ['cancel_order']);
  });

  test('without word times an intent takes the utterance span and confidence 1', () => {
    const tracker = new UtteranceIntentTracker(matcher, 'customer');
    const [match] = tracker.onResult(result(1, 'where is my order', false, false));
    assert.equal(match?.startMs, 1000);
    assert.equal(match?.endMs, 2200);
    assert.equal(match?.confidence, 1);
  });

  test('Dutch grammar: natural phrasings match', async () => {
    const set = await GrammarSet.load(path.join(PACKAGE_ROOT, 'grammars'));
    const nl = new IntentMatcher(set.intents('nl-NL'));
    const ids = (text: string) => nl.match(tokenize(text).map((t) => ({ text: t, startMs: 0, endMs: 0, confidence: undefined })), 'customer').map((m) => m.intent.id);
    assert.deepEqual(ids('Waar blijft mijn bestelling?'), ['order_status']);
    assert.deepEqual(ids('Ik wil mijn abonnement opzeggen'), ['cancel_order']);
    assert.deepEqual(ids('Ik wil mijn bestelling graag annuleren'), ['cancel_order']);
    assert.deepEqual(ids('Mijn pakket is nog steeds niet aangekomen'), ['order_status']);
    assert.deepEqual(ids('Ik heb een vraag over mijn factuur'), []);
  });
});
