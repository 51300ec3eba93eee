/**
 * Phrase patterns of the grammar files (docs/grammars.md):
 *
 *   i (want | would like) to cancel [my | the] order [number] {order_number}
 *   (mijn | de) bestelling *2 annuleren
 *
 * - words match one transcript token each (case-insensitive);
 * - `( a | b c )` is a group of alternatives, one of which must match;
 * - `[ a | b ]` is an optional group: one alternative or nothing;
 * - `{order_number}`, `{amount}`, `{date}`, `{number}` capture a slot;
 * - `*` skips up to 3 words, `*N` up to N words;
 * - groups nest.
 *
 * A pattern compiles to the finite set of element sequences it accepts. An
 * element is a string: a word, `{slot}` or `*N` (words never contain `{`
 * or `*`, so the three cannot be confused). The set is capped so that a
 * careless pattern fails at load time, not in the hot path.
 */
import type { SlotType } from '../entities/slots.js';

export const MAX_EXPANSIONS_PER_PHRASE = 4096;
/** Largest `*N`; longer gaps would let a phrase straddle unrelated clauses. */
export const MAX_WILDCARD_WORDS = 8;
/** What a bare `*` means. */
export const DEFAULT_WILDCARD_WORDS = 3;

/** Slot names a phrase may capture; each is read by `parseSlotAt` of entities/slots.ts. */
export const SLOT_NAMES = ['order_number', 'amount', 'date', 'number'] as const satisfies readonly SlotType[];
export type SlotName = (typeof SLOT_NAMES)[number];

export function isSlotName(name: string): name is SlotName {
  return (SLOT_NAMES as readonly string[]).includes(name);
}

export class PhraseSyntaxError extends Error {
  override readonly name = 'PhraseSyntaxError';
  constructor(
    message: string,
    /** Zero-based character offset in the pattern. */
    readonly column: number,
  ) {
    super(message);
  }
}

/** One position of a compiled phrase. */
export type PhraseElement =
  | { readonly kind: 'word'; readonly text: string }
  | { readonly kind: 'slot'; readonly name: SlotName }
  | { readonly kind: 'gap'; readonly max: number };

/** Decodes an element string of `expandPhrase`'s output. */
export function parseElement(element: string): PhraseElement {
  if (element.startsWith('{')) return { kind: 'slot', name: element.slice(1, -1) as SlotName };
  if (element.startsWith('*')) return { kind: 'gap', max: Number(element.slice(1)) };
  return { kind: 'word', text: element };
}

type Token =
  | { kind: 'word'; text: string; at: number }
  | { kind: 'slot'; text: string; at: number }
  | { kind: 'gap'; text: string; at: number }
  | { kind: 'open' | 'close' | 'bar'; char: string; at: number };

const WORD_CHAR = /[\p{L}\p{N}'’_-]/u;

function lex(pattern: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < pattern.length) {
    const ch = pattern[i] as string;
    if (/\s/.test(ch)) {
      i++;
    } else if (ch === '(' || ch === '[') {
      tokens.push({ kind: 'open', char: ch, at: i++ });
    } else if (ch === ')' || ch === ']') {
      tokens.push({ kind: 'close', char: ch, at: i++ });
    } else if (ch === '|') {
      tokens.push({ kind: 'bar', char: ch, at: i++ });
    } else if (ch === '{') {
      const close = pattern.indexOf('}', i);
      if (close < 0) throw new PhraseSyntaxError("missing '}'", pattern.length);
      const name = pattern.slice(i + 1, close).trim();
      if (!isSlotName(name)) {
        throw new PhraseSyntaxError(`unknown slot '{${name}}' (known: ${SLOT_NAMES.map((s) => `{${s}}`).join(', ')})`, i);
      }
      tokens.push({ kind: 'slot', text: `{${name}}`, at: i });
      i = close + 1;
    } else if (ch === '*') {
      const start = i++;
      while (i < pattern.length && /[0-9]/.test(pattern[i] as string)) i++;
      const digits = pattern.slice(start + 1, i);
      const max = digits.length === 0 ? DEFAULT_WILDCARD_WORDS : Number(digits);
      if (!Number.isInteger(max) || max < 1 || max > MAX_WILDCARD_WORDS) {
        throw new PhraseSyntaxError(`wildcard '*${digits}' must skip 1 to ${MAX_WILDCARD_WORDS} words`, start);
      }
      tokens.push({ kind: 'gap', text: `*${max}`, at: start });
    } else if (WORD_CHAR.test(ch)) {
      const start = i;
      while (i < pattern.length && WORD_CHAR.test(pattern[i] as string)) i++;
      tokens.push({ kind: 'word', text: normalizeWord(pattern.slice(start, i)), at: start });
    } else if (ch === '}') {
      throw new PhraseSyntaxError("unexpected '}'", i);
    } else {
      throw new PhraseSyntaxError(`unexpected character '${ch}'`, i);
    }
  }
  return tokens;
}

