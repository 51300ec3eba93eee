import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Redis } from 'ioredis';
import type { CallOwner } from '../auth/Principal.js';
import type { EventBus, EventBusHealth, EventListener, PublishOptions } from '../calls/EventBus.js';
import type { GatewayEvent, UnpublishedEvent } from '../events.js';
import type { Logger } from '../logger.js';
import type { LogLimiter } from '../LogLimiter.js';
import type { GatewayMetrics } from '../metrics.js';
import { compareEventIds, parseCursor } from '../push/EventCursor.js';
import type { EventSource, HistoryEntry, Replay, ResumeGapReason } from '../push/EventSource.js';
import { Subscribers } from '../push/Subscribers.js';
import { createRedisClient, redisErrorMessage } from './redisClient.js';
import { entryFields, parseEntry } from './streamEntry.js';
import { parseEntries, parseStreamInfo, parseXread, type StreamInfo } from './streamReplies.js';

export interface RedisEventBusOptions {
  /** REDIS_URL. */
  readonly url: string;
  /** REDIS_KEY_PREFIX: the stream is `<prefix>events`. */
  readonly keyPrefix: string;
  /** This gateway in the cluster (INSTANCE_ID). */
  readonly instanceId: string;
  /** REDIS_STREAM_MAXLEN: `XADD MAXLEN ~` this many entries. */
  readonly maxLen: number;
  /** REDIS_BUFFER_EVENTS: outgoing events held while Redis is unreachable; past it the oldest is dropped. */
  readonly bufferSize: number;
  readonly metrics: GatewayMetrics;
  readonly logger: Logger;
  readonly logLimiter: LogLimiter;
  /** Events a replay holds at most (the in-memory hub's history: 10 000). */
  readonly replayMax?: number;
  /** XREAD BLOCK timeout (default 1000 ms). */
  readonly blockMs?: number;
}

/** An event of this instance on its way to the stream. */
interface Outgoing {
  /** This instance's publication count. */
  readonly seq: number;
  readonly event: GatewayEvent;
  readonly owner: CallOwner | undefined;
  /** Already delivered to this instance's own subscribers (while the stream could not be read). */
  delivered: boolean;
}

/** An event of this instance in the stream that the reader has not read back yet. */
interface InTransit {
  readonly seq: number;
  readonly event: GatewayEvent;
  readonly owner: CallOwner | undefined;
}

/** XADDs written per round trip (one pipelined batch). */
const BATCH = 100;
/** Entries per XREAD. */
const READ_COUNT = 500;
/** Publishers (gateway runs) whose last publication count a reader remembers. */
const MAX_PUBLISHERS = 1000;

/**
 * The cluster's event bus: every gateway publishes its calls' events to ONE
 * Redis stream (`<prefix>events`, `XADD MAXLEN ~ REDIS_STREAM_MAXLEN`) and
 * every gateway reads the whole stream (XREAD BLOCK from where it stood at
 * start) and delivers it to its own subscribers: /v1/events clients with their
 * scope (the call's owner travels in the entry), the alert store, the call
 * board, StreamAudio. An event's `eventId` is its stream id, so a `since=`
 * cursor works on any instance. An instance's own events reach its own
 * clients through the stream too: one order for everyone.
 *
 * `publish` never blocks and never throws: the event joins a bounded outgoing
 * buffer (REDIS_BUFFER_EVENTS; full: the oldest is dropped, counted in
 * `sgw_event_bus_dropped_events_total`, logged once a minute) that a writer
 * drains in order, pipelined, whenever Redis answers. While the stream cannot
 * be written or read (Redis down, hung or restarting; ioredis reconnects with
 * a backoff of 50 ms … 2 s), this instance's own events are delivered to its
 * own subscribers at once, carrying as `eventId` the cursor of the last stream
 * entry the instance read: a client's position in the shared stream does not
 * move until the stream can be read again. When Redis is back the buffer is
 * written in order and the reader goes on from where it stood, skipping this
 * instance's events it already delivered (`n` in the entry), so live clients
 * get no duplicate. A client that resumes from such a cursor afterwards gets
 * those events once more, under their stream ids (at least once, never lost).
 */
