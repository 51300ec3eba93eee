import { GatewayError } from './errors.js';

/** Languages the gateway serves. Adding one means a grammar set and an ASR model. */
export const LANGUAGES = ['en-US', 'nl-NL'] as const;
export type Language = (typeof LANGUAGES)[number];

export function isLanguage(value: string): value is Language {
  return (LANGUAGES as readonly string[]).includes(value);
}

/**
 * The served language a client asked for by tag (case-insensitive: `nl-nl`
 * is `nl-NL`); nothing asked (absent or empty): `fallback`. The policy of the
 * streaming ingest protocols (AudioHook, Twilio), as StartCall's: a call is
 * never recognised in a language other than the one asked for.
 * @throws GatewayError SGW_LANGUAGE_UNSUPPORTED for any other tag (the caller counts it per language).
 */
export function requestedLanguage(requested: string | undefined, fallback: Language): Language {
  if (requested === undefined || requested === '') return fallback;
  const language = LANGUAGES.find((l) => l.toLowerCase() === requested.toLowerCase());
  if (language === undefined) throw new GatewayError('SGW_LANGUAGE_UNSUPPORTED', `language ${requested.slice(0, 35)} is not served (served: ${LANGUAGES.join(', ')})`);
  return language;
}
