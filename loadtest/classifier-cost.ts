/**
 * `npm run bench:classifier`: what the intent classifier costs on the main
 * thread, with the shipped models. Per language: the time and memory (JS
 * heap and array buffers) to load
 * `grammars/<language>/classifier.json`, and the CPU per final customer
 * utterance of reading it, over the customer lines of the dev split (the
 * model itself, and the matcher's whole `classify` step, which first takes
 * out reported speech, plans given up, policy questions and imagined cases).
 * Median of REPEATS (3) rounds.
 */
import path from 'node:path';
import { IntentClassifier } from '../src/analytics/classifier/IntentClassifier.js';
import { readCorpus } from '../src/analytics/classifier/corpus.js';
import { GrammarSet } from '../src/analytics/grammar/GrammarSet.js';
import { IntentMatcher, type TimedToken } from '../src/analytics/intents/IntentMatcher.js';
import { tokenize } from '../src/analytics/grammar/phrase.js';
import { PACKAGE_ROOT } from '../src/config.js';
import { LANGUAGES } from '../src/language.js';

const REPEATS = Number(process.env['REPEATS'] ?? 3);

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
const cpuMs = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

async function main(): Promise<void> {
  const grammarsDir = path.join(PACKAGE_ROOT, 'grammars');
  const grammars = await GrammarSet.load(grammarsDir);
  console.log(`classifier cost, median of ${REPEATS} rounds, node ${process.version}`);
  for (const language of LANGUAGES) {
    const lines = (await readCorpus(path.join(PACKAGE_ROOT, 'test', 'eval', 'corpus', 'dev'), language)).filter((item) => item.speaker === 'customer').map((item) => item.text);
    global.gc?.();
    // Typed arrays live outside the JS heap: both count.
    const memory = (): number => process.memoryUsage().heapUsed + process.memoryUsage().arrayBuffers;
    const heapBefore = memory();
    const loadStart = performance.now();
    const classifier = await IntentClassifier.load(path.join(grammarsDir, language, 'classifier.json'));
    const loadMs = performance.now() - loadStart;
    global.gc?.();
    const heapMb = (memory() - heapBefore) / 1e6;
    const matcher = new IntentMatcher(grammars.intents(language), { language, classifier });
    const tokens: TimedToken[][] = lines.map((text) => tokenize(text).map((t, i) => ({ text: t, startMs: i * 300, endMs: (i + 1) * 300, confidence: undefined })));
    const model: number[] = [];
    const step: number[] = [];
    for (let r = 0; r < REPEATS; r++) {
      let t = cpuMs();
      for (const text of lines) classifier.classify(text);
      model.push((cpuMs() - t) / lines.length);
      t = cpuMs();
      for (const utterance of tokens) matcher.classify(utterance, 'customer');
      step.push((cpuMs() - t) / lines.length);
    }
    console.log(
      `${language}: ${lines.length} utterances; load ${loadMs.toFixed(0)} ms, heap and array buffers ${global.gc === undefined ? 'n/a (run with --expose-gc)' : `${heapMb.toFixed(1)} MB`}; ` +
        `CPU per utterance: model ${median(model).toFixed(3)} ms, matcher's classify step ${median(step).toFixed(3)} ms`,
    );
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
