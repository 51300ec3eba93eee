import { setTimeout as sleep } from 'node:timers/promises';
import { GatewayError, errorMessage, invalidArgument } from '../errors.js';
import type { GatewayEvent } from '../events.js';
import type { Logger } from '../logger.js';
import type { LogLimiter } from '../LogLimiter.js';
import type { GatewayMetrics } from '../metrics.js';
import type { CallOwner } from '../auth/Principal.js';
import { deliveryOf, type DeadLetter, type Delivery, type DeliveryStore } from './DeliveryStore.js';
import { newWebhookSecret, signWebhook, webhookSecretKey } from './signature.js';
import { parseSubscription, subscribes, type Subscription } from './Subscription.js';

export interface WebhookDispatcherOptions {
  readonly store: DeliveryStore;
  /** Subscriptions of WEBHOOKS_FILE; an API subscription with the same id gives way. */
  readonly fileSubscriptions: readonly Subscription[];
  readonly metrics: GatewayMetrics;
  readonly logger: Logger;
  readonly logLimiter: LogLimiter;
  /** Attempts before a delivery becomes a dead letter. */
  readonly maxAttempts: number;
  /** Undelivered deliveries held over all subscriptions; beyond it new ones are dropped (counted, logged). */
  readonly queueLimit: number;
  /** Dead letters kept per subscription; beyond it the oldest is dropped (counted). */
  readonly deadLettersKept: number;
  /** First retry delay; doubled at each failure up to `retryMaxMs`, with jitter. */
  readonly retryBaseMs: number;
  readonly retryMaxMs: number;
  /** One attempt's limit: no answer by then is a failure. */
  readonly attemptTimeoutMs: number;
  /** Calls delivered at once per subscription (each call's events one after another). */
  readonly concurrency: number;
}

/** A call's deliveries to one subscription, in publication order. */
interface Lane {
  readonly items: Delivery[];
  running: boolean;
}

interface SubscriptionState {
  readonly subscription: Subscription;
  readonly key: Buffer;
  readonly lanes: Map<string, Lane>;
  /** Calls with deliveries waiting for one of the subscription's `concurrency` slots. */
  readonly ready: string[];
  active: number;
  depth: number;
  delivered: number;
  failures: number;
  lastFailure: { readonly at: string; readonly error: string } | undefined;
  readonly dead: Map<string, DeadLetter>;
  removed: boolean;
}

/** What GET /v1/admin/webhooks shows of a subscription (never its secret). */
export interface SubscriptionView {
  readonly id: string;
  readonly url: string;
  readonly types: readonly string[];
  readonly queues: readonly string[];
  readonly source: Subscription['source'];
  readonly queueDepth: number;
  readonly callsInFlight: number;
  readonly delivered: number;
  readonly failedAttempts: number;
  readonly lastFailure: { readonly at: string; readonly error: string } | null;
  readonly deadLetters: number;
}

/**
 * Pushes gateway events to webhook subscriptions (docs/integrations/webhooks.md).
 *
 * The hub's listener only records the delivery in the durable store and
 * queues it: nothing on the live path waits for a receiver. Each
 * subscription has a lane per call: a call's events are sent one after
 * another, in publication order (an event is sent only once the one before
 * it was delivered or given up), while up to `concurrency` calls are sent in
 * parallel, so a receiver slow on one call delays neither its other calls
 * (beyond the slots it holds) nor other subscriptions. A failed attempt
 * (no 2xx, no answer within `attemptTimeoutMs`) is retried after
 * exponential backoff with jitter; after `maxAttempts` the delivery becomes
 * a dead letter and the call's next event goes. Every change is in the store,
 * so a restart resumes where this run stopped.
 */
export class WebhookDispatcher {
  private readonly states = new Map<string, SubscriptionState>();
  private readonly stopping = new AbortController();
  private readonly running = new Set<Promise<void>>();
  private pendingTotal = 0;
  private closed = false;

  private constructor(private readonly options: WebhookDispatcherOptions) {}

  static async open(options: WebhookDispatcherOptions): Promise<WebhookDispatcher> {
    const dispatcher = new WebhookDispatcher(options);
    await dispatcher.restore();
    return dispatcher;
  }

