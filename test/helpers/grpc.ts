import * as grpc from '@grpc/grpc-js';

/** What a gRPC call answered, as one comparable string: `OK`, or `<STATUS>: <details>`. */
export async function grpcAnswer(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
    return 'OK';
  } catch (err) {
    const e = err as grpc.ServiceError;
    return `${grpc.status[e.code]}: ${e.details}`;
  }
}
