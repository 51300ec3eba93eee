/**
 * One recognition stream on a vosk-server farm: a WebSocket per recogniser,
 * lock-step accounting (the server answers every audio message once, in
 * order), and failover. A server that closes, stalls (no answer within
 * `responseTimeoutMs` while audio is in flight) or answers something that is
 * not the protocol is marked down, the audio it held becomes a gap on the
 * stream (SpeechStream.rebind), and the stream continues on another server
 * with a fresh recogniser whose time 0 is "now" on the stream clock. Audio
 * written while reconnecting waits in the stream's bounded backlog.
 */
import WebSocket from 'ws';
import { GatewayError, errorMessage } from '../../../errors.js';
import type { Logger } from '../../../logger.js';
import type { GatewayMetrics } from '../../../metrics.js';
import type { SpeechStreamController } from '../../SpeechStream.js';
import type { RecognitionResult, WordTiming } from '../../types.js';
import { parseVoskResult, voskMessageKind } from '../vosk/result.js';
import { EOF, configMessage, rawText } from './protocol.js';
import type { ServerSet } from './ServerSet.js';

export interface VoskServerSessionOptions {
  readonly servers: ServerSet;
  readonly sampleRate: number;
  /** Hypotheses after the best wanted with each final. */
  readonly alternatives: number;
  readonly logger: Logger;
  readonly metrics: GatewayMetrics;
  readonly connectTimeoutMs: number;
  readonly responseTimeoutMs: number;
  /** Audio seconds the server answered for, for the service's accounting. */
  readonly onProcessed: (audioSeconds: number) => void;
  /** The stream moved to another server (for the service's health). */
  readonly onFailover: () => void;
}

/** The `reason` label of sgw_asr_remote_failovers_total. */
type FailoverReason = 'connection-lost' | 'stalled' | 'garbage';

const MAX_RECONNECT_DELAY_MS = 5000;

export class VoskServerSession {
  private controller: SpeechStreamController | undefined;
  private ws: WebSocket | undefined;
  private url: string | undefined;
  private state: 'idle' | 'open' | 'reconnecting' | 'closed' = 'idle';
  /** Samples of each audio message the current server has not answered yet, oldest first. */
  private readonly inFlight: number[] = [];
  /** Audio written while reconnecting, sent once a server takes the stream. */
  private readonly waiting: ArrayBuffer[] = [];
  private answeredSamples = 0;
  private utterance = 0;
  private utteranceStartMs = 0;
  private lastPartial = '';
  private stallTimer: NodeJS.Timeout | undefined;
  private ending: { resolve: () => void; eofSent: boolean } | undefined;

  constructor(private readonly options: VoskServerSessionOptions) {}

  /** Connects to a healthy server; rejects with SGW_ASR_UNAVAILABLE when none takes the stream. */
  async open(controller: SpeechStreamController): Promise<void> {
    this.controller = controller;
    if (!(await this.connectAny())) {
      this.state = 'closed';
      throw new GatewayError('SGW_ASR_UNAVAILABLE', `no speech server took the stream (${this.options.servers.upCount} of ${this.options.servers.size} up)`);
    }
  }

  /** Sends or holds one chunk; false when the session is closed (the stream counts it dropped). */
  send(pcm: ArrayBuffer): boolean {
    if (this.state === 'reconnecting') {
      this.waiting.push(pcm);
      return true;
    }
    const ws = this.ws;
    if (this.state !== 'open' || ws === undefined || this.ending !== undefined) return false;
    this.inFlight.push(pcm.byteLength >> 1);
    ws.send(pcm, { binary: true });
    this.armStallTimer();
    return true;
  }

