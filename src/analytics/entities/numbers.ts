/**
 * Numbers in ASR transcripts, English and Dutch.
 *
 * Transcripts are lower-case word tokens (see `tokenize` in grammar/phrase.ts),
 * so numbers arrive as words ("four five six seven", "twenty five",
 * "vijfenveertig", "nul zes een twee") and sometimes as digits ("45 67",
 * "06-12345678"). Two readings compete at every start position:
 *
 * - a digit sequence: digit words, written digits, "double five", and the
 *   two-digit groups people use on the phone ("forty five sixty seven" is
 *   4567, "nul zes twaalf vierendertig" is 061234);
 * - a cardinal: "one thousand two hundred and five", "twaalfhonderd",
 *   "tweeduizend vijfentwintig", optionally with a "point"/"komma" fraction.
 *
 * The longer reading wins; on a tie the cardinal does ("twenty five" is 25).
 * Everything here is pure, allocation-light and total: any input, however
 * malformed, yields a span or `undefined`, never an exception.
 */
import type { Language } from '../../language.js';

/** A number found in a token array. */
export interface NumberSpan {
  /** Index of the first token of the number. */
  start: number;
  /** Index after the last token of the number (exclusive). */
  end: number;
  /**
   * The number as a digit string, as spoken: leading zeros kept ("nul zes"
   * is "06"). A cardinal with a spoken fraction has a '.' before the fraction
   * digits as spoken ("twenty five point five zero" is "25.50").
   */
  digits: string;
  /**
   * The cardinal value when the number is a cardinal ("twenty five" is 25,
   * "twelve hundred" 1200, "vijfentwintig komma vijf" 25.5); `undefined`
   * for digit-by-digit readings, whose leading zeros and length (phone and
   * card numbers) make a numeric value meaningless.
   */
  value: number | undefined;
  /** `digits`: read digit by digit or in groups; `cardinal`: a quantity. */
  kind: 'digits' | 'cardinal';
}

/** The pieces number words are made of; a Dutch compound is several. */
type Atom =
  | { readonly t: 'unit' | 'teen' | 'tens' | 'num' | 'scale'; readonly v: number }
  | { readonly t: 'hundred' | 'and' };

/** What one token can contribute to a number. */
interface TokenInfo {
  /** Its reading as number words, if it is one. */
  readonly atoms: readonly Atom[] | undefined;
  /** Its digits if it is written with digits ("45", "06-12345678"). */
  readonly numeric: string | undefined;
  /** English "oh"/"o": zero, but only between other digits. */
  readonly zeroOnly: boolean;
  /** Dutch "een": mostly the article "a", a number only next to other numbers. */
  readonly weak: boolean;
  /** "double" = 2, "triple" = 3; 0 otherwise. */
  readonly repeat: number;
  /** "point" / "komma". */
  readonly decimalPoint: boolean;
}

const NOT_A_NUMBER: TokenInfo = {
  atoms: undefined,
  numeric: undefined,
  zeroOnly: false,
  weak: false,
  repeat: 0,
  decimalPoint: false,
};

/** Longest token considered at all: longer ones are noise, and bound the work. */
const MAX_TOKEN_LENGTH = 64;
/** Upper bound on the digits one span collects (IBANs are 34 characters). */
const MAX_DIGITS = 64;
/** Longest written numeral still read as a cardinal (stays a safe integer). */
const MAX_CARDINAL_NUMERAL = 15;

const unit = (v: number): Atom => ({ t: 'unit', v });
const teen = (v: number): Atom => ({ t: 'teen', v });
const tens = (v: number): Atom => ({ t: 'tens', v });
const scale = (v: number): Atom => ({ t: 'scale', v });
const HUNDRED: Atom = { t: 'hundred' };
const AND: Atom = { t: 'and' };

