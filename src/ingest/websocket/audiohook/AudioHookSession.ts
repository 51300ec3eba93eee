import { WebSocket, type RawData } from 'ws';
import type { Credential } from '../../../auth/credential.js';
import type { CallManager } from '../../../calls/CallManager.js';
import type { StreamedLegMedia } from '../../../calls/media/StreamedLegMedia.js';
import { GatewayError, errorMessage, isTryAgainLater } from '../../../errors.js';
import { requestedLanguage, type Language } from '../../../language.js';
import type { Logger } from '../../../logger.js';
import type { LogLimiter, RepeatedLogReason } from '../../../LogLimiter.js';
import type { GatewayMetrics } from '../../../metrics.js';
import type { LegRole } from '../../../events.js';
import { decodeAudioFrame } from './audioFrame.js';
import { closeReason } from '../../../websocketCloseReason.js';
import {
  AudioHookProtocolError,
  NULL_UUID,
  chooseMedia,
  formatDuration,
  parseClientMessage,
  parseClose,
  parseDiscarded,
  parseOpen,
  parseUpdate,
  type ClientMessage,
  type MediaChannel,
  type MediaParameter,
  type OpenParameters,
} from './protocol.js';

/** Largest text message; bigger ones get a `disconnect` (binary frames are bounded by the server's maxPayload). */
export const MAX_AUDIOHOOK_TEXT_BYTES = 16 * 1024;
/** Frames held while the call is being started (Genesys waits for `opened`, so only a ping or close should arrive). */
const MAX_PENDING_FRAMES = 64;
/** And at most this many bytes among them. */
const MAX_PENDING_BYTES = 256 * 1024;
/** Discarded audio up to this long is concealed with silence, like RTP loss; longer spans are skipped time and a `transcript.gap`. */
const MAX_CONCEALED_MS = 1000;
/** Slack on "no more discarded audio than wall time since open" (clock skew, network delay). */
const DISCARD_SLACK_MS = 5000;

const ROLE_OF_CHANNEL: Readonly<Record<MediaChannel, LegRole>> = { external: 'customer', internal: 'agent' };

export interface AudioHookSessionOptions {
  readonly ws: WebSocket;
  /** `Audiohook-Session-Id` of the upgrade request; every message's `id` must equal it. */
  readonly sessionId: string | undefined;
  readonly remote: string | undefined;
  /** Who the session's call counts against (MAX_CALLS_PER_CREDENTIAL). */
  readonly credential: Credential;
  /** The client's address: the key of its rate-limited log lines. */
  readonly source: string;
  readonly calls: CallManager;
  readonly metrics: GatewayMetrics;
  readonly logger: Logger;
  readonly logLimiter: LogLimiter;
  readonly defaultLanguage: Language;
  /** After `closed` or `disconnect`, how long the client has to close the WebSocket before the server does. */
  readonly closeGraceMs: number;
  readonly now?: () => number;
}

type State = 'await-open' | 'opening' | 'active' | 'paused' | 'closed' | 'disconnected' | 'ended';

/**
 * One AudioHook session (one WebSocket): the open transaction, audio,
 * pause/resume, discarded audio, ping, update, close, and errors. Messages
 * are validated in full before they act; a bad one gets a `disconnect`
 * (reason `error`, with what was wrong), is logged and counted in
 * `sgw_ingest_protocol_errors_total{protocol="audiohook"}`, and the audio
 * already accepted stays with the call, which ends with `stream-closed`.
 *
 * Genesys' connection probe (an `open` for the null conversation id) is
 * answered with `opened` and starts no call.
 *
 * @see [AudioHook Protocol Specification](https://developer.genesys.cloud/devapps/audiohook/)
 */
export class AudioHookSession {
  private state: State = 'await-open';
  private id: string | undefined;
  /** Last client seq seen, and the last server seq sent. */
  private clientseq = 0;
  private serverseq = 0;
  private media: MediaParameter | undefined;
  private callId: string | undefined;
  private legs: ReadonlyMap<LegRole, StreamedLegMedia> | undefined;
  /** Per leg: small frames are gathered into 20 ms before they reach the leg. */
  private probe = false;
  private openedAt = 0;
  private discardedMs = 0;
  private readonly pending: { data: RawData; isBinary: boolean }[] = [];
  private pendingBytes = 0;
  private graceTimer: NodeJS.Timeout | undefined;
  private readonly now: () => number;

  constructor(private readonly options: AudioHookSessionOptions) {
    this.id = options.sessionId;
    this.now = options.now ?? Date.now;
    const { ws } = options;
    ws.on('message', (data: RawData, isBinary: boolean) => this.onFrame(data, isBinary));
    ws.on('close', () => this.onSocketClosed());
  }

