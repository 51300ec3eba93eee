/**
 * Fuzzing /v1/twilio: at least 100,000 mutated and random inputs (seeded,
 * reproducible: FUZZ_SEED) fed to the real listener while a well-formed
 * Twilio call runs alongside on the same gateway. The gateway must stay up,
 * close every bad stream with its protocol code (1007/1008/1009), count it,
 * still recognise the good call's intent, and still start a new call after.
 *
 * Two kinds of fuzz connection: "started" ones run a real one-track stream
 * (connected, start) and feed thousands of valid random inputs (media of
 * random μ-law with consistent or jumping timestamps, dtmf, mark, unknown
 * events) before one mutated input ends them; "early" ones feed a few
 * inputs and a mutant before any stream starts (and some fuzz the upgrade).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { WebSocket } from 'ws';
import { renderCall } from '../../src/demo/speech.js';
import { TwilioStreamClient } from '../helpers/clients/twilio.js';
import { EventRecorder, metricValue, startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { int, mutateText, pick, prng, randomBytes, type Rand } from '../helpers/prng.js';

const TOKEN = 'twilio-fuzz-token-0123456789';
const SEED = Number(process.env['FUZZ_SEED'] ?? 0x7e110);
const TARGET_INPUTS = 100_000;
const MAX_FUZZ_MS = 60_000;
/** Inputs per ms at most: 100,000 in ~40 s, leaving the (shared, 2-core) CPU to the good call's recognisers. */
const RATE_PER_MS = 2.5;
const EARLY_WORKERS = 6;
const STARTED_WORKERS = 1;
/** Call id of a transcripts-only call kept active: a mutated `start` that happens to be valid is refused as a duplicate instead of spending a recogniser. */
const DUPLICATE_CALL = 'CAfuzzdup';


function randomValue(rand: Rand): unknown {
  return pick(rand, [null, true, 0, -1, 1.5, 2 ** 53, 1e308, '', '-5', '1e3', 'x'.repeat(int(rand, 300)), 'AAA=', '!!!!', [], ['inbound', 'inbound'], {}, { encoding: 'audio/x-mulaw' }]);
}

function mutateObject(rand: Rand, message: Record<string, unknown>): Record<string, unknown> {
  const out = structuredClone(message);
  for (let n = 1 + int(rand, 3); n > 0; n--) {
    const nested = Object.values(out).filter((v): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v));
    const target = nested.length > 0 && rand() < 0.6 ? pick(rand, nested) : out;
    const keys = Object.keys(target);
    const key = keys.length > 0 && rand() < 0.8 ? pick(rand, keys) : `k${int(rand, 100)}`;
    if (int(rand, 3) === 0) delete target[key];
    else target[key] = randomValue(rand);
  }
  return out;
}

/** A few bytes of μ-law silence, now and then a random byte: exercises decoding without loading the recognisers. */
function quietPayload(rand: Rand): string {
  const bytes = Buffer.alloc(1 + int(rand, 2), 0xff);
  if (rand() < 0.1) bytes[int(rand, bytes.length)] = int(rand, 256);
  return bytes.toString('base64');
}