const EN_WORDS: ReadonlyMap<string, Atom> = new Map<string, Atom>([
  ['zero', unit(0)],
  ['one', unit(1)],
  ['two', unit(2)],
  ['three', unit(3)],
  ['four', unit(4)],
  ['five', unit(5)],
  ['six', unit(6)],
  ['seven', unit(7)],
  ['eight', unit(8)],
  ['nine', unit(9)],
  ['ten', teen(10)],
  ['eleven', teen(11)],
  ['twelve', teen(12)],
  ['thirteen', teen(13)],
  ['fourteen', teen(14)],
  ['fifteen', teen(15)],
  ['sixteen', teen(16)],
  ['seventeen', teen(17)],
  ['eighteen', teen(18)],
  ['nineteen', teen(19)],
  ['twenty', tens(20)],
  ['thirty', tens(30)],
  ['forty', tens(40)],
  ['fifty', tens(50)],
  ['sixty', tens(60)],
  ['seventy', tens(70)],
  ['eighty', tens(80)],
  ['ninety', tens(90)],
  ['hundred', HUNDRED],
  ['thousand', scale(1e3)],
  ['million', scale(1e6)],
  ['billion', scale(1e9)],
  ['and', AND],
]);

/** Dutch number morphemes: Dutch writes a whole number as one word. */
const NL_MORPHEMES: ReadonlyMap<string, Atom> = new Map<string, Atom>([
  ['nul', unit(0)],
  ['een', unit(1)],
  ['twee', unit(2)],
  ['drie', unit(3)],
  ['vier', unit(4)],
  ['vijf', unit(5)],
  ['zes', unit(6)],
  ['zeven', unit(7)],
  ['acht', unit(8)],
  ['negen', unit(9)],
  ['tien', teen(10)],
  ['elf', teen(11)],
  ['twaalf', teen(12)],
  ['dertien', teen(13)],
  ['veertien', teen(14)],
  ['vijftien', teen(15)],
  ['zestien', teen(16)],
  ['zeventien', teen(17)],
  ['achttien', teen(18)],
  ['negentien', teen(19)],
  ['twintig', tens(20)],
  ['dertig', tens(30)],
  ['veertig', tens(40)],
  ['vijftig', tens(50)],
  ['zestig', tens(60)],
  ['zeventig', tens(70)],
  ['tachtig', tens(80)],
  ['negentig', tens(90)],
  ['honderd', HUNDRED],
  ['duizend', scale(1e3)],
  ['miljoen', scale(1e6)],
  ['miljard', scale(1e9)],
  ['en', AND],
]);

const NL_MORPHEMES_BY_LENGTH = [...NL_MORPHEMES.keys()].sort((a, b) => b.length - a.length);

/** "één" is unambiguous, unlike "een" (the article "a"). */
const NL_STRONG_ONE = new Set(['één', 'eén', 'éen']);
const EN_ZERO_ONLY = new Set(['oh', 'o']);
const REPEAT_WORDS: Readonly<Record<Language, ReadonlyMap<string, number>>> = {
  'en-US': new Map([
    ['double', 2],
    ['triple', 3],
    ['treble', 3],
  ]),
  'nl-NL': new Map([
    ['dubbel', 2],
    ['dubbele', 2],
    ['driedubbel', 3],
    ['driedubbele', 3],
    ['triple', 3],
    ['tripel', 3],
  ]),
};
const DECIMAL_POINT: Readonly<Record<Language, string>> = { 'en-US': 'point', 'nl-NL': 'komma' };

const NUMERAL = /^\d+(?:-\d+)*$/;

/** Splits a Dutch number word into morphemes; backtracks, memoises failures. */
function segmentDutch(word: string): Atom[] | undefined {
  const failed = new Set<number>();
  const out: Atom[] = [];
  const walk = (at: number): boolean => {
    if (at === word.length) return true;
    if (failed.has(at)) return false;
    for (const morpheme of NL_MORPHEMES_BY_LENGTH) {
      if (word.startsWith(morpheme, at)) {
        out.push(NL_MORPHEMES.get(morpheme) as Atom);
        if (walk(at + morpheme.length)) return true;
        out.pop();
      }
    }
    failed.add(at);
    return false;
  };
  return walk(0) ? out : undefined;
}