export class RedisEventBus implements EventBus, EventSource {
  private readonly subscribers: Subscribers;
  private readonly owners = new Map<string, CallOwner>();
  private readonly command: Redis;
  private readonly reader: Redis;
  private readonly key: string;
  private readonly replayMax: number;
  private outgoing: Outgoing[] = [];
  private inTransit: InTransit[] = [];
  /** This instance's events published so far. */
  private published = 0;
  /** Every own event up to this count has been delivered to the own subscribers. */
  private deliveredUpTo = 0;
  /** The reader's position in the stream; undefined until it first connects. */
  private lastId: string | undefined;
  private live = false;
  private everLive = false;
  private flushing = false;
  /** The batch being written holds the events up to this count (0: none). */
  private writingUpTo = 0;
  private closed = false;
  private lastError: string | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private readonly noteError: (err: unknown) => void;
  /** `<instance>/<run>` in the entries this bus writes. */
  private readonly publisher: string;
  /** The newest publication count read per publisher: an entry at or below it was written twice. Bounded. */
  private readonly lastSeqOf = new Map<string, number>();
  private readonly reading: Promise<void>;

  constructor(private readonly options: RedisEventBusOptions) {
    const { metrics, logger, logLimiter } = options;
    this.subscribers = new Subscribers({ metrics, logger, logLimiter });
    this.key = `${options.keyPrefix}events`;
    this.publisher = `${options.instanceId}/${randomBytes(4).toString('hex')}`;
    this.replayMax = options.replayMax ?? 10_000;
    const blockMs = options.blockMs ?? 1000;
    const onError = (message: string): void => {
      this.lastError = message;
    };
    // A command refused because its connection is down says less than the connection's own error.
    this.noteError = (err: unknown): void => {
      if (this.command.status === 'ready' && this.reader.status === 'ready') this.lastError = redisErrorMessage(err);
    };
    this.command = createRedisClient({ url: options.url, name: `${options.instanceId}:events`, logger, logLimiter, socketTimeoutMs: 3000, onError });
    this.reader = createRedisClient({ url: options.url, name: `${options.instanceId}:events-reader`, logger, logLimiter, socketTimeoutMs: blockMs + 3000, onError });
    for (const redis of [this.command, this.reader]) {
      redis.on('ready', () => this.updateLiveness());
      redis.on('close', () => {
        this.lastError ??= 'connection to Redis closed';
        this.updateLiveness();
      });
    }
    this.command.on('ready', () => void this.flush());
    metrics.eventBusConnected.set(0);
    metrics.eventBusBuffered.set(0);
    this.reading = this.read(blockMs);
  }

  publish(unpublished: UnpublishedEvent, options: PublishOptions = {}): void {
    const now = Date.now();
    const event = { ...unpublished, ts: now, eventId: this.cursor } as GatewayEvent;
    if (event.type === 'call.started') this.owners.set(event.callId, { agentId: event.agentId, queue: event.queue });
    const owner = options.owner ?? this.owners.get(event.callId);
    if (event.type === 'call.summary') this.owners.delete(event.callId);
    const { metrics } = this.options;
    metrics.eventsPublished.inc({ type: event.type });
    if (options.audioEndedAt !== undefined) metrics.eventLatency.observe({ type: event.type }, Math.max(0, now - options.audioEndedAt) / 1000);
    this.published += 1;
    const item: Outgoing = { seq: this.published, event, owner, delivered: false };
    if (!this.live) this.deliverLocally(item);
    this.outgoing.push(item);
    if (this.outgoing.length > this.options.bufferSize) this.dropOldest();
    metrics.eventBusBuffered.set(this.outgoing.length);
    void this.flush();
  }

  /** Returns an unsubscribe function; `name` labels the listener's errors (sgw_event_listener_errors_total). */
  subscribe(listener: EventListener, name: string): () => void {
    return this.subscribers.add(listener, name);
  }

