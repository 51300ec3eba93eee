import { mkdirSync } from 'node:fs';
import { open, readFile, rename, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from '../logger.js';
import { deliveryOf, type DeadLetter, type Delivery, type DeliveryStore, type StoredDeliveries } from './DeliveryStore.js';
import type { Subscription } from './Subscription.js';

/** One line of the journal. */
type JournalRecord =
  | { readonly op: 'add'; readonly delivery: Delivery }
  | { readonly op: 'done'; readonly id: string }
  | { readonly op: 'dead'; readonly letter: DeadLetter }
  | { readonly op: 'revive'; readonly id: string }
  | { readonly op: 'forget'; readonly id: string }
  | { readonly op: 'sub'; readonly subscription: Subscription }
  | { readonly op: 'unsub'; readonly id: string };

/** Records written since the last compaction, over the live entries, above which the journal is rewritten. */
const COMPACT_SLACK = 10_000;

/**
 * The webhook queue in a local file: an append-only journal of JSON lines
 * (added, delivered, dead, revived, forgotten, subscribed, unsubscribed),
 * replayed at open. Appends are batched and written in order by one writer
 * off the event loop's critical path; when the journal holds more than
 * COMPACT_SLACK records beyond the live entries it is rewritten with only
 * those (a temporary file renamed over it, so a crash mid-way leaves the old
 * journal whole). A graceful stop writes everything; a kill -9 can lose the
 * last few milliseconds of changes (a delivered event may then be sent
 * again, which Standard Webhooks' webhook-id lets the receiver drop).
 * A torn last line (a crash mid-write) is skipped with a warning.
 */
export class FileDeliveryStore implements DeliveryStore {
  private readonly pending = new Map<string, Delivery>();
  private readonly deadLetters = new Map<string, DeadLetter>();
  private readonly subscriptions = new Map<string, Subscription>();
  private buffer: string[] = [];
  private written = 0;
  private handle: FileHandle | undefined;
  private writing: Promise<void> | undefined;
  private closed = false;

  constructor(
    private readonly file: string,
    private readonly logger: Logger,
  ) {}

  async open(): Promise<StoredDeliveries> {
    let text: string | undefined;
    try {
      text = await readFile(this.file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    // No journal yet: nothing to read, and none is written until there is something to keep.
    if (text === undefined) return { subscriptions: [], pending: [], dead: [] };
    let skipped = 0;
    for (const line of text.split('\n')) {
      if (line === '') continue;
      try {
        this.apply(JSON.parse(line) as JournalRecord);
      } catch {
        skipped += 1;
      }
    }
    if (skipped > 0) this.logger.warn({ file: this.file, skipped }, 'webhook journal: unreadable lines skipped (a write cut by a crash)');
    // Start from a compact journal: only what is live.
    await this.compact();
    return { subscriptions: [...this.subscriptions.values()], pending: [...this.pending.values()], dead: [...this.deadLetters.values()] };
  }

  added(delivery: Delivery): void {
    this.record({ op: 'add', delivery });
  }

  delivered(id: string): void {
    this.record({ op: 'done', id });
  }

  dead(letter: DeadLetter): void {
    this.record({ op: 'dead', letter });
  }

  revived(id: string): void {
    this.record({ op: 'revive', id });
  }

  forgotten(id: string): void {
    this.record({ op: 'forget', id });
  }

  subscribed(subscription: Subscription): void {
    this.record({ op: 'sub', subscription });
  }

  unsubscribed(id: string): void {
    this.record({ op: 'unsub', id });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.flush();
    await this.handle?.close();
    this.handle = undefined;
  }

  private record(record: JournalRecord): void {
    if (this.closed) return;
    this.apply(record);
    this.buffer.push(`${JSON.stringify(record)}\n`);
    this.writing ??= this.writeLoop().finally(() => {
      this.writing = undefined;
    });
  }

  private apply(record: JournalRecord): void {
    switch (record.op) {
      case 'add':
        this.pending.set(record.delivery.id, record.delivery);
        break;
      case 'done':
        this.pending.delete(record.id);
        break;
      case 'dead':
        this.pending.delete(record.letter.id);
        this.deadLetters.set(record.letter.id, record.letter);
        break;
      case 'revive': {
        const letter = this.deadLetters.get(record.id);
        if (letter === undefined) break;
        this.deadLetters.delete(record.id);
        this.pending.set(record.id, deliveryOf(letter));
        break;
      }
      case 'forget':
        this.deadLetters.delete(record.id);
        break;
      case 'sub':
        this.subscriptions.set(record.subscription.id, record.subscription);
        break;
      case 'unsub':
        this.subscriptions.delete(record.id);
        for (const [id, delivery] of this.pending) if (delivery.subscriptionId === record.id) this.pending.delete(id);
        for (const [id, letter] of this.deadLetters) if (letter.subscriptionId === record.id) this.deadLetters.delete(id);
        break;
    }
  }

  private async flush(): Promise<void> {
    while (this.writing !== undefined) await this.writing;
  }

  private async writeLoop(): Promise<void> {
    try {
      while (this.buffer.length > 0) {
        const chunk = this.buffer.join('');
        const records = this.buffer.length;
        this.buffer = [];
        if (this.handle === undefined) {
          mkdirSync(path.dirname(this.file), { recursive: true });
          this.handle = await open(this.file, 'a');
        }
        await this.handle.appendFile(chunk);
        this.written += records;
        if (this.written > this.pending.size + this.deadLetters.size + this.subscriptions.size + COMPACT_SLACK) await this.compact();
      }
    } catch (err) {
      this.logger.error({ err, file: this.file }, 'webhook journal: write failed; undelivered webhooks may be lost at the next restart');
    }
  }

  /**
   * Rewrites the journal with the live entries. The snapshot and the buffer
   * are taken together, synchronously: records arriving while it is written
   * are in neither and are appended after it.
   */
  private async compact(): Promise<void> {
    const lines: string[] = [];
    for (const subscription of this.subscriptions.values()) lines.push(JSON.stringify({ op: 'sub', subscription }));
    for (const delivery of this.pending.values()) lines.push(JSON.stringify({ op: 'add', delivery }));
    for (const letter of this.deadLetters.values()) lines.push(JSON.stringify({ op: 'dead', letter }));
    this.buffer = [];
    const tmp = `${this.file}.tmp`;
    const out = await open(tmp, 'w');
    try {
      await out.writeFile(lines.length === 0 ? '' : `${lines.join('\n')}\n`);
      await out.sync();
    } finally {
      await out.close();
    }
    await this.handle?.close();
    this.handle = undefined;
    await rename(tmp, this.file);
    this.written = lines.length;
  }
}
