/**
 * M WebSocket clients of /v1/events, as agent and supervisor screens would
 * be: each counts what it receives, and keeps the arrival time of the events
 * latency is measured on (intents, final transcripts, call starts).
 */
import { WebSocket } from 'ws';
import { wallNow } from './MediaPump.js';

export interface ReceivedIntent {
  readonly callId: string;
  readonly intent: string;
  readonly leg: string;
  readonly source: string;
  readonly receivedAt: number;
}

export interface ReceivedFinal {
  readonly callId: string;
  readonly leg: string;
  readonly endMs: number;
  readonly receivedAt: number;
}

interface MinimalEvent {
  readonly type?: unknown;
  readonly callId?: unknown;
  readonly intent?: unknown;
  readonly leg?: unknown;
  readonly source?: unknown;
  readonly final?: unknown;
  readonly endMs?: unknown;
}

export class EventClient {
  events = 0;
  bytes = 0;
  readonly intents: ReceivedIntent[] = [];
  /** Final transcripts; kept by the first client only (lag is the same for all). */
  readonly finals: ReceivedFinal[] = [];
  closedUnexpectedly = false;
  #closing = false;

  private constructor(
    readonly ws: WebSocket,
    keepFinals: boolean,
  ) {
    ws.on('message', (data: Buffer) => {
      const receivedAt = wallNow();
      this.events++;
      this.bytes += data.length;
      let event: MinimalEvent;
      try {
        event = JSON.parse(data.toString('utf8')) as MinimalEvent;
      } catch {
        return;
      }
      if (typeof event.callId !== 'string') return;
      if (event.type === 'intent' && typeof event.intent === 'string') {
        this.intents.push({ callId: event.callId, intent: event.intent, leg: String(event.leg), source: typeof event.source === 'string' ? event.source : 'transcript', receivedAt });
      } else if (keepFinals && event.type === 'transcript' && event.final === true && typeof event.endMs === 'number') {
        this.finals.push({ callId: event.callId, leg: String(event.leg), endMs: event.endMs, receivedAt });
      }
    });
    ws.on('close', () => {
      if (!this.#closing) this.closedUnexpectedly = true;
    });
  }

  static async connect(httpPort: number, keepFinals: boolean): Promise<EventClient> {
    // Only what screens act on: no partials, no sentiment (a supervisor wall subscribes the same way).
    const ws = new WebSocket(`ws://127.0.0.1:${httpPort}/v1/events?types=call.started,transcript,intent,prompt,escalation,alert,call.summary,call.ended`, { perMessageDeflate: false });
    const client = new EventClient(ws, keepFinals);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    return client;
  }

  close(): void {
    this.#closing = true;
    this.ws.close();
  }
}
