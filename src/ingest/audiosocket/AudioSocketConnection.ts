import type { Socket } from 'node:net';
import type { StreamedLegMedia } from '../../calls/media/StreamedLegMedia.js';
import { GatewayError, errorMessage } from '../../errors.js';
import type { Logger } from '../../logger.js';
import type { LogLimiter } from '../../LogLimiter.js';
import type { GatewayMetrics } from '../../metrics.js';
import {
  DTMF_DIGITS,
  ERROR_CODE_HANGUP,
  FrameError,
  FrameParser,
  KIND_DTMF,
  KIND_ERROR,
  KIND_HANGUP,
  KIND_SLIN_FIRST,
  KIND_SLIN_LAST,
  KIND_UUID,
  SLIN_RATES,
  UUID_BYTES,
  decodeSlin,
  uuidToString,
  type Frame,
} from './frames.js';
import { assignLeg, type AudioSocketCalls, type AudioSocketLegMode, type LegAssignment } from './AudioSocketCalls.js';

/**
 * Bad input, by metric reason. Fatal ones close the connection (and end its
 * call, keeping what was transcribed); the others are counted and skipped.
 */
export type AudioSocketProblem =
  | 'oversize'
  | 'bad_first_frame'
  | 'bad_uuid'
  | 'odd_audio'
  | 'unsupported_rate'
  | 'rate_change'
  | 'call_refused'
  | 'idle_timeout'
  | 'bad_dtmf'
  | 'unknown_kind'
  | 'dtmf_before_audio'
  | 'client_error';

const KIND_LABELS: Readonly<Record<number, string>> = { [KIND_HANGUP]: 'hangup', [KIND_UUID]: 'uuid', [KIND_DTMF]: 'dtmf', [KIND_ERROR]: 'error' };

function kindLabel(kind: number): string {
  if (kind >= KIND_SLIN_FIRST && kind <= KIND_SLIN_LAST) return 'audio';
  return KIND_LABELS[kind] ?? 'unknown';
}

export interface AudioSocketConnectionOptions {
  readonly socket: Socket;
  readonly calls: AudioSocketCalls;
  readonly legMode: AudioSocketLegMode;
  readonly metrics: GatewayMetrics;
  readonly logger: Logger;
  readonly logLimiter: LogLimiter;
  readonly idleTimeoutMs: number;
  readonly maxPayload?: number;
  /** Called once when the connection is gone (socket closed). */
  readonly onClosed: (connection: AudioSocketConnection) => void;
}

/**
 * One AudioSocket TCP connection = one leg of a call named by the stream's
 * UUID (the customer's, or either leg of a paired call: {@link assignLeg}).
 * The call starts on the first audio frame, whose kind fixes the sample rate
 * (8 or 16 kHz); until then there is nothing to transcribe, so a hangup
 * costs nothing.
 *
 * Memory per connection is bounded by the parser (one socket read plus one
 * partial frame ≤ 3 + 4096 bytes): while the call starts the socket is
 * paused, so TCP flow control holds the sender back instead of a queue here.
 *
 * The server never sends audio back (the gateway only listens); it closes
 * the socket on bad input or when the call ends. Asterisk treats a closed
 * socket as the end of the AudioSocket application (see docs/integrations/asterisk.md).
 */
export class AudioSocketConnection {
  private readonly parser: FrameParser;
  private state: 'awaiting-uuid' | 'identified' | 'starting' | 'streaming' | 'closed' = 'awaiting-uuid';
  private uuid: string | undefined;
  private assignment: LegAssignment | undefined;
  private media: StreamedLegMedia | undefined;
  private rate: 8000 | 16000 | undefined;
  private logger: Logger;
  private readonly remote: string;

  constructor(private readonly options: AudioSocketConnectionOptions) {
    const { socket } = options;
    this.parser = new FrameParser(options.maxPayload);
    this.remote = `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? 0}`;
    this.logger = options.logger.child({ remote: this.remote });
    socket.setNoDelay(true);
    socket.setTimeout(options.idleTimeoutMs);
    socket.on('data', (chunk: Buffer) => {
      this.parser.push(chunk);
      this.drain();
    });
    socket.on('timeout', () => this.fail('idle_timeout', `no bytes for ${options.idleTimeoutMs} ms`));
    // ECONNRESET and friends: the close that follows does the cleanup.
    socket.on('error', (err) => this.logger.debug({ err: errorMessage(err) }, 'AudioSocket connection error'));
    socket.on('close', () => this.onClose());
  }

  /** The call id, once the first frame named it. */
  get callId(): string | undefined {
    return this.assignment?.callId;
  }

  /** The call ended elsewhere (EndCall, inactivity, shutdown): let the client go. */
  callEnded(): void {
    if (this.state === 'closed') return;
    this.media = undefined;
    this.close();
  }

  private drain(): void {
    // Stop at the first frame that needs the call to start: the rest waits in the parser, the socket is paused.
    while (this.state !== 'closed' && this.state !== 'starting') {
      if (this.state === 'awaiting-uuid' && !this.checkFirstHeader()) return;
      let frame: Frame | undefined;
      try {
        frame = this.parser.next();
      } catch (err) {
        if (err instanceof FrameError) return this.fail(err.reason, err.message);
        throw err;
      }
      if (frame === undefined) return;
      this.options.metrics.audioSocketFrames.inc({ kind: kindLabel(frame.kind) });
      this.onFrame(frame);
    }
  }

