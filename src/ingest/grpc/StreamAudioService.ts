import * as grpc from '@grpc/grpc-js';
import { bearerToken, type AccessControl } from '../../auth/AccessControl.js';
import { principalCredential, type Credential } from '../../auth/credential.js';
import { canControlCalls } from '../../auth/scope.js';
import { createDecoder, type AudioDecoder } from '../../audio/codecs/index.js';
import type { CallManager } from '../../calls/CallManager.js';
import type { StreamedLegMedia } from '../../calls/media/StreamedLegMedia.js';
import { GatewayError, errorMessage, invalidArgument } from '../../errors.js';
import type { Logger } from '../../logger.js';
import { peerAddress, type LogLimiter } from '../../LogLimiter.js';
import type { GatewayMetrics } from '../../metrics.js';
import type { EventFeed } from '../../calls/EventBus.js';
import type { GatewayEvent, LegRole } from '../../events.js';
import { toCallEvent } from './callEvent.js';
import type { AudioChunk__Output } from './generated/speechgateway/v1/AudioChunk.js';
import type { LegRole__Output } from './generated/speechgateway/v1/LegRole.js';
import type { StreamAudioRequest__Output } from './generated/speechgateway/v1/StreamAudioRequest.js';
import type { StreamAudioResponse } from './generated/speechgateway/v1/StreamAudioResponse.js';
import type { StreamAudioStart__Output } from './generated/speechgateway/v1/StreamAudioStart.js';
import { parseStartCallRequest } from './startCallRequest.js';

/** Largest audio chunk accepted (as received, after gRPC's own limit on the declared message length). */
export const MAX_CHUNK_BYTES = 64 * 1024;
/** Events queued for a client that does not read; beyond it the newest are dropped and counted. */
export const MAX_QUEUED_EVENTS = 1000;
/** Silence filled for a sequence gap, at most (a larger jump is counted, not filled). */
const MAX_GAP_FILL_MS = 1000;

