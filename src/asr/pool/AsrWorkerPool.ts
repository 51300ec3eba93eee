import { availableParallelism } from 'node:os';
import { GatewayError, errorMessage, invalidArgument } from '../../errors.js';
import type { Language } from '../../language.js';
import type { Logger } from '../../logger.js';
import type { GatewayMetrics } from '../../metrics.js';
import { supportedLanguages } from '../engines/select.js';
import { SpeechStream, type SpeechStreamController, type StreamTransport } from '../SpeechStream.js';
import type { OpenStreamOptions, SpeechCapabilities, SpeechService, SpeechServiceHealth, SpeechServiceUsage } from '../SpeechService.js';
import type { EngineConfig, RecognitionMode } from '../types.js';
import type { SpeechGateTuning } from '../../audio/vad/SpeechGate.js';
import type { FromWorker, RequestId, StreamId, ToWorker } from './protocol.js';
import { startWorker, type WorkerHost, type WorkerIsolation } from './WorkerHost.js';

export interface AsrWorkerPoolOptions {
  readonly engine: EngineConfig;
  /** Workers; default `os.availableParallelism()`. Each runs its own engine instance. */
  readonly workers?: number;
  /**
   * `process` (default): each worker is a child process, so a native crash
   * (segfault, abort) in an engine ends that worker only and it is replaced.
   * `thread`: worker threads in the gateway's process (WorkerHost.ts).
   */
  readonly isolation?: WorkerIsolation;
  readonly logger: Logger;
  readonly metrics: GatewayMetrics;
  /** Per-stream bound on audio sent but not yet processed (see SpeechStream.write). Default 5000. */
  readonly maxBufferedAudioMs?: number;
  /** Per-stream bound on results the consumer has not read yet. Default 1000. */
  readonly maxQueuedResults?: number;
  /** Minimum audio between partial hypotheses. Default 150 ms. */
  readonly partialIntervalMs?: number;
  /** N-best hypotheses after the best given with each final (`RecognitionResult.alternatives`). Default 0. */
  readonly alternatives?: number;
  /**
   * Voice-activity gating in front of every recogniser (src/audio/vad/SpeechGate.ts):
   * only speech plus pre-roll/hangover padding is decoded. Default on (`true` or
   * tuning); `false` decodes all audio. A stream can opt out with `vad: false`.
   */
  readonly vad?: boolean | SpeechGateTuning;
  /**
   * Telephone profile: on narrowband streams (input rate below the engine's)
   * the spotter's audio gets the upper band filled with noise at this level,
   * dBFS (src/audio/HighBandFill.ts).
   * Absent: no fill.
   */
  readonly narrowbandFillDbfs?: number;
  /** Wideband streams whose speech turns out to be telephone speech switch to the engine's telephone profile; default true. */
  readonly detectNarrowband?: boolean;
  /** Ping period; default 2000 ms. */
  readonly heartbeatIntervalMs?: number;
  /**
   * A ready worker that sends nothing (no pong, no processed audio) for this
   * long is considered hung and replaced. Default 10000 ms.
   */
  readonly heartbeatTimeoutMs?: number;
  /** Window of sgw_asr_real_time_factor. Default 5000 ms. */
  readonly metricsIntervalMs?: number;
  /** Grace period for a worker to free its decoders on close() before it is terminated. Default 5000 ms. */
  readonly shutdownTimeoutMs?: number;
}

/** The pool's stream options: the service's, plus its voice-activity gate (an engine-side knob, so not in the interface). */
export interface PoolStreamOptions extends OpenStreamOptions {
  /** `false` disables the pool's voice-activity gate for this stream. Default: the pool's setting. */
  readonly vad?: boolean;
}

export interface AsrPoolStats {
  readonly engine: string;
  /** Open streams per worker slot. */
  readonly streamsPerWorker: readonly number[];
  readonly audioSeconds: number;
  readonly processingSeconds: number;
  /** Audio the voice-activity gates kept from recognisers (part of `audioSeconds`); always set by the pool. */
  readonly vadSkippedSeconds?: number;
  readonly workerRestarts: number;
}

