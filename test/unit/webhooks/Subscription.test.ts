/**
 * WEBHOOKS_FILE and subscription checks: a good file (a secret from the
 * environment), and each mistake stopping start-up with the file and the
 * entry named; the type and queue filter.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { loadSubscriptionFile, subscribes } from '../../../src/webhooks/Subscription.js';

let dir: string;
const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';

before(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'sgw-subscriptions-'));
});

after(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function file(text: string): Promise<string> {
  const name = path.join(dir, `${Math.random().toString(36).slice(2)}.yaml`);
  await writeFile(name, text);
  return name;
}

describe('webhook subscriptions', () => {
  test('a file with a secret from the environment', async () => {
    const subscriptions = await loadSubscriptionFile(
      await file(`subscriptions:\n  - id: crm\n    url: https://crm.example.com/hook\n    secret: env:CRM_SECRET\n    types: [intent, call.summary]\n    queues: [orders]\n  - id: all\n    url: http://10.0.0.5:8080/in\n    secret: ${SECRET}\n`),
      { CRM_SECRET: SECRET },
    );
    assert.deepEqual(subscriptions, [
      { id: 'crm', url: 'https://crm.example.com/hook', secret: SECRET, types: ['intent', 'call.summary'], queues: ['orders'], source: 'file' },
      { id: 'all', url: 'http://10.0.0.5:8080/in', secret: SECRET, types: [], queues: [], source: 'file' },
    ]);
    const [crm, all] = subscriptions;
    assert.ok(crm !== undefined && all !== undefined);
    assert.equal(subscribes(crm, 'intent', 'orders'), true);
    assert.equal(subscribes(crm, 'transcript', 'orders'), false);
    assert.equal(subscribes(crm, 'intent', 'delivery'), false);
    assert.equal(subscribes(crm, 'intent', undefined), false, 'a call the hub never saw start is in no queue');
    assert.equal(subscribes(all, 'dtmf', undefined), true);
  });

  test('each mistake stops start-up naming the file and the entry', async () => {
    const cases: [string, RegExp][] = [
      ['subscriptions: {}', /top-level 'subscriptions:' list/],
      ['subscriptions: [\n', /WEBHOOKS_FILE .*: /],
      [`subscriptions:\n  - { id: a, url: 'https://x', secret: env:NOPE }`, /subscriptions\[0\]\.secret: environment variable NOPE is not set/],
      [`subscriptions:\n  - { id: a, url: 'https://x', secret: '${SECRET}' }\n  - { id: a, url: 'https://y', secret: '${SECRET}' }`, /subscriptions\[1\]\.id: 'a' is used twice/],
      [`subscriptions:\n  - { id: 'a b', url: 'https://x', secret: '${SECRET}' }`, /subscriptions\[0\]\.id/],
      [`subscriptions:\n  - { id: a, url: 'mailto:x@example.com', secret: '${SECRET}' }`, /subscriptions\[0\]\.url/],
      [`subscriptions:\n  - { id: a, url: 'https://x', secret: 'hunter2' }`, /subscriptions\[0\]\.secret: must start with whsec_/],
      [`subscriptions:\n  - { id: a, url: 'https://x', secret: '${SECRET}', types: [intents] }`, /unknown event type 'intents'/],
      [`subscriptions:\n  - { id: a, url: 'https://x', secret: '${SECRET}', queue: [orders] }`, /subscriptions\[0\]\.queue: unknown field/],
    ];
    for (const [text, message] of cases) {
      const name = await file(text);
      await assert.rejects(loadSubscriptionFile(name, {}), (err: Error) => {
        assert.match(err.message, message, text);
        assert.ok(err.message.includes(name), 'the file is named');
        return true;
      });
    }
    await assert.rejects(loadSubscriptionFile(path.join(dir, 'missing.yaml'), {}), /cannot read/);
  });
});
