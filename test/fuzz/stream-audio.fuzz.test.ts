/**
 * Fuzzes gRPC CallControl.StreamAudio: ≥100,000 mutated and random messages
 * (seeded, reproducible with FUZZ_SEED) on many streams, bounded at 75 s,
 * while a well-formed call streams alongside in real time. Messages are
 * serialised with the service's own serializer and then mutated on the wire
 * (bit flips, random bytes), so the server's decoding is fuzzed too.
 * Afterwards the gateway is alive and takes a new call, the well-formed call
 * got its intent on its own stream and on /v1/events, and the counters moved.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import * as grpc from '@grpc/grpc-js';
import { encodeUlaw } from '../../src/audio/codecs/index.js';
import { renderCall } from '../../src/demo/speech.js';
import type { StreamAudioRequest } from '../../src/ingest/grpc/generated/speechgateway/v1/StreamAudioRequest.js';
import type { StreamAudioResponse__Output } from '../../src/ingest/grpc/generated/speechgateway/v1/StreamAudioResponse.js';
import { loadGatewayProto } from '../../src/ingest/grpc/protoPackage.js';
import { EventRecorder, metricValue, startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { type Rand, flipBits, pick, prng, randomBytes } from '../helpers/prng.js';
import { DTMF_PRESSES_PER_SECOND, DtmfRateLimit } from '../../src/calls/DtmfRateLimit.js';

const SEED = Number(process.env['FUZZ_SEED'] ?? 0x5eed_9c);
const TARGET_INPUTS = Number(process.env['FUZZ_INPUTS'] ?? 100_000);
const BUDGET_MS = Number(process.env['FUZZ_BUDGET_MS'] ?? 75_000);
const STREAMING_WORKERS = 3;
const STATELESS_WORKERS = 3;
/** Share of the target stateless streams may bring (a stream costs far more than a message on one). */
const STATELESS_SHARE = 0.05;
const PATH = '/speechgateway.v1.CallControl/StreamAudio';

let gw: TestGateway;
let events: EventRecorder;
let raw: grpc.Client;
const method = loadGatewayProto().speechgateway.v1.CallControl.service.StreamAudio;
const serialize = method.requestSerialize as (request: StreamAudioRequest) => Buffer;
const deserializeResponse = method.responseDeserialize as (bytes: Buffer) => StreamAudioResponse__Output;

before(async () => {
  // Room for the well-formed call, the streaming fuzz calls and the odd random start that is valid.
  gw = await startTestGateway({ rtpPortMin: 46400, rtpPortMax: 46419, rtpTimeoutMs: 10_000, asrCapacityCores: 4 });
  events = await EventRecorder.connect(gw.addresses.http.port, '?types=call.started,intent,call.ended');
  // No client-side retries: their buffer of sent messages costs more than the server's work per message.
  raw = new grpc.Client(`127.0.0.1:${gw.addresses.grpcPort}`, grpc.credentials.createInsecure(), { 'grpc.enable_retries': 0 });
});

after(async () => {
  raw.close();
  events.close();
  await gw.close();
});

/** A stream whose messages are bytes on the wire: whatever the fuzzer makes of them reaches the server's decoder. */
function rawStream(): grpc.ClientDuplexStream<Buffer, Buffer> {
  return raw.makeBidiStreamRequest(
    PATH,
    (b: Buffer) => b,
    (b: Buffer) => b,
  );
}

interface Outcome {
  readonly status: Promise<grpc.StatusObject>;
}

function watch(stream: grpc.ClientDuplexStream<Buffer, Buffer>): Outcome {
  stream.on('data', () => undefined);
  stream.on('error', () => undefined);
  return { status: new Promise((resolve) => stream.on('status', resolve)) };
}