interface Deferred {
  readonly resolve: () => void;
  readonly reject: (err: Error) => void;
}

interface StreamEntry {
  readonly controller: SpeechStreamController;
  readonly language: Language;
  readonly inputSampleRate: number;
  readonly logger: Logger;
  readonly vad: SpeechGateTuning | false;
  readonly mode: RecognitionMode;
  readonly spotPhrases: readonly string[];
  readonly recordOnly: boolean;
  slot: WorkerSlot;
  open?: Deferred;
  end?: Deferred;
}

type PendingRequest =
  | { readonly kind: 'init'; readonly worker: WorkerHost; readonly deferred: Deferred }
  | { readonly kind: 'open' | 'end'; readonly worker: WorkerHost; readonly streamId: StreamId };

interface WorkerSlot {
  readonly index: number;
  worker: WorkerHost | null;
  state: 'starting' | 'ready' | 'stopping' | 'down';
  readonly streams: Map<StreamId, StreamEntry>;
  lastSeen: number;
  exited: Promise<void>;
  respawnAttempts: number;
  respawnTimer?: NodeJS.Timeout;
}

/**
 * The local {@link SpeechService}: recognition on worker threads (native
 * recognisers block the thread they run on). Streams are placed on the
 * worker with the fewest streams; a worker that dies or stops answering
 * heartbeats is replaced and its streams re-opened on the replacement, so
 * their results continue after a short gap.
 */
export class AsrWorkerPool implements SpeechService {
  private readonly slots: WorkerSlot[] = [];
  private readonly streams = new Map<StreamId, StreamEntry>();
  private readonly pending = new Map<RequestId, PendingRequest>();
  private readonly languages: readonly Language[];
  private readonly engineLabel: string;
  readonly capabilities: SpeechCapabilities;
  private readonly logger: Logger;
  private readonly metrics: GatewayMetrics;
  private nextRequestId = 1;
  private nextStreamId = 1;
  private pingSeq = 0;
  private closing: Promise<void> | undefined;
  private heartbeatTimer: NodeJS.Timeout | undefined;
  private metricsTimer: NodeJS.Timeout | undefined;
  private windowAudioSeconds = 0;
  private windowProcessingSeconds = 0;
  private totalAudioSeconds = 0;
  private totalProcessingSeconds = 0;
  private totalVadSkippedSeconds = 0;
  private restarts = 0;
  /** Set once create() succeeded; before that a dying worker fails create() instead of being replaced. */
  private started = false;

  private readonly transport: StreamTransport = {
    sendAudio: (streamId, pcm) => {
      const worker = this.streams.get(streamId)?.slot.worker;
      if (!worker) return false;
      this.post(worker, { type: 'audio', streamId, pcm }, [pcm]);
      return true;
    },
    end: (streamId) => this.endStream(streamId),
    close: (streamId) => this.closeStream(streamId),
  };

  private constructor(private readonly options: AsrWorkerPoolOptions) {
    this.logger = options.logger;
    this.metrics = options.metrics;
    this.languages = supportedLanguages(options.engine);
    this.engineLabel = options.engine.engine;
    // Both local engines decode partials, spot (pocketsphinx -kws, a Vosk grammar) and give N-best lists.
    this.capabilities = { partials: true, spotting: true, alternatives: Math.max(0, Math.floor(options.alternatives ?? 0)) };
  }