  private async restore(): Promise<void> {
    const { store, logger } = this.options;
    const stored = await store.open();
    for (const subscription of this.options.fileSubscriptions) this.addState(subscription);
    for (const subscription of stored.subscriptions) {
      if (this.states.has(subscription.id)) {
        logger.warn({ subscription: subscription.id }, 'webhook subscription of the admin API replaced by the one of WEBHOOKS_FILE with the same id');
        store.unsubscribed(subscription.id);
        continue;
      }
      this.addState(subscription);
    }
    let orphans = 0;
    for (const delivery of stored.pending) {
      const state = this.states.get(delivery.subscriptionId);
      if (state === undefined) {
        orphans += 1;
        store.delivered(delivery.id);
        continue;
      }
      this.enqueue(state, delivery);
    }
    for (const letter of stored.dead) {
      const state = this.states.get(letter.subscriptionId);
      if (state === undefined) store.forgotten(letter.id);
      else state.dead.set(letter.id, letter);
    }
    if (orphans > 0) logger.warn({ dropped: orphans }, 'queued webhook deliveries of subscriptions that no longer exist were dropped');
    for (const state of this.states.values()) this.updateGauges(state);
    if (this.states.size > 0) logger.info({ subscriptions: [...this.states.keys()], queued: this.pendingTotal }, 'webhooks on');
  }

  private addState(subscription: Subscription): SubscriptionState {
    const key = webhookSecretKey(subscription.secret);
    if (typeof key === 'string') throw invalidArgument(`webhook ${subscription.id} secret`, key);
    const state: SubscriptionState = { subscription, key, lanes: new Map(), ready: [], active: 0, depth: 0, delivered: 0, failures: 0, lastFailure: undefined, dead: new Map(), removed: false };
    this.states.set(subscription.id, state);
    return state;
  }

  /** The hub's listener: queues the event for every subscription that wants it. Never waits. */
  publish(event: GatewayEvent, owner: CallOwner | undefined): void {
    if (this.closed) return;
    let body: string | undefined;
    for (const state of this.states.values()) {
      if (!subscribes(state.subscription, event.type, owner?.queue)) continue;
      const subscriptionId = state.subscription.id;
      if (this.pendingTotal >= this.options.queueLimit) {
        this.options.metrics.webhookDropped.inc({ subscription: subscriptionId, reason: 'queue_full' });
        this.options.logLimiter.log(this.options.logger, 'warn', 'webhook-dropped', subscriptionId, { subscription: subscriptionId, limit: this.options.queueLimit }, 'webhook queue full (WEBHOOK_QUEUE_LIMIT): event dropped for this subscription');
        continue;
      }
      // Standard Webhooks' envelope: the type, when it happened, and the event as /v1/events sends it.
      body ??= JSON.stringify({ type: event.type, timestamp: new Date(event.ts).toISOString(), data: event });
      const delivery: Delivery = {
        id: `${subscriptionId}:${event.eventId}`,
        subscriptionId,
        callId: event.callId,
        eventType: event.type,
        messageId: `msg_${event.eventId}`,
        body,
        enqueuedAt: Date.now(),
      };
      this.options.store.added(delivery);
      this.enqueue(state, delivery);
    }
  }

  private enqueue(state: SubscriptionState, delivery: Delivery): void {
    let lane = state.lanes.get(delivery.callId);
    if (lane === undefined) {
      lane = { items: [], running: false };
      state.lanes.set(delivery.callId, lane);
    }
    lane.items.push(delivery);
    state.depth += 1;
    this.pendingTotal += 1;
    this.options.metrics.webhookQueueDepth.set({ subscription: state.subscription.id }, state.depth);
    if (!lane.running && lane.items.length === 1) state.ready.push(delivery.callId);
    this.pump(state);
  }

  private pump(state: SubscriptionState): void {
    while (!this.closed && !state.removed && state.active < this.options.concurrency) {
      const callId = state.ready.shift();
      if (callId === undefined) return;
      const lane = state.lanes.get(callId);
      if (lane === undefined || lane.running || lane.items.length === 0) continue;
      lane.running = true;
      state.active += 1;
      const run = this.runLane(state, callId, lane);
      this.running.add(run);
      void run.finally(() => this.running.delete(run));
    }
  }

