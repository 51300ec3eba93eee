/**
 * Lexicon-based sentiment of a final utterance, and anger/frustration cues,
 * for English and Dutch transcripts (lower-case word tokens).
 *
 * Each lexicon term found (longest match first, multi-word terms included)
 * contributes its polarity, scaled by intensifiers just before it ("very",
 * "echt", "a bit"), flipped and damped by a negator shortly before it ("not
 * happy", "niet blij", "not bad"), and damped when a contrast word follows
 * ("it was late but they were great": the part after "but" decides). The sum
 * is squashed into -1..1 so that more evidence saturates instead of growing.
 */
import type { Language } from '../../language.js';
import { ANGER_LEXICON, CONTRAST_WORDS, INTENSIFIERS, NEGATORS, SENTIMENT_LEXICON, type PolarityLexicon } from './lexicon.js';

/** Sentiment of one utterance. */
export interface SentimentScore {
  /** -1 (very negative) .. 1 (very positive); 0 when nothing was found. */
  score: number;
  label: 'negative' | 'neutral' | 'positive';
  /** Terms that contributed, as matched; negated ones with their negator ("not happy"). */
  hits: string[];
}

/** An anger or frustration cue in an utterance. */
export interface AngerCue {
  /** The lexicon term, as matched. */
  term: string;
  /** 0..1: how strongly the term signals anger. */
  weight: number;
  /** Index of its first token. */
  start: number;
  /** Index after its last token (exclusive). */
  end: number;
}

/** |score| below this is neutral: "okay", "sorry" alone carry no mood. */
const NEUTRAL_BAND = 0.2;
/** Squash constant: score = sum / sqrt(sum² + SQUASH); one "great" gives about 0.57. */
const SQUASH = 1;
/**
 * A negated positive turns fairly negative ("not happy"); a negated negative
 * becomes only faintly positive ("not angry" is calm, not glad). Idioms that
 * are clearly positive ("not bad", "geen probleem") are lexicon phrases.
 */
const NEGATED_POSITIVE = 0.75;
const NEGATED_NEGATIVE = 0.25;
/** Weight of what was said before a contrast word. */
const BEFORE_CONTRAST = 0.3;
/** How far before a term an intensifier still applies ("really very happy"). */
const INTENSIFIER_REACH = 2;
/** Utterances beyond this many tokens are scored on their first part only; bounds the work. */
const MAX_TOKENS = 2000;

interface Entry {
  readonly words: readonly string[];
  readonly value: number;
  readonly term: string;
}

type Index = ReadonlyMap<string, readonly Entry[]>;

