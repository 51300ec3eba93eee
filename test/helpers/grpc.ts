import assert from 'node:assert/strict';
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

/** The error a gRPC call was refused with; fails the test when it was not refused. */
export async function rejection(promise: Promise<unknown>): Promise<grpc.ServiceError> {
  try {
    await promise;
  } catch (err) {
    return err as grpc.ServiceError;
  }
  assert.fail('expected the request to be refused');
}
