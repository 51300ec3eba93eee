import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { DEFAULT_FEATURE_OPTIONS, features } from '../../../src/analytics/classifier/features.js';
import { ClassifierModelError, IntentClassifier, RECOGNISED_SPEECH_THRESHOLD } from '../../../src/analytics/classifier/IntentClassifier.js';
import { DEFAULT_TRAINING_OPTIONS, trainClassifier, type TrainingExample } from '../../../src/analytics/classifier/train.js';
import { runTrainCommand } from '../../../src/analytics/classifier/trainCommand.js';
import { GrammarSet } from '../../../src/analytics/grammar/GrammarSet.js';
import { IntentMatcher, UtteranceIntentTracker } from '../../../src/analytics/intents/IntentMatcher.js';
import type { RecognitionResult } from '../../../src/asr/types.js';
import { PACKAGE_ROOT } from '../../../src/config.js';
import { LANGUAGES } from '../../../src/language.js';

/** A small labelled set: each intent in several wordings, and negated or unrelated lines as negatives. */
const EXAMPLES: TrainingExample[] = [
  ...['where is my parcel', 'my parcel never arrived', 'the parcel is late again', 'has my parcel shipped', 'still waiting for the parcel', 'no sign of my parcel yet'].map((text) => ({ text, intents: ['order_status'] })),
  ...['i want to stop my subscription', 'please end the subscription', 'stop the subscription today', 'i am done with this subscription', 'end my membership and subscription'].map((text) => ({ text, intents: ['churn'] })),
  ...["i don't want to stop my subscription", 'i will never end the subscription', 'what does the subscription cost', 'thanks for your help', 'my name is anna', 'the weather is nice today'].map((text) => ({ text, intents: [] })),
];

const GRAMMAR = `
intents:
  - id: order_status
    kind: intent
    speaker: customer
    prompt: Look up the delivery.
    phrases:
      - where is my order
  - id: churn
    kind: intent
    speaker: customer
    window: { before: 60 }
    phrases:
      - cancel my subscription
`;

const definitions = GrammarSet.fromSources([{ file: 'test.yaml', language: 'en-US', text: GRAMMAR }]).intents('en-US');
const classifier = new IntentClassifier(trainClassifier('en-US', EXAMPLES, ['examples']));
const matcher = new IntentMatcher(definitions, { language: 'en-US', classifier });

const result = (utteranceId: number, text: string, final: boolean, startMs = 0): RecognitionResult => {
  const words = text.split(' ');
  return { final, utteranceId, text, startMs, endMs: startMs + words.length * 300, words: words.map((word, i) => ({ word, startMs: startMs + i * 300, endMs: startMs + (i + 1) * 300 })) };
};

