import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { GrammarSet } from '../../../src/analytics/grammar/GrammarSet.js';
import { tokenize } from '../../../src/analytics/grammar/phrase.js';
import { IntentMatcher, UtteranceIntentTracker, type TimedToken } from '../../../src/analytics/intents/IntentMatcher.js';
import { PhoneticLexicon } from '../../../src/analytics/phonetic/PhoneticLexicon.js';
import { PhoneticMatcher, editDistance } from '../../../src/analytics/phonetic/PhoneticMatcher.js';
import { fromArpabet, fromIpa } from '../../../src/analytics/phonetic/phonemes.js';
import { DEBIAN_MODEL } from '../../../src/asr/engines/pocketsphinx/paths.js';
import type { RecognitionResult } from '../../../src/asr/types.js';

const en = PhoneticLexicon.load('en-US', { dictionary: DEBIAN_MODEL.dict });
const nl = PhoneticLexicon.load('nl-NL');

const timed = (text: string): TimedToken[] => tokenize(text).map((t, i) => ({ text: t, startMs: i * 300, endMs: (i + 1) * 300, confidence: undefined }));

const grammar = GrammarSet.fromSources([
  {
    file: 'en.yaml',
    language: 'en-US',
    text: `intents:
  - id: complaint
    phrases: ["(file | make) a complaint", "i want to complain"]
    spot: [file a complaint, make a complaint]
  - id: repeat_contact
    kind: escalation
    phrases: ["this is the (second | third) time"]
    spot: [this is the third time]
  - id: cancel_order
    phrases: ["cancel my order"]
    spot: [cancel my order]
`,
  },
  {
    file: 'nl.yaml',
    language: 'nl-NL',
    text: `intents:
  - id: complaint
    phrases: ["(een | mijn) klacht indienen"]
    spot: [een klacht indienen]
  - id: churn
    phrases: ["mijn abonnement opzeggen"]
    spot: [mijn abonnement opzeggen]
    unless: ["abonnement omzetten"]
`,
  },
]);

describe('phonemes', () => {
  test('ARPAbet maps onto the IPA symbols espeak-ng uses; an unknown symbol is no pronunciation', () => {
    assert.deepEqual(fromArpabet('K AH0 M P L EY1 N T'), ['k', 'ə', 'm', 'p', 'l', 'e', 'ɪ', 'n', 't']);
    assert.equal(fromArpabet('K XX T'), undefined);
  });

  test('IPA is split into phonemes without stress and length marks; modifiers stay on their phoneme', () => {
    assert.deepEqual(fromIpa('kəmplˈeɪnt'), ['k', 'ə', 'm', 'p', 'l', 'e', 'ɪ', 'n', 't']);
    assert.deepEqual(fromIpa('ˌaːbɔ'), ['a', 'b', 'ɔ']);
    assert.deepEqual(fromIpa('tʰa'), ['tʰ', 'a']);
  });

  test('edit distance: 0 for the same, vowel for vowel cheaper than consonant for vowel', () => {
    assert.equal(editDistance(['k', 'æ', 't'], ['k', 'æ', 't']), 0);
    assert.ok(editDistance(['k', 'æ', 't'], ['k', 'ɛ', 't']) < editDistance(['k', 'æ', 't'], ['k', 's', 't']));
    assert.equal(editDistance([], ['a', 'b']), editDistance(['a', 'b'], []));
  });
});

describe('PhoneticMatcher', () => {
  assert.ok(en !== undefined && nl !== undefined, 'the pocketsphinx dictionary and espeak-ng are installed by .ci/setup');
  const phrases = [
    ['file', 'a', 'complaint'],
    ['this', 'is', 'the', 'third', 'time'],
    ['cancel', 'my', 'order'],
  ];
  const matcher = new PhoneticMatcher(en, phrases, { language: 'en-US', threshold: 0.25, groupThreshold: 0.35 });
  const found = (text: string): string[] => matcher.find(tokenize(text)).map((c) => c.words.join(' '));

  test('finds a phrase heard as other words, also cut differently ("can plane" for "complaint")', () => {
    assert.deepEqual(found('i want to file a compliant'), ['file a complaint']);
    assert.deepEqual(found('i want to file a can plane'), ['file a complaint']);
    assert.deepEqual(found('please can sell my order'), ['cancel my order']);
  });

  test('a phrase spelled right is left to the ordinary matcher', () => {
    assert.deepEqual(found('i want to file a complaint'), []);
  });

  test('a wrong word is not carried by the words around it: "first" is not "third"', () => {
    assert.deepEqual(found('this is the first time i call'), []);
  });

  test('never through a negator or another form of the word', () => {
    assert.deepEqual(found('please do not cancel my order'), []);
    assert.deepEqual(found('you cancelled my order'), []);
    // "refund if": the word was heard right, the next one is another word.
    const refund = new PhoneticMatcher(en, [['get', 'a', 'refund']], { language: 'en-US', threshold: 0.25, groupThreshold: 0.35 });
    assert.deepEqual(refund.find(tokenize('would i get a refund if it does not fit')), []);
  });

  test('Dutch through espeak-ng: "klap" for "klacht"', () => {
    const dutch = new PhoneticMatcher(nl, [['een', 'klacht', 'indienen']], { language: 'nl-NL', threshold: 0.25, groupThreshold: 0.35 });
    assert.deepEqual(
      dutch.find(tokenize('ik wil een klap indienen')).map((c) => c.words.join(' ')),
      ['een klacht indienen'],
    );
  });
});