/** Lower case, typographic apostrophes as ASCII, diacritics dropped ("geïrriteerd" = "geirriteerd"). */
function fold(word: unknown): string {
  if (typeof word !== 'string') return '';
  const lower = word.toLowerCase().replace(/[\u2019\u2018`]/g, "'");
  // eslint-disable-next-line no-control-regex -- ASCII fast path
  return /^[\x00-\x7f]*$/.test(lower) ? lower : lower.normalize('NFD').replace(/\p{M}/gu, '');
}

function buildIndex(lexicon: PolarityLexicon): Index {
  const index = new Map<string, Entry[]>();
  for (const [term, value] of lexicon) {
    const words = term.split(' ').map(fold);
    const first = words[0];
    if (first === undefined) continue;
    const list = index.get(first) ?? [];
    list.push({ words, value, term });
    index.set(first, list);
  }
  for (const list of index.values()) list.sort((a, b) => b.words.length - a.words.length);
  return index;
}

const foldMap = <V>(m: ReadonlyMap<string, V>): ReadonlyMap<string, V> => new Map([...m].map(([k, v]) => [fold(k), v]));

interface LanguageTables {
  readonly sentiment: Index;
  readonly anger: Index;
  readonly negators: ReadonlyMap<string, number>;
  readonly intensifiers: ReadonlyMap<string, number>;
  readonly contrast: ReadonlySet<string>;
}

let tables: Record<Language, LanguageTables> | undefined;

/** Built on first use, so importing the module costs nothing. */
function tablesFor(language: unknown): LanguageTables {
  if (tables === undefined) {
    const build = (l: Language): LanguageTables => ({
      sentiment: buildIndex(SENTIMENT_LEXICON[l]),
      anger: buildIndex(ANGER_LEXICON[l]),
      negators: foldMap(NEGATORS[l]),
      intensifiers: foldMap(INTENSIFIERS[l]),
      contrast: new Set([...CONTRAST_WORDS[l]].map(fold)),
    });
    tables = { 'en-US': build('en-US'), 'nl-NL': build('nl-NL') };
  }
  return tables[language === 'nl-NL' ? 'nl-NL' : 'en-US'];
}

function matchAt(words: readonly string[], i: number, index: Index): Entry | undefined {
  const candidates = index.get(words[i] ?? '');
  if (candidates === undefined) return undefined;
  for (const entry of candidates) {
    let ok = true;
    for (let k = 1; k < entry.words.length && ok; k++) ok = words[i + k] === entry.words[k];
    if (ok) return entry;
  }
  return undefined;
}

function negatorReach(word: string, t: LanguageTables): number | undefined {
  return t.negators.get(word) ?? (word.endsWith("n't") ? 3 : undefined);
}

interface Modifiers {
  multiplier: number;
  negator: string | undefined;
}

/** Intensifiers and a negator in the few tokens before `start`, not reaching back past `floor` or a contrast word. */
function modifiersBefore(words: readonly string[], start: number, floor: number, t: LanguageTables): Modifiers {
  let multiplier = 1;
  let negator: string | undefined;
  for (let j = start - 1; j >= Math.max(floor, start - 3); j--) {
    const w = words[j] ?? '';
    if (t.contrast.has(w)) break;
    const intensity = t.intensifiers.get(w);
    if (intensity !== undefined && start - j <= INTENSIFIER_REACH) multiplier *= intensity;
    const reach = negatorReach(w, t);
    if (reach !== undefined && start - j <= reach && negator === undefined) negator = w;
  }
  return { multiplier, negator };
}

const clamp = (x: number, lo: number, hi: number): number => Math.min(hi, Math.max(lo, x));

/**
 * Scores the sentiment of one utterance's tokens. Never throws; an empty or
 * unknown utterance is neutral with score 0.
 */
export function scoreSentiment(tokens: readonly string[], language: Language): SentimentScore {
  const t = tablesFor(language);
  const words = Array.isArray(tokens) ? tokens.slice(0, MAX_TOKENS).map(fold) : [];
  const contributions: { value: number; start: number }[] = [];
  const hits: string[] = [];
  let lastContrast = -1;
  let floor = 0;
  let i = 0;
  while (i < words.length) {
    const word = words[i] ?? '';
    if (t.contrast.has(word)) lastContrast = i;
    const entry = matchAt(words, i, t.sentiment);
    // "super blij", "erg slecht": an intensifier before a term modifies it rather than counting itself.
    if (entry === undefined || (t.intensifiers.has(word) && entry.words.length === 1 && matchAt(words, i + 1, t.sentiment) !== undefined)) {
      i++;
      continue;
    }
    const { multiplier, negator } = modifiersBefore(words, i, floor, t);
    let value = clamp(entry.value * multiplier, -1, 1);
    if (negator !== undefined) value = -value * (value > 0 ? NEGATED_POSITIVE : NEGATED_NEGATIVE);
    contributions.push({ value, start: i });
    hits.push(negator === undefined ? entry.term : `${negator} ${entry.term}`);
    i += entry.words.length;
    floor = i;
  }
  let sum = 0;
  for (const c of contributions) sum += c.start < lastContrast ? c.value * BEFORE_CONTRAST : c.value;
  const score = sum === 0 ? 0 : clamp(sum / Math.sqrt(sum * sum + SQUASH), -1, 1);
  const label = score >= NEUTRAL_BAND ? 'positive' : score <= -NEUTRAL_BAND ? 'negative' : 'neutral';
  return { score, label, hits };
}

/**
 * Anger and frustration cues in an utterance ("ridiculous", "fed up",
 * "ik ben het zat", "belachelijk"), longest match first, without overlap.
 * A negated cue ("not angry", "niet boos") is no cue; an intensified one
 * weighs more, up to 1. Never throws.
 */
export function angerCues(tokens: readonly string[], language: Language): AngerCue[] {
  const t = tablesFor(language);
  const words = Array.isArray(tokens) ? tokens.slice(0, MAX_TOKENS).map(fold) : [];
  const out: AngerCue[] = [];
  let floor = 0;
  let i = 0;
  while (i < words.length) {
    const entry = matchAt(words, i, t.anger);
    if (entry === undefined) {
      i++;
      continue;
    }
    const end = i + entry.words.length;
    const { multiplier, negator } = modifiersBefore(words, i, floor, t);
    if (negator === undefined) {
      // Intensifiers count half: "really ridiculous" is angrier, not twice as angry.
      const weight = clamp(entry.value * (1 + (multiplier - 1) / 2), 0, 1);
      out.push({ term: entry.term, weight, start: i, end });
    }
    i = end;
    floor = end;
  }
  return out;
}
