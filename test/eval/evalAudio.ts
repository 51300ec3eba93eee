/**
 * Audio evaluation: scripted two-leg calls rendered with flite, streamed into
 * a real gateway as real-time RTP (L16 16 kHz, both legs), recognised by the
 * real engine; the post-call summary is compared with the labels.
 */
import type { RecognitionMode } from '../../src/asr/types.js';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { CodecSpec } from '../../src/audio/codecs/Codec.js';
import { renderCall, type Turn } from '../../src/demo/speech.js';
import { RtpSender } from '../../src/ingest/rtp/RtpSender.js';
import type { CallSummary } from '../../src/push/events.js';
import { EventRecorder, startTestGateway } from '../helpers/gateway.js';

export interface LabelledCall {
  readonly name: string;
  readonly script: readonly Turn[];
  /** Customer intents (contact reasons and escalation cues) a human would label. */
  readonly intents: readonly string[];
  /** Whether a supervisor should see this call escalate (peak level elevated or above). */
  readonly escalates: boolean;
}

export const AUDIO_CALLS: readonly LabelledCall[] = [
  {
    name: 'cancel with order number',
    script: [
      { speaker: 'agent', text: 'Thank you for calling, how can I help you?' },
      { speaker: 'customer', text: 'Hi. I would like to cancel my order. The order number is four five six seven.' },
      { speaker: 'agent', text: 'Of course, I will cancel that for you.' },
    ],
    intents: ['cancel_order'],
    escalates: false,
  },
  {
    name: 'where is my package',
    script: [
      { speaker: 'agent', text: 'Good afternoon, how can I help?' },
      { speaker: 'customer', text: 'Where is my package? It has not arrived yet.' },
      { speaker: 'agent', text: 'Let me check the tracking for you.' },
    ],
    intents: ['order_status'],
    escalates: false,
  },
  {
    name: 'refund',
    script: [
      { speaker: 'agent', text: 'Hello, you are speaking with Sam.' },
      { speaker: 'customer', text: 'The headphones are broken and I want a refund.' },
      { speaker: 'agent', text: 'I am sorry to hear that.' },
    ],
    intents: ['refund_request'],
    escalates: false,
  },
  {
    name: 'angry, asks for the manager, raised voice',
    script: [
      { speaker: 'agent', text: 'Hello, how can I help?' },
      { speaker: 'customer', text: 'I have been waiting for three weeks and nobody helps me.' },
      { speaker: 'agent', text: 'I understand, let me look into it.' },
      { speaker: 'customer', text: 'This is ridiculous. I want to speak to your manager.', gainDb: 9 },
      { speaker: 'agent', text: 'I will get my supervisor.' },
    ],
    // "This is ridiculous" is a complaint by the project's definition (docs/grammars.md).
    intents: ['complaint', 'speak_to_manager'],
    escalates: true,
  },
  {
    name: 'repeat contact and complaint',
    script: [
      { speaker: 'agent', text: 'Hello, how can I help you today?' },
      { speaker: 'customer', text: 'This is the third time I am calling about this problem.' },
      { speaker: 'agent', text: 'I am sorry about that.' },
      { speaker: 'customer', text: 'I want to file a complaint.' },
    ],
    intents: ['repeat_contact', 'complaint'],
    escalates: true,
  },
  {
    name: 'close account',
    script: [
      { speaker: 'agent', text: 'Hello, what can I do for you?' },
      { speaker: 'customer', text: 'Please close my account.' },
      { speaker: 'agent', text: 'I can help you with that.' },
    ],
    intents: ['close_account'],
    escalates: false,
  },
  {
    name: 'legal threat',
    script: [
      { speaker: 'agent', text: 'Hello, how can I help?' },
      { speaker: 'customer', text: 'If this is not fixed today I will contact my lawyer.' },
      { speaker: 'agent', text: 'Let us see what we can do.' },
    ],
    intents: ['legal_threat'],
    escalates: true,
  },
  {
    name: 'public threat',
    script: [
      { speaker: 'agent', text: 'Hello, how can I help?' },
      { speaker: 'customer', text: 'I am going to post this on twitter for everyone to see.' },
      { speaker: 'agent', text: 'I understand your frustration.' },
    ],
    intents: ['public_threat'],
    escalates: true,
  },
  {
    name: 'negated cancel',
    script: [
      { speaker: 'agent', text: 'Hello, how can I help?' },
      { speaker: 'customer', text: 'I do not want to cancel my order. I only want to change the delivery address.' },
      { speaker: 'agent', text: 'No problem, I can change that.' },
    ],
    intents: [],
    escalates: false,
  },
  {
    name: 'agent offers to cancel',
    script: [
      { speaker: 'customer', text: 'Hello, I have a question about my invoice.' },
      { speaker: 'agent', text: 'Sure. Would you like me to cancel the order for you?' },
      { speaker: 'customer', text: 'No thank you, that is all.' },
    ],
    intents: [],
    escalates: false,
  },
  {
    name: 'opening hours',
    script: [
      { speaker: 'agent', text: 'Good morning, how can I help?' },
      { speaker: 'customer', text: 'Can you tell me your opening hours on Saturday?' },
      { speaker: 'agent', text: 'We are open from nine to five.' },
    ],
    intents: [],
    escalates: false,
  },
  {
    name: 'talking over the agent, shouting',
    script: [
      { speaker: 'agent', text: 'Thank you for calling, how can I help you?' },
      { speaker: 'customer', text: 'My order is late again and I am very unhappy about the service.' },
      { speaker: 'agent', text: 'I am sorry, let me explain what happened with the delivery.' },
      { speaker: 'customer', text: 'No, listen to me, this is unacceptable, I am sick of waiting.', gainDb: 9, overlapMs: 1800 },
    ],
    // Voiced dissatisfaction is a complaint by the project's definition (docs/grammars.md).
    intents: ['order_status', 'complaint'],
    escalates: true,
  },
];

