/**
 * The gateway's error catalog. Every error a client or operator can see has a
 * stable `code` (never reworded once shipped) and maps to one gRPC status.
 */
import { status as GrpcStatus } from '@grpc/grpc-js';

/** A code's gRPC status, and its HTTP status where the usual mapping of that gRPC status says the wrong thing. */
interface ErrorSpec {
  readonly grpc: number;
  readonly http?: number;
}

export const ErrorCodes = {
  SGW_INVALID_ARGUMENT: { grpc: GrpcStatus.INVALID_ARGUMENT },
  SGW_PORTS_EXHAUSTED: { grpc: GrpcStatus.RESOURCE_EXHAUSTED },
  SGW_ASR_OVERLOADED: { grpc: GrpcStatus.RESOURCE_EXHAUSTED },
  /** The credential (token subject, API key, stream token) already has MAX_CALLS_PER_CREDENTIAL calls active. */
  SGW_CALL_LIMIT: { grpc: GrpcStatus.RESOURCE_EXHAUSTED },
  SGW_CALL_NOT_FOUND: { grpc: GrpcStatus.NOT_FOUND },
  SGW_CALL_EXISTS: { grpc: GrpcStatus.ALREADY_EXISTS },
  SGW_LANGUAGE_UNSUPPORTED: { grpc: GrpcStatus.FAILED_PRECONDITION },
  SGW_NOT_TRANSCRIPTS_ONLY: { grpc: GrpcStatus.FAILED_PRECONDITION },
  /** Suspending or resuming recognition on a call without audio legs (transcripts only). */
  SGW_NO_AUDIO: { grpc: GrpcStatus.FAILED_PRECONDITION },
  SGW_ASR_UNAVAILABLE: { grpc: GrpcStatus.UNAVAILABLE },
  SGW_CONFIG: { grpc: GrpcStatus.INTERNAL },
  SGW_SHUTTING_DOWN: { grpc: GrpcStatus.UNAVAILABLE },
  /** The gateway is draining (SIGTERM or POST /v1/admin/drain): its calls go on, new ones go to another instance. */
  SGW_DRAINING: { grpc: GrpcStatus.UNAVAILABLE },
  /** No token, or one that does not verify (bad signature, wrong algorithm, expired, missing claims). HTTP 401. */
  SGW_UNAUTHENTICATED: { grpc: GrpcStatus.UNAUTHENTICATED },
  /** A valid token whose role or scope does not cover the request. HTTP 403. */
  SGW_PERMISSION_DENIED: { grpc: GrpcStatus.PERMISSION_DENIED },
  SGW_ALERT_NOT_FOUND: { grpc: GrpcStatus.NOT_FOUND },
  /** No webhook subscription (or dead letter) with that id. HTTP 404. */
  SGW_WEBHOOK_NOT_FOUND: { grpc: GrpcStatus.NOT_FOUND },
  /** A webhook subscription with that id exists already. HTTP 409. */
  SGW_WEBHOOK_EXISTS: { grpc: GrpcStatus.ALREADY_EXISTS },
  /** The call-record database did not answer (an outage): the request may be repeated later. HTTP 503. */
  SGW_STORE_UNAVAILABLE: { grpc: GrpcStatus.UNAVAILABLE },
  /** No call-record store is configured (DATABASE_FILE=off): the insights API has nothing to read. HTTP 404. */
  SGW_STORE_OFF: { grpc: GrpcStatus.NOT_FOUND },
  /** The call is still running: its record does not exist yet (erase it once it has ended). HTTP 400. */
  SGW_CALL_ACTIVE: { grpc: GrpcStatus.FAILED_PRECONDITION },
  /** A frame or message over the protocol's size limit (StreamAudio chunk > 64 KiB, an admin request body > 64 KiB). HTTP 413: the request, not the client's rate, is at fault. */
  SGW_PAYLOAD_TOO_LARGE: { grpc: GrpcStatus.RESOURCE_EXHAUSTED, http: 413 },
  /** A request for a call another gateway of the cluster has (EndCall) could not reach that gateway, or it did not answer. */
  SGW_CLUSTER_UNAVAILABLE: { grpc: GrpcStatus.UNAVAILABLE },
} as const satisfies Record<string, ErrorSpec>;

export type ErrorCode = keyof typeof ErrorCodes;

export class GatewayError extends Error {
  override readonly name = 'GatewayError';
  constructor(
    readonly code: ErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }

  get grpcStatus(): number {
    return ErrorCodes[this.code].grpc;
  }

  get httpStatus(): number {
    const spec: ErrorSpec = ErrorCodes[this.code];
    return spec.http ?? HTTP_STATUS_OF_GRPC[this.grpcStatus] ?? 500;
  }
}

/** The HTTP status of each gRPC status the catalog uses (the usual gRPC-HTTP mapping). */
const HTTP_STATUS_OF_GRPC: Readonly<Record<number, number>> = {
  [GrpcStatus.INVALID_ARGUMENT]: 400,
  [GrpcStatus.FAILED_PRECONDITION]: 400,
  [GrpcStatus.UNAUTHENTICATED]: 401,
  [GrpcStatus.PERMISSION_DENIED]: 403,
  [GrpcStatus.NOT_FOUND]: 404,
  [GrpcStatus.ALREADY_EXISTS]: 409,
  [GrpcStatus.RESOURCE_EXHAUSTED]: 429,
  [GrpcStatus.UNAVAILABLE]: 503,
  [GrpcStatus.INTERNAL]: 500,
};

/** Invalid client input; `field` is the request path it concerns, e.g. `legs[1].codec`. */
export function invalidArgument(field: string, problem: string): GatewayError {
  return new GatewayError('SGW_INVALID_ARGUMENT', `${field}: ${problem}`);
}

/** Narrow an unknown catch value to a message for logs and statuses. */
/** A refusal the client should retry later or on another instance: recognition at capacity, the gateway stopping or draining. */
export function isTryAgainLater(err: unknown): boolean {
  return err instanceof GatewayError && (err.code === 'SGW_ASR_OVERLOADED' || err.code === 'SGW_SHUTTING_DOWN' || err.code === 'SGW_DRAINING');
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
