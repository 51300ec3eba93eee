/**
 * Intent precision and recall on a split of the labelled text corpus,
 * test/eval/corpus/<split>/<language>[.<part>].jsonl: one JSON object per line,
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
import path from 'node:path';
import { existsSync } from 'node:fs';
import { IntentClassifier } from '../../src/analytics/classifier/IntentClassifier.js';
import { type CorpusItem, readCorpus } from '../../src/analytics/classifier/corpus.js';
import { GrammarSet } from '../../src/analytics/grammar/GrammarSet.js';
import { IntentMatcher, UtteranceIntentTracker } from '../../src/analytics/intents/IntentMatcher.js';
import type { RecognitionResult } from '../../src/asr/types.js';
import { PACKAGE_ROOT } from '../../src/config.js';
import { phoneticLexicons } from '../../src/analytics/phonetic/lexicons.js';
import { DEBIAN_MODEL } from '../../src/asr/engines/pocketsphinx/paths.js';
import { createLogger } from '../../src/logger.js';
import { LANGUAGES, type Language } from '../../src/language.js';

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
  /** Per language: expected label -> label got -> count (`none` on either side; see `confusion`). */
  readonly confusion: Partial<Record<Language, Confusion>>;
}

/** expected -> got -> count. */
export type Confusion = Record<string, Record<string, number>>;

/** The corpus splits: `dev` is tuned on; `test` is held out (scored, never read while tuning: docs/analytics.md#evaluation). */
export const SPLITS = ['dev', 'test'] as const;
export type Split = (typeof SPLITS)[number];

export { type CorpusItem, readCorpus };

export const corpusDir = (split: Split): string => path.join(PACKAGE_ROOT, 'test', 'eval', 'corpus', split);