  private onFrame(data: RawData, isBinary: boolean): void {
    if (this.state === 'ended') return;
    if (this.state === 'opening') {
      this.pendingBytes += rawLength(data);
      if (this.pending.length >= MAX_PENDING_FRAMES || this.pendingBytes > MAX_PENDING_BYTES) {
        this.fail(new AudioHookProtocolError('queue-overflow', `more than ${MAX_PENDING_FRAMES} messages or ${MAX_PENDING_BYTES} bytes before opened`));
        return;
      }
      this.pending.push({ data, isBinary });
      return;
    }
    try {
      if (isBinary) this.onAudio(toBytes(data));
      else this.onText(toBytes(data));
    } catch (err) {
      if (err instanceof AudioHookProtocolError) this.fail(err);
      else {
        this.options.logger.error({ err: errorMessage(err) }, 'audiohook message handling failed');
        this.fail(new AudioHookProtocolError('internal', 'internal error'));
      }
    }
  }

  private onText(bytes: Uint8Array): void {
    if (bytes.length > MAX_AUDIOHOOK_TEXT_BYTES) throw new AudioHookProtocolError('message-too-big', `text message of ${bytes.length} bytes exceeds ${MAX_AUDIOHOOK_TEXT_BYTES}`);
    const message = parseClientMessage(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('utf8'));
    // After disconnect or closed only a close transaction is meaningful; anything else is dropped.
    if ((this.state === 'disconnected' || this.state === 'closed') && message.type !== 'close') return;
    if (message.seq !== this.clientseq + 1) throw new AudioHookProtocolError('bad-seq', `seq ${message.seq} does not follow ${this.clientseq}`);
    if (message.serverseq > this.serverseq) throw new AudioHookProtocolError('bad-serverseq', `serverseq ${message.serverseq} is ahead of the server's ${this.serverseq}`);
    this.id ??= message.id;
    if (message.id !== this.id) throw new AudioHookProtocolError('session-id-mismatch', 'message id differs from the session id');
    this.clientseq = message.seq;
    this.options.metrics.ingestMessages.inc({ protocol: 'audiohook', type: message.type });
    this.dispatch(message);
  }

  private dispatch(message: ClientMessage): void {
    const { state } = this;
    const open = state === 'active' || state === 'paused';
    switch (message.type) {
      case 'open':
        if (state !== 'await-open') throw new AudioHookProtocolError('unexpected-message', `open in state ${state}`);
        this.open(parseOpen(message.parameters));
        return;
      case 'ping':
        this.send('pong', {});
        return;
      case 'close':
        parseClose(message.parameters);
        this.close();
        return;
      case 'error':
        // The client reports a problem of its own; it follows with close.
        this.logRepeated('warn', 'audiohook-client-error', { parameters: JSON.stringify(message.parameters).slice(0, 512) }, 'audiohook client reported an error');
        return;
      case 'paused':
        if (!open) throw new AudioHookProtocolError('unexpected-message', `paused in state ${state}`);
        if (state === 'active') {
          this.state = 'paused';
          if (this.callId !== undefined) this.tryCall(() => this.options.calls.suspend(this.callId as string, 'paused'));
        }
        return;
      case 'resumed': {
        if (!open) throw new AudioHookProtocolError('unexpected-message', `resumed in state ${state}`);
        const { discardedMs } = parseDiscarded('resumed', message.parameters);
        this.checkDiscarded(discardedMs);
        if (state === 'paused') {
          // Genesys sends no audio while paused: the paused span is time on the leg's clock, not silence to recognise.
          this.skipTime(discardedMs);
          this.state = 'active';
          if (this.callId !== undefined) this.tryCall(() => this.options.calls.resume(this.callId as string));
        }
        return;
      }
      case 'discarded': {
        if (!open) throw new AudioHookProtocolError('unexpected-message', `discarded in state ${state}`);
        const { discardedMs } = parseDiscarded('discarded', message.parameters);
        this.checkDiscarded(discardedMs);
        if (discardedMs <= MAX_CONCEALED_MS) this.conceal(discardedMs);
        else this.skipTime(discardedMs, 'discarded');
        return;
      }
      case 'update': {
        if (!open) throw new AudioHookProtocolError('unexpected-message', `update in state ${state}`);
        const { language } = parseUpdate(message.parameters);
        // A call's recognisers are chosen at start; a new language is noted, not applied (docs/integrations/genesys-audiohook.md).
        if (language !== undefined) this.logRepeated('info', 'audiohook-update', { callId: this.callId, language }, 'audiohook update: language change noted, recognition keeps the language of open');
        return;
      }
    }
  }

