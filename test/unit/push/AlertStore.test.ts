import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { CallOwner, Principal } from '../../../src/auth/Principal.js';
import { GatewayMetrics } from '../../../src/metrics.js';
import { AlertStore } from '../../../src/push/AlertStore.js';
import { CallBoard } from '../../../src/push/CallBoard.js';
import { EventHub } from '../../../src/push/EventHub.js';
import type { GatewayEvent } from '../../../src/events.js';
import { metricValue } from '../../helpers/gateway.js';

const supervisor = (queues: string[]): Principal => ({ role: 'supervisor', subject: `sup-${queues.join('-')}`, agentId: undefined, queues });
const alert = (callId: string, alertId: string, queue: string) =>
  ({ type: 'alert', callId, alertId, severity: 'warning', agentId: 'agent-1', queue, source: 'escalation', message: 'escalation calm → elevated', reasons: [], atMs: 0 }) as const;

describe('AlertStore', () => {
  test('keeps the newest alerts up to its capacity, dropping the oldest and counting it', async () => {
    const metrics = new GatewayMetrics({ defaultMetrics: false });
    const hub = new EventHub(metrics);
    const store = new AlertStore(hub, metrics, 2);
    hub.publish(alert('c1', 'a1', 'orders'));
    hub.publish(alert('c2', 'a2', 'orders'));
    hub.publish(alert('c3', 'a3', 'delivery'));
    const admin: Principal = { role: 'admin', subject: 'x', agentId: undefined, queues: [] };
    assert.deepEqual(store.list(admin).map((a) => a.alertId), ['a2', 'a3']);
    assert.equal(await metricValue(metrics, 'sgw_alerts_evicted_total', { acked: 'false' }), 1);
    assert.equal(await metricValue(metrics, 'sgw_alerts_stored'), 2);
    assert.deepEqual(store.list(supervisor(['orders'])).map((a) => a.alertId), ['a2']);
    assert.throws(() => store.get('a1'), /not found/);
    store.close();
  });

  test('acknowledging records who and when, publishes alert.ack with the alert’s scope, and is idempotent', () => {
    const metrics = new GatewayMetrics({ defaultMetrics: false });
    const hub = new EventHub(metrics);
    const store = new AlertStore(hub, metrics);
    const seen: [GatewayEvent, CallOwner | undefined][] = [];
    hub.subscribe((event, owner) => seen.push([event, owner]));
    hub.publish(alert('c1', 'a1', 'orders'));
    const acked = store.acknowledge('a1', supervisor(['orders']));
    assert.equal(acked.ackedBy, 'sup-orders');
    assert.ok(typeof acked.ackedAt === 'number');
    const [ack, owner] = seen[1] ?? [];
    assert.equal(ack?.type, 'alert.ack');
    assert.deepEqual(owner, { agentId: 'agent-1', queue: 'orders' }, 'scoped although the hub never saw the call start');
    assert.deepEqual(store.list(supervisor(['orders']), { unackedOnly: true }), []);
    assert.equal(store.acknowledge('a1', supervisor(['other'])).ackedBy, 'sup-orders');
    assert.equal(seen.length, 2, 'no second alert.ack');
    store.close();
  });
});

describe('CallBoard', () => {
  test('contact reason so far is the customer’s first contact-reason intent; escalation level follows; forgotten after the summary', () => {
    const metrics = new GatewayMetrics({ defaultMetrics: false });
    const hub = new EventHub(metrics);
    const board = new CallBoard(hub);
    hub.publish({ type: 'call.started', callId: 'c1', agentId: 'a', queue: 'q', language: 'en-US', transcriptsOnly: true, legs: [] });
    const intent = (leg: 'customer' | 'agent', name: string, kind: 'intent' | 'escalation') =>
      hub.publish({ type: 'intent', callId: 'c1', leg, intent: name, kind, severity: 'info', text: '', confidence: 1, startMs: 0, endMs: 1, partial: false, utteranceId: 0, source: 'transcript', evidence: 'exact', alternative: 0, slots: {}, entities: [] });
    intent('agent', 'cancel_order', 'intent');
    intent('customer', 'speak_to_manager', 'escalation');
    assert.equal(board.get('c1')?.contactReason, undefined);
    intent('customer', 'order_status', 'intent');
    intent('customer', 'cancel_order', 'intent');
    hub.publish({ type: 'escalation', callId: 'c1', level: 'high', previousLevel: 'elevated', score: 0.7, rising: true, reasons: [], atMs: 1 });
    assert.deepEqual(board.get('c1'), { contactReason: 'order_status', escalationLevel: 'high', alerts: 0 });
    assert.deepEqual(hub.ownerOf('c1'), { agentId: 'a', queue: 'q' });
    hub.publish({ type: 'call.summary', callId: 'c1', summary: {} as never });
    assert.equal(board.get('c1'), undefined);
    assert.equal(hub.ownerOf('c1'), undefined);
    board.close();
  });
});