export interface AudioCallResult {
  readonly call: LabelledCall;
  readonly intents: readonly string[];
  readonly peakLevel: string;
  readonly escalationReasons: readonly string[];
  readonly transcript: string;
}

/** How the calls reach the gateway and what recognition runs. */
export interface AudioProfile {
  /** `L16` at 16 kHz (wideband), or `PCMU` at 8 kHz (a telephone line). Default L16. */
  readonly codec?: 'L16' | 'PCMU';
  /** Default: the gateway's default (transcribe+spot). */
  readonly mode?: RecognitionMode;
  /** Telephone-profile fill for narrowband legs; default: the gateway's (`auto`). */
  readonly narrowbandFill?: 'off' | number;
}

/** Runs every labelled call through a real gateway, `concurrency` calls at a time. */
export async function runAudioEval(calls: readonly LabelledCall[] = AUDIO_CALLS, concurrency = 3, profile: AudioProfile = {}): Promise<AudioCallResult[]> {
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
      asrNarrowbandFillDbfs: profile.narrowbandFill === undefined || profile.narrowbandFill === 'off' ? undefined : profile.narrowbandFill,
    },
    process.env,
  );
  const control = gw.control;
  const events = await EventRecorder.connect(gw.addresses.http.port);
  const results: AudioCallResult[] = [];
  try {
    // At a telephone level (about -25 dBFS) so that a raised voice is louder, not clipped.
    const rendered = await Promise.all(calls.map((c) => renderCall(c.script, { rate, gainDb: -10 })));
    let next = 0;
    const runners = Array.from({ length: Math.min(concurrency, calls.length) }, async () => {
      for (let i = next++; i < calls.length; i = next++) {
        const call = calls[i] as LabelledCall;
        const audio = rendered[i];
        if (audio === undefined) continue;
        const callId = `eval-${i}`;
        const reply = await control.startCall({
          call_id: callId,
          agent_id: 'eval-agent',
          queue: 'eval',
          language: 'en-US',
          legs: [
            { role: 'LEG_ROLE_CUSTOMER', codec: narrowband ? 'CODEC_PCMU' : 'CODEC_L16', clock_rate: rate, payload_type: codec.payloadType },
            { role: 'LEG_ROLE_AGENT', codec: narrowband ? 'CODEC_PCMU' : 'CODEC_L16', clock_rate: rate, payload_type: codec.payloadType },
          ],
        });
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
        results[i] = {
          call,
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
