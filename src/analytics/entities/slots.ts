/**
 * Typed slot values read from transcript tokens: what a grammar phrase such
 * as "cancel order {order_number}" captures, normalized so that consumers
 * never parse words again.
 *
 * Normalized values:
 *
 * | slot           | format                                   | examples                                   |
 * |----------------|------------------------------------------|--------------------------------------------|
 * | `order_number` | optional upper-case letters, then digits | `4567`, `ABC123`, `0612`                   |
 * | `amount`       | `<units>.<cc>` then ` <ISO 4217>` if said | `25.00 EUR`, `1.50 EUR`, `20.50 USD`, `0.50`|
 * | `date`         | ISO-8601 partial or relative (below)     | `--03-03`, `2025-03-03`, `--03`, `+1d`, `weekday:monday` |
 * | `number`       | the `NumberSpan` digits                  | `4567`, `1205`, `06`, `25.5`               |
 *
 * Dates: `--MM-DD` for a month and day ("march third", "3 maart"),
 * `YYYY-MM-DD` when a year follows ("march third twenty twenty five"), `--MM`
 * for an unambiguous month alone ("januari"; not English "may"/"march"/
 * "august", which are also ordinary words and so need an ordinal or written
 * day: "may third", "may 3", not "may one of us"); relative days as a signed day
 * offset from the day of the call, `+0d` (today/vandaag), `+1d`
 * (tomorrow/morgen), `+2d` (overmorgen), `-1d` (yesterday/gisteren), `-2d`;
 * weekdays as `weekday:<english name>` ("monday", "next monday", "volgende
 * maandag" all give `weekday:monday`: the next such day).
 *
 * Amounts: no currency code when none was said ("twenty five" is `25.00`);
 * Dutch "cent" is euro cents, English "cents" alone has no currency.
 */
import type { Language } from '../../language.js';
import { parseCardinalAt, parseDigitRunAt, parseNumberAt, parseOrdinalAt, type NumberSpan } from './numbers.js';

/** The slot types grammars can capture. */
export type SlotType = 'order_number' | 'amount' | 'date' | 'number';

/** A slot value: the token index after it (exclusive) and its normalized value. */
export interface SlotValue {
  end: number;
  value: string;
}

/**
 * Reads a slot of `type` starting exactly at `tokens[start]`, or returns
 * `undefined`. Never throws. See the module comment for the value formats.
 */
export function parseSlotAt(type: SlotType, tokens: readonly string[], start: number, language: Language): SlotValue | undefined {
  if (!Array.isArray(tokens) || !Number.isInteger(start) || start < 0 || start >= tokens.length) return undefined;
  switch (type) {
    case 'order_number':
      return parseOrderNumberAt(tokens, start, language);
    case 'amount': {
      const amount = parseAmountAt(tokens, start, language);
      return amount === undefined ? undefined : { end: amount.end, value: amount.value };
    }
    case 'date':
      return parseDateAt(tokens, start, language);
    case 'number': {
      const span = parseNumberAt(tokens, start, language);
      return span === undefined ? undefined : { end: span.end, value: span.digits };
    }
    default:
      return undefined;
  }
}

// ---------------------------------------------------------------------------
// Order numbers.

const MIN_ORDER_DIGITS = 3;
const MAX_ORDER_DIGITS = 20;
const MAX_ORDER_LETTERS = 4;
/** Single letters that are also words ("a", "I", Dutch "u"), or zero ("o"). */
const AMBIGUOUS_LETTERS = new Set(['a', 'i', 'u', 'o']);
const LETTER = /^[a-z]$/;
const WRITTEN_ORDER = /^([a-z]{0,4})(\d+)$/;

/**
 * Reads an order number: 3 to 20 digits, optionally after up to 4 letters
 * spelled out ("a b c one two three" is `ABC123`) or written ("abc123").
 */
