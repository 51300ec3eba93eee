import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { GatewayError } from '../../errors.js';
import { isLanguage, LANGUAGES, type Language } from '../../language.js';
import { readCorpusFiles } from './corpus.js';
import { DEFAULT_TRAINING_OPTIONS, trainClassifier } from './train.js';

/**
 * `speech-gateway train-intents --corpus test/eval/corpus/dev [--corpus <more>…] [--threshold 0.5] [--recognised-threshold 0.9]
 * [--language en-US] [--grammars grammars]`: trains the intent classifier of
 * each language on the labelled utterances of the corpus folders (customer
 * lines; docs/analytics.md#classifier) and writes
 * `<grammars>/<language>/classifier.json`. The shipped models are trained on
 * the dev split only: never point it at the held-out test split.
 */
export async function runTrainCommand(argv: readonly string[]): Promise<number> {
  const value = (flag: string): string | undefined => {
    const i = argv.indexOf(flag);
    if (i < 0) return undefined;
    const v = argv[i + 1];
    if (v === undefined || v.startsWith('--')) throw new GatewayError('SGW_CONFIG', `${flag} needs a value`);
    return v;
  };
  const corpora = argv.flatMap((a, i) => (a === '--corpus' ? [argv[i + 1]] : [])).map((c) => {
    if (c === undefined || c.startsWith('--')) throw new GatewayError('SGW_CONFIG', '--corpus needs a value');
    return c;
  });
  if (corpora.length === 0) throw new GatewayError('SGW_CONFIG', '--corpus <folder of <language>[.<part>].jsonl files> is required');
  const probability = (flag: string): number | undefined => {
    const given = value(flag);
    if (given === undefined) return undefined;
    const p = Number(given);
    if (!(p > 0 && p < 1)) throw new GatewayError('SGW_CONFIG', `${flag} must lie between 0 and 1`);
    return p;
  };
  const threshold = probability('--threshold') ?? DEFAULT_TRAINING_OPTIONS.threshold;
  const recognisedThreshold = probability('--recognised-threshold');
  const only = value('--language');
  if (only !== undefined && !isLanguage(only)) throw new GatewayError('SGW_CONFIG', `--language must be one of ${LANGUAGES.join(', ')}`);
  const grammars = value('--grammars') ?? 'grammars';
  const languages: readonly Language[] = only === undefined ? LANGUAGES : [only];
  for (const language of languages) {
    const files = (await Promise.all(corpora.map(async (corpus) => (await readCorpusFiles(corpus, language)).map((f) => ({ ...f, name: path.posix.join(corpus, f.name) }))))).flat();
    const examples = files.flatMap((f) => f.items.filter((i) => i.speaker === 'customer').map((i) => ({ text: i.text, intents: i.expect })));
    if (examples.length === 0) throw new GatewayError('SGW_CONFIG', `no ${language} utterances in ${corpora.join(', ')}`);
    const options = { ...DEFAULT_TRAINING_OPTIONS, threshold, ...(recognisedThreshold === undefined ? {} : { recognisedThreshold }) };
    const model = trainClassifier(language, examples, files.map((f) => f.name), options);
    const out = path.join(grammars, language, 'classifier.json');
    await mkdir(path.dirname(out), { recursive: true });
    await writeFile(out, `${JSON.stringify(model)}\n`);
    console.log(`${language}: ${examples.length} utterances, ${Object.keys(model.intents).length} intents, ${model.vocabulary.length} features -> ${out}`);
  }
  return 0;
}