  /**
   * Starts the workers and waits until every one has loaded its engine.
   * @throws GatewayError (normally SGW_ASR_UNAVAILABLE) with the worker's
   * message, e.g. a bad Vosk model path; no worker is left running then.
   */
  static async create(options: AsrWorkerPoolOptions): Promise<AsrWorkerPool> {
    const count = options.workers ?? availableParallelism();
    if (!Number.isInteger(count) || count < 1) throw invalidArgument('workers', `must be a positive integer, got ${count}`);
    const pool = new AsrWorkerPool(options);
    for (let index = 0; index < count; index++) {
      pool.slots.push({ index, worker: null, state: 'down', streams: new Map(), lastSeen: 0, exited: Promise.resolve(), respawnAttempts: 0 });
    }
    try {
      await Promise.all(pool.slots.map((slot) => pool.spawn(slot)));
    } catch (err) {
      await pool.close();
      throw err;
    }
    pool.started = true;
    pool.heartbeatTimer = setInterval(() => pool.heartbeat(), options.heartbeatIntervalMs ?? 2000).unref();
    pool.metricsTimer = setInterval(() => pool.flushRealTimeFactor(), options.metricsIntervalMs ?? 5000).unref();
    pool.logger.info({ engine: pool.engineLabel, workers: count, languages: pool.languages }, 'ASR worker pool ready');
    return pool;
  }

  get engine(): string {
    return this.engineLabel;
  }

  /** Languages this pool's engine can recognise. */
  get supportedLanguages(): readonly Language[] {
    return this.languages;
  }

  /**
   * Opens a recognition stream on the least-loaded worker.
   * @throws GatewayError SGW_LANGUAGE_UNSUPPORTED, SGW_INVALID_ARGUMENT,
   * SGW_SHUTTING_DOWN, or SGW_ASR_UNAVAILABLE when the worker cannot open it.
   */
  async openStream(options: PoolStreamOptions): Promise<SpeechStream> {
    if (this.closing) throw new GatewayError('SGW_SHUTTING_DOWN', 'ASR worker pool is closed');
    const { language, inputSampleRate } = options;
    if (!this.languages.includes(language)) {
      throw new GatewayError('SGW_LANGUAGE_UNSUPPORTED', `ASR engine ${this.engineLabel} does not support ${language} (supported: ${this.languages.join(', ') || 'none'})`);
    }
    if (!Number.isInteger(inputSampleRate) || inputSampleRate < 4000 || inputSampleRate > 192000) {
      throw invalidArgument('inputSampleRate', `must be an integer between 4000 and 192000, got ${inputSampleRate}`);
    }
    const slot = this.leastLoaded();
    if (!slot?.worker) throw new GatewayError('SGW_ASR_UNAVAILABLE', 'no ASR worker is running');

    const streamId = this.nextStreamId++;
    const logger = (options.logger ?? this.logger).child({ asrStream: streamId });
    const controller = SpeechStream.create({
      id: streamId,
      language,
      inputSampleRate,
      transport: this.transport,
      metrics: this.metrics,
      logger,
      ...(this.options.maxBufferedAudioMs === undefined ? {} : { maxBufferedAudioMs: this.options.maxBufferedAudioMs }),
      ...(this.options.maxQueuedResults === undefined ? {} : { maxQueuedResults: this.options.maxQueuedResults }),
    });
    const poolVad = this.options.vad ?? true;
    const vad = options.vad === false || poolVad === false ? false : poolVad === true ? {} : poolVad;
    const mode = options.mode ?? 'transcribe';
    const spotPhrases = options.spotPhrases ?? [];
    if (mode !== 'transcribe' && spotPhrases.length === 0) throw invalidArgument('spotPhrases', `mode ${mode} needs at least one phrase`);
    const entry: StreamEntry = { controller, language, inputSampleRate, logger, vad, mode, spotPhrases, recordOnly: options.recordOnly === true, slot };
    this.streams.set(streamId, entry);
    slot.streams.set(streamId, entry);
    const opened = new Promise<void>((resolve, reject) => {
      entry.open = { resolve, reject };
    });
    this.sendOpen(slot.worker, entry, streamId);
    try {
      await opened;
    } catch (err) {
      this.forget(streamId);
      throw err;
    }
    return controller.stream;
  }

  /** Capacity is one core per worker thread: a worker never runs more than one decoder at a time. */
  usage(): SpeechServiceUsage {
    let openStreams = 0;
    for (const slot of this.slots) openStreams += slot.streams.size;
    return { openStreams, audioSeconds: this.totalAudioSeconds, processingSeconds: this.totalProcessingSeconds, capacity: this.slots.length };
  }

