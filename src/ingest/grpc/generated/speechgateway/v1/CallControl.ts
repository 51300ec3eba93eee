// Original file: proto/speechgateway/v1/gateway.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { CallInfo as _speechgateway_v1_CallInfo, CallInfo__Output as _speechgateway_v1_CallInfo__Output } from '../../speechgateway/v1/CallInfo.js';
import type { EndCallRequest as _speechgateway_v1_EndCallRequest, EndCallRequest__Output as _speechgateway_v1_EndCallRequest__Output } from '../../speechgateway/v1/EndCallRequest.js';
import type { EndCallResponse as _speechgateway_v1_EndCallResponse, EndCallResponse__Output as _speechgateway_v1_EndCallResponse__Output } from '../../speechgateway/v1/EndCallResponse.js';
import type { GetCallRequest as _speechgateway_v1_GetCallRequest, GetCallRequest__Output as _speechgateway_v1_GetCallRequest__Output } from '../../speechgateway/v1/GetCallRequest.js';
import type { ListCallsRequest as _speechgateway_v1_ListCallsRequest, ListCallsRequest__Output as _speechgateway_v1_ListCallsRequest__Output } from '../../speechgateway/v1/ListCallsRequest.js';
import type { ListCallsResponse as _speechgateway_v1_ListCallsResponse, ListCallsResponse__Output as _speechgateway_v1_ListCallsResponse__Output } from '../../speechgateway/v1/ListCallsResponse.js';
import type { PushTranscriptRequest as _speechgateway_v1_PushTranscriptRequest, PushTranscriptRequest__Output as _speechgateway_v1_PushTranscriptRequest__Output } from '../../speechgateway/v1/PushTranscriptRequest.js';
import type { PushTranscriptResponse as _speechgateway_v1_PushTranscriptResponse, PushTranscriptResponse__Output as _speechgateway_v1_PushTranscriptResponse__Output } from '../../speechgateway/v1/PushTranscriptResponse.js';
import type { SetRecognitionPausedRequest as _speechgateway_v1_SetRecognitionPausedRequest, SetRecognitionPausedRequest__Output as _speechgateway_v1_SetRecognitionPausedRequest__Output } from '../../speechgateway/v1/SetRecognitionPausedRequest.js';
import type { SetRecognitionPausedResponse as _speechgateway_v1_SetRecognitionPausedResponse, SetRecognitionPausedResponse__Output as _speechgateway_v1_SetRecognitionPausedResponse__Output } from '../../speechgateway/v1/SetRecognitionPausedResponse.js';
import type { StartCallRequest as _speechgateway_v1_StartCallRequest, StartCallRequest__Output as _speechgateway_v1_StartCallRequest__Output } from '../../speechgateway/v1/StartCallRequest.js';
import type { StartCallResponse as _speechgateway_v1_StartCallResponse, StartCallResponse__Output as _speechgateway_v1_StartCallResponse__Output } from '../../speechgateway/v1/StartCallResponse.js';
import type { StreamAudioRequest as _speechgateway_v1_StreamAudioRequest, StreamAudioRequest__Output as _speechgateway_v1_StreamAudioRequest__Output } from '../../speechgateway/v1/StreamAudioRequest.js';
import type { StreamAudioResponse as _speechgateway_v1_StreamAudioResponse, StreamAudioResponse__Output as _speechgateway_v1_StreamAudioResponse__Output } from '../../speechgateway/v1/StreamAudioResponse.js';