describe('IntentMatcher with phonetic matching', () => {
  const matcher = (language: 'en-US' | 'nl-NL'): IntentMatcher => {
    const phonetic = language === 'en-US' ? en : nl;
    assert.ok(phonetic !== undefined);
    return new IntentMatcher(grammar.intents(language), { language, phonetic });
  };

  test('a misheard key phrase raises its intent with evidence phonetic, a lower confidence and the words as heard', () => {
    const [match, ...rest] = matcher('en-US').match(timed('hello i want to file a can plane'), 'customer');
    assert.equal(rest.length, 0);
    assert.equal(match?.intent.id, 'complaint');
    assert.equal(match?.evidence, 'phonetic');
    assert.equal(match?.text, 'file a can plane');
    assert.ok(match !== undefined && match.confidence < 1 && match.confidence > 0.5, `confidence ${match?.confidence}`);
  });

  test('the context rules still apply: negated, hypothetical, or the wrong speaker', () => {
    const m = matcher('en-US');
    assert.equal(m.match(timed('i want to file a can plane'), 'customer').length, 1);
    assert.deepEqual(m.match(timed("i don't want to file a can plane"), 'customer'), []);
    assert.deepEqual(m.match(timed('if i file a can plane will it help'), 'customer'), []);
    assert.deepEqual(m.match(timed('would you like to file a can plane'), 'agent'), []);
  });

  test('partial hypotheses are matched by spelling only; the final by sound too', () => {
    const m = matcher('en-US');
    assert.deepEqual(m.match(timed('i want to file a can plane'), 'customer', { final: false }), []);
    assert.equal(m.match(timed('i want to file a can plane'), 'customer', { final: true }).length, 1);
  });

  test('an exclusion applies to the words heard, not to the phrase they sound like', () => {
    assert.deepEqual(matcher('nl-NL').match(timed('ik wil mijn abonnement omzetten naar een goedkoper pakket'), 'customer'), []);
  });

  test('Dutch', () => {
    assert.deepEqual(
      matcher('nl-NL').match(timed('ik wil een klap indienen over de bezorger'), 'customer').map((x) => [x.intent.id, x.evidence]),
      [['complaint', 'phonetic']],
    );
  });
});

describe('N-best alternatives', () => {
  const m = new IntentMatcher(grammar.intents('en-US'), { language: 'en-US' });
  const words = (text: string, from = 0): RecognitionResult['words'] => text.split(' ').map((word, i) => ({ word, startMs: from + i * 300, endMs: from + (i + 1) * 300 }));
  const final = (text: string, alternatives: string[]): RecognitionResult => ({
    final: true,
    utteranceId: 0,
    text,
    startMs: 0,
    endMs: text.split(' ').length * 300,
    words: words(text),
    alternatives: alternatives.map((a) => ({ text: a, words: words(a) })),
  });

  test('an intent only in a lower hypothesis is found, with its rank and a confidence that falls with it', () => {
    const tracker = new UtteranceIntentTracker(m, 'customer');
    const found = tracker.onResult(final('i want to fill a comb plate', ['i want to fill a complaint', 'i want a file a complaint', 'i want to file a complaint']));
    assert.equal(found.length, 1);
    assert.equal(found[0]?.intent.id, 'complaint');
    assert.equal(found[0]?.evidence, 'alternative');
    assert.equal(found[0]?.alternative, 2);
    const deeper = new UtteranceIntentTracker(m, 'customer').onResult(final('i want to fill a comb plate', ['i want to fill a complaint', 'i want a fell a complaint', 'i want to fill a comb plane', 'i want to file a complaint']));
    assert.equal(deeper[0]?.alternative, 4);
    assert.ok((deeper[0]?.confidence ?? 1) < (found[0]?.confidence ?? 0));
  });

  test('the best hypothesis wins when it has the intent; the alternatives obey negation too', () => {
    const tracker = new UtteranceIntentTracker(m, 'customer');
    const found = tracker.onResult(final('i want to make a complaint', ['i want to file a complaint']));
    assert.deepEqual(found.map((x) => [x.intent.id, x.evidence]), [['complaint', 'exact']]);
    assert.deepEqual(new UtteranceIntentTracker(m, 'customer').onResult(final('i do not want to fill a comb plate', ["i don't want to file a complaint"])), []);
  });

  test('words the best hypothesis read as one intent are not read as another from a lower one', () => {
    const both = new IntentMatcher(
      GrammarSet.fromSources([{ file: 'a.yaml', language: 'en-US', text: 'intents:\n  - id: cancel_order\n    phrases: [cancel my order]\n  - id: close_account\n    phrases: [cancel my account]\n' }]).intents('en-US'),
      { language: 'en-US' },
    );
    const found = new UtteranceIntentTracker(both, 'customer').onResult(final('i would like to cancel my order', ['i would like to cancel my account']));
    assert.deepEqual(found.map((x) => x.intent.id), ['cancel_order']);
    // Elsewhere in the utterance a lower hypothesis still counts.
    const elsewhere = new UtteranceIntentTracker(both, 'customer').onResult(final('cancel my order and can sell my a count', ['cancel my order and cancel my account']));
    assert.deepEqual(elsewhere.map((x) => [x.intent.id, x.evidence]), [['cancel_order', 'exact'], ['close_account', 'alternative']]);
  });

  test('alternatives of partials are ignored (engines give them on finals only)', () => {
    const tracker = new UtteranceIntentTracker(m, 'customer');
    assert.deepEqual(tracker.onResult({ ...final('i want to fill a comb', ['i want to file a complaint']), final: false }), []);
  });
});
