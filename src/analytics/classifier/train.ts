/**
 * Trains an `IntentClassifier` model: for each intent a logistic regression
 * (one against the rest, so an utterance can carry two intents) fitted by
 * stochastic gradient descent with per-feature step sizes (AdaGrad) and a
 * small L2 penalty. Deterministic: the same examples give the same file.
 * No I/O here (trainCommand.ts reads the corpus and writes the model).
 */
import { createHash } from 'node:crypto';
import type { Language } from '../../language.js';
import { DEFAULT_FEATURE_OPTIONS, type FeatureOptions, type Features, features } from './features.js';
import { type ClassifierModelFile, MODEL_FORMAT } from './IntentClassifier.js';

export interface TrainingExample {
  readonly text: string;
  /** Every intent the utterance raises; none for a negative example. */
  readonly intents: readonly string[];
}

export interface TrainingOptions {
  readonly features: FeatureOptions;
  readonly epochs: number;
  readonly learningRate: number;
  readonly l2: number;
  /** Probability at which the model raises an intent. */
  readonly threshold: number;
  /** The same in recognised speech; absent: the classifier's default (RECOGNISED_SPEECH_THRESHOLD). */
  readonly recognisedThreshold?: number;
}

/** Chosen on dev folds (docs/analytics.md#evaluation); the threshold trades recall for precision. */
export const DEFAULT_TRAINING_OPTIONS: TrainingOptions = { features: DEFAULT_FEATURE_OPTIONS, epochs: 40, learningRate: 0.5, l2: 1e-4, threshold: 0.5 };

/** Weights are stored as integers of 1/SCALE: three decimals change no decision. */
const SCALE = 1000;

export function trainClassifier(
  language: Language,
  given: readonly TrainingExample[],
  sources: readonly string[],
  options: TrainingOptions = DEFAULT_TRAINING_OPTIONS,
): ClassifierModelFile {
  const examples = distinct(given);
  const xs: Features[] = examples.map((e) => features(e.text, language, options.features));
  const labels = [...new Set(examples.flatMap((e) => e.intents))].sort();
  const vocabulary = [...new Set(xs.flatMap((x) => [...x.keys()]))].sort();
  const index = new Map(vocabulary.map((f, i) => [f, i]));
  const rows = xs.map((x) => sparseRow(x, index));
  const intents: Record<string, { bias: number; weights: number[] }> = {};
  for (const label of labels) {
    const ys = examples.map((e) => (e.intents.includes(label) ? 1 : 0));
    const { bias, weights } = fit(rows, ys, vocabulary.length, options);
    intents[label] = { bias: Math.round(bias * SCALE), weights: Array.from(weights, (w) => Math.round(w * SCALE)) };
  }
  const digest = createHash('sha256');
  for (const e of examples) digest.update(`${e.text}\t${[...e.intents].sort().join(',')}\n`);
  return {
    format: MODEL_FORMAT,
    language,
    threshold: options.threshold,
    ...(options.recognisedThreshold === undefined ? {} : { recognisedThreshold: options.recognisedThreshold }),
    features: options.features,
    trainedOn: { utterances: examples.length, files: sources, sha256: digest.digest('hex') },
    scale: SCALE,
    vocabulary,
    intents,
  };
}

/**
 * Each labelled utterance once: corpus files written apart repeat the common
 * short requests ("where is my order"), and counting every copy would weigh
 * them by how many writers happened to write them. First occurrence kept.
 */
function distinct(examples: readonly TrainingExample[]): TrainingExample[] {
  const seen = new Set<string>();
  return examples.filter((e) => {
    const key = `${e.text}\t${[...e.intents].sort().join(',')}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** A feature vector as parallel arrays of vocabulary positions and values, in the vector's own order. */
interface SparseRow {
  readonly at: Int32Array;
  readonly values: Float64Array;
}

function sparseRow(x: Features, index: ReadonlyMap<string, number>): SparseRow {
  const at = new Int32Array(x.size);
  const values = new Float64Array(x.size);
  let k = 0;
  for (const [feature, value] of x) {
    at[k] = index.get(feature) ?? 0;
    values[k] = value;
    k++;
  }
  return { at, values };
}

function fit(rows: readonly SparseRow[], ys: readonly number[], size: number, options: TrainingOptions): { bias: number; weights: Float64Array } {
  // Typed arrays indexed by vocabulary position: the same arithmetic in the same order as a map by name, an order of magnitude faster.
  const weights = new Float64Array(size);
  const squares = new Float64Array(size);
  let bias = 0;
  let biasSquares = 0;
  const order = rows.map((_, i) => i);
  let seed = 7;
  // A fixed Park-Miller sequence: shuffles that are the same on every run.
  const random = (): number => (seed = (seed * 16807) % 2147483647) / 2147483647;
  for (let epoch = 0; epoch < options.epochs; epoch++) {
    for (let i = order.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [order[i], order[j]] = [order[j] as number, order[i] as number];
    }
    for (const i of order) {
      const { at, values } = rows[i] as SparseRow;
      let z = bias;
      for (let k = 0; k < at.length; k++) z += (weights[at[k] as number] as number) * (values[k] as number);
      const error = 1 / (1 + Math.exp(-z)) - (ys[i] as number);
      for (let k = 0; k < at.length; k++) {
        const f = at[k] as number;
        const w = weights[f] as number;
        const gradient = error * (values[k] as number) + options.l2 * w;
        const sum = (squares[f] as number) + gradient * gradient;
        squares[f] = sum;
        weights[f] = w - (options.learningRate * gradient) / Math.sqrt(sum + 1e-8);
      }
      biasSquares += error * error;
      bias -= (options.learningRate * error) / Math.sqrt(biasSquares + 1e-8);
    }
  }
  return { bias, weights };
}