/** Reads one token as number words, without context. */
function wordAtoms(token: string, language: Language): Atom[] | undefined {
  let atoms: Atom[] | undefined;
  if (language === 'nl-NL') {
    if (NL_STRONG_ONE.has(token)) return [unit(1)];
    // "drieëntwintig", "drieentwintig" and "drie-en-twintig" are the same word.
    const plain = token.replace(/-/g, '').replace(/[ëé]/g, 'e');
    if (plain.length === 0) return undefined;
    atoms = segmentDutch(plain);
  } else {
    atoms = [];
    for (const part of token.split('-')) {
      const atom = EN_WORDS.get(part);
      if (atom === undefined) return undefined;
      atoms.push(atom);
    }
  }
  if (atoms === undefined || atoms.length === 0) return undefined;
  // A compound must be a whole number by itself, so that words like "achten"
  // ("acht" + "en") are not half a number.
  if (atoms.length > 1 && readCardinal(atoms, language === 'nl-NL') === undefined) return undefined;
  return atoms;
}

function computeInfo(raw: string, language: Language): TokenInfo {
  if (raw.length === 0 || raw.length > MAX_TOKEN_LENGTH) return NOT_A_NUMBER;
  const token = raw.toLowerCase();
  if (NUMERAL.test(token)) {
    const digits = token.replace(/-/g, '');
    return digits.length > MAX_DIGITS ? NOT_A_NUMBER : { ...NOT_A_NUMBER, numeric: digits };
  }
  if (token === DECIMAL_POINT[language]) return { ...NOT_A_NUMBER, decimalPoint: true };
  const repeat = REPEAT_WORDS[language].get(token);
  if (repeat !== undefined) return { ...NOT_A_NUMBER, repeat };
  if (language === 'en-US' && EN_ZERO_ONLY.has(token)) return { ...NOT_A_NUMBER, zeroOnly: true };
  const atoms = wordAtoms(token, language);
  if (atoms === undefined) return NOT_A_NUMBER;
  return { ...NOT_A_NUMBER, atoms, weak: language === 'nl-NL' && token === 'een' };
}

// Transcripts repeat the same few hundred words; partials re-scan them many times.
const CACHE_LIMIT = 20_000;
const caches: Record<Language, Map<string, TokenInfo>> = { 'en-US': new Map(), 'nl-NL': new Map() };

function infoOf(token: unknown, language: Language): TokenInfo {
  if (typeof token !== 'string') return NOT_A_NUMBER;
  const cache = caches[language];
  let info = cache.get(token);
  if (info === undefined) {
    info = computeInfo(token, language);
    if (cache.size >= CACHE_LIMIT) cache.clear();
    cache.set(token, info);
  }
  return info;
}

/** Any runtime value that is not Dutch is treated as English, never as an error. */
function lang(language: unknown): Language {
  return language === 'nl-NL' ? 'nl-NL' : 'en-US';
}

// ---------------------------------------------------------------------------
// Cardinals: a small state machine over atoms.

type Phase =
  | 'start'
  | 'zero'
  | 'unit'
  | 'unitEn' // Dutch "vijf en": waiting for the tens of "vijfenveertig"
  | 'teen'
  | 'tens'
  | 'tensUnit'
  | 'hundred'
  | 'and'
  | 'scale'
  | 'num'
  | 'big';

interface CardinalState {
  /** Sum of the completed thousand/million/billion groups. */
  readonly total: number;
  /** The group below 1000 being read. */
  readonly group: number;
  readonly phase: Phase;
  readonly hundredDone: boolean;
  /** Scales must descend: "thousand million" is not a number here. */
  readonly lastScale: number;
}

const INITIAL: CardinalState = { total: 0, group: 0, phase: 'start', hundredDone: false, lastScale: Infinity };
const COMPLETE: ReadonlySet<Phase> = new Set<Phase>(['zero', 'unit', 'teen', 'tens', 'tensUnit', 'hundred', 'scale', 'num', 'big']);
/** Phases after which a number below 100 may begin. */
const GROUP_START: ReadonlySet<Phase> = new Set<Phase>(['start', 'hundred', 'and', 'scale']);
/** Phases after which "hundred" or a scale word may multiply what was said. */
const MULTIPLIABLE: ReadonlySet<Phase> = new Set<Phase>(['start', 'unit', 'teen', 'tens', 'tensUnit', 'num']);

