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
import { setTimeout as sleep } from 'node:timers/promises';
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

  test('an empty binary frame (the reference client\'s connection probe) is ignored before open, while opening and on a call', async () => {
    const client = await AudioHookClient.connect(port, { apiKey: API_KEY });
    const conversationId = randomUUID();
    client.emptyFrame();
    const opened = client.next('opened');
    client.sendOpen({ conversationId });
    client.emptyFrame();
    await opened;
    client.emptyFrame();
    assert.equal((await client.ping()).type, 'pong', 'the session goes on');
    assert.ok(!client.received.some((m) => m.type === 'disconnect'), client.received.map((m) => m.type).join(','));
    assert.equal(await metricValue(gw.metrics, 'sgw_ingest_messages_total', { protocol: 'audiohook', type: 'empty-audio' }), 3);
    assert.equal(await metricValue(gw.metrics, 'sgw_ingest_protocol_errors_total', { protocol: 'audiohook', reason: 'bad-audio-frame' }), 0);
    assert.equal((await client.close()).type, 'closed');
    await events.waitFor((e) => e.event.callId === conversationId && e.event.type === 'call.ended', 10_000, 'call.ended');
  });

  test('a resumed reporting 9 s discarded (more than the 5 s backlog) is time and a paused gap: nothing dropped, later speech on the call timeline', async () => {
    const speech = await renderCall([{ speaker: 'customer', text: 'I want to cancel my order.' }], { rate: 8000, voices: { customer: 'rms' }, leadMs: 300, tailMs: 800 });
    const conversationId = randomUUID();
    const client = await AudioHookClient.connect(port, { apiKey: API_KEY });
    const openedAt = Date.now();
    await client.open({ conversationId });
    const second = new Int16Array(8000);
    await client.stream(second, second, { speed: 4 });
    client.paused();
    // Genesys cannot have discarded more than the session's length (plus 5 s of slack): be 4.5 s into it.
    await sleep(Math.max(0, openedAt + 4500 - Date.now()));
    const droppedBefore = await metricValue(gw.metrics, 'sgw_asr_audio_dropped_seconds_total');
    const backlogGapsBefore = await metricValue(gw.metrics, 'sgw_transcript_gaps_total', { reason: 'asr-backlog' });
    client.resumed(9000);
    await client.stream(speech.legs.customer, new Int16Array(speech.legs.customer.length), { speed: 2 });
    const gap = await events.waitFor((e) => e.event.callId === conversationId && e.event.type === 'transcript.gap' && e.event.leg === 'customer', 5000, 'transcript.gap');
    assert.ok(gap.event.type === 'transcript.gap');
    assert.equal(gap.event.reason, 'paused');
    assert.ok(Math.abs(gap.event.endMs - gap.event.startMs - 9000) < 100, `gap ${gap.event.startMs}-${gap.event.endMs}`);
    const final = await events.waitFor((e) => e.event.callId === conversationId && e.event.type === 'transcript' && e.event.final && e.event.leg === 'customer' && e.event.text !== '', 30_000, 'final transcript');
    assert.ok(final.event.type === 'transcript');
    // Spoken after the pause: after the gap, within the speech streamed after it.
    assert.ok(final.event.startMs >= gap.event.endMs - 50, `transcript at ${final.event.startMs}, gap ends ${gap.event.endMs}`);
    assert.ok(final.event.startMs < gap.event.endMs + (speech.legs.customer.length / 8000) * 1000, `transcript at ${final.event.startMs}`);
    assert.equal(await metricValue(gw.metrics, 'sgw_asr_audio_dropped_seconds_total'), droppedBefore, 'no audio dropped by the recogniser backlog');
    assert.equal(await metricValue(gw.metrics, 'sgw_transcript_gaps_total', { reason: 'asr-backlog' }), backlogGapsBefore);
    await client.close();
    await events.waitFor((e) => e.event.callId === conversationId && e.event.type === 'call.ended', 10_000, 'call.ended');
  });

  test('discarded: up to 1 s is concealed with silence; a longer span is skipped time marked with a transcript.gap (discarded)', async () => {
    const conversationId = randomUUID();
    const client = await AudioHookClient.connect(port, { apiKey: API_KEY });
    await client.open({ conversationId });
    const half = new Int16Array(4000);
    await client.stream(half, half, { speed: 4 });
    client.discarded(500);
    await client.stream(half, half, { speed: 4 });
    client.discarded(2000);
    await client.stream(half, half, { speed: 4 });
    await client.close();
    await events.waitFor((e) => e.event.callId === conversationId && e.event.type === 'call.ended', 10_000, 'call.ended');
    const gaps = events.forCall(conversationId).filter((e) => e.type === 'transcript.gap');
    assert.deepEqual(gaps.map((g) => g.type === 'transcript.gap' && g.reason).sort(), ['discarded', 'discarded'], 'one per leg, for the 2 s span only');
    for (const g of gaps) {
      assert.ok(g.type === 'transcript.gap');
      assert.ok(Math.abs(g.endMs - g.startMs - 2000) < 50, `gap ${g.startMs}-${g.endMs}`);
    }
  });

  test('a language the gateway does not serve is refused with SGW_LANGUAGE_UNSUPPORTED and counted, unknown (fr-FR) or without a model (nl-NL)', async () => {
    for (const language of ['fr-FR', 'nl-NL']) {
      const conversationId = randomUUID();
      const client = await AudioHookClient.connect(port, { apiKey: API_KEY });
      const disconnect = client.next('disconnect');
      client.sendOpen({ conversationId, language });
      const message = await disconnect;
      assert.equal(message.parameters['reason'], 'error');
      assert.match(String(message.parameters['info']), new RegExp(`^SGW_LANGUAGE_UNSUPPORTED: language ${language} `));
      assert.equal((await client.close()).type, 'closed');
      assert.equal(await metricValue(gw.metrics, 'sgw_language_refusals_total', { language }), 1, language);
      assert.ok(!events.events.some((e) => e.event.callId === conversationId), `no call for ${language}`);
    }
    // Case does not matter; customConfig.language wins over open's own.
    const conversationId = randomUUID();
    const client = await AudioHookClient.connect(port, { apiKey: API_KEY });
    await client.open({ conversationId, language: 'fr-FR', customConfig: { language: 'EN-us' } });
    const started = await events.waitFor((e) => e.event.callId === conversationId && e.event.type === 'call.started', 5000, 'call.started');
    assert.equal(started.event.type === 'call.started' && started.event.language, 'en-US');
    await client.close();
  });
});
