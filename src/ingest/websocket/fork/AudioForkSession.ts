import { randomUUID } from 'node:crypto';
import { WebSocket, type RawData } from 'ws';
import type { Credential } from '../../../auth/credential.js';
import type { CallManager } from '../../../calls/CallManager.js';
import type { StreamedLegMedia } from '../../../calls/media/StreamedLegMedia.js';
import { GatewayError, errorMessage, isTryAgainLater } from '../../../errors.js';
import type { LegRole } from '../../../events.js';
import { requestedLanguage, type Language } from '../../../language.js';
import type { Logger } from '../../../logger.js';
import type { LogLimiter } from '../../../LogLimiter.js';
import type { GatewayMetrics } from '../../../metrics.js';
import { closeReason } from '../../../websocketCloseReason.js';
import { ForkCloseCodes, ForkProtocolError, jambonzDtmf, parseStart, sniffDialect, type ForkDialect, type ForkQuery, type ForkStart } from './dialects.js';

/** Largest metadata (text) frame; mod_audio_stream caps its own at 8 KiB. */
export const MAX_FORK_TEXT_BYTES = 16 * 1024;
/** Frames held while the call starts (the platforms stream audio right after the metadata: ~2.5 s of 20 ms frames). */
const MAX_PENDING_FRAMES = 128;
/** And at most this much audio among them, whatever the frame sizes (~4 s of 16 kHz stereo). */
const MAX_PENDING_BYTES = 256 * 1024;

export interface AudioForkSessionOptions {
  readonly ws: WebSocket;
  /** From the path or the subprotocol; undefined: told by the first frame. */
  readonly dialect: ForkDialect | undefined;
  /** The upgrade URL's query (call id, agent, queue, language, format for platforms whose metadata cannot say). */
  readonly query: ForkQuery;
  readonly remote: string | undefined;
  /** Who the fork's call counts against (MAX_CALLS_PER_CREDENTIAL). */
  readonly credential: Credential;
  /** The client's address: the key of its rate-limited log lines. */
  readonly source: string;
  readonly calls: CallManager;
  readonly metrics: GatewayMetrics;
  readonly logger: Logger;
  readonly logLimiter: LogLimiter;
  readonly defaultLanguage: Language;
}

type State = 'await-metadata' | 'starting' | 'streaming' | 'done';
type Frame = { readonly binary: true; readonly data: Buffer } | { readonly binary: false; readonly text: string };

/**
 * One audio fork (one WebSocket): the first text frame is the dialect's
 * metadata and starts the call, binary frames are interleaved L16 (one
 * channel per leg) written to the legs, text frames after the start are
 * the platform's events (jambonz DTMF becomes a `dtmf` event; others are
 * counted and skipped), and the socket closing ends the call
 * (`stream-closed`). Bad input closes the socket with 1007 or 1008, is
 * logged once per client address a window and counted in
 * `sgw_ingest_protocol_errors_total{protocol="audio-fork"}`; audio already
 * accepted stays with the call.
 */
export class AudioForkSession {
  private state: State = 'await-metadata';
  private start: ForkStart | undefined;
  private callId: string | undefined;
  private legs: ReadonlyMap<LegRole, StreamedLegMedia> | undefined;
  private readonly pending: Frame[] = [];
  private pendingBytes = 0;

  constructor(private readonly options: AudioForkSessionOptions) {
    options.ws.on('message', (data: RawData, isBinary: boolean) => this.onFrame(toBuffer(data), isBinary));
    options.ws.on('close', () => this.onSocketClosed());
  }

  private onFrame(data: Buffer, isBinary: boolean): void {
    if (this.state === 'done') return;
    try {
      if (!isBinary && data.length > MAX_FORK_TEXT_BYTES) throw new ForkProtocolError(ForkCloseCodes.POLICY_VIOLATION, 'text-too-big', `text frames are at most ${MAX_FORK_TEXT_BYTES} bytes`);
      const frame: Frame = isBinary ? { binary: true, data } : { binary: false, text: data.toString('utf8') };
      if (this.state === 'await-metadata') {
        this.begin(frame);
        return;
      }
      if (this.state === 'starting') {
        this.pendingBytes += data.length;
        if (this.pending.length >= MAX_PENDING_FRAMES || this.pendingBytes > MAX_PENDING_BYTES) {
          throw new ForkProtocolError(ForkCloseCodes.POLICY_VIOLATION, 'queue-overflow', 'too many frames while the call starts');
        }
        this.pending.push(frame);
        return;
      }
      this.handle(frame);
    } catch (err) {
      this.failWith(err);
    }
  }

  private handle(frame: Frame): void {
    if (!frame.binary) {
      const digit = this.start?.dialect === 'jambonz' ? jambonzDtmf(frame.text) : undefined;
      if (digit !== undefined) {
        this.count('dtmf');
        // passDtmf: "digits detected from the caller", channel 0.
        const caller = this.start?.roles[0];
        if (caller !== undefined) this.legs?.get(caller)?.dtmf(digit);
        return;
      }
      // Platform events after the start (FreeSWITCH send_text, Asterisk MEDIA_XOFF/STATUS, …) carry nothing for analytics.
      this.count('text');
      return;
    }
    this.count('audio');
    this.writeAudio(frame.data);
  }