function step(s: CardinalState, a: Atom, nl: boolean): CardinalState | undefined {
  switch (a.t) {
    case 'unit':
      if (a.v === 0) return s.phase === 'start' ? { ...s, phase: 'zero' } : undefined;
      if (GROUP_START.has(s.phase)) return { ...s, group: s.group + a.v, phase: 'unit' };
      // "twenty five"; Dutch puts the unit first ("vijfentwintig").
      if (s.phase === 'tens' && !nl) return { ...s, group: s.group + a.v, phase: 'tensUnit' };
      return undefined;
    case 'teen':
      return GROUP_START.has(s.phase) ? { ...s, group: s.group + a.v, phase: 'teen' } : undefined;
    case 'tens':
      return GROUP_START.has(s.phase) || s.phase === 'unitEn' ? { ...s, group: s.group + a.v, phase: 'tens' } : undefined;
    case 'num':
      if (s.phase === 'start') return { ...s, group: a.v, phase: a.v < 1000 ? 'num' : 'big' };
      if (s.phase === 'scale' && a.v < 1000) return { ...s, group: a.v, phase: 'num' };
      if ((s.phase === 'hundred' || s.phase === 'and') && a.v < 100) return { ...s, group: s.group + a.v, phase: 'num' };
      return undefined;
    case 'and':
      if (nl && s.phase === 'unit') return { ...s, phase: 'unitEn' };
      return s.phase === 'hundred' || s.phase === 'scale' ? { ...s, phase: 'and' } : undefined;
    case 'hundred':
      // "two hundred", "twelve hundred", "negentienhonderd", bare "honderd".
      if (s.hundredDone || !MULTIPLIABLE.has(s.phase) || s.group >= 100) return undefined;
      return { ...s, group: (s.group === 0 ? 1 : s.group) * 100, phase: 'hundred', hundredDone: true };
    case 'scale':
      if (a.v >= s.lastScale || !(MULTIPLIABLE.has(s.phase) || s.phase === 'hundred')) return undefined;
      return {
        total: s.total + (s.group === 0 ? 1 : s.group) * a.v,
        group: 0,
        phase: 'scale',
        hundredDone: false,
        lastScale: a.v,
      };
  }
}

/** The value of a complete atom sequence, or undefined. */
function readCardinal(atoms: readonly Atom[], nl: boolean): number | undefined {
  let s: CardinalState | undefined = INITIAL;
  for (const a of atoms) {
    s = step(s, a, nl);
    if (s === undefined) return undefined;
  }
  return COMPLETE.has(s.phase) ? s.total + s.group : undefined;
}

function numeralAtom(numeric: string): Atom | undefined {
  if (numeric.length > MAX_CARDINAL_NUMERAL) return undefined;
  if (numeric === '0') return unit(0);
  if (numeric.startsWith('0')) return undefined; // "06" is read digit by digit
  return { t: 'num', v: Number(numeric) };
}

function isMultiplierAhead(token: unknown, language: Language): boolean {
  const first = infoOf(token, language).atoms?.[0];
  return first !== undefined && (first.t === 'hundred' || first.t === 'scale');
}

interface Reading {
  end: number;
  digits: string;
}

interface CardinalReading {
  end: number;
  value: number;
}

