/**
 * Audio evaluation: scripted two-leg calls rendered with flite, streamed into
 * a real gateway as real-time RTP (L16 16 kHz, both legs), recognised by the
 * real engine; the post-call summary is compared with the labels.
 */
import type { RecognitionMode } from '../../src/asr/types.js';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { setTimeout as delay } from 'node:timers/promises';
import { status as grpcStatus } from '@grpc/grpc-js';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { CodecSpec } from '../../src/audio/codecs/Codec.js';
import { FLITE_VOICES, renderCall, type FliteVoice, type Turn } from '../../src/demo/speech.js';
import { PACKAGE_ROOT } from '../../src/config.js';
import type { Split } from './evalText.js';
import { RtpSender } from '../../src/ingest/rtp/RtpSender.js';
import type { CallSummary } from '../../src/events.js';
import { EventRecorder, startTestGateway } from '../helpers/gateway.js';

export interface LabelledCall {
  readonly name: string;
  /** flite voices of the two legs; default slt (customer) and rms (agent). */
  readonly voices?: { readonly customer?: FliteVoice; readonly agent?: FliteVoice };
  readonly script: readonly Turn[];
  /** Customer intents (contact reasons and escalation cues) a human would label. */
  readonly intents: readonly string[];
  /** Whether a supervisor should see this call escalate (peak level elevated or above). */
  readonly escalates: boolean;
}

export const callsDir = path.join(PACKAGE_ROOT, 'test', 'eval', 'calls');

/** The labelled calls of a split: `<callsDir>/<split>.json` and `<split>.<part>.json`, JSON arrays of {@link LabelledCall}. */
export async function readCalls(split: Split, dir: string = callsDir): Promise<LabelledCall[]> {
  const names = (await readdir(dir)).filter((n) => n === `${split}.json` || (n.startsWith(`${split}.`) && n.endsWith('.json'))).sort();
  const calls: LabelledCall[] = [];
  for (const name of names) {
    const value: unknown = JSON.parse(await readFile(path.join(dir, name), 'utf8'));
    if (!Array.isArray(value)) throw new Error(`${name}: expected a JSON array of calls`);
    for (const [i, call] of (value as Partial<{ [K in keyof LabelledCall]: unknown }>[]).entries()) {
      const ok =
        typeof call.name === 'string' &&
        Array.isArray(call.script) &&
        (call.script as unknown[]).every((t) => {
          const turn = t as Partial<Record<keyof Turn, unknown>> | null;
          return turn !== null && (turn.speaker === 'customer' || turn.speaker === 'agent') && typeof turn.text === 'string';
        }) &&
        Array.isArray(call.intents) &&
        typeof call.escalates === 'boolean' &&
        (call.voices === undefined || (typeof call.voices === 'object' && call.voices !== null && Object.values(call.voices).every((v) => (FLITE_VOICES as readonly unknown[]).includes(v))));
      if (!ok) throw new Error(`${name}[${i}]: expected {name, voices?, script: [{speaker, text, gainDb?, overlapMs?}], intents, escalates}`);
      calls.push(call as unknown as LabelledCall);
    }
  }
  return calls;
}

/**
 * Retries a StartCall that admission control refused (RESOURCE_EXHAUSTED)
 * until a running call ends: the eval measures recognition, not capacity, and
 * narrowband legs are measured at twice the cost of wideband ones.
 */
async function admitted<T>(start: () => Promise<T>): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await start();
    } catch (err) {
      if ((err as { code?: unknown }).code !== grpcStatus.RESOURCE_EXHAUSTED || attempt >= 120) throw err;
      await delay(1000);
    }
  }
}

export interface AudioCallResult {
  readonly call: LabelledCall;
  readonly intents: readonly string[];
  readonly peakLevel: string;
  readonly escalationReasons: readonly string[];
  readonly transcript: string;
  /** How each customer intent was first found: `source/evidence` (spotter/exact, transcript/phonetic, …). */
  readonly evidence: Readonly<Record<string, string>>;
  /** Intents first found by the classifier: its probability and the utterance it read. */
  readonly classified: Readonly<Record<string, { readonly probability: number; readonly text: string }>>;
}

/** How the calls reach the gateway and what recognition runs. */
export interface AudioProfile {
  /** `L16` at 16 kHz (wideband), or `PCMU` at 8 kHz (a telephone line). Default L16. */
  readonly codec?: 'L16' | 'PCMU';
  /** Default: the gateway's default (transcribe+spot). */
  readonly mode?: RecognitionMode;
  /** Telephone-profile fill for narrowband legs; default: the gateway's (`auto`). */
  readonly narrowbandFill?: 'off' | number;
  /** Phonetic matching; default the gateway's (on). */
  readonly phonetic?: boolean;
  /** The intent classifier; default the gateway's (on). */
  readonly classifier?: boolean;
  /** N-best hypotheses searched; default the gateway's. */
  readonly alternatives?: number;
}