  /** The stream id of the newest entry this instance has read (`0-0` before any): resume after it with `since=`. */
  get cursor(): string {
    return this.lastId ?? '0-0';
  }

  /** `0-0`: before the stream's first entry. */
  get origin(): string {
    return '0-0';
  }

  health(): EventBusHealth {
    return { connected: this.live, buffered: this.outgoing.length, lastError: this.live ? undefined : this.lastError };
  }

  /**
   * The stream's entries after `since`, up to the entry this instance has
   * read (what it delivers later reaches the client live), at most
   * `replayMax`. Gaps as the in-memory hub says them: `malformed`,
   * `other-run` (a bare integer), `unknown` (after the stream's newest id),
   * `expired` (before its oldest retained entry, or more than `replayMax`
   * after it); `unavailable` while the stream cannot be read, with this
   * instance's own events that wait in the buffer. Never rejects.
   */
  async since(since: string): Promise<Replay> {
    if (!this.live || this.lastId === undefined) return this.outageReplay();
    try {
      const info = await this.streamInfo(this.command);
      // A cursor another instance issued may be a little ahead of this one's reader: let it catch up first.
      const catchUp = Date.now() + 1000;
      while (parseCursor(since).kind === 'cursor' && compareEventIds(since, info.lastGeneratedId) <= 0 && compareEventIds(since, this.cursor) > 0 && this.live && Date.now() < catchUp) await sleep(10);
      // What the reader delivers after this reaches the client live (and a live event the replay also holds is sent once).
      const end = this.cursor;
      const everything = async (gap: ResumeGapReason): Promise<Replay> => {
        const newest = parseEntries(await this.command.call('XREVRANGE', this.key, end, '-', 'COUNT', String(this.replayMax)));
        return { entries: this.historyEntries(newest.reverse()), gap, oldestEventId: info.firstEntryId ?? null, latestEventId: end };
      };
      const parsed = parseCursor(since);
      if (parsed.kind === 'malformed') return await everything('malformed');
      if (parsed.kind === 'legacy') return await everything('other-run');
      if (compareEventIds(since, info.lastGeneratedId) > 0) return await everything('unknown');
      const trimmed = info.entriesAdded > info.length;
      const first = info.firstEntryId;
      // Before the oldest entry: trimmed away, or from a stream that is gone (Redis lost its data).
      if (first === undefined ? trimmed && compareEventIds(since, info.lastGeneratedId) < 0 : compareEventIds(since, first) < 0 && (trimmed || since !== '0-0')) {
        return await everything('expired');
      }
      if (compareEventIds(since, end) >= 0) return { entries: [], gap: undefined, oldestEventId: first ?? null, latestEventId: end };
      const after = parseEntries(await this.command.call('XRANGE', this.key, `(${since}`, end, 'COUNT', String(this.replayMax + 1)));
      if (after.length > this.replayMax) return await everything('expired');
      return { entries: this.historyEntries(after), gap: undefined, oldestEventId: first ?? null, latestEventId: end };
    } catch (err) {
      this.noteError(err);
      return this.outageReplay();
    }
  }

  /** Resolves once every buffered event is in the stream and read back, or at `deadline` (a Date.now() value). */
  async drain(deadline: number): Promise<void> {
    while ((this.outgoing.length > 0 || (this.live && this.inTransit.length > 0)) && Date.now() < deadline) {
      void this.flush();
      await sleep(20);
    }
  }