const LANGUAGES = ['en-US', 'nl-NL', 'EN-us', '', 'fr-FR', 'en-US\u0000', 'x'.repeat(300)];
const CODECS = ['CODEC_PCMU', 'CODEC_PCMA', 'CODEC_L16', 'CODEC_G722', 'CODEC_UNSPECIFIED', 'CODEC_OPUS'] as const;
const ROLES = ['LEG_ROLE_CUSTOMER', 'LEG_ROLE_AGENT', 'LEG_ROLE_UNSPECIFIED'] as const;

/** A start with random (mostly wrong) fields: codecs, rates, roles, language, ids, leg counts. */
function randomStart(rand: Rand, n: number): StreamAudioRequest {
  const legs = Array.from({ length: Math.floor(rand() * 4) }, () => ({
    role: pick(rand, ROLES),
    codec: pick(rand, CODECS),
    clock_rate: pick(rand, [0, 8000, 16000, 48000, 44100, 1, 4294967295]),
    payload_type: pick(rand, [0, 8, 96, 127, 128, 255]),
  }));
  return {
    start: {
      call_id: rand() < 0.5 ? `fz-${n}` : randomBytes(rand, Math.floor(rand() * 40)).toString('latin1'),
      agent_id: rand() < 0.9 ? 'a' : 'x'.repeat(200),
      queue: 'q',
      // A valid language only with an invalid leg set, so stateless streams rarely start a call.
      language: legs.length === 0 || legs.length === 3 ? pick(rand, LANGUAGES) : pick(rand, LANGUAGES.slice(2)),
      legs,
    },
  };
}

/** Inputs that open a stateless stream: random bytes, mutated starts, starts with bad fields, other first messages. */
function statelessInput(rand: Rand, n: number): Buffer {
  const r = rand();
  if (r < 0.2) return randomBytes(rand, Math.floor(rand() * 48));
  if (r < 0.5) return flipBits(rand, serialize(randomStart(rand, n)));
  if (r < 0.85) return serialize(randomStart(rand, n));
  if (r < 0.9) return serialize({});
  return serialize(pick(rand, [{ audio: { role: 'LEG_ROLE_CUSTOMER', payload: randomBytes(rand, 16) } }, { end: {} }, { dtmf: { role: 'LEG_ROLE_AGENT', digit: '1' } }, { resume: {} }]));
}

/**
 * Inputs for a streaming call (customer PCMU): mostly valid and varied; 1 in
 * `fatalEvery` ends the stream. `seq.dtmf` counts the DTMF presses the server
 * will accept (each comes back as a dtmf event: the fuzzer's flow control).
 */
function streamingInput(rand: Rand, seq: { next: number; dtmf: number }, fatalEvery: number): Buffer {
  if (rand() < 1 / fatalEvery) {
    return pick(rand, [
      () => flipBits(rand, serialize({ audio: { role: 'LEG_ROLE_CUSTOMER', payload: randomBytes(rand, 8), sequence: seq.next } })),
      () => randomBytes(rand, 1 + Math.floor(rand() * 24)),
      () => serialize({ audio: { role: pick(rand, ['LEG_ROLE_AGENT', 'LEG_ROLE_UNSPECIFIED'] as const), payload: randomBytes(rand, 8) } }),
      () => serialize({ dtmf: { role: 'LEG_ROLE_CUSTOMER', digit: pick(rand, ['', 'E', '12', '\u0000']) } }),
      () => serialize({ start: { call_id: 'again', language: 'en-US', legs: [] } }),
      () => serialize({}),
      () => serialize({ pause: { role: 'LEG_ROLE_AGENT' } }),
    ])();
  }
  const r = rand();
  if (r < 0.8) {
    const r2 = rand();
    const sequence = r2 < 0.3 ? 0 : r2 < 0.85 ? seq.next++ : r2 < 0.9 ? (seq.next += 2 + Math.floor(rand() * 3)) : Math.max(0, seq.next - 1 - Math.floor(rand() * 5));
    // Mostly μ-law silence (the voice gate skips it), sometimes noise: the recognisers must keep up with the well-formed call.
    const length = Math.floor(rand() * 24);
    return serialize({ audio: { role: 'LEG_ROLE_CUSTOMER', payload: rand() < 0.9 ? Buffer.alloc(length, 0xff) : randomBytes(rand, length), sequence } });
  }
  if (r < 0.86) {
    seq.dtmf++;
    return serialize({ dtmf: { role: 'LEG_ROLE_CUSTOMER', digit: pick(rand, [...'0123456789*#ABCDabcd']), duration_ms: Math.floor(rand() * 500) } });
  }
  if (r < 0.89) return serialize({ pause: { role: pick(rand, ['LEG_ROLE_CUSTOMER', 'LEG_ROLE_UNSPECIFIED'] as const), secure: rand() < 0.5 } });
  if (r < 0.92) return serialize({ resume: { role: pick(rand, ['LEG_ROLE_CUSTOMER', 'LEG_ROLE_UNSPECIFIED'] as const) } });
  // Unknown fields appended to a valid message: protobuf must skip them.
  return Buffer.concat([serialize({ audio: { role: 'LEG_ROLE_CUSTOMER', payload: randomBytes(rand, 8) } }), Buffer.from([0xf8, 0x07, Math.floor(rand() * 128)])]);
}

