import * as grpc from '@grpc/grpc-js';
import type { CallControlClient } from './generated/speechgateway/v1/CallControl.js';
import type { StartCallRequest } from './generated/speechgateway/v1/StartCallRequest.js';
import type { StartCallResponse__Output } from './generated/speechgateway/v1/StartCallResponse.js';
import type { CallInfo__Output } from './generated/speechgateway/v1/CallInfo.js';
import type { ListCallsResponse__Output } from './generated/speechgateway/v1/ListCallsResponse.js';
import { loadGatewayProto } from './protoPackage.js';

/**
 * Promise-returning CallControl client: what a PBX integration, the demo and
 * the tests use to drive the control plane.
 */
export class CallControl {
  readonly raw: CallControlClient;

  constructor(address: string, credentials = grpc.credentials.createInsecure()) {
    const proto = loadGatewayProto();
    this.raw = new proto.speechgateway.v1.CallControl(address, credentials);
  }

  startCall(request: StartCallRequest): Promise<StartCallResponse__Output> {
    return new Promise((resolve, reject) => this.raw.StartCall(request, (err, res) => (err || !res ? reject(err ?? new Error('empty reply')) : resolve(res))));
  }

  endCall(callId: string): Promise<CallInfo__Output | null> {
    return new Promise((resolve, reject) => this.raw.EndCall({ call_id: callId }, (err, res) => (err || !res ? reject(err ?? new Error('empty reply')) : resolve(res.call))));
  }

  getCall(callId: string): Promise<CallInfo__Output> {
    return new Promise((resolve, reject) => this.raw.GetCall({ call_id: callId }, (err, res) => (err || !res ? reject(err ?? new Error('empty reply')) : resolve(res))));
  }

  listCalls(): Promise<ListCallsResponse__Output> {
    return new Promise((resolve, reject) => this.raw.ListCalls({}, (err, res) => (err || !res ? reject(err ?? new Error('empty reply')) : resolve(res))));
  }

  close(): void {
    this.raw.close();
  }
}
