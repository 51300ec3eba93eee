/**
 * Genesys AudioHook v2 on /v1/audiohook, driven by a client built from the
 * protocol specification (test/helpers/clients/audiohook.ts): a synthesized
 * two-leg call streamed as stereo PCMU gets its intent on the customer leg;
 * the probe, API keys, ping, pause/resume, close and bad input behave as
 * the spec and docs/integrations/genesys-audiohook.md say.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { WebSocket } from 'ws';
import { renderCall } from '../../src/demo/speech.js';
import { NULL_UUID } from '../../src/ingest/websocket/audiohook/protocol.js';
import { AudioHookClient } from '../helpers/clients/audiohook.js';
import { EventRecorder, metricValue, startTestGateway, type TestGateway } from '../helpers/gateway.js';

const API_KEY = 'audiohook-test-key-0123456789';

describe('Genesys AudioHook', () => {
  let gw: TestGateway;
  let events: EventRecorder;
  let port: number;

  before(async () => {
    gw = await startTestGateway({ rtpPortMin: 42600, rtpPortMax: 42609, rtpTimeoutMs: 10_000, audiohookApiKeys: [API_KEY] });
    port = gw.addresses.http.port;
    events = await EventRecorder.connect(port);
  });
  after(async () => {
    events.close();
    await gw.close();
  });

  test('a two-leg call streamed as stereo PCMU gets cancel_order on the customer leg; close ends it with stream-closed', async () => {
    const call = await renderCall(
      [
        { speaker: 'agent', text: 'Thank you for calling, how can I help you today?' },
        { speaker: 'customer', text: 'Hello, I want to cancel my order.' },
        { speaker: 'agent', text: 'Of course, let me check that for you.' },
      ],
      { rate: 8000, voices: { customer: 'rms', agent: 'slt' } },
    );
    const conversationId = randomUUID();
    const client = await AudioHookClient.connect(port, { apiKey: API_KEY });
    const sentAt = Date.now();
    const opened = await client.open({ conversationId, language: 'en-US', customConfig: { agentId: 'agent-7', queue: 'orders' } });
    assert.ok(Date.now() - sentAt < 2000, 'opened well inside Genesys’ 5 s');
    assert.deepEqual(opened.parameters['media'], [{ type: 'audio', format: 'PCMU', channels: ['external', 'internal'], rate: 8000 }]);
    assert.equal(opened.id, client.sessionId);
    assert.equal(opened.clientseq, 1);

    const started = await events.waitFor((e) => e.event.callId === conversationId && e.event.type === 'call.started', 5000, 'call.started');
    assert.equal(started.event.type === 'call.started' && started.event.agentId, 'agent-7');
    const intent = events.waitFor((e) => e.event.callId === conversationId && e.event.type === 'intent' && e.event.intent === 'cancel_order', 40_000, 'cancel_order');
    await client.stream(call.legs.customer, call.legs.agent);
    const received = await intent;
    assert.equal(received.event.type === 'intent' && received.event.leg, 'customer');

    const closed = await client.close();
    assert.equal(closed.type, 'closed');
    const ended = await events.waitFor((e) => e.event.callId === conversationId && e.event.type === 'call.ended', 10_000, 'call.ended');
    assert.equal(ended.event.type === 'call.ended' && ended.event.reason, 'stream-closed');
    assert.ok(events.forCall(conversationId).some((e) => e.type === 'transcript' && e.leg === 'agent'), 'the agent leg (internal channel) is transcribed too');
    assert.equal(await metricValue(gw.metrics, 'sgw_ingest_sessions_total', { protocol: 'audiohook', outcome: 'opened' }), 1);
  });

  test('the connection probe (null conversation id) is answered with opened and starts no call', async () => {
    const before = await metricValue(gw.metrics, 'sgw_calls_started_total', { language: 'en-US' });
    const client = await AudioHookClient.connect(port, { apiKey: API_KEY });
    const opened = await client.open({ conversationId: NULL_UUID });
    assert.equal(opened.type, 'opened');
    assert.equal((await client.close()).type, 'closed');
    assert.equal(await metricValue(gw.metrics, 'sgw_ingest_sessions_total', { protocol: 'audiohook', outcome: 'probe' }), 1);
    assert.ok(!events.events.some((e) => e.event.type === 'call.started' && e.event.callId === NULL_UUID), 'no call for the probe');
    assert.equal(await metricValue(gw.metrics, 'sgw_calls_started_total', { language: 'en-US' }), before);
  });

  test('a missing or wrong X-API-KEY is refused with 401 before upgrading, and counted', async () => {
    const before = await metricValue(gw.metrics, 'sgw_auth_rejections_total', { transport: 'websocket', reason: 'invalid' });
    await assert.rejects(AudioHookClient.connect(port, { apiKey: 'wrong-key' }), /HTTP 401/);
    await assert.rejects(AudioHookClient.connect(port, {}), /HTTP 401/);
    assert.equal(await metricValue(gw.metrics, 'sgw_auth_rejections_total', { transport: 'websocket', reason: 'invalid' }), before + 1);
    assert.ok((await metricValue(gw.metrics, 'sgw_auth_rejections_total', { transport: 'websocket', reason: 'missing' })) >= 1);
  });

  test('ping gets pong with the sequence numbers of the session', async () => {
    const client = await AudioHookClient.connect(port, { apiKey: API_KEY });
    await client.open({ conversationId: NULL_UUID });
    const pong = await client.ping();
    assert.equal(pong.type, 'pong');
    assert.equal(pong.clientseq, 2);
    assert.equal(pong.seq, 2);
    await client.close();
  });

  test('paused then resumed marks a transcript.gap with reason paused, on the call timeline (L16 media)', async () => {
    const conversationId = randomUUID();
    const client = await AudioHookClient.connect(port, { apiKey: API_KEY });
    const l16 = { type: 'audio', format: 'L16', channels: ['external', 'internal'], rate: 8000 } as const;
    const opened = await client.open({ conversationId, media: [l16] });
    assert.deepEqual(opened.parameters['media'], [l16]);
    const second = new Int16Array(8000);
    await client.stream(second, second, { speed: 4 });
    client.paused();
    await new Promise((resolve) => setTimeout(resolve, 1000));
    client.resumed(1000);
    await client.stream(second, second, { speed: 4 });
    const gap = await events.waitFor((e) => e.event.callId === conversationId && e.event.type === 'transcript.gap', 5000, 'transcript.gap');
    assert.equal(gap.event.type === 'transcript.gap' && gap.event.reason, 'paused');
    if (gap.event.type === 'transcript.gap') {
      // The gap spans the paused second of the stream (1 s to 2 s of audio), whatever the wall clock did.
      assert.ok(Math.abs(gap.event.endMs - gap.event.startMs - 1000) < 100, `gap ${gap.event.startMs}-${gap.event.endMs}`);
    }
    await client.close();
    await events.waitFor((e) => e.event.callId === conversationId && e.event.type === 'call.ended', 10_000, 'call.ended');
  });

  test('bad input gets disconnect (reason error) and is counted: malformed JSON, wrong seq, oversize text', async () => {
    const cases: { reason: string; send: (client: AudioHookClient) => void }[] = [
      { reason: 'malformed-json', send: (c) => c.ws.send('{"version":"2",') },
      { reason: 'bad-seq', send: (c) => c.ws.send(JSON.stringify({ version: '2', id: c.sessionId, type: 'ping', seq: 7, serverseq: 0, position: 'PT0S', parameters: {} })) },
      { reason: 'message-too-big', send: (c) => c.ws.send(JSON.stringify({ padding: 'x'.repeat(20_000) })) },
      { reason: 'unexpected-audio', send: (c) => c.ws.send(Buffer.alloc(320)) },
    ];
    for (const { reason, send } of cases) {
      const client = await AudioHookClient.connect(port, { apiKey: API_KEY });
      const disconnect = client.next('disconnect');
      send(client);
      const message = await disconnect;
      assert.equal(message.parameters['reason'], 'error', reason);
      assert.equal((await client.close()).type, 'closed', 'the close transaction still works after disconnect');
      assert.equal(await metricValue(gw.metrics, 'sgw_ingest_protocol_errors_total', { protocol: 'audiohook', reason }), 1, reason);
    }
  });

  test('a frame over 64 KiB is refused from its declared length with close 1009', async () => {
    const client = await AudioHookClient.connect(port, { apiKey: API_KEY });
    await client.open({ conversationId: NULL_UUID });
    client.ws.send(Buffer.alloc(70_000));
    const closed = await client.closed;
    assert.equal(closed.code, 1009);
    assert.equal(await metricValue(gw.metrics, 'sgw_ingest_protocol_errors_total', { protocol: 'audiohook', reason: 'frame-too-big' }), 1);
    // The listener is still up.
    const again = await AudioHookClient.connect(port, { apiKey: API_KEY });
    await again.open({ conversationId: NULL_UUID });
    await again.close();
    assert.equal(again.ws.readyState === WebSocket.CLOSING || again.ws.readyState === WebSocket.CLOSED, true);
  });
});
