import assert from 'node:assert/strict';
import { once } from 'node:events';
import { after, before, describe, test } from 'node:test';
import { WebSocket } from 'ws';
import { HttpServer } from '../../../src/http/HttpServer.js';
import { createLogger } from '../../../src/logger.js';
import { GatewayMetrics } from '../../../src/metrics.js';
import { EventHub } from '../../../src/push/EventHub.js';
import { CloseCodes, EVENTS_PATH, WebSocketEventServer } from '../../../src/push/WebSocketEventServer.js';
import { metricValue } from '../../helpers/gateway.js';

const metrics = new GatewayMetrics({ defaultMetrics: false });
const hub = new EventHub(metrics, 100);
const logger = createLogger('silent');
let events: WebSocketEventServer;
let http: HttpServer;
let port: number;

before(async () => {
  events = new WebSocketEventServer({ hub, metrics, logger, maxBufferedBytes: 64 * 1024 });
  http = new HttpServer({ host: '127.0.0.1', port: 0, metrics, logger, upgrades: new Map([[EVENTS_PATH, (req, socket, head, url) => events.handleUpgrade(req, socket, head, url)]]), listCalls: () => [] });
  port = (await http.listen()).port;
});

after(async () => {
  events.close();
  await http.close();
});

async function connect(query = ''): Promise<{ ws: WebSocket; messages: Record<string, unknown>[] }> {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/v1/events${query}`);
  const messages: Record<string, unknown>[] = [];
  ws.on('message', (data: Buffer) => messages.push(JSON.parse(data.toString('utf8')) as Record<string, unknown>));
  await once(ws, 'open');
  return { ws, messages };
}

const ended = (callId: string) => ({ type: 'call.ended' as const, callId, reason: 'ended-by-request' as const, durationMs: 5 });

async function until(predicate: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 200 && !predicate(); i++) await new Promise((r) => setTimeout(r, 10));
  assert.ok(predicate(), what);
}

describe('/v1/events', () => {
  test('every event arrives as JSON with type, callId, ts and a per-connection seq', async () => {
    const a = await connect();
    const b = await connect();
    hub.publish(ended('x'));
    await until(() => b.messages.length === 1, 'b got one event');
    hub.publish(ended('y'));
    await until(() => a.messages.length === 2 && b.messages.length === 2, 'both got two');
    assert.deepEqual(a.messages.map((m) => [m['type'], m['callId'], m['seq']]), [['call.ended', 'x', 1], ['call.ended', 'y', 2]]);
    assert.ok(typeof a.messages[0]?.['ts'] === 'number' && Math.abs(a.messages[0]['ts'] - Date.now()) < 5000);
    a.ws.close();
    b.ws.close();
  });

  test('callId and types filters; seq counts only what this client receives', async () => {
    const c = await connect('?callId=wanted&types=call.ended');
    hub.publish(ended('other'));
    hub.publish({ type: 'transcript', callId: 'wanted', leg: 'customer', final: true, utteranceId: 1, text: 'hi', startMs: 0, endMs: 10 });
    hub.publish(ended('wanted'));
    await until(() => c.messages.length === 1, 'one event');
    assert.equal(c.messages[0]?.['callId'], 'wanted');
    assert.equal(c.messages[0]?.['seq'], 1);
    c.ws.close();
  });

  test('an unknown event type in the filter closes with 4400 and a reason', async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/v1/events?types=bogus`);
    const [code, reason] = (await once(ws, 'close')) as [number, Buffer];
    assert.equal(code, CloseCodes.BAD_REQUEST);
    assert.match(reason.toString(), /unknown event type/);
  });

  test('a client that sends data is closed with 1003 and counted', async () => {
    const { ws } = await connect();
    ws.send('hello');
    const [code] = (await once(ws, 'close')) as [number];
    assert.equal(code, CloseCodes.UNSUPPORTED_DATA);
    assert.equal(await metricValue(metrics, 'sgw_ws_event_clients_dropped_total', { reason: 'client_message' }), 1);
  });

  test('with authentication off a connection has no expiry; an auth message is answered with expiresAt null', async () => {
    const client = await connect();
    client.ws.send(JSON.stringify({ type: 'auth', token: 'anything' }));
    await until(() => client.messages.length === 1, 'auth.ok');
    assert.deepEqual(client.messages[0], { type: 'auth.ok', expiresAt: null });
    hub.publish(ended('still-open'));
    await until(() => client.messages.length === 2, 'the next event on the same connection');
    client.ws.close();
  });

  test('a slow consumer is closed with 4008 once its buffer passes the limit; others are unaffected', async () => {
    const slow = await connect();
    const fast = await connect();
    // Stop reading on the slow client's socket so its server-side send buffer fills.
    (slow.ws as unknown as { _socket: { pause(): void } })._socket.pause();
    const closed = once(slow.ws, 'close');
    const big = 'x'.repeat(16 * 1024);
    // Paced so that a client that reads keeps up; the paused one fills the kernel buffers, then ours.
    for (let i = 0; i < 1000; i++) {
      hub.publish({ type: 'transcript', callId: 'flood', leg: 'agent', final: false, utteranceId: i, text: big, startMs: 0, endMs: 1 });
      await new Promise((r) => setImmediate(r));
    }
    (slow.ws as unknown as { _socket: { resume(): void } })._socket.resume();
    const [code] = (await closed) as [number];
    assert.equal(code, CloseCodes.SLOW_CONSUMER);
    assert.ok((await metricValue(metrics, 'sgw_ws_event_clients_dropped_total', { reason: 'slow_consumer' })) >= 1);
    await until(() => fast.messages.length === 1000, `fast client got all 1000 (got ${fast.messages.length})`);
    fast.ws.close();
  });

  test('past maxClients a new client is closed with 1013 and counted', async () => {
    const limited = new WebSocketEventServer({ hub, metrics, logger, maxClients: 1 });
    const server = new HttpServer({ host: '127.0.0.1', port: 0, metrics, logger, upgrades: new Map([[EVENTS_PATH, (req, socket, head, url) => limited.handleUpgrade(req, socket, head, url)]]), listCalls: () => [] });
    const limitedPort = (await server.listen()).port;
    try {
      const first = new WebSocket(`ws://127.0.0.1:${limitedPort}/v1/events`);
      await once(first, 'open');
      const second = new WebSocket(`ws://127.0.0.1:${limitedPort}/v1/events`);
      const [code] = (await once(second, 'close')) as [number];
      assert.equal(code, CloseCodes.TRY_AGAIN_LATER);
      assert.equal(await metricValue(metrics, 'sgw_ws_event_clients_dropped_total', { reason: 'too_many_clients' }), 1);
      first.close();
    } finally {
      limited.close();
      await server.close();
    }
  });

  test('other upgrade paths are refused with 404', async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/v1/other`);
    const [err] = (await once(ws, 'error')) as [Error];
    assert.match(err.message, /404/);
  });
});