interface Stats {
  sent: number;
  streams: number;
  statelessStreams: number;
  /** Streams gRPC itself refused (undecodable message): one input each, not seen by the handler. */
  undecodable: number;
  codes: Map<string, number>;
}

function record(stats: Stats, status: grpc.StatusObject): void {
  const name = grpc.status[status.code] ?? String(status.code);
  stats.codes.set(name, (stats.codes.get(name) ?? 0) + 1);
  if (status.code === grpc.status.INTERNAL && status.details.startsWith('Error deserializing')) stats.undecodable++;
}

async function statelessWorker(seed: number, deadline: number, stats: Stats, done: () => Promise<boolean>): Promise<void> {
  const rand = prng(seed);
  let n = 0;
  while (Date.now() < deadline && stats.statelessStreams < TARGET_INPUTS * STATELESS_SHARE && !(await done())) {
    // A handful of streams in flight at once, each one to three messages.
    await Promise.all(
      Array.from({ length: 6 }, async () => {
        const stream = rawStream();
        const { status } = watch(stream);
        const count = 1 + Math.floor(rand() * 3);
        for (let i = 0; i < count; i++) stream.write(statelessInput(rand, n++));
        stats.sent += count;
        stats.streams++;
        stats.statelessStreams++;
        stream.end();
        const result = await Promise.race([status, sleep(5000).then(() => undefined)]);
        if (result === undefined) stream.cancel();
        else record(stats, result);
      }),
    );
  }
}

