import { CallAnalytics } from '../analytics/CallAnalytics.js';
import type { IntentMatcher } from '../analytics/intents/IntentMatcher.js';
import type { PiiType } from '../analytics/redaction/redact.js';
import type { CallRecordWriter } from '../analytics/summary/CallRecordWriter.js';
import type { RecognitionResult } from '../asr/types.js';
import type { AdmissionControl } from '../asr/AdmissionControl.js';
import type { AsrWorkerPool } from '../asr/pool/AsrWorkerPool.js';
import type { SpeechStream } from '../asr/SpeechStream.js';
import { createDecoder } from '../audio/codecs/index.js';
import { GatewayError } from '../errors.js';
import type { PortAllocator, PortLease } from '../ingest/rtp/PortAllocator.js';
import { RtpLegReceiver } from '../ingest/rtp/RtpLegReceiver.js';
import type { Language } from '../language.js';
import type { Logger } from '../logger.js';
import type { GatewayMetrics } from '../metrics.js';
import type { EventHub } from '../push/EventHub.js';
import type { CallEndReason, LegRole } from '../push/events.js';
import { Call } from './Call.js';
import { Leg } from './Leg.js';
import type { CallSnapshot, StartCallParams } from './types.js';

export interface CallManagerOptions {
  readonly ports: PortAllocator;
  readonly asr: AsrWorkerPool;
  /** Refuses media calls the recognisers have no capacity for. */
  readonly admission?: AdmissionControl;
  /** The intent matcher for new calls in a language (grammars may be reloaded in between). */
  readonly intentMatcher: (language: Language) => IntentMatcher;
  readonly redact: ReadonlySet<PiiType>;
  readonly records: CallRecordWriter;
  readonly hub: EventHub;
  readonly metrics: GatewayMetrics;
  readonly logger: Logger;
  readonly advertisedHost: string;
  readonly rtpTimeoutMs: number;
  readonly reorderDepth: number;
  /** Ended calls kept for GetCall; the oldest is forgotten first. */
  readonly endedCallsKept?: number;
}

/** Owns every call's lifecycle: start, lookup, end, and shutdown of all. */
export class CallManager {
  private readonly active = new Map<string, Call>();
  private readonly ended = new Map<string, CallSnapshot>();
  private readonly starting = new Set<string>();
  private closing = false;

  constructor(private readonly options: CallManagerOptions) {}

