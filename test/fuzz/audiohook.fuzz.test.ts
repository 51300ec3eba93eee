/**
 * Fuzzing /v1/audiohook: at least 100,000 mutated and random inputs
 * (seeded, reproducible: FUZZ_SEED) fed to the real listener over many
 * connections, while a well-formed AudioHook call runs alongside on the same
 * gateway. The gateway must stay up, answer every bad input with its
 * protocol error, count it, still recognise the good call's intent, and
 * still open a new call afterwards.
 *
 * Each fuzz connection opens a connection probe (so no recogniser is spent
 * on it), feeds a run of valid random inputs (audio frames of random bytes,
 * ping, update, discarded, paused/resumed, error), then one mutated or
 * random input, and waits briefly for the `disconnect`; some connections
 * fuzz the upgrade (wrong key) or the open itself.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { WebSocket } from 'ws';
import { renderCall } from '../../src/demo/speech.js';
import { NULL_UUID } from '../../src/ingest/websocket/audiohook/protocol.js';
import { AudioHookClient, GENESYS_OFFERS } from '../helpers/clients/audiohook.js';
import { EventRecorder, metricValue, startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { int, mutateText, pick, prng, randomBytes, type Rand } from '../helpers/prng.js';

const API_KEY = 'audiohook-fuzz-key-0123456789';
const SEED = Number(process.env['FUZZ_SEED'] ?? 0x5eed6);
const TARGET_INPUTS = 100_000;
const MAX_FUZZ_MS = 60_000;
const WORKERS = 12;


function randomValue(rand: Rand): unknown {
  return pick(rand, [null, true, 0, -1, 1.5, 2 ** 53, 1e308, '', 'x'.repeat(int(rand, 300)), 'PT-1S', 'PT1e9S', '2', [], [1, 2], {}, { a: { b: [] } }, NULL_UUID, randomUUID()]);
}

/** One to three structural mutations: drop, replace, retype or add a field, at the top or in parameters. */
function mutateObject(rand: Rand, message: Record<string, unknown>): Record<string, unknown> {
  const out = structuredClone(message);
  for (let n = 1 + int(rand, 3); n > 0; n--) {
    const params = out['parameters'];
    const target = rand() < 0.5 && typeof params === 'object' && params !== null && !Array.isArray(params) ? (params as Record<string, unknown>) : out;
    const keys = Object.keys(target);
    const key = keys.length > 0 && rand() < 0.8 ? pick(rand, keys) : `k${int(rand, 100)}`;
    const op = int(rand, 3);
    if (op === 0) delete target[key];
    else target[key] = randomValue(rand);
  }
  return out;
}

