import { CallAnalytics } from '../analytics/CallAnalytics.js';
import type { IntentMatcher } from '../analytics/intents/IntentMatcher.js';
import type { SpotPhrase } from '../analytics/grammar/spotPhrases.js';
import type { PiiType } from '../analytics/redaction/redact.js';
import type { CallRecordWriter } from '../analytics/summary/CallRecordWriter.js';
import type { RecognitionMode, RecognitionResult } from '../asr/types.js';
import type { AdmissionControl } from '../asr/AdmissionControl.js';
import type { Credential } from '../auth/credential.js';
import type { RecognitionStream, SpeechService } from '../asr/SpeechService.js';
import { createDecoder, pcmSampleRate } from '../audio/codecs/index.js';
import { GatewayError } from '../errors.js';
import type { PortAllocator, PortLease } from '../ingest/rtp/PortAllocator.js';
import { RtpLegReceiver } from '../ingest/rtp/RtpLegReceiver.js';
import type { RtpSourcePolicy } from '../ingest/rtp/SourceLatch.js';
import type { Language } from '../language.js';
import type { Logger } from '../logger.js';
import type { LogLimiter } from '../LogLimiter.js';
import type { GatewayMetrics } from '../metrics.js';
import type { CallEndReason, LegRole, PauseReason, SiprecIdentifiers } from '../events.js';
import { Call } from './Call.js';
import type { EventPublisher } from './EventBus.js';
import { Leg } from './Leg.js';
import { SecurePausePolicy, type SecurePauseSequences } from './SecurePausePolicy.js';
import type { LegMedia } from './media/LegMedia.js';
import { RtpLegMedia } from './media/RtpLegMedia.js';
import { StreamedLegMedia } from './media/StreamedLegMedia.js';
import type { CallSnapshot, IngestProtocol, StartCallParams, StreamedProtocol } from './types.js';

const TRANSPORT_OF: Readonly<Record<StreamedProtocol, 'websocket' | 'tcp' | 'grpc'>> = { 'stream-audio': 'grpc', audiohook: 'websocket', twilio: 'websocket', 'audio-fork': 'websocket', audiosocket: 'tcp' };

export interface CallManagerOptions {
  readonly ports: PortAllocator;
  /** Undefined with `ASR=none`: legs are received and metered but not recognised; transcripts are pushed. */
  readonly asr: SpeechService | undefined;
  /** Refuses media calls the recognisers have no capacity for. */
  readonly admission?: AdmissionControl;
  /** The intent matcher for new calls in a language (grammars may be reloaded in between). */
  readonly intentMatcher: (language: Language) => IntentMatcher;
  /** Recognition per leg; default `transcribe`. */
  readonly recognitionMode?: RecognitionMode;
  /**
   * Phrases for the legs' spotters, when the mode spots (current grammars):
   * those of the intents the leg's speaker may raise, or with no speaker those of every intent.
   */
  readonly spotPhrases?: (language: Language, speaker?: LegRole) => readonly SpotPhrase[];
  /**
   * Whether the current grammars give `speaker` any intent. An agent leg whose speaker
   * raises none is opened record-only (`OpenStreamOptions.recordOnly`: a cheaper search).
   * Absent: every leg is searched in full.
   */
  readonly raisesIntents?: (language: Language, speaker: LegRole) => boolean;
  readonly redact: ReadonlySet<PiiType>;
  /** The JSON-lines export of post-call records; undefined with CALL_RECORDS_JSONL=off (the database store follows the events). */
  readonly records: CallRecordWriter | undefined;
  readonly hub: EventPublisher;
  readonly metrics: GatewayMetrics;
  readonly logger: Logger;
  /** For lines a call's remote party can repeat (a new RTP SSRC per packet). */
  readonly logLimiter: LogLimiter;
  readonly advertisedHost: string;
  readonly rtpTimeoutMs: number;
  readonly reorderDepth: number;
  /** Who may take an RTP leg (default `relatch`), see SourceLatch. */
  readonly rtpSourcePolicy?: RtpSourcePolicy;
  /** Ended calls kept for GetCall; the oldest is forgotten first. */
  readonly endedCallsKept?: number;
  /** DTMF sequences that start/stop a secure pause (SecurePausePolicy); undefined: off. */
  readonly securePause?: SecurePauseSequences;
  /** Calls one credential may have active or starting at once (MAX_CALLS_PER_CREDENTIAL); undefined: no cap. */
  readonly maxCallsPerCredential?: number;
  /** Throws (a GatewayError) to refuse every new call, whatever its protocol, before anything is allocated: the drain. */
  readonly admit?: (protocol: IngestProtocol) => void;
}