  /** A starting worker already takes streams (their opens queue behind its init), so it counts as able to open. */
  health(): SpeechServiceHealth {
    const ready = this.slots.filter((slot) => slot.worker !== null && slot.state === 'ready').length;
    const status = this.closing ? 'down' : ready === this.slots.length ? 'ok' : this.leastLoaded() ? 'degraded' : 'down';
    return { status, instances: this.slots.length, ready, restarts: this.restarts };
  }

  /** Counters since the pool started, for diagnostics and tests. */
  stats(): AsrPoolStats {
    return {
      engine: this.engineLabel,
      streamsPerWorker: this.slots.map((s) => s.streams.size),
      audioSeconds: this.totalAudioSeconds,
      processingSeconds: this.totalProcessingSeconds,
      vadSkippedSeconds: this.totalVadSkippedSeconds,
      workerRestarts: this.restarts,
    };
  }

  /**
   * Ends every stream and shuts every worker down gracefully (they free their
   * native decoders and exit); resolves when all have exited. Idempotent.
   */
  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  /** @internal Test hook: the current worker of a slot (to terminate it from outside). */
  workerForTest(index: number): WorkerHost | undefined {
    return this.slots[index]?.worker ?? undefined;
  }

  /** @internal Test hook: make a worker exit abruptly (no cleanup), abort as a native crash would (process isolation only) or block. */
  simulateFailureForTest(index: number, action: 'exit' | 'crash' | 'hang', ms?: number): void {
    const worker = this.slots[index]?.worker;
    if (worker) this.post(worker, { type: 'debug', action, ...(ms === undefined ? {} : { ms }) });
  }

  // ---- workers ----

  /** Starts a worker in `slot`; resolves when its engine is loaded. */
  private spawn(slot: WorkerSlot): Promise<void> {
    const worker: WorkerHost = startWorker(this.options.isolation ?? 'process', `asr-${slot.index}`, {
      message: (msg) => this.onMessage(slot, worker, msg),
      error: (err) => this.logger.error({ worker: slot.index, err: errorMessage(err) }, 'ASR worker error'),
      exit: (code, signal) => this.onExit(slot, worker, signal === null ? `exited with code ${code ?? 'unknown'}` : `was killed by ${signal}`),
    });
    slot.exited = worker.exited.then(() => undefined);
    slot.worker = worker;
    slot.state = 'starting';

    const requestId = this.nextRequestId++;
    const ready = new Promise<void>((resolve, reject) => {
      this.pending.set(requestId, { kind: 'init', worker, deferred: { resolve, reject } });
    });
    this.post(worker, {
      type: 'init',
      requestId,
      engine: this.options.engine,
      ...(this.options.partialIntervalMs === undefined ? {} : { partialIntervalMs: this.options.partialIntervalMs }),
      ...(this.options.alternatives === undefined ? {} : { alternatives: this.options.alternatives }),
    });
    return ready.then(() => {
      if (slot.worker !== worker) return;
      slot.state = 'ready';
      slot.lastSeen = Date.now();
      slot.respawnAttempts = 0;
    });
  }

