/**
 * One phoneme alphabet for every source: IPA symbols, one string per
 * phoneme, without stress, length or syllable marks. espeak-ng speaks IPA;
 * the CMU dictionary's ARPAbet is mapped onto it, so an en-US word from the
 * dictionary and one from espeak-ng compare in the same symbols.
 */

/** ARPAbet (stress digits removed) to IPA phonemes; diphthongs and affricates as two. */
const ARPABET: Readonly<Record<string, readonly string[]>> = {
  AA: ['ɑ'], AE: ['æ'], AH: ['ʌ'], AO: ['ɔ'], AW: ['a', 'ʊ'], AY: ['a', 'ɪ'], B: ['b'], CH: ['t', 'ʃ'],
  D: ['d'], DH: ['ð'], EH: ['ɛ'], ER: ['ɚ'], EY: ['e', 'ɪ'], F: ['f'], G: ['ɡ'], HH: ['h'], IH: ['ɪ'],
  IY: ['i'], JH: ['d', 'ʒ'], K: ['k'], L: ['l'], M: ['m'], N: ['n'], NG: ['ŋ'], OW: ['o', 'ʊ'],
  OY: ['ɔ', 'ɪ'], P: ['p'], R: ['ɹ'], S: ['s'], SH: ['ʃ'], T: ['t'], TH: ['θ'], UH: ['ʊ'], UW: ['u'],
  V: ['v'], W: ['w'], Y: ['j'], Z: ['z'], ZH: ['ʒ'],
};

/** Phonemes of a CMU dictionary pronunciation ("K AH0 M P L EY1 N T"); undefined for an unknown symbol. */
export function fromArpabet(pronunciation: string): string[] | undefined {
  const out: string[] = [];
  for (const symbol of pronunciation.trim().split(/\s+/)) {
    if (symbol === '') continue;
    // Unstressed AH is the schwa in espeak-ng's transcriptions too.
    if (symbol === 'AH0') {
      out.push('ə');
      continue;
    }
    const phones = ARPABET[symbol.replace(/\d$/, '')];
    if (phones === undefined) return undefined;
    out.push(...phones);
  }
  return out;
}

/** Marks that are not phonemes: stress, length, syllable breaks, tie bars, word and phrase breaks. */
const SKIP = /^(?:[ˈˌːˑ.‿\s_|-]|\u035c|\u0361)$/u;
/** Combining marks and modifier letters belong to the phoneme before them (nasal, aspirated, …). */
const MODIFIER = /[\u0300-\u036f\u02b0-\u02ff]/u;

/** Splits an IPA transcription into phonemes. */
export function fromIpa(ipa: string): string[] {
  const out: string[] = [];
  for (const ch of ipa.normalize('NFD')) {
    if (SKIP.test(ch)) continue;
    if (MODIFIER.test(ch) && out.length > 0) {
      out[out.length - 1] += ch;
      continue;
    }
    // The two forms of the IPA g.
    out.push(ch === 'g' ? 'ɡ' : ch);
  }
  return out;
}

const VOWELS = new Set('aeiouyæɑɒɔəɛɜɚɪʊʌøœɐɘɵɤɯɨʉʏɶ');
const CONSONANT_CLASSES: readonly string[] = ['pbtdkɡqʔc', 'fvszʃʒθðhxɣχʁçʝ', 'mnŋɲɱ', 'lrɹɾɫʀɭ', 'wjʋɥ'];

function base(phoneme: string): string {
  return phoneme.charAt(0);
}

export function isVowel(phoneme: string): boolean {
  return VOWELS.has(base(phoneme));
}

/**
 * Cost of hearing `b` for `a`: 0 the same, 0.5 within a class recognisers
 * confuse (vowel for vowel, plosive for plosive, nasal for nasal …), 1 otherwise.
 */
export function substitutionCost(a: string, b: string): number {
  if (a === b) return 0;
  const x = base(a);
  const y = base(b);
  if (x === y) return 0.25;
  if (VOWELS.has(x) && VOWELS.has(y)) return 0.5;
  for (const cls of CONSONANT_CLASSES) if (cls.includes(x) && cls.includes(y)) return 0.5;
  return 1;
}

/** Inserting or losing a vowel (a schwa swallowed, a vowel added) is a smaller slip than a consonant. */
export function indelCost(p: string): number {
  return isVowel(p) ? 0.7 : 1;
}
