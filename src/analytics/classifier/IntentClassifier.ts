/**
 * A statistical intent classifier beside the grammars: one logistic
 * regression per intent over the utterance's words, word pairs and character
 * n-grams (features.ts), trained on labelled utterances (train.ts,
 * `speech-gateway train-intents`). Grammars say exactly which wordings raise
 * an intent; the classifier generalises from examples to wordings nobody
 * wrote a phrase for. It reads whole final utterances of the customer only.
 *
 * The model is a JSON file beside the grammars (`grammars/<language>/classifier.json`).
 */
import { readFile } from 'node:fs/promises';
import { GatewayError } from '../../errors.js';
import { isLanguage, type Language } from '../../language.js';
import { type FeatureOptions, features } from './features.js';

export const MODEL_FORMAT = 'speech-gateway/intent-classifier@1';

/**
 * The threshold on recognised speech of a model file that names none. A model
 * trained on written utterances only reads misrecognised words more boldly
 * than it should: on the dev calls a third of its intents at 0.6 were wrong
 * (against one in twenty or fewer on the dev text folds), a quarter at 0.9.
 */
export const RECOGNISED_SPEECH_THRESHOLD = 0.9;

/** The model file as stored. Weights are integers: the real weight times `scale`. */
export interface ClassifierModelFile {
  readonly format: typeof MODEL_FORMAT;
  readonly language: Language;
  /** An intent is raised when its probability reaches this. */
  readonly threshold: number;
  /** The same in recognised speech (not a pushed transcript); absent: {@link RECOGNISED_SPEECH_THRESHOLD}. */
  readonly recognisedThreshold?: number;
  readonly features: FeatureOptions;
  /** What the model was trained on, for whoever wonders where its behaviour comes from. */
  readonly trainedOn: { readonly utterances: number; readonly files: readonly string[]; readonly sha256: string };
  readonly scale: number;
  readonly vocabulary: readonly string[];
  readonly intents: Readonly<Record<string, { readonly bias: number; readonly weights: readonly number[] }>>;
}

export class ClassifierModelError extends GatewayError {
  constructor(file: string, problem: string) {
    super('SGW_CONFIG', `invalid intent classifier model ${file}: ${problem}`);
  }
}

/** An intent the classifier reads in an utterance, with its probability. */
export interface ClassifiedIntent {
  readonly intent: string;
  readonly probability: number;
}

export class IntentClassifier {
  readonly language: Language;
  readonly threshold: number;
  /** Threshold for recognised speech, never below `threshold`. */
  readonly recognisedThreshold: number;
  private readonly featureOptions: FeatureOptions;
  private readonly intentIds: readonly string[];
  private readonly biases: Float64Array;
  /** Row of each feature some intent weighs in `weights`; features no intent weighs are left out. */
  private readonly rows: ReadonlyMap<string, number>;
  /**
   * One row per feature, one column per intent: a feature of an utterance is looked up once for
   * every intent, and the weights take about a fifth of the heap that a map per intent took.
   */
  private readonly weights: Float64Array;

  constructor(model: ClassifierModelFile) {
    this.language = model.language;
    this.threshold = model.threshold;
    this.recognisedThreshold = Math.max(model.threshold, model.recognisedThreshold ?? RECOGNISED_SPEECH_THRESHOLD);
    this.featureOptions = model.features;
    const intents = Object.entries(model.intents);
    this.intentIds = intents.map(([id]) => id);
    this.biases = Float64Array.from(intents, ([, { bias }]) => bias / model.scale);
    const rows = new Map<string, number>();
    const weights: number[] = [];
    model.vocabulary.forEach((feature, i) => {
      const row = intents.map(([, intent]) => (intent.weights[i] ?? 0) / model.scale);
      if (row.every((w) => w === 0)) return;
      rows.set(feature, weights.length / intents.length);
      weights.push(...row);
    });
    this.rows = rows;
    this.weights = Float64Array.from(weights);
  }

  /** Reads and checks a model file; a bad one rejects with a `ClassifierModelError` (start-up must fail). */
  static async load(file: string): Promise<IntentClassifier> {
    let value: unknown;
    try {
      value = JSON.parse(await readFile(file, 'utf8'));
    } catch (err) {
      throw new ClassifierModelError(file, err instanceof Error ? err.message : String(err));
    }
    return new IntentClassifier(checkModel(file, value));
  }

  /** Intent ids the model knows. */
  get labels(): string[] {
    return [...this.intentIds];
  }

  /** Probability of every intent the model knows, for `text`. */
  probabilities(text: string): ClassifiedIntent[] {
    const n = this.intentIds.length;
    const z = Float64Array.from(this.biases);
    for (const [feature, value] of features(text, this.language, this.featureOptions)) {
      const row = this.rows.get(feature);
      if (row === undefined) continue;
      for (let j = 0; j < n; j++) z[j] = (z[j] ?? 0) + (this.weights[row * n + j] ?? 0) * value;
    }
    return this.intentIds.map((intent, j) => ({ intent, probability: 1 / (1 + Math.exp(-(z[j] ?? 0))) }));
  }

  /** The intents whose probability reaches `threshold` (default the model's), most probable first. */
  classify(text: string, threshold = this.threshold): ClassifiedIntent[] {
    return this.probabilities(text)
      .filter((c) => c.probability >= threshold)
      .sort((a, b) => b.probability - a.probability);
  }
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isNumberArray = (v: unknown): v is number[] => Array.isArray(v) && v.every((n) => typeof n === 'number' && Number.isFinite(n));

function checkModel(file: string, value: unknown): ClassifierModelFile {
  const fail = (problem: string): never => {
    throw new ClassifierModelError(file, problem);
  };
  if (!isRecord(value)) return fail('not a JSON object');
  if (value.format !== MODEL_FORMAT) return fail(`format is not ${MODEL_FORMAT}`);
  if (typeof value.language !== 'string' || !isLanguage(value.language)) return fail('unknown language');
  const { threshold, recognisedThreshold, scale, vocabulary, intents, features: options, trainedOn } = value;
  if (typeof threshold !== 'number' || !(threshold > 0 && threshold < 1)) return fail('threshold must lie between 0 and 1');
  if (recognisedThreshold !== undefined && (typeof recognisedThreshold !== 'number' || !(recognisedThreshold > 0 && recognisedThreshold < 1))) {
    return fail('recognisedThreshold must lie between 0 and 1');
  }
  if (typeof scale !== 'number' || !(scale > 0)) return fail('scale must be positive');
  if (!Array.isArray(vocabulary) || !vocabulary.every((f) => typeof f === 'string')) return fail('vocabulary must be a list of strings');
  if (!isRecord(options) || !isNumberArray(options.charNgrams) || options.charNgrams.length !== 2 || typeof options.charWeight !== 'number' || typeof options.negationScope !== 'number') {
    return fail('features must give charNgrams [min, max], charWeight and negationScope');
  }
  if (!isRecord(trainedOn)) return fail('trainedOn missing');
  if (!isRecord(intents) || Object.keys(intents).length === 0) return fail('no intents');
  for (const [id, weights] of Object.entries(intents)) {
    if (!isRecord(weights) || typeof weights.bias !== 'number' || !isNumberArray(weights.weights) || weights.weights.length !== vocabulary.length) {
      return fail(`intent ${id}: needs a bias and one weight per vocabulary entry`);
    }
  }
  return value as unknown as ClassifierModelFile;
}
