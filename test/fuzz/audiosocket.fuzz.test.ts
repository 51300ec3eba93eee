/**
 * Fuzzes the AudioSocket listener: ≥100,000 mutated and random frames (seeded,
 * reproducible with FUZZ_SEED) over many TCP connections, bounded at 60 s,
 * while a well-formed call streams alongside in real time. Afterwards the
 * gateway is alive, still takes a new call, the well-formed call got its
 * intent and transcript, and the bad-input counters moved.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, test } from 'node:test';
import { renderCall } from '../../src/demo/speech.js';
import { KIND_DTMF, KIND_ERROR, KIND_HANGUP, KIND_SLIN_16K, KIND_SLIN_8K, KIND_UUID, encodeFrame, uuidToBytes } from '../../src/ingest/audiosocket/frames.js';
import { AudioSocketClient } from '../helpers/clients/audiosocket.js';
import { EventRecorder, metricValue, startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { type Rand, flipBits, pick, prng, randomBytes } from '../helpers/prng.js';

const SEED = Number(process.env['FUZZ_SEED'] ?? 0x5eed_a5);
const TARGET_INPUTS = Number(process.env['FUZZ_INPUTS'] ?? 100_000);
const BUDGET_MS = Number(process.env['FUZZ_BUDGET_MS'] ?? 60_000);
const WORKERS = 6;
/** Workers whose connections carry audio (and so start calls). */
const STREAMING_WORKERS = 2;

let gw: TestGateway;
let events: EventRecorder;
let port: number;

before(async () => {
  gw = await startTestGateway({ rtpPortMin: 46300, rtpPortMax: 46319, rtpTimeoutMs: 10_000, audioSocketPort: 0, audioSocketLegs: 'paired' });
  port = gw.addresses.audioSocketPort ?? assert.fail('AudioSocket listener not started');
  events = await EventRecorder.connect(gw.addresses.http.port, '?types=call.started,intent,transcript,call.ended');
});

after(async () => {
  events.close();
  await gw.close();
});

/** The first thing a fuzz connection sends: mostly a valid UUID, so that what follows reaches the stream states. */
function opening(rand: Rand, raw: boolean): Buffer {
  const uuid = `${randomUUID().slice(0, 35)}${pick(rand, ['0', '1', 'a', 'b', '7'])}`;
  // Paired suffixes (0, 1) exercise the join path; 'a', 'b', '7' are customer-only calls.
  const valid = encodeFrame(KIND_UUID, uuidToBytes(uuid));
  if (!raw) return valid;
  return rand() < 0.5 ? flipBits(rand, valid, 8) : randomBytes(rand, 1 + Math.floor(rand() * 24));
}

/**
 * One framed input: well-framed (so the connection lives on) but with random
 * kinds, payloads and lengths. `fatalOdds` of them are ones the server must
 * close on (torn sample, other rate, oversize header, hangup, error 0x01,
 * random bytes). Without `audio`, no slin frame is sent, so no call starts.
 */
function framedInput(rand: Rand, audio: boolean, fatalOdds: number): Buffer {
  if (rand() < fatalOdds) return fatalInput(rand, audio);
  const r = rand();
  const evenAudio = (): Buffer => randomBytes(rand, 2 * Math.floor(rand() * 9));
  if (audio && r < 0.35) return encodeFrame(KIND_SLIN_8K, evenAudio());
  if (audio && r < 0.45) {
    // Payload bits flipped, header kept: content fuzzing without losing the framing.
    const frame = encodeFrame(KIND_SLIN_8K, evenAudio());
    for (let i = 3; i < frame.length; i++) if (rand() < 0.2) frame[i] = Math.floor(rand() * 256);
    return frame;
  }
  if (r < 0.6) return encodeFrame(KIND_DTMF, rand() < 0.5 ? Buffer.from(pick(rand, [...'0123456789*#ABCDabcd'])) : randomBytes(rand, Math.floor(rand() * 4)));
  if (r < 0.8) return encodeFrame(pick(rand, [0x02, 0x04, 0x05, 0x0f, 0x20, 0x7f, 0x80, 0xfe]), randomBytes(rand, Math.floor(rand() * 24)));
  if (r < 0.9) return encodeFrame(KIND_UUID, randomBytes(rand, Math.floor(rand() * 20)));
  return encodeFrame(KIND_ERROR, rand() < 0.3 ? Buffer.alloc(0) : Buffer.from([pick(rand, [0x00, 0x02, 0x04, 0x7f, 0xff])]));
}

