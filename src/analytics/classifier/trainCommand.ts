import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { GatewayError } from '../../errors.js';
import { isLanguage, LANGUAGES, type Language } from '../../language.js';
import { readCorpusFiles } from './corpus.js';
import { trainClassifier } from './train.js';

/**
 * `speech-gateway train-intents --corpus test/eval/corpus/dev [--language en-US] [--grammars grammars]`:
 * trains the intent classifier of each language on the labelled utterances
 * of the corpus folder (customer lines; docs/analytics.md#classifier) and
 * writes `<grammars>/<language>/classifier.json`. The shipped models are
 * trained on the dev split only: never point it at the held-out test split.
 */
export async function runTrainCommand(argv: readonly string[]): Promise<number> {
  const value = (flag: string): string | undefined => {
    const i = argv.indexOf(flag);
    if (i < 0) return undefined;
    const v = argv[i + 1];
    if (v === undefined || v.startsWith('--')) throw new GatewayError('SGW_CONFIG', `${flag} needs a value`);
    return v;
  };
  const corpus = value('--corpus');
  if (corpus === undefined) throw new GatewayError('SGW_CONFIG', '--corpus <folder of <language>[.<part>].jsonl files> is required');
  const only = value('--language');
  if (only !== undefined && !isLanguage(only)) throw new GatewayError('SGW_CONFIG', `--language must be one of ${LANGUAGES.join(', ')}`);
  const grammars = value('--grammars') ?? 'grammars';
  const languages: readonly Language[] = only === undefined ? LANGUAGES : [only];
  for (const language of languages) {
    const files = await readCorpusFiles(corpus, language);
    const examples = files.flatMap((f) => f.items.filter((i) => i.speaker === 'customer').map((i) => ({ text: i.text, intents: i.expect })));
    if (examples.length === 0) throw new GatewayError('SGW_CONFIG', `no ${language} utterances in ${corpus}`);
    const model = trainClassifier(language, examples, files.map((f) => path.posix.join(corpus, f.name)));
    const out = path.join(grammars, language, 'classifier.json');
    await mkdir(path.dirname(out), { recursive: true });
    await writeFile(out, `${JSON.stringify(model)}\n`);
    console.log(`${language}: ${examples.length} utterances, ${Object.keys(model.intents).length} intents, ${model.vocabulary.length} features -> ${out}`);
  }
  return 0;
}
