import type { RecognitionResult } from '../../asr/types.js';
import type { IntentDefinition } from '../grammar/GrammarSet.js';
import { tokenize } from '../grammar/phrase.js';

export type Speaker = 'customer' | 'agent';

/** A transcript token with the time span of the recognised word it came from. */
export interface TimedToken {
  readonly text: string;
  readonly startMs: number;
  readonly endMs: number;
  readonly confidence: number | undefined;
}

export interface IntentMatch {
  readonly intent: IntentDefinition;
  /** The transcript words that matched, as recognised. */
  readonly text: string;
  readonly startMs: number;
  readonly endMs: number;
  /**
   * Mean ASR word confidence over the matched words where the engine reports
   * one; otherwise 1, since only exact grammar matches are accepted here.
   */
  readonly confidence: number;
}

interface TrieNode {
  readonly next: Map<string, TrieNode>;
  /** Intents whose sequence ends at this node. */
  readonly ends: IntentDefinition[];
}

const newNode = (): TrieNode => ({ next: new Map(), ends: [] });

/**
 * Finds grammar phrases in a token stream. All phrase expansions of a
 * language share one token trie, so matching costs one walk per start
 * position whatever the number of intents.
 */
export class IntentMatcher {
  private readonly root = newNode();

  constructor(intents: readonly IntentDefinition[]) {
    for (const intent of intents) {
      for (const sequence of intent.sequences) {
        let node = this.root;
        for (const word of sequence) {
          let child = node.next.get(word);
          if (child === undefined) {
            child = newNode();
            node.next.set(word, child);
          }
          node = child;
        }
        if (!node.ends.includes(intent)) node.ends.push(intent);
      }
    }
  }

  /**
   * Every intent found in `tokens` that `speaker` may raise, each once, at
   * its earliest and (from there) longest occurrence.
   */
  match(tokens: readonly TimedToken[], speaker: Speaker): IntentMatch[] {
    const found = new Map<IntentDefinition, { start: number; end: number }>();
    for (let start = 0; start < tokens.length; start++) {
      let node: TrieNode | undefined = this.root;
      for (let i = start; i < tokens.length && node !== undefined; i++) {
        node = node.next.get((tokens[i] as TimedToken).text);
        if (node === undefined) break;
        for (const intent of node.ends) {
          if (intent.speaker !== 'either' && intent.speaker !== speaker) continue;
          const existing = found.get(intent);
          if (existing === undefined || (existing.start === start && i > existing.end)) {
            found.set(intent, { start, end: i });
          }
        }
      }
    }
    const matches: IntentMatch[] = [];
    for (const [intent, { start, end }] of found) {
      const span = tokens.slice(start, end + 1);
      const confidences = span.map((t) => t.confidence).filter((c): c is number => c !== undefined);
      matches.push({
        intent,
        text: span.map((t) => t.text).join(' '),
        startMs: (span[0] as TimedToken).startMs,
        endMs: (span[span.length - 1] as TimedToken).endMs,
        confidence: confidences.length > 0 ? confidences.reduce((a, b) => a + b, 0) / confidences.length : 1,
      });
    }
    return matches.sort((a, b) => a.startMs - b.startMs);
  }
}

/** Tokens of a recognition result, timed per word when the engine gives word times. */
export function timedTokens(result: RecognitionResult): TimedToken[] {
  if (result.words.length === 0) {
    return tokenize(result.text).map((text) => ({ text, startMs: result.startMs, endMs: result.endMs, confidence: undefined }));
  }
  const out: TimedToken[] = [];
  for (const word of result.words) {
    for (const text of tokenize(word.word)) {
      out.push({ text, startMs: word.startMs, endMs: word.endMs, confidence: word.confidence });
    }
  }
  return out;
}

/**
 * Per-leg state that makes an intent fire once per utterance, whether it is
 * first seen in a partial or only in the final.
 */
export class UtteranceIntentTracker {
  private utteranceId = -1;
  private readonly fired = new Set<string>();

  constructor(
    private readonly matcher: IntentMatcher,
    private readonly speaker: Speaker,
  ) {}

  /** Intents in `result` not yet reported for its utterance. */
  onResult(result: RecognitionResult): IntentMatch[] {
    if (result.utteranceId !== this.utteranceId) {
      this.utteranceId = result.utteranceId;
      this.fired.clear();
    }
    const fresh = this.matcher.match(timedTokens(result), this.speaker).filter((m) => !this.fired.has(m.intent.id));
    for (const m of fresh) this.fired.add(m.intent.id);
    return fresh;
  }
}