  async start(params: StartCallParams): Promise<CallSnapshot> {
    const { options } = this;
    if (this.closing) throw new GatewayError('SGW_SHUTTING_DOWN', 'gateway is shutting down');
    if (this.active.has(params.callId)) throw new GatewayError('SGW_CALL_EXISTS', `call ${params.callId} is already active`);
    if (!params.transcriptsOnly && !options.asr.supportedLanguages.includes(params.language)) {
      throw new GatewayError(
        'SGW_LANGUAGE_UNSUPPORTED',
        `language ${params.language} has no ASR model on this gateway (available: ${options.asr.supportedLanguages.join(', ') || 'none'})`,
      );
    }
    if (!params.transcriptsOnly) options.admission?.admit(params.legs.length);
    // Reserve the id before the awaits below so a concurrent duplicate is refused.
    if (this.starting.has(params.callId)) throw new GatewayError('SGW_CALL_EXISTS', `call ${params.callId} is already starting`);
    this.starting.add(params.callId);

    const logger = options.logger.child({ callId: params.callId });
    const startedAt = Date.now();
    const leases: PortLease[] = [];
    const streams: SpeechStream[] = [];
    const media = params.transcriptsOnly ? [] : params.legs;
    try {
      for (let i = 0; i < media.length; i++) leases.push(await options.ports.allocate());
      for (const leg of media) {
        streams.push(await options.asr.openStream({ language: params.language, inputSampleRate: leg.codec.clockRate, logger }));
      }
    } catch (err) {
      await Promise.all(leases.map((lease) => lease.release()));
      for (const stream of streams) stream.close();
      this.starting.delete(params.callId);
      throw err;
    }
    this.starting.delete(params.callId);

    const analytics = new CallAnalytics({
      callId: params.callId,
      agentId: params.agentId,
      queue: params.queue,
      language: params.language,
      startedAt,
      matcher: () => options.intentMatcher(params.language),
      redact: options.redact,
      hub: options.hub,
      metrics: options.metrics,
      logger,
    });
    const legs = media.map((legParams, i) => {
      const lease = leases[i] as PortLease;
      const legLogger = logger.child({ leg: legParams.role });
      const receiver = new RtpLegReceiver({
        leg: legParams.role,
        sockets: lease,
        decoder: createDecoder(legParams.codec),
        metrics: options.metrics,
        logger: legLogger,
        reorderDepth: options.reorderDepth,
      });
      return new Leg({
        role: legParams.role,
        codec: legParams.codec,
        advertisedHost: options.advertisedHost,
        lease,
        receiver,
        speech: streams[i] as SpeechStream,
        analytics,
        callStartedAt: startedAt,
        logger: legLogger,
      });
    });

    const call = new Call({
      callId: params.callId,
      agentId: params.agentId,
      queue: params.queue,
      language: params.language,
      startedAt,
      legs,
      transcriptRoles: params.legs.map((l) => l.role),
      analytics,
      records: options.records,
      inactivityTimeoutMs: options.rtpTimeoutMs,
      hub: options.hub,
      logger,
    });
    for (const leg of legs) {
      leg.once('bye', () => {
        logger.info({ leg: leg.role }, 'RTCP BYE received');
        void call.end('rtcp-bye');
      });
    }
    call.once('ended', (reason) => this.onEnded(call, reason));
    this.active.set(call.callId, call);
    options.metrics.activeCalls.set(this.active.size);
    options.metrics.callsStarted.inc({ language: params.language });

    const snapshot = call.snapshot;
    options.hub.publish({
      type: 'call.started',
      callId: call.callId,
      agentId: params.agentId,
      queue: params.queue,
      language: params.language,
      transcriptsOnly: params.transcriptsOnly,
      legs: params.transcriptsOnly
        ? params.legs.map((leg) => ({ role: leg.role, codec: 'none', clockRate: 0, host: '', rtpPort: 0 }))
        : snapshot.legs.map((leg) => ({ role: leg.role, codec: leg.codec.name, clockRate: leg.codec.clockRate, host: leg.host, rtpPort: leg.rtpPort })),
    });
    logger.info(
      { agentId: params.agentId, queue: params.queue, language: params.language, transcriptsOnly: params.transcriptsOnly, ports: snapshot.legs.map((l) => l.rtpPort) },
      'call started',
    );
    return snapshot;
  }

  private onEnded(call: Call, reason: CallEndReason): void {
    this.active.delete(call.callId);
    this.ended.set(call.callId, call.snapshot);
    const keep = this.options.endedCallsKept ?? 1000;
    for (const id of this.ended.keys()) {
      if (this.ended.size <= keep) break;
      this.ended.delete(id);
    }
    this.options.metrics.activeCalls.set(this.active.size);
    this.options.metrics.callsEnded.inc({ reason });
  }

  async end(callId: string, reason: CallEndReason): Promise<CallSnapshot> {
    const call = this.active.get(callId);
    if (call === undefined) {
      if (this.ended.has(callId)) return this.ended.get(callId) as CallSnapshot;
      throw new GatewayError('SGW_CALL_NOT_FOUND', `call ${callId} not found`);
    }
    await call.end(reason);
    return call.snapshot;
  }

  /**
   * Feeds a client-side transcript into a transcripts-only call.
   * @throws GatewayError NOT_FOUND, or FAILED_PRECONDITION for a call with media.
   */
  pushTranscript(callId: string, role: LegRole, result: RecognitionResult): void {
    const call = this.active.get(callId);
    if (call === undefined) throw new GatewayError('SGW_CALL_NOT_FOUND', `call ${callId} not found`);
    call.pushTranscript(role, result);
  }

  get(callId: string): CallSnapshot {
    const snapshot = this.active.get(callId)?.snapshot ?? this.ended.get(callId);
    if (snapshot === undefined) throw new GatewayError('SGW_CALL_NOT_FOUND', `call ${callId} not found`);
    return snapshot;
  }

  /** Active calls. */
  list(): CallSnapshot[] {
    return [...this.active.values()].map((call) => call.snapshot);
  }

  /** Ends every call with reason `shutdown`; idempotent. */
  async close(): Promise<void> {
    this.closing = true;
    await Promise.all([...this.active.values()].map((call) => call.end('shutdown')));
  }
}