function fatalInput(rand: Rand, audio: boolean): Buffer {
  switch (Math.floor(rand() * (audio ? 7 : 4))) {
    case 0:
      return encodeFrame(KIND_HANGUP);
    case 1:
      return encodeFrame(KIND_ERROR, Buffer.from([0x01]));
    case 2:
      return Buffer.from([pick(rand, [KIND_SLIN_8K, KIND_DTMF, 0x42]), 0x10 + Math.floor(rand() * 0xef), Math.floor(rand() * 256)]);
    case 3:
      return flipBits(rand, randomBytes(rand, 1 + Math.floor(rand() * 16)), 8);
    case 4:
      return encodeFrame(KIND_SLIN_8K, randomBytes(rand, 1 + 2 * Math.floor(rand() * 16)));
    case 5:
      return encodeFrame(0x11, randomBytes(rand, 32));
    default:
      return encodeFrame(KIND_SLIN_16K, randomBytes(rand, 32));
  }
}

interface FuzzStats {
  sent: number;
  connections: number;
}

/**
 * One fuzz worker: connection after connection until the target or the
 * deadline. `streaming` workers hold calls (valid UUID, then audio among the
 * inputs, rarely fatal: thousands of inputs per call, since every call costs
 * the recognisers a decoder); the others never send audio (no call starts)
 * and one connection in five opens with a mutated or random header.
 */
async function fuzzWorker(seed: number, streaming: boolean, deadline: number, shared: FuzzStats, done: () => Promise<boolean>): Promise<void> {
  const rand = prng(seed);
  while (Date.now() < deadline && !(await done())) {
    let client: AudioSocketClient;
    try {
      client = await AudioSocketClient.connect(port);
    } catch {
      continue;
    }
    shared.connections++;
    const raw = !streaming && rand() < 0.2;
    if (await client.send(opening(rand, raw))) shared.sent++;
    const bursts = raw ? 1 : streaming ? 200 : 1 + Math.floor(rand() * 4);
    for (let b = 0; b < bursts && client.isOpen && Date.now() < deadline; b++) {
      const frames: Buffer[] = [];
      const n = 10 + Math.floor(rand() * 40);
      for (let i = 0; i < n; i++) frames.push(raw ? randomBytes(rand, 1 + Math.floor(rand() * 8)) : framedInput(rand, streaming, streaming ? 1 / 1500 : 1 / 100));
      if (!(await client.send(Buffer.concat(frames)))) break;
      shared.sent += n;
      // Let the server read (and maybe close) before the next burst; streaming calls are paced so the recogniser keeps up.
      await new Promise((r) => setTimeout(r, streaming ? 20 : 1));
    }
    // Half-close and let the server read everything sent (it may be paused while the call starts).
    client.socket.end();
    await Promise.race([client.closed, new Promise((r) => setTimeout(r, 5000).unref())]);
    client.destroy();
    await client.closed;
  }
}

/** Inputs the server really looked at: frames parsed, plus headers it turned away before a payload. */
async function processedInputs(): Promise<number> {
  const kinds = ['uuid', 'audio', 'dtmf', 'hangup', 'error', 'unknown'];
  const frames = await Promise.all(kinds.map((kind) => metricValue(gw.metrics, 'sgw_audiosocket_frames_total', { kind })));
  const headers = await Promise.all(['oversize', 'bad_first_frame', 'bad_uuid'].map((reason) => metricValue(gw.metrics, 'sgw_audiosocket_errors_total', { reason })));
  return [...frames, ...headers].reduce((a, b) => a + b, 0);
}

