/**
 * Phrase patterns of the grammar files (docs/grammars.md):
 *
 *   i (want | would like) to cancel [my | the] order
 *
 * - words match one transcript token each (case-insensitive);
 * - `( a | b c )` is a group of alternatives, one of which must match;
 * - `[ a | b ]` is an optional group: one alternative or nothing;
 * - groups nest.
 *
 * A pattern compiles to the finite set of token sequences it accepts. The
 * set is capped so that a careless pattern fails at load time, not in the
 * hot path.
 */

export const MAX_EXPANSIONS_PER_PHRASE = 4096;

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

type Token = { kind: 'word'; text: string; at: number } | { kind: 'open' | 'close' | 'bar'; char: string; at: number };

const WORD_CHAR = /[\p{L}\p{N}'_-]/u;

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
    } else if (WORD_CHAR.test(ch)) {
      const start = i;
      while (i < pattern.length && WORD_CHAR.test(pattern[i] as string)) i++;
      tokens.push({ kind: 'word', text: normalizeWord(pattern.slice(start, i)), at: start });
    } else {
      throw new PhraseSyntaxError(`unexpected character '${ch}'`, i);
    }
  }
  return tokens;
}

/** Lower-cases and strips the apostrophes ASR engines disagree on. */
export function normalizeWord(word: string): string {
  return word.toLocaleLowerCase('en-US').normalize('NFC');
}

/** Splits a transcript into normalized word tokens, dropping punctuation. */
export function tokenize(text: string): string[] {
  const out: string[] = [];
  for (const match of text.matchAll(/[\p{L}\p{N}'_-]+/gu)) {
    const word = match[0].replace(/^['-]+|['-]+$/g, '');
    if (word.length > 0) out.push(normalizeWord(word));
  }
  return out;
}

/** Compiles a pattern to every token sequence it accepts. */
export function expandPhrase(pattern: string): string[][] {
  const tokens = lex(pattern);
  let pos = 0;

  // sequence := item* ; item := word | group ; group := open alternatives close
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
      if (token.kind === 'word') {
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
  return nonEmpty;
}
