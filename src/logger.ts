import { inspect } from 'node:util';
import { pino, type Bindings, type Logger } from 'pino';

export type { Logger };

/**
 * Keys pino writes itself on every line (`pid` and `hostname` are not in our
 * base, but pipelines expect pino's meaning for them). A field of the same
 * name in a log call would make a second key on the line, and JSON parsers
 * keep the last: `{"level":30,...,"level":"critical"}` reads as level
 * "critical".
 */
export const PINO_KEYS: ReadonlySet<string> = new Set(['level', 'time', 'msg', 'pid', 'hostname']);

/** Suffix a colliding field is renamed with: `level` → `levelField`. */
const RENAMED_SUFFIX = 'Field';

/** Bindings per child logger (parsed once: child loggers are not re-bound here). */
const bindingsOf = new WeakMap<object, Bindings>();

/**
 * Root logger. JSON lines on stdout; every call gets a child logger carrying
 * its `callId` so one call's lines can be grepped out of a busy gateway.
 * Untrusted input (SDP-ish strings, client JSON) is only ever logged as named
 * scalar fields, never merged into the log object.
 *
 * Every line has each key once, whatever a log call passes (see
 * {@link withoutCollisions}).
 */
export function createLogger(level: string = process.env['LOG_LEVEL'] ?? 'info', destination?: pino.DestinationStream): Logger {
  const options: pino.LoggerOptions = {
    level,
    base: { service: 'speech-gateway' },
    timestamp: pino.stdTimeFunctions.isoTime,
    // The mixin hands the logger's bindings to the merge strategy, which is the one place that sees a call's fields.
    mixin: (_fields, _level, logger) => {
      let bindings = bindingsOf.get(logger);
      if (bindings === undefined) {
        bindings = logger.bindings();
        bindingsOf.set(logger, bindings);
      }
      return bindings;
    },
    mixinMergeStrategy: (fields, bindings) => withoutCollisions(fields as Record<string, unknown>, bindings),
  };
  return destination === undefined ? pino(options) : pino(options, destination);
}

/**
 * The fields of one log call, made safe to write after pino's own keys and
 * the logger's bindings: a field named like one of {@link PINO_KEYS} or like a
 * binding with another value is renamed with the suffix `Field`
 * (`levelField`); a field repeating a binding with the same value is left
 * out; `err` is pino's error key, so a value that is not an error (a message
 * string) becomes an {@link ErrorMessage} and `err` keeps one shape in log
 * pipelines (`{"type":"ErrorMessage","message":…,"stack":""}`).
 * The caller's object is never changed.
 */
export function withoutCollisions(fields: Readonly<Record<string, unknown>>, bindings: Bindings): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(fields)) {
    if (Object.prototype.hasOwnProperty.call(bindings, key)) {
      if (sameValue(bindings[key], value)) continue;
      out[uniqueName(key, fields, bindings)] = value;
    } else if (PINO_KEYS.has(key)) {
      out[uniqueName(key, fields, bindings)] = value;
    } else if (key === 'err' && value !== undefined && !isErrorLike(value)) {
      out[key] = new ErrorMessage(typeof value === 'string' ? value : inspect(value, { depth: 2, breakLength: Infinity }));
    } else {
      out[key] = value;
    }
  }
  return out;
}

function uniqueName(key: string, fields: Readonly<Record<string, unknown>>, bindings: Bindings): string {
  let name = `${key}${RENAMED_SUFFIX}`;
  while (PINO_KEYS.has(name) || Object.prototype.hasOwnProperty.call(fields, name) || Object.prototype.hasOwnProperty.call(bindings, name)) name += RENAMED_SUFFIX;
  return name;
}

function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  // Bindings come back from JSON: compare the way they were written.
  try {
    return typeof b === 'object' && b !== null && JSON.stringify(a) === JSON.stringify(b);
  } catch {
    return false;
  }
}

/** What `err` holds when a log call gave only an error's message: pino's error serializer writes it with this type. */
export class ErrorMessage {
  constructor(readonly message: string) {}
}

function isErrorLike(value: unknown): boolean {
  return value instanceof Error || (typeof value === 'object' && value !== null && typeof (value as { message?: unknown }).message === 'string');
}