function parseCardinal(tokens: readonly string[], start: number, language: Language): CardinalReading | undefined {
  const nl = language === 'nl-NL';
  let s: CardinalState = INITIAL;
  let best: CardinalReading | undefined;
  for (let i = start; i < tokens.length; i++) {
    const token = tokens[i];
    const info = infoOf(token, language);
    let atoms: readonly Atom[] | undefined = info.atoms;
    if (atoms === undefined && info.numeric !== undefined) {
      const atom = numeralAtom(info.numeric);
      atoms = atom === undefined ? undefined : [atom];
    }
    // "a hundred", "a thousand": the article counts only before a multiplier.
    if (atoms === undefined && i === start && !nl && (token === 'a' || token === 'an') && isMultiplierAhead(tokens[i + 1], language)) {
      atoms = [unit(1)];
    }
    if (atoms === undefined) break;
    let next: CardinalState | undefined = s;
    for (const a of atoms) {
      next = step(next, a, nl);
      if (next === undefined) break;
    }
    if (next === undefined) break;
    s = next;
    if (COMPLETE.has(s.phase)) best = { end: i + 1, value: s.total + s.group };
  }
  // A lone Dutch "een" is the article.
  if (best !== undefined && best.end === start + 1 && infoOf(tokens[start], language).weak) return undefined;
  return best;
}

// ---------------------------------------------------------------------------
// Digit sequences.

/** The single digit a token stands for ("five", "5", "oh"), for "double five". */
function singleDigit(token: unknown, language: Language): string | undefined {
  const info = infoOf(token, language);
  if (info.zeroOnly) return '0';
  if (info.numeric !== undefined) return info.numeric.length === 1 ? info.numeric : undefined;
  const atoms = info.atoms;
  const a = atoms?.[0];
  return atoms?.length === 1 && a !== undefined && a.t === 'unit' ? String(a.v) : undefined;
}

function onlyAtom(token: unknown, language: Language): Atom | undefined {
  const atoms = infoOf(token, language).atoms;
  return atoms?.length === 1 ? atoms[0] : undefined;
}

/** One chunk of a digit sequence at token i: a digit, a written numeral, "double five", "forty five". */
function digitChunk(tokens: readonly string[], i: number, language: Language, first: boolean): Reading | undefined {
  const info = infoOf(tokens[i], language);
  if (info.numeric !== undefined) return { end: i + 1, digits: info.numeric };
  if (info.repeat > 0) {
    const d = singleDigit(tokens[i + 1], language);
    return d === undefined ? undefined : { end: i + 2, digits: d.repeat(info.repeat) };
  }
  if (info.zeroOnly) {
    // "oh" alone is an interjection; "oh six" is a phone number.
    return first && digitChunk(tokens, i + 1, language, false) === undefined ? undefined : { end: i + 1, digits: '0' };
  }
  const atoms = info.atoms;
  if (atoms === undefined) return undefined;
  const [a, b, c] = atoms;
  if (a === undefined) return undefined;
  if (atoms.length === 1) {
    switch (a.t) {
      case 'unit': {
        // Dutch "vijf en veertig" split by the recogniser.
        if (language === 'nl-NL' && a.v > 0 && onlyAtom(tokens[i + 1], language)?.t === 'and') {
          const t = onlyAtom(tokens[i + 2], language);
          if (t?.t === 'tens') return { end: i + 3, digits: String(t.v + a.v) };
        }
        // "one eight hundred ...": "eight hundred" is 800 inside a phone number.
        if (!first && a.v > 0 && onlyAtom(tokens[i + 1], language)?.t === 'hundred') {
          return { end: i + 2, digits: `${a.v}00` };
        }
        if (info.weak && first) {
          const next = infoOf(tokens[i + 1], language);
          const n = next.atoms?.[0];
          if (!(next.zeroOnly || (next.atoms?.length === 1 && n?.t === 'unit'))) return undefined;
        }
        return { end: i + 1, digits: String(a.v) };
      }
      case 'teen':
        return { end: i + 1, digits: String(a.v) };
      case 'tens': {
        const u = language === 'en-US' ? onlyAtom(tokens[i + 1], language) : undefined;
        if (u?.t === 'unit' && u.v > 0) return { end: i + 2, digits: String(a.v + u.v) };
        return { end: i + 1, digits: String(a.v) };
      }
      default:
        return undefined;
    }
  }
  if (atoms.length === 2 && b !== undefined) {
    if (a.t === 'tens' && b.t === 'unit') return { end: i + 1, digits: String(a.v + b.v) }; // "forty-five"
    if (!first && a.t === 'unit' && b.t === 'hundred') return { end: i + 1, digits: `${a.v}00` }; // "achthonderd"
    return undefined;
  }
  if (atoms.length === 3 && a.t === 'unit' && b?.t === 'and' && c?.t === 'tens') {
    return { end: i + 1, digits: String(a.v + c.v) }; // "vijfenveertig"
  }
  return undefined;
}

