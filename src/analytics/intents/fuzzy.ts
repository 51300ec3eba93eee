/**
 * Tolerance for ASR misrecognitions of grammar words ("cancel my older",
 * "file a compliant", "uw menager"), bounded so that different words with a
 * different meaning do not match:
 *
 * - only content words of 5+ letters are compared (never "my", "to", "is",
 *   "niet", whose near neighbours are other function words);
 * - at most 1 edit (Damerau: substitution, insertion, deletion or swap of
 *   neighbours) for words of 5-7 letters and 2 for 8+; or the same
 *   consonant skeleton ("council" for "cancel") for words of 6+ letters;
 * - never an inflection or derivation of the grammar word: "cancelled",
 *   "cancels", "orders", "bestellen" (for "bestelling") and "annuleer" (for
 *   "annuleren") are different words, not misrecognitions. A grammar that
 *   wants them spells them out;
 * - never a negator for a word that is not one, or the reverse ("nergens"
 *   is not a slip for "ergens": negation.ts lists the negators).
 *
 * Everything is precomputed per vocabulary and cached per token, because the
 * matcher runs on every partial hypothesis of every call.
 */
import type { Language } from '../../language.js';
import { isNegator } from './negation.js';

/** A grammar word a transcript token may be a misrecognition of. */
export interface FuzzyHit {
  readonly word: string;
  /** Multiplier (< 1) for the match confidence. */
  readonly penalty: number;
  /** How the two relate: one edit, two edits (long words), or the same sound. */
  readonly kind: 'edit' | 'edits' | 'sound';
}

/** A homophone stands in for the word it sounds like at this multiplier. */
export const PENALTY_HOMOPHONE = 0.85;

/**
 * Short words recognisers confuse with a same-sounding word ("wear is my
 * order"). Function words are otherwise never approximate, so these are
 * listed, not computed.
 */
export const HOMOPHONES: Readonly<Record<Language, ReadonlyMap<string, readonly string[]>>> = {
  'en-US': new Map([
    ['wear', ['where']],
    ['ware', ['where']],
    ['were', ['where']],
    ['wears', ["where's"]],
    ['too', ['to']],
    ['two', ['to']],
    ['four', ['for']],
    ['fore', ['for']],
    ['know', ['no']],
    ['there', ['their', "they're"]],
    ['their', ['there', "they're"]],
    ['write', ['right']],
    ['right', ['write']],
    ['by', ['buy']],
    ['buy', ['by']],
    ['hear', ['here']],
    ['here', ['hear']],
    ['whole', ['hole']],
    ['eye', ['i']],
    ['aisle', ["i'll"]],
  ]),
  'nl-NL': new Map([
    ['word', ['wordt']],
    ['wort', ['wordt']],
    ['wordt', ['word']],
    ['wei', ['wij']],
    ['zei', ['zij']],
    ['jou', ['jouw']],
    ['jouw', ['jou']],
    ['hun', ['hen']],
    ['hen', ['hun']],
    ['mij', ['mijn']],
    ['mn', ["m'n"]],
  ]),
};

/** Confidence multipliers: one edit is a common ASR slip, anything more is weaker evidence. */
export const PENALTY_ONE_EDIT = 0.8;
export const PENALTY_TWO_EDITS = 0.65;
export const PENALTY_PHONETIC = 0.65;

const MIN_FUZZY_LENGTH = 5;
const MIN_PHONETIC_LENGTH = 6;

/** Function words: never compared fuzzily, and not "content" for the exact-anchor rule. */
export const FUNCTION_WORDS: Readonly<Record<Language, ReadonlySet<string>>> = {
  'en-US': new Set(
    (
      "a an the this that these those my your our their his her its me you we us they them he she it i i'm i'd i'll i've " +
      "to of in on at for with by from about into over under up down out off as than then there here where when what why how who which whose " +
      'is are was were be been being am do does did done have has had having can could will would shall should may might must ' +
      "and or but if so because not no nor don't doesn't didn't won't can't isn't aren't wasn't haven't hasn't " +
      'just please now still already yet again very really also too some any all every one get got go going gonna wanna want like need ' +
      "yes yeah ok okay uh um well oh hi hello thanks thank sorry let let's me myself " +
      "where's what's how's who's that's it's there's here's he's she's we're you're they're we'll you'll they'll i'd we'd you'd " +
      'wheres whats hows whos thats its theres heres im ive dont doesnt didnt wont cant isnt arent wasnt havent hasnt'
    ).split(' '),
  ),
  'nl-NL': new Set(
    (
      'de het een dit dat deze die mijn uw jouw je jij ik u we wij ons onze jullie hun hen zij ze hij haar zijn mij me men er ' +
      'van in op aan voor met bij uit over naar tot om door onder tegen na als dan toen waar wanneer wat waarom hoe wie welke ' +
      'is ben bent was waren zijn wordt worden werd heb hebt heeft had hadden kan kun kunt kunnen zal zou zouden mag mogen moet moeten ' +
      'wil wilt willen ga gaat gaan doe doet doen en of maar want omdat dus niet geen nooit nee ja ook nog al wel even maar eens ' +
      "graag alstublieft alsjeblieft nu hier daar toch eigenlijk gewoon echt heel zeer hoor hè uh eh ehm oké dag hallo dank bedankt m'n z'n 'n d'r"
    ).split(' '),
  ),
};

