import type { SpotHit, WordTiming } from '../types.js';

/**
 * Finds spotting phrases as runs of consecutive recognised words, for engines
 * whose spotter is a grammar-constrained recogniser (Vosk with `[unk]`):
 * its output is phrase words and `[unk]`, so a phrase is there exactly when its
 * words follow each other.
 */
export class PhraseFinder {
  /** Phrases by first word, longest first so that the longer of two overlapping phrases wins. */
  private readonly byFirstWord = new Map<string, string[][]>();

  constructor(phrases: readonly string[]) {
    for (const phrase of new Set(phrases)) {
      const words = phrase.split(' ').filter((w) => w !== '');
      const first = words[0];
      if (first === undefined) continue;
      const list = this.byFirstWord.get(first) ?? [];
      list.push(words);
      list.sort((a, b) => b.length - a.length);
      this.byFirstWord.set(first, list);
    }
  }

  /** Every phrase occurrence in `words`, left to right, not overlapping. */
  find(words: readonly WordTiming[]): SpotHit[] {
    const hits: SpotHit[] = [];
    let i = 0;
    while (i < words.length) {
      const candidates = this.byFirstWord.get((words[i] as WordTiming).word.toLowerCase()) ?? [];
      const match = candidates.find((phrase) => phrase.every((w, k) => words[i + k]?.word.toLowerCase() === w));
      if (match === undefined) {
        i++;
        continue;
      }
      const first = words[i] as WordTiming;
      const last = words[i + match.length - 1] as WordTiming;
      hits.push({ phrase: match.join(' '), startMs: first.startMs, endMs: last.endMs });
      i += match.length;
    }
    return hits;
  }
}
