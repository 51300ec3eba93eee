/**
 * Finds an intent's key phrases in a transcript by sound rather than by
 * spelling, as phonetic speech analytics do: "a fella can plane" sounds
 * like "a file a complaint". Phrase and transcript words become phonemes
 * (PhoneticLexicon) and are aligned word group by word group, because a
 * recogniser that mishears a phrase also cuts it into other words: one
 * phrase word may be heard as two ("complaint": "can plane"), two as one
 * ("file a": "fella"). Each group must sound alike on its own (a weighted
 * edit distance: vowel for vowel and within a consonant class cheaper), so
 * a long shared tail cannot carry a wrong word ("wil mijn bestelling" is not
 * "waar is mijn bestelling"). Function words and negators are never matched
 * by sound, only as spelled: "do not cancel" cannot become "do cancel".
 *
 * A candidate is the words the phrase probably was; the intent matcher then
 * decides on the transcript with the phrase in their place, so negation,
 * speaker and window rules apply as to any other words.
 */
import type { Language } from '../../language.js';
import { isContentWord, isInflection } from '../intents/fuzzy.js';
import { isNegator } from '../intents/negation.js';
import { indelCost, substitutionCost } from './phonemes.js';
import type { PhoneticLexicon } from './PhoneticLexicon.js';

/** A transcript run that sounds like a key phrase. */
export interface PhoneticCandidate {
  /** The phrase's words. */
  readonly words: readonly string[];
  /** First and last transcript token of the run (inclusive). */
  readonly start: number;
  readonly end: number;
  /** Edit distance over the phrase's phoneme count: 0 the same sounds. */
  readonly distance: number;
}

export interface PhoneticMatcherOptions {
  readonly language: Language;
  /** Largest distance of the whole phrase, over its phoneme count. */
  readonly threshold: number;
  /** Largest distance of one word group, over its phoneme count. */
  readonly groupThreshold: number;
  /** Phrases shorter than this many phonemes are not matched by sound: too many words sound like them. */
  readonly minPhonemes?: number;
}

interface Target {
  readonly words: readonly string[];
  readonly sounds: readonly (readonly string[])[];
  readonly length: number;
}

const DEFAULT_MIN_PHONEMES = 8;
/** How much closer a one-word-for-one-word group must be than the group threshold. */
const SINGLE_WORD_MARGIN = 0.05;
/**
 * Word groups aligned as one: [phrase words, transcript tokens]. Never two
 * for two: a word spelled right would dilute the distance of one heard wrong
 * ("the first" is not "the third").
 */
const GROUPS: readonly (readonly [number, number])[] = [
  [1, 1],
  [1, 2],
  [2, 1],
  [1, 3],
];

export class PhoneticMatcher {
  private readonly targets: Target[] = [];

  constructor(
    private readonly lexicon: PhoneticLexicon,
    phrases: readonly (readonly string[])[],
    private readonly options: PhoneticMatcherOptions,
  ) {
    const minPhonemes = options.minPhonemes ?? DEFAULT_MIN_PHONEMES;
    const seen = new Set<string>();
    for (const words of phrases) {
      const key = words.join(' ');
      if (seen.has(key)) continue;
      seen.add(key);
      const sounds = words.map((w) => lexicon.phonemes(w));
      if (sounds.some((s) => s === undefined)) continue;
      const known = sounds as (readonly string[])[];
      const length = known.reduce((n, s) => n + s.length, 0);
      if (length >= minPhonemes) this.targets.push({ words, sounds: known, length });
    }
  }

  get size(): number {
    return this.targets.length;
  }

  /** Runs of `tokens` that sound like a phrase but are not spelled as it: the closest run per phrase, closest first. */
  find(tokens: readonly string[]): PhoneticCandidate[] {
    if (this.targets.length === 0 || tokens.length === 0) return [];
    const sounds = tokens.map((t) => this.lexicon.phonemes(t));
    const out: PhoneticCandidate[] = [];
    for (const target of this.targets) {
      let best: PhoneticCandidate | undefined;
      for (let start = 0; start < tokens.length; start++) {
        const hit = this.align(target, tokens, sounds, start);
        if (hit !== undefined && (best === undefined || hit.distance < best.distance)) best = hit;
      }
      if (best !== undefined) out.push(best);
    }
    return out.sort((a, b) => a.distance - b.distance);
  }

