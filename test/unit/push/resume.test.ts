/** /v1/events resume: `since=<eventId>` replays the bounded history, says when (and why) some may be missing, then goes live. */
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
const hub = new EventHub(metrics, 10);
const logger = createLogger('silent');
let events: WebSocketEventServer;
let http: HttpServer;
let port: number;

before(async () => {
  events = new WebSocketEventServer({ hub, metrics, logger });
  http = new HttpServer({ host: '127.0.0.1', port: 0, metrics, logger, upgrades: new Map([[EVENTS_PATH, (req, socket, head, url, principal) => events.handleUpgrade(req, socket, head, url, principal)]]), listCalls: () => [] });
  port = (await http.listen()).port;
});

after(async () => {
  events.close();
  await http.close();
});

const ended = (callId: string) => ({ type: 'call.ended' as const, callId, reason: 'ended-by-request' as const, durationMs: 5 });

async function connect(query: string): Promise<{ ws: WebSocket; messages: Record<string, unknown>[] }> {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/v1/events${query}`);
  const messages: Record<string, unknown>[] = [];
  ws.on('message', (data: Buffer) => messages.push(JSON.parse(data.toString('utf8')) as Record<string, unknown>));
  await once(ws, 'open');
  return { ws, messages };
}

async function until(predicate: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 300 && !predicate(); i++) await new Promise((r) => setTimeout(r, 10));
  assert.ok(predicate(), what);
}

const id = (seq: number): string => `${hub.epoch}-${seq}`;

describe('/v1/events resume', { timeout: 30_000 }, () => {
  test('eventId is a gateway-wide cursor naming the run; since replays what is retained after it, then live, without duplicates', async () => {
    assert.equal(hub.cursor, id(0), 'before the first event');
    for (let i = 1; i <= 8; i++) hub.publish(ended(`c${i}`));
    const ids = hub.recent().map((e) => e.eventId);
    assert.deepEqual(ids, [1, 2, 3, 4, 5, 6, 7, 8].map(id));
    const client = await connect(`?since=${id(5)}`);
    hub.publish(ended('c9'));
    await until(() => client.messages.length === 4, `replay and live (got ${JSON.stringify(client.messages)})`);
    assert.deepEqual(client.messages.map((m) => [m['eventId'], m['seq']]), [[id(6), 1], [id(7), 2], [id(8), 3], [id(9), 4]]);
    assert.equal(await metricValue(metrics, 'sgw_ws_event_resumes_total', { outcome: 'complete' }), 1);
    client.ws.close();
  });

  test('a cursor older than the history gets resume.gap (expired) first, then what is retained', async () => {
    for (let i = 10; i <= 20; i++) hub.publish(ended(`c${i}`));
    // The ring holds 10: events 11..20; 3 is long gone.
    const client = await connect(`?since=${id(3)}&types=call.ended`);
    await until(() => client.messages.length === 11, `gap + 10 (got ${client.messages.length})`);
    assert.deepEqual(client.messages[0], { type: 'resume.gap', reason: 'expired', since: id(3), oldestEventId: id(11), latestEventId: id(20) });
    assert.deepEqual(client.messages.slice(1).map((m) => m['eventId']), [11, 12, 13, 14, 15, 16, 17, 18, 19, 20].map(id));
    assert.equal(await metricValue(metrics, 'sgw_ws_event_resumes_total', { outcome: 'gap', reason: 'expired' }), 1);
    client.ws.close();
    // A cursor of this run beyond anything it published is not trusted either.
    const future = await connect(`?since=${id(999)}`);
    await until(() => future.messages.length === 11, 'gap + 10');
    assert.equal(future.messages[0]?.['reason'], 'unknown');
    future.ws.close();
    // Up to date: nothing to replay, no gap.
    const current = await connect(`?since=${hub.cursor}`);
    hub.publish(ended('c21'));
    await until(() => current.messages.length === 1, 'live');
    assert.equal(current.messages[0]?.['callId'], 'c21');
    current.ws.close();
  });

  test('a cursor of another run, a bare integer or not a cursor at all gets resume.gap saying so, then everything retained', async () => {
    const retained = hub.recent().map((e) => e.eventId);
    const cases: [string, string][] = [
      [`${hub.epoch - 60_000}-12`, 'other-run'],
      [`${hub.epoch + 1}-12`, 'other-run'],
      ['12', 'other-run'],
      ['0', 'other-run'],
      ['-1', 'malformed'],
      ['abc', 'malformed'],
      ['', 'malformed'],
      [`${hub.epoch}-12-1`, 'malformed'],
    ];
    for (const [since, reason] of cases) {
      const client = await connect(`?since=${encodeURIComponent(since)}`);
      await until(() => client.messages.length === retained.length + 1, `gap + ${retained.length} for since=${since}`);
      assert.deepEqual(client.messages[0], { type: 'resume.gap', reason, since, oldestEventId: retained[0], latestEventId: hub.cursor }, since);
      assert.deepEqual(client.messages.slice(1).map((m) => m['eventId']), retained, since);
      client.ws.close();
    }
    assert.equal(await metricValue(metrics, 'sgw_ws_event_resumes_total', { outcome: 'gap', reason: 'other-run' }), 4);
    // The echo of what the client sent is bounded.
    const long = await connect(`?since=${'9'.repeat(5000)}`);
    await until(() => long.messages.length > 0, 'gap');
    assert.equal(long.messages[0]?.['since'], '9'.repeat(64));
    long.ws.close();
  });

  test('heartbeat=N sends heartbeat messages carrying the cursor; a bad heartbeat closes with 4400', async () => {
    const client = await connect('?heartbeat=1&types=alert');
    await until(() => client.messages.length >= 1, 'a heartbeat');
    assert.equal(client.messages[0]?.['type'], 'heartbeat');
    assert.equal(client.messages[0]?.['eventId'], hub.cursor);
    client.ws.close();
    for (const query of ['?heartbeat=0', '?heartbeat=x']) {
      const ws = new WebSocket(`ws://127.0.0.1:${port}/v1/events${query}`);
      const [code] = (await once(ws, 'close')) as [number];
      assert.equal(code, CloseCodes.BAD_REQUEST, query);
    }
  });
});
