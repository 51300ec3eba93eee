import { Redis } from 'ioredis';
import { errorMessage } from '../errors.js';
import type { Logger } from '../logger.js';
import type { LogLimiter } from '../LogLimiter.js';

export interface RedisClientOptions {
  /** `redis://[user:password@]host:port[/db]` (or `rediss://` for TLS). */
  readonly url: string;
  /** Shown in CLIENT LIST and in this gateway's log lines. */
  readonly name: string;
  readonly logger: Logger;
  readonly logLimiter: LogLimiter;
  /** A reply not begun within this long means a hung server: the socket is dropped and reconnected. Undefined: none (a subscriber). */
  readonly socketTimeoutMs: number | undefined;
  /** Called with every connection or command error (the bus keeps the last one for /readyz). */
  readonly onError?: (message: string) => void;
}

/**
 * An ioredis connection the way the cluster uses them: commands fail at once
 * while it is down (nothing queues invisibly: the bus keeps its own bounded
 * buffer), nothing is resent after a reconnect (the caller retries from what
 * it knows), reconnects back off 50 ms … 2 s, and errors go to one
 * rate-limited log line per connection.
 */
export function createRedisClient(options: RedisClientOptions): Redis {
  const redis = new Redis(options.url, {
    connectionName: options.name,
    enableOfflineQueue: false,
    autoResendUnfulfilledCommands: false,
    maxRetriesPerRequest: 0,
    connectTimeout: 2000,
    ...(options.socketTimeoutMs === undefined ? {} : { socketTimeout: options.socketTimeoutMs }),
    retryStrategy: (times) => Math.min(50 * 2 ** Math.min(times, 6), 2000),
    // The stream ids and replies are read as RESP2 shapes (streamReplies.ts).
    protocol: 2,
    disableClientInfo: true,
  });
  redis.on('error', (err: unknown) => {
    const message = redisErrorMessage(err);
    options.onError?.(message);
    options.logLimiter.log(options.logger, 'warn', 'event-bus-error', options.name, { connection: options.name, err: message }, 'Redis connection error');
  });
  return redis;
}

/** An error's message; a socket error whose message is empty (an AggregateError of refused connects) by its code. */
export function redisErrorMessage(err: unknown): string {
  const message = errorMessage(err);
  if (message !== '') return message;
  const code = typeof err === 'object' && err !== null && 'code' in err ? String(err.code) : '';
  return code !== '' ? code : 'connection error';
}
