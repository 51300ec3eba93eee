/**
 * vosk-server's WebSocket protocol (alphacep/vosk-server, websocket/asr_server.py):
 * a text `{"config": {...}}` first, binary 16-bit mono PCM, one JSON answer
 * per message (`{"partial"}` or a final, see ../vosk/result.ts), and
 * `{"eof" : 1}` for the last final, after which the server closes.
 */
import type WebSocket from 'ws';

/** The server compares the text verbatim, spaces included. */
export const EOF = '{"eof" : 1}';

export interface VoskServerConfig {
  readonly sample_rate: number;
  /** Hypotheses in a final's `alternatives`, the best included; absent or 0: a plain final. */
  readonly max_alternatives?: number;
  /** Word times in finals (`result`). */
  readonly words: boolean;
}

export function configMessage(config: VoskServerConfig): string {
  return JSON.stringify({ config });
}

export function rawText(data: WebSocket.RawData): string {
  if (Buffer.isBuffer(data)) return data.toString('utf8');
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return Buffer.from(data).toString('utf8');
}