async function streamingWorker(seed: number, deadline: number, stats: Stats, done: () => Promise<boolean>): Promise<void> {
  const rand = prng(seed);
  let n = 0;
  while (Date.now() < deadline && !(await done())) {
    const stream = rawStream();
    let dtmfEvents = 0;
    let progress: (() => void) | undefined;
    stream.on('data', (bytes: Buffer) => {
      if (deserializeResponse(bytes).event?.type === 'dtmf') dtmfEvents++;
      progress?.();
    });
    const { status } = watch(stream);
    let ended = false;
    void status.then(() => {
      ended = true;
      progress?.();
    });
    stream.write(serialize({ start: { call_id: `fz-stream-${seed}-${n++}`, agent_id: 'fuzz', queue: 'fuzz', language: 'en-US', legs: [{ role: 'LEG_ROLE_CUSTOMER', codec: 'CODEC_PCMU' }] } }));
    stats.sent++;
    stats.streams++;
    const seq = { next: 1, dtmf: 0 };
    // Presses the gateway will echo: a leg publishes at most DTMF_PRESSES_PER_SECOND (bursts of
    // DTMF_BURST) and drops the rest (docs/events.md), so the flow control counts what that bound lets through.
    const bound = new DtmfRateLimit();
    let echoed = 0;
    const pressed = (before: number): void => {
      if (seq.dtmf > before && bound.admit(Date.now())) echoed++;
    };
    let lastBurst = 0;
    for (let burst = 0; burst < 400 && !ended && Date.now() < deadline; burst++) {
      // One burst per press the bound lets through a second: the echoes stay a measure of the server's progress.
      const due = lastBurst + 1000 / DTMF_PRESSES_PER_SECOND - Date.now();
      if (due > 0) await sleep(due);
      lastBurst = Date.now();
      for (let i = 0; i < 50; i++) {
        const before = seq.dtmf;
        stream.write(streamingInput(rand, seq, 3000));
        pressed(before);
      }
      stream.write(serialize({ dtmf: { role: 'LEG_ROLE_CUSTOMER', digit: '#' } }));
      seq.dtmf++;
      pressed(seq.dtmf - 1);
      stats.sent += 51;
      // Flow control: at most 30 echoes behind the server (each burst ends with a press that comes back as an event),
      // so that the rest of a stream the server ends is not wasted.
      const ahead = echoed;
      const waitUntil = Date.now() + 200;
      while (!ended && dtmfEvents < ahead - 30 && Date.now() < waitUntil) await Promise.race([new Promise<void>((r) => (progress = r)), sleep(20)]);
      if (burst % 20 === 0 && (await done())) break;
    }
    stream.end();
    const result = await Promise.race([status, sleep(10_000).then(() => undefined)]);
    if (result === undefined) stream.cancel();
    else record(stats, result);
    // Recognition at capacity: try again a little later, as a PBX would.
    if (result?.code === grpc.status.RESOURCE_EXHAUSTED) await sleep(200);
  }
}

/** Messages the server's handler saw, plus streams gRPC refused as undecodable (one input each). */
async function handled(stats: Stats): Promise<number> {
  const kinds = ['start', 'audio', 'dtmf', 'pause', 'resume', 'end', 'empty'];
  const seen = await Promise.all(kinds.map((kind) => metricValue(gw.metrics, 'sgw_stream_audio_messages_total', { kind })));
  return seen.reduce((a, b) => a + b, 0) + stats.undecodable;
}

