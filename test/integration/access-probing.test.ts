/**
 * Tokens cannot probe for calls or widen their scope, on real sockets: a
 * call id out of the token's scope gets exactly the answer of an unknown one
 * (gRPC GetCall, HTTP alert acknowledgement, /v1/events `callId=`), down to
 * the message and the counters on the open /metrics; a supervisor token with
 * an empty queue name (which would match calls started without a queue) is
 * refused like any malformed token.
 */
import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { SignJWT } from 'jose';
import { WebSocket } from 'ws';
import { CallControl } from '../../src/ingest/grpc/client.js';
import { hsToken, TEST_SECRET } from '../helpers/auth.js';
import { grpcAnswer } from '../helpers/grpc.js';
import { EventRecorder, startTestGateway, type TestGateway } from '../helpers/gateway.js';

let gw: TestGateway;
let base: string;
let agentA: string;
let supervisorDelivery: string;

before(async () => {
  gw = await startTestGateway({ rtpPortMin: 46530, rtpPortMax: 46533, asr: 'none', jwtSecret: TEST_SECRET });
  base = `http://127.0.0.1:${gw.addresses.http.port}`;
  agentA = await hsToken({ role: 'agent', agentId: 'agent-a' });
  supervisorDelivery = await hsToken({ role: 'supervisor', subject: 'sup-delivery', queues: ['delivery'] });
  // agent-b's call in queue orders; an alert on it, raised by a pushed legal threat.
  await gw.control.startCall({ call_id: 'probe-b', agent_id: 'agent-b', queue: 'orders', language: 'en-US', transcripts_only: true, legs: [{ role: 'LEG_ROLE_CUSTOMER' }] });
});

after(async () => {
  await gw.close();
});