export interface CallControlClient extends grpc.Client {
  /**
   * Ends a call and frees its ports. NOT_FOUND for an unknown call.
   */
  EndCall(argument: _speechgateway_v1_EndCallRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_speechgateway_v1_EndCallResponse__Output>): grpc.ClientUnaryCall;
  EndCall(argument: _speechgateway_v1_EndCallRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_speechgateway_v1_EndCallResponse__Output>): grpc.ClientUnaryCall;
  EndCall(argument: _speechgateway_v1_EndCallRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_speechgateway_v1_EndCallResponse__Output>): grpc.ClientUnaryCall;
  EndCall(argument: _speechgateway_v1_EndCallRequest, callback: grpc.requestCallback<_speechgateway_v1_EndCallResponse__Output>): grpc.ClientUnaryCall;
  /**
   * Ends a call and frees its ports. NOT_FOUND for an unknown call.
   */
  endCall(argument: _speechgateway_v1_EndCallRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_speechgateway_v1_EndCallResponse__Output>): grpc.ClientUnaryCall;
  endCall(argument: _speechgateway_v1_EndCallRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_speechgateway_v1_EndCallResponse__Output>): grpc.ClientUnaryCall;
  endCall(argument: _speechgateway_v1_EndCallRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_speechgateway_v1_EndCallResponse__Output>): grpc.ClientUnaryCall;
  endCall(argument: _speechgateway_v1_EndCallRequest, callback: grpc.requestCallback<_speechgateway_v1_EndCallResponse__Output>): grpc.ClientUnaryCall;
  
  GetCall(argument: _speechgateway_v1_GetCallRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_speechgateway_v1_CallInfo__Output>): grpc.ClientUnaryCall;
  GetCall(argument: _speechgateway_v1_GetCallRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_speechgateway_v1_CallInfo__Output>): grpc.ClientUnaryCall;
  GetCall(argument: _speechgateway_v1_GetCallRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_speechgateway_v1_CallInfo__Output>): grpc.ClientUnaryCall;
  GetCall(argument: _speechgateway_v1_GetCallRequest, callback: grpc.requestCallback<_speechgateway_v1_CallInfo__Output>): grpc.ClientUnaryCall;
  getCall(argument: _speechgateway_v1_GetCallRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_speechgateway_v1_CallInfo__Output>): grpc.ClientUnaryCall;
  getCall(argument: _speechgateway_v1_GetCallRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_speechgateway_v1_CallInfo__Output>): grpc.ClientUnaryCall;
  getCall(argument: _speechgateway_v1_GetCallRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_speechgateway_v1_CallInfo__Output>): grpc.ClientUnaryCall;
  getCall(argument: _speechgateway_v1_GetCallRequest, callback: grpc.requestCallback<_speechgateway_v1_CallInfo__Output>): grpc.ClientUnaryCall;
  
