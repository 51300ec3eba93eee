/**
 * Intent precision and recall on the labelled text corpus,
 * test/eval/corpus/<language>.jsonl: one JSON object per line,
 *
 *   {"text": "cancel my older please", "speaker": "customer", "expect": ["cancel_order"], "tags": ["asr"]}
 *
 * `text` is written as ASR outputs it (lower case, no punctuation, sometimes
 * misrecognised); `expect` lists every intent the utterance should raise
 * (empty for none); optional `tags` (`negation`, `hypothetical`, `asr`,
 * `hard`, `agent`) only group the report.
 *
 * Every utterance is fed word by word as partial hypotheses and then as a
 * final one through an `UtteranceIntentTracker`, as on a live call, so an
 * intent fired on a partial that a later word negates counts as a false
 * positive.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { GrammarSet } from '../../src/analytics/grammar/GrammarSet.js';
import { IntentMatcher, UtteranceIntentTracker } from '../../src/analytics/intents/IntentMatcher.js';
import type { RecognitionResult } from '../../src/asr/types.js';
import { PACKAGE_ROOT } from '../../src/config.js';
import { LANGUAGES, type Language } from '../../src/language.js';

export interface CorpusItem {
  readonly text: string;
  readonly speaker: 'customer' | 'agent';
  readonly expect: readonly string[];
  readonly tags?: readonly string[];
}

export interface Score {
  tp: number;
  fp: number;
  fn: number;
  precision: number;
  recall: number;
}

export interface TextFailure {
  readonly language: Language;
  readonly text: string;
  readonly speaker: 'customer' | 'agent';
  readonly expected: readonly string[];
  readonly got: readonly string[];
}

export interface LanguageResult {
  readonly utterances: number;
  readonly perIntent: Record<string, Score>;
  readonly overall: { precision: number; recall: number; tp: number; fp: number; fn: number };
}

export interface TextEvalResult {
  /** Per intent id, over all languages. */
  readonly perIntent: Record<string, Score>;
  readonly perLanguage: Partial<Record<Language, LanguageResult>>;
  /** Micro-averaged over every utterance of every language. */
  readonly overall: { precision: number; recall: number };
  readonly failures: TextFailure[];
  /** Intents raised on utterances tagged `negation`/`hypothetical` or spoken by the agent. */
  readonly negatedOrAgentFalsePositives: number;
}

export const DEFAULT_CORPUS_DIR = path.join(PACKAGE_ROOT, 'test', 'eval', 'corpus');