  /** The cheapest alignment of the whole phrase to tokens from `start`, if every group and the whole are within the thresholds. */
  private align(target: Target, tokens: readonly string[], sounds: readonly (readonly string[] | undefined)[], start: number): PhoneticCandidate | undefined {
    const { language } = this.options;
    const m = target.words.length;
    // cost[i][j]: phrase words [0, i) aligned to tokens [start, start + j); `exact` whether all so far were spelled the same.
    const reach = Math.min(tokens.length - start, m * 3);
    const cost: number[][] = Array.from({ length: m + 1 }, () => new Array<number>(reach + 1).fill(Infinity));
    const exact: boolean[][] = Array.from({ length: m + 1 }, () => new Array<boolean>(reach + 1).fill(true));
    (cost[0] as number[])[0] = 0;
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < reach; j++) {
        const here = (cost[i] as number[])[j] as number;
        if (here === Infinity) continue;
        for (const [a, b] of GROUPS) {
          if (i + a > m || j + b > reach) continue;
          const words = target.words.slice(i, i + a);
          const heard = tokens.slice(start + j, start + j + b);
          const spelled = a === b && words.every((w, k) => w === heard[k]);
          let groupCost = 0;
          if (!spelled) {
            // Only content words are matched by sound, and never across a negator.
            if (!words.some((w) => isContentWord(w, language)) || heard.some((t) => isNegator(t, language))) continue;
            // A phrase word heard as spelled, or in another form ("cancelled" is not "cancel", as for
            // spelling: fuzzy.ts), was heard right: the tokens around it are other words ("refund if").
            if (heard.some((t) => words.some((w) => w === t || isInflection(w, t, language)))) continue;
            const heardSounds = sounds.slice(start + j, start + j + b);
            if (heardSounds.some((s) => s === undefined)) continue;
            const want = target.sounds.slice(i, i + a).flat();
            groupCost = editDistance(want, (heardSounds as (readonly string[])[]).flat());
            // One word for one word is most often another real word ("praten" for "klagen"), so it must be closer
            // than a word heard cut in two, which is evidence of a mishearing in itself.
            const limit = a === 1 && b === 1 ? this.options.groupThreshold - SINGLE_WORD_MARGIN : this.options.groupThreshold;
            if (groupCost / want.length > limit) continue;
          }
          const total = here + groupCost;
          const row = cost[i + a] as number[];
          if (total < (row[j + b] as number)) {
            row[j + b] = total;
            (exact[i + a] as boolean[])[j + b] = ((exact[i] as boolean[])[j] as boolean) && spelled;
          }
        }
      }
    }
    let best: PhoneticCandidate | undefined;
    const last = cost[m] as number[];
    for (let j = 1; j <= reach; j++) {
      const total = last[j] as number;
      // Spelled as the phrase: the ordinary matcher has it already.
      if (total === Infinity || (exact[m] as boolean[])[j] === true) continue;
      const distance = total / target.length;
      if (distance <= this.options.threshold && (best === undefined || distance < best.distance)) best = { words: target.words, start, end: start + j - 1, distance };
    }
    return best;
  }
}

/** Weighted Levenshtein distance between phoneme sequences (costs in phonemes.ts). */
export function editDistance(a: readonly string[], b: readonly string[]): number {
  let previous = new Float64Array(b.length + 1);
  let current = new Float64Array(b.length + 1);
  for (let j = 1; j <= b.length; j++) previous[j] = (previous[j - 1] as number) + indelCost(b[j - 1] as string);
  for (let i = 1; i <= a.length; i++) {
    const pa = a[i - 1] as string;
    current[0] = (previous[0] as number) + indelCost(pa);
    for (let j = 1; j <= b.length; j++) {
      const pb = b[j - 1] as string;
      current[j] = Math.min(
        (previous[j - 1] as number) + substitutionCost(pa, pb),
        (previous[j] as number) + indelCost(pa),
        (current[j - 1] as number) + indelCost(pb),
      );
    }
    [previous, current] = [current, previous];
  }
  return previous[b.length] as number;
}
