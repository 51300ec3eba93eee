/**
 * Words to phonemes for one language: a pronunciation dictionary where one
 * is given (the recogniser's own, e.g. pocketsphinx's CMU dictionary for
 * en-US), espeak-ng for every other word.
 */
import { readFileSync } from 'node:fs';
import type { Language } from '../../language.js';
import { espeakAvailable, espeakPhonemes } from './espeak.js';
import { fromArpabet } from './phonemes.js';

/**
 * Words looked up with espeak-ng are remembered, at most this many; past it
 * the oldest is forgotten (and would be looked up again). A call's words are
 * a few hundred, a language's everyday vocabulary a few ten thousand.
 */
const MAX_CACHED = 50_000;

export interface PhoneticLexiconOptions {
  /** A CMU-format dictionary ("word PH ON EMES", "word(2) …" variants; the first pronunciation is used). */
  readonly dictionary?: string;
}

export class PhoneticLexicon {
  /** Dictionary words, phonemes joined by spaces (a string per word: a third of the memory of arrays). */
  private readonly dictionary = new Map<string, string>();
  private readonly cache = new Map<string, readonly string[] | null>();
  readonly sources: readonly ('dictionary' | 'espeak-ng')[];

  private constructor(
    readonly language: Language,
    options: PhoneticLexiconOptions,
  ) {
    if (options.dictionary !== undefined) {
      for (const line of readFileSync(options.dictionary, 'utf8').split('\n')) {
        const space = line.indexOf(' ');
        if (space <= 0) continue;
        const word = line.slice(0, space);
        // Variants "word(2)": the first pronunciation is the common one.
        if (word.endsWith(')') || this.dictionary.has(word)) continue;
        const phonemes = fromArpabet(line.slice(space + 1));
        if (phonemes !== undefined) this.dictionary.set(word, phonemes.join(' '));
      }
    }
    const sources: ('dictionary' | 'espeak-ng')[] = [];
    if (this.dictionary.size > 0) sources.push('dictionary');
    if (espeakAvailable()) sources.push('espeak-ng');
    this.sources = sources;
  }

  /** A lexicon, or undefined when there is no source of pronunciations for `language` here. */
  static load(language: Language, options: PhoneticLexiconOptions = {}): PhoneticLexicon | undefined {
    const lexicon = new PhoneticLexicon(language, options);
    return lexicon.sources.length > 0 ? lexicon : undefined;
  }

  /** The phonemes of a lower-case word, or undefined when no source knows it. */
  phonemes(word: string): readonly string[] | undefined {
    const known = this.dictionary.get(word);
    if (known !== undefined) return known.split(' ');
    const cached = this.cache.get(word);
    if (cached !== undefined) return cached ?? undefined;
    // espeak-ng would spell out digits and read symbols; transcripts have neither as words.
    const phonemes = /^[\p{L}']+$/u.test(word) ? espeakPhonemes(word.replace(/'/g, ''), this.language) : undefined;
    if (this.cache.size >= MAX_CACHED) {
      const oldest = this.cache.keys().next();
      if (oldest.done !== true) this.cache.delete(oldest.value);
    }
    this.cache.set(word, phonemes ?? null);
    return phonemes;
  }
}