/** Reads and checks `<corpusDir>/<language>.jsonl`; a missing file is an empty corpus. */
export async function readCorpus(corpusDir: string, language: Language): Promise<CorpusItem[]> {
  const file = path.join(corpusDir, `${language}.jsonl`);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    return [];
  }
  const items: CorpusItem[] = [];
  text.split('\n').forEach((line, index) => {
    if (line.trim().length === 0) return;
    const where = `${file}:${index + 1}`;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (err) {
      throw new Error(`${where}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
    }
    const item = value as Partial<CorpusItem> | null;
    if (
      item === null ||
      typeof item.text !== 'string' ||
      (item.speaker !== 'customer' && item.speaker !== 'agent') ||
      !Array.isArray(item.expect) ||
      !item.expect.every((e) => typeof e === 'string')
    ) {
      throw new Error(`${where}: expected {"text": string, "speaker": "customer"|"agent", "expect": string[]}`);
    }
    items.push({ text: item.text, speaker: item.speaker, expect: item.expect, tags: Array.isArray(item.tags) ? item.tags : [] });
  });
  return items;
}

/** Feeds `text` word by word (partials) and then whole (final) through a tracker; the intents fired. */
export function runUtterance(matcher: IntentMatcher, item: CorpusItem, utteranceId = 1): string[] {
  const tracker = new UtteranceIntentTracker(matcher, item.speaker);
  const words = item.text.split(/\s+/).filter((w) => w.length > 0);
  const fired: string[] = [];
  for (let n = 1; n <= words.length; n++) {
    const prefix = words.slice(0, n);
    const result: RecognitionResult = {
      final: n === words.length,
      utteranceId,
      text: prefix.join(' '),
      startMs: 0,
      endMs: n * 300,
      words: prefix.map((word, i) => ({ word, startMs: i * 300, endMs: (i + 1) * 300 })),
    };
    for (const match of tracker.onResult(result, { callTimeMs: result.endMs })) fired.push(match.intent.id);
  }
  return fired;
}

const ratio = (num: number, den: number): number => (den === 0 ? 1 : num / den);

function score(tp: number, fp: number, fn: number): Score {
  return { tp, fp, fn, precision: ratio(tp, tp + fp), recall: ratio(tp, tp + fn) };
}

/**
 * Loads the grammars in `grammarsDir` and scores them on the corpus in
 * `corpusDir` (default test/eval/corpus).
 */
export async function evaluateText(grammarsDir: string, corpusDir: string = DEFAULT_CORPUS_DIR): Promise<TextEvalResult> {
  const grammars = await GrammarSet.load(grammarsDir);
  const counts = new Map<string, { tp: number; fp: number; fn: number }>();
  const count = (key: string) => {
    let c = counts.get(key);
    if (c === undefined) counts.set(key, (c = { tp: 0, fp: 0, fn: 0 }));
    return c;
  };
  const failures: TextFailure[] = [];
  const perLanguage: Partial<Record<Language, LanguageResult>> = {};
  let guardedFalsePositives = 0;

  for (const language of LANGUAGES) {
    const corpus = await readCorpus(corpusDir, language);
    if (corpus.length === 0) continue;
    const definitions = grammars.intents(language);
    const known = new Set(definitions.map((d) => d.id));
    const matcher = new IntentMatcher(definitions, { language });
    const languageCounts = new Map<string, { tp: number; fp: number; fn: number }>();
    const languageCount = (key: string) => {
      let c = languageCounts.get(key);
      if (c === undefined) languageCounts.set(key, (c = { tp: 0, fp: 0, fn: 0 }));
      return c;
    };
    for (const id of known) languageCount(id);

    corpus.forEach((item, index) => {
      for (const id of item.expect) {
        if (!known.has(id)) throw new Error(`corpus ${language}: "${item.text}" expects unknown intent '${id}'`);
      }
      const got = [...new Set(runUtterance(matcher, item, index + 1))];
      const expected = new Set(item.expect);
      for (const id of got) {
        const hit = expected.has(id);
        const key: 'tp' | 'fp' = hit ? 'tp' : 'fp';
        count(id)[key]++;
        languageCount(id)[key]++;
        const guarded = item.speaker === 'agent' || (item.tags ?? []).some((t) => t === 'negation' || t === 'hypothetical');
        if (!hit && guarded) guardedFalsePositives++;
      }
      for (const id of expected) {
        if (got.includes(id)) continue;
        count(id).fn++;
        languageCount(id).fn++;
      }
      const sameSet = got.length === expected.size && got.every((id) => expected.has(id));
      if (!sameSet) failures.push({ language, text: item.text, speaker: item.speaker, expected: item.expect, got });
    });

    const perIntent: Record<string, Score> = {};
    let tp = 0;
    let fp = 0;
    let fn = 0;
    for (const [id, c] of [...languageCounts].sort(([a], [b]) => a.localeCompare(b))) {
      perIntent[id] = score(c.tp, c.fp, c.fn);
      tp += c.tp;
      fp += c.fp;
      fn += c.fn;
    }
    perLanguage[language] = { utterances: corpus.length, perIntent, overall: { precision: ratio(tp, tp + fp), recall: ratio(tp, tp + fn), tp, fp, fn } };
  }

  const perIntent: Record<string, Score> = {};
  let tp = 0;
  let fp = 0;
  let fn = 0;
  for (const [id, c] of [...counts].sort(([a], [b]) => a.localeCompare(b))) {
    perIntent[id] = score(c.tp, c.fp, c.fn);
    tp += c.tp;
    fp += c.fp;
    fn += c.fn;
  }
  return {
    perIntent,
    perLanguage,
    overall: { precision: ratio(tp, tp + fp), recall: ratio(tp, tp + fn) },
    failures,
    negatedOrAgentFalsePositives: guardedFalsePositives,
  };
}

const pct = (x: number): string => x.toFixed(3);

/** A plain-text report: per language and intent, then every failure. */
export function formatReport(result: TextEvalResult): string {
  const lines: string[] = [];
  for (const language of LANGUAGES) {
    const lang = result.perLanguage[language];
    if (lang === undefined) continue;
    lines.push(`${language}: ${lang.utterances} utterances, precision ${pct(lang.overall.precision)}, recall ${pct(lang.overall.recall)} (tp ${lang.overall.tp}, fp ${lang.overall.fp}, fn ${lang.overall.fn})`);
    lines.push('  intent              tp  fp  fn  precision  recall');
    for (const [id, s] of Object.entries(lang.perIntent)) {
      lines.push(`  ${id.padEnd(18)} ${String(s.tp).padStart(3)} ${String(s.fp).padStart(3)} ${String(s.fn).padStart(3)}  ${pct(s.precision).padStart(9)}  ${pct(s.recall).padStart(6)}`);
    }
  }
  lines.push(`overall: precision ${pct(result.overall.precision)}, recall ${pct(result.overall.recall)}`);
  lines.push(`intents raised on negated, hypothetical or agent-only turns: ${result.negatedOrAgentFalsePositives}`);
  if (result.failures.length > 0) {
    lines.push(`failures (${result.failures.length}):`);
    for (const f of result.failures) {
      lines.push(`  [${f.language}] ${f.speaker === 'agent' ? '(agent) ' : ''}"${f.text}": expected [${f.expected.join(', ')}], got [${f.got.join(', ')}]`);
    }
  }
  return lines.join('\n');
}