  /** De-interleaves one binary frame onto the legs: sample i of channel c is at byte 2·(i·channels + c), little-endian. */
  private writeAudio(data: Buffer): void {
    const start = this.start;
    if (start === undefined) return;
    const channels = start.roles.length;
    if (data.length % (2 * channels) !== 0) {
      throw new ForkProtocolError(ForkCloseCodes.INVALID_PAYLOAD, 'bad-audio', `an audio frame must be whole ${channels === 2 ? 'stereo ' : ''}16-bit samples (${data.length} bytes)`);
    }
    const samples = data.length / (2 * channels);
    start.roles.forEach((role, channel) => {
      const leg = this.legs?.get(role);
      if (leg === undefined) return;
      const pcm = new Int16Array(samples);
      for (let i = 0; i < samples; i++) pcm[i] = data.readInt16LE(2 * (i * channels + channel));
      leg.write(pcm, start.sampleRate);
    });
  }

  private begin(frame: Frame): void {
    const dialect = this.options.dialect ?? (frame.binary ? 'audio-stream' : sniffDialect(frame.text));
    const start = parseStart(dialect, frame.binary ? undefined : frame.text, this.options.query);
    if (frame.binary) this.pending.push(frame);
    this.count('metadata');
    let language: Language;
    try {
      // Refused like a language without a model (close 1008 naming SGW_LANGUAGE_UNSUPPORTED), never recognised as English.
      language = requestedLanguage(start.language, this.options.defaultLanguage);
    } catch (err) {
      this.options.metrics.countLanguageRefusal(start.language ?? '');
      this.options.metrics.ingestSessions.inc({ protocol: 'audio-fork', outcome: 'refused' });
      throw new ForkProtocolError(ForkCloseCodes.POLICY_VIOLATION, 'call-refused', err instanceof GatewayError ? `${err.code}: ${err.message}` : errorMessage(err));
    }
    this.start = start;
    this.state = 'starting';
    const callId = start.callId ?? `fork-${randomUUID()}`;
    this.callId = callId;
    this.options.logger.info({ callId, dialect, caller: start.caller, callee: start.callee, sampleRate: start.sampleRate, legs: start.roles }, 'audio fork started');
    this.options.calls
      .startStreamed(
        { callId, agentId: start.agentId, queue: start.queue, language, legs: start.roles.map((role) => ({ role, codec: { name: 'L16', clockRate: start.sampleRate, payloadType: 96 } })) },
        'audio-fork',
        this.options.remote,
        this.options.credential,
      )
      .then(
        (started) => {
          this.options.metrics.ingestSessions.inc({ protocol: 'audio-fork', outcome: 'opened' });
          this.legs = started.media;
          if (this.state === 'done') {
            this.hangUp();
            return;
          }
          this.state = 'streaming';
          const pending = this.pending.splice(0);
          this.pendingBytes = 0;
          try {
            for (const held of pending) if (this.state === 'streaming') this.handle(held);
          } catch (err) {
            this.failWith(err);
          }
        },
        (err: unknown) => {
          const overloaded = isTryAgainLater(err);
          this.options.metrics.ingestSessions.inc({ protocol: 'audio-fork', outcome: overloaded ? 'overloaded' : 'refused' });
          if (!(err instanceof GatewayError)) this.options.logger.error({ err: errorMessage(err) }, 'audio fork: call start failed');
          const message = err instanceof GatewayError ? `${err.code}: ${err.message}` : 'internal error';
          this.fail(new ForkProtocolError(overloaded ? ForkCloseCodes.TRY_AGAIN_LATER : ForkCloseCodes.POLICY_VIOLATION, overloaded ? 'overloaded' : 'call-refused', message));
        },
      );
  }

  private count(type: string): void {
    this.options.metrics.ingestMessages.inc({ protocol: 'audio-fork', type });
  }

  private failWith(err: unknown): void {
    if (err instanceof ForkProtocolError) this.fail(err);
    else {
      this.options.logger.error({ err: errorMessage(err) }, 'audio fork frame handling failed');
      this.fail(new ForkProtocolError(ForkCloseCodes.INTERNAL_ERROR, 'internal', 'internal error'));
    }
  }

  private fail(err: ForkProtocolError): void {
    this.options.metrics.ingestProtocolErrors.inc({ protocol: 'audio-fork', reason: err.reason });
    this.options.logLimiter.log(this.options.logger, 'warn', 'audio-fork-protocol-error', this.options.source, { callId: this.callId, reason: err.reason, code: err.code, err: err.message }, 'audio fork protocol error');
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
    if (this.options.ws.readyState === WebSocket.OPEN) this.options.ws.close(ForkCloseCodes.GOING_AWAY, 'server shutting down');
  }
}

function toBuffer(data: RawData): Buffer {
  if (Array.isArray(data)) return Buffer.concat(data);
  if (data instanceof ArrayBuffer) return Buffer.from(data);
  return data;
}
