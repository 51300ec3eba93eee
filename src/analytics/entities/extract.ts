/**
 * Entities in a transcript: order numbers, amounts, dates and phone numbers,
 * found left to right without overlap. Context decides what a bare digit run
 * is: after "order number" / "bestelnummer" it is an order number; with a
 * currency word it is an amount; shaped like a phone number it is a phone.
 * Anything else (a quantity, a lone "twenty five") is no entity.
 */
import type { Language } from '../../language.js';
import { phoneNumber } from '../redaction/checks.js';
import { parseDigitRunAt } from './numbers.js';
import { parseAmountAt, parseDateAt, parseOrderNumberAt } from './slots.js';

/** The entity types `extractEntities` finds. */
export type EntityType = 'order_number' | 'amount' | 'date' | 'phone';

/** An entity: its normalized value (formats as in slots.ts) and token span. */
export interface Entity {
  type: EntityType;
  /** order_number, amount and date as the slots of the same name; phone as digits, "+" and country code when said. */
  value: string;
  /** Index of the first token. */
  start: number;
  /** Index after the last token (exclusive). */
  end: number;
}

/** Phrases after which a digit run is an order number, as token sequences. */
const ORDER_CONTEXT: Readonly<Record<Language, readonly (readonly string[])[]>> = {
  'en-US': [
    ['order', 'number'],
    ['order', 'id'],
    ['order', 'no'],
    ['order'],
    ['reference', 'number'],
    ['reference'],
    ['tracking', 'number'],
    ['confirmation', 'number'],
    ['invoice', 'number'],
  ],
  'nl-NL': [
    ['bestelnummer'],
    ['ordernummer'],
    ['order', 'nummer'],
    ['bestel', 'nummer'],
    ['bestelling'],
    ['order'],
    ['referentienummer'],
    ['referentie'],
    ['trackingnummer'],
    ['factuurnummer'],
  ],
};
/** Words that may stand between the context and the number: "order number is", "bestelnummer is het". */
const FILLERS: Readonly<Record<Language, ReadonlySet<string>>> = {
  'en-US': new Set(['is', "it's", 'its', 'it', 'was', 'number', 'my', 'the', 'uh', 'um', 'er']),
  'nl-NL': new Set(['is', 'was', 'het', 'mijn', 'de', 'nummer', 'luidt', 'uh', 'eh', 'ehm']),
};
const MAX_FILLERS = 3;
const PLUS = new Set(['plus']);
/** Enough for any phone (15) or order number (20) with room to reject longer runs. */
const MAX_RUN_DIGITS = 24;

const STRICT_FILLERS: ReadonlySet<string> = new Set(['is', 'was', 'luidt']);
const isNumberNoun = (word: string | undefined): boolean => word !== undefined && (word.endsWith('number') || word.endsWith('nummer'));

/**
 * Whether an order-context phrase ("order number", "bestelnummer is") ends
 * just before `tokens[i]`, looking back no further than `floor`. `strict`
 * (for redaction, where a wrong "yes" leaks a phone number) accepts only
 * phrases ending in a number noun, with at most one "is"/"was"/"luidt".
 */
export function orderContextBefore(tokens: readonly string[], i: number, floor: number, language: Language, strict = false): boolean {
  if (language !== 'en-US' && language !== 'nl-NL') return false;
  const fillers = strict ? STRICT_FILLERS : FILLERS[language];
  const maxFillers = strict ? 1 : MAX_FILLERS;
  let end = i;
  for (let skipped = 0; skipped <= maxFillers; skipped++) {
    for (const phrase of ORDER_CONTEXT[language]) {
      if (strict && !isNumberNoun(phrase[phrase.length - 1])) continue;
      const from = end - phrase.length;
      if (from < floor) continue;
      let match = true;
      for (let k = 0; k < phrase.length && match; k++) match = tokens[from + k] === phrase[k];
      if (match) return true;
    }
    if (end - 1 < floor || !fillers.has(tokens[end - 1] ?? '')) return false;
    end--;
  }
  return false;
}

/**
 * Finds order numbers, amounts, dates and phone numbers in transcript
 * tokens, left to right, without overlap. Never throws.
 */
export function extractEntities(tokens: readonly string[], language: Language): Entity[] {
  if (!Array.isArray(tokens)) return [];
  const l: Language = language === 'nl-NL' ? 'nl-NL' : 'en-US';
  const out: Entity[] = [];
  let floor = 0;
  let i = 0;
  while (i < tokens.length) {
    if (typeof tokens[i] !== 'string') {
      i++;
      continue;
    }
    const found = entityAt(tokens, i, floor, l);
    if (found.entity !== undefined) {
      out.push(found.entity);
      floor = found.entity.end;
    }
    i = Math.max(i + 1, found.next);
  }
  return out;
}

/** The entity at `i`, and where to look next (past a digit run that is none). */
function entityAt(tokens: readonly string[], i: number, floor: number, language: Language): { entity?: Entity; next: number } {
  const date = parseDateAt(tokens, i, language);
  if (date !== undefined) return { entity: { type: 'date', value: date.value, start: i, end: date.end }, next: date.end };

  const amount = parseAmountAt(tokens, i, language);
  if (amount?.monetary === true) return { entity: { type: 'amount', value: amount.value, start: i, end: amount.end }, next: amount.end };

  if (orderContextBefore(tokens, i, floor, language)) {
    const order = parseOrderNumberAt(tokens, i, language);
    if (order !== undefined) return { entity: { type: 'order_number', value: order.value, start: i, end: order.end }, next: order.end };
  }

  const plus = PLUS.has(tokens[i] ?? '');
  const run = parseDigitRunAt(tokens, plus ? i + 1 : i, language, MAX_RUN_DIGITS);
  if (run === undefined) return { next: i + 1 };
  const phone = phoneNumber(run.digits, plus);
  if (phone !== undefined) return { entity: { type: 'phone', value: phone, start: i, end: run.end }, next: run.end };
  // Skip the whole run: its tail must not be read as a number of its own.
  return { next: run.end };
}
