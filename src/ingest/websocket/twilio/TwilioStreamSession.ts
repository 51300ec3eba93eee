import { WebSocket, type RawData } from 'ws';
import { decodeUlaw } from '../../../audio/codecs/index.js';
import type { Credential } from '../../../auth/credential.js';
import type { CallManager } from '../../../calls/CallManager.js';
import type { StreamedLegMedia } from '../../../calls/media/StreamedLegMedia.js';
import { GatewayError, errorMessage, isTryAgainLater } from '../../../errors.js';
import { requestedLanguage, type Language } from '../../../language.js';
import type { Logger } from '../../../logger.js';
import type { LogLimiter } from '../../../LogLimiter.js';
import type { GatewayMetrics } from '../../../metrics.js';
import type { LegRole } from '../../../events.js';
import { TwilioCloseCodes, TwilioProtocolError, parseTwilioMessage, type StartMessage, type TwilioMessage, type TwilioTrack } from './protocol.js';
import { closeReason } from '../../../websocketCloseReason.js';

/** Messages held while the call starts (Twilio streams media right after `start`: ~2.5 s of two tracks). */
const MAX_PENDING_MESSAGES = 256;
/** And at most this much audio among them (bytes of μ-law), whatever the payload sizes. */
const MAX_PENDING_AUDIO_BYTES = 256 * 1024;
/** A media timestamp this far past the leg's clock is a gap Twilio left (e.g. a hold): filled with silence. */
const GAP_FILL_THRESHOLD_MS = 60;
/** Slack on "no leg clock ahead of wall time since start". */
const CLOCK_SLACK_MS = 5000;

/** inbound = what Twilio receives from the caller (the customer); outbound = what it plays to them (the agent). */
const ROLE_OF_TRACK: Readonly<Record<TwilioTrack, LegRole>> = { inbound: 'customer', outbound: 'agent' };
const CALL_ID = /^[A-Za-z0-9._:-]{1,128}$/;

export interface TwilioStreamSessionOptions {
  readonly ws: WebSocket;
  readonly remote: string | undefined;
  /** Who the stream's call counts against (MAX_CALLS_PER_CREDENTIAL). */
  readonly credential: Credential;
  /** The client's address: the key of its rate-limited log lines. */
  readonly source: string;
  readonly calls: CallManager;
  readonly metrics: GatewayMetrics;
  readonly logger: Logger;
  readonly logLimiter: LogLimiter;
  readonly defaultLanguage: Language;
  readonly now?: () => number;
}

type State = 'await-connected' | 'await-start' | 'starting' | 'streaming' | 'done';

/**
 * One Twilio Media Stream (one WebSocket). `start` starts a call (call id:
 * customParameters.callId, else the CallSid; agent, queue and language from
 * customParameters), `media` feeds the legs (inbound = customer, outbound =
 * agent), `dtmf` becomes a `dtmf` event, `stop` or the socket closing ends
 * the call (`stream-closed`). Bad input closes the socket with 1007 (not
 * JSON, not base64) or 1008 (order, fields, stream), is logged and counted
 * in `sgw_ingest_protocol_errors_total{protocol="twilio"}`; audio already
 * accepted stays with the call.
 *
 * @see [Media Streams WebSocket messages](https://www.twilio.com/docs/voice/media-streams/websocket-messages)
 */
export class TwilioStreamSession {
  private state: State = 'await-connected';
  private sequence = 0;
  private start: StartMessage | undefined;
  private callId: string | undefined;
  private legs: ReadonlyMap<LegRole, StreamedLegMedia> | undefined;
  /** Per track: tiny payloads are gathered into 20 ms frames before they reach the leg. */
  /** Samples written per track: the leg clock that media timestamps are checked against. */
  private readonly written: Record<TwilioTrack, number> = { inbound: 0, outbound: 0 };
  private startedAt = 0;
  private readonly pending: TwilioMessage[] = [];
  private pendingBytes = 0;
  private readonly now: () => number;

  constructor(private readonly options: TwilioStreamSessionOptions) {
    this.now = options.now ?? Date.now;
    options.ws.on('message', (data: RawData, isBinary: boolean) => this.onFrame(data, isBinary));
    options.ws.on('close', () => this.onSocketClosed());
  }

