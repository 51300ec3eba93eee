import { existsSync } from 'node:fs';
import type { Language } from '../../language.js';
import type { Logger } from '../../logger.js';
import { PhoneticLexicon } from './PhoneticLexicon.js';

/**
 * One lexicon per language, loaded on first use and kept for the process
 * (grammar reloads build new matchers on the same lexicons). A language with
 * no source of pronunciations is matched by spelling only, said once in the log.
 */
export function phoneticLexicons(dictionaries: Partial<Record<Language, string>>, logger: Logger): (language: Language) => PhoneticLexicon | undefined {
  const loaded = new Map<Language, PhoneticLexicon | undefined>();
  return (language) => {
    if (loaded.has(language)) return loaded.get(language);
    const dictionary = dictionaries[language];
    const lexicon = PhoneticLexicon.load(language, dictionary !== undefined && existsSync(dictionary) ? { dictionary } : {});
    loaded.set(language, lexicon);
    if (lexicon === undefined) logger.warn({ language }, 'phonetic matching off for this language: no pronunciation dictionary and no espeak-ng (apt-get install libespeak-ng1)');
    else logger.info({ language, sources: lexicon.sources }, 'phonetic matching on');
    return lexicon;
  };
}