/** Owns every call's lifecycle: start, lookup, end, and shutdown of all. */
export class CallManager {
  private readonly active = new Map<string, Call>();
  private readonly ended = new Map<string, CallSnapshot>();
  private readonly starting = new Set<string>();
  /** Calls active or starting per credential; an entry lives while its count is above 0. */
  private readonly perCredential = new Map<Credential, number>();
  private closing = false;
  /** Resolved once no call is active or starting (the drain waits on them). */
  private idleWaiters: (() => void)[] = [];

  constructor(private readonly options: CallManagerOptions) {}

  /**
   * How a new leg's stream is recognised: mode and phrases (`searchMode`), and record-only for
   * an agent leg when the grammars give the agent no intent (the shipped ones).
   */
  private recognition(asr: SpeechService, language: Language, role: LegRole): { mode: RecognitionMode; spotPhrases?: readonly string[]; recordOnly?: true } {
    // The agent's transcript is for the record, QA and the screens when no intent can come of it.
    const recordOnly = role === 'agent' && this.options.raisesIntents?.(language, role) === false ? { recordOnly: true as const } : {};
    return { ...this.searchMode(asr, language, role), ...recordOnly };
  }

  /**
   * Mode and phrases for a new leg's stream; a language without phrases, or a
   * service that cannot spot, falls back to the transcript alone. A leg whose
   * speaker raises no intent with phrases (the agent, with the shipped
   * grammars) gets no spotter beside its transcript: its hits could never
   * become intents.
   */
  private searchMode(asr: SpeechService, language: Language, role: LegRole): { mode: RecognitionMode; spotPhrases?: readonly string[] } {
    const mode = this.options.recognitionMode ?? 'transcribe';
    if (mode === 'transcribe') return { mode };
    if (!asr.capabilities.spotting) {
      if (mode === 'spot') throw new GatewayError('SGW_ASR_UNAVAILABLE', `ASR engine ${asr.engine} cannot spot phrases, and ASR_MODE=spot has no transcript to fall back on`);
      return { mode: 'transcribe' };
    }
    const own = (this.options.spotPhrases?.(language, role) ?? []).map((p) => p.text);
    if (own.length === 0 && mode === 'transcribe+spot') return { mode: 'transcribe' };
    // Spotting alone has no transcript to fall back on: such a leg spots every phrase, as before.
    const phrases = own.length > 0 ? own : (this.options.spotPhrases?.(language) ?? []).map((p) => p.text);
    if (phrases.length === 0) {
      if (mode === 'spot') throw new GatewayError('SGW_LANGUAGE_UNSUPPORTED', `no spot phrases for ${language} in the grammars, and ASR_MODE=spot has no transcript to fall back on`);
      return { mode: 'transcribe' };
    }
    return { mode, spotPhrases: phrases };
  }

  /** Starts an RTP call (ports per leg) or a transcripts-only one, counted against `credential`. */
  async start(params: StartCallParams, credential: Credential, protocol: 'start-call' | 'transcripts' | 'siprec' = 'start-call'): Promise<CallSnapshot> {
    return (await this.launch(params, credential, undefined, protocol)).snapshot;
  }

  /**
   * Whether a new call of `protocol` may come in now; for a protocol that
   * takes its connection before it knows the call (AudioHook, Twilio), so it
   * can refuse the connection itself. `start` and `startStreamed` check it too.
   * @throws GatewayError SGW_DRAINING or SGW_SHUTTING_DOWN
   */
  admit(protocol: IngestProtocol): void {
    if (this.closing) throw new GatewayError('SGW_SHUTTING_DOWN', 'gateway is shutting down');
    this.options.admit?.(protocol);
  }

  /**
   * Starts a call whose audio an ingest protocol pushes (AudioHook, Twilio,
   * AudioSocket, gRPC StreamAudio): no ports; each leg's media is returned to
   * be written to. The call ends like any other (`end`, the inactivity
   * watchdog, a leg's `hangUp()`, shutdown).
   */
  async startStreamed(
    params: Omit<StartCallParams, 'transcriptsOnly'>,
    protocol: StreamedProtocol,
    remote: string | undefined,
    credential: Credential,
  ): Promise<{ snapshot: CallSnapshot; media: ReadonlyMap<LegRole, StreamedLegMedia> }> {
    const media = new Map<LegRole, StreamedLegMedia>();
    const snapshot = (
      await this.launch(
        { ...params, transcriptsOnly: false },
        credential,
        (role) => {
          const leg = new StreamedLegMedia(TRANSPORT_OF[protocol], remote);
          media.set(role, leg);
          return leg;
        },
        protocol,
      )
    ).snapshot;
    return { snapshot, media };
  }

