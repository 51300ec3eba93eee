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
export const DEFAULT_TRAINING_OPTIONS: TrainingOptions = { features: DEFAULT_FEATURE_OPTIONS, epochs: 40, learningRate: 0.5, l2: 1e-4, threshold: 0.6 };

/** Weights are stored as integers of 1/SCALE: three decimals change no decision. */
const SCALE = 1000;

export function trainClassifier(
  language: Language,
  examples: readonly TrainingExample[],
  sources: readonly string[],
  options: TrainingOptions = DEFAULT_TRAINING_OPTIONS,
): ClassifierModelFile {
  const xs: Features[] = examples.map((e) => features(e.text, language, options.features));
  const labels = [...new Set(examples.flatMap((e) => e.intents))].sort();
  const vocabulary = [...new Set(xs.flatMap((x) => [...x.keys()]))].sort();
  const index = new Map(vocabulary.map((f, i) => [f, i]));
  const intents: Record<string, { bias: number; weights: number[] }> = {};
  for (const label of labels) {
    const ys = examples.map((e) => (e.intents.includes(label) ? 1 : 0));
    const { bias, weights } = fit(xs, ys, options);
    const dense = new Array<number>(vocabulary.length).fill(0);
    for (const [feature, w] of weights) dense[index.get(feature) ?? 0] = Math.round(w * SCALE);
    intents[label] = { bias: Math.round(bias * SCALE), weights: dense };
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

function fit(xs: readonly Features[], ys: readonly number[], options: TrainingOptions): { bias: number; weights: Map<string, number> } {
  const weights = new Map<string, number>();
  const squares = new Map<string, number>();
  let bias = 0;
  let biasSquares = 0;
  const order = xs.map((_, i) => i);
  let seed = 7;
  // A fixed Park-Miller sequence: shuffles that are the same on every run.
  const random = (): number => (seed = (seed * 16807) % 2147483647) / 2147483647;
  for (let epoch = 0; epoch < options.epochs; epoch++) {
    for (let i = order.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [order[i], order[j]] = [order[j] as number, order[i] as number];
    }
    for (const i of order) {
      const x = xs[i] as Features;
      let z = bias;
      for (const [feature, value] of x) z += (weights.get(feature) ?? 0) * value;
      const error = 1 / (1 + Math.exp(-z)) - (ys[i] as number);
      for (const [feature, value] of x) {
        const w = weights.get(feature) ?? 0;
        const gradient = error * value + options.l2 * w;
        const sum = (squares.get(feature) ?? 0) + gradient * gradient;
        squares.set(feature, sum);
        weights.set(feature, w - (options.learningRate * gradient) / Math.sqrt(sum + 1e-8));
      }
      biasSquares += error * error;
      bias -= (options.learningRate * error) / Math.sqrt(biasSquares + 1e-8);
    }
  }
  return { bias, weights };
}
