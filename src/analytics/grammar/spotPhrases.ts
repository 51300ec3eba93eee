import type { IntentDefinition } from './GrammarSet.js';
import { parseElement } from './phrase.js';

/** A literal phrase for keyword spotters, and the intents whose patterns contain it. */
export interface SpotPhrase {
  /** Lower-case words separated by single spaces. */
  readonly text: string;
  readonly intents: readonly string[];
}

export interface SpotPhraseOptions {
  /** Shortest run kept; one word alone is too easily spotted in anything. Default 2. */
  readonly minWords?: number;
  /** Longest run kept; longer ones are rarely said exactly. Default 6. */
  readonly maxWords?: number;
  /**
   * Phrases per intent without a `spot:` list, shortest first. Keyword search
   * costs CPU per phrase per frame, and every phrase adds false alarms. Default 6.
   */
  readonly perIntent?: number;
  /** Phrases kept at most over all intents, round-robin so that none is crowded out. Default 200. */
  readonly maxPhrases?: number;
}

/**
 * Compiles a language's intents to the literal phrases a keyword spotter can
 * listen for: an intent's `spot:` list where it has one (the analyst's
 * choice of its most common wordings), otherwise its shortest expansions
 * of every pattern, split at slots and wildcards
 * into runs of plain words. Whole expansions come first ("speak to your
 * manager"), runs cut out by a slot or wildcard after them ("cancel my order"
 * of "cancel my order {order_number}", three words at least). The spotter hears the phrase, the
 * intent matcher then decides with the transcript's context (negation,
 * `unless`, speaker, window) whether it counts.
 */
export function compileSpotPhrases(intents: readonly IntentDefinition[], options: SpotPhraseOptions = {}): SpotPhrase[] {
  const minWords = options.minWords ?? 2;
  const maxWords = options.maxWords ?? 6;
  const perIntentMax = options.perIntent ?? 6;
  const maxPhrases = options.maxPhrases ?? 200;
  const perIntent: string[][] = [];
  const owners = new Map<string, Set<string>>();
  for (const intent of intents) {
    if (intent.spot.length > 0) {
      const chosen = [...new Set(intent.spot.map((seq) => seq.join(' ')))];
      perIntent.push(chosen);
      for (const text of chosen) owners.set(text, (owners.get(text) ?? new Set<string>()).add(intent.id));
      continue;
    }
    // Rank 0: whole expansions without slots or wildcards, evidence of the intent on their own.
    // Rank 1: runs between slots and wildcards, which need the transcript's words around them.
    const ranked: [Set<string>, Set<string>] = [new Set(), new Set()];
    for (const sequence of intent.sequences) {
      const elements = sequence.map(parseElement);
      const literal = elements.every((e) => e.kind === 'word');
      let run: string[] = [];
      const flush = (): void => {
        if (run.length >= (literal ? minWords : minWords + 1) && run.length <= maxWords) ranked[literal ? 0 : 1].add(run.join(' '));
        run = [];
      };
      for (const element of elements) {
        if (element.kind === 'word') run.push(element.text);
        else flush();
      }
      flush();
    }
    const byLength = (a: string, b: string): number => a.split(' ').length - b.split(' ').length || a.localeCompare(b);
    const sorted = [...[...ranked[0]].sort(byLength), ...[...ranked[1]].filter((t) => !ranked[0].has(t)).sort(byLength)].slice(0, perIntentMax);
    perIntent.push(sorted);
    for (const text of sorted) {
      const set = owners.get(text) ?? new Set<string>();
      set.add(intent.id);
      owners.set(text, set);
    }
  }
  const chosen = new Set<string>();
  for (let round = 0; chosen.size < maxPhrases; round++) {
    let any = false;
    for (const list of perIntent) {
      const text = list[round];
      if (text === undefined) continue;
      any = true;
      chosen.add(text);
      if (chosen.size >= maxPhrases) break;
    }
    if (!any) break;
  }
  return [...chosen].map((text) => ({ text, intents: [...(owners.get(text) ?? [])] }));
}