  private onMessage(slot: WorkerSlot, worker: WorkerHost, msg: FromWorker): void {
    if (slot.worker !== worker) return; // a replaced worker's last words
    // Any message proves the thread is alive. Pings queue behind audio (FIFO),
    // so a worker busy with a backlog answers late but keeps sending `processed`.
    slot.lastSeen = Date.now();
    switch (msg.type) {
      case 'ready':
      case 'initError': {
        const request = this.takeRequest(msg.requestId);
        if (request?.kind !== 'init') return;
        if (msg.type === 'ready') request.deferred.resolve();
        else request.deferred.reject(new GatewayError(msg.code, msg.message));
        return;
      }
      case 'opened':
      case 'openError': {
        this.takeRequest(msg.requestId);
        const entry = this.streams.get(msg.streamId);
        if (!entry) return;
        const waiter = entry.open;
        entry.open = undefined;
        if (msg.type === 'opened') {
          if (msg.spotSkipped !== undefined && msg.spotSkipped.length > 0) {
            entry.logger.debug({ skipped: msg.spotSkipped.length, examples: msg.spotSkipped.slice(0, 5) }, 'spot phrases with words the model does not know were left out');
          }
          waiter?.resolve();
          return;
        }
        const error = new GatewayError(msg.code, msg.message);
        if (waiter) waiter.reject(error);
        else {
          // A re-open after a worker restart failed: nobody awaits it, so the stream fails.
          entry.logger.error({ err: msg.message }, 'could not re-open speech stream on the replacement ASR worker');
          this.failStream(msg.streamId, error);
        }
        return;
      }
      case 'ended': {
        this.takeRequest(msg.requestId);
        const entry = this.streams.get(msg.streamId);
        const waiter = entry?.end;
        if (entry) entry.end = undefined;
        waiter?.resolve();
        return;
      }
      case 'results':
        this.streams.get(msg.streamId)?.controller.deliver(msg.results);
        return;
      case 'spots':
        this.streams.get(msg.streamId)?.controller.deliverSpots(msg.hits);
        return;
      case 'processed': {
        const entry = this.streams.get(msg.streamId);
        if (!entry) return;
        entry.controller.acknowledge(msg.samples);
        const audioSeconds = msg.samples / entry.inputSampleRate;
        const processingSeconds = msg.processingMs / 1000;
        this.metrics.asrAudioSeconds.inc({ engine: this.engineLabel }, audioSeconds);
        this.metrics.asrProcessingSeconds.inc({ engine: this.engineLabel }, processingSeconds);
        this.windowAudioSeconds += audioSeconds;
        this.windowProcessingSeconds += processingSeconds;
        this.totalAudioSeconds += audioSeconds;
        this.totalProcessingSeconds += processingSeconds;
        if (msg.vadSkippedSeconds !== undefined && msg.vadSkippedSeconds > 0) {
          this.metrics.asrVadSkippedSeconds.inc({ engine: this.engineLabel }, msg.vadSkippedSeconds);
          this.totalVadSkippedSeconds += msg.vadSkippedSeconds;
        }
        return;
      }
      case 'bandwidth': {
        this.metrics.asrStreamBandwidth.inc({ engine: this.engineLabel, bandwidth: msg.bandwidth });
        const logger = this.streams.get(msg.streamId)?.logger ?? this.logger;
        if (msg.error !== undefined) logger.warn({ worker: slot.index, err: msg.error, highBandDb: msg.highBandDb }, 'telephone speech on a wideband leg, but the telephone profile could not be started: kept the wideband one');
        else if (msg.bandwidth === 'narrowband') logger.info({ highBandDb: Math.round(msg.highBandDb) }, 'telephone speech on a wideband leg: recognised with the telephone profile');
        return;
      }
      case 'error': {
        const logger = (msg.streamId === undefined ? undefined : this.streams.get(msg.streamId)?.logger) ?? this.logger;
        logger.warn({ worker: slot.index, err: msg.message }, 'ASR worker reported an error');
        return;
      }
      case 'pong':
        return; // lastSeen updated above
    }
  }

  private onExit(slot: WorkerSlot, worker: WorkerHost, how: string): void {
    this.failRequests(worker, `ASR worker ${how}`);
    if (slot.worker !== worker) return; // already replaced (hung worker)
    slot.worker = null;
    // Stopping: expected. Starting: the rejected init above reports it (create() or replace()).
    if (slot.state === 'stopping' || slot.state === 'starting' || this.closing || !this.started) return;
    this.replace(slot, how);
  }

  private heartbeat(): void {
    const now = Date.now();
    const timeout = this.options.heartbeatTimeoutMs ?? 10_000;
    for (const slot of this.slots) {
      const worker = slot.worker;
      if (!worker || slot.state !== 'ready') continue;
      if (now - slot.lastSeen > timeout) {
        slot.worker = null;
        this.failRequests(worker, 'ASR worker stopped responding');
        worker.terminate().catch(() => undefined);
        this.replace(slot, `missed heartbeats for ${now - slot.lastSeen} ms`);
        continue;
      }
      this.post(worker, { type: 'ping', seq: ++this.pingSeq });
    }
  }