export function parseOrderNumberAt(tokens: readonly string[], start: number, language: Language): SlotValue | undefined {
  const first = tokens[start];
  if (typeof first !== 'string') return undefined;
  const written = WRITTEN_ORDER.exec(first);
  if (written !== null && written[1] !== undefined && written[1].length > 0 && written[2] !== undefined) {
    const digits = written[2];
    return digits.length >= MIN_ORDER_DIGITS && digits.length <= MAX_ORDER_DIGITS
      ? { end: start + 1, value: written[1].toUpperCase() + digits }
      : undefined;
  }
  let i = start;
  let letters = '';
  while (i - start < MAX_ORDER_LETTERS) {
    const token = tokens[i];
    if (typeof token !== 'string' || !LETTER.test(token)) break;
    letters += token;
    i++;
  }
  // A lone "a" or "u" before digits is the article or "you", not a letter.
  if (letters.length === 1 && AMBIGUOUS_LETTERS.has(letters)) {
    letters = '';
    i = start;
  }
  const run = parseDigitRunAt(tokens, i, language, MAX_ORDER_DIGITS + 1);
  if (run === undefined || run.digits.length < MIN_ORDER_DIGITS || run.digits.length > MAX_ORDER_DIGITS) return undefined;
  return { end: run.end, value: letters.toUpperCase() + run.digits };
}

// ---------------------------------------------------------------------------
// Amounts.

const CURRENCY_WORDS: ReadonlyMap<string, string> = new Map([
  ['euro', 'EUR'],
  ['euros', 'EUR'],
  ["euro's", 'EUR'],
  ['eur', 'EUR'],
  ['dollar', 'USD'],
  ['dollars', 'USD'],
  ['usd', 'USD'],
  ['bucks', 'USD'],
  ['pound', 'GBP'],
  ['pounds', 'GBP'],
  ['gbp', 'GBP'],
  ['quid', 'GBP'],
  ['pond', 'GBP'],
  ['ponden', 'GBP'],
]);
/** Codes said before the number mean that amount: "eur twenty five". */
const CURRENCY_CODES = new Set(['eur', 'usd', 'gbp']);
/** "euro vijftig", "a dollar fifty": one unit and some cents. */
const UNIT_FIRST_WORDS = new Set(['euro', 'dollar', 'pound', 'pond']);
/** Words for cents, with the currency they imply, if any. */
const CENT_WORDS: ReadonlyMap<string, string | undefined> = new Map([
  ['cent', undefined],
  ['cents', undefined],
  ['centen', undefined],
  ['eurocent', 'EUR'],
  ['eurocents', 'EUR'],
  ['eurocenten', 'EUR'],
  ['pence', 'GBP'],
  ['penny', 'GBP'],
]);
const ARTICLES = new Set(['a', 'an', 'een', 'één']);
const AND_WORDS = new Set(['and', 'en']);
/** Amounts beyond this are not amounts a caller says; also keeps cents exact. */
const MAX_AMOUNT_CENTS = 1e15;

/** An amount read from tokens. */
export interface AmountValue extends SlotValue {
  /** The amount in hundredths of the currency unit. */
  cents: number;
  /** ISO 4217 code when a currency was said. */
  currency: string | undefined;
  /** Whether a money word (currency or cents) was said, not just a number. */
  monetary: boolean;
}

function spanCents(span: NumberSpan): number | undefined {
  let value = span.value;
  if (value === undefined) {
    // "vier vijf euro" is odd but means 45; "nul vijf" is no amount.
    if (span.digits.startsWith('0') || span.digits.length > 12) return undefined;
    value = Number(span.digits);
  }
  const cents = Math.round(value * 100);
  return Number.isFinite(cents) && cents >= 0 && cents <= MAX_AMOUNT_CENTS ? cents : undefined;
}

function formatAmount(cents: number, currency: string | undefined): string {
  const units = Math.floor(cents / 100);
  const rest = String(cents % 100).padStart(2, '0');
  return currency === undefined ? `${units}.${rest}` : `${units}.${rest} ${currency}`;
}

