/**
 * PII redaction of transcripts, written ("4111 1111 1111 1111",
 * "NL91ABNA0417164300", "jan@example.com", "+31 6 12345678") and spoken as
 * ASR engines write it ("four one one one ...", "n l nine one a b n a ...",
 * "jan at example dot com", "nul zes een twee ..."). Each finding is replaced
 * by a placeholder: `[card]`, `[iban]`, `[bsn]`, `[phone]`, `[email]`.
 *
 * A digit run must be a whole run (the digits read back to back, joined only
 * by spaces, dashes, dots, slashes or brackets) to count, and must pass its
 * check: cards Luhn (13-19 digits), BSNs the 11-proef (9 digits), IBANs mod-97
 * with their country's length; phones go by length and prefix (see
 * `phoneNumber` in checks.ts). Windows inside a longer run are not searched:
 * any 9 digits pass the 11-proef one time in 11, so that would redact
 * ordinary numbers at random. Short numbers ("order number four five six
 * seven", "twenty five euros") are never touched.
 */
import type { Language } from '../../language.js';
import { orderContextBefore } from '../entities/extract.js';
import { parseDigitRunAt, parseNumberAt } from '../entities/numbers.js';
import { IBAN_LENGTHS, bsnValid, ibanValid, isCardNumber, phoneNumber } from './checks.js';

/** Every PII type, in the order findings are reported. */
export const PII_TYPES = ['card', 'iban', 'bsn', 'phone', 'email'] as const;
/** A kind of personal data redaction can remove. */
export type PiiType = (typeof PII_TYPES)[number];

/** Redacted text and how many findings of each type were replaced. */
export interface RedactionResult {
  text: string;
  /** One entry per type with at least one finding, in `PII_TYPES` order. */
  found: { type: PiiType; count: number }[];
}

/** Options of `redactTranscript`. */
export interface RedactionOptions {
  /** Types to redact; all of them when absent, none when empty. */
  types?: ReadonlySet<PiiType>;
}

const ALL_TYPES: ReadonlySet<PiiType> = new Set(PII_TYPES);
const PLACEHOLDER_WORDS: ReadonlySet<string> = new Set(PII_TYPES);

interface Token {
  /** Lower-cased, as transcripts are. */
  readonly text: string;
  /** As written, for upper-case bank codes ("ABNA"). */
  readonly raw: string;
  readonly start: number;
  readonly end: number;
  /** Index of its run of tokens joined by separators a number may contain. */
  readonly segment: number;
  /** Whether a "+" stands just before it. */
  readonly plus: boolean;
}

interface Finding {
  readonly type: PiiType;
  readonly start: number;
  readonly end: number;
}

