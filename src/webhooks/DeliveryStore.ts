import type { Subscription } from './Subscription.js';

/** One event for one subscription: what is POSTed, signed at each attempt. */
export interface Delivery {
  /** `<subscription>:<eventId>`: unique, the admin API's name for it. */
  readonly id: string;
  readonly subscriptionId: string;
  readonly callId: string;
  readonly eventType: string;
  /** Standard Webhooks `webhook-id`: the same on every attempt, so the receiver can drop a repeat. */
  readonly messageId: string;
  /** The JSON body, sent byte for byte as signed. */
  readonly body: string;
  /** Milliseconds since the Unix epoch. */
  readonly enqueuedAt: number;
}

/** A delivery given up after WEBHOOK_MAX_ATTEMPTS failed attempts, kept until redelivered or evicted. */
export interface DeadLetter extends Delivery {
  readonly attempts: number;
  readonly lastError: string;
  readonly deadAt: number;
}

/** What a store held when it was opened, in the order it was added. */
export interface StoredDeliveries {
  /** Subscriptions created through the admin API (the file's are read at each start). */
  readonly subscriptions: readonly Subscription[];
  readonly pending: readonly Delivery[];
  readonly dead: readonly DeadLetter[];
}

/**
 * Where the webhook queue outlives the process: every change is recorded
 * here as it happens, so a restart resumes with each undelivered event in
 * its order. The methods record and return at once (writing is the store's
 * business, off the live path); `close()` resolves when all is written. The
 * local file is the first implementation (FileDeliveryStore); Redis, when the
 * cluster's connection lands, is the next.
 */
export interface DeliveryStore {
  /** Reads what the store holds. Called once, before any change. */
  open(): Promise<StoredDeliveries>;
  added(delivery: Delivery): void;
  delivered(id: string): void;
  /** The pending delivery `id` moved to the dead letters. */
  dead(letter: DeadLetter): void;
  /** A dead letter went back to the end of its call's queue (admin redelivery). */
  revived(id: string): void;
  /** A dead letter dropped (the dead-letter bound, or its subscription deleted). */
  forgotten(id: string): void;
  subscribed(subscription: Subscription): void;
  unsubscribed(id: string): void;
  close(): Promise<void>;
}

/** The delivery a dead letter was, to be queued again. */
export function deliveryOf(letter: DeadLetter): Delivery {
  return {
    id: letter.id,
    subscriptionId: letter.subscriptionId,
    callId: letter.callId,
    eventType: letter.eventType,
    messageId: letter.messageId,
    body: letter.body,
    enqueuedAt: letter.enqueuedAt,
  };
}