  private open(params: OpenParameters): void {
    const media = chooseMedia(params.media);
    if (media === undefined) throw new AudioHookProtocolError('no-supported-media', 'no offered media format is supported (PCMU or L16, 8000 Hz, external and/or internal)');
    this.media = media;
    this.openedAt = this.now();
    if (params.conversationId === NULL_UUID) {
      this.probe = true;
      this.state = 'active';
      this.options.metrics.ingestSessions.inc({ protocol: 'audiohook', outcome: 'probe' });
      this.send('opened', { media: [media], startPaused: false });
      return;
    }
    this.state = 'opening';
    this.startCall(params, media).then(
      () => this.afterOpen(),
      (err: unknown) => this.afterOpen(err),
    );
  }

  private async startCall(params: OpenParameters, media: MediaParameter): Promise<void> {
    const custom = params.customConfig ?? {};
    const label = (value: unknown): string => (typeof value === 'string' ? value.slice(0, 128) : '');
    const requested = typeof custom['language'] === 'string' ? custom['language'] : params.language;
    let language: Language;
    try {
      // Refused like a language without a model (SGW_LANGUAGE_UNSUPPORTED in the disconnect), never recognised as English.
      language = requestedLanguage(requested, this.options.defaultLanguage);
    } catch (err) {
      this.options.metrics.countLanguageRefusal(requested ?? '');
      throw err;
    }
    const start = (callId: string) =>
      this.options.calls.startStreamed(
        {
          callId,
          agentId: label(custom['agentId']),
          queue: label(custom['queue']),
          language,
          legs: media.channels.map((channel) => ({ role: ROLE_OF_CHANNEL[channel], codec: { name: media.format, clockRate: 8000, payloadType: media.format === 'PCMU' ? 0 : 96 } })),
        },
        'audiohook',
        this.options.remote,
        this.options.credential,
      );
    let started;
    try {
      started = await start(params.conversationId);
    } catch (err) {
      // A second AudioHook session on one conversation (e.g. after a transfer) is its own call.
      if (!(err instanceof GatewayError && err.code === 'SGW_CALL_EXISTS') || this.id === undefined) throw err;
      started = await start(`${params.conversationId}:${this.id.slice(0, 8)}`);
    }
    this.callId = started.snapshot.callId;
    this.legs = started.media;
  }

  private afterOpen(err?: unknown): void {
    if (err !== undefined) {
      const draining = err instanceof GatewayError && err.code === 'SGW_DRAINING';
      const overloaded = isTryAgainLater(err);
      this.options.metrics.ingestSessions.inc({ protocol: 'audiohook', outcome: overloaded ? 'overloaded' : 'refused' });
      const info = err instanceof GatewayError ? `${err.code}: ${err.message}${overloaded ? '; try again later' : ''}` : 'internal error';
      if (!(err instanceof GatewayError)) this.options.logger.error({ err: errorMessage(err) }, 'audiohook: call start failed');
      this.state = 'active';
      // A draining gateway closes with 1013 (try again later), as it refuses new connections, if Genesys does not close first.
      this.fail(new AudioHookProtocolError(overloaded ? 'overloaded' : 'call-refused', info), draining ? 1013 : 1008);
      this.drainPending();
      return;
    }
    this.options.metrics.ingestSessions.inc({ protocol: 'audiohook', outcome: 'opened' });
    if (this.state === 'ended') {
      // The socket closed while the call was starting.
      this.hangUp();
      return;
    }
    this.state = 'active';
    this.send('opened', { media: [this.media], startPaused: false });
    this.drainPending();
  }

  private drainPending(): void {
    const frames = this.pending.splice(0);
    this.pendingBytes = 0;
    for (const frame of frames) this.onFrame(frame.data, frame.isBinary);
  }

  private onAudio(bytes: Uint8Array): void {
    // An empty frame carries nothing (Genesys' reference client sends one as a connection probe): ignored in any state.
    if (bytes.length === 0) {
      this.options.metrics.ingestMessages.inc({ protocol: 'audiohook', type: 'empty-audio' });
      return;
    }
    if (this.state === 'disconnected' || this.state === 'closed') return;
    if ((this.state !== 'active' && this.state !== 'paused') || this.media === undefined) throw new AudioHookProtocolError('unexpected-audio', `audio in state ${this.state}`);
    const channels = decodeAudioFrame(bytes, this.media);
    this.options.metrics.ingestMessages.inc({ protocol: 'audiohook', type: 'audio' });
    if (this.probe) return;
    // StreamedLegMedia gathers tiny frames into 20 ms ones, so a 2-byte frame costs the recogniser nothing extra.
    for (const [channel, pcm] of channels) this.legs?.get(ROLE_OF_CHANNEL[channel])?.write(pcm, 8000);
  }