  private onFrame(data: RawData, isBinary: boolean): void {
    if (this.state === 'done') return;
    try {
      if (isBinary) throw new TwilioProtocolError(TwilioCloseCodes.INVALID_PAYLOAD, 'binary-frame', 'messages are JSON text frames');
      const message = parseTwilioMessage(rawToString(data));
      if (this.state === 'starting') {
        this.pendingBytes += message.event === 'media' ? message.payload.length : 0;
        if (this.pending.length >= MAX_PENDING_MESSAGES || this.pendingBytes > MAX_PENDING_AUDIO_BYTES) {
          throw new TwilioProtocolError(TwilioCloseCodes.POLICY_VIOLATION, 'queue-overflow', 'too many messages while the call starts');
        }
        this.pending.push(message);
        return;
      }
      this.handle(message);
    } catch (err) {
      this.failWith(err);
    }
  }

  private failWith(err: unknown): void {
    if (err instanceof TwilioProtocolError) this.fail(err);
    else {
      this.options.logger.error({ err: errorMessage(err) }, 'twilio message handling failed');
      this.fail(new TwilioProtocolError(TwilioCloseCodes.INTERNAL_ERROR, 'internal', 'internal error'));
    }
  }

  private handle(message: TwilioMessage): void {
    if (message.event === 'connected') {
      if (this.state !== 'await-connected') throw order(`connected in state ${this.state}`);
      this.state = 'await-start';
      this.count('connected');
      return;
    }
    if (message.sequenceNumber !== this.sequence + 1) throw order(`sequenceNumber ${message.sequenceNumber} does not follow ${this.sequence}`);
    if (message.event === 'unknown') {
      // Forward compatible: a new event type is counted and skipped, not fatal.
      this.sequence = message.sequenceNumber;
      this.options.metrics.ingestProtocolErrors.inc({ protocol: 'twilio', reason: 'unknown-event' });
      return;
    }
    if (message.event === 'start') {
      if (this.state !== 'await-start') throw order(`start in state ${this.state}`);
      this.sequence = message.sequenceNumber;
      this.count('start');
      this.begin(message);
      return;
    }
    if (this.state !== 'streaming' || this.start === undefined) throw order(`${message.event} before start`);
    if (message.streamSid !== this.start.streamSid) throw new TwilioProtocolError(TwilioCloseCodes.POLICY_VIOLATION, 'wrong-stream', 'streamSid differs from the stream started');
    this.sequence = message.sequenceNumber ?? this.sequence;
    this.count(message.event);
    switch (message.event) {
      case 'media': {
        if (!this.start.tracks.includes(message.track)) throw new TwilioProtocolError(TwilioCloseCodes.POLICY_VIOLATION, 'bad-field', `media for track ${message.track}, which start did not list`);
        const leg = this.legs?.get(ROLE_OF_TRACK[message.track]);
        if (leg === undefined) return;
        this.fillGap(message.track, message.timestamp, leg);
        const pcm = decodeUlaw(message.payload);
        this.written[message.track] += pcm.length;
        // StreamedLegMedia gathers tiny payloads into 20 ms frames.
        leg.write(pcm, 8000);
        return;
      }
      case 'dtmf':
        this.legs?.get(ROLE_OF_TRACK[message.track])?.dtmf(message.digit);
        return;
      case 'mark':
        // Marks answer the server's own marks; the gateway sends none.
        return;
      case 'stop':
        this.hangUp();
        this.state = 'done';
        this.options.ws.close(TwilioCloseCodes.NORMAL, 'stream stopped');
        return;
    }
  }

  /**
   * Audio Twilio did not send (timestamps jump, e.g. a hold), bounded by wall
   * time since start: time on the leg's clock, not silence for the recogniser
   * (a long hold would overrun its backlog).
   */
  private fillGap(track: TwilioTrack, timestampMs: number, leg: StreamedLegMedia): void {
    const clockMs = (this.written[track] * 1000) / 8000;
    const gapMs = timestampMs - clockMs;
    if (gapMs <= GAP_FILL_THRESHOLD_MS) return;
    if (timestampMs > this.now() - this.startedAt + CLOCK_SLACK_MS) throw new TwilioProtocolError(TwilioCloseCodes.POLICY_VIOLATION, 'bad-timestamp', `media.timestamp ${timestampMs} is ahead of the stream's duration`);
    const samples = Math.round((gapMs * 8000) / 1000);
    this.written[track] += samples;
    leg.skipTime((samples * 1000) / 8000);
  }