test(`StreamAudio fuzz: ${TARGET_INPUTS} inputs (seed ${SEED}) beside a well-formed call`, { timeout: 120_000 }, async () => {
  const call = await renderCall(
    [
      { speaker: 'agent', text: 'Thanks for calling, how can I help?' },
      { speaker: 'customer', text: 'Hello, I would like to cancel my order.' },
    ],
    { rate: 8000, voices: { customer: 'slt', agent: 'rms' } },
  );
  const goodId = 'fz-good-call';
  const good = gw.control.streamAudio();
  const goodResponses: StreamAudioResponse__Output[] = [];
  good.on('data', (r: StreamAudioResponse__Output) => goodResponses.push(r));
  good.on('error', () => undefined);
  const goodStatus = new Promise<grpc.StatusObject>((resolve) => good.on('status', resolve));
  good.write({ start: { call_id: goodId, agent_id: 'agent-good', queue: 'orders', language: 'en-US', legs: [{ role: 'LEG_ROLE_CUSTOMER', codec: 'CODEC_PCMU' }] } });
  const intent = events.waitFor((e) => e.event.callId === goodId && e.event.type === 'intent' && e.event.intent === 'cancel_order', 90_000, 'cancel_order on /v1/events');
  intent.catch(() => undefined);
  await events.waitFor((e) => e.event.callId === goodId && e.event.type === 'call.started', 5000, 'well-formed call started');
  const goodDone = (async () => {
    const t0 = Date.now();
    for (let i = 0, seq = 1; i < call.legs.customer.length; i += 160, seq++) {
      good.write({ audio: { role: 'LEG_ROLE_CUSTOMER', payload: Buffer.from(encodeUlaw(call.legs.customer.subarray(i, i + 160))), sequence: seq } });
      const due = t0 + ((i + 160) / 8) - Date.now();
      if (due > 0) await sleep(due);
    }
  })();

  const stats: Stats = { sent: 0, streams: 0, statelessStreams: 0, undecodable: 0, codes: new Map() };
  const before = await handled(stats);
  const processed = async (): Promise<number> => (await handled(stats)) - before;
  const done = (share: number) => async (): Promise<boolean> => (await processed()) >= TARGET_INPUTS * share;
  const t0 = Date.now();
  const deadline = t0 + BUDGET_MS;
  await Promise.all([
    ...Array.from({ length: STREAMING_WORKERS }, (_, i) => streamingWorker(SEED + i, deadline, stats, done(1))),
    ...Array.from({ length: STATELESS_WORKERS }, (_, i) => statelessWorker(SEED + 100 + i, deadline, stats, done(1))),
  ]);
  const elapsed = Date.now() - t0;
  const inputs = await processed();
  const reasons = ['invalid_argument', 'oversize', 'overloaded', 'call_exists', 'sequence_late', 'sequence_gap', 'no_start', 'internal'];
  const counts = Object.fromEntries(await Promise.all(reasons.map(async (r) => [r, await metricValue(gw.metrics, 'sgw_stream_audio_errors_total', { reason: r })] as const)));
  const calls = await metricValue(gw.metrics, 'sgw_calls_started_total', { language: 'en-US' });
  const dtmfDropped = await metricValue(gw.metrics, 'sgw_dtmf_dropped_total');
  console.log(
    `stream-audio fuzz: seed ${SEED}, ${inputs} inputs handled (${stats.sent} sent) on ${stats.streams} streams in ${elapsed} ms; ${stats.undecodable} undecodable; ${calls} calls started; ${dtmfDropped} DTMF presses over the bound dropped; statuses ${JSON.stringify(Object.fromEntries(stats.codes))}; errors ${JSON.stringify(counts)}`,
  );

  assert.ok(inputs >= TARGET_INPUTS, `only ${inputs} inputs handled in ${BUDGET_MS} ms`);
  assert.ok((counts['invalid_argument'] ?? 0) > 100, 'INVALID_ARGUMENT counted');
  assert.ok((counts['sequence_late'] ?? 0) > 0, 'late chunks counted');
  assert.ok(stats.undecodable > 0, 'undecodable messages reached the server');
  assert.equal(stats.codes.get('UNKNOWN') ?? 0, 0, 'no stream ended without a proper status');

  // The well-formed call: its intent on its own stream and on /v1/events.
  await goodDone;
  const seen = await intent;
  assert.ok(seen.event.type === 'intent' && seen.event.leg === 'customer');
  good.end();
  const status = await goodStatus;
  assert.equal(status.code, grpc.status.OK, status.details);
  const streamed = goodResponses.flatMap((r) => (r.event == null ? [] : [r.event]));
  assert.ok(streamed.some((e) => e.type === 'intent' && e.intent === 'cancel_order' && e.leg === 'customer'), 'intent on the well-formed call\'s own stream');
  assert.equal(streamed.at(-1)?.type, 'call.summary');

  // Still alive and taking calls.
  const next = gw.control.streamAudio();
  // The status comes after the responses are read.
  next.on('data', () => undefined);
  next.on('error', () => undefined);
  const nextStatus = new Promise<grpc.StatusObject>((resolve) => next.on('status', resolve));
  next.write({ start: { call_id: 'fz-after', language: 'en-US', legs: [{ role: 'LEG_ROLE_CUSTOMER', codec: 'CODEC_PCMA' }] } });
  await events.waitFor((e) => e.event.callId === 'fz-after' && e.event.type === 'call.started', 10_000, 'a new call after the fuzz');
  next.end();
  assert.equal((await nextStatus).code, grpc.status.OK);
});