/** Endings that make a different word form (tense, person, number, diminutive). */
const SUFFIXES: Readonly<Record<Language, readonly string[]>> = {
  'en-US': ['s', 'es', "'s", 'd', 'ed', 'led', 'ing', 'ling', 'e', 'ation', 'ations', 'ly', 'ment', 'ments'],
  'nl-NL': ['e', 'en', 'n', 's', "'s", 't', 'd', 'te', 'de', 'ten', 'den', 'ing', 'ingen', 'je', 'jes', 'tje', 'tjes', 'pje', 'etje', 'er', 'ers', 'st'],
};

/** Whether `word` carries meaning on its own (for the fuzzy rules). */
export function isContentWord(word: string, language: Language): boolean {
  return word.length >= 3 && !FUNCTION_WORDS[language].has(word) && !/^\d+$/.test(word);
}

/**
 * Optimal-string-alignment distance (edits plus swaps of neighbours),
 * giving up with `max + 1` as soon as the distance must exceed `max`.
 */
export function editDistance(a: string, b: string, max: number): number {
  if (Math.abs(a.length - b.length) > max) return max + 1;
  const n = b.length;
  let prevPrev = new Array<number>(n + 1).fill(0);
  let prev = Array.from({ length: n + 1 }, (_, j) => j);
  let cur = new Array<number>(n + 1).fill(0);
  for (let i = 1; i <= a.length; i++) {
    cur[0] = i;
    let rowMin = i;
    for (let j = 1; j <= n; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min((prev[j] as number) + 1, (cur[j - 1] as number) + 1, (prev[j - 1] as number) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, (prevPrev[j - 2] as number) + 1);
      cur[j] = v;
      if (v < rowMin) rowMin = v;
    }
    if (rowMin > max) return max + 1;
    [prevPrev, prev, cur] = [prev, cur, prevPrev];
  }
  return prev[n] as number;
}

/**
 * A rough consonant skeleton: how the word sounds, vowels dropped. Enough
 * to see that "council" may be a misheard "cancel", not a full phonetic
 * algorithm.
 */