  /**
   * Suspends recognition on a call's legs (one role, or both): secure pause
   * for card entry, or a protocol's pause. See `Leg.suspend`.
   * @throws GatewayError NOT_FOUND
   */
  suspend(callId: string, reason: PauseReason, role?: LegRole): CallSnapshot {
    const call = this.activeCall(callId);
    call.suspend(reason, role);
    return call.snapshot;
  }

  /** Ends a suspension and marks its gap. @throws GatewayError NOT_FOUND */
  resume(callId: string, role?: LegRole): CallSnapshot {
    const call = this.activeCall(callId);
    call.resume(role);
    return call.snapshot;
  }

  private activeCall(callId: string): Call {
    const call = this.active.get(callId);
    if (call === undefined) throw new GatewayError('SGW_CALL_NOT_FOUND', `call ${callId} is not active`);
    return call;
  }

  private async launch(
    params: StartCallParams,
    credential: Credential,
    streamed: ((role: LegRole) => StreamedLegMedia) | undefined,
    protocol: IngestProtocol,
  ): Promise<{ snapshot: CallSnapshot }> {
    const { options } = this;
    this.admit(protocol);
    if (this.active.has(params.callId)) throw new GatewayError('SGW_CALL_EXISTS', `call ${params.callId} is already active`);
    const asr = params.transcriptsOnly ? undefined : options.asr;
    if (asr !== undefined && !asr.supportedLanguages.includes(params.language)) {
      options.metrics.countLanguageRefusal(params.language);
      throw new GatewayError(
        'SGW_LANGUAGE_UNSUPPORTED',
        `language ${params.language} has no ASR model on this gateway (available: ${asr.supportedLanguages.join(', ') || 'none'})`,
      );
    }
    if (asr !== undefined) options.admission?.admit(params.legs.length);
    // Reserve the id before the awaits below so a concurrent duplicate is refused.
    if (this.starting.has(params.callId)) throw new GatewayError('SGW_CALL_EXISTS', `call ${params.callId} is already starting`);
    this.holdCredential(credential);
    this.starting.add(params.callId);

    const logger = options.logger.child({ callId: params.callId });
    const startedAt = Date.now();
    const leases: PortLease[] = [];
    const streams: RecognitionStream[] = [];
    const media = params.transcriptsOnly ? [] : params.legs;
    try {
      if (streamed === undefined) for (let i = 0; i < media.length; i++) leases.push(await options.ports.allocate());
      if (asr !== undefined) {
        for (const leg of media) {
          streams.push(await asr.openStream({ language: params.language, inputSampleRate: pcmSampleRate(leg.codec), logger, ...this.recognition(asr, params.language, leg.role) }));
        }
      }
      // close() ended the calls it knew while this one was starting: it must not outlive the shutdown.
      if (this.closing) throw new GatewayError('SGW_SHUTTING_DOWN', 'gateway is shutting down');
    } catch (err) {
      await Promise.all(leases.map((lease) => lease.release()));
      for (const stream of streams) stream.close();
      this.starting.delete(params.callId);
      this.releaseCredential(credential);
      this.notifyIfIdle();
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
      // Spotting alone has no transcript to wait for.
      spotsWaitForTranscript: options.recognitionMode !== 'spot',
      redact: options.redact,
      hub: options.hub,
      metrics: options.metrics,
      logger,
    });
    const legs = media.map((legParams, i) => {
      const legLogger = logger.child({ leg: legParams.role });
      let legMedia: LegMedia;
      if (streamed !== undefined) {
        legMedia = streamed(legParams.role);
      } else {
        const lease = leases[i] as PortLease;
        const receiver = new RtpLegReceiver({
          leg: legParams.role,
          sockets: lease,
          decoder: createDecoder(legParams.codec),
          metrics: options.metrics,
          logger: legLogger,
          logLimiter: options.logLimiter,
          reorderDepth: options.reorderDepth,
          sourcePolicy: options.rtpSourcePolicy,
          expectedSource: legParams.expectedSource,
        });
        legMedia = new RtpLegMedia(receiver, lease, options.advertisedHost);
      }
      return new Leg({
        role: legParams.role,
        codec: legParams.codec,
        media: legMedia,
        speech: streams[i],
        analytics,
        callStartedAt: startedAt,
        metrics: options.metrics,
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
      ...(params.siprec === undefined ? {} : { siprec: params.siprec }),
      inactivityTimeoutMs: options.rtpTimeoutMs,
      hub: options.hub,
      logger,
    });
    for (const leg of legs) {
      leg.once('bye', () => {
        logger.info({ leg: leg.role, transport: streamed === undefined ? 'rtp' : 'stream' }, streamed === undefined ? 'RTCP BYE received' : 'stream closed by the client');
        void call.end(streamed === undefined ? 'rtcp-bye' : 'stream-closed');
      });
    }
    if (options.securePause !== undefined) {
      const policy = new SecurePausePolicy(
        options.securePause,
        { suspend: () => call.suspend('secure-pause'), resume: () => call.resume(), isSecurePaused: () => call.snapshot.legs.some((l) => l.paused === 'secure-pause') },
        logger,
      );
      // The leg's presses within its bound, after their event: the key that stops a pause is still reported masked.
      for (const leg of legs) leg.on('dtmf', (press) => policy.onDigit(press.digit, leg.role));
    }
    call.once('ended', (reason) => {
      this.releaseCredential(credential);
      options.metrics.activeLegs.dec(legs.length);
      this.onEnded(call, reason);
    });
    this.active.set(call.callId, call);
    options.metrics.activeCalls.set(this.active.size);
    options.metrics.activeLegs.inc(legs.length);
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
      ...(params.siprec === undefined ? {} : { siprec: params.siprec }),
    });
    logger.info(
      { agentId: params.agentId, queue: params.queue, language: params.language, transcriptsOnly: params.transcriptsOnly, ports: snapshot.legs.map((l) => l.rtpPort) },
      'call started',
    );
    return { snapshot };
  }

  /**
   * Counts a starting call against its credential, or refuses it when the
   * credential is at MAX_CALLS_PER_CREDENTIAL: one token or key cannot take
   * every call slot of the gateway (20 000 transcripts-only calls in seconds).
   * @throws GatewayError SGW_CALL_LIMIT (RESOURCE_EXHAUSTED), counted.
   */
  private holdCredential(credential: Credential): void {
    const held = this.perCredential.get(credential) ?? 0;
    const max = this.options.maxCallsPerCredential;
    if (max !== undefined && held >= max) {
      this.options.metrics.callsOverCredentialLimit.inc();
      throw new GatewayError('SGW_CALL_LIMIT', `too many calls: credential ${credential} has ${held} active, the limit set by MAX_CALLS_PER_CREDENTIAL`);
    }
    this.perCredential.set(credential, held + 1);
  }

  private releaseCredential(credential: Credential): void {
    const held = (this.perCredential.get(credential) ?? 0) - 1;
    if (held > 0) this.perCredential.set(credential, held);
    else this.perCredential.delete(credential);
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
    this.notifyIfIdle();
  }

  /** Calls active or starting. */
  get count(): number {
    return this.active.size + this.starting.size;
  }

  /** Resolves once no call is active or starting (at once when none is). */
  whenIdle(): Promise<void> {
    if (this.count === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private notifyIfIdle(): void {
    if (this.count > 0) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const resolve of waiters) resolve();
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

  /** A SIPREC metadata update: the identifiers the call's record will carry. @throws GatewayError SGW_CALL_NOT_FOUND */
  updateSiprec(callId: string, siprec: SiprecIdentifiers): void {
    this.activeCall(callId).updateSiprec(siprec);
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

  /**
   * An active or recently ended call, if `visible` (default: any) allows it.
   * A call out of the asker's scope is answered exactly as an unknown one,
   * so call ids cannot be probed.
   * @throws GatewayError SGW_CALL_NOT_FOUND
   */
  get(callId: string, visible: (call: CallSnapshot) => boolean = () => true): CallSnapshot {
    const snapshot = this.active.get(callId)?.snapshot ?? this.ended.get(callId);
    if (snapshot === undefined || !visible(snapshot)) throw new GatewayError('SGW_CALL_NOT_FOUND', `call ${callId.slice(0, 128)} not found`);
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
