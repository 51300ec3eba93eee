import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { CallManager } from '../calls/CallManager.js';
import type { CallSnapshot } from '../calls/types.js';
import { ErrorCodes, GatewayError, errorMessage, type ErrorCode } from '../errors.js';
import type { Logger } from '../logger.js';
import type { LogLimiter } from '../LogLimiter.js';
import { createRedisClient, redisErrorMessage } from './redisClient.js';

export interface InstanceCommandsOptions {
  readonly url: string;
  readonly keyPrefix: string;
  readonly instanceId: string;
  readonly calls: CallManager;
  readonly logger: Logger;
  readonly logLimiter: LogLimiter;
  /** How long a forwarded request waits for its answer (default 10 s). */
  readonly timeoutMs?: number;
}

/** A request to the gateway that has the call, and its answer, on Redis pub/sub. */
type Message =
  | { readonly op: 'end'; readonly requestId: string; readonly from: string; readonly callId: string }
  | { readonly op: 'reply'; readonly requestId: string; readonly snapshot?: CallSnapshot; readonly error?: { readonly code: string; readonly message: string } };

/** Requests waiting for their answer at most; one more is refused (UNAVAILABLE). */
const MAX_PENDING = 1000;

/**
 * Control requests for a call another gateway of the cluster has (EndCall),
 * forwarded to that gateway and answered when it is done. Each gateway
 * subscribes to `<prefix>commands:<instance id>`; a request carries the
 * asker's id, the answer goes to the asker's channel. A gateway that is not
 * subscribed (gone), or that does not answer within the timeout, gets the
 * asker an `SGW_CLUSTER_UNAVAILABLE` (gRPC UNAVAILABLE).
 */
export class InstanceCommands {
  private readonly subscriber: Redis;
  private readonly publisher: Redis;
  private readonly pending = new Map<string, { resolve: (snapshot: CallSnapshot) => void; reject: (err: Error) => void; timer: NodeJS.Timeout }>();
  private readonly channel: string;

  constructor(private readonly options: InstanceCommandsOptions) {
    const { logger, logLimiter, instanceId } = options;
    this.channel = this.channelOf(instanceId);
    this.subscriber = createRedisClient({ url: options.url, name: `${instanceId}:commands`, logger, logLimiter, socketTimeoutMs: undefined });
    this.publisher = createRedisClient({ url: options.url, name: `${instanceId}:commands-out`, logger, logLimiter, socketTimeoutMs: 3000 });
    // Re-subscribed on every (re)connect: the client is told not to resend anything by itself.
    this.subscriber.on('ready', () => {
      this.subscriber.subscribe(this.channel).catch((err: unknown) => logLimiter.log(logger, 'warn', 'event-bus-error', 'commands', { err: redisErrorMessage(err) }, 'subscribing to the command channel failed'));
    });
    this.subscriber.on('message', (_channel: string, text: string) => this.onMessage(text));
  }

  private channelOf(instanceId: string): string {
    return `${this.options.keyPrefix}commands:${instanceId}`;
  }

  /**
   * Ends `callId` on `instanceId` (reason `ended-by-request`) and resolves
   * with its snapshot once that gateway has ended it.
   * @throws GatewayError as the owner answered (e.g. SGW_CALL_NOT_FOUND), or SGW_CLUSTER_UNAVAILABLE.
   */
  async endCall(instanceId: string, callId: string): Promise<CallSnapshot> {
    if (this.pending.size >= MAX_PENDING) throw new GatewayError('SGW_CLUSTER_UNAVAILABLE', `too many requests waiting for other gateways; retry`);
    const requestId = randomUUID();
    const answer = new Promise<CallSnapshot>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(requestId);
        reject(new GatewayError('SGW_CLUSTER_UNAVAILABLE', `call ${callId.slice(0, 128)} is on gateway ${instanceId}, which did not answer within ${this.options.timeoutMs ?? 10_000} ms`));
      }, this.options.timeoutMs ?? 10_000);
      this.pending.set(requestId, { resolve, reject, timer });
    });
    const message: Message = { op: 'end', requestId, from: this.options.instanceId, callId };
    let receivers: number;
    try {
      receivers = await this.publisher.publish(this.channelOf(instanceId), JSON.stringify(message));
    } catch (err) {
      this.settle(requestId, new GatewayError('SGW_CLUSTER_UNAVAILABLE', `call ${callId.slice(0, 128)} is on gateway ${instanceId}, which cannot be reached now (Redis: ${redisErrorMessage(err)})`));
      return answer;
    }
    if (receivers === 0) this.settle(requestId, new GatewayError('SGW_CLUSTER_UNAVAILABLE', `call ${callId.slice(0, 128)} is on gateway ${instanceId}, which is not connected to the cluster`));
    return answer;
  }

  private settle(requestId: string, result: CallSnapshot | Error): void {
    const waiting = this.pending.get(requestId);
    if (waiting === undefined) return;
    this.pending.delete(requestId);
    clearTimeout(waiting.timer);
    if (result instanceof Error) waiting.reject(result);
    else waiting.resolve(result);
  }

  private onMessage(text: string): void {
    let message: Message;
    try {
      message = JSON.parse(text) as Message;
    } catch {
      this.options.logLimiter.log(this.options.logger, 'warn', 'event-bus-error', 'commands', { problem: 'not JSON' }, 'unreadable message on the command channel: ignored');
      return;
    }
    if (message.op === 'reply') {
      if (message.snapshot !== undefined) this.settle(message.requestId, message.snapshot);
      else this.settle(message.requestId, new GatewayError(isErrorCode(message.error?.code) ? message.error.code : 'SGW_CLUSTER_UNAVAILABLE', message.error?.message ?? 'no answer'));
      return;
    }
    if (message.op === 'end' && typeof message.callId === 'string' && typeof message.from === 'string') {
      const { requestId, from, callId } = message;
      this.options.calls.end(callId, 'ended-by-request').then(
        (snapshot) => this.reply(from, { op: 'reply', requestId, snapshot }),
        (err: unknown) => this.reply(from, { op: 'reply', requestId, error: { code: err instanceof GatewayError ? err.code : 'SGW_CLUSTER_UNAVAILABLE', message: errorMessage(err) } }),
      );
    }
  }

  private reply(to: string, message: Message): void {
    this.publisher.publish(this.channelOf(to), JSON.stringify(message)).catch((err: unknown) =>
      this.options.logLimiter.log(this.options.logger, 'warn', 'event-bus-error', 'commands', { err: redisErrorMessage(err) }, 'answering a forwarded request failed'),
    );
  }

  close(): void {
    for (const [requestId] of this.pending) this.settle(requestId, new GatewayError('SGW_SHUTTING_DOWN', 'gateway is shutting down'));
    this.subscriber.disconnect();
    this.publisher.disconnect();
  }
}

function isErrorCode(code: string | undefined): code is ErrorCode {
  return code !== undefined && Object.hasOwn(ErrorCodes, code);
}