  /** Asks for the last final (eof); resolves when it arrived or the server went away. */
  end(): Promise<void> {
    if (this.state === 'closed' || this.state === 'idle') return Promise.resolve();
    if (this.state === 'reconnecting') {
      // No server has the stream: nothing is left to flush, and the audio held for the next one is a gap.
      this.controller?.rebind();
      this.close();
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      this.ending = { resolve, eofSent: false };
      this.sendEof();
    });
  }

  close(): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    clearTimeout(this.stallTimer);
    if (this.ws !== undefined) discard(this.ws);
    this.ws = undefined;
    this.settleEnd();
  }

  // ---- connection ----

  /** A method, not a field test: the state changes across the awaits of a connect. */
  private isClosed(): boolean {
    return this.state === 'closed';
  }

  /** Tries each healthy server once; true when one took the stream. */
  private async connectAny(exclude?: string): Promise<boolean> {
    const tried = new Set<string>();
    for (;;) {
      const url = this.options.servers.pick(exclude);
      if (url === undefined || tried.has(url) || this.state === 'closed') return false;
      tried.add(url);
      exclude = undefined;
      try {
        const ws = await this.connect(url);
        if (this.isClosed()) {
          ws.terminate();
          return false;
        }
        this.attach(ws, url);
        return true;
      } catch (err) {
        this.options.servers.markDown(url, `connect failed: ${errorMessage(err)}`);
      }
    }
  }

  private connect(url: string): Promise<WebSocket> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, { handshakeTimeout: this.options.connectTimeoutMs });
      ws.once('open', () => {
        ws.removeAllListeners('error');
        resolve(ws);
      });
      ws.once('error', (err) => {
        ws.terminate();
        reject(err);
      });
    });
  }

  private attach(ws: WebSocket, url: string): void {
    this.ws = ws;
    this.url = url;
    this.state = 'open';
    this.options.servers.markUp(url);
    const alternatives = this.options.alternatives;
    ws.send(configMessage({ sample_rate: this.options.sampleRate, words: true, ...(alternatives > 0 ? { max_alternatives: alternatives + 1 } : {}) }));
    ws.on('message', (data, isBinary) => this.onMessage(ws, isBinary ? '' : rawText(data)));
    ws.on('close', () => this.onClose(ws));
    ws.on('error', (err) => this.failover(ws, 'connection-lost', errorMessage(err)));
    for (const pcm of this.waiting.splice(0)) this.send(pcm);
  }

  private sendEof(): void {
    const ending = this.ending;
    if (ending === undefined || ending.eofSent || this.ws === undefined) return;
    ending.eofSent = true;
    this.ws.send(EOF);
    this.armStallTimer();
  }

  // ---- answers ----

  private onMessage(ws: WebSocket, text: string): void {
    if (ws !== this.ws) return;
    const kind = voskMessageKind(text);
    if (kind === 'invalid') {
      this.failover(ws, 'garbage', `not the vosk-server protocol: ${JSON.stringify(text.slice(0, 80))}`);
      return;
    }
    const answered = this.inFlight.shift();
    if (answered === undefined && this.ending?.eofSent !== true) {
      this.failover(ws, 'garbage', 'an answer to no request');
      return;
    }
    if (answered !== undefined) {
      this.answeredSamples += answered;
      this.controller?.acknowledge(answered);
      this.options.onProcessed(answered / this.options.sampleRate);
    }
    if (kind === 'final') this.deliverFinal(text);
    else this.deliverPartial(text);
    if (answered === undefined) {
      // The eof's final: the recogniser is done and the server closes.
      this.close();
      return;
    }
    this.armStallTimer();
  }

  private get answeredMs(): number {
    return (this.answeredSamples * 1000) / this.options.sampleRate;
  }

  private deliverPartial(text: string): void {
    const { text: partial } = parseVoskResult(text);
    if (partial === '' || partial === this.lastPartial) return;
    this.lastPartial = partial;
    this.controller?.deliver([{ final: false, utteranceId: this.utterance, text: partial, startMs: this.utteranceStartMs, endMs: this.answeredMs, words: [] }]);
  }

  private deliverFinal(text: string): void {
    const { text: best, words, alternatives } = parseVoskResult(text);
    const hadPartial = this.lastPartial !== '';
    this.lastPartial = '';
    if (best === '' && !hadPartial) return;
    const result: RecognitionResult = {
      final: true,
      utteranceId: this.utterance,
      text: best,
      startMs: firstStart(words) ?? this.utteranceStartMs,
      endMs: lastEnd(words) ?? this.answeredMs,
      words,
      ...(alternatives.length > 0 ? { alternatives: alternatives.slice(0, this.options.alternatives) } : {}),
    };
    this.controller?.deliver([result]);
    this.utterance++;
    this.utteranceStartMs = result.endMs;
  }

  // ---- failure ----

  private armStallTimer(): void {
    clearTimeout(this.stallTimer);
    const ws = this.ws;
    if (ws === undefined || (this.inFlight.length === 0 && this.ending?.eofSent !== true)) return;
    this.stallTimer = setTimeout(() => this.failover(ws, 'stalled', `no answer for ${this.options.responseTimeoutMs} ms`), this.options.responseTimeoutMs);
    this.stallTimer.unref();
  }

  private onClose(ws: WebSocket): void {
    if (ws !== this.ws) return;
    this.failover(ws, 'connection-lost', 'the server closed the connection');
  }

  /**
   * The server lost the stream: what it had not answered is a gap; the
   * stream goes on with a new recogniser elsewhere (or on the same server
   * once it is back), retrying with backoff until it is closed.
   */
  private failover(ws: WebSocket, reason: FailoverReason, detail: string): void {
    if (ws !== this.ws || this.state !== 'open') return;
    clearTimeout(this.stallTimer);
    discard(ws);
    this.ws = undefined;
    const url = this.url ?? '';
    this.options.servers.markDown(url, `${reason}: ${detail}`);
    this.options.metrics.asrRemoteFailovers.inc({ reason });
    this.options.onFailover();
    const lostMs = this.controller?.rebind() ?? 0;
    this.inFlight.length = 0;
    this.answeredSamples = 0;
    this.utterance = 0;
    this.utteranceStartMs = 0;
    this.lastPartial = '';
    if (this.ending !== undefined) {
      // Nothing is left to flush: the utterance in progress went with the server.
      this.options.logger.warn({ server: url, reason: detail, lostAudioMs: Math.round(lostMs) }, 'speech server lost the stream while it was ending');
      this.close();
      return;
    }
    this.options.logger.warn({ server: url, reason: detail, lostAudioMs: Math.round(lostMs) }, 'speech server lost the stream; moving it to another server');
    this.state = 'reconnecting';
    void this.reconnect(url);
  }

  private async reconnect(failed: string): Promise<void> {
    for (let attempt = 0; this.state === 'reconnecting'; attempt++) {
      if (await this.connectAny(attempt === 0 ? failed : undefined)) return;
      if (this.isClosed()) return;
      await new Promise((resolve) => setTimeout(resolve, Math.min(MAX_RECONNECT_DELAY_MS, 250 * 2 ** attempt)).unref());
    }
  }

  private settleEnd(): void {
    const ending = this.ending;
    this.ending = undefined;
    ending?.resolve();
  }
}

/** Drops a connection without hearing from it again (a late 'error' must not reach anyone). */
function discard(ws: WebSocket): void {
  ws.removeAllListeners();
  ws.on('error', () => undefined);
  ws.terminate();
}

function firstStart(words: readonly WordTiming[]): number | undefined {
  return words[0]?.startMs;
}

function lastEnd(words: readonly WordTiming[]): number | undefined {
  return words[words.length - 1]?.endMs;
}
