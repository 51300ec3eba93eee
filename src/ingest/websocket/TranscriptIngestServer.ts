import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer, type RawData } from 'ws';
import type { Credential } from '../../auth/credential.js';
import type { CallManager } from '../../calls/CallManager.js';
import { GatewayError, errorMessage, invalidArgument } from '../../errors.js';
import { LANGUAGES, isLanguage } from '../../language.js';
import type { Logger } from '../../logger.js';
import type { GatewayMetrics } from '../../metrics.js';
import type { LegRole } from '../../events.js';
import { parseTranscriptPush } from '../transcripts/transcriptPush.js';

export const TRANSCRIPTS_PATH = '/v1/transcripts';

/** Largest message accepted; bigger frames are refused by ws with close code 1009. */
export const MAX_TRANSCRIPT_MESSAGE_BYTES = 64 * 1024;

/** Close codes of /v1/transcripts (RFC 6455 §7.4). */
export const TranscriptCloseCodes = {
  GOING_AWAY: 1001,
  /** Not JSON, or binary: the protocol is JSON text messages. */
  INVALID_PAYLOAD: 1007,
  MESSAGE_TOO_BIG: 1009,
} as const;

/**
 * `/v1/transcripts`: the gRPC transcript ingest over a WebSocket, for
 * platforms that already transcribe and want the analytics alone. JSON text
 * messages:
 *
 *   {"type":"call.start","callId","agentId","queue","language","legs":["customer","agent"]}
 *   {"type":"transcript","callId","leg","text","final","utteranceId","startMs","endMs","words"?}
 *   {"type":"call.end","callId"}
 *
 * Replies: `call.started` / `call.ended` acknowledgements, and
 * `{"type":"error","code","message","ref"}` for a refused message (`ref` is
 * the message's own `ref` field, if it had one). A refused message never
 * closes the connection; text that is not JSON closes it with 1007.
 * Events of these calls are published on /v1/events like any other.
 */
export class TranscriptIngestServer {
  private readonly wss: WebSocketServer;
  private readonly sockets = new Set<WebSocket>();
  private closed = false;

  constructor(
    private readonly calls: CallManager,
    private readonly metrics: GatewayMetrics,
    private readonly logger: Logger,
  ) {
    this.wss = new WebSocketServer({ noServer: true, maxPayload: MAX_TRANSCRIPT_MESSAGE_BYTES, clientTracking: false });
  }

  /** `credential`: who the connection's calls count against (MAX_CALLS_PER_CREDENTIAL). */
  handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer, credential: Credential): void {
    this.wss.handleUpgrade(request, socket, head, (ws) => {
      if (this.closed) {
        ws.close(TranscriptCloseCodes.GOING_AWAY, 'server shutting down');
        return;
      }
      this.sockets.add(ws);
      ws.on('message', (data: RawData, isBinary: boolean) => this.onMessage(ws, data, isBinary, credential));
      ws.on('error', (err) => this.logger.debug({ err: err.message }, 'transcript ingest socket error'));
      ws.on('close', () => this.sockets.delete(ws));
    });
  }

  private onMessage(ws: WebSocket, data: RawData, isBinary: boolean, credential: Credential): void {
    let message: Record<string, unknown>;
    try {
      if (isBinary) throw new Error('binary frame');
      const parsed: unknown = JSON.parse(rawToString(data));
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('not an object');
      message = parsed as Record<string, unknown>;
    } catch {
      this.metrics.transcriptsPushed.inc({ channel: 'websocket', outcome: 'malformed' });
      ws.close(TranscriptCloseCodes.INVALID_PAYLOAD, 'messages must be JSON objects in text frames');
      return;
    }
    const ref = typeof message['ref'] === 'string' ? message['ref'].slice(0, 64) : undefined;
    this.handle(message, credential).then(
      (reply) => {
        if (reply !== undefined) send(ws, { ...reply, ...(ref === undefined ? {} : { ref }) });
      },
      (err: unknown) => {
        this.metrics.transcriptsPushed.inc({ channel: 'websocket', outcome: 'refused' });
        const code = err instanceof GatewayError ? err.code : 'SGW_INTERNAL';
        if (!(err instanceof GatewayError)) this.logger.error({ err: errorMessage(err) }, 'transcript ingest failed');
        send(ws, { type: 'error', code, message: err instanceof GatewayError ? err.message : 'internal error', ...(ref === undefined ? {} : { ref }) });
      },
    );
  }

  private async handle(message: Record<string, unknown>, credential: Credential): Promise<Record<string, unknown> | undefined> {
    switch (message['type']) {
      case 'transcript': {
        const push = parseTranscriptPush({
          callId: message['callId'],
          role: message['leg'],
          text: message['text'],
          final: message['final'],
          utteranceId: message['utteranceId'],
          startMs: message['startMs'],
          endMs: message['endMs'],
          words: message['words'],
        }, (name) => (name === 'role' ? 'leg' : name));
        this.calls.pushTranscript(push.callId, push.role, push.result);
        this.metrics.transcriptsPushed.inc({ channel: 'websocket', outcome: 'accepted' });
        return undefined;
      }
      case 'call.start': {
        const callId = message['callId'];
        const language = message['language'];
        const legs = message['legs'] ?? ['customer', 'agent'];
        if (typeof callId !== 'string' || !/^[A-Za-z0-9._:-]{1,128}$/.test(callId)) throw invalidArgument('callId', 'must be 1-128 characters of [A-Za-z0-9._:-]');
        if (typeof language !== 'string' || !isLanguage(language)) throw invalidArgument('language', `must be one of ${LANGUAGES.join(', ')}`);
        if (!Array.isArray(legs) || legs.length === 0 || legs.length > 2 || new Set(legs).size !== legs.length || !legs.every((l) => l === 'customer' || l === 'agent')) {
          throw invalidArgument('legs', 'must list "customer" and/or "agent" once each');
        }
        const label = (name: string): string => {
          const value = message[name] ?? '';
          if (typeof value !== 'string' || value.length > 128) throw invalidArgument(name, 'must be a string of at most 128 characters');
          return value;
        };
        await this.calls.start({
          callId,
          agentId: label('agentId'),
          queue: label('queue'),
          language,
          transcriptsOnly: true,
          legs: (legs as LegRole[]).map((role) => ({ role, codec: { name: 'L16', clockRate: 16000, payloadType: 96 } })),
        }, credential, 'transcripts');
        return { type: 'call.started', callId };
      }
      case 'call.end': {
        const callId = message['callId'];
        if (typeof callId !== 'string' || callId === '') throw invalidArgument('callId', 'is required');
        await this.calls.end(callId, 'ended-by-request');
        return { type: 'call.ended', callId };
      }
      default:
        throw invalidArgument('type', 'must be call.start, transcript or call.end');
    }
  }

  /** Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const ws of this.sockets) ws.close(TranscriptCloseCodes.GOING_AWAY, 'server shutting down');
    this.sockets.clear();
    this.wss.close();
  }
}

function rawToString(data: RawData): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return Buffer.from(data as ArrayBuffer).toString('utf8');
}

function send(ws: WebSocket, message: Record<string, unknown>): void {
  if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(message));
}