  ListCalls(argument: _speechgateway_v1_ListCallsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_speechgateway_v1_ListCallsResponse__Output>): grpc.ClientUnaryCall;
  ListCalls(argument: _speechgateway_v1_ListCallsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_speechgateway_v1_ListCallsResponse__Output>): grpc.ClientUnaryCall;
  ListCalls(argument: _speechgateway_v1_ListCallsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_speechgateway_v1_ListCallsResponse__Output>): grpc.ClientUnaryCall;
  ListCalls(argument: _speechgateway_v1_ListCallsRequest, callback: grpc.requestCallback<_speechgateway_v1_ListCallsResponse__Output>): grpc.ClientUnaryCall;
  listCalls(argument: _speechgateway_v1_ListCallsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_speechgateway_v1_ListCallsResponse__Output>): grpc.ClientUnaryCall;
  listCalls(argument: _speechgateway_v1_ListCallsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_speechgateway_v1_ListCallsResponse__Output>): grpc.ClientUnaryCall;
  listCalls(argument: _speechgateway_v1_ListCallsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_speechgateway_v1_ListCallsResponse__Output>): grpc.ClientUnaryCall;
  listCalls(argument: _speechgateway_v1_ListCallsRequest, callback: grpc.requestCallback<_speechgateway_v1_ListCallsResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * Feeds one transcript (partial or final) of a call started with
   * transcripts_only, for platforms that transcribe themselves and want the
   * analytics alone. NOT_FOUND for an unknown call; FAILED_PRECONDITION for a
   * call whose audio the gateway transcribes; INVALID_ARGUMENT names the field.
   */
  PushTranscript(argument: _speechgateway_v1_PushTranscriptRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_speechgateway_v1_PushTranscriptResponse__Output>): grpc.ClientUnaryCall;
  PushTranscript(argument: _speechgateway_v1_PushTranscriptRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_speechgateway_v1_PushTranscriptResponse__Output>): grpc.ClientUnaryCall;
  PushTranscript(argument: _speechgateway_v1_PushTranscriptRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_speechgateway_v1_PushTranscriptResponse__Output>): grpc.ClientUnaryCall;
  PushTranscript(argument: _speechgateway_v1_PushTranscriptRequest, callback: grpc.requestCallback<_speechgateway_v1_PushTranscriptResponse__Output>): grpc.ClientUnaryCall;
  /**
   * Feeds one transcript (partial or final) of a call started with
   * transcripts_only, for platforms that transcribe themselves and want the
   * analytics alone. NOT_FOUND for an unknown call; FAILED_PRECONDITION for a
   * call whose audio the gateway transcribes; INVALID_ARGUMENT names the field.
   */
  pushTranscript(argument: _speechgateway_v1_PushTranscriptRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_speechgateway_v1_PushTranscriptResponse__Output>): grpc.ClientUnaryCall;
  pushTranscript(argument: _speechgateway_v1_PushTranscriptRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_speechgateway_v1_PushTranscriptResponse__Output>): grpc.ClientUnaryCall;
  pushTranscript(argument: _speechgateway_v1_PushTranscriptRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_speechgateway_v1_PushTranscriptResponse__Output>): grpc.ClientUnaryCall;
  pushTranscript(argument: _speechgateway_v1_PushTranscriptRequest, callback: grpc.requestCallback<_speechgateway_v1_PushTranscriptResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * Secure pause (PCI DSS card entry): while paused, a leg's audio is replaced
   * by silence before recognition and DTMF digits are reported masked; resuming
   * publishes a transcript.gap with reason "secure-pause". Idempotent.
   * NOT_FOUND for an unknown call; INVALID_ARGUMENT names the field.
   */
  SetRecognitionPaused(argument: _speechgateway_v1_SetRecognitionPausedRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_speechgateway_v1_SetRecognitionPausedResponse__Output>): grpc.ClientUnaryCall;
  SetRecognitionPaused(argument: _speechgateway_v1_SetRecognitionPausedRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_speechgateway_v1_SetRecognitionPausedResponse__Output>): grpc.ClientUnaryCall;
  SetRecognitionPaused(argument: _speechgateway_v1_SetRecognitionPausedRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_speechgateway_v1_SetRecognitionPausedResponse__Output>): grpc.ClientUnaryCall;
  SetRecognitionPaused(argument: _speechgateway_v1_SetRecognitionPausedRequest, callback: grpc.requestCallback<_speechgateway_v1_SetRecognitionPausedResponse__Output>): grpc.ClientUnaryCall;
  /**
   * Secure pause (PCI DSS card entry): while paused, a leg's audio is replaced
   * by silence before recognition and DTMF digits are reported masked; resuming
   * publishes a transcript.gap with reason "secure-pause". Idempotent.
   * NOT_FOUND for an unknown call; INVALID_ARGUMENT names the field.
   */
  setRecognitionPaused(argument: _speechgateway_v1_SetRecognitionPausedRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_speechgateway_v1_SetRecognitionPausedResponse__Output>): grpc.ClientUnaryCall;
  setRecognitionPaused(argument: _speechgateway_v1_SetRecognitionPausedRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_speechgateway_v1_SetRecognitionPausedResponse__Output>): grpc.ClientUnaryCall;
  setRecognitionPaused(argument: _speechgateway_v1_SetRecognitionPausedRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_speechgateway_v1_SetRecognitionPausedResponse__Output>): grpc.ClientUnaryCall;
  setRecognitionPaused(argument: _speechgateway_v1_SetRecognitionPausedRequest, callback: grpc.requestCallback<_speechgateway_v1_SetRecognitionPausedResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * Allocates an RTP port per leg and starts recognition.
   * INVALID_ARGUMENT names the offending field; RESOURCE_EXHAUSTED when no
   * port is free; ALREADY_EXISTS for a duplicate call_id; FAILED_PRECONDITION
   * when the ASR engine has no model for the language.
   */
  StartCall(argument: _speechgateway_v1_StartCallRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_speechgateway_v1_StartCallResponse__Output>): grpc.ClientUnaryCall;
  StartCall(argument: _speechgateway_v1_StartCallRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_speechgateway_v1_StartCallResponse__Output>): grpc.ClientUnaryCall;
  StartCall(argument: _speechgateway_v1_StartCallRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_speechgateway_v1_StartCallResponse__Output>): grpc.ClientUnaryCall;
  StartCall(argument: _speechgateway_v1_StartCallRequest, callback: grpc.requestCallback<_speechgateway_v1_StartCallResponse__Output>): grpc.ClientUnaryCall;
  /**
   * Allocates an RTP port per leg and starts recognition.
   * INVALID_ARGUMENT names the offending field; RESOURCE_EXHAUSTED when no
   * port is free; ALREADY_EXISTS for a duplicate call_id; FAILED_PRECONDITION
   * when the ASR engine has no model for the language.
   */
  startCall(argument: _speechgateway_v1_StartCallRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_speechgateway_v1_StartCallResponse__Output>): grpc.ClientUnaryCall;
  startCall(argument: _speechgateway_v1_StartCallRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_speechgateway_v1_StartCallResponse__Output>): grpc.ClientUnaryCall;
  startCall(argument: _speechgateway_v1_StartCallRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_speechgateway_v1_StartCallResponse__Output>): grpc.ClientUnaryCall;
  startCall(argument: _speechgateway_v1_StartCallRequest, callback: grpc.requestCallback<_speechgateway_v1_StartCallResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * Streams a call's audio over gRPC instead of RTP (docs/integrations/freeswitch.md):
   * the first request is a StreamAudioStart, then audio chunks per leg, DTMF,
   * pause/resume, and an end (or a half-close). The response stream carries the
   * call's events (the same as /v1/events) and finishes with OK after
   * call.summary. INVALID_ARGUMENT names the field (first message not a start,
   * bad codec, unknown role, torn sample); RESOURCE_EXHAUSTED for a chunk over
   * 64 KiB (a message over the server's receive limit is refused by gRPC
   * itself) or recognition at capacity; ALREADY_EXISTS for an active call id;
   * FAILED_PRECONDITION for a language without a model. Role admin or pbx.
   */
  StreamAudio(metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientDuplexStream<_speechgateway_v1_StreamAudioRequest, _speechgateway_v1_StreamAudioResponse__Output>;
  StreamAudio(options?: grpc.CallOptions): grpc.ClientDuplexStream<_speechgateway_v1_StreamAudioRequest, _speechgateway_v1_StreamAudioResponse__Output>;
  /**
   * Streams a call's audio over gRPC instead of RTP (docs/integrations/freeswitch.md):
   * the first request is a StreamAudioStart, then audio chunks per leg, DTMF,
   * pause/resume, and an end (or a half-close). The response stream carries the
   * call's events (the same as /v1/events) and finishes with OK after
   * call.summary. INVALID_ARGUMENT names the field (first message not a start,
   * bad codec, unknown role, torn sample); RESOURCE_EXHAUSTED for a chunk over
   * 64 KiB (a message over the server's receive limit is refused by gRPC
   * itself) or recognition at capacity; ALREADY_EXISTS for an active call id;
   * FAILED_PRECONDITION for a language without a model. Role admin or pbx.
   */
  streamAudio(metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientDuplexStream<_speechgateway_v1_StreamAudioRequest, _speechgateway_v1_StreamAudioResponse__Output>;
  streamAudio(options?: grpc.CallOptions): grpc.ClientDuplexStream<_speechgateway_v1_StreamAudioRequest, _speechgateway_v1_StreamAudioResponse__Output>;
  
}

export interface CallControlHandlers extends grpc.UntypedServiceImplementation {
  /**
   * Ends a call and frees its ports. NOT_FOUND for an unknown call.
   */
  EndCall: grpc.handleUnaryCall<_speechgateway_v1_EndCallRequest__Output, _speechgateway_v1_EndCallResponse>;
  
  GetCall: grpc.handleUnaryCall<_speechgateway_v1_GetCallRequest__Output, _speechgateway_v1_CallInfo>;
  
  ListCalls: grpc.handleUnaryCall<_speechgateway_v1_ListCallsRequest__Output, _speechgateway_v1_ListCallsResponse>;
  
  /**
   * Feeds one transcript (partial or final) of a call started with
   * transcripts_only, for platforms that transcribe themselves and want the
   * analytics alone. NOT_FOUND for an unknown call; FAILED_PRECONDITION for a
   * call whose audio the gateway transcribes; INVALID_ARGUMENT names the field.
   */
  PushTranscript: grpc.handleUnaryCall<_speechgateway_v1_PushTranscriptRequest__Output, _speechgateway_v1_PushTranscriptResponse>;
  
  /**
   * Secure pause (PCI DSS card entry): while paused, a leg's audio is replaced
   * by silence before recognition and DTMF digits are reported masked; resuming
   * publishes a transcript.gap with reason "secure-pause". Idempotent.
   * NOT_FOUND for an unknown call; INVALID_ARGUMENT names the field.
   */
  SetRecognitionPaused: grpc.handleUnaryCall<_speechgateway_v1_SetRecognitionPausedRequest__Output, _speechgateway_v1_SetRecognitionPausedResponse>;
  
  /**
   * Allocates an RTP port per leg and starts recognition.
   * INVALID_ARGUMENT names the offending field; RESOURCE_EXHAUSTED when no
   * port is free; ALREADY_EXISTS for a duplicate call_id; FAILED_PRECONDITION
   * when the ASR engine has no model for the language.
   */
  StartCall: grpc.handleUnaryCall<_speechgateway_v1_StartCallRequest__Output, _speechgateway_v1_StartCallResponse>;
  
  /**
   * Streams a call's audio over gRPC instead of RTP (docs/integrations/freeswitch.md):
   * the first request is a StreamAudioStart, then audio chunks per leg, DTMF,
   * pause/resume, and an end (or a half-close). The response stream carries the
   * call's events (the same as /v1/events) and finishes with OK after
   * call.summary. INVALID_ARGUMENT names the field (first message not a start,
   * bad codec, unknown role, torn sample); RESOURCE_EXHAUSTED for a chunk over
   * 64 KiB (a message over the server's receive limit is refused by gRPC
   * itself) or recognition at capacity; ALREADY_EXISTS for an active call id;
   * FAILED_PRECONDITION for a language without a model. Role admin or pbx.
   */
  StreamAudio: grpc.handleBidiStreamingCall<_speechgateway_v1_StreamAudioRequest__Output, _speechgateway_v1_StreamAudioResponse>;
  
}

export interface CallControlDefinition extends grpc.ServiceDefinition {
  EndCall: MethodDefinition<_speechgateway_v1_EndCallRequest, _speechgateway_v1_EndCallResponse, _speechgateway_v1_EndCallRequest__Output, _speechgateway_v1_EndCallResponse__Output>
  GetCall: MethodDefinition<_speechgateway_v1_GetCallRequest, _speechgateway_v1_CallInfo, _speechgateway_v1_GetCallRequest__Output, _speechgateway_v1_CallInfo__Output>
  ListCalls: MethodDefinition<_speechgateway_v1_ListCallsRequest, _speechgateway_v1_ListCallsResponse, _speechgateway_v1_ListCallsRequest__Output, _speechgateway_v1_ListCallsResponse__Output>
  PushTranscript: MethodDefinition<_speechgateway_v1_PushTranscriptRequest, _speechgateway_v1_PushTranscriptResponse, _speechgateway_v1_PushTranscriptRequest__Output, _speechgateway_v1_PushTranscriptResponse__Output>
  SetRecognitionPaused: MethodDefinition<_speechgateway_v1_SetRecognitionPausedRequest, _speechgateway_v1_SetRecognitionPausedResponse, _speechgateway_v1_SetRecognitionPausedRequest__Output, _speechgateway_v1_SetRecognitionPausedResponse__Output>
  StartCall: MethodDefinition<_speechgateway_v1_StartCallRequest, _speechgateway_v1_StartCallResponse, _speechgateway_v1_StartCallRequest__Output, _speechgateway_v1_StartCallResponse__Output>
  StreamAudio: MethodDefinition<_speechgateway_v1_StreamAudioRequest, _speechgateway_v1_StreamAudioResponse, _speechgateway_v1_StreamAudioRequest__Output, _speechgateway_v1_StreamAudioResponse__Output>
}
