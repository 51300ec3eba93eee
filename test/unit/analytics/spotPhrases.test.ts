import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { GrammarError, GrammarSet } from '../../../src/analytics/grammar/GrammarSet.js';
import { compileSpotPhrases } from '../../../src/analytics/grammar/spotPhrases.js';

const set = (text: string): GrammarSet => GrammarSet.fromSources([{ file: 'test.yaml', language: 'en-US', text }]);

describe('compileSpotPhrases', () => {
  test('an intent with a spot list gives exactly that list', () => {
    const g = set(`intents:
  - id: cancel_order
    spot:
      - cancel my order
      - (cancel | drop) the order
    phrases:
      - (cancel | drop) (my | the) order [please]
      - i want to cancel {order_number}
`);
    assert.deepEqual(compileSpotPhrases(g.intents('en-US')), [
      { text: 'cancel my order', intents: ['cancel_order'] },
      { text: 'cancel the order', intents: ['cancel_order'] },
      { text: 'drop the order', intents: ['cancel_order'] },
    ]);
  });

  test('without a spot list: whole literal expansions first, shortest first, then runs cut by slots (3+ words), capped', () => {
    const g = set(`intents:
  - id: refund
    phrases:
      - i want a refund [now]
      - refund me (the money | my money) for order {order_number}
      - money back
`);
    const texts = compileSpotPhrases(g.intents('en-US'), { perIntent: 4 }).map((p) => p.text);
    assert.deepEqual(texts, ['money back', 'i want a refund', 'i want a refund now', 'refund me my money for order']);
    assert.equal(compileSpotPhrases(g.intents('en-US'), { maxPhrases: 2 }).length, 2);
  });

  test('a phrase two intents share names both', () => {
    const g = set(`intents:
  - id: a
    phrases: [cancel my order]
  - id: b
    kind: escalation
    phrases: [cancel my order now, cancel my order]
`);
    assert.deepEqual(compileSpotPhrases(g.intents('en-US')).find((p) => p.text === 'cancel my order')?.intents, ['a', 'b']);
  });

  test('spot phrases are checked at load: plain words, two or more, part of the intent', () => {
    assert.throws(
      () => set(`intents:
  - id: x
    spot:
      - cancel
      - cancel {order_number}
      - where is my parcel
      - my order
    phrases:
      - cancel my order {order_number}
      - (my | the) *2 order
`),
      (err: unknown) => {
        assert.ok(err instanceof GrammarError);
        assert.match(err.message, /"cancel" is one word/);
        assert.match(err.message, /has a slot or wildcard/);
        assert.match(err.message, /"where is my parcel" is not part of any/);
        assert.doesNotMatch(err.message, /"my order"/, 'a wildcard may stand for no words');
        return true;
      },
    );
  });

  test('the shipped grammars give spot lists for both languages', async () => {
    const g = await GrammarSet.load('grammars');
    for (const language of ['en-US', 'nl-NL'] as const) {
      const phrases = compileSpotPhrases(g.intents(language));
      assert.ok(phrases.length >= 15 && phrases.length <= 200, `${language}: ${phrases.length}`);
      for (const intent of g.intents(language)) assert.ok(phrases.some((p) => p.intents.includes(intent.id)), `${language} ${intent.id} has phrases`);
    }
  });
});
