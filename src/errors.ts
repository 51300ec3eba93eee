/**
 * The gateway's error catalog. Every error a client or operator can see has a
 * stable `code` (never reworded once shipped) and maps to one gRPC status.
 */
import { status as GrpcStatus } from '@grpc/grpc-js';

export const ErrorCodes = {
  SGW_INVALID_ARGUMENT: { grpc: GrpcStatus.INVALID_ARGUMENT },
  SGW_PORTS_EXHAUSTED: { grpc: GrpcStatus.RESOURCE_EXHAUSTED },
  SGW_ASR_OVERLOADED: { grpc: GrpcStatus.RESOURCE_EXHAUSTED },
  SGW_CALL_NOT_FOUND: { grpc: GrpcStatus.NOT_FOUND },
  SGW_CALL_EXISTS: { grpc: GrpcStatus.ALREADY_EXISTS },
  SGW_LANGUAGE_UNSUPPORTED: { grpc: GrpcStatus.FAILED_PRECONDITION },
  SGW_NOT_TRANSCRIPTS_ONLY: { grpc: GrpcStatus.FAILED_PRECONDITION },
  SGW_ASR_UNAVAILABLE: { grpc: GrpcStatus.UNAVAILABLE },
  SGW_CONFIG: { grpc: GrpcStatus.INTERNAL },
  SGW_SHUTTING_DOWN: { grpc: GrpcStatus.UNAVAILABLE },
} as const;

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
}

/** Invalid client input; `field` is the request path it concerns, e.g. `legs[1].codec`. */
export function invalidArgument(field: string, problem: string): GatewayError {
  return new GatewayError('SGW_INVALID_ARGUMENT', `${field}: ${problem}`);
}

/** Narrow an unknown catch value to a message for logs and statuses. */
export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
