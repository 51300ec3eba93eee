/**
 * Fuzzing /v1/fork: at least 50,000 mutated and random inputs (seeded,
 * reproducible: FUZZ_SEED) fed to the real listener while a well-formed
 * mod_audio_fork call (the stereo fixture) runs alongside on the same
 * gateway. The gateway must stay up, close every bad fork with its code
 * (1007/1008/1009), count it, still recognise the good call's intent, and
 * still start a new call after.
 *
 * "Early" connections pick a path and subprotocol of any dialect and send a
 * mutated or random first frame (every dialect's metadata, MEDIA_START,
 * binary, garbage); a valid start names a transcripts-only call kept
 * active, so it is refused as a duplicate instead of spending a recogniser.
 * "Started" connections run a real mono fork and send thousands of valid
 * frames (short silent audio, platform text events, DTMF) before one
 * mutant ends them.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { WebSocket } from 'ws';
import { asteriskMediaStart, asteriskMediaStartJson, fixture, ForkClient, jambonzListenMetadata } from '../helpers/clients/audioFork.js';
import { EventRecorder, metricValue, startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { int, mutateText, pick, prng, randomBytes, type Rand } from '../helpers/prng.js';

const TOKEN = 'fork-fuzz-token-0123456789';
const SEED = Number(process.env['FUZZ_SEED'] ?? 0xf0c4);
const TARGET_INPUTS = 50_000;
const MAX_FUZZ_MS = 60_000;
/** Inputs per ms at most, leaving the (shared, 2-core) CPU to the good call's recognisers. */
const RATE_PER_MS = 2.5;
const EARLY_WORKERS = 6;
const DUPLICATE_CALL = 'fork-fuzz-dup';

const PATHS = ['/v1/fork', '/v1/fork/audio-fork', '/v1/fork/audio-stream', '/v1/fork/jambonz', '/v1/fork/asterisk', '/v1/fork/unknown', '/v1/fork/audio-fork/extra/segments'];
const SUBPROTOCOLS = [undefined, 'audio.drachtio.org', 'audio.jambonz.org', 'media', 'other'];
const QUERIES = ['', 'mix=stereo', 'mix=mixed', 'rate=16k', 'rate=44100', 'leg=agent', 'leg=x', 'language=fr-FR', `callId=${'x'.repeat(200)}`, 'direction=outbound'];

function firstFrames(rand: Rand): string[] {
  return [
    JSON.stringify({ callId: DUPLICATE_CALL, from: '+1555', to: '7001', agentId: 'a', queue: 'q', mixType: pick(rand, ['mono', 'stereo', 'mixed', 3]), sampleRate: pick(rand, [8000, 16000, '8k', 11025]) }),
    jambonzListenMetadata({ callSid: DUPLICATE_CALL, from: '+1555', to: '+1666', direction: 'inbound', sampleRate: pick(rand, [8000, 16000, 24000]), mixType: pick(rand, ['mono', 'stereo', 'mixed']) }),
    asteriskMediaStart(DUPLICATE_CALL, pick(rand, ['slin', 'slin16', 'ulaw'])),
    asteriskMediaStartJson('c1', DUPLICATE_CALL, pick(rand, ['slin', 'slin16'])),
    '{"event":"dtmf","dtmf":"1"}',
  ];
}