function parseDigitSequence(tokens: readonly string[], start: number, language: Language): Reading | undefined {
  let i = start;
  let digits = '';
  while (i < tokens.length && digits.length < MAX_DIGITS) {
    const chunk = digitChunk(tokens, i, language, i === start);
    if (chunk === undefined) break;
    digits += chunk.digits;
    i = chunk.end;
  }
  return i === start ? undefined : { end: i, digits: digits.slice(0, MAX_DIGITS) };
}

function validStart(tokens: readonly string[], start: number): boolean {
  return Array.isArray(tokens) && Number.isInteger(start) && start >= 0 && start < tokens.length;
}

function parseNumber(tokens: readonly string[], start: number, language: Language, allowDecimal: boolean): NumberSpan | undefined {
  const cardinal = parseCardinal(tokens, start, language);
  const sequence = parseDigitSequence(tokens, start, language);
  let span: NumberSpan;
  if (cardinal !== undefined && (sequence === undefined || cardinal.end >= sequence.end)) {
    span = { start, end: cardinal.end, digits: String(cardinal.value), value: cardinal.value, kind: 'cardinal' };
  } else if (sequence !== undefined) {
    span = { start, end: sequence.end, digits: sequence.digits, value: undefined, kind: 'digits' };
  } else {
    return undefined;
  }
  if (allowDecimal && span.kind === 'cardinal' && infoOf(tokens[span.end], language).decimalPoint) {
    const fraction = parseDigitSequence(tokens, span.end + 1, language);
    if (fraction !== undefined && fraction.digits.length <= 12) {
      const digits = `${span.digits}.${fraction.digits}`;
      span = { start, end: fraction.end, digits, value: Number(digits), kind: 'cardinal' };
    }
  }
  return span;
}

/**
 * Reads the longest number starting at `tokens[start]`, or `undefined` if
 * none starts there. "four five six seven" and "forty five sixty seven" are
 * digits "4567"; "one thousand two hundred and five" is the cardinal 1205;
 * "vijfentwintig komma vijf" is the cardinal 25.5 (digits "25.5"). Ordinary
 * words are never numbers: English "a" only counts in "a hundred", Dutch
 * "een" only next to other numbers, English "oh" only between digits.
 */
export function parseNumberAt(tokens: readonly string[], start: number, language: Language): NumberSpan | undefined {
  if (!validStart(tokens, start)) return undefined;
  return parseNumber(tokens, start, lang(language), true);
}

/**
 * Reads only a cardinal (no digit-by-digit reading, no fraction) at
 * `tokens[start]`: "march twenty three" needs 23, not digits.
 */
export function parseCardinalAt(
  tokens: readonly string[],
  start: number,
  language: Language,
): { start: number; end: number; value: number } | undefined {
  if (!validStart(tokens, start)) return undefined;
  const reading = parseCardinal(tokens, start, lang(language));
  return reading === undefined ? undefined : { start, end: reading.end, value: reading.value };
}

/** A run of numbers read back to back, as one digit string. */
export interface DigitRun {
  start: number;
  end: number;
  /** The concatenated digits of the numbers in the run. */
  digits: string;
}

/**
 * Reads consecutive numbers from `tokens[start]` as one digit string, the
 * way order, phone and card numbers are dictated in pieces: "four five six
 * seven", "zero six one two three four", "one hundred twenty three four five
 * six" (123 then 456). Fractions are not read. Reading stops once
 * `maxDigits` (default 64) digits are collected, so `digits` can exceed it by
 * the length of the last number read: callers check the length they need.
 */
