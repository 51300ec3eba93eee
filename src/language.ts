/** Languages the gateway serves. Adding one means a grammar set and an ASR model. */
export const LANGUAGES = ['en-US', 'nl-NL'] as const;
export type Language = (typeof LANGUAGES)[number];

export function isLanguage(value: string): value is Language {
  return (LANGUAGES as readonly string[]).includes(value);
}