describe('Twilio Media Streams fuzz', () => {
  let gw: TestGateway;
  let events: EventRecorder;
  let port: number;

  before(async () => {
    // Admission control measures cost per leg on a CPU shared with other test runs; the fuzz stream carries
    // almost no audio, so a high capacity keeps it admitted (refusals are tested in test/unit/asr/admission.test.ts).
    gw = await startTestGateway({ rtpPortMin: 42660, rtpPortMax: 42669, rtpTimeoutMs: 120_000, twilioStreamTokens: [TOKEN], asrCapacityCores: 16 });
    port = gw.addresses.http.port;
    events = await EventRecorder.connect(port);
  });
  after(async () => {
    events.close();
    await gw.close();
  });

  test(`≥${TARGET_INPUTS} mutated and random inputs: the gateway stays up, counts them, and the good call still gets its intent (seed ${SEED})`, { timeout: 120_000 }, async () => {
    const call = await renderCall(
      [
        { speaker: 'agent', text: 'Thank you for calling, how can I help you today?' },
        { speaker: 'customer', text: 'Hello, I want to cancel my order.' },
        { speaker: 'agent', text: 'Of course, let me check that for you.' },
      ],
      { rate: 8000, voices: { customer: 'rms', agent: 'slt' } },
    );
    await gw.control.startCall({ call_id: DUPLICATE_CALL, agent_id: 'a', queue: 'q', language: 'en-US', transcripts_only: true, legs: [{ role: 'LEG_ROLE_CUSTOMER' }] });
    const good = await TwilioStreamClient.connect(port, { token: TOKEN });
    good.begin({ customParameters: { agentId: 'agent-1', queue: 'orders' } });
    const intent = events.waitFor((e) => e.event.callId === good.callSid && e.event.type === 'intent' && e.event.intent === 'cancel_order', 60_000, 'cancel_order');
    await events.waitFor((e) => e.event.callId === good.callSid && e.event.type === 'call.started', 5000, 'good call.started');
    let goodDone = false;
    const goodCall = good.stream(call.legs.customer, call.legs.agent).then(() => {
      goodDone = true;
    });

    let inputs = 0;
    let connections = 0;
    let fuzzCalls = 0;
    const startedAt = Date.now();
    const keepGoing = (): boolean => Date.now() - startedAt < MAX_FUZZ_MS && (inputs < TARGET_INPUTS || !goodDone);
    const pace = async (): Promise<void> => {
      const ahead = inputs / RATE_PER_MS - (Date.now() - startedAt);
      await new Promise((resolve) => (ahead > 1 ? setTimeout(resolve, ahead) : setImmediate(resolve)));
    };

    const connect = async (rand: Rand): Promise<WebSocket | undefined> => {
      connections++;
      const wrong = rand() < 0.02;
      const ws = new WebSocket(`ws://127.0.0.1:${port}/v1/twilio/${wrong ? 'not-the-token' : TOKEN}`, { perMessageDeflate: false });
      const ok = await new Promise<boolean>((resolve) => {
        ws.once('open', () => resolve(true));
        ws.once('unexpected-response', () => resolve(false));
        ws.once('error', () => resolve(false));
      });
      if (ok) return ws;
      inputs++;
      ws.terminate();
      return undefined;
    };

    /** Sends one mutated or random input, then waits briefly for the server to close. */
    const finish = async (rand: Rand, ws: WebSocket, seq: number, streamSid: string): Promise<void> => {
      const closed = new Promise<void>((resolve) => ws.once('close', () => resolve()));
      const templates: (() => Record<string, unknown>)[] = [
        () => ({ event: 'connected', protocol: 'Call', version: '1.0.0' }),
        () => ({ event: 'start', sequenceNumber: String(seq + 1), streamSid, start: { streamSid, callSid: DUPLICATE_CALL, tracks: ['inbound'], mediaFormat: { encoding: 'audio/x-mulaw', sampleRate: 8000, channels: 1 }, customParameters: { callId: DUPLICATE_CALL } } }),
        () => ({ event: 'media', sequenceNumber: String(seq + 1), streamSid, media: { track: 'inbound', chunk: '1', timestamp: '0', payload: quietPayload(rand) } }),
        () => ({ event: 'dtmf', sequenceNumber: String(seq + 1), streamSid, dtmf: { track: 'inbound_track', digit: '1' } }),
        () => ({ event: 'stop', sequenceNumber: String(seq + 1), streamSid, stop: {} }),
      ];
      const kind = int(rand, 100);
      let data: string | Buffer;
      if (kind < 40) data = JSON.stringify(mutateObject(rand, pick(rand, templates)()));
      else if (kind < 75) data = mutateText(rand, JSON.stringify(pick(rand, templates)()));
      else if (kind < 82) data = randomBytes(rand, 1 + int(rand, 64));
      else if (kind < 88) data = JSON.stringify({ event: 'media', sequenceNumber: String(seq + 2 + int(rand, 5)), streamSid, media: { track: 'inbound', timestamp: '0', payload: 'AAAA' } });
      else if (kind < 92) data = JSON.stringify({ event: 'media', sequenceNumber: String(seq + 1), streamSid: 'MZother', media: { track: 'inbound', timestamp: '0', payload: 'AAAA' } });
      else if (kind < 95) data = JSON.stringify({ event: 'media', sequenceNumber: String(seq + 1), streamSid, media: { track: 'inbound', timestamp: String(3_600_000 + int(rand, 1e6)), payload: 'AAAA' } });
      else if (kind < 98) data = JSON.stringify({ event: 'media', sequenceNumber: String(seq + 1), streamSid, media: { track: 'inbound', timestamp: '0', payload: 'A'.repeat(64 * 1024) } });
      else data = 'x'.repeat(1 + int(rand, 100));
      if (ws.readyState === WebSocket.OPEN) {
        if (Buffer.isBuffer(data)) ws.send(data, { binary: rand() < 0.5 });
        else ws.send(data);
      }
      inputs++;
      await Promise.race([closed, new Promise((resolve) => setTimeout(resolve, 100))]);
      ws.terminate();
    };

    const early = async (rand: Rand): Promise<void> => {
      const ws = await connect(rand);
      if (ws === undefined) return;
      let seq = 0;
      if (rand() < 0.8) {
        ws.send(JSON.stringify({ event: 'connected', protocol: 'Call', version: '1.0.0' }));
        inputs++;
      }
      for (let r = int(rand, 4); r > 0; r--) {
        ws.send(JSON.stringify({ event: `future${int(rand, 10)}`, sequenceNumber: String(++seq) }));
        inputs++;
      }
      await finish(rand, ws, seq, 'MZfuzz');
    };

    const started = async (rand: Rand): Promise<void> => {
      const ws = await connect(rand);
      if (ws === undefined) return;
      const callId = `twilio-fuzz-${++fuzzCalls}`;
      const streamSid = `MZfuzz${fuzzCalls}`;
      ws.send(JSON.stringify({ event: 'connected', protocol: 'Call', version: '1.0.0' }));
      ws.send(JSON.stringify({ event: 'start', sequenceNumber: '1', streamSid, start: { streamSid, callSid: `CA${callId}`, tracks: ['inbound'], mediaFormat: { encoding: 'audio/x-mulaw', sampleRate: 8000, channels: 1 }, customParameters: { callId } } }));
      inputs += 2;
      const refused = new Promise<'closed'>((resolve) => ws.once('close', () => resolve('closed')));
      const outcome = await Promise.race([
        events.waitFor((e) => e.event.callId === callId && e.event.type === 'call.started', 15_000, 'fuzz call.started').then(
          () => 'started' as const,
          () => 'slow' as const,
        ),
        refused,
      ]);
      if (outcome !== 'started') {
        // Admission control said try later (1013, counted), or the start is slow: back off, move on.
        ws.terminate();
        await new Promise((resolve) => setTimeout(resolve, 500));
        return;
      }
      let seq = 1;
      let timestampMs = 0;
      for (let n = 20_000 + int(rand, 20_000); n > 0 && ws.readyState === WebSocket.OPEN && keepGoing(); n--) {
        // A third media (little audio, so the recognisers of the good call are not starved), the rest dtmf, mark, unknown events.
        const kind = int(rand, 30);
        let message: Record<string, unknown>;
        if (kind < 10) {
          const payload = quietPayload(rand);
          // Mostly contiguous; now and then a jump (a gap the gateway fills with silence).
          if (rand() < 0.005) timestampMs += int(rand, 200);
          message = { event: 'media', sequenceNumber: String(++seq), streamSid, media: { track: 'inbound', chunk: String(seq), timestamp: String(Math.round(timestampMs)), payload } };
          timestampMs += ((payload.length * 3) / 4 - (payload.endsWith('==') ? 2 : payload.endsWith('=') ? 1 : 0)) / 8;
        } else if (kind < 17) message = { event: 'dtmf', sequenceNumber: String(++seq), streamSid, dtmf: { track: 'inbound_track', digit: pick(rand, ['0', '5', '9', '*', '#', 'A']) } };
        else if (kind < 24) message = { event: 'mark', sequenceNumber: String(++seq), streamSid, mark: { name: `m${int(rand, 1e6)}` } };
        else message = { event: `future${int(rand, 10)}`, sequenceNumber: String(++seq), streamSid };
        ws.send(JSON.stringify(message));
        inputs++;
        // Let the gateway (same process) keep up, as a real network would pace it.
        if (n % 50 === 0) await pace();
      }
      await finish(rand, ws, seq, streamSid);
    };

    await Promise.all([
      ...Array.from({ length: EARLY_WORKERS }, async (_, w) => {
        const rand = prng(SEED + w);
        while (keepGoing()) {
          await early(rand);
          await pace();
        }
      }),
      ...Array.from({ length: STARTED_WORKERS }, async (_, w) => {
        const rand = prng(SEED + 100 + w);
        while (keepGoing()) await started(rand);
      }),
    ]);
    const fuzzMs = Date.now() - startedAt;
    await goodCall;
    const received = await intent;
    assert.equal(received.event.type === 'intent' && received.event.leg, 'customer');
    assert.equal((await good.stop()).code, 1000);

    const metric = await gw.metrics.registry.getSingleMetric('sgw_ingest_protocol_errors_total')?.get();
    const byReason = Object.fromEntries((metric?.values ?? []).filter((v) => v.labels['protocol'] === 'twilio').map((v) => [String(v.labels['reason']), v.value]));
    const errors = Object.entries(byReason).reduce((a, [reason, n]) => (reason === 'unknown-event' ? a : a + n), 0);
    console.log(`twilio fuzz: ${inputs} inputs over ${connections} connections (${fuzzCalls} fuzz calls) in ${fuzzMs} ms (seed ${SEED}); protocol errors ${JSON.stringify(byReason)}`);
    assert.ok(inputs >= TARGET_INPUTS, `only ${inputs} inputs in ${fuzzMs} ms`);
    assert.ok(errors > connections * 0.5, `protocol errors ${errors} for ${connections} connections`);
    assert.ok((await metricValue(gw.metrics, 'sgw_ingest_messages_total', { protocol: 'twilio', type: 'media' })) > 10_000, 'valid media was taken');

    // Still up, and a new call still starts (once admission control sees the recognisers free again: 1013 means retry).
    let again: TwilioStreamClient | undefined;
    for (let attempt = 0; again === undefined; attempt++) {
      const client = await TwilioStreamClient.connect(port, { token: TOKEN });
      client.begin();
      const outcome = await Promise.race([
        events.waitFor((e) => e.event.callId === client.callSid && e.event.type === 'call.started', 10_000, 'call.started after fuzzing').then(() => 'started' as const),
        client.closed.then((c) => c.code),
      ]);
      if (outcome === 'started') again = client;
      else {
        assert.equal(outcome, 1013, 'only "try again later" may refuse it');
        assert.ok(attempt < 15, 'a new call starts within 30 s of the fuzzing');
        await new Promise((resolve) => setTimeout(resolve, 2000));
      }
    }
    await again.stop();
    await events.waitFor((e) => e.event.callId === again.callSid && e.event.type === 'call.ended', 10_000, 'call.ended after fuzzing');
  });
});