/** Runs every labelled call through a real gateway, `concurrency` calls at a time. */
export async function runAudioEval(calls: readonly LabelledCall[], concurrency = 3, profile: AudioProfile = {}): Promise<AudioCallResult[]> {
  const narrowband = profile.codec === 'PCMU';
  const rate = narrowband ? 8000 : 16000;
  const codec: CodecSpec = narrowband ? { name: 'PCMU', clockRate: rate, payloadType: 0 } : { name: 'L16', clockRate: rate, payloadType: 96 };
  const scratch = await mkdtemp(path.join(tmpdir(), 'sgw-eval-'));
  // The configured engine (VOSK_MODEL etc. from the environment), else pocketsphinx.
  const gw = await startTestGateway(
    {
      rtpPortMin: 43000,
      rtpPortMax: 43199,
      asr: 'auto',
      callRecordsFile: path.join(scratch, 'records.jsonl'),
      logLevel: process.env['LOG_LEVEL'] ?? 'silent',
      ...(profile.mode === undefined ? {} : { asrMode: profile.mode }),
      ...(profile.phonetic === undefined ? {} : { phoneticMatching: profile.phonetic }),
      ...(profile.classifier === undefined ? {} : { intentClassifier: profile.classifier }),
      ...(profile.alternatives === undefined ? {} : { asrAlternatives: profile.alternatives }),
      asrNarrowbandFillDbfs: profile.narrowbandFill === undefined || profile.narrowbandFill === 'off' ? undefined : profile.narrowbandFill,
    },
    process.env,
  );
  const control = gw.control;
  const events = await EventRecorder.connect(gw.addresses.http.port);
  const results: AudioCallResult[] = [];
  try {
    // At a telephone level (about -25 dBFS) so that a raised voice is louder, not clipped.
    const rendered = await Promise.all(calls.map((c) => renderCall(c.script, { rate, gainDb: -10, ...(c.voices === undefined ? {} : { voices: c.voices }) })));
    let next = 0;
    const runners = Array.from({ length: Math.min(concurrency, calls.length) }, async () => {
      for (let i = next++; i < calls.length; i = next++) {
        const call = calls[i] as LabelledCall;
        const audio = rendered[i];
        if (audio === undefined) continue;
        const callId = `eval-${i}`;
        const reply = await admitted(() => control.startCall({
          call_id: callId,
          agent_id: 'eval-agent',
          queue: 'eval',
          language: 'en-US',
          legs: [
            { role: 'LEG_ROLE_CUSTOMER', codec: narrowband ? 'CODEC_PCMU' : 'CODEC_L16', clock_rate: rate, payload_type: codec.payloadType },
            { role: 'LEG_ROLE_AGENT', codec: narrowband ? 'CODEC_PCMU' : 'CODEC_L16', clock_rate: rate, payload_type: codec.payloadType },
          ],
        }));
        await Promise.all(
          reply.legs.map((leg) =>
            RtpSender.sendPcm({
              codec,
              destination: { address: leg.host, port: leg.rtp_port },
              rtcpPort: leg.rtcp_port,
              pcm: audio.legs[leg.role === 'LEG_ROLE_CUSTOMER' ? 'customer' : 'agent'],
              sampleRate: rate,
              bye: 'eval call done',
            }),
          ),
        );
        const summaryEvent = await events.waitFor((e) => e.event.callId === callId && e.event.type === 'call.summary', 20_000, `summary of ${callId}`);
        if (summaryEvent.event.type !== 'call.summary') continue;
        const summary: CallSummary = summaryEvent.event.summary;
        const transcript = events
          .forCall(callId)
          .map((e) => (e.type === 'transcript' && e.final ? `${e.leg}: ${e.text}` : undefined))
          .filter((line) => line !== undefined)
          .join(' | ');
        const evidence: Record<string, string> = {};
        const classified: Record<string, { probability: number; text: string }> = {};
        for (const e of events.forCall(callId)) {
          if (e.type !== 'intent' || e.leg !== 'customer' || evidence[e.intent] !== undefined) continue;
          evidence[e.intent] = `${e.source}/${e.evidence}`;
          if (e.evidence === 'classifier') classified[e.intent] = { probability: e.confidence, text: e.text };
        }
        results[i] = {
          call,
          evidence,
          classified,
          intents: [...new Set(summary.intents.filter((x) => x.leg === 'customer').map((x) => x.intent))],
          peakLevel: summary.escalation.peakLevel,
          escalationReasons: summary.escalation.reasons.map((r) => r.detail),
          transcript,
        };
      }
    });
    await Promise.all(runners);
  } finally {
    events.close();
    await gw.close();
    await rm(scratch, { recursive: true, force: true });
  }
  return results;
}

export interface AudioScore {
  readonly perIntent: Record<string, { tp: number; fp: number; fn: number }>;
  readonly precision: number;
  readonly recall: number;
  readonly escalationCorrect: number;
  readonly calls: number;
}

export function scoreAudio(results: readonly AudioCallResult[]): AudioScore {
  const perIntent: Record<string, { tp: number; fp: number; fn: number }> = {};
  const bump = (intent: string, key: 'tp' | 'fp' | 'fn'): void => {
    perIntent[intent] ??= { tp: 0, fp: 0, fn: 0 };
    perIntent[intent][key] += 1;
  };
  let escalationCorrect = 0;
  for (const r of results) {
    for (const intent of r.intents) bump(intent, r.call.intents.includes(intent) ? 'tp' : 'fp');
    for (const intent of r.call.intents) if (!r.intents.includes(intent)) bump(intent, 'fn');
    if ((r.peakLevel !== 'calm') === r.call.escalates) escalationCorrect += 1;
  }
  const sum = (key: 'tp' | 'fp' | 'fn'): number => Object.values(perIntent).reduce((n, x) => n + x[key], 0);
  const tp = sum('tp');
  return {
    perIntent,
    precision: tp + sum('fp') === 0 ? 1 : tp / (tp + sum('fp')),
    recall: tp + sum('fn') === 0 ? 1 : tp / (tp + sum('fn')),
    escalationCorrect,
    calls: results.length,
  };
}