/** Cents said after the currency: "twintig euro vijftig", "five dollars and fifty cents". */
function trailingCents(tokens: readonly string[], i: number, language: Language): { end: number; cents: number } | undefined {
  const hasAnd = AND_WORDS.has(tokens[i] ?? '');
  const at = hasAnd ? i + 1 : i;
  const n = parseCardinalAt(tokens, at, language);
  if (n === undefined || n.value >= 100) return undefined;
  const centWord = CENT_WORDS.has(tokens[n.end] ?? '');
  // After "and" the cents word is required: "five euros and two tickets".
  if (hasAnd && !centWord) return undefined;
  return { end: centWord ? n.end + 1 : n.end, cents: n.value };
}

function amount(end: number, cents: number, currency: string | undefined, monetary: boolean): AmountValue | undefined {
  if (cents > MAX_AMOUNT_CENTS) return undefined;
  return { end, value: formatAmount(cents, currency), cents, currency, monetary };
}

/**
 * Reads an amount: a number with an optional currency ("twenty five euros",
 * "twintig euro vijftig", "euro vijftig", "$"-less "25 dollars and 50 cents",
 * "vijftig cent", "eur 25"). Bare numbers are amounts without currency.
 */
export function parseAmountAt(tokens: readonly string[], start: number, language: Language): AmountValue | undefined {
  const first = tokens[start];
  if (typeof first !== 'string') return undefined;
  const leadCurrency = CURRENCY_WORDS.get(first);
  if (leadCurrency !== undefined) {
    if (CURRENCY_CODES.has(first)) {
      const n = parseNumberAt(tokens, start + 1, language);
      const cents = n === undefined ? undefined : spanCents(n);
      return n === undefined || cents === undefined ? undefined : amount(n.end, cents, leadCurrency, true);
    }
    if (UNIT_FIRST_WORDS.has(first)) {
      const tail = trailingCents(tokens, start + 1, language);
      return tail === undefined ? undefined : amount(tail.end, 100 + tail.cents, leadCurrency, true);
    }
    return undefined;
  }

  let base: number;
  let i: number;
  let integral: boolean;
  if (ARTICLES.has(first) && CURRENCY_WORDS.has(tokens[start + 1] ?? '')) {
    base = 100; // "a euro fifty", "een euro"
    i = start + 1;
    integral = true;
  } else {
    const n = parseNumberAt(tokens, start, language);
    if (n === undefined) return undefined;
    const cents = spanCents(n);
    if (cents === undefined) return undefined;
    base = cents;
    i = n.end;
    integral = !n.digits.includes('.');
  }

  const next = tokens[i] ?? '';
  if (CENT_WORDS.has(next)) {
    if (!integral || base % 100 !== 0) return undefined;
    const currency = CENT_WORDS.get(next) ?? (language === 'nl-NL' ? 'EUR' : undefined);
    return amount(i + 1, base / 100, currency, true);
  }
  const currency = CURRENCY_WORDS.get(next);
  if (currency === undefined) return amount(i, base, undefined, false);
  i++;
  if (integral) {
    const tail = trailingCents(tokens, i, language);
    if (tail !== undefined) return amount(tail.end, base + tail.cents, currency, true);
  }
  return amount(i, base, currency, true);
}

// ---------------------------------------------------------------------------
// Dates.