export function parseDigitRunAt(tokens: readonly string[], start: number, language: Language, maxDigits = MAX_DIGITS): DigitRun | undefined {
  if (!validStart(tokens, start)) return undefined;
  const l = lang(language);
  let end = start;
  let digits = '';
  while (end < tokens.length && digits.length < maxDigits) {
    const span = parseNumber(tokens, end, l, false);
    if (span === undefined) break;
    digits += span.digits;
    end = span.end;
  }
  return end === start ? undefined : { start, end, digits };
}

// ---------------------------------------------------------------------------
// Ordinals, for dates.

const EN_ORDINALS: ReadonlyMap<string, number> = new Map([
  ['first', 1],
  ['second', 2],
  ['third', 3],
  ['fourth', 4],
  ['fifth', 5],
  ['sixth', 6],
  ['seventh', 7],
  ['eighth', 8],
  ['ninth', 9],
  ['tenth', 10],
  ['eleventh', 11],
  ['twelfth', 12],
  ['thirteenth', 13],
  ['fourteenth', 14],
  ['fifteenth', 15],
  ['sixteenth', 16],
  ['seventeenth', 17],
  ['eighteenth', 18],
  ['nineteenth', 19],
  ['twentieth', 20],
  ['thirtieth', 30],
  ['fortieth', 40],
  ['fiftieth', 50],
  ['sixtieth', 60],
  ['seventieth', 70],
  ['eightieth', 80],
  ['ninetieth', 90],
  ['hundredth', 100],
]);

const NL_ORDINAL_EXCEPTIONS: ReadonlyMap<string, number> = new Map([
  ['eerste', 1],
  ['derde', 3],
]);

function ordinalOfToken(token: string, language: Language): number | undefined {
  if (token.length === 0 || token.length > MAX_TOKEN_LENGTH) return undefined;
  if (language === 'en-US') {
    const written = /^(\d{1,4})(?:st|nd|rd|th)$/.exec(token);
    if (written?.[1] !== undefined) return Number(written[1]);
    const parts = token.split('-');
    if (parts.length === 2 && parts[0] !== undefined && parts[1] !== undefined) {
      const t = EN_WORDS.get(parts[0]);
      const u = EN_ORDINALS.get(parts[1]);
      return t?.t === 'tens' && u !== undefined && u < 10 ? t.v + u : undefined;
    }
    return EN_ORDINALS.get(token);
  }
  const written = /^(\d{1,4})(?:e|ste|de)$/.exec(token);
  if (written?.[1] !== undefined) return Number(written[1]);
  const exception = NL_ORDINAL_EXCEPTIONS.get(token);
  if (exception !== undefined) return exception;
  // "tweede", "achtste", "twintigste", "eenentwintigste": a cardinal + "de"/"ste".
  const stem = token.endsWith('ste') ? token.slice(0, -3) : token.endsWith('de') ? token.slice(0, -2) : undefined;
  if (stem === undefined || stem.length === 0) return undefined;
  const atoms = wordAtoms(stem, 'nl-NL');
  return atoms === undefined ? undefined : readCardinal(atoms, true);
}

/**
 * Reads an ordinal at `tokens[start]`: "third", "twenty first", "21st",
 * "derde", "eenentwintigste", "3e". Values are positive integers.
 */
export function parseOrdinalAt(
  tokens: readonly string[],
  start: number,
  language: Language,
): { start: number; end: number; value: number } | undefined {
  if (!validStart(tokens, start)) return undefined;
  const l = lang(language);
  const token = tokens[start];
  if (typeof token !== 'string') return undefined;
  if (l === 'en-US') {
    // "twenty first": a tens word, then a unit ordinal.
    const t = EN_WORDS.get(token);
    const next = tokens[start + 1];
    if (t?.t === 'tens' && typeof next === 'string') {
      const u = EN_ORDINALS.get(next);
      if (u !== undefined && u < 10) return { start, end: start + 2, value: t.v + u };
    }
  }
  const value = ordinalOfToken(token, l);
  return value === undefined || value <= 0 ? undefined : { start, end: start + 1, value };
}
