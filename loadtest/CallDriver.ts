/**
 * Plays one fixture as one call, the way a PBX does: over the gRPC control
 * plane and RTP (StartCall, both legs in real time, EndCall), or as a Twilio
 * Media Stream over WebSocket (both tracks in one stream). In the ingest-only
 * scenario it also pushes each turn's transcript when the turn's audio has
 * been sent, as a platform with its own ASR would.
 */
import dgram from 'node:dgram';
import { WebSocket } from 'ws';
import { createEncoder } from '../src/audio/codecs/index.js';
import type { CodecSpec } from '../src/audio/codecs/Codec.js';
import type { Speaker } from '../src/demo/speech.js';
import type { CallControl } from '../src/ingest/grpc/client.js';
import type { Fixture, FixturePhrase } from './fixtures.js';
import { encodeFrames, type MediaPump, type PumpedLeg } from './MediaPump.js';

export type Transport = 'rtp' | 'twilio';
export type LoadCodec = 'pcmu' | 'l16';

export const CODECS: Readonly<Record<LoadCodec, CodecSpec & { readonly grpc: 'CODEC_PCMU' | 'CODEC_L16' }>> = {
  pcmu: { name: 'PCMU', clockRate: 8000, payloadType: 0, grpc: 'CODEC_PCMU' },
  l16: { name: 'L16', clockRate: 16000, payloadType: 96, grpc: 'CODEC_L16' },
};

const PTIME_MS = 20;

/** A fixture's legs encoded once, as 20 ms payloads, cut at `maxMs`. */
export interface EncodedFixture {
  readonly fixture: Fixture;
  readonly codec: LoadCodec;
  readonly frames: Readonly<Record<Speaker, readonly Uint8Array[]>>;
  /** Phrases whose audio ends within the played part. */
  readonly phrases: readonly FixturePhrase[];
}

export function encodeFixture(fixture: Fixture, codec: LoadCodec, maxMs = Infinity): EncodedFixture {
  const spec = CODECS[codec];
  if (fixture.sampleRate !== spec.clockRate) throw new RangeError(`fixture ${fixture.name} is at ${fixture.sampleRate} Hz, ${spec.name} needs ${spec.clockRate} Hz`);
  const encoder = createEncoder(spec);
  const samplesPerFrame = (spec.clockRate * PTIME_MS) / 1000;
  const keep = Math.min(fixture.legs.customer.length, Math.round((maxMs / 1000) * fixture.sampleRate));
  const encode = (pcm: Int16Array): Uint8Array[] => encodeFrames(pcm.subarray(0, keep), samplesPerFrame, (frame) => encoder.encode(frame));
  return {
    fixture,
    codec,
    frames: { customer: encode(fixture.legs.customer), agent: encode(fixture.legs.agent) },
    phrases: fixture.phrases.filter((p) => p.endMs <= (keep / fixture.sampleRate) * 1000),
  };
}

/** What one played call measured on the sending side. */
export interface CallRecord {
  readonly callId: string;
  readonly fixture: string;
  /** CallInfo.started_at_ms: the zero of the call's event times. */
  startedAtMs: number;
  /** Wall time (epoch ms) the last frame of each phrase was sent. */
  readonly phraseEndsSentAt: (number | undefined)[];
  readonly phrases: readonly FixturePhrase[];
  framesSent: number;
  /** StartCall refused, stream closed early, ... */
  error?: string;
}

export interface CallDriverOptions {
  readonly transport: Transport;
  readonly control: CallControl;
  readonly pump: MediaPump;
  readonly httpPort: number;
  /** Push each turn's text when its audio has been sent (ingest-only: the gateway has no ASR). */
  readonly pushTranscripts: boolean;
  /** Source sockets the RTP legs are spread over. */
  readonly sockets: readonly dgram.Socket[];
}

let socketCursor = 0;

/** Plays `encoded` as call `callId`; resolves when the call has ended on the gateway. */
export async function playCall(callId: string, encoded: EncodedFixture, options: CallDriverOptions): Promise<CallRecord> {
  const record: CallRecord = {
    callId,
    fixture: encoded.fixture.name,
    startedAtMs: 0,
    phraseEndsSentAt: encoded.phrases.map(() => undefined),
    phrases: encoded.phrases,
    framesSent: 0,
  };
  try {
    if (options.transport === 'rtp') await playRtp(callId, encoded, options, record);
    else await playTwilio(callId, encoded, options, record);
  } catch (err) {
    record.error = err instanceof Error ? err.message : String(err);
  }
  return record;
}

/** Marks phrase ends as their last frame goes out, and pushes the transcript in the ingest-only scenario. */
function phraseTracker(leg: Speaker, encoded: EncodedFixture, record: CallRecord, options: CallDriverOptions): (index: number, sentAt: number) => void {
  const ends = new Map<number, number[]>();
  encoded.phrases.forEach((phrase, i) => {
    if (phrase.leg !== leg) return;
    const lastFrame = Math.max(0, Math.ceil(phrase.endMs / PTIME_MS) - 1);
    ends.set(lastFrame, [...(ends.get(lastFrame) ?? []), i]);
  });
  let utterance = 0;
  return (index, sentAt) => {
    record.framesSent++;
    const due = ends.get(index);
    if (due === undefined) return;
    for (const i of due) {
      record.phraseEndsSentAt[i] = sentAt;
      const phrase = encoded.phrases[i];
      if (!options.pushTranscripts || phrase === undefined || record.startedAtMs === 0) continue;
      // The leg's audio started when StartCall returned; phrase times shift by that on the call timeline.
      const offset = Math.max(0, sentAt - phrase.endMs - record.startedAtMs);
      options.control.raw.PushTranscript(
        {
          call_id: record.callId,
          role: leg === 'customer' ? 'LEG_ROLE_CUSTOMER' : 'LEG_ROLE_AGENT',
          text: phrase.text,
          final: true,
          utterance_id: utterance++,
          start_ms: Math.round(offset + phrase.startMs),
          end_ms: Math.round(offset + phrase.endMs),
        },
        (err) => {
          if (err) record.error ??= `PushTranscript: ${err.message}`;
        },
      );
    }
  };
}