describe('audio fork fuzz', () => {
  let gw: TestGateway;
  let events: EventRecorder;
  let port: number;

  before(async () => {
    // The fuzz forks carry almost no audio: a high capacity keeps them admitted (refusals: test/unit/asr/admission.test.ts).
    gw = await startTestGateway({ rtpPortMin: 42690, rtpPortMax: 42699, rtpTimeoutMs: 120_000, forkTokens: [TOKEN], asrCapacityCores: 16 });
    port = gw.addresses.http.port;
    events = await EventRecorder.connect(port);
  });
  after(async () => {
    events.close();
    await gw.close();
  });

  test(`≥${TARGET_INPUTS} mutated and random inputs: the gateway stays up, counts them, and the good call still gets its intent (seed ${SEED})`, { timeout: 120_000 }, async () => {
    await gw.control.startCall({ call_id: DUPLICATE_CALL, agent_id: 'a', queue: 'q', language: 'en-US', transcripts_only: true, legs: [{ role: 'LEG_ROLE_CUSTOMER' }] });
    const good = await ForkClient.connect(port, { path: `/v1/fork/audio-fork/${TOKEN}?mix=stereo&rate=8k`, subprotocol: 'audio.drachtio.org' });
    good.text(JSON.stringify({ callid: 'fork-fuzz-good', agentId: 'agent-1', queue: 'orders' }));
    await events.waitFor((e) => e.event.callId === 'fork-fuzz-good' && e.event.type === 'call.started', 5000, 'good call.started');
    const intent = events.waitFor((e) => e.event.callId === 'fork-fuzz-good' && e.event.type === 'intent' && e.event.intent === 'cancel_order', 60_000, 'cancel_order');
    let goodDone = false;
    const goodCall = good.stream(await fixture('call-8k-stereo')).then(() => {
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

    const connect = async (rand: Rand, path: string, subprotocol: string | undefined): Promise<WebSocket | undefined> => {
      connections++;
      const wrong = rand() < 0.02;
      const query = `${pick(rand, QUERIES)}&callId=${DUPLICATE_CALL}&token=${wrong ? 'not-the-token' : TOKEN}`;
      const ws = new WebSocket(`ws://127.0.0.1:${port}${path}?${query}`, subprotocol === undefined ? [] : [subprotocol], { perMessageDeflate: false });
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
    const finish = async (rand: Rand, ws: WebSocket): Promise<void> => {
      const closed = new Promise<void>((resolve) => ws.once('close', () => resolve()));
      const kind = int(rand, 100);
      let data: string | Buffer;
      let binary = false;
      if (kind < 45) data = mutateText(rand, pick(rand, firstFrames(rand)));
      else if (kind < 60) data = pick(rand, firstFrames(rand));
      else if (kind < 75) {
        data = randomBytes(rand, 1 + int(rand, 700));
        binary = rand() < 0.7;
      } else if (kind < 85) {
        data = Buffer.alloc(1 + 2 * int(rand, 400) + int(rand, 2));
        binary = true;
      } else if (kind < 92) data = `{"x":"${'a'.repeat(16_400 + int(rand, 2000))}"}`;
      else if (kind < 96) {
        data = Buffer.alloc(64 * 1024 + 1 + int(rand, 1000));
        binary = true;
      } else data = 'x'.repeat(1 + int(rand, 100));
      if (ws.readyState === WebSocket.OPEN) ws.send(data, { binary });
      inputs++;
      await Promise.race([closed, new Promise((resolve) => setTimeout(resolve, 100))]);
      ws.terminate();
    };

    const early = async (rand: Rand): Promise<void> => {
      const ws = await connect(rand, pick(rand, PATHS), pick(rand, SUBPROTOCOLS));
      if (ws === undefined) return;
      if (rand() < 0.3) {
        ws.send(pick(rand, firstFrames(rand)));
        inputs++;
      }
      await finish(rand, ws);
    };

    const started = async (rand: Rand): Promise<void> => {
      const callId = `fork-fuzz-${++fuzzCalls}`;
      const ws = await connect(rand, '/v1/fork/audio-stream', undefined);
      if (ws === undefined) return;
      ws.send(JSON.stringify({ callId, sampleRate: 8000, mixType: 'mono' }));
      inputs++;
      const refused = new Promise<'closed'>((resolve) => ws.once('close', () => resolve('closed')));
      const outcome = await Promise.race([
        events.waitFor((e) => e.event.callId === callId && e.event.type === 'call.started', 15_000, 'fuzz call.started').then(
          () => 'started' as const,
          () => 'slow' as const,
        ),
        refused,
      ]);
      if (outcome !== 'started') {
        ws.terminate();
        await new Promise((resolve) => setTimeout(resolve, 500));
        return;
      }
      for (let n = 10_000 + int(rand, 10_000); n > 0 && ws.readyState === WebSocket.OPEN && keepGoing(); n--) {
        const kind = int(rand, 10);
        // Mostly a few silent samples (the recognisers of the good call are not starved), else platform text.
        if (kind < 6) ws.send(Buffer.alloc(2 * (1 + int(rand, 8))), { binary: true });
        else if (kind < 8) ws.send(pick(rand, ['MEDIA_XOFF', 'MEDIA_XON', '{"event":"STATUS"}', 'send_text payload', '{"event":"dtmf","dtmf":"5"}']));
        else ws.send(randomBytes(rand, int(rand, 64)).toString('base64'));
        inputs++;
        if (n % 50 === 0) await pace();
      }
      await finish(rand, ws);
    };

    await Promise.all([
      ...Array.from({ length: EARLY_WORKERS }, async (_, w) => {
        const rand = prng(SEED + w);
        while (keepGoing()) {
          await early(rand);
          await pace();
        }
      }),
      (async () => {
        const rand = prng(SEED + 100);
        while (keepGoing()) await started(rand);
      })(),
    ]);
    const fuzzMs = Date.now() - startedAt;
    await goodCall;
    const received = await intent;
    assert.equal(received.event.type === 'intent' && received.event.leg, 'customer');
    assert.equal((await good.hangUp()).code, 1000);

    const metric = await gw.metrics.registry.getSingleMetric('sgw_ingest_protocol_errors_total')?.get();
    const byReason = Object.fromEntries((metric?.values ?? []).filter((v) => v.labels['protocol'] === 'audio-fork').map((v) => [String(v.labels['reason']), v.value]));
    const errors = Object.values(byReason).reduce((a, n) => a + n, 0);
    console.log(`audio-fork fuzz: ${inputs} inputs over ${connections} connections (${fuzzCalls} fuzz calls) in ${fuzzMs} ms (seed ${SEED}); protocol errors ${JSON.stringify(byReason)}`);
    assert.ok(inputs >= TARGET_INPUTS, `only ${inputs} inputs in ${fuzzMs} ms`);
    assert.ok(errors > connections * 0.5, `protocol errors ${errors} for ${connections} connections`);
    assert.equal(byReason['internal'] ?? 0, 0, 'no input reached an internal error');
    assert.ok((await metricValue(gw.metrics, 'sgw_ingest_messages_total', { protocol: 'audio-fork', type: 'audio' })) > 10_000, 'valid audio was taken');

    // Still up, and a new call still starts (1013 while admission control sees the recognisers busy means retry).
    for (let attempt = 0; ; attempt++) {
      const callId = `fork-fuzz-after-${attempt}`;
      const client = await ForkClient.connect(port, { path: `/v1/fork/audio-fork/${TOKEN}` });
      client.text(JSON.stringify({ callid: callId }));
      const outcome = await Promise.race([
        events.waitFor((e) => e.event.callId === callId && e.event.type === 'call.started', 10_000, 'call.started after fuzzing').then(() => 'started' as const),
        client.closed.then((c) => c.code),
      ]);
      if (outcome === 'started') {
        await client.hangUp();
        await events.waitFor((e) => e.event.callId === callId && e.event.type === 'call.ended', 10_000, 'call.ended after fuzzing');
        break;
      }
      assert.equal(outcome, 1013, 'only "try again later" may refuse it');
      assert.ok(attempt < 15, 'a new call starts within 30 s of the fuzzing');
      await new Promise((resolve) => setTimeout(resolve, 2000));
    }
  });
});
