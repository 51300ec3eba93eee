/**
 * Grapheme-to-phoneme conversion with espeak-ng (Debian libespeak-ng1),
 * loaded with koffi: synchronous, a fraction of a millisecond per word, in
 * this thread. For nl-NL (no pronunciation dictionary ships here) and for
 * words missing from a dictionary.
 */
import koffi from 'koffi';
import type { Language } from '../../language.js';
import { fromIpa } from './phonemes.js';

const SONAME = 'libespeak-ng.so.1';
/** espeak_AUDIO_OUTPUT: no audio device, nothing asynchronous. */
const AUDIO_OUTPUT_SYNCHRONOUS = 2;
const CHARS_UTF8 = 1;
/** espeak_TextToPhonemes phonememode: IPA as UTF-8. */
const PHONEMES_IPA = 0x02;
const VOICES: Readonly<Record<Language, string>> = { 'en-US': 'en-us', 'nl-NL': 'nl' };

interface EspeakApi {
  setVoice(name: string): number;
  textToPhonemes(text: [string | null]): string | null;
}

let api: EspeakApi | null | undefined;
let voice: string | undefined;

function load(): EspeakApi | null {
  if (api !== undefined) return api;
  try {
    const lib = koffi.load(SONAME);
    const initialize = lib.func('int espeak_Initialize(int output, int buflength, const char *path, int options)') as (o: number, b: number, p: null, f: number) => number;
    if (initialize(AUDIO_OUTPUT_SYNCHRONOUS, 0, null, 0) < 0) throw new Error('espeak_Initialize failed');
    const setVoice = lib.func('int espeak_SetVoiceByName(const char *name)') as (name: string) => number;
    const textToPhonemes = lib.func('const char *espeak_TextToPhonemes(_Inout_ const char **textptr, int textmode, int phonememode)') as (
      text: [string | null],
      mode: number,
      phonemes: number,
    ) => string | null;
    api = { setVoice, textToPhonemes: (text) => textToPhonemes(text, CHARS_UTF8, PHONEMES_IPA) };
  } catch {
    api = null;
  }
  return api;
}

/** Whether espeak-ng can be loaded here. */
export function espeakAvailable(): boolean {
  return load() !== null;
}

/** The phonemes of one word as espeak-ng says it in `language`; undefined without espeak-ng. */
export function espeakPhonemes(word: string, language: Language): string[] | undefined {
  const espeak = load();
  if (espeak === null) return undefined;
  const name = VOICES[language];
  if (voice !== name) {
    if (espeak.setVoice(name) !== 0) return undefined;
    voice = name;
  }
  // espeak-ng reads up to a clause end and moves the pointer on; one word is one call.
  const ipa = espeak.textToPhonemes([word]);
  if (ipa === null) return undefined;
  const phonemes = fromIpa(ipa);
  return phonemes.length > 0 ? phonemes : undefined;
}