async function playRtp(callId: string, encoded: EncodedFixture, options: CallDriverOptions, record: CallRecord): Promise<void> {
  const spec = CODECS[encoded.codec];
  const reply = await options.control.startCall({
    call_id: callId,
    agent_id: `agent-${callId}`,
    queue: 'loadtest',
    language: 'en-US',
    legs: (['customer', 'agent'] as const).map((role) => ({
      role: role === 'customer' ? ('LEG_ROLE_CUSTOMER' as const) : ('LEG_ROLE_AGENT' as const),
      codec: spec.grpc,
      clock_rate: spec.clockRate,
      payload_type: spec.payloadType,
    })),
  });
  record.startedAtMs = Number((await options.control.getCall(callId)).started_at_ms);
  const socket = options.sockets[socketCursor++ % options.sockets.length];
  if (socket === undefined) throw new Error('no RTP source sockets');
  await Promise.all(
    reply.legs.map((endpoint) => {
      const leg: Speaker = endpoint.role === 'LEG_ROLE_CUSTOMER' ? 'customer' : 'agent';
      const frames = encoded.frames[leg];
      const ssrc = (Math.random() * 0xffffffff) >>> 0;
      const firstSeq = Math.floor(Math.random() * 0x10000);
      const firstTs = (Math.random() * 0xffffffff) >>> 0;
      const samplesPerFrame = (spec.clockRate * PTIME_MS) / 1000;
      const pumped: PumpedLeg = {
        frames,
        send(index, payload) {
          const header = Buffer.allocUnsafe(12);
          header[0] = 0x80;
          header[1] = (index === 0 ? 0x80 : 0) | spec.payloadType;
          header.writeUInt16BE((firstSeq + index) & 0xffff, 2);
          header.writeUInt32BE((firstTs + index * samplesPerFrame) >>> 0, 4);
          header.writeUInt32BE(ssrc, 8);
          socket.send([header, payload], endpoint.rtp_port, '127.0.0.1');
        },
        onFrame: phraseTracker(leg, encoded, record, options),
      };
      return options.pump.play(pumped);
    }),
  );
  // Let the jitter buffer and the recogniser take the last frames, then hang up as the PBX's BYE would.
  await new Promise((resolve) => setTimeout(resolve, 200));
  await options.control.endCall(callId);
}

async function playTwilio(callId: string, encoded: EncodedFixture, options: CallDriverOptions, record: CallRecord): Promise<void> {
  if (encoded.codec !== 'pcmu') throw new RangeError('Twilio Media Streams carry 8 kHz mu-law only');
  const ws = new WebSocket(`ws://127.0.0.1:${options.httpPort}/v1/twilio`, { perMessageDeflate: false });
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('unexpected-response', (_req, res) => reject(new Error(`Twilio stream refused: HTTP ${res.statusCode ?? 0}`)));
    ws.once('error', reject);
  });
  const closed = new Promise<{ code: number; reason: string }>((resolve) => ws.once('close', (code: number, reason: Buffer) => resolve({ code, reason: reason.toString('utf8') })));
  const streamSid = `MZ${callId}`;
  let sequence = 0;
  let chunk = 0;
  const send = (message: Record<string, unknown>): void => ws.send(JSON.stringify({ ...message, sequenceNumber: String(++sequence), streamSid }));
  ws.send(JSON.stringify({ event: 'connected', protocol: 'Call', version: '1.0.0' }));
  send({
    event: 'start',
    start: {
      accountSid: 'AC-loadtest',
      streamSid,
      callSid: `CA${callId}`,
      tracks: ['inbound', 'outbound'],
      mediaFormat: { encoding: 'audio/x-mulaw', sampleRate: 8000, channels: 1 },
      customParameters: { callId, agentId: `agent-${callId}`, queue: 'loadtest', language: 'en-US' },
    },
  });
  // The call exists once `start` is processed (decoders made: seconds under load); its start time anchors event times.
  for (let attempt = 0; attempt < 500 && record.startedAtMs === 0 && ws.readyState === WebSocket.OPEN; attempt++) {
    try {
      record.startedAtMs = Number((await options.control.getCall(callId)).started_at_ms);
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
  if (record.startedAtMs === 0) {
    // Hang up, or the call would start later and hold its decoders with no one sending.
    ws.close(1000);
    const { code, reason } = await closed;
    throw new Error(`Twilio stream did not start a call within 10 s (closed ${code} ${reason})`);
  }
  await Promise.all(
    (['customer', 'agent'] as const).map((leg) =>
      options.pump.play({
        frames: encoded.frames[leg],
        send(index, payload) {
          if (ws.readyState !== WebSocket.OPEN) return;
          send({ event: 'media', media: { track: leg === 'customer' ? 'inbound' : 'outbound', chunk: String(++chunk), timestamp: String(index * PTIME_MS), payload: Buffer.from(payload).toString('base64') } });
        },
        onFrame: phraseTracker(leg, encoded, record, options),
      }),
    ),
  );
  await new Promise((resolve) => setTimeout(resolve, 200));
  send({ event: 'stop', stop: { accountSid: 'AC-loadtest', callSid: `CA${callId}` } });
  ws.close(1000);
  const { code, reason } = await closed;
  if (code !== 1000 && code !== 1005) record.error = `Twilio stream closed ${code} ${reason}`;
}
