/**
 * A {@link SpeechService} on a farm of speech servers that speak vosk-server's
 * WebSocket protocol (large models, GPUs, on other machines): the gateway
 * keeps its analytics, the servers do the recognition. Per language a list of
 * servers; streams are placed round robin on the healthy ones, moved to
 * another when theirs fails (VoskServerSession), and the servers are
 * health-checked in the protocol (ServerSet).
 *
 * Capacity is counted in streams: each server takes `streamsPerServer`, and a
 * stream costs one (processing seconds = audio seconds), so admission control
 * refuses calls beyond what the healthy servers were sized for.
 */
import { GatewayError, invalidArgument } from '../../../errors.js';
import type { Language } from '../../../language.js';
import type { Logger } from '../../../logger.js';
import type { GatewayMetrics } from '../../../metrics.js';
import { SpeechStream } from '../../SpeechStream.js';
import type { OpenStreamOptions, RecognitionStream, SpeechCapabilities, SpeechService, SpeechServiceHealth, SpeechServiceUsage } from '../../SpeechService.js';
import { ServerSet } from './ServerSet.js';
import { VoskServerSession } from './VoskServerSession.js';

export interface VoskServerServiceOptions {
  /** WebSocket URLs (ws:// or wss://) of the servers per language. */
  readonly servers: Partial<Record<Language, readonly string[]>>;
  readonly logger: Logger;
  readonly metrics: GatewayMetrics;
  /** Hypotheses after the best asked for with each final (vosk max_alternatives). Default 0. */
  readonly alternatives?: number;
  /** Streams one server is sized for: the capacity admission control sees per healthy server. Default 32. */
  readonly streamsPerServer?: number;
  /** Default 3000 ms. */
  readonly connectTimeoutMs?: number;
  /** Audio in flight without an answer for this long: the server is stalled. Default 5000 ms. */
  readonly responseTimeoutMs?: number;
  /** Default 10 000 ms. */
  readonly healthIntervalMs?: number;
  /** Per-stream bound on audio written and not yet answered (SpeechStream.write). Default 5000 ms. */
  readonly maxBufferedAudioMs?: number;
  readonly maxQueuedResults?: number;
}

export class VoskServerService implements SpeechService {
  readonly engine = 'vosk-server';
  readonly capabilities: SpeechCapabilities;
  readonly supportedLanguages: readonly Language[];
  private readonly sets = new Map<Language, ServerSet>();
  private readonly sessions = new Map<number, { readonly session: VoskServerSession; readonly detach: () => void }>();
  private nextStreamId = 1;
  private audioSeconds = 0;
  private failovers = 0;
  private closed = false;

  constructor(private readonly options: VoskServerServiceOptions) {
    const alternatives = Math.max(0, Math.floor(options.alternatives ?? 0));
    // vosk-server has no keyword spotter beside the transcript: intents come from transcripts.
    this.capabilities = { partials: true, spotting: false, alternatives };
    for (const [language, urls] of Object.entries(options.servers) as [Language, readonly string[]][]) {
      if (urls.length === 0) continue;
      for (const url of urls) {
        if (!/^wss?:\/\/./.test(url)) throw invalidArgument('servers', `${language}: '${url}' is not a ws:// or wss:// URL`);
      }
      this.sets.set(
        language,
        new ServerSet({
          urls,
          logger: options.logger.child({ language }),
          ...(options.healthIntervalMs === undefined ? {} : { healthIntervalMs: options.healthIntervalMs }),
          ...(options.connectTimeoutMs === undefined ? {} : { connectTimeoutMs: options.connectTimeoutMs }),
          onChange: (up) => options.metrics.asrRemoteServersUp.set({ language }, up),
        }),
      );
      options.metrics.asrRemoteServersUp.set({ language }, urls.length);
    }
    this.supportedLanguages = [...this.sets.keys()];
    if (this.supportedLanguages.length === 0) throw invalidArgument('servers', 'no speech server URL for any language');
  }

  async openStream(options: OpenStreamOptions): Promise<RecognitionStream> {
    if (this.closed) throw new GatewayError('SGW_SHUTTING_DOWN', 'speech service is closed');
    const servers = this.sets.get(options.language);
    if (servers === undefined) {
      throw new GatewayError('SGW_LANGUAGE_UNSUPPORTED', `no speech server for ${options.language} (configured: ${this.supportedLanguages.join(', ')})`);
    }
    const rate = options.inputSampleRate;
    if (!Number.isInteger(rate) || rate < 4000 || rate > 192000) throw invalidArgument('inputSampleRate', `must be an integer between 4000 and 192000, got ${rate}`);
    if ((options.mode ?? 'transcribe') !== 'transcribe') throw invalidArgument('mode', `${this.engine} cannot spot phrases; open with mode transcribe`);

    const streamId = this.nextStreamId++;
    const logger = (options.logger ?? this.options.logger).child({ asrStream: streamId });
    const session = new VoskServerSession({
      servers,
      sampleRate: rate,
      alternatives: this.capabilities.alternatives,
      logger,
      metrics: this.options.metrics,
      connectTimeoutMs: this.options.connectTimeoutMs ?? 3000,
      responseTimeoutMs: this.options.responseTimeoutMs ?? 5000,
      onProcessed: (seconds) => {
        this.audioSeconds += seconds;
        this.options.metrics.asrAudioSeconds.inc({ engine: this.engine }, seconds);
      },
      onFailover: () => this.failovers++,
    });
    const controller = SpeechStream.create({
      id: streamId,
      language: options.language,
      inputSampleRate: rate,
      metrics: this.options.metrics,
      logger,
      transport: {
        // The server resamples (config sample_rate): audio goes as written.
        sendAudio: (_id, pcm) => session.send(pcm),
        end: () => session.end(),
        close: () => {
          session.close();
          this.sessions.delete(streamId);
        },
      },
      ...(this.options.maxBufferedAudioMs === undefined ? {} : { maxBufferedAudioMs: this.options.maxBufferedAudioMs }),
      ...(this.options.maxQueuedResults === undefined ? {} : { maxQueuedResults: this.options.maxQueuedResults }),
    });
    this.sessions.set(streamId, { session, detach: () => controller.detach() });
    try {
      await session.open(controller);
    } catch (err) {
      this.sessions.delete(streamId);
      controller.detach();
      throw err;
    }
    return controller.stream;
  }

  usage(): SpeechServiceUsage {
    let up = 0;
    for (const set of this.sets.values()) up += set.upCount;
    return { openStreams: this.sessions.size, audioSeconds: this.audioSeconds, processingSeconds: this.audioSeconds, capacity: up * (this.options.streamsPerServer ?? 32) };
  }

  health(): SpeechServiceHealth {
    let instances = 0;
    let ready = 0;
    let anyLanguageDown = false;
    for (const set of this.sets.values()) {
      instances += set.size;
      ready += set.upCount;
      if (set.upCount === 0) anyLanguageDown = true;
    }
    const status = this.closed || ready === 0 ? 'down' : ready === instances && !anyLanguageDown ? 'ok' : 'degraded';
    return { status, instances, ready, restarts: this.failovers };
  }

  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.closed = true;
    for (const { session, detach } of this.sessions.values()) {
      session.close();
      detach();
    }
    this.sessions.clear();
    for (const set of this.sets.values()) set.close();
    return Promise.resolve();
  }
}