  /** Idempotent: stops reading and writing; events still buffered are counted as dropped. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.retryTimer);
    const lost = this.outgoing.length;
    if (lost > 0) {
      this.options.metrics.eventBusDropped.inc(lost);
      this.options.logger.warn({ events: lost }, 'event bus closed with events not yet in the Redis stream: they reached only this instance');
    }
    this.outgoing = [];
    this.command.disconnect();
    this.reader.disconnect();
    await this.reading;
    this.options.metrics.eventBusConnected.set(0);
    this.options.metrics.eventBusBuffered.set(0);
  }

  private async read(blockMs: number): Promise<void> {
    while (!this.closed) {
      if (this.reader.status !== 'ready') {
        await sleep(50);
        continue;
      }
      try {
        if (this.lastId === undefined) {
          // Where the stream stands now: this instance delivers what is published from here on.
          this.lastId = (await this.streamInfo(this.reader)).lastGeneratedId;
          this.updateLiveness();
          continue;
        }
        const reply = await this.reader.call('XREAD', 'COUNT', String(READ_COUNT), 'BLOCK', String(blockMs), 'STREAMS', this.key, this.lastId);
        for (const raw of parseXread(reply)) this.onEntry(raw.id, raw.fields);
      } catch (err) {
        if (this.closed) return;
        this.noteError(err);
        this.options.logLimiter.log(this.options.logger, 'warn', 'event-bus-error', 'reader', { err: redisErrorMessage(err) }, 'reading the Redis event stream failed');
        this.updateLiveness();
        await sleep(100);
      }
    }
  }

  private onEntry(id: string, fields: readonly string[]): void {
    this.lastId = id;
    const entry = parseEntry(id, fields);
    if (typeof entry === 'string') {
      this.options.logLimiter.log(this.options.logger, 'warn', 'event-bus-error', 'stream-entry', { id, problem: entry }, 'unreadable entry in the Redis event stream: skipped');
      return;
    }
    const last = this.lastSeqOf.get(entry.instance) ?? 0;
    if (entry.seq <= last) return;
    this.lastSeqOf.delete(entry.instance);
    this.lastSeqOf.set(entry.instance, entry.seq);
    if (this.lastSeqOf.size > MAX_PUBLISHERS) this.lastSeqOf.delete(this.lastSeqOf.keys().next().value ?? '');
    const own = entry.instance === this.publisher;
    if (own) {
      while (this.inTransit[0] !== undefined && this.inTransit[0].seq <= entry.seq) this.inTransit.shift();
      // Delivered while the stream could not be read, or written twice by a retried batch.
      if (entry.seq <= this.deliveredUpTo) return;
      this.deliveredUpTo = entry.seq;
    }
    this.options.metrics.eventBusDelivery.observe({ origin: own ? 'local' : 'remote' }, Math.max(0, Date.now() - entry.event.ts) / 1000);
    this.subscribers.deliver(entry.event, entry.owner, own);
  }

  /** Writes the buffer to the stream in order, a pipelined batch per round trip, while Redis answers. */
  private async flush(): Promise<void> {
    if (this.flushing || this.closed) return;
    this.flushing = true;
    try {
      while (this.outgoing.length > 0 && this.command.status === 'ready' && !this.closed) {
        const batch = this.outgoing.slice(0, BATCH);
        this.writingUpTo = batch.at(-1)?.seq ?? 0;
        const results = await Promise.allSettled(
          batch.map((item) => this.command.call('XADD', this.key, 'MAXLEN', '~', String(this.options.maxLen), '*', ...entryFields(this.publisher, item.seq, item.event, item.owner))),
        );
        let written: Outgoing | undefined;
        let failure: unknown;
        for (const [i, result] of results.entries()) {
          const item = batch[i];
          if (item === undefined) break;
          if (result.status === 'rejected') {
            failure = result.reason;
            break;
          }
          written = item;
          if (!item.delivered) this.inTransit.push({ seq: item.seq, event: item.event, owner: item.owner });
        }
        if (written !== undefined) {
          const upTo = written.seq;
          const keep = this.outgoing.findIndex((item) => item.seq > upTo);
          this.outgoing = keep === -1 ? [] : this.outgoing.slice(keep);
          // Bounded like the buffer: the reader delivers what it reads whether or not it is still here.
          if (this.inTransit.length > this.options.bufferSize) this.inTransit.splice(0, this.inTransit.length - this.options.bufferSize);
        }
        this.options.metrics.eventBusBuffered.set(this.outgoing.length);
        if (failure !== undefined) {
          this.noteError(failure);
          this.options.logLimiter.log(this.options.logger, 'warn', 'event-bus-error', 'writer', { err: redisErrorMessage(failure), buffered: this.outgoing.length }, 'writing to the Redis event stream failed: events stay buffered and are retried');
          // A refusal (OOM, a key of another type) is retried too: nothing is dropped but by the buffer's bound.
          clearTimeout(this.retryTimer);
          this.retryTimer = setTimeout(() => void this.flush(), 500);
          this.retryTimer.unref();
          return;
        }
      }
    } finally {
      this.flushing = false;
      this.writingUpTo = 0;
    }
  }