const ROLES: Readonly<Record<string, LegRole>> = { LEG_ROLE_CUSTOMER: 'customer', LEG_ROLE_AGENT: 'agent' };
const DTMF = /^[0-9*#A-D]$/;
/** Codecs whose payload type is dynamic: StreamAudio has no RTP, so any dynamic one will do. */
const DYNAMIC_CODECS = new Set(['CODEC_L16', 'CODEC_OPUS']);

type Call = grpc.ServerDuplexStream<StreamAudioRequest__Output, StreamAudioResponse>;

interface StreamLeg {
  readonly media: StreamedLegMedia;
  readonly decoder: AudioDecoder;
  lastSequence: number;
  lastSamples: number;
}

export interface StreamAudioDeps {
  readonly calls: CallManager;
  readonly hub: EventFeed;
  readonly metrics: GatewayMetrics;
  readonly logger: Logger;
  readonly access: AccessControl;
  /** Refused streams are logged once per client address and error code a window. */
  readonly logLimiter: LogLimiter;
}

/**
 * `CallControl.StreamAudio`: a call's audio over one bidirectional gRPC
 * stream instead of RTP, and the call's events back on the same stream.
 */
export function createStreamAudioHandler(deps: StreamAudioDeps): grpc.handleBidiStreamingCall<StreamAudioRequest__Output, StreamAudioResponse> {
  return (call) => new StreamAudioSession(call, deps).run();
}

/**
 * One StreamAudio stream. Requests: a `start` first (as StartCall, without
 * RTP), then `audio` chunks per leg in the leg's codec, `dtmf`, `pause` /
 * `resume`, and `end` (or a half-close). Responses: `started`, then every
 * event of the call (the same as /v1/events; the stream's owner started the
 * call, so it gets all of them whatever its role), ending with OK after
 * `call.summary`.
 *
 * Bad input ends the stream with a status naming the field, and the call
 * ends as a closed stream: what was already transcribed is kept. Incoming
 * messages are paused while the token is checked and the call starts (gRPC
 * flow control holds the client back); outgoing events are queued up to
 * {@link MAX_QUEUED_EVENTS} while the client does not read, then the newest
 * are dropped and counted.
 */
class StreamAudioSession {
  private state: 'auth' | 'awaiting-start' | 'starting' | 'streaming' | 'ending' | 'done' = 'auth';
  private callId: string | undefined;
  /** Who the call counts against (MAX_CALLS_PER_CREDENTIAL), once the token is checked. */
  private credential: Credential | undefined;
  private legs = new Map<LegRole, StreamLeg>();
  private unsubscribe: (() => void) | undefined;
  /** Events of the call published while it was starting: sent after `started`, or dropped if the start fails. */
  private early: GatewayEvent[] | undefined;
  private readonly outbox: StreamAudioResponse[] = [];
  private writable = true;
  private summarySeen = false;
  private logger: Logger;

  constructor(
    private readonly call: Call,
    private readonly deps: StreamAudioDeps,
  ) {
    this.logger = deps.logger.child({ method: 'StreamAudio', peer: call.getPeer() });
  }

  run(): void {
    const { call, deps } = this;
    call.pause();
    call.on('data', (message: StreamAudioRequest__Output) => this.onMessage(message));
    call.on('end', () => this.onHalfClose());
    call.on('cancelled', () => this.abandon('cancelled'));
    // A stream error (e.g. a message gRPC could not decode) reaches us here after gRPC sent its status.
    call.on('error', (err) => this.abandon(errorMessage(err)));
    call.on('drain', () => this.flush());
    const authorization = call.metadata.get('authorization')[0];
    deps.access.authenticate(bearerToken(typeof authorization === 'string' ? authorization : undefined), 'grpc').then(
      (principal) => {
        if (this.state !== 'auth') return;
        if (!canControlCalls(principal)) return this.fail(deps.access.forbidden('grpc', `StreamAudio needs role admin or pbx, not ${principal.role}`), 'forbidden');
        this.credential = principalCredential(principal);
        this.state = 'awaiting-start';
        call.resume();
      },
      (err: unknown) => this.fail(err, 'unauthenticated'),
    );
  }

  private onMessage(message: StreamAudioRequest__Output): void {
    if (this.state === 'done' || this.state === 'ending') return;
    const kind = message.message ?? 'empty';
    this.deps.metrics.streamAudioMessages.inc({ kind });
    try {
      if (this.state === 'awaiting-start') {
        if (message.start == null) throw invalidArgument('start', `the first message must be a start, got ${kind}`);
        return this.start(message.start);
      }
      switch (message.message) {
        case 'start':
          throw invalidArgument('start', 'only the first message may be a start');
        case 'audio':
          return this.audio(message.audio as AudioChunk__Output);
        case 'dtmf': {
          const press = message.dtmf;
          const leg = this.leg(press?.role ?? 'LEG_ROLE_UNSPECIFIED', 'dtmf.role');
          const digit = (press?.digit ?? '').toUpperCase();
          if (!DTMF.test(digit)) throw invalidArgument('dtmf.digit', 'must be one of 0-9 * # A-D');
          leg.media.dtmf(digit, press?.duration_ms === 0 ? undefined : press?.duration_ms);
          return;
        }
        case 'pause': {
          const role = this.optionalRole(message.pause?.role ?? 'LEG_ROLE_UNSPECIFIED', 'pause.role');
          this.deps.calls.suspend(this.callId as string, message.pause?.secure === true ? 'secure-pause' : 'paused', role);
          return;
        }
        case 'resume':
          this.deps.calls.resume(this.callId as string, this.optionalRole(message.resume?.role ?? 'LEG_ROLE_UNSPECIFIED', 'resume.role'));
          return;
        case 'end':
          return this.hangUp();
        default:
          throw invalidArgument('message', 'is empty: set one of start, audio, dtmf, pause, resume, end');
      }
    } catch (err) {
      this.fail(err, err instanceof GatewayError ? reasonOf(err) : 'internal');
    }
  }

  private start(start: StreamAudioStart__Output): void {
    const { deps, call } = this;
    let params;
    try {
      params = parseStartCallRequest({
        call_id: start.call_id,
        agent_id: start.agent_id,
        queue: start.queue,
        language: start.language,
        transcripts_only: false,
        legs: start.legs.map((leg) => ({ ...leg, payload_type: leg.payload_type === 0 && DYNAMIC_CODECS.has(leg.codec) ? 96 : leg.payload_type })),
      });
    } catch (err) {
      if (err instanceof GatewayError && err.code === 'SGW_INVALID_ARGUMENT') throw new GatewayError('SGW_INVALID_ARGUMENT', `start.${err.message}`);
      throw err;
    }
    const callId = params.callId;
    this.callId = callId;
    this.logger = this.logger.child({ callId });
    this.state = 'starting';
    call.pause();
    this.early = [];
    this.unsubscribe = deps.hub.subscribe((event) => {
      if (event.callId === callId) this.onEvent(event);
    }, 'stream-audio');
    deps.calls.startStreamed(params, 'stream-audio', call.getPeer(), this.credential as Credential).then(
      ({ media }) => {
        const legs = new Map<LegRole, StreamLeg>();
        for (const leg of params.legs) {
          const legMedia = media.get(leg.role);
          if (legMedia !== undefined) legs.set(leg.role, { media: legMedia, decoder: createDecoder(leg.codec), lastSequence: 0, lastSamples: 0 });
        }
        this.legs = legs;
        if (this.state !== 'starting') {
          // The client went away while the call started.
          this.hangUpLegs();
          return;
        }
        this.state = 'streaming';
        deps.metrics.grpcRequests.inc({ method: 'StreamAudio', code: 'OK' });
        this.logger.info({ legs: params.legs.map((l) => `${l.role}:${l.codec.name}/${l.codec.clockRate}`) }, 'StreamAudio call started');
        this.send({ started: { call_id: callId } });
        const early = this.early ?? [];
        this.early = undefined;
        for (const event of early) this.onEvent(event);
        call.resume();
      },
      (err: unknown) => {
        // Events buffered so far belong to another call with this id (ALREADY_EXISTS), or to none.
        this.early = undefined;
        this.unsubscribe?.();
        this.unsubscribe = undefined;
        this.fail(err, err instanceof GatewayError ? reasonOf(err) : 'internal');
      },
    );
  }

  private audio(chunk: AudioChunk__Output): void {
    const leg = this.leg(chunk.role, 'audio.role');
    const { payload } = chunk;
    if (payload.length > MAX_CHUNK_BYTES) throw new GatewayError('SGW_PAYLOAD_TOO_LARGE', `audio.payload: ${payload.length} bytes, at most ${MAX_CHUNK_BYTES} per chunk`);
    const sequence = chunk.sequence;
    if (sequence !== 0) {
      if (sequence <= leg.lastSequence) {
        // Late or duplicate: the audio after it was already heard.
        this.deps.metrics.streamAudioErrors.inc({ reason: 'sequence_late' });
        return;
      }
      const missing = leg.lastSequence === 0 ? 0 : sequence - leg.lastSequence - 1;
      leg.lastSequence = sequence;
      if (missing > 0) this.fillGap(leg, missing);
    }
    let pcm: Int16Array;
    try {
      pcm = leg.decoder.decode(payload);
    } catch (err) {
      throw invalidArgument('audio.payload', `not ${leg.decoder.spec.name} audio: ${errorMessage(err)}`);
    }
    leg.lastSamples = pcm.length;
    leg.media.write(pcm, leg.decoder.sampleRate);
  }

  /** Silence for chunks the client says it never sent, so that call times stay right (at most 1 s). */
  private fillGap(leg: StreamLeg, missing: number): void {
    this.deps.metrics.streamAudioErrors.inc({ reason: 'sequence_gap' });
    const rate = leg.decoder.sampleRate;
    const samples = Math.min(missing * leg.lastSamples, (rate * MAX_GAP_FILL_MS) / 1000);
    if (samples > 0) leg.media.write(new Int16Array(samples), rate, true);
  }

  private leg(role: LegRole__Output, field: string): StreamLeg {
    const name = ROLES[role];
    if (name === undefined) throw invalidArgument(field, 'must be LEG_ROLE_CUSTOMER or LEG_ROLE_AGENT');
    const leg = this.legs.get(name);
    if (leg === undefined) throw invalidArgument(field, `the call has no ${name} leg`);
    return leg;
  }

  private optionalRole(role: LegRole__Output, field: string): LegRole | undefined {
    if (role === 'LEG_ROLE_UNSPECIFIED') return undefined;
    const name = ROLES[role];
    if (name === undefined || !this.legs.has(name)) throw invalidArgument(field, 'must be a leg of the call, or LEG_ROLE_UNSPECIFIED for every leg');
    return name;
  }

  private onEvent(event: GatewayEvent): void {
    if (this.early !== undefined) {
      if (this.early.length < MAX_QUEUED_EVENTS) this.early.push(event);
      return;
    }
    this.send({ event: toCallEvent(event) });
    if (event.type === 'call.summary') this.finish();
  }

  private send(response: StreamAudioResponse): void {
    if (this.state === 'done') return;
    if (this.writable && this.outbox.length === 0) {
      this.writable = this.call.write(response);
      return;
    }
    if (this.outbox.length >= MAX_QUEUED_EVENTS) {
      this.deps.metrics.streamAudioEventsDropped.inc();
      return;
    }
    this.outbox.push(response);
  }

  private flush(): void {
    this.writable = true;
    while (this.writable && this.outbox.length > 0) this.writable = this.call.write(this.outbox.shift() as StreamAudioResponse);
    if (this.state === 'ending' && this.outbox.length === 0 && this.summarySeen) this.close();
  }

  /** The call is over and its summary queued: finish with OK once the queue is written. */
  private finish(): void {
    this.summarySeen = true;
    this.state = 'ending';
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    if (this.outbox.length === 0) this.close();
  }

  private close(): void {
    if (this.state === 'done') return;
    this.state = 'done';
    this.closeDecoders();
    this.call.end();
  }

  /** The client said the call is over (end message or half-close): end it, then wait for the summary. */
  private hangUp(): void {
    if (this.state !== 'streaming') return;
    this.state = 'ending';
    this.hangUpLegs();
  }

  private onHalfClose(): void {
    if (this.state === 'streaming') return this.hangUp();
    if (this.state === 'awaiting-start') this.fail(invalidArgument('start', 'the stream ended before a start'), 'no_start');
  }

  private hangUpLegs(): void {
    // One leg's end ends the call (reason stream-closed).
    for (const leg of this.legs.values()) leg.media.hangUp();
  }

  /** The client is gone: end its call; nothing more can be sent. */
  private abandon(why: string): void {
    if (this.state === 'done') return;
    const hadCall = this.state === 'streaming' || this.state === 'ending';
    this.state = 'done';
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    if (hadCall) {
      this.logger.info({ why }, 'StreamAudio client went away; ending its call');
      this.hangUpLegs();
    }
    this.closeDecoders();
  }

  private closeDecoders(): void {
    for (const leg of this.legs.values()) leg.decoder.close?.();
  }

  /** Ends the stream with the error's status (the call, if any, ends as a closed stream), logged and counted. */
  private fail(err: unknown, reason: string): void {
    if (this.state === 'done') return;
    const hadCall = this.state === 'streaming' || this.state === 'ending';
    const code = err instanceof GatewayError ? err.grpcStatus : grpc.status.INTERNAL;
    const message = err instanceof GatewayError ? err.message : 'internal error';
    if (err instanceof GatewayError) this.deps.logLimiter.log(this.logger, 'info', `grpc-refused:${err.code}`, peerAddress(this.call.getPeer()), { code: err.code, detail: err.message }, 'StreamAudio refused');
    else this.logger.error({ err }, 'StreamAudio failed');
    this.deps.metrics.streamAudioErrors.inc({ reason });
    this.deps.metrics.grpcRequests.inc({ method: 'StreamAudio', code: grpc.status[code] ?? String(code) });
    this.state = 'done';
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    if (hadCall) this.hangUpLegs();
    this.closeDecoders();
    const metadata = new grpc.Metadata();
    this.call.emit('error', { code, details: message, message, name: 'GatewayError', metadata } satisfies grpc.ServiceError);
  }
}

/** Metric reason of a refusal. */
function reasonOf(err: GatewayError): string {
  switch (err.code) {
    case 'SGW_INVALID_ARGUMENT':
      return 'invalid_argument';
    case 'SGW_PAYLOAD_TOO_LARGE':
      return 'oversize';
    case 'SGW_ASR_OVERLOADED':
      return 'overloaded';
    case 'SGW_CALL_EXISTS':
      return 'call_exists';
    case 'SGW_CALL_NOT_FOUND':
      return 'call_not_found';
    default:
      return err.code.toLowerCase().replace(/^sgw_/, '');
  }
}