  /** The first frame is judged by its header, so a stranger (HTTP, TLS) is turned away at its first byte. */
  private checkFirstHeader(): boolean {
    const { kind, length } = this.parser.peek();
    if (kind !== undefined && kind !== KIND_UUID) {
      this.fail('bad_first_frame', `the first frame must be the UUID (kind 0x01), got kind 0x${kind.toString(16).padStart(2, '0')}`);
      return false;
    }
    if (length !== undefined && length !== UUID_BYTES) {
      this.fail('bad_uuid', `a UUID frame carries 16 bytes, ${length} declared`);
      return false;
    }
    return true;
  }

  private onFrame(frame: Frame): void {
    const { kind, payload } = frame;
    if (this.state === 'awaiting-uuid') {
      // checkFirstHeader vouched for kind and length.
      this.uuid = uuidToString(payload);
      this.assignment = assignLeg(this.uuid, this.options.legMode);
      this.logger = this.logger.child({ callId: this.assignment.callId, leg: this.assignment.role });
      this.state = 'identified';
      this.logger.debug('AudioSocket stream identified');
      return;
    }
    if (kind >= KIND_SLIN_FIRST && kind <= KIND_SLIN_LAST) return this.onAudio(kind, payload);
    switch (kind) {
      case KIND_HANGUP:
        this.logger.info('AudioSocket hangup');
        return this.close();
      case KIND_DTMF:
        return this.onDtmf(payload);
      case KIND_ERROR: {
        const code = payload[0];
        this.problem('client_error', `the client reported error ${code === undefined ? '(no code)' : `0x${code.toString(16).padStart(2, '0')}`}`);
        // Asterisk's 0x01: the call hung up; other codes report a frame it could not forward: the stream goes on.
        if (code === ERROR_CODE_HANGUP) this.close();
        return;
      }
      case KIND_UUID:
        return this.problem('unknown_kind', 'a second UUID frame is ignored');
      default:
        return this.problem('unknown_kind', `frame kind 0x${kind.toString(16).padStart(2, '0')} is not understood and skipped`);
    }
  }

  private onAudio(kind: number, payload: Buffer): void {
    const rate = SLIN_RATES[kind];
    if (rate === undefined) return this.fail('unsupported_rate', `slin kind 0x${kind.toString(16)} is not 8 kHz (0x10) or 16 kHz (0x12); recognition takes those rates`);
    if ((payload.length & 1) !== 0) return this.fail('odd_audio', `an slin frame of ${payload.length} bytes holds a torn sample`);
    if (this.rate !== undefined && rate !== this.rate) return this.fail('rate_change', `audio changed from ${this.rate} Hz to ${rate} Hz mid-stream`);
    const pcm = decodeSlin(payload);
    if (this.state === 'streaming') {
      this.media?.write(pcm, rate);
      return;
    }
    this.rate = rate;
    this.start(pcm, rate);
  }

  private start(first: Int16Array, rate: 8000 | 16000): void {
    const { socket, calls } = this.options;
    const assignment = this.assignment as LegAssignment;
    const { callId } = assignment;
    this.state = 'starting';
    socket.pause();
    calls
      .attach(assignment, rate, this.remote, `audiosocket:${this.options.socket.remoteAddress ?? '?'}`)
      .then(
        (leg) => {
          if (this.state === 'closed') {
            // The client left while the call was starting.
            leg.hangUp();
            return;
          }
          this.media = leg;
          this.state = 'streaming';
          this.logger.info({ sampleRate: rate }, 'AudioSocket call started');
          leg.write(first, rate);
          socket.resume();
          this.drain();
        },
        (err: unknown) => {
          const code = err instanceof GatewayError ? err.code : 'internal';
          if (!(err instanceof GatewayError)) this.logger.error({ err }, 'AudioSocket call could not start');
          this.fail(code === 'SGW_INVALID_ARGUMENT' ? 'rate_change' : 'call_refused', `call ${callId} refused (${code}): ${errorMessage(err)}`);
        },
      );
  }

  private onDtmf(payload: Buffer): void {
    const digit = payload.length === 1 ? String.fromCharCode(payload[0] as number).toUpperCase() : '';
    if (digit === '' || !DTMF_DIGITS.includes(digit)) return this.problem('bad_dtmf', `a DTMF frame carries one of ${DTMF_DIGITS}, got ${payload.length} bytes`);
    if (this.media === undefined) return this.problem('dtmf_before_audio', 'DTMF before the first audio frame (no call yet) is skipped');
    this.media.dtmf(digit);
  }

  /** Counted and logged, the stream goes on. */
  private problem(reason: AudioSocketProblem, detail: string): void {
    this.options.metrics.audioSocketErrors.inc({ reason });
    this.logger.debug({ reason, detail }, 'AudioSocket input skipped');
  }

  /** Counted, logged, connection closed; the call (if any) ends with what it has. */
  private fail(reason: AudioSocketProblem, detail: string): void {
    if (this.state === 'closed') return;
    this.options.metrics.audioSocketErrors.inc({ reason });
    this.options.logLimiter.log(this.logger, 'warn', 'audiosocket-bad-input', this.options.socket.remoteAddress ?? '?', { reason, detail }, 'AudioSocket connection closed on bad input');
    this.close();
  }

  private close(): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.media?.hangUp();
    this.media = undefined;
    // Closing the socket is the protocol's end of stream; the gateway sends nothing, not even a hangup frame.
    this.options.socket.destroy();
  }

  private onClose(): void {
    if (this.state !== 'closed') {
      this.state = 'closed';
      if (this.media !== undefined) this.logger.info('AudioSocket connection closed by the client');
      this.media?.hangUp();
      this.media = undefined;
    }
    this.options.onClosed(this);
  }
}