  private async runLane(state: SubscriptionState, callId: string, lane: Lane): Promise<void> {
    try {
      for (;;) {
        const delivery = lane.items[0];
        if (delivery === undefined || this.closed || state.removed) return;
        const done = await this.deliver(state, delivery);
        // Stopping: the delivery stays in the store for the next start. Removed: its queue is gone.
        if (!done || state.removed) return;
        lane.items.shift();
        state.depth -= 1;
        this.pendingTotal -= 1;
        this.updateGauges(state);
      }
    } catch (err) {
      this.options.logger.error({ err, subscription: state.subscription.id }, 'webhook lane failed');
    } finally {
      lane.running = false;
      state.active -= 1;
      if (lane.items.length === 0) state.lanes.delete(callId);
      else if (!this.closed) state.ready.push(callId);
      this.pump(state);
    }
  }

  /** Tries until delivered or dead (true), or until the dispatcher stops (false). */
  private async deliver(state: SubscriptionState, delivery: Delivery): Promise<boolean> {
    const { metrics, store, maxAttempts } = this.options;
    const subscription = state.subscription.id;
    for (let attempt = 1; ; attempt++) {
      const failure = await this.attempt(state, delivery);
      if (failure === undefined) {
        store.delivered(delivery.id);
        state.delivered += 1;
        metrics.webhookDeliveries.inc({ subscription, outcome: 'delivered' });
        return true;
      }
      if (this.closed) return false;
      state.failures += 1;
      state.lastFailure = { at: new Date().toISOString(), error: failure };
      this.options.logLimiter.log(this.options.logger, 'warn', 'webhook-failed', subscription, { subscription, url: state.subscription.url, attempt, error: failure }, 'webhook delivery attempt failed');
      if (attempt >= maxAttempts || state.removed) {
        if (state.removed) return true;
        const letter: DeadLetter = { ...delivery, attempts: attempt, lastError: failure, deadAt: Date.now() };
        store.dead(letter);
        state.dead.set(letter.id, letter);
        metrics.webhookDeliveries.inc({ subscription, outcome: 'dead_letter' });
        this.evictDeadLetters(state);
        return true;
      }
      metrics.webhookDeliveries.inc({ subscription, outcome: 'retried' });
      try {
        await sleep(this.backoffMs(attempt), undefined, { signal: this.stopping.signal });
      } catch {
        return false;
      }
    }
  }

  /** "Equal jitter": half the exponential delay fixed, half random, so retries of many calls spread out. */
  private backoffMs(failedAttempts: number): number {
    const exponential = Math.min(this.options.retryMaxMs, this.options.retryBaseMs * 2 ** (failedAttempts - 1));
    return exponential / 2 + Math.random() * (exponential / 2);
  }

