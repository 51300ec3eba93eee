/**
 * `npm run eval`: intent precision and recall on the labelled text corpus
 * (en-US, nl-NL) and on flite-rendered two-leg calls through the real engine,
 * and escalation detection per call. Exits non-zero when a target is missed.
 *
 *   npm run eval                # text and audio
 *   npm run eval -- --text      # text only (seconds)
 *   npm run eval -- --telephone # also: the audio calls over 8 kHz PCMU, with and
 *                               # without the telephone profile and spotting (report only)
 */
import path from 'node:path';
import { PACKAGE_ROOT } from '../../src/config.js';
import { evaluateText, formatReport } from './evalText.js';
import { runAudioEval, scoreAudio } from './evalAudio.js';

const TARGETS = { text: 0.95, audio: 0.9 } as const;

async function main(argv: readonly string[]): Promise<number> {
  let ok = true;
  const text = await evaluateText(path.join(PACKAGE_ROOT, 'grammars'));
  console.log('== Text corpus (test/eval/corpus/*.jsonl) ==');
  console.log(formatReport(text));
  if (text.overall.precision < TARGETS.text || text.overall.recall < TARGETS.text) ok = false;
  if (text.negatedOrAgentFalsePositives > 0) ok = false;

  if (!argv.includes('--text')) {
    console.log('\n== Audio: flite two-leg calls, RTP L16 16 kHz, real engine ==');
    const started = Date.now();
    const results = await runAudioEval();
    const score = scoreAudio(results);
    for (const r of results) {
      const intentsOk = r.intents.length === r.call.intents.length && r.call.intents.every((i) => r.intents.includes(i));
      const escalationOk = (r.peakLevel !== 'calm') === r.call.escalates;
      console.log(`${intentsOk && escalationOk ? 'ok  ' : 'MISS'} ${r.call.name.padEnd(44)} intents [${r.intents.join(', ')}] expected [${r.call.intents.join(', ')}]; escalation ${r.peakLevel} (expected ${r.call.escalates ? 'escalated' : 'calm'})`);
      if (!intentsOk || !escalationOk) {
        console.log(`       transcript: ${r.transcript}`);
        if (r.escalationReasons.length > 0) console.log(`       escalation reasons: ${r.escalationReasons.join('; ')}`);
      }
    }
    console.log('intent            tp  fp  fn');
    for (const [intent, c] of Object.entries(score.perIntent).sort()) console.log(`${intent.padEnd(16)} ${String(c.tp).padStart(3)} ${String(c.fp).padStart(3)} ${String(c.fn).padStart(3)}`);
    console.log(`audio: precision ${score.precision.toFixed(3)}, recall ${score.recall.toFixed(3)} (target ${TARGETS.audio}); escalation detected correctly on ${score.escalationCorrect}/${score.calls} calls; ${((Date.now() - started) / 1000).toFixed(0)} s`);
    if (score.precision < TARGETS.audio || score.recall < TARGETS.audio) ok = false;
  }
  if (argv.includes('--telephone')) {
    // Informational: pocketsphinx has no narrowband model (docs/asr.md), so there is no target.
    console.log('\n== Audio over a telephone line: the same calls as RTP PCMU 8 kHz ==');
    const profiles = [
      { label: 'transcript only                ', profile: { codec: 'PCMU', mode: 'transcribe', narrowbandFill: 'off' } },
      { label: 'transcript + spotting, no fill ', profile: { codec: 'PCMU', mode: 'transcribe+spot', narrowbandFill: 'off' } },
      { label: 'transcript + spotting, fill -48', profile: { codec: 'PCMU', mode: 'transcribe+spot', narrowbandFill: -48 } },
      { label: 'spotting only, no fill         ', profile: { codec: 'PCMU', mode: 'spot', narrowbandFill: 'off' } },
      { label: 'spotting only, fill -48        ', profile: { codec: 'PCMU', mode: 'spot', narrowbandFill: -48 } },
    ] as const;
    for (const { label, profile } of profiles) {
      const started = Date.now();
      // Two calls at a time: narrowband legs cost more (docs/asr.md), and admission control would refuse a third.
      const score = scoreAudio(await runAudioEval(undefined, 2, profile));
      console.log(`${label}: precision ${score.precision.toFixed(3)}, recall ${score.recall.toFixed(3)}, escalation correct ${score.escalationCorrect}/${score.calls}; ${((Date.now() - started) / 1000).toFixed(0)} s`);
    }
  }
  console.log(ok ? '\nAll targets met.' : '\nTargets missed (see above).');
  return ok ? 0 : 1;
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
