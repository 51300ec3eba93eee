import { pino, type Logger } from 'pino';

export type { Logger };

/**
 * Root logger. JSON lines on stdout; every call gets a child logger carrying
 * its `callId` so one call's lines can be grepped out of a busy gateway.
 * Untrusted input (SDP-ish strings, client JSON) is only ever logged as named
 * scalar fields, never merged into the log object.
 */
export function createLogger(level: string = process.env['LOG_LEVEL'] ?? 'info'): Logger {
  return pino({
    level,
    base: { service: 'speech-gateway' },
    timestamp: pino.stdTimeFunctions.isoTime,
  });
}