describe('AudioHook fuzz', () => {
  let gw: TestGateway;
  let events: EventRecorder;
  let port: number;

  before(async () => {
    gw = await startTestGateway({ rtpPortMin: 42640, rtpPortMax: 42649, rtpTimeoutMs: 10_000, audiohookApiKeys: [API_KEY] });
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
    const conversationId = randomUUID();
    const good = await AudioHookClient.connect(port, { apiKey: API_KEY });
    await good.open({ conversationId, customConfig: { agentId: 'agent-1', queue: 'orders' } });
    const intent = events.waitFor((e) => e.event.callId === conversationId && e.event.type === 'intent' && e.event.intent === 'cancel_order', 60_000, 'cancel_order');
    let goodDone = false;
    const goodCall = good.stream(call.legs.customer, call.legs.agent).then(() => {
      goodDone = true;
    });

    let inputs = 0;
    let connections = 0;
    const startedAt = Date.now();
    const keepGoing = (): boolean => Date.now() - startedAt < MAX_FUZZ_MS && (inputs < TARGET_INPUTS || !goodDone);

    const fuzzConnection = async (rand: Rand): Promise<void> => {
      connections++;
      const sessionId = randomUUID();
      const wrongKey = rand() < 0.02;
      const headers: Record<string, string> = { 'Audiohook-Session-Id': sessionId, 'Audiohook-Organization-Id': randomUUID(), 'Audiohook-Correlation-Id': randomUUID(), 'X-API-KEY': wrongKey ? API_KEY.slice(0, int(rand, API_KEY.length)) + String.fromCharCode(97 + int(rand, 26)) : API_KEY };
      const ws = new WebSocket(`ws://127.0.0.1:${port}/v1/audiohook`, { headers, perMessageDeflate: false });
      const outcome = await new Promise<'open' | 'refused'>((resolve) => {
        ws.once('open', () => resolve('open'));
        ws.once('unexpected-response', () => resolve('refused'));
        ws.once('error', () => resolve('refused'));
      });
      if (outcome === 'refused') {
        inputs++;
        ws.terminate();
        return;
      }
      let seq = 0;
      const message = (type: string, parameters: Record<string, unknown>): Record<string, unknown> => ({ version: '2', id: sessionId, type, seq: ++seq, serverseq: 0, position: 'PT0S', parameters });
      const openMessage = (): Record<string, unknown> =>
        message('open', { organizationId: randomUUID(), conversationId: NULL_UUID, participant: { id: randomUUID(), ani: '', aniName: '', dnis: '' }, media: GENESYS_OFFERS, language: 'en-US' });
      const ended = new Promise<void>((resolve) => {
        ws.on('message', (data: Buffer, isBinary: boolean) => {
          if (!isBinary && data.includes('"disconnect"')) resolve();
        });
        ws.once('close', () => resolve());
      });
      const send = (data: string | Buffer): void => {
        if (ws.readyState === WebSocket.OPEN) ws.send(data);
        inputs++;
      };

      const opened = rand() < 0.85;
      if (opened) {
        send(JSON.stringify(openMessage()));
        // Valid random inputs: the session must take them all.
        for (let r = int(rand, 40); r > 0; r--) {
          switch (int(rand, 7)) {
            case 0:
            case 1:
            case 2:
              send(randomBytes(rand, 2 * (1 + int(rand, 200))));
              break;
            case 3:
              send(JSON.stringify(message('ping', rand() < 0.5 ? {} : { rtt: 'PT0.05S' })));
              break;
            case 4:
              send(JSON.stringify(message('update', { language: pick(rand, ['en-US', 'nl-NL', 'fr-FR']) })));
              break;
            case 5:
              send(JSON.stringify(message('discarded', { start: 'PT0S', discarded: 'PT0.02S' })));
              break;
            default:
              send(JSON.stringify(message(pick(rand, ['paused', 'resumed', 'error']), { start: 'PT0S', discarded: 'PT0.1S', code: 500, message: 'client trouble' })));
          }
        }
      }
      // Then one mutated or random input.
      const templates = [openMessage, () => message('ping', {}), () => message('discarded', { start: 'PT0S', discarded: 'PT0.02S' }), () => message('close', { reason: 'end' }), () => message('update', { language: 'en-US' }), () => message('resumed', { start: 'PT0S', discarded: 'PT0.1S' })];
      const kind = int(rand, 100);
      if (kind < 35) send(JSON.stringify(mutateObject(rand, pick(rand, templates)())));
      else if (kind < 65) send(mutateText(rand, JSON.stringify(pick(rand, templates)())));
      else if (kind < 75) send(randomBytes(rand, 1 + 2 * int(rand, 100)));
      else if (kind < 82) {
        // Random bytes in a text frame: mostly invalid UTF-8, which ws itself refuses with 1007.
        const bytes = randomBytes(rand, 1 + int(rand, 64));
        if (ws.readyState === WebSocket.OPEN) ws.send(bytes, { binary: false });
        inputs++;
      } else if (kind < 88) {
        const m = message('ping', {});
        m['seq'] = seq + 1 + int(rand, 5);
        send(JSON.stringify(m));
      } else if (kind < 92) send(JSON.stringify(message('open', {})));
      else if (kind < 95) send(JSON.stringify(message(pick(rand, ['opened', 'pong', 'event', 'pause', 'reconnect', '']), {})));
      else if (kind < 98) send(JSON.stringify({ ...message('ping', {}), padding: 'x'.repeat(16 * 1024) }));
      else send(Buffer.alloc(64 * 1024 + 1 + int(rand, 1000)));
      await Promise.race([ended, new Promise((resolve) => setTimeout(resolve, 100))]);
      ws.terminate();
    };

    const errorsBefore = await metricValue(gw.metrics, 'sgw_ingest_protocol_errors_total', { protocol: 'audiohook', reason: 'malformed-json' });
    await Promise.all(
      Array.from({ length: WORKERS }, async (_, w) => {
        const rand = prng(SEED + w);
        while (keepGoing()) await fuzzConnection(rand);
      }),
    );
    const fuzzMs = Date.now() - startedAt;
    await goodCall;
    const received = await intent;
    assert.equal(received.event.type === 'intent' && received.event.leg, 'customer');
    assert.equal((await good.close()).type, 'closed');

    const registry = await gw.metrics.registry.getSingleMetric('sgw_ingest_protocol_errors_total')?.get();
    const byReason = Object.fromEntries((registry?.values ?? []).filter((v) => v.labels['protocol'] === 'audiohook').map((v) => [String(v.labels['reason']), v.value]));
    const errors = Object.values(byReason).reduce((a, b) => a + b, 0);
    console.log(`audiohook fuzz: ${inputs} inputs over ${connections} connections in ${fuzzMs} ms (seed ${SEED}); protocol errors ${JSON.stringify(byReason)}`);
    assert.ok(inputs >= TARGET_INPUTS, `only ${inputs} inputs in ${fuzzMs} ms`);
    assert.ok((await metricValue(gw.metrics, 'sgw_ingest_protocol_errors_total', { protocol: 'audiohook', reason: 'malformed-json' })) > errorsBefore);
    assert.ok(errors > connections * 0.5, `protocol errors ${errors} for ${connections} connections`);
    assert.ok((await metricValue(gw.metrics, 'sgw_ingest_messages_total', { protocol: 'audiohook', type: 'audio' })) > 10_000, 'valid audio frames were taken');

    // Still up, and a new call still opens (once admission control sees the recognisers free again: SGW_ASR_OVERLOADED means retry).
    const id = randomUUID();
    for (let attempt = 0; ; attempt++) {
      const client = await AudioHookClient.connect(port, { apiKey: API_KEY });
      const refused = client.next('disconnect', 10_000);
      const outcome = await Promise.race([client.open({ conversationId: id }).then(() => 'opened' as const), refused.then((m) => String(m.parameters['info']))]);
      if (outcome === 'opened') {
        await events.waitFor((e) => e.event.callId === id && e.event.type === 'call.started', 5000, 'call.started after fuzzing');
        await client.close();
        refused.catch(() => undefined);
        break;
      }
      assert.match(outcome, /SGW_ASR_OVERLOADED/, 'only "try again later" may refuse it');
      assert.ok(attempt < 15, 'a new call opens within 30 s of the fuzzing');
      await client.close();
      await new Promise((resolve) => setTimeout(resolve, 2000));
    }
    await events.waitFor((e) => e.event.callId === id && e.event.type === 'call.ended', 10_000, 'call.ended after fuzzing');
  });
});