  /** Genesys cannot have discarded more audio than has been streamed since open. */
  private checkDiscarded(discardedMs: number): void {
    const limit = this.now() - this.openedAt + DISCARD_SLACK_MS - this.discardedMs;
    if (discardedMs > limit) throw new AudioHookProtocolError('bad-parameters', `discarded ${formatDuration(discardedMs)} exceeds the session's duration`);
    this.discardedMs += discardedMs;
  }

  /** Writes `ms` of silence, marked concealed, on every leg: a short span of audio Genesys discarded. */
  private conceal(ms: number): void {
    if (this.legs === undefined || ms <= 0) return;
    const samples = Math.round((ms * 8000) / 1000);
    for (const leg of this.legs.values()) leg.write(new Int16Array(samples), 8000, true);
  }

  /** Moves every leg's clock on by `ms` without audio: a pause's span, or audio Genesys discarded (marked as a gap). */
  private skipTime(ms: number, reason?: 'discarded'): void {
    if (this.legs === undefined || ms <= 0) return;
    for (const leg of this.legs.values()) leg.skipTime(ms, reason);
  }

  private close(): void {
    if (this.state === 'opening') {
      // Cannot happen (opening frames are queued), kept for safety.
      throw new AudioHookProtocolError('unexpected-message', 'close while opening');
    }
    if (this.state === 'closed') return;
    this.hangUp();
    this.state = 'closed';
    this.send('closed', {});
    this.armGrace(1000, 'session closed');
  }

  /** Protocol error: `disconnect` with the reason, log, count, hang up; the client then closes (or the server, with `closeCode`, after the grace). */
  private fail(err: AudioHookProtocolError, closeCode = 1008): void {
    this.options.metrics.ingestProtocolErrors.inc({ protocol: 'audiohook', reason: err.reason });
    this.logRepeated('warn', 'audiohook-protocol-error', { callId: this.callId, reason: err.reason, err: err.message }, 'audiohook protocol error');
    if (this.state === 'disconnected' || this.state === 'closed' || this.state === 'ended') return;
    this.hangUp();
    this.state = 'disconnected';
    this.send('disconnect', { reason: 'error', info: err.message.slice(0, 512) });
    this.armGrace(closeCode, err.message);
  }

  private logRepeated(level: 'info' | 'warn', reason: RepeatedLogReason, fields: Record<string, unknown>, msg: string): void {
    this.options.logLimiter.log(this.options.logger, level, reason, this.options.source, fields, msg);
  }

  private armGrace(code: number, reason: string): void {
    clearTimeout(this.graceTimer);
    this.graceTimer = setTimeout(() => {
      if (this.options.ws.readyState === WebSocket.OPEN) this.options.ws.close(code, closeReason(reason));
    }, this.options.closeGraceMs);
    this.graceTimer.unref();
  }

  private hangUp(): void {
    const legs = this.legs;
    this.legs = undefined;
    if (legs !== undefined) for (const leg of legs.values()) leg.hangUp();
  }

  private tryCall(action: () => void): void {
    try {
      action();
    } catch (err) {
      // The call may have ended (inactivity, EndCall) while the session lives on.
      this.options.logger.debug({ callId: this.callId, err: errorMessage(err) }, 'audiohook: call action skipped');
    }
  }

  private send(type: string, parameters: Record<string, unknown>): void {
    const { ws } = this.options;
    if (ws.readyState !== WebSocket.OPEN) return;
    ws.send(JSON.stringify({ version: '2', type, seq: ++this.serverseq, clientseq: this.clientseq, id: this.id ?? NULL_UUID, parameters }));
  }

  private onSocketClosed(): void {
    clearTimeout(this.graceTimer);
    this.pending.length = 0;
    if (this.state !== 'opening') this.hangUp();
    this.state = 'ended';
  }

  /** Server shutdown. */
  shutdown(): void {
    if (this.options.ws.readyState === WebSocket.OPEN) {
      if (this.state === 'active' || this.state === 'paused') this.send('disconnect', { reason: 'completed', info: 'server shutting down' });
      this.options.ws.close(1001, 'server shutting down');
    }
  }
}

function rawLength(data: RawData): number {
  return Array.isArray(data) ? data.reduce((n, b) => n + b.length, 0) : data.byteLength;
}

function toBytes(data: RawData): Uint8Array {
  if (Array.isArray(data)) return Buffer.concat(data);
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  return data;
}

