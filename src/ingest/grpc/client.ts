import * as grpc from '@grpc/grpc-js';
import type { CallControlClient } from './generated/speechgateway/v1/CallControl.js';
import type { StartCallRequest } from './generated/speechgateway/v1/StartCallRequest.js';
import type { StartCallResponse__Output } from './generated/speechgateway/v1/StartCallResponse.js';
import type { CallInfo__Output } from './generated/speechgateway/v1/CallInfo.js';
import type { ListCallsResponse__Output } from './generated/speechgateway/v1/ListCallsResponse.js';
import type { StreamAudioRequest } from './generated/speechgateway/v1/StreamAudioRequest.js';
import type { StreamAudioResponse__Output } from './generated/speechgateway/v1/StreamAudioResponse.js';
import { loadGatewayProto } from './protoPackage.js';

/**
 * Promise-returning CallControl client: what a PBX integration, the demo and
 * the tests use to drive the control plane.
 */
export class CallControl {
  readonly raw: CallControlClient;

  /**
   * @param token a JWT sent as metadata `authorization: Bearer <token>` on every call
   *   (also on calls made through {@link raw}); needed when the gateway has authentication on.
   */
  constructor(address: string, credentials = grpc.credentials.createInsecure(), options: { token?: string; channelOptions?: grpc.ChannelOptions } = {}) {
    const proto = loadGatewayProto();
    const { token } = options;
    const interceptors: grpc.Interceptor[] =
      token === undefined
        ? []
        : [
            (callOptions, nextCall) =>
              new grpc.InterceptingCall(nextCall(callOptions), {
                start(metadata, listener, next) {
                  metadata.set('authorization', `Bearer ${token}`);
                  next(metadata, listener);
                },
              }),
          ];
    this.raw = new proto.speechgateway.v1.CallControl(address, credentials, { ...options.channelOptions, interceptors });
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

  /** Opens a StreamAudio stream: a start, audio chunks and an end in; `started`, then the call's events out. */
  streamAudio(options: grpc.CallOptions = {}): grpc.ClientDuplexStream<StreamAudioRequest, StreamAudioResponse__Output> {
    return this.raw.StreamAudio(options);
  }

  close(): void {
    this.raw.close();
  }
}
