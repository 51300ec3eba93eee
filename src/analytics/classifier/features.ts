/**
 * The features the intent classifier reads from one utterance: words, word
 * pairs and the character n-grams of each word (a misheard word still shares
 * most of its n-grams with the word said, and Dutch compounds share theirs
 * with their parts). Words within a few words after a negator get a `not_`
 * prefix, so that "i don't want to cancel" and "i want to cancel" read apart.
 * The vector is L2-normalised: long and short utterances weigh alike.
 */
import type { Language } from '../../language.js';
import { isClauseBoundary, isNegator } from '../intents/negation.js';

export interface FeatureOptions {
  /** Character n-gram lengths per word, inclusive; word edges count as `#`. */
  readonly charNgrams: readonly [number, number];
  /** Weight of one character n-gram against one word. */
  readonly charWeight: number;
  /** How many words after a negator are read as negated (until a clause boundary). */
  readonly negationScope: number;
}

/** What the shipped models are trained with (chosen on dev folds: docs/analytics.md#evaluation). */
export const DEFAULT_FEATURE_OPTIONS: FeatureOptions = { charNgrams: [3, 5], charWeight: 1, negationScope: 3 };

/** A sparse feature vector: feature name -> value. */
export type Features = ReadonlyMap<string, number>;

/** Lower-case words of an ASR transcript, punctuation dropped (apostrophes kept). */
export function words(text: string): string[] {
  return text
    .toLowerCase()
    .replace(/[^\p{L}\p{N}' ]+/gu, ' ')
    .split(/\s+/)
    .filter((w) => w.length > 0);
}

export function features(text: string, language: Language, options: FeatureOptions): Features {
  let scope = 0;
  const marked = words(text).map((word) => {
    if (isNegator(word, language)) {
      scope = options.negationScope;
      return word;
    }
    if (isClauseBoundary(word, language)) {
      scope = 0;
      return word;
    }
    if (scope === 0) return word;
    scope -= 1;
    return `not_${word}`;
  });
  const out = new Map<string, number>();
  const add = (key: string, value: number): void => {
    out.set(key, (out.get(key) ?? 0) + value);
  };
  const [shortest, longest] = options.charNgrams;
  marked.forEach((word, i) => {
    add(`u:${word}`, 1);
    const next = marked[i + 1];
    if (next !== undefined) add(`b:${word} ${next}`, 1);
    const padded = `#${word}#`;
    for (let n = shortest; n <= longest; n++) {
      for (let j = 0; j + n <= padded.length; j++) add(`c:${padded.slice(j, j + n)}`, options.charWeight);
    }
  });
  let norm = 0;
  for (const value of out.values()) norm += value * value;
  norm = Math.sqrt(norm);
  if (norm > 0) for (const [key, value] of out) out.set(key, value / norm);
  return out;
}