export function phoneticKey(word: string, language: Language): string {
  let w = word.replace(/['-]/g, '');
  if (language === 'nl-NL') {
    w = w
      .replace(/ij|ei|y/g, 'a')
      .replace(/sch/g, 'sg')
      .replace(/ch/g, 'g')
      .replace(/ph/g, 'f')
      .replace(/th/g, 't')
      .replace(/c(?=[eiy])/g, 's')
      .replace(/c/g, 'k')
      .replace(/q/g, 'k')
      .replace(/x/g, 'ks')
      .replace(/z/g, 's')
      .replace(/v/g, 'f')
      .replace(/dt$|d$/g, 't')
      .replace(/h/g, '');
  } else {
    w = w
      .replace(/^kn/, 'n')
      .replace(/^wr/, 'r')
      .replace(/ph/g, 'f')
      .replace(/gh/g, '')
      .replace(/ck/g, 'k')
      .replace(/tch/g, 'ch')
      .replace(/dg/g, 'j')
      .replace(/c(?=[eiy])/g, 's')
      .replace(/ch|sh/g, 'x')
      .replace(/c/g, 'k')
      .replace(/q/g, 'k')
      .replace(/z/g, 's')
      .replace(/g(?=[eiy])/g, 'j')
      .replace(/th/g, '0');
  }
  const first = /^[aeiouy]/.test(w) ? 'A' : w.charAt(0);
  const rest = w.slice(1).replace(/[aeiouyhw]/g, '');
  return (first + rest).replace(/(.)\1+/g, '$1');
}

/** Stems of a word, each with the endings that lead to it ('' for the word itself); doubled consonants and Dutch long vowels undone. */
function stems(word: string, language: Language): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  const add = (stem: string, suffix: string): void => {
    let suffixes = out.get(stem);
    if (suffixes === undefined) out.set(stem, (suffixes = new Set()));
    suffixes.add(suffix);
  };
  add(word, '');
  for (const suffix of SUFFIXES[language]) {
    if (word.length - suffix.length < 3 || !word.endsWith(suffix)) continue;
    const stem = word.slice(0, -suffix.length);
    add(stem, suffix);
    if (/([bcdfgklmnprstvz])\1$/.test(stem)) add(stem.slice(0, -1), suffix);
  }
  if (language === 'nl-NL') {
    for (const [stem, suffixes] of [...out]) for (const suffix of suffixes) add(stem.replace(/([aeou])\1/g, '$1'), suffix);
  }
  return out;
}

/**
 * Whether `a` and `b` are forms of one word with different endings
 * ("cancel"/"cancelled", "bestelling"/"bestellen", "annuleer"/"annuleren").
 * A shared stem reached through the same ending is a spelling slip
 * ("besteling" for "bestelling"), not another form.
 */
export function isInflection(a: string, b: string, language: Language): boolean {
  if (a === b) return false;
  const sa = stems(a, language);
  for (const [stem, suffixesB] of stems(b, language)) {
    const suffixesA = sa.get(stem);
    if (suffixesA === undefined) continue;
    for (const x of suffixesA) for (const y of suffixesB) if (x !== y) return true;
  }
  return false;
}

/**
 * The confidence multiplier when `token` may be a misrecognition of the
 * grammar word `word`, or `undefined` when it may not (see the module comment).
 */
export function fuzzyPenalty(token: string, word: string, language: Language): number | undefined {
  return fuzzyMatch(token, word, language)?.penalty;
}

/** Like `fuzzyPenalty`, with how the two words relate. */
export function fuzzyMatch(token: string, word: string, language: Language): FuzzyHit | undefined {
  if (token === word || word.length < MIN_FUZZY_LENGTH || token.length < 3) return undefined;
  if (!isContentWord(word, language) || FUNCTION_WORDS[language].has(token)) return undefined;
  if (isInflection(word, token, language)) return undefined;
  // A word that says no is never a slip for one that does not ("nergens" for "ergens"), nor the reverse.
  if (isNegator(token, language) !== isNegator(word, language)) return undefined;
  const maxEdits = word.length >= 8 ? 2 : 1;
  const distance = editDistance(token, word, 3);
  if (distance <= maxEdits) return distance === 1 ? { word, penalty: PENALTY_ONE_EDIT, kind: 'edit' } : { word, penalty: PENALTY_TWO_EDITS, kind: 'edits' };
  if (
    word.length >= MIN_PHONETIC_LENGTH &&
    distance <= 3 &&
    Math.abs(word.length - token.length) <= 2 &&
    token[0] === word[0]
  ) {
    const key = phoneticKey(word, language);
    if (key.length >= 3 && key === phoneticKey(token, language)) return { word, penalty: PENALTY_PHONETIC, kind: 'sound' };
  }
  return undefined;
}

/** Most token strings seen per matcher before the neighbour cache starts over. */
const CACHE_LIMIT = 20_000;

/**
 * The grammar words of one language with a per-token cache of which of
 * them a token may be a misrecognition of.
 */
export class FuzzyVocabulary {
  private readonly words: readonly string[];
  private readonly cache = new Map<string, readonly FuzzyHit[]>();

  constructor(
    words: Iterable<string>,
    private readonly language: Language,
  ) {
    this.words = [...new Set(words)].filter((w) => w.length >= MIN_FUZZY_LENGTH && isContentWord(w, language));
  }

  /** Grammar words `token` may stand for, best first; empty for most tokens. */
  neighbours(token: string): readonly FuzzyHit[] {
    let hits = this.cache.get(token);
    if (hits !== undefined) return hits;
    const found: FuzzyHit[] = [];
    for (const word of this.words) {
      const hit = fuzzyMatch(token, word, this.language);
      if (hit !== undefined) found.push(hit);
    }
    hits = found.sort((a, b) => b.penalty - a.penalty);
    if (this.cache.size >= CACHE_LIMIT) this.cache.clear();
    this.cache.set(token, hits);
    return hits;
  }
}