test(`AudioSocket fuzz: ${TARGET_INPUTS} inputs (seed ${SEED}) beside a well-formed call`, { timeout: 120_000 }, async () => {
  const call = await renderCall(
    [
      { speaker: 'agent', text: 'Hello, you are speaking with Sam.' },
      { speaker: 'customer', text: 'I want to speak to your manager.' },
    ],
    { rate: 8000, voices: { customer: 'slt', agent: 'rms' } },
  );
  const goodId = `${randomUUID().slice(0, 35)}a`;
  const good = await AudioSocketClient.connect(port);
  await good.sendUuid(goodId);
  const intent = events.waitFor((e) => e.event.callId === goodId && e.event.type === 'intent' && e.event.intent === 'speak_to_manager', 90_000, 'speak_to_manager on the well-formed call');
  intent.catch(() => undefined);
  const goodStream = good.streamAudio(call.legs.customer, 8000);
  await events.waitFor((e) => e.event.callId === goodId && e.event.type === 'call.started', 5000, 'well-formed call started');

  const errorsBefore = await metricValue(gw.metrics, 'sgw_audiosocket_errors_total', { reason: 'bad_first_frame' });
  const stats: FuzzStats = { sent: 0, connections: 0 };
  const processedBefore = await processedInputs();
  const processed = async (): Promise<number> => (await processedInputs()) - processedBefore;
  const t0 = Date.now();
  // Stateless connections are cheap and fast: they may bring at most half the inputs, calls the rest.
  const done = (share: number) => async (): Promise<boolean> => (await processed()) >= TARGET_INPUTS * share;
  await Promise.all(Array.from({ length: WORKERS }, (_, i) => fuzzWorker(SEED + i, i < STREAMING_WORKERS, t0 + BUDGET_MS, stats, done(i < STREAMING_WORKERS ? 1 : 0.5))));
  const elapsed = Date.now() - t0;
  const inputs = await processed();
  const reasons = ['oversize', 'bad_first_frame', 'bad_uuid', 'odd_audio', 'unsupported_rate', 'rate_change', 'unknown_kind', 'bad_dtmf', 'client_error', 'call_refused', 'dtmf_before_audio', 'idle_timeout'];
  const counts = Object.fromEntries(await Promise.all(reasons.map(async (r) => [r, await metricValue(gw.metrics, 'sgw_audiosocket_errors_total', { reason: r })] as const)));
  const calls = await metricValue(gw.metrics, 'sgw_calls_started_total', { language: 'en-US' });
  console.log(`audiosocket fuzz: seed ${SEED}, ${inputs} inputs processed by the server (${stats.sent} sent) on ${stats.connections} connections in ${elapsed} ms; ${calls} calls started; errors ${JSON.stringify(counts)}`);

  assert.ok(inputs >= TARGET_INPUTS, `only ${inputs} inputs processed in ${BUDGET_MS} ms`);
  for (const reason of ['oversize', 'bad_first_frame', 'odd_audio', 'unknown_kind', 'bad_dtmf']) assert.ok((counts[reason] ?? 0) > 0, `counter ${reason} moved`);
  assert.ok((counts['bad_first_frame'] ?? 0) > errorsBefore);

  // The well-formed call beside the fuzz still gets its intent and transcript on the customer leg.
  await goodStream;
  const got = await intent;
  assert.ok(got.event.type === 'intent' && got.event.leg === 'customer');
  await events.waitFor((e) => e.event.callId === goodId && e.event.type === 'transcript' && e.event.leg === 'customer' && e.event.final, 20_000, 'final transcript of the well-formed call');
  await good.sendHangup();
  await events.waitFor((e) => e.event.callId === goodId && e.event.type === 'call.ended', 10_000, 'well-formed call ended');

  // Still alive and taking calls.
  const fresh = `${randomUUID().slice(0, 35)}b`;
  const next = await AudioSocketClient.connect(port);
  await next.send(Buffer.concat([encodeFrame(KIND_UUID, uuidToBytes(fresh)), encodeFrame(KIND_SLIN_8K, new Uint8Array(320))]));
  await events.waitFor((e) => e.event.callId === fresh && e.event.type === 'call.started', 10_000, 'a new call after the fuzz');
  next.destroy();
  const health = await fetch(`http://127.0.0.1:${gw.addresses.http.port}/healthz`);
  assert.equal(health.status, 200);
});