  /** One signed POST; undefined when the receiver answered 2xx, otherwise why not. */
  private async attempt(state: SubscriptionState, delivery: Delivery): Promise<string | undefined> {
    const started = performance.now();
    const headers = signWebhook(state.key, delivery.messageId, Date.now() / 1000, delivery.body);
    let failure: string | undefined;
    try {
      const response = await fetch(state.subscription.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'user-agent': 'speech-gateway-webhooks', ...headers },
        body: delivery.body,
        redirect: 'manual',
        signal: AbortSignal.any([this.stopping.signal, AbortSignal.timeout(this.options.attemptTimeoutMs)]),
      });
      // The answer's body is not read: only the status counts.
      await response.body?.cancel();
      if (response.status < 200 || response.status > 299) failure = `HTTP ${response.status}`;
    } catch (err) {
      failure = err instanceof Error && err.name === 'TimeoutError' ? `no answer within ${this.options.attemptTimeoutMs} ms` : describeFetchError(err);
    }
    this.options.metrics.webhookAttemptSeconds.observe({ outcome: failure === undefined ? 'success' : 'failure' }, (performance.now() - started) / 1000);
    return failure;
  }

  private evictDeadLetters(state: SubscriptionState): void {
    while (state.dead.size > this.options.deadLettersKept) {
      const oldest = state.dead.keys().next().value;
      if (oldest === undefined) break;
      state.dead.delete(oldest);
      this.options.store.forgotten(oldest);
      this.options.metrics.webhookDropped.inc({ subscription: state.subscription.id, reason: 'dead_letter_evicted' });
    }
  }

  private updateGauges(state: SubscriptionState): void {
    const labels = { subscription: state.subscription.id };
    this.options.metrics.webhookQueueDepth.set(labels, state.depth);
    this.options.metrics.webhookDeadLetters.set(labels, state.dead.size);
  }

  list(): SubscriptionView[] {
    return [...this.states.values()].map((state) => view(state));
  }

  /**
   * Adds a subscription of the admin API (kept in the store across restarts).
   * Without a secret one is generated; the answer is the only place it is shown.
   */
  create(raw: unknown): { subscription: SubscriptionView; secret: string } {
    const withSecret = typeof raw === 'object' && raw !== null && !Array.isArray(raw) && !('secret' in raw) ? { ...raw, secret: newWebhookSecret() } : raw;
    const subscription = parseSubscription(withSecret, 'api', 'body');
    if (this.states.has(subscription.id)) throw new GatewayError('SGW_WEBHOOK_EXISTS', `webhook subscription '${subscription.id}' exists already`);
    this.options.store.subscribed(subscription);
    const state = this.addState(subscription);
    this.updateGauges(state);
    this.options.logger.info({ subscription: subscription.id, url: subscription.url, types: subscription.types, queues: subscription.queues }, 'webhook subscription created');
    return { subscription: view(state), secret: subscription.secret };
  }

  /** Deletes an API subscription with its queue and dead letters. */
  remove(id: string): void {
    const state = this.get(id);
    if (state.subscription.source === 'file') throw invalidArgument('id', `webhook subscription '${id}' is defined in WEBHOOKS_FILE: remove it there and restart`);
    state.removed = true;
    this.states.delete(id);
    this.pendingTotal -= state.depth;
    this.options.store.unsubscribed(id);
    this.options.metrics.webhookQueueDepth.remove({ subscription: id });
    this.options.metrics.webhookDeadLetters.remove({ subscription: id });
    this.options.logger.info({ subscription: id, dropped: state.depth, deadLetters: state.dead.size }, 'webhook subscription deleted');
  }

  deadLetters(id: string): DeadLetter[] {
    return [...this.get(id).dead.values()];
  }

  /** Puts a dead letter back at the end of its call's queue (after what that call has queued now). */
  redeliver(id: string, deliveryId: string): Delivery {
    const state = this.get(id);
    const letter = state.dead.get(deliveryId);
    if (letter === undefined) throw new GatewayError('SGW_WEBHOOK_NOT_FOUND', `no dead letter '${deliveryId.slice(0, 200)}' for webhook subscription '${id}'`);
    state.dead.delete(deliveryId);
    this.options.store.revived(deliveryId);
    const delivery = deliveryOf(letter);
    this.enqueue(state, delivery);
    this.updateGauges(state);
    return delivery;
  }

  private get(id: string): SubscriptionState {
    const state = this.states.get(id);
    if (state === undefined) throw new GatewayError('SGW_WEBHOOK_NOT_FOUND', `no webhook subscription '${id.slice(0, 64)}'`);
    return state;
  }

  /**
   * Idempotent. Stops sending (attempts in flight are cut and stay queued)
   * and writes the store: whatever was not delivered goes at the next start.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.stopping.abort();
    await Promise.allSettled([...this.running]);
    await this.options.store.close();
  }
}

function view(state: SubscriptionState): SubscriptionView {
  const { subscription } = state;
  return {
    id: subscription.id,
    url: subscription.url,
    types: subscription.types,
    queues: subscription.queues,
    source: subscription.source,
    queueDepth: state.depth,
    callsInFlight: state.active,
    delivered: state.delivered,
    failedAttempts: state.failures,
    lastFailure: state.lastFailure ?? null,
    deadLetters: state.dead.size,
  };
}

/** fetch's "fetch failed" hides the reason (connection refused, reset) in its cause. */
function describeFetchError(err: unknown): string {
  const cause = err instanceof Error && err.cause instanceof Error ? `: ${err.cause.message}` : '';
  return `${errorMessage(err)}${cause}`.slice(0, 300);
}