  /** Live: both connections ready and the reader placed in the stream. Going down, own events not yet read back are delivered at once. */
  private updateLiveness(): void {
    const live = !this.closed && this.command.status === 'ready' && this.reader.status === 'ready' && this.lastId !== undefined;
    if (live === this.live) return;
    this.live = live;
    this.options.metrics.eventBusConnected.set(live ? 1 : 0);
    if (live) {
      this.lastError = undefined;
      if (this.everLive) this.options.metrics.eventBusReconnects.inc();
      this.everLive = true;
      this.options.logger.info({ cursor: this.cursor, buffered: this.outgoing.length }, 'event bus connected to Redis');
      void this.flush();
      return;
    }
    if (this.closed) return;
    this.options.logger.warn({ err: this.lastError, buffered: this.outgoing.length }, 'event bus lost Redis: own events go to own clients directly and wait in the buffer');
    this.deliverUnread();
  }

  /** Own events not read back yet (written, then still waiting), in order, to own subscribers now. */
  private deliverUnread(): void {
    const notRead = this.inTransit;
    this.inTransit = [];
    for (const item of notRead) this.deliverLocally(item);
    for (const item of this.outgoing) if (!item.delivered) this.deliverLocally(item);
  }

  private deliverLocally(item: Outgoing | InTransit): void {
    if ('delivered' in item) item.delivered = true;
    if (item.seq <= this.deliveredUpTo) return;
    this.deliveredUpTo = item.seq;
    this.subscribers.deliver({ ...item.event, eventId: this.cursor }, item.owner, true);
  }

  /** Drops the oldest event not being written right now (one being written may yet reach the stream: the bound is exceeded by at most a batch). */
  private dropOldest(): void {
    const index = this.outgoing.findIndex((item) => item.seq > this.writingUpTo);
    const oldest = this.outgoing[index];
    if (oldest === undefined) return;
    // Never in the stream, but this instance's own clients still get it, after what is on its way before it.
    if (!oldest.delivered) this.deliverUnread();
    const [dropped = oldest] = this.outgoing.splice(index, 1);
    this.options.metrics.eventBusDropped.inc();
    this.options.logLimiter.log(
      this.options.logger,
      'warn',
      'event-bus-dropped',
      'outgoing',
      { bufferSize: this.options.bufferSize, type: dropped.event.type, callId: dropped.event.callId },
      'event buffer full (Redis unreachable or too slow): the oldest event was dropped from it, and reached this instance’s clients only',
    );
  }

  private outageReplay(): Replay {
    const entries: HistoryEntry[] = this.outgoing.filter((item) => item.delivered).map((item) => ({ event: { ...item.event, eventId: this.cursor }, owner: item.owner }));
    return { entries, gap: 'unavailable', oldestEventId: null, latestEventId: this.cursor };
  }

  private historyEntries(raw: readonly { id: string; fields: readonly string[] }[]): HistoryEntry[] {
    const out: HistoryEntry[] = [];
    for (const { id, fields } of raw) {
      const entry = parseEntry(id, fields);
      if (typeof entry !== 'string') out.push({ event: entry.event, owner: entry.owner });
    }
    return out;
  }

  private async streamInfo(redis: Redis): Promise<StreamInfo> {
    try {
      return parseStreamInfo(await redis.call('XINFO', 'STREAM', this.key));
    } catch (err) {
      if (/no such key/i.test(redisErrorMessage(err))) return { length: 0, entriesAdded: 0, lastGeneratedId: '0-0', firstEntryId: undefined };
      throw err;
    }
  }
}
