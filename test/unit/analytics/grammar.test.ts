import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { pino } from 'pino';
import { GrammarError, GrammarSet } from '../../../src/analytics/grammar/GrammarSet.js';
import { GrammarStore } from '../../../src/analytics/grammar/GrammarStore.js';
import { PhraseSyntaxError, expandPhrase, tokenize } from '../../../src/analytics/grammar/phrase.js';
import { IntentMatcher, UtteranceIntentTracker } from '../../../src/analytics/intents/IntentMatcher.js';
import type { RecognitionResult } from '../../../src/asr/types.js';
import { PACKAGE_ROOT } from '../../../src/config.js';
import { LANGUAGES } from '../../../src/language.js';

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

  test('slots and wildcards compile to {slot} and *N elements', () => {
    assert.deepEqual(expandPhrase('cancel order [number] {order_number}').map((s) => s.join(' ')), [
      'cancel order number {order_number}',
      'cancel order {order_number}',
    ]);
    assert.deepEqual(expandPhrase('mijn bestelling * annuleren')[0], ['mijn', 'bestelling', '*3', 'annuleren']);
    assert.deepEqual(expandPhrase('zeg (het | mijn abonnement) *2 op').map((s) => s.join(' ')), ['zeg het *2 op', 'zeg mijn abonnement *2 op']);
    assert.deepEqual(expandPhrase('refund of { amount }')[0], ['refund', 'of', '{amount}']);
  });

  test('slot and wildcard mistakes name the problem and the column', () => {
    const cases: [string, RegExp, number][] = [
      ['cancel order {ordernumber}', /unknown slot '\{ordernumber\}' \(known: \{order_number\}, \{amount\}, \{date\}, \{number\}\)/, 14],
      ['cancel order {order_number', /missing '\}'/, 27],
      ['cancel order }', /unexpected '\}'/, 14],
      ['cancel *0 order', /wildcard '\*0' must skip 1 to 8 words/, 8],
      ['cancel *9 order', /must skip 1 to 8 words/, 8],
      ['* cancel order', /cannot start with a wildcard/, 1],
      ['cancel order *2', /cannot end with a wildcard/, 14],
      ['[please] * cancel', /cannot start with a wildcard/, 10],
      ['cancel * [my] * order', /two wildcards in a row/, 8],
      ['{order_number}', /needs at least one word/, 1],
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

describe('grammar format v2', () => {
  const load = (text: string) => GrammarSet.fromSources([{ file: 'g.yaml', language: 'en-US', text }]);
  const problems = (text: string): string[] => {
    try {
      load(text);
    } catch (err) {
      assert.ok(err instanceof GrammarError);
      return err.problems.map((p) => `${p.file}:${p.line}: ${p.message}`);
    }
    assert.fail('expected a GrammarError');
  };

  test('severity, window, fuzzy, prompt slots and unless are read with defaults', () => {
    const set = load(`
intents:
  - id: cancel_order
    severity: warning
    prompt: Cancel order {order_number}?
    window: { after: 5, before: 120 }
    fuzzy: false
    phrases: ["cancel order {order_number}", "i want to cancel"]
    unless: ["cancel order number on the email"]
  - id: legal_threat
    kind: escalation
    phrases: [sue]
  - id: plain
    phrases: [hello there]
`);
    const [cancel, legal, plain] = set.intents('en-US');
    assert.equal(cancel?.severity, 'warning');
    assert.deepEqual(cancel?.window, { afterMs: 5000, beforeMs: 120_000 });
    assert.equal(cancel?.fuzzy, false);
    assert.deepEqual(cancel?.slots, ['order_number']);
    assert.deepEqual(cancel?.unless, [['cancel', 'order', 'number', 'on', 'the', 'email']]);
    assert.equal(legal?.severity, 'warning', 'escalations default to warning');
    assert.equal(plain?.severity, 'info', 'intents default to info');
    assert.equal(plain?.window, undefined);
    assert.equal(plain?.fuzzy, true);
    assert.deepEqual(load('intents:\n  - id: a\n    window: { before: 60 }\n    phrases: [x]\n').intents('en-US')[0]?.window, { afterMs: 0, beforeMs: 60_000 });
    assert.deepEqual(load('intents:\n  - id: a\n    window: { after: 60 }\n    phrases: [x]\n').intents('en-US')[0]?.window, { afterMs: 60_000, beforeMs: Infinity });
  });

  test('every v2 problem is reported with file and line', () => {
    const lines = problems(
      [
        'intents:', //                                          1
        '  - id: a', //                                          2
        '    severity: loud', //                                 3
        '    fuzzy: maybe', //                                   4
        '    window: { after: 60, before: 30 }', //              5
        '    phrases: ["cancel order {ordernumber}"]', //        6
        '  - id: b', //                                          7
        '    prompt: Cancel {order_number} for {amount}', //     8
        '    window: { during: 10 }', //                         9
        '    phrases: ["cancel {order_number}"]', //             10
        '  - id: c', //                                          11
        '    prompt: Cancel {colour}', //                        12
        '    window: 30', //                                     13
        '    unless: nope', //                                   14
        '    phrases: ["x *2"]', //                              15
      ].join('\n'),
    );
    const expect = (re: RegExp) => assert.ok(lines.some((l) => re.test(l)), `${re.source}\n${lines.join('\n')}`);
    expect(/g\.yaml:3: "severity" must be one of info, warning, critical/);
    expect(/g\.yaml:4: "fuzzy" must be true or false/);
    expect(/g\.yaml:5: window "before" \(30\) must be later than "after" \(60\)/);
    expect(/g\.yaml:6: phrase "cancel order \{ordernumber\}": unknown slot '\{ordernumber\}'/);
    expect(/g\.yaml:8: prompt uses '\{amount\}' but no phrase of this intent captures it/);
    expect(/g\.yaml:9: unknown window key 'during'/);
    expect(/g\.yaml:12: prompt uses unknown slot '\{colour\}'/);
    expect(/g\.yaml:13: "window" must be a mapping/);
    expect(/g\.yaml:14: "unless" must be a list of phrases/);
    expect(/g\.yaml:15: phrase "x \*2": a phrase cannot end with a wildcard/);
  });

  test('an unquoted phrase starting with [ gets a hint, wherever YAML trips over it', () => {
    const asList = problems('intents:\n  - id: a\n    phrases:\n      - [please] cancel\n');
    assert.ok(asList.some((l) => /g\.yaml:4: .*must be quoted/.test(l)), asList.join('\n'));
    const asItem = problems('intents:\n  - id: a\n    phrases:\n      - [please]\n');
    assert.ok(asItem.some((l) => /g\.yaml:4: each phrase must be a string: quote a phrase that starts with "\[" or "\{"/.test(l)), asItem.join('\n'));
  });

  test('avoidable (with its self-service channel) and churn_risk mark contact reasons; wrong shapes and escalations are refused', () => {
    const [wismo, leaving, plain] = load(`
intents:
  - id: order_status
    avoidable: { channel: track-and-trace page }
    phrases: [where is my order]
  - id: churn
    churn_risk: true
    phrases: [cancel my subscription]
  - id: plain
    phrases: [hello there]
`).intents('en-US');
    assert.deepEqual(wismo?.avoidable, { channel: 'track-and-trace page' });
    assert.equal(wismo?.churnRisk, false);
    assert.equal(leaving?.churnRisk, true);
    assert.equal(leaving?.avoidable, undefined);
    assert.equal(plain?.avoidable, undefined, 'neither by default');
    assert.equal(plain?.churnRisk, false);
    assert.equal(plain?.escalates, false);
    const lines = problems(
      [
        'intents:', //                                          1
        '  - id: a', //                                          2
        '    avoidable: true', //                                3
        '    churn_risk: maybe', //                              4
        '    phrases: [x y]', //                                 5
        '  - id: b', //                                          6
        '    avoidable: { channel: "" }', //                     7
        '    phrases: [x y]', //                                 8
        '  - id: c', //                                          9
        '    avoidable: { chanel: faq }', //                     10
        '    phrases: [x y]', //                                 11
        '  - id: d', //                                          12
        '    kind: escalation', //                               13
        '    avoidable: { channel: faq }', //                    14
        '    churn_risk: true', //                               15
        '    escalates: true', //                                16
        '    phrases: [x y]', //                                 17
        '  - id: e', //                                          18
        '    escalates: often', //                               19
        '    phrases: [x y]', //                                 20
      ].join('\n'),
    );
    const expect = (re: RegExp) => assert.ok(lines.some((l) => re.test(l)), `${re.source}\n${lines.join('\n')}`);
    expect(/g\.yaml:3: "avoidable" must be a mapping such as \{ channel: track-and-trace page \}/);
    expect(/g\.yaml:4: "churn_risk" must be true or false/);
    expect(/g\.yaml:7: "avoidable" must be a mapping .*channel: 1 to 100 characters/);
    expect(/g\.yaml:10: unknown avoidable key 'chanel' \(use channel\)/);
    expect(/g\.yaml:14: "avoidable" marks a contact reason; an escalation cue is not one/);
    expect(/g\.yaml:15: "churn_risk" marks a contact reason; an escalation cue is not one/);
    expect(/g\.yaml:16: "escalates" marks a contact reason that also raises the escalation score/);
    expect(/g\.yaml:19: "escalates" must be true or false/);
  });

  test('the shipped grammars mark the avoidable reasons and the churn risks alike in both languages', async () => {
    const set = await GrammarSet.load(path.join(PACKAGE_ROOT, 'grammars'));
    for (const language of ['en-US', 'nl-NL'] as const) {
      const marks = Object.fromEntries(set.intents(language).filter((i) => i.avoidable !== undefined || i.churnRisk).map((i) => [i.id, { channel: i.avoidable?.channel, churnRisk: i.churnRisk }]));
      assert.deepEqual(
        marks,
        {
          order_status: { channel: 'track-and-trace page', churnRisk: false },
          refund_request: { channel: 'self-service returns portal', churnRisk: false },
          churn: { channel: undefined, churnRisk: true },
          close_account: { channel: undefined, churnRisk: true },
        },
        language,
      );
    }
  });

  test('the shipped grammars define every required intent in both languages', async () => {
    const set = await GrammarSet.load(path.join(PACKAGE_ROOT, 'grammars'));
    // The taxonomy (docs/grammars.md#what-the-shipped-intents-mean): contact reasons and escalation cues.
    const reasons = ['cancel_order', 'order_status', 'refund_request', 'churn', 'close_account', 'complaint'];
    const escalations = ['frustration', 'speak_to_manager', 'repeat_contact', 'legal_threat', 'public_threat'];
    for (const language of ['en-US', 'nl-NL'] as const) {
      const byId = new Map(set.intents(language).map((i) => [i.id, i]));
      assert.deepEqual([...byId.keys()].sort(), [...reasons, ...escalations].sort(), language);
      for (const id of reasons) assert.equal(byId.get(id)?.kind, 'intent', `${language} ${id}`);
      for (const id of escalations) assert.equal(byId.get(id)?.kind, 'escalation', `${language} ${id}`);
      assert.equal(byId.get('legal_threat')?.severity, 'critical');
    }
  });
});

describe('GrammarStore', () => {
  const logger = pino({ level: 'silent' });
  const good = (phrase: string) => `intents:\n  - id: cancel_order\n    phrases: ["${phrase}"]\n`;

  const withDir = async (run: (dir: string) => Promise<void>): Promise<void> => {
    const dir = await mkdtemp(path.join(tmpdir(), 'grammars-'));
    try {
      await mkdir(path.join(dir, 'en-US'));
      await writeFile(path.join(dir, 'en-US', 'orders.yaml'), good('cancel my order'));
      await run(dir);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  };

  test('open refuses a broken directory with the located problems', async () => {
    await withDir(async (dir) => {
      await writeFile(path.join(dir, 'en-US', 'bad.yaml'), 'intents:\n  - id: x\n    phrases: ["cancel {oops}"]\n');
      await assert.rejects(GrammarStore.open(dir, { logger }), (err: unknown) => err instanceof GrammarError && /bad\.yaml:3: .*unknown slot/.test(err.message));
    });
  });

  test('reload swaps in a good edit, keeps the old set on a broken one, and says which', async () => {
    await withDir(async (dir) => {
      const store = await GrammarStore.open(dir, { logger });
      try {
        const first = store.current;
        const firstMatcher = store.matcher('en-US');
        assert.equal(store.matcher('en-US'), firstMatcher, 'matchers are compiled once per set');
        assert.deepEqual(await store.reload(), { ok: true, changed: false });
        assert.equal(store.current, first);

        const reloaded: GrammarSet[] = [];
        const failed: GrammarError[] = [];
        store.on('reloaded', (set) => reloaded.push(set));
        store.on('reloadFailed', (err) => failed.push(err));

        await writeFile(path.join(dir, 'en-US', 'orders.yaml'), good('kill my order'));
        assert.deepEqual(await store.reload(), { ok: true, changed: true });
        assert.equal(reloaded.length, 1);
        assert.deepEqual(store.current.intents('en-US')[0]?.patterns, ['kill my order']);
        assert.notEqual(store.matcher('en-US'), firstMatcher);

        const second = store.current;
        await writeFile(path.join(dir, 'en-US', 'orders.yaml'), 'intents:\n  - id: cancel_order\n    phrases: ["cancel (my order"]\n');
        const result = await store.reload();
        assert.equal(result.ok, false);
        assert.ok(!result.ok && /orders\.yaml:3: phrase "cancel \(my order": missing '\)'/.test(result.error.message));
        assert.equal(store.current, second, 'the previous set stays in use');
        assert.equal(failed.length, 1);
        assert.equal(reloaded.length, 1);
      } finally {
        store.close();
      }
    });
  });

  test('spot phrases per speaker: a leg listens only for the intents its speaker may raise', async () => {
    await withDir(async (dir) => {
      await writeFile(
        path.join(dir, 'en-US', 'more.yaml'),
        'intents:\n  - id: offer_made\n    speaker: agent\n    phrases: ["i can offer you a discount"]\n  - id: hello\n    speaker: either\n    phrases: ["good morning to you"]\n',
      );
      const store = await GrammarStore.open(dir, { logger, prepare: ['en-US'] });
      try {
        const texts = (speaker?: 'customer' | 'agent'): string[] => store.spotPhrases('en-US', speaker).map((p) => p.text).sort();
        assert.deepEqual(texts('customer'), ['cancel my order', 'good morning to you']);
        assert.deepEqual(texts('agent'), ['good morning to you', 'i can offer you a discount']);
        assert.deepEqual(texts(), ['cancel my order', 'good morning to you', 'i can offer you a discount']);
        assert.equal(store.spotPhrases('en-US', 'agent'), store.spotPhrases('en-US', 'agent'), 'compiled once per set');
        assert.equal(store.raisesIntents('en-US', 'agent'), true, 'an agent intent and an either one');
      } finally {
        store.close();
      }
    });
  });

  test('the shipped grammars give the agent leg no spot phrases: every intent is the customer\'s', async () => {
    const store = await GrammarStore.open(path.join(PACKAGE_ROOT, 'grammars'), { logger });
    try {
      for (const language of LANGUAGES) {
        assert.deepEqual(store.spotPhrases(language, 'agent'), [], language);
        // So agent legs are opened record-only (a cheaper search, POCKETSPHINX_AGENT_ARGS).
        assert.equal(store.raisesIntents(language, 'agent'), false, language);
        assert.equal(store.raisesIntents(language, 'customer'), true, language);
        assert.ok(store.spotPhrases(language, 'customer').length > 20, language);
      }
    } finally {
      store.close();
    }
  });

  test('with watch, a saved file is picked up (debounced) without an explicit reload', async () => {
    await withDir(async (dir) => {
      const store = await GrammarStore.open(dir, { logger, watch: true, debounceMs: 50 });
      try {
        const reloaded = new Promise<GrammarSet>((resolve) => store.once('reloaded', resolve));
        await writeFile(path.join(dir, 'en-US', 'orders.yaml'), good('drop my order'));
        // The watcher keeps no process alive (the gateway does); this timer keeps the test's.
        let timer: NodeJS.Timeout | undefined;
        const timeout = new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error('no reload within 5 s')), 5000);
        });
        try {
          const set = await Promise.race([reloaded, timeout]);
          assert.deepEqual(set.intents('en-US')[0]?.patterns, ['drop my order']);
        } finally {
          clearTimeout(timer);
        }
      } finally {
        store.close();
      }
    });
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
    assert.deepEqual(ids('Ik wil mijn abonnement opzeggen'), ['churn']);
    assert.deepEqual(ids('Ik wil mijn bestelling graag annuleren'), ['cancel_order']);
    assert.deepEqual(ids('Mijn pakket is nog steeds niet aangekomen'), ['order_status']);
    assert.deepEqual(ids('Ik heb een vraag over mijn factuur'), []);
  });
});