/** Feeds `text` word by word (partials) and then whole (final) through a tracker; the intents fired. */
export function runUtterance(matcher: IntentMatcher, item: CorpusItem, utteranceId = 1, recognised = false): string[] {
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
    for (const match of tracker.onResult(result, { callTimeMs: result.endMs, recognised })) fired.push(match.intent.id);
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
export interface TextEvalOptions {
  /** Key phrases also matched by sound, as the gateway does by default; default true. */
  readonly phonetic?: boolean;
  /** The intent classifier of each language (`<grammarsDir>/<language>/classifier.json`), as the gateway does by default; default true. */
  readonly classifier?: boolean;
  /** Read the lines as a recogniser's output (the classifier's threshold for recognised speech); default false. */
  readonly recognised?: boolean;
  /** Classifiers to use instead of the model files (fold evaluation: trained on the other dev batches). */
  readonly classifiers?: Partial<Record<Language, IntentClassifier>>;
}

export async function evaluateText(grammarsDir: string, dir: string, options: TextEvalOptions = {}): Promise<TextEvalResult> {
  const lexicons = phoneticLexicons({ 'en-US': DEBIAN_MODEL.dict }, createLogger('silent'));
  const grammars = await GrammarSet.load(grammarsDir);
  const counts = new Map<string, { tp: number; fp: number; fn: number }>();
  const count = (key: string) => {
    let c = counts.get(key);
    if (c === undefined) counts.set(key, (c = { tp: 0, fp: 0, fn: 0 }));
    return c;
  };
  const failures: TextFailure[] = [];
  const perLanguage: Partial<Record<Language, LanguageResult>> = {};
  const confusion: Partial<Record<Language, Confusion>> = {};
  let guardedFalsePositives = 0;

  for (const language of LANGUAGES) {
    const corpus = await readCorpus(dir, language);
    if (corpus.length === 0) continue;
    const definitions = grammars.intents(language);
    const known = new Set(definitions.map((d) => d.id));
    const phonetic = options.phonetic === false ? undefined : lexicons(language);
    const classifierFile = path.join(grammarsDir, language, 'classifier.json');
    const classifier =
      options.classifier === false ? undefined : (options.classifiers?.[language] ?? (existsSync(classifierFile) ? await IntentClassifier.load(classifierFile) : undefined));
    const matcher = new IntentMatcher(definitions, { language, ...(phonetic === undefined ? {} : { phonetic }), ...(classifier === undefined ? {} : { classifier }) });
    const languageCounts = new Map<string, { tp: number; fp: number; fn: number }>();
    const languageCount = (key: string) => {
      let c = languageCounts.get(key);
      if (c === undefined) languageCounts.set(key, (c = { tp: 0, fp: 0, fn: 0 }));
      return c;
    };
    for (const id of known) languageCount(id);

    corpus.forEach((item, index) => {
      // A label the grammars lack is a miss of the product, not an error of the corpus.
      for (const id of item.expect) languageCount(id);
      const got = [...new Set(runUtterance(matcher, item, index + 1, options.recognised === true))];
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
      addConfusion((confusion[language] ??= {}), item.expect, got);
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
    confusion,
  };
}

/**
 * Adds one item to a confusion table: a label found is counted on the
 * diagonal; each label missed is paired with each label raised in its place
 * (or with `none`), and a label raised with nothing missed is `none` -> it.
 */
export function addConfusion(table: Confusion, expected: readonly string[], got: readonly string[]): void {
  const bump = (e: string, g: string): void => {
    const row = (table[e] ??= {});
    row[g] = (row[g] ?? 0) + 1;
  };
  const missed = expected.filter((e) => !got.includes(e));
  const extra = got.filter((g) => !expected.includes(g));
  for (const e of expected) if (got.includes(e)) bump(e, e);
  for (const e of missed) {
    if (extra.length === 0) bump(e, 'none');
    for (const g of extra) bump(e, g);
  }
  if (missed.length === 0) for (const g of extra) bump('none', g);
  if (expected.length === 0 && got.length === 0) bump('none', 'none');
}

/** A confusion table as text: rows expected, columns got, only labels that occur. */
export function formatConfusion(table: Confusion): string {
  const labels = [...new Set([...Object.keys(table), ...Object.values(table).flatMap((row) => Object.keys(row))])].sort((a, b) => (a === 'none' ? 1 : b === 'none' ? -1 : a.localeCompare(b)));
  const short = (l: string): string => l.slice(0, 6);
  const lines = [`  ${'expected \\ got'.padEnd(18)} ${labels.map((l) => short(l).padStart(6)).join(' ')}`];
  for (const e of labels) {
    const row = table[e] ?? {};
    lines.push(`  ${e.padEnd(18)} ${labels.map((g) => String(row[g] ?? (e === g ? 0 : '.')).padStart(6)).join(' ')}`);
  }
  return lines.join('\n');
}

const pct = (x: number): string => x.toFixed(3);

/** A plain-text report: per language and intent, then every failure. */
export function formatReport(result: TextEvalResult, showErrors: boolean): string {
  const lines: string[] = [];
  for (const language of LANGUAGES) {
    const lang = result.perLanguage[language];
    if (lang === undefined) continue;
    lines.push(`${language}: ${lang.utterances} utterances, precision ${pct(lang.overall.precision)}, recall ${pct(lang.overall.recall)} (tp ${lang.overall.tp}, fp ${lang.overall.fp}, fn ${lang.overall.fn})`);
    lines.push('  intent              tp  fp  fn  precision  recall');
    for (const [id, s] of Object.entries(lang.perIntent)) {
      lines.push(`  ${id.padEnd(18)} ${String(s.tp).padStart(3)} ${String(s.fp).padStart(3)} ${String(s.fn).padStart(3)}  ${pct(s.precision).padStart(9)}  ${pct(s.recall).padStart(6)}`);
    }
    const table = result.confusion[language];
    if (table !== undefined) lines.push(`  confusion (rows expected, columns got):`, formatConfusion(table));
  }
  lines.push(`overall: precision ${pct(result.overall.precision)}, recall ${pct(result.overall.recall)}`);
  lines.push(`intents raised on negated, hypothetical or agent-only turns: ${result.negatedOrAgentFalsePositives}`);
  if (result.failures.length > 0 && !showErrors) lines.push(`failures: ${result.failures.length} (not listed with --summary)`);
  if (result.failures.length > 0 && showErrors) {
    lines.push(`failures (${result.failures.length}):`);
    for (const f of result.failures) {
      lines.push(`  [${f.language}] ${f.speaker === 'agent' ? '(agent) ' : ''}"${f.text}": expected [${f.expected.join(', ')}], got [${f.got.join(', ')}]`);
    }
  }
  return lines.join('\n');
}
