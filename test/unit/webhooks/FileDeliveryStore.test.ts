/**
 * The webhook journal on a real file: what was queued and not delivered
 * comes back in order after a reopen (a restart), with the dead letters and
 * the admin API's subscriptions; a torn last line is skipped; the journal
 * is compacted at open and while running, keeping exactly what is live.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { appendFile, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createLogger } from '../../../src/logger.js';
import type { Delivery } from '../../../src/webhooks/DeliveryStore.js';
import { FileDeliveryStore } from '../../../src/webhooks/FileDeliveryStore.js';
import type { Subscription } from '../../../src/webhooks/Subscription.js';

let dir: string;
const logger = createLogger('silent');

before(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'sgw-journal-'));
});

after(async () => {
  await rm(dir, { recursive: true, force: true });
});

function delivery(subscriptionId: string, n: number, callId = 'c1'): Delivery {
  return { id: `${subscriptionId}:1-${n}`, subscriptionId, callId, eventType: 'transcript', messageId: `msg_1-${n}`, body: `{"n":${n}}`, enqueuedAt: n };
}

const SUBSCRIPTION: Subscription = { id: 'api-1', url: 'http://127.0.0.1:9/hook', secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', types: [], queues: [], source: 'api' };

const lines = async (file: string): Promise<number> => (await readFile(file, 'utf8')).split('\n').filter((l) => l !== '').length;

describe('FileDeliveryStore', () => {
  test('no journal is written until there is something to keep; a reopen gives back what was live, in order', async () => {
    const file = path.join(dir, 'a', 'webhooks.journal');
    const first = new FileDeliveryStore(file, logger);
    assert.deepEqual(await first.open(), { subscriptions: [], pending: [], dead: [] });
    assert.equal(existsSync(file), false, 'nothing written yet');
    first.subscribed(SUBSCRIPTION);
    for (let n = 1; n <= 5; n++) first.added(delivery('api-1', n));
    first.delivered('api-1:1-2');
    first.dead({ ...delivery('api-1', 3), attempts: 10, lastError: 'HTTP 500', deadAt: 99 });
    first.dead({ ...delivery('api-1', 4), attempts: 10, lastError: 'HTTP 500', deadAt: 100 });
    first.revived('api-1:1-4');
    await first.close();

    const second = new FileDeliveryStore(file, logger);
    const stored = await second.open();
    assert.deepEqual(stored.subscriptions, [SUBSCRIPTION]);
    assert.deepEqual(stored.pending.map((d) => d.id), ['api-1:1-1', 'api-1:1-5', 'api-1:1-4'], 'a revived letter goes to the end');
    assert.deepEqual(stored.pending[2], delivery('api-1', 4), 'revived without its dead-letter fields');
    assert.deepEqual(stored.dead.map((d) => [d.id, d.attempts, d.lastError]), [['api-1:1-3', 10, 'HTTP 500']]);
    assert.equal(await lines(file), 5, 'compacted at open: one subscription, three pending, one dead');
    second.unsubscribed('api-1');
    await second.close();

    const third = new FileDeliveryStore(file, logger);
    assert.deepEqual(await third.open(), { subscriptions: [], pending: [], dead: [] }, 'an unsubscribe takes its queue and dead letters');
    await third.close();
  });

  test('a torn last line (a crash mid-write) is skipped, the lines before it kept', async () => {
    const file = path.join(dir, 'torn.journal');
    const store = new FileDeliveryStore(file, logger);
    await store.open();
    store.added(delivery('s', 1));
    store.added(delivery('s', 2));
    await store.close();
    await appendFile(file, '{"op":"add","delivery":{"id":"s:1-3","subscr');
    const reopened = new FileDeliveryStore(file, logger);
    assert.deepEqual((await reopened.open()).pending.map((d) => d.id), ['s:1-1', 's:1-2']);
    await reopened.close();
  });

  test('while running, a journal of mostly delivered records is compacted to what is live', async () => {
    const file = path.join(dir, 'busy.journal');
    const store = new FileDeliveryStore(file, logger);
    await store.open();
    store.added(delivery('s', 0, 'kept'));
    for (let n = 1; n <= 12_000; n++) {
      store.added(delivery('s', n));
      store.delivered(`s:1-${n}`);
      // Let the writer run now and then, as the event loop would between events.
      if (n % 1000 === 0) await new Promise((resolve) => setImmediate(resolve));
    }
    store.added(delivery('s', 12_001, 'last'));
    await store.close();
    assert.ok((await lines(file)) < 12_000, `compacted while running (${await lines(file)} lines for 24 002 records)`);
    const reopened = new FileDeliveryStore(file, logger);
    assert.deepEqual((await reopened.open()).pending.map((d) => d.callId), ['kept', 'last']);
    await reopened.close();
  });
});
