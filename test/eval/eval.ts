/**
 * `npm run eval`: intent precision and recall on the held-out test split of
 * the labelled text corpus (en-US, nl-NL) and of the flite-rendered two-leg
 * calls, streamed through the real engine as RTP L16 16 kHz and PCMU 8 kHz,
 * plus escalation per call. Exits non-zero when a target is missed.
 *
 *   npm run eval                   # held-out test split: text, then both codecs
 *   npm run eval -- --split dev    # the split that grammars and thresholds are tuned on
 *   npm run eval -- --text         # text only (seconds)
 *   npm run eval -- --audio L16    # audio only, one codec (L16 or PCMU)
 *   npm run eval -- --phonetic off --alternatives 0   # without phonetic or N-best matching
 *
 * The protocol (docs/analytics.md#evaluation): tune on dev; the test split is
 * scored, never read while tuning, and reported as it falls.
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { PACKAGE_ROOT } from '../../src/config.js';
import { LANGUAGES } from '../../src/language.js';
import { addConfusion, corpusDir, evaluateText, formatConfusion, formatReport, SPLITS, type Confusion, type Split } from './evalText.js';
import { readCalls, runAudioEval, scoreAudio, type AudioProfile } from './evalAudio.js';

/** Targets on the held-out split (issue #12). */
const TARGETS = {
  text: { precision: 0.97, recall: 0.95 },
  L16: { precision: 0.95, recall: 0.92 },
  PCMU: { precision: 0.95, recall: 0.85 },
} as const;

const CODECS = ['L16', 'PCMU'] as const;
type Codec = (typeof CODECS)[number];

async function main(argv: readonly string[]): Promise<number> {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      split: { type: 'string', default: 'test' },
      text: { type: 'boolean', default: false },
      audio: { type: 'string' },
      phonetic: { type: 'string', default: 'on' },
      alternatives: { type: 'string' },
    },
  });
  if (values.phonetic !== 'on' && values.phonetic !== 'off') throw new Error('--phonetic must be on or off');
  const phonetic = values.phonetic === 'on';
  const alternatives = values.alternatives === undefined ? undefined : Number(values.alternatives);
  if (alternatives !== undefined && !(Number.isInteger(alternatives) && alternatives >= 0)) throw new Error('--alternatives must be a whole number');
  const split = values.split as Split;
  if (!(SPLITS as readonly string[]).includes(split)) throw new Error(`--split must be one of ${SPLITS.join(', ')}`);
  const audioOnly = values.audio;
  if (audioOnly !== undefined && !(CODECS as readonly string[]).includes(audioOnly)) throw new Error(`--audio must be one of ${CODECS.join(', ')}`);
  const missed: string[] = [];
  const check = (what: string, precision: number, recall: number, target: { precision: number; recall: number }): void => {
    if (precision < target.precision) missed.push(`${what}: precision ${precision.toFixed(3)} < ${target.precision}`);
    if (recall < target.recall) missed.push(`${what}: recall ${recall.toFixed(3)} < ${target.recall}`);
  };

  if (audioOnly === undefined) {
    const text = await evaluateText(path.join(PACKAGE_ROOT, 'grammars'), corpusDir(split), { phonetic });
    console.log(`== Text corpus, ${split} split (test/eval/corpus/${split}/) ==`);
    console.log(formatReport(text));
    for (const language of LANGUAGES) {
      const lang = text.perLanguage[language];
      if (lang !== undefined) check(`text ${language}`, lang.overall.precision, lang.overall.recall, TARGETS.text);
    }
  }

  if (!values.text) {
    const calls = await readCalls(split);
    for (const codec of audioOnly === undefined ? CODECS : [audioOnly as Codec]) {
      const profile: AudioProfile = { codec, phonetic, ...(alternatives === undefined ? {} : { alternatives }) };
      console.log(`\n== Audio, ${split} split: ${calls.length} flite two-leg calls, RTP ${codec === 'L16' ? 'L16 16 kHz' : 'PCMU 8 kHz'}, real engine ==`);
      const started = Date.now();
      // Narrowband legs cost more (docs/asr.md): two calls at a time keeps admission control from refusing one.
      const results = await runAudioEval(calls, codec === 'L16' ? 3 : 2, profile);
      const score = scoreAudio(results);
      const confusion: Confusion = {};
      for (const r of results) {
        addConfusion(confusion, r.call.intents, r.intents);
        const intentsOk = r.intents.length === r.call.intents.length && r.call.intents.every((i) => r.intents.includes(i));
        const escalationOk = (r.peakLevel !== 'calm') === r.call.escalates;
        console.log(`${intentsOk && escalationOk ? 'ok  ' : 'MISS'} ${r.call.name.slice(0, 60).padEnd(60)} intents [${r.intents.map((i) => (r.evidence[i] === undefined || r.evidence[i] === 'transcript/exact' ? i : `${i} (${r.evidence[i]})`)).join(', ')}] expected [${r.call.intents.join(', ')}]; escalation ${r.peakLevel} (expected ${r.call.escalates ? 'escalated' : 'calm'})`);
        if (!intentsOk || !escalationOk) {
          console.log(`       transcript: ${r.transcript}`);
          if (r.escalationReasons.length > 0) console.log(`       escalation reasons: ${r.escalationReasons.join('; ')}`);
        }
      }
      console.log('  intent              tp  fp  fn  precision  recall');
      for (const [intent, c] of Object.entries(score.perIntent).sort()) {
        const p = c.tp + c.fp === 0 ? 1 : c.tp / (c.tp + c.fp);
        const r = c.tp + c.fn === 0 ? 1 : c.tp / (c.tp + c.fn);
        console.log(`  ${intent.padEnd(18)} ${String(c.tp).padStart(3)} ${String(c.fp).padStart(3)} ${String(c.fn).padStart(3)}  ${p.toFixed(3).padStart(9)}  ${r.toFixed(3).padStart(6)}`);
      }
      console.log('  confusion (rows expected, columns got):');
      console.log(formatConfusion(confusion));
      console.log(`audio ${codec}: precision ${score.precision.toFixed(3)}, recall ${score.recall.toFixed(3)} (targets ${TARGETS[codec].precision}/${TARGETS[codec].recall}); escalation right on ${score.escalationCorrect}/${score.calls} calls; ${((Date.now() - started) / 1000).toFixed(0)} s`);
      check(`audio ${codec}`, score.precision, score.recall, TARGETS[codec]);
      if (score.escalationCorrect !== score.calls) missed.push(`audio ${codec}: escalation wrong on ${score.calls - score.escalationCorrect} calls`);
    }
  }
  if (missed.length === 0) console.log(`\nAll targets met (${split} split).`);
  else console.log(`\nTargets missed (${split} split):\n- ${missed.join('\n- ')}`);
  return missed.length === 0 ? 0 : 1;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    console.error(err);
    process.exitCode = 2;
  },
);
