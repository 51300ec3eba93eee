/**
 * Chooses the intent classifier's settings on the dev split, never on the
 * held-out test split: each dev batch in turn is scored with a classifier
 * trained on the other dev batches, beside the grammars as shipped
 * (docs/analytics.md#classifier). Batches the grammars were tuned on flatter
 * the grammars; the batches written after the last grammar change (e to n)
 * are the fair folds. Only the dev split is read.
 *
 *   node dist/test/eval/classifierFolds.js                       # every dev batch, shipped training options
 *   node dist/test/eval/classifierFolds.js --folds e,f --threshold 0.5,0.6,0.7
 *   node dist/test/eval/classifierFolds.js --folds f --errors     # and what the first threshold got wrong
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { IntentClassifier } from '../../src/analytics/classifier/IntentClassifier.js';
import { readCorpusFiles } from '../../src/analytics/classifier/corpus.js';
import { DEFAULT_TRAINING_OPTIONS, trainClassifier } from '../../src/analytics/classifier/train.js';
import { PACKAGE_ROOT } from '../../src/config.js';
import { LANGUAGES, type Language } from '../../src/language.js';
import { corpusDir, evaluateText } from './evalText.js';

/** The part of a dev file name that names its batch: `en-US.e.jsonl` -> `e`, `en-US.jsonl` -> `a`. */
const batchOf = (name: string): string => name.split('.').slice(1, -1).join('.') || 'a';

async function main(argv: readonly string[]): Promise<void> {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      folds: { type: 'string' },
      threshold: { type: 'string', default: String(DEFAULT_TRAINING_OPTIONS.threshold) },
      errors: { type: 'boolean', default: false },
    },
  });
  const thresholds = values.threshold.split(',').map(Number);
  if (thresholds.some((t) => !(t > 0 && t < 1))) throw new Error('--threshold: numbers between 0 and 1, comma-separated');
  const grammars = path.join(PACKAGE_ROOT, 'grammars');
  const files = Object.fromEntries(await Promise.all(LANGUAGES.map(async (l) => [l, await readCorpusFiles(corpusDir('dev'), l)] as const))) as Record<
    Language,
    Awaited<ReturnType<typeof readCorpusFiles>>
  >;
  const folds = values.folds?.split(',') ?? [...new Set(LANGUAGES.flatMap((l) => files[l].map((f) => batchOf(f.name))))].sort();
  const scratch = await mkdtemp(path.join(tmpdir(), 'sgw-folds-'));
  try {
    for (const fold of folds) {
      const dir = path.join(scratch, fold);
      const trained: Partial<Record<Language, ReturnType<typeof trainClassifier>>> = {};
      for (const language of LANGUAGES) {
        const held = files[language].filter((f) => batchOf(f.name) === fold);
        if (held.length === 0) continue;
        await mkdir(dir, { recursive: true });
        await writeFile(path.join(dir, `${language}.jsonl`), held.flatMap((f) => f.items.map((i) => JSON.stringify(i))).join('\n') + '\n');
        const examples = files[language]
          .filter((f) => batchOf(f.name) !== fold)
          .flatMap((f) => f.items.filter((i) => i.speaker === 'customer').map((i) => ({ text: i.text, intents: i.expect })));
        trained[language] = trainClassifier(language, examples, [], DEFAULT_TRAINING_OPTIONS);
      }
      if (Object.keys(trained).length === 0) continue;
      const line = (what: string, r: Awaited<ReturnType<typeof evaluateText>>): string =>
        `${what.padEnd(26)} ${LANGUAGES.map((l) => {
          const o = r.perLanguage[l]?.overall;
          return o === undefined ? '' : `${l} ${o.precision.toFixed(3)}/${o.recall.toFixed(3)} (fp ${o.fp}, fn ${o.fn})`;
        }).join('   ')}`;
      console.log(`fold ${fold}`);
      console.log(line('  grammars only', await evaluateText(grammars, dir, { classifier: false })));
      for (const threshold of thresholds) {
        const classifiers: Partial<Record<Language, IntentClassifier>> = {};
        for (const [language, model] of Object.entries(trained) as [Language, ReturnType<typeof trainClassifier>][]) {
          classifiers[language] = new IntentClassifier({ ...model, threshold });
        }
        const result = await evaluateText(grammars, dir, { classifiers });
        console.log(line(`  + classifier @${threshold}`, result));
        if (values.errors && threshold === thresholds[0]) {
          for (const f of result.failures) console.log(`    ${f.language} ${f.speaker} expected [${f.expected.join(',')}] got [${f.got.join(',')}]: ${f.text}`);
        }
      }
    }
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

main(process.argv.slice(2)).catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