  /**
   * Replaces a dead worker and re-opens its streams. Audio the old worker had
   * not processed is lost (logged per stream); result times and utterance ids
   * continue on the stream clock.
   */
  private replace(slot: WorkerSlot, reason: string, retry = false): void {
    if (!retry) {
      this.restarts++;
      this.metrics.asrWorkerRestarts.inc();
      this.logger.warn({ worker: slot.index, reason, streams: slot.streams.size }, 'ASR worker died; replacing it');
    }
    let ready: Promise<void>;
    try {
      ready = this.spawn(slot);
    } catch (err) {
      this.startFailed(slot, null, err);
      return;
    }
    const worker = slot.worker;
    if (!worker) return;
    for (const [streamId, entry] of slot.streams) {
      const lostMs = entry.controller.rebind();
      entry.logger.warn({ lostAudioMs: Math.round(lostMs), worker: slot.index }, 'speech stream moved to a replacement ASR worker; audio in flight was lost');
      this.sendOpen(worker, entry, streamId);
      if (entry.end) this.post(worker, { type: 'end', requestId: this.request({ kind: 'end', worker, streamId }), streamId });
    }
    ready.then(
      () => this.logger.info({ worker: slot.index }, 'replacement ASR worker ready'),
      (err: unknown) => {
        if (this.closing || (slot.worker !== null && slot.worker !== worker)) return;
        this.startFailed(slot, worker, err);
      },
    );
  }

  /**
   * A replacement worker could not start (only if the install changed under
   * us, or threads cannot be created): fail its streams, retry with backoff.
   */
  private startFailed(slot: WorkerSlot, worker: WorkerHost | null, err: unknown): void {
    this.logger.error({ worker: slot.index, err: errorMessage(err) }, 'replacement ASR worker failed to start');
    slot.worker = null;
    slot.state = 'down';
    if (worker) void worker.terminate().catch(() => undefined);
    const error = err instanceof GatewayError ? err : new GatewayError('SGW_ASR_UNAVAILABLE', errorMessage(err));
    for (const streamId of [...slot.streams.keys()]) this.failStream(streamId, error);
    const delay = Math.min(30_000, 1000 * 2 ** slot.respawnAttempts++);
    slot.respawnTimer = setTimeout(() => {
      slot.respawnTimer = undefined;
      if (!this.closing && slot.worker === null) this.replace(slot, 'retrying start-up', true);
    }, delay).unref();
  }