const WORD = /[\p{L}\p{N}'_-]+/gu;
/** What may join the pieces of one number: "4111 1111", "06-1234", "(555) 123", "111.222.333". */
const NUMBER_JOINER = /^[ \t\-./()+]{1,4}$/;
/** Written e-mail; bounded repetitions keep it linear on long words without "@". */
const WRITTEN_EMAIL = /[\w.+%-]{1,64}@[\p{L}\p{N}-]{1,63}(?:\.[\p{L}\p{N}-]{1,63}){1,8}/gu;

const AT_WORDS = new Set(['at', 'apenstaartje', 'at-sign', 'at-teken']);
const DOT_WORDS = new Set(['dot', 'punt']);
/** Spoken separators inside the local part: "jan dot jansen", "jan underscore jansen". */
const LOCAL_JOINERS = new Set(['dot', 'punt', 'underscore', 'dash', 'streepje', 'hyphen', 'minus']);
/** Top-level domains accepted in spoken addresses: "at" is too common a word to go without one. */
const TLDS = new Set([
  'com', 'org', 'net', 'nl', 'be', 'de', 'eu', 'io', 'co', 'uk', 'info', 'nu', 'edu', 'gov', 'fr', 'biz', 'me',
  'us', 'ca', 'app', 'dev', 'online', 'shop', 'es', 'it', 'ch', 'at', 'au', 'pl', 'se', 'dk', 'no', 'fi', 'ie',
]);
/** Words before "at" that make it the preposition: "look at amazon dot com". */
const NOT_A_LOCAL_PART = new Set([
  'look', 'looking', 'looked', 'me', 'us', 'it', 'him', 'her', 'them', 'you', 'i', 'we', 'they', 'is', 'am', 'are',
  'was', 'were', 'be', 'been', 'here', 'there', 'that', 'this', 'the', 'a', 'an', 'and', 'or', 'just', 'still',
  'stay', 'go', 'going', 'went', 'shop', 'shopping', 'bought', 'ordered', 'order', 'buy', 'purchased', 'online',
  'website', 'site', 'on', 'in', 'check', 'checked', 'visit', 'available', 'only', "i'm", "we're", "you're", "it's",
  'arrive', 'arrived', 'sold', 'listed', 'found', 'registered', 'signed', 'up', 'log', 'login', 'logged',
]);
const placeholder = (type: PiiType): string => `[${type}]`;

function tokensOf(text: string): Token[] {
  const out: Token[] = [];
  let segment = 0;
  let previousEnd = 0;
  for (const match of text.matchAll(WORD)) {
    let raw = match[0];
    let start = match.index;
    // Edge apostrophes and dashes are punctuation, as in tokenize().
    const lead = /^['-]+/.exec(raw)?.[0].length ?? 0;
    raw = raw.slice(lead).replace(/['-]+$/, '');
    start += lead;
    if (raw.length === 0) continue;
    const between = text.slice(previousEnd, start);
    if (out.length > 0 && !NUMBER_JOINER.test(between)) segment++;
    out.push({
      text: raw.toLowerCase().normalize('NFC'),
      raw,
      start,
      end: start + raw.length,
      segment,
      plus: /\+[ \t(]*$/.test(between),
    });
    previousEnd = start + raw.length;
  }
  return out;
}

/** Spoken e-mail addresses: "jan at example dot com", "j a n apenstaartje example punt nl". */
function spokenEmails(input: string, tokens: readonly Token[], text: readonly string[], used: boolean[], findings: Finding[]): void {
  // Spoken pieces are joined by spaces only; anything else (a redacted e-mail, a comma) ends the address.
  const spaced = (a: number, b: number): boolean => {
    const left = tokens[a];
    const right = tokens[b];
    return left !== undefined && right !== undefined && used[a] !== true && used[b] !== true && /^[ \t]+$/.test(input.slice(left.end, right.start));
  };
  const isLabel = (j: number): boolean => /^[\p{L}\p{N}-]+$/u.test(text[j] ?? '') && !DOT_WORDS.has(text[j] ?? '');
  for (let k = 1; k < text.length - 1; k++) {
    const at = text[k] ?? '';
    if (!AT_WORDS.has(at) || !spaced(k - 1, k) || !spaced(k, k + 1)) continue;
    // Domain: label (dot label)+ ending in a known top-level domain.
    let j = k + 1;
    let end = -1;
    for (let labels = 1; isLabel(j); labels++) {
      if (labels > 1 && TLDS.has(text[j] ?? '')) end = j + 1;
      const current = tokens[j];
      const next = tokens[j + 1];
      if (DOT_WORDS.has(text[j + 1] ?? '') && spaced(j, j + 1) && spaced(j + 1, j + 2)) j += 2;
      else if (current !== undefined && next !== undefined && used[j + 1] !== true && input.slice(current.end, next.start) === '.') j += 1; // "example.com"
      else break;
    }
    if (end < 0) continue;
    // Local part: the word before "at", extended over "x dot y" and spelled letters.
    let start = k - 1;
    const local = text[start] ?? '';
    if (!/^[\p{L}\p{N}._%+-]+$/u.test(local)) continue;
    if (at === 'at' && NOT_A_LOCAL_PART.has(local)) continue;
    for (;;) {
      const joiner = text[start - 1] ?? '';
      const word = text[start - 2] ?? '';
      if (LOCAL_JOINERS.has(joiner) && spaced(start - 1, start) && spaced(start - 2, start - 1) && !NOT_A_LOCAL_PART.has(word) && /^[\p{L}\p{N}]+$/u.test(word)) {
        start -= 2;
      } else if ((text[start] ?? '').length === 1 && /^\p{L}$/u.test(text[start - 1] ?? '') && spaced(start - 1, start)) {
        start -= 1; // "j a n at ..."
      } else {
        break;
      }
    }
    const first = tokens[start];
    const last = tokens[end - 1];
    if (first === undefined || last === undefined) continue;
    for (let u = start; u < end; u++) used[u] = true;
    findings.push({ type: 'email', start: first.start, end: last.end });
    k = end - 1;
  }
}

/**
 * An IBAN starting at token k of a segment, spoken or written: the token
 * index after it, and whether its check digits hold. A candidate of the
 * country's length whose check fails comes back as not valid.
 */
function ibanAt(tokens: readonly Token[], text: readonly string[], k: number, language: Language): { end: number; valid: boolean } | undefined {
  const first = tokens[k];
  if (first === undefined) return undefined;
  let s: string;
  let j: number;
  if (/^[a-z]{2}\d{2}[a-z0-9]*$/.test(first.text)) {
    s = first.text; // "NL91ABNA0417164300", "NL91"
    j = k + 1;
  } else if (/^[A-Z]{2}$/.test(first.raw)) {
    s = first.text; // "NL 91 ABNA ..."
    j = k + 1;
  } else if (/^[a-z]$/.test(first.text) && /^[a-z]$/.test(text[k + 1] ?? '')) {
    s = first.text + (text[k + 1] ?? ''); // "n l nine one ..."
    j = k + 2;
  } else {
    return undefined;
  }
  const country = s.slice(0, 2).toUpperCase();
  const length = IBAN_LENGTHS.get(country);
  if (length === undefined) return undefined;
  let best: { end: number; valid: boolean } | undefined;
  for (;;) {
    if (s.length === length) {
      const valid = ibanValid(s.toUpperCase());
      if (valid || (best === undefined && /^[a-z]{2}\d{2}/.test(s))) best = { end: j, valid };
    }
    if (s.length >= length || j >= tokens.length) break;
    const token = tokens[j];
    const word = text[j] ?? '';
    if (token === undefined) break;
    if (/^[a-z]$/.test(word) && !(language === 'en-US' && (word === 'o' || word === 'a') && s.length < 4)) {
      s += word;
      j++;
      continue;
    }
    const span = parseNumberAt(text, j, language);
    if (span !== undefined && /^\d+$/.test(span.digits)) {
      s += span.digits;
      j = span.end;
      continue;
    }
    // Written groups: "ABNA", "0417"; lower-case words are speech, not bank codes.
    if (/^[a-z0-9]+$/.test(word) && (/\d/.test(word) || /^[A-Z]+$/.test(token.raw))) {
      s += word;
      j++;
      continue;
    }
    break;
  }
  return best;
}

/**
 * Replaces card numbers, IBANs, BSNs, phone numbers and e-mail addresses in
 * a transcript by `[card]`, `[iban]`, `[bsn]`, `[phone]`, `[email]`. Only the
 * types in `options.types` are redacted (default: all). Never throws.
 */
export function redactTranscript(text: string, language: Language, options?: RedactionOptions): RedactionResult {
  const input = typeof text === 'string' ? text : '';
  const types = typeof options?.types?.has === 'function' ? options.types : ALL_TYPES;
  const lang: Language = language === 'nl-NL' ? 'nl-NL' : 'en-US';
  if (types.size === 0 || input.length === 0) return { text: input, found: [] };

  const findings: Finding[] = [];
  if (types.has('email') && input.includes('@')) {
    for (const match of input.matchAll(WRITTEN_EMAIL)) {
      findings.push({ type: 'email', start: match.index, end: match.index + match[0].length });
    }
  }

  // Written e-mails are blanked out (same length, so offsets hold) so that
  // no word is read across their edges; placeholders of an earlier pass
  // ("[card]") are words that are not read again.
  let masked = '';
  let at = 0;
  for (const f of findings) {
    masked += input.slice(at, f.start) + '\u0000'.repeat(f.end - f.start);
    at = f.end;
  }
  masked += input.slice(at);
  const all = tokensOf(masked);
  const used = all.map((t) => input[t.start - 1] === '[' && input[t.end] === ']' && PLACEHOLDER_WORDS.has(t.text));
  if (types.has('email')) spokenEmails(masked, all, all.map((t) => t.text), used, findings);

  // Numbers are read within a segment only ("call 06, 1234" is two numbers),
  // and not across a redacted e-mail address.
  let segment: Token[] = [];
  for (let k = 0; k <= all.length; k++) {
    const token = all[k];
    if (token === undefined || used[k] === true || token.segment !== segment[0]?.segment) {
      if (segment.length > 0) redactNumbers(input, segment, lang, types, findings);
      segment = [];
    }
    if (token !== undefined && used[k] !== true) segment.push(token);
  }
  return apply(input, findings);
}

/** Finds IBANs, cards, BSNs and phones among the tokens of one segment. */
function redactNumbers(input: string, tokens: readonly Token[], lang: Language, types: ReadonlySet<PiiType>, findings: Finding[]): void {
  const words = tokens.map((t) => t.text);
  let k = 0;
  while (k < tokens.length) {
    const token = tokens[k];
    if (token === undefined) break;
    // IBANs are read even when not redacted, so that their digits are not
    // taken for a phone number; one failing mod-97 is left as it is.
    const iban = ibanAt(tokens, words, k, lang);
    if (iban !== undefined) {
      if (iban.valid && types.has('iban')) findings.push({ type: 'iban', start: token.start, end: tokens[iban.end - 1]?.end ?? token.end });
      k = iban.end;
      continue;
    }
    const plusWord = words[k] === 'plus';
    const from = plusWord ? k + 1 : k;
    const run = parseDigitRunAt(words, from, lang, 40);
    if (run === undefined) {
      k++;
      continue;
    }
    const last = tokens[run.end - 1];
    const type = classify(run.digits, plusWord || tokens[from]?.plus === true, words, from, lang, types);
    if (type !== undefined && last !== undefined) {
      // Take a "+" or "(" written just before the number along.
      let start = token.start;
      while (start > 0 && /[+(]/.test(input[start - 1] ?? '')) start--;
      findings.push({ type, start, end: last.end });
    }
    k = run.end;
  }
}

function classify(digits: string, international: boolean, words: readonly string[], at: number, language: Language, types: ReadonlySet<PiiType>): PiiType | undefined {
  if (!international && types.has('card') && isCardNumber(digits)) return 'card';
  if (!international && types.has('bsn') && bsnValid(digits)) return 'bsn';
  if (types.has('phone') && phoneNumber(digits, international) !== undefined) {
    // "order number zero one two three ..." is an order number, not a phone.
    return !international && orderContextBefore(words, at, 0, language, true) ? undefined : 'phone';
  }
  return undefined;
}

function apply(text: string, findings: Finding[]): RedactionResult {
  findings.sort((a, b) => a.start - b.start || b.end - a.end);
  const counts = new Map<PiiType, number>();
  let out = '';
  let at = 0;
  for (const f of findings) {
    if (f.start < at) continue; // overlaps an earlier finding
    out += text.slice(at, f.start) + placeholder(f.type);
    at = f.end;
    counts.set(f.type, (counts.get(f.type) ?? 0) + 1);
  }
  out += text.slice(at);
  const found = PII_TYPES.filter((type) => counts.has(type)).map((type) => ({ type, count: counts.get(type) ?? 0 }));
  return { text: out, found };
}

/** Redacts every PII type from a value about to be logged. */
export function redactForLog(value: string, language: Language): string {
  return redactTranscript(value, language).text;
}