  private begin(start: StartMessage): void {
    const custom = start.customParameters;
    const callId = custom['callId'] ?? start.callSid;
    if (!CALL_ID.test(callId)) throw new TwilioProtocolError(TwilioCloseCodes.POLICY_VIOLATION, 'bad-field', 'customParameters.callId must be 1-128 characters of [A-Za-z0-9._:-]');
    const requested = custom['language'];
    let language: Language;
    try {
      // Refused like a language without a model (close 1008 naming SGW_LANGUAGE_UNSUPPORTED), never recognised as English.
      language = requestedLanguage(requested, this.options.defaultLanguage);
    } catch (err) {
      this.options.metrics.countLanguageRefusal(requested ?? '');
      this.options.metrics.ingestSessions.inc({ protocol: 'twilio', outcome: 'refused' });
      throw new TwilioProtocolError(TwilioCloseCodes.POLICY_VIOLATION, 'call-refused', err instanceof GatewayError ? `${err.code}: ${err.message}` : errorMessage(err));
    }
    this.start = start;
    this.startedAt = this.now();
    this.state = 'starting';
    this.options.calls
      .startStreamed(
        {
          callId,
          agentId: (custom['agentId'] ?? '').slice(0, 128),
          queue: (custom['queue'] ?? '').slice(0, 128),
          language,
          legs: start.tracks.map((t) => ({ role: ROLE_OF_TRACK[t], codec: { name: 'PCMU', clockRate: 8000, payloadType: 0 } })),
        },
        'twilio',
        this.options.remote,
        this.options.credential,
      )
      .then(
        (started) => {
          this.options.metrics.ingestSessions.inc({ protocol: 'twilio', outcome: 'opened' });
          this.callId = started.snapshot.callId;
          this.legs = started.media;
          if (this.state === 'done') {
            this.hangUp();
            return;
          }
          this.state = 'streaming';
          const pending = this.pending.splice(0);
          this.pendingBytes = 0;
          try {
            for (const message of pending) if (this.state === 'streaming') this.handle(message);
          } catch (err) {
            this.failWith(err);
          }
        },
        (err: unknown) => {
          const overloaded = isTryAgainLater(err);
          this.options.metrics.ingestSessions.inc({ protocol: 'twilio', outcome: overloaded ? 'overloaded' : 'refused' });
          if (!(err instanceof GatewayError)) this.options.logger.error({ err: errorMessage(err) }, 'twilio: call start failed');
          const message = err instanceof GatewayError ? `${err.code}: ${err.message}` : 'internal error';
          this.fail(new TwilioProtocolError(overloaded ? TwilioCloseCodes.TRY_AGAIN_LATER : TwilioCloseCodes.POLICY_VIOLATION, overloaded ? 'overloaded' : 'call-refused', message));
        },
      );
  }

  private count(type: string): void {
    this.options.metrics.ingestMessages.inc({ protocol: 'twilio', type });
  }

  private fail(err: TwilioProtocolError): void {
    this.options.metrics.ingestProtocolErrors.inc({ protocol: 'twilio', reason: err.reason });
    this.options.logLimiter.log(this.options.logger, 'warn', 'twilio-protocol-error', this.options.source, { callId: this.callId, reason: err.reason, code: err.code, err: err.message }, 'twilio protocol error');
    if (this.state === 'done') return;
    this.state = 'done';
    this.pending.length = 0;
    this.hangUp();
    if (this.options.ws.readyState === WebSocket.OPEN) this.options.ws.close(err.code, closeReason(err.message));
  }

  private hangUp(): void {
    const legs = this.legs;
    this.legs = undefined;
    if (legs !== undefined) for (const leg of legs.values()) leg.hangUp();
  }

  private onSocketClosed(): void {
    this.pending.length = 0;
    this.state = 'done';
    this.hangUp();
  }

  /** Server shutdown. */
  shutdown(): void {
    if (this.options.ws.readyState === WebSocket.OPEN) this.options.ws.close(TwilioCloseCodes.GOING_AWAY, 'server shutting down');
  }
}

function order(message: string): TwilioProtocolError {
  return new TwilioProtocolError(TwilioCloseCodes.POLICY_VIOLATION, 'wrong-order', message);
}

function rawToString(data: RawData): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  if (data instanceof ArrayBuffer) return Buffer.from(data).toString('utf8');
  return data.toString('utf8');
}

