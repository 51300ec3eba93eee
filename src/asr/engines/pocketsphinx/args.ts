/**
 * Extra pocketsphinx flags for wideband (16 kHz) transcript decoders (`POCKETSPHINX_ARGS`).
 * The default prunes the search to at most 3000 active HMMs per frame and the two best
 * Gaussians: about a fifth less CPU per leg for a small loss of words (docs/asr.md#speed,
 * measured with the load test). Skipping the second search pass as well (`-fwdflat no`)
 * saves about a quarter more, but lost three of 53 dev intents (docs/asr.md#speed), so
 * only the agent leg's search does (POCKETSPHINX_AGENT_DEFAULT_ARGS).
 */
export const POCKETSPHINX_DEFAULT_ARGS: readonly string[] = ['-maxhmmpf', '3000', '-topn', '2'];

/**
 * Extra flags for telephone-profile (8 kHz) transcript decoders (`POCKETSPHINX_NARROWBAND_ARGS`):
 * the same pruning. Unpruned, an 8 kHz leg cost 2.6x the CPU of a 16 kHz one and 8 PCMU calls
 * dropped 252 s of audio on two cores; pruned, 1.5x and 1 s, for 0.04 less intent recall on the
 * dev calls without load (docs/asr.md#speed).
 */
export const POCKETSPHINX_NARROWBAND_DEFAULT_ARGS: readonly string[] = POCKETSPHINX_DEFAULT_ARGS;

/** Flags the engine sets itself: model files, searches, logging. */
const RESERVED = new Set(['-hmm', '-lm', '-dict', '-kws', '-keyphrase', '-jsgf', '-fsg', '-allphone', '-logfn', '-cmninit']);

/**
 * Splits `"-flag value -flag value"` into pairs (`none`: no extra flags, the
 * library's defaults); a string describing the problem when it is not that.
 */
export function parsePocketsphinxArgs(text: string): readonly string[] | string {
  if (text.trim() === 'none') return [];
  const tokens = text.split(/\s+/).filter((t) => t !== '');
  if (tokens.length % 2 !== 0) return 'flag/value pairs, e.g. "-maxhmmpf 3000" (an odd number of words was given)';
  for (let i = 0; i < tokens.length; i += 2) {
    const flag = tokens[i] as string;
    if (!/^-[a-z_]{1,40}$/.test(flag)) return `flag/value pairs; '${flag.slice(0, 40)}' is not a flag`;
    if (RESERVED.has(flag)) return `flag/value pairs without ${flag}, which the engine sets itself`;
  }
  return tokens;
}

/**
 * The language model's most probable words that transcript decoders search
 * (`POCKETSPHINX_VOCABULARY`). 40k of the Debian model's 72.5k words: a
 * decoder 48 -> 29 MB and 8 % less CPU, word errors no worse on the load
 * test's script; every grammar word but nine rare ones (possessives,
 * "fortnightly") is inside it. docs/asr.md#vocabulary has the measurements.
 */
export const POCKETSPHINX_DEFAULT_VOCABULARY = 40_000;

/**
 * Extra flags for the transcript decoders of legs whose speaker raises no intent
 * (`POCKETSPHINX_AGENT_ARGS`: the agent, as every intent of the shipped grammars is the
 * customer's), both bands. Their transcript is for the record, QA and the screens, not
 * for intents, so it gets a narrower search: half the active HMMs, at most five word exits
 * per frame, and no second (fwdflat) pass. docs/asr.md#speed has the measurements.
 */
export const POCKETSPHINX_AGENT_DEFAULT_ARGS: readonly string[] = ['-maxhmmpf', '1500', '-maxwpf', '5', '-topn', '2', '-fwdflat', 'no'];

/**
 * Words those agent legs' decoders search (`POCKETSPHINX_AGENT_VOCABULARY`): the language
 * model's 20k most probable, half the customer's, for a decoder of ~21 instead of ~31 MB
 * and a little less CPU (docs/asr.md#speed). A word outside it is not heard on the agent leg.
 */
export const POCKETSPHINX_AGENT_DEFAULT_VOCABULARY = 20_000;

/** Keyword spotters' flags (`POCKETSPHINX_SPOTTER_ARGS`): the library's settings. */
export const POCKETSPHINX_SPOTTER_DEFAULT_ARGS: readonly string[] = [];