/** The gateway's own counters of refusals and answers, as anyone can read them on /metrics. */
async function refusalCounters(): Promise<string> {
  const text = await (await fetch(`${base}/metrics`)).text();
  return text
    .split('\n')
    .filter((l) => /^sgw_(auth_rejections_total|grpc_requests_total)\{/.test(l))
    .join('\n');
}

/** What a probe answers and what it leaves on /metrics, with the probed id masked. */
async function probe(id: string, ask: (id: string) => Promise<string>): Promise<{ answer: string; counters: string }> {
  const before = await refusalCounters();
  const answer = (await ask(id)).replaceAll(id, '<id>');
  const after = await refusalCounters();
  return { answer, counters: diffCounters(before, after) };
}

/** The counter lines that changed, with their increase. */
function diffCounters(before: string, after: string): string {
  const values = (text: string): Map<string, number> => new Map(text.split('\n').filter((l) => l !== '').map((l) => [l.slice(0, l.lastIndexOf(' ')), Number(l.slice(l.lastIndexOf(' ') + 1))]));
  const was = values(before);
  return [...values(after)].filter(([k, v]) => v !== (was.get(k) ?? 0)).map(([k, v]) => `${k} +${v - (was.get(k) ?? 0)}`).join('\n');
}


/** The status of a WebSocket upgrade (101 when it opens) and, if open, the events a `since=0` replay brings before the first heartbeat. */
async function subscribe(path: string): Promise<string> {
  const ws = new WebSocket(`ws://127.0.0.1:${gw.addresses.http.port}${path}`);
  return new Promise((resolve, reject) => {
    let events = 0;
    ws.on('message', (data: Buffer) => {
      const { type } = JSON.parse(data.toString('utf8')) as { type: string };
      // since=0 is a cursor of no run: every subscription gets its resume.gap first, call or not.
      if (type === 'resume.gap') return;
      if (type !== 'heartbeat') {
        events += 1;
        return;
      }
      ws.close();
      resolve(`101, ${events} events`);
    });
    ws.once('unexpected-response', (_req, res: IncomingMessage) => {
      res.resume();
      resolve(String(res.statusCode));
      ws.terminate();
    });
    ws.once('error', (err) => (err.message.includes('Unexpected server response') ? undefined : reject(err)));
  });
}

describe('no existence oracle', { timeout: 60_000 }, () => {
  test("gRPC GetCall: another agent's call and an unknown id both answer NOT_FOUND, with the same message and counters", async () => {
    const client = new CallControl(`127.0.0.1:${gw.addresses.grpcPort}`, undefined, { token: agentA });
    try {
      const other = await probe('probe-b', (id) => grpcAnswer(client.getCall(id)));
      const unknown = await probe('probe-zz', (id) => grpcAnswer(client.getCall(id)));
      assert.equal(other.answer, 'NOT_FOUND: call <id> not found');
      assert.deepEqual(other, unknown);
      // The pbx credential, which may see every call, still finds it.
      assert.equal((await gw.control.getCall('probe-b')).call_id, 'probe-b');
    } finally {
      client.close();
    }
  });

  test("HTTP alert acknowledgement: an alert of another queue's call answers like an unknown alert id (404)", async () => {
    const ordersWall = await EventRecorder.connect(gw.addresses.http.port, `?types=alert&access_token=${await hsToken({ role: 'admin' })}`);
    await new Promise<void>((resolve, reject) =>
      gw.control.raw.PushTranscript({ call_id: 'probe-b', role: 'LEG_ROLE_CUSTOMER', text: 'this is ridiculous i will contact my lawyer', final: true, utterance_id: 1, start_ms: 0, end_ms: 2000 }, (err) =>
        err ? reject(err) : resolve(),
      ),
    );
    const raised = await ordersWall.waitFor((e) => e.event.type === 'alert', 5000, 'alert');
    ordersWall.close();
    assert.ok(raised.event.type === 'alert');
    const ack = async (alertId: string): Promise<string> => {
      const res = await fetch(`${base}/v1/alerts/${alertId}/ack`, { method: 'POST', headers: { authorization: `Bearer ${supervisorDelivery}` } });
      return `${res.status} ${await res.text()}`;
    };
    const other = await probe(raised.event.alertId, ack);
    const unknown = await probe('00000000-0000-4000-8000-000000000000', ack);
    assert.match(other.answer, /^404 .*SGW_ALERT_NOT_FOUND.*alert <id> not found/);
    assert.deepEqual(other, unknown);
  });

  test("/v1/events callId=: another agent's call and an unknown id are both accepted and deliver nothing", async () => {
    const other = await probe('probe-b', (id) => subscribe(`/v1/events?callId=${id}&since=0&heartbeat=1&access_token=${agentA}`));
    const unknown = await probe('probe-zz', (id) => subscribe(`/v1/events?callId=${id}&since=0&heartbeat=1&access_token=${agentA}`));
    assert.equal(other.answer, '101, 0 events');
    assert.deepEqual(other, unknown);
  });
});

describe('malformed scope claims', () => {
  test('a supervisor token with an empty queue name is refused on HTTP, WebSocket and gRPC', async () => {
    await gw.control.startCall({ call_id: 'probe-noqueue', agent_id: 'agent-c', queue: '', language: 'en-US', transcripts_only: true, legs: [{ role: 'LEG_ROLE_CUSTOMER' }] });
    const sign = (queues: string[]): Promise<string> =>
      new SignJWT({ role: 'supervisor', queues }).setProtectedHeader({ alg: 'HS256' }).setSubject('sup-x').setExpirationTime('5m').sign(new TextEncoder().encode(TEST_SECRET));
    for (const queues of [[''], ['orders', '']]) {
      const token = await sign(queues);
      const http = await fetch(`${base}/v1/calls`, { headers: { authorization: `Bearer ${token}` } });
      assert.equal(http.status, 401, JSON.stringify(queues));
      assert.match(((await http.json()) as { error: { message: string } }).error.message, /claim queues must be an array of non-empty strings/);
      assert.equal(await subscribe(`/v1/events?access_token=${token}`), '401');
      const client = new CallControl(`127.0.0.1:${gw.addresses.grpcPort}`, undefined, { token });
      try {
        assert.match(await grpcAnswer(client.listCalls()), /^UNAUTHENTICATED: invalid token: claim queues/);
      } finally {
        client.close();
      }
    }
    // A well-formed supervisor token of another queue sees nothing of the call without a queue.
    const calls = (await (await fetch(`${base}/v1/calls`, { headers: { authorization: `Bearer ${supervisorDelivery}` } })).json()) as { callId: string }[];
    assert.deepEqual(calls.map((c) => c.callId), []);
  });
});