  private async shutdown(): Promise<void> {
    clearInterval(this.heartbeatTimer);
    clearInterval(this.metricsTimer);
    for (const entry of this.streams.values()) {
      entry.open?.reject(new GatewayError('SGW_SHUTTING_DOWN', 'ASR worker pool is closing'));
      entry.end?.resolve();
      entry.controller.detach();
    }
    this.streams.clear();
    const timeoutMs = this.options.shutdownTimeoutMs ?? 5000;
    await Promise.all(
      this.slots.map(async (slot) => {
        clearTimeout(slot.respawnTimer);
        slot.streams.clear();
        const worker = slot.worker;
        if (!worker) return;
        slot.state = 'stopping';
        this.post(worker, { type: 'shutdown' });
        let timer: NodeJS.Timeout | undefined;
        const timedOut = await Promise.race([
          slot.exited.then(() => false),
          new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), timeoutMs))),
        ]);
        clearTimeout(timer);
        if (timedOut) {
          this.logger.warn({ worker: slot.index }, 'ASR worker did not exit in time; terminating it');
          await worker.terminate();
        }
        slot.worker = null;
      }),
    );
    this.flushRealTimeFactor();
  }

  // ---- streams ----

  private leastLoaded(): WorkerSlot | undefined {
    let best: WorkerSlot | undefined;
    for (const slot of this.slots) {
      if (!slot.worker || slot.state === 'stopping' || slot.state === 'down') continue;
      if (!best || slot.streams.size < best.streams.size) best = slot;
    }
    return best;
  }

  private sendOpen(worker: WorkerHost, entry: StreamEntry, streamId: StreamId): void {
    this.post(worker, {
      type: 'open',
      requestId: this.request({ kind: 'open', worker, streamId }),
      streamId,
      language: entry.language,
      inputSampleRate: entry.inputSampleRate,
      vad: entry.vad,
      mode: entry.mode,
      ...(entry.mode === 'transcribe' ? {} : { spotPhrases: entry.spotPhrases }),
      ...(entry.recordOnly ? { recordOnly: true } : {}),
      ...(this.options.narrowbandFillDbfs === undefined ? {} : { narrowbandFillDbfs: this.options.narrowbandFillDbfs }),
      detectNarrowband: this.options.detectNarrowband ?? true,
    });
  }

  private endStream(streamId: StreamId): Promise<void> {
    const entry = this.streams.get(streamId);
    const worker = entry?.slot.worker;
    if (!entry || !worker) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      entry.end = { resolve, reject };
      this.post(worker, { type: 'end', requestId: this.request({ kind: 'end', worker, streamId }), streamId });
    });
  }

  private closeStream(streamId: StreamId): void {
    const entry = this.streams.get(streamId);
    if (!entry) return;
    const worker = entry.slot.worker;
    this.forget(streamId);
    entry.end?.resolve();
    if (worker) this.post(worker, { type: 'close', streamId });
  }

  /** The stream cannot continue: settle whatever awaits it and make its iterator throw. */
  private failStream(streamId: StreamId, error: Error): void {
    const entry = this.streams.get(streamId);
    if (!entry) return;
    this.forget(streamId);
    entry.open?.reject(error);
    entry.end?.resolve();
    entry.controller.fail(error);
  }

  private forget(streamId: StreamId): void {
    const entry = this.streams.get(streamId);
    if (!entry) return;
    this.streams.delete(streamId);
    entry.slot.streams.delete(streamId);
  }

  // ---- plumbing ----

  private request(request: PendingRequest): RequestId {
    const requestId = this.nextRequestId++;
    this.pending.set(requestId, request);
    return requestId;
  }

  private takeRequest(requestId: RequestId): PendingRequest | undefined {
    const request = this.pending.get(requestId);
    this.pending.delete(requestId);
    return request;
  }

  /**
   * Drops a dead worker's outstanding requests. Only init has a waiter of its
   * own; stream opens/ends are re-sent by `replace` (their waiters live on the
   * stream entry).
   */
  private failRequests(worker: WorkerHost, message: string): void {
    for (const [requestId, request] of this.pending) {
      if (request.worker !== worker) continue;
      this.pending.delete(requestId);
      if (request.kind === 'init') request.deferred.reject(new GatewayError('SGW_ASR_UNAVAILABLE', message));
    }
  }

  private post(worker: WorkerHost, message: ToWorker, transfer?: ArrayBuffer[]): void {
    try {
      worker.post(message, transfer);
    } catch (err) {
      this.logger.error({ err: errorMessage(err), type: message.type }, 'posting to ASR worker failed');
    }
  }

  private flushRealTimeFactor(): void {
    if (this.windowAudioSeconds > 0) {
      this.metrics.asrRealTimeFactor.set({ engine: this.engineLabel }, this.windowProcessingSeconds / this.windowAudioSeconds);
    }
    this.windowAudioSeconds = 0;
    this.windowProcessingSeconds = 0;
    // The largest, not the sum: the bound is per leg, and one leg near it is about to lose audio.
    let backlogMs = 0;
    for (const entry of this.streams.values()) backlogMs = Math.max(backlogMs, entry.controller.stream.bufferedAudioMs);
    this.metrics.asrBacklogMaxSeconds.set(backlogMs / 1000);
  }
}

