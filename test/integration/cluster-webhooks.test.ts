/**
 * Webhooks in a cluster: two gateways on one Redis stream, each with the same
 * subscription, both see every event of the cluster, yet each event reaches the
 * receiver once, sent by the gateway that has the call (the bus tells a
 * listener whether its gateway published the event).
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { GatewayProcess } from '../../loadtest/GatewayProcess.js';
import { CallControl } from '../../src/ingest/grpc/client.js';
import { newWebhookSecret } from '../../src/webhooks/signature.js';
import { EventRecorder } from '../helpers/gateway.js';
import { RedisServer } from '../helpers/redis.js';
import { verifyStandardWebhook, WebhookReceiver } from '../helpers/webhookReceiver.js';

let dir: string;
let redis: RedisServer;
let receiver: WebhookReceiver;

before(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'sgw-cluster-hooks-'));
  redis = await RedisServer.start();
  receiver = await WebhookReceiver.start();
});

after(async () => {
  await receiver.close();
  await redis.stop();
  await rm(dir, { recursive: true, force: true });
});

/** A transcripts-only call on `control`: started, two customer utterances pushed, ended. */
async function playCall(control: CallControl, callId: string): Promise<void> {
  await control.startCall({ call_id: callId, agent_id: 'agent-1', queue: 'orders', language: 'en-US', transcripts_only: true, legs: [{ role: 'LEG_ROLE_CUSTOMER' }, { role: 'LEG_ROLE_AGENT' }] });
  for (const [i, text] of ['hello i want to cancel my order', 'thank you'].entries()) {
    await new Promise<void>((resolve, reject) =>
      control.raw.PushTranscript({ call_id: callId, role: 'LEG_ROLE_CUSTOMER', text, final: true, utterance_id: i + 1, start_ms: i * 3000, end_ms: i * 3000 + 2000 }, (err) => (err ? reject(err) : resolve())),
    );
  }
  await control.endCall(callId);
}

describe('webhooks in a cluster', { timeout: 60_000 }, () => {
  test('two gateways with the same subscription send each event of the cluster once, from the gateway that has the call', async () => {
    const hook = { id: 'crm', url: receiver.url(), secret: newWebhookSecret() };
    const file = path.join(dir, 'hooks.yaml');
    await writeFile(file, JSON.stringify({ subscriptions: [hook] }));
    const env = (instance: string): Record<string, string> => ({
      ASR: 'none',
      JWT_SECRET: '',
      REDIS_URL: redis.url,
      REDIS_KEY_PREFIX: 'hooks:',
      INSTANCE_ID: instance,
      WEBHOOKS_FILE: file,
      WEBHOOKS_JOURNAL: path.join(dir, `${instance}.journal`),
      CALL_RECORDS_FILE: path.join(dir, `${instance}.jsonl`),
      LOG_LEVEL: 'info',
    });
    const a = await GatewayProcess.start({ env: env('gw-a'), rtpPortMin: 46800, rtpPortMax: 46809, logFile: path.join(dir, 'a.log') });
    const b = await GatewayProcess.start({ env: env('gw-b'), rtpPortMin: 46810, rtpPortMax: 46819, logFile: path.join(dir, 'b.log') });
    try {
      const everything = await EventRecorder.connect(a.httpPort);
      const onA = new CallControl(`127.0.0.1:${a.grpcPort}`, grpc.credentials.createInsecure());
      const onB = new CallControl(`127.0.0.1:${b.grpcPort}`, grpc.credentials.createInsecure());
      await Promise.all([playCall(onA, 'on-a'), playCall(onB, 'on-b')]);
      onA.close();
      onB.close();
      for (const callId of ['on-a', 'on-b']) await everything.waitFor((e) => e.event.callId === callId && e.event.type === 'call.summary', 10_000, `${callId} on the bus`);
      const published = everything.events.filter((e) => e.event.callId === 'on-a' || e.event.callId === 'on-b').map((e) => e.event.eventId);
      assert.ok(published.some((id) => everything.events.find((e) => e.event.eventId === id)?.event.type === 'intent'), 'the calls raised intents');
      const delivered = (): string[] => receiver.accepted().map((body) => body.data.eventId);
      await receiver.until(() => published.every((id) => delivered().includes(id)), 10_000, 'every event of both calls delivered');
      // Time for a second copy to arrive, were either gateway to send the other's events too.
      await new Promise((resolve) => setTimeout(resolve, 1000));
      assert.deepEqual([...delivered()].sort(), [...published].sort(), 'each event once, none twice');
      for (const request of receiver.requests) assert.doesNotThrow(() => verifyStandardWebhook(hook.secret, request));
      everything.close();
    } finally {
      await a.stop();
      await b.stop();
    }
  });
});