describe('intent classifier', () => {
  test('features: words after a negator are marked negated up to the scope, and the vector has unit length', () => {
    const x = features("i don't want to cancel my order", 'en-US', DEFAULT_FEATURE_OPTIONS);
    assert.ok(x.has('u:not_want') && x.has('u:not_to') && x.has('u:not_cancel'));
    assert.ok(x.has('u:my') && !x.has('u:not_my'), 'the scope is 3 words');
    assert.ok(x.has('c:#orde') && x.has('c:ncel#'), 'character n-grams of the words, marked ones too');
    const norm = [...x.values()].reduce((sum, v) => sum + v * v, 0);
    assert.ok(Math.abs(norm - 1) < 1e-9);
    assert.ok(!features('i want to cancel', 'en-US', DEFAULT_FEATURE_OPTIONS).has('u:not_want'));
  });

  test('training is deterministic: the same examples give the same model', () => {
    assert.deepEqual(trainClassifier('en-US', EXAMPLES, ['x']), trainClassifier('en-US', EXAMPLES, ['x']));
  });

  test('reads wordings it was not trained on, and not their negations', () => {
    assert.deepEqual(classifier.classify('my parcel still has not arrived').map((c) => c.intent), ['order_status']);
    assert.deepEqual(classifier.classify('i want to end my subscription').map((c) => c.intent), ['churn']);
    assert.deepEqual(classifier.classify("i don't want to end my subscription").map((c) => c.intent), []);
    assert.deepEqual(classifier.classify('my name is peter').map((c) => c.intent), []);
  });

  test('the tracker adds classifier intents on finals of the customer only, once per utterance, after phrase matches', () => {
    const customer = new UtteranceIntentTracker(matcher, 'customer');
    assert.deepEqual(customer.onResult(result(1, 'my parcel never', false)), [], 'not on partials');
    const [found, ...more] = customer.onResult(result(1, 'my parcel never arrived', true));
    assert.equal(more.length, 0);
    assert.equal(found?.intent.id, 'order_status');
    assert.equal(found.evidence, 'classifier');
    assert.equal(found.text, 'my parcel never arrived');
    assert.equal(found.prompt, 'Look up the delivery.');
    assert.ok(found.confidence >= classifier.threshold && found.confidence < 1);
    assert.deepEqual([found.startMs, found.endMs], [0, 1200]);
    // A phrase match comes first and the classifier does not repeat it.
    const phrase = customer.onResult(result(2, 'where is my order', true));
    assert.deepEqual(phrase.map((m) => [m.intent.id, m.evidence]), [['order_status', 'exact']]);
    const agent = new UtteranceIntentTracker(matcher, 'agent');
    assert.deepEqual(agent.onResult(result(1, 'my parcel never arrived', true)), []);
  });

  test('recognised speech needs the higher threshold, pushed transcripts the model\'s', () => {
    const candidates = ['the parcel', 'my subscription', 'parcel late', 'end it', 'still waiting', 'no sign of it', 'stop the plan today'];
    const between = candidates.flatMap((text) => classifier.probabilities(text).filter((c) => c.probability >= classifier.threshold && c.probability < classifier.recognisedThreshold).map((c) => ({ text, intent: c.intent })));
    assert.ok(between.length > 0, 'a wording read between the two thresholds');
    for (const { text, intent } of between) {
      const pushed = new UtteranceIntentTracker(matcher, 'customer').onResult(result(1, text, true));
      const heard = new UtteranceIntentTracker(matcher, 'customer').onResult(result(1, text, true), { recognised: true });
      assert.ok(pushed.some((m) => m.intent.id === intent), `${intent} on pushed "${text}"`);
      assert.ok(!heard.some((m) => m.intent.id === intent), `no ${intent} on recognised "${text}"`);
    }
  });

  test('a model names its own threshold for recognised speech; one that names none gets the default', () => {
    assert.equal(classifier.recognisedThreshold, RECOGNISED_SPEECH_THRESHOLD);
    const own = new IntentClassifier(trainClassifier('en-US', EXAMPLES, ['examples'], { ...DEFAULT_TRAINING_OPTIONS, recognisedThreshold: 0.75 }));
    assert.equal(own.recognisedThreshold, 0.75);
    const lower = new IntentClassifier(trainClassifier('en-US', EXAMPLES, ['examples'], { ...DEFAULT_TRAINING_OPTIONS, recognisedThreshold: 0.3 }));
    assert.equal(lower.recognisedThreshold, lower.threshold, 'never below the threshold for pushed transcripts');
    const text = 'the parcel';
    const p = own.probabilities(text).find((c) => c.intent === 'order_status')?.probability ?? 0;
    const tracker = new UtteranceIntentTracker(new IntentMatcher(definitions, { language: 'en-US', classifier: own }), 'customer');
    const heard = tracker.onResult(result(1, text, true), { recognised: true }).some((m) => m.intent.id === 'order_status');
    assert.equal(heard, p >= 0.75, `order_status at ${p.toFixed(2)} on recognised "${text}"`);
  });

  test('the classifier does not read plans given up, reported speech, policy questions or imagined cases', () => {
    const read = (text: string) => new UtteranceIntentTracker(matcher, 'customer').onResult(result(1, text, true)).map((m) => m.intent.id);
    assert.deepEqual(read('i want to end my subscription'), ['churn']);
    for (const text of ['my sister says i should end my subscription', 'i almost ended my subscription but the price is fine', 'how much notice do i need to end my subscription', 'were i to end my subscription today']) {
      assert.deepEqual(read(text), [], text);
    }
    assert.deepEqual(read('my sister says hello and i want to end my subscription'), ['churn'], "the caller's own clause is read");
  });

  test('a question about what a condition leads to gives no contact reason from the classifier', () => {
    const read = (text: string) => new UtteranceIntentTracker(matcher, 'customer').onResult(result(1, text, true)).map((m) => m.intent.id);
    assert.deepEqual(read('my parcel never arrived'), ['order_status']);
    for (const text of ['if my parcel never arrived would i get my money back', 'if the parcel is late again who would pay for it', 'if my parcel never arrived should i phone again']) {
      assert.deepEqual(read(text), [], text);
    }
    assert.deepEqual(read('if it is not too late my parcel never arrived'), ['order_status'], 'a condition with a statement, not a question, is still read');
  });

  test("an intent's window applies to the classifier too", () => {
    const tracker = new UtteranceIntentTracker(matcher, 'customer');
    assert.deepEqual(tracker.onResult(result(1, 'i want to end my subscription', true), { callTimeMs: 5_000 }).map((m) => m.intent.id), ['churn']);
    assert.deepEqual(tracker.onResult(result(2, 'i want to end my subscription', true, 70_000), { callTimeMs: 71_800 }), []);
  });

  test('a bad model file is refused with the file and the problem named', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'sgw-classifier-'));
    const good = trainClassifier('en-US', EXAMPLES, ['x']);
    const cases: [string, unknown, RegExp][] = [
      ['not-json.json', '{', /JSON/],
      ['format.json', { ...good, format: 'other' }, /format/],
      ['language.json', { ...good, language: 'fr-FR' }, /language/],
      ['threshold.json', { ...good, threshold: 1.5 }, /threshold/],
      ['recognised.json', { ...good, recognisedThreshold: 'high' }, /recognisedThreshold/],
      ['weights.json', { ...good, intents: { churn: { bias: 0, weights: [1, 2] } } }, /churn: needs a bias and one weight per vocabulary entry/],
    ];
    for (const [name, content, message] of cases) {
      const file = path.join(dir, name);
      await writeFile(file, typeof content === 'string' ? content : JSON.stringify(content));
      await assert.rejects(IntentClassifier.load(file), (err: unknown) => err instanceof ClassifierModelError && err.message.includes(file) && message.test(err.message));
    }
  });

  test('the shipped models are trained on the dev split only and raise only intents the grammars define', async () => {
    const grammars = await GrammarSet.load(path.join(PACKAGE_ROOT, 'grammars'));
    for (const language of LANGUAGES) {
      const file = path.join(PACKAGE_ROOT, 'grammars', language, 'classifier.json');
      const model = await IntentClassifier.load(file);
      const raw = JSON.parse(await readFile(file, 'utf8')) as { trainedOn: { files: string[]; utterances: number } };
      assert.ok(raw.trainedOn.files.length > 0 && raw.trainedOn.files.every((f) => f.startsWith('test/eval/corpus/dev/')), `${language}: ${raw.trainedOn.files.join(', ')}`);
      assert.ok(raw.trainedOn.utterances >= 1000);
      const known = new Set(grammars.intents(language).map((i) => i.id));
      assert.deepEqual(model.labels.filter((id) => !known.has(id)), []);
    }
  });

  test('an utterance repeated across corpus files trains once; train-intents writes the threshold it is given and refuses one outside (0, 1)', async () => {
    const once = trainClassifier('en-US', EXAMPLES, ['x']);
    const twice = trainClassifier('en-US', [...EXAMPLES, ...EXAMPLES.slice(0, 3)], ['x']);
    assert.deepEqual(twice.intents, once.intents);
    assert.equal(twice.trainedOn.utterances, EXAMPLES.length);

    const dir = await mkdtemp(path.join(tmpdir(), 'sgw-train-'));
    const corpus = path.join(dir, 'corpus');
    await mkdir(corpus);
    await writeFile(path.join(corpus, 'en-US.jsonl'), EXAMPLES.map((e) => JSON.stringify({ text: e.text, speaker: 'customer', expect: e.intents })).join('\n'));
    const log = console.log;
    console.log = () => undefined;
    try {
      assert.equal(await runTrainCommand(['--corpus', corpus, '--language', 'en-US', '--grammars', dir, '--threshold', '0.45']), 0);
    } finally {
      console.log = log;
    }
    const written = JSON.parse(await readFile(path.join(dir, 'en-US', 'classifier.json'), 'utf8')) as { threshold: number; recognisedThreshold?: number };
    assert.equal(written.threshold, 0.45);
    assert.equal(written.recognisedThreshold, undefined);
    for (const bad of ['0', '1', 'high']) await assert.rejects(runTrainCommand(['--corpus', corpus, '--grammars', dir, '--threshold', bad]), /--threshold must lie between 0 and 1/);
  });
});