const MONTHS: Readonly<Record<Language, ReadonlyMap<string, number>>> = {
  'en-US': new Map([
    ['january', 1],
    ['february', 2],
    ['march', 3],
    ['april', 4],
    ['may', 5],
    ['june', 6],
    ['july', 7],
    ['august', 8],
    ['september', 9],
    ['october', 10],
    ['november', 11],
    ['december', 12],
  ]),
  'nl-NL': new Map([
    ['januari', 1],
    ['februari', 2],
    ['maart', 3],
    ['april', 4],
    ['mei', 5],
    ['juni', 6],
    ['juli', 7],
    ['augustus', 8],
    ['september', 9],
    ['oktober', 10],
    ['november', 11],
    ['december', 12],
  ]),
};
/** Months that are also ordinary English words: only dates with a day. */
const MONTHS_NEEDING_A_DAY = new Set(['may', 'march', 'august']);
const DAYS_IN_MONTH = [0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

const WEEKDAYS: Readonly<Record<Language, ReadonlyMap<string, string>>> = {
  'en-US': new Map([
    ['monday', 'monday'],
    ['tuesday', 'tuesday'],
    ['wednesday', 'wednesday'],
    ['thursday', 'thursday'],
    ['friday', 'friday'],
    ['saturday', 'saturday'],
    ['sunday', 'sunday'],
  ]),
  'nl-NL': new Map([
    ['maandag', 'monday'],
    ['dinsdag', 'tuesday'],
    ['woensdag', 'wednesday'],
    ['donderdag', 'thursday'],
    ['vrijdag', 'friday'],
    ['zaterdag', 'saturday'],
    ['zondag', 'sunday'],
  ]),
};
/** Words before a weekday that still mean its next occurrence. */
const WEEKDAY_MODIFIERS: Readonly<Record<Language, ReadonlySet<string>>> = {
  'en-US': new Set(['next', 'this', 'coming', 'on']),
  'nl-NL': new Set(['volgende', 'komende', 'aanstaande', 'op', 'deze']),
};

/** Relative day phrases, longest first within each language. */
const RELATIVE_DAYS: Readonly<Record<Language, readonly (readonly [readonly string[], string])[]>> = {
  'en-US': [
    [['the', 'day', 'after', 'tomorrow'], '+2d'],
    [['the', 'day', 'before', 'yesterday'], '-2d'],
    [['day', 'after', 'tomorrow'], '+2d'],
    [['day', 'before', 'yesterday'], '-2d'],
    [['today'], '+0d'],
    [['tonight'], '+0d'],
    [['tomorrow'], '+1d'],
    [['yesterday'], '-1d'],
  ],
  'nl-NL': [
    [['vandaag'], '+0d'],
    [['vanavond'], '+0d'],
    [['vanmiddag'], '+0d'],
    [['vanochtend'], '+0d'],
    [['vanmorgen'], '+0d'],
    [['morgen'], '+1d'],
    [['morgenochtend'], '+1d'],
    [['morgenmiddag'], '+1d'],
    [['morgenavond'], '+1d'],
    [['overmorgen'], '+2d'],
    [['gisteren'], '-1d'],
    [['gister'], '-1d'],
    [['gisterochtend'], '-1d'],
    [['gistermorgen'], '-1d'],
    [['gistermiddag'], '-1d'],
    [['gisteravond'], '-1d'],
    [['eergisteren'], '-2d'],
    [['eergister'], '-2d'],
  ],
};
/** Before these, Dutch "morgen" is "morning": "goede morgen", "de morgen". */
const MORNING_CONTEXT = new Set(['goede', 'goeie', 'de', 'deze', 'elke', 'iedere', 'hele']);

const ARTICLE_BEFORE_DAY: Readonly<Record<Language, ReadonlySet<string>>> = {
  'en-US': new Set(['the']),
  'nl-NL': new Set(['de']),
};
const OF_WORDS: Readonly<Record<Language, ReadonlySet<string>>> = {
  'en-US': new Set(['of']),
  'nl-NL': new Set(['van']),
};
const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

const pad2 = (n: number): string => String(n).padStart(2, '0');

function validDay(month: number, day: number): boolean {
  return Number.isInteger(day) && day >= 1 && day <= (DAYS_IN_MONTH[month] ?? 0);
}

/** A day of the month at tokens[i]: ordinal ("third", "3rd", "derde") or cardinal ("3", "drie"). */
function dayAt(tokens: readonly string[], i: number, language: Language, ordinalOnly = false): { end: number; value: number } | undefined {
  const ordinal = parseOrdinalAt(tokens, i, language);
  // "may one of us" is not May 1st: after an ambiguous month only "first" or "1" count.
  const cardinal = ordinalOnly && !/^\d+$/.test(tokens[i] ?? '') ? undefined : parseCardinalAt(tokens, i, language);
  const candidates = [ordinal, cardinal].filter((c) => c !== undefined && c.value >= 1 && c.value <= 31 && Number.isInteger(c.value));
  candidates.sort((a, b) => (b?.end ?? 0) - (a?.end ?? 0));
  const best = candidates[0];
  return best === undefined ? undefined : { end: best.end, value: best.value };
}

/** A year after a date: "twenty twenty five", "2025", "tweeduizend vijfentwintig". */
function yearAt(tokens: readonly string[], i: number, language: Language): { end: number; value: number } | undefined {
  const span = parseNumberAt(tokens, i, language);
  if (span === undefined) return undefined;
  const value = span.kind === 'cardinal' ? span.value : span.digits.length === 4 ? Number(span.digits) : undefined;
  return value !== undefined && Number.isInteger(value) && value >= 1900 && value <= 2100 ? { end: span.end, value } : undefined;
}

function monthDay(tokens: readonly string[], end: number, month: number, day: number, language: Language): SlotValue {
  const year = yearAt(tokens, end, language);
  if (year !== undefined && !(month === 2 && day === 29 && !isLeapYear(year.value))) {
    return { end: year.end, value: `${year.value}-${pad2(month)}-${pad2(day)}` };
  }
  return { end, value: `--${pad2(month)}-${pad2(day)}` };
}

function isLeapYear(y: number): boolean {
  return (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
}

function matchesAt(tokens: readonly string[], start: number, phrase: readonly string[]): boolean {
  for (let k = 0; k < phrase.length; k++) if (tokens[start + k] !== phrase[k]) return false;
  return true;
}

/**
 * Reads a date: "march third", "march the 3rd", "the third of march",
 * "3 maart", "drie maart", "de derde van maart", "today", "morgen",
 * "next monday", "volgende maandag", "2025-03-03". See the module comment
 * for the value formats.
 */
export function parseDateAt(tokens: readonly string[], start: number, language: Language): SlotValue | undefined {
  const l: Language = language === 'nl-NL' ? 'nl-NL' : 'en-US';
  const first = tokens[start];
  if (typeof first !== 'string') return undefined;

  const iso = ISO_DATE.exec(first);
  if (iso !== null) {
    const [y, m, d] = [Number(iso[1]), Number(iso[2]), Number(iso[3])];
    return m >= 1 && m <= 12 && validDay(m, d) && !(m === 2 && d === 29 && !isLeapYear(y)) ? { end: start + 1, value: first } : undefined;
  }

  for (const [phrase, value] of RELATIVE_DAYS[l]) {
    if (matchesAt(tokens, start, phrase)) {
      if (first === 'morgen' && MORNING_CONTEXT.has(tokens[start - 1] ?? '')) return undefined;
      return { end: start + phrase.length, value };
    }
  }

  const weekdays = WEEKDAYS[l];
  const weekday = weekdays.get(first);
  if (weekday !== undefined) return { end: start + 1, value: `weekday:${weekday}` };
  if (WEEKDAY_MODIFIERS[l].has(first)) {
    const after = weekdays.get(tokens[start + 1] ?? '');
    return after === undefined ? undefined : { end: start + 2, value: `weekday:${after}` };
  }

  const months = MONTHS[l];
  const month = months.get(first);
  if (month !== undefined) {
    // Month first: "march third", "march the third", "march 3".
    let i = start + 1;
    if (ARTICLE_BEFORE_DAY[l].has(tokens[i] ?? '')) i++;
    const ambiguous = l === 'en-US' && MONTHS_NEEDING_A_DAY.has(first);
    const day = dayAt(tokens, i, l, ambiguous);
    if (day !== undefined) return validDay(month, day.value) ? monthDay(tokens, day.end, month, day.value, l) : undefined;
    return ambiguous ? undefined : { end: start + 1, value: `--${pad2(month)}` };
  }

  // Day first: "the third of march", "3 maart", "de derde maart".
  let i = start;
  if (ARTICLE_BEFORE_DAY[l].has(first)) i++;
  const day = dayAt(tokens, i, l);
  if (day === undefined) return undefined;
  let j = day.end;
  if (OF_WORDS[l].has(tokens[j] ?? '')) j++;
  const dayMonth = months.get(tokens[j] ?? '');
  if (dayMonth === undefined || !validDay(dayMonth, day.value)) return undefined;
  return monthDay(tokens, j + 1, dayMonth, day.value, l);
}