/** Lower-cases, composes accents (é as one code point) and unifies curly apostrophes. */
export function normalizeWord(word: string): string {
  return word.toLocaleLowerCase('en-US').normalize('NFC').replace(/’/g, "'");
}

/** Splits a transcript into normalized word tokens, dropping punctuation. */
export function tokenize(text: string): string[] {
  const out: string[] = [];
  for (const match of text.matchAll(/[\p{L}\p{N}'’_-]+/gu)) {
    const word = match[0].replace(/^['’-]+|['’-]+$/g, '');
    if (word.length > 0) out.push(normalizeWord(word));
  }
  return out;
}

/** Compiles a pattern to every element sequence it accepts (see the module comment). */
export function expandPhrase(pattern: string): string[][] {
  const tokens = lex(pattern);
  let pos = 0;

  // sequence := item* ; item := word | slot | gap | group ; group := open alternatives close
  const parseSequence = (closer: string | undefined): string[][] => {
    let acc: string[][] = [[]];
    for (;;) {
      const token = tokens[pos];
      if (token === undefined) {
        if (closer !== undefined) throw new PhraseSyntaxError(`missing '${closer}'`, pattern.length);
        return acc;
      }
      if (token.kind === 'bar' || token.kind === 'close') {
        if (closer === undefined) throw new PhraseSyntaxError(`unexpected '${token.char}'`, token.at);
        return acc;
      }
      let options: string[][];
      if (token.kind === 'word' || token.kind === 'slot' || token.kind === 'gap') {
        pos++;
        options = [[token.text]];
      } else {
        pos++;
        const expected = token.char === '(' ? ')' : ']';
        options = parseAlternatives(expected, token.at);
        if (token.char === '[') options.push([]);
      }
      const next: string[][] = [];
      for (const prefix of acc) for (const option of options) next.push([...prefix, ...option]);
      if (next.length > MAX_EXPANSIONS_PER_PHRASE) {
        throw new PhraseSyntaxError(`expands to more than ${MAX_EXPANSIONS_PER_PHRASE} phrases; split it`, token.at);
      }
      acc = next;
    }
  };

  const parseAlternatives = (closer: string, openedAt: number): string[][] => {
    const alternatives: string[][] = [];
    for (;;) {
      const alternative = parseSequence(closer);
      if (alternative.length === 1 && alternative[0]?.length === 0) {
        throw new PhraseSyntaxError('empty alternative', tokens[pos]?.at ?? openedAt);
      }
      alternatives.push(...alternative);
      const token = tokens[pos];
      if (token === undefined) throw new PhraseSyntaxError(`missing '${closer}'`, pattern.length);
      pos++;
      if (token.kind === 'close') {
        if (token.char !== closer) throw new PhraseSyntaxError(`expected '${closer}' but found '${token.char}'`, token.at);
        return alternatives;
      }
      // token is a bar: next alternative
    }
  };

  const result = parseSequence(undefined);
  const nonEmpty = result.filter((seq) => seq.length > 0);
  if (nonEmpty.length === 0) throw new PhraseSyntaxError('phrase matches nothing', 0);
  if (nonEmpty.length < result.length) throw new PhraseSyntaxError('phrase can match the empty string', 0);

  // A gap at either end adds nothing to "anywhere in the utterance" and two in
  // a row are one longer gap: both are mistakes worth telling the analyst.
  const gapTokens = tokens.filter((t) => t.kind === 'gap');
  const unique = new Map<string, string[]>();
  for (const seq of nonEmpty) {
    if (!seq.some((el) => parseElement(el).kind === 'word')) {
      throw new PhraseSyntaxError('phrase needs at least one word besides slots and wildcards', 0);
    }
    if (parseElement(seq[0] as string).kind === 'gap') {
      throw new PhraseSyntaxError('a phrase cannot start with a wildcard', gapTokens[0]?.at ?? 0);
    }
    if (parseElement(seq[seq.length - 1] as string).kind === 'gap') {
      throw new PhraseSyntaxError('a phrase cannot end with a wildcard', gapTokens[gapTokens.length - 1]?.at ?? 0);
    }
    for (let i = 1; i < seq.length; i++) {
      if (parseElement(seq[i] as string).kind === 'gap' && parseElement(seq[i - 1] as string).kind === 'gap') {
        throw new PhraseSyntaxError('two wildcards in a row; use one *N', gapTokens[0]?.at ?? 0);
      }
    }
    unique.set(seq.join(' '), seq);
  }
  return [...unique.values()];
}
