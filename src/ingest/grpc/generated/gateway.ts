import type * as grpc from '@grpc/grpc-js';
import type { EnumTypeDefinition, MessageTypeDefinition } from '@grpc/proto-loader';

import type { CallControlClient as _speechgateway_v1_CallControlClient, CallControlDefinition as _speechgateway_v1_CallControlDefinition } from './speechgateway/v1/CallControl.js';
import type { CallInfo as _speechgateway_v1_CallInfo, CallInfo__Output as _speechgateway_v1_CallInfo__Output } from './speechgateway/v1/CallInfo.js';
import type { EndCallRequest as _speechgateway_v1_EndCallRequest, EndCallRequest__Output as _speechgateway_v1_EndCallRequest__Output } from './speechgateway/v1/EndCallRequest.js';
import type { EndCallResponse as _speechgateway_v1_EndCallResponse, EndCallResponse__Output as _speechgateway_v1_EndCallResponse__Output } from './speechgateway/v1/EndCallResponse.js';
import type { GetCallRequest as _speechgateway_v1_GetCallRequest, GetCallRequest__Output as _speechgateway_v1_GetCallRequest__Output } from './speechgateway/v1/GetCallRequest.js';
import type { LegEndpoint as _speechgateway_v1_LegEndpoint, LegEndpoint__Output as _speechgateway_v1_LegEndpoint__Output } from './speechgateway/v1/LegEndpoint.js';
import type { LegInfo as _speechgateway_v1_LegInfo, LegInfo__Output as _speechgateway_v1_LegInfo__Output } from './speechgateway/v1/LegInfo.js';
import type { LegSpec as _speechgateway_v1_LegSpec, LegSpec__Output as _speechgateway_v1_LegSpec__Output } from './speechgateway/v1/LegSpec.js';
import type { ListCallsRequest as _speechgateway_v1_ListCallsRequest, ListCallsRequest__Output as _speechgateway_v1_ListCallsRequest__Output } from './speechgateway/v1/ListCallsRequest.js';
import type { ListCallsResponse as _speechgateway_v1_ListCallsResponse, ListCallsResponse__Output as _speechgateway_v1_ListCallsResponse__Output } from './speechgateway/v1/ListCallsResponse.js';
import type { PushTranscriptRequest as _speechgateway_v1_PushTranscriptRequest, PushTranscriptRequest__Output as _speechgateway_v1_PushTranscriptRequest__Output } from './speechgateway/v1/PushTranscriptRequest.js';
import type { PushTranscriptResponse as _speechgateway_v1_PushTranscriptResponse, PushTranscriptResponse__Output as _speechgateway_v1_PushTranscriptResponse__Output } from './speechgateway/v1/PushTranscriptResponse.js';
import type { StartCallRequest as _speechgateway_v1_StartCallRequest, StartCallRequest__Output as _speechgateway_v1_StartCallRequest__Output } from './speechgateway/v1/StartCallRequest.js';
import type { StartCallResponse as _speechgateway_v1_StartCallResponse, StartCallResponse__Output as _speechgateway_v1_StartCallResponse__Output } from './speechgateway/v1/StartCallResponse.js';
import type { Word as _speechgateway_v1_Word, Word__Output as _speechgateway_v1_Word__Output } from './speechgateway/v1/Word.js';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  speechgateway: {
    v1: {
      CallControl: SubtypeConstructor<typeof grpc.Client, _speechgateway_v1_CallControlClient> & { service: _speechgateway_v1_CallControlDefinition }
      CallInfo: MessageTypeDefinition<_speechgateway_v1_CallInfo, _speechgateway_v1_CallInfo__Output>
      Codec: EnumTypeDefinition
      EndCallRequest: MessageTypeDefinition<_speechgateway_v1_EndCallRequest, _speechgateway_v1_EndCallRequest__Output>
      EndCallResponse: MessageTypeDefinition<_speechgateway_v1_EndCallResponse, _speechgateway_v1_EndCallResponse__Output>
      GetCallRequest: MessageTypeDefinition<_speechgateway_v1_GetCallRequest, _speechgateway_v1_GetCallRequest__Output>
      LegEndpoint: MessageTypeDefinition<_speechgateway_v1_LegEndpoint, _speechgateway_v1_LegEndpoint__Output>
      LegInfo: MessageTypeDefinition<_speechgateway_v1_LegInfo, _speechgateway_v1_LegInfo__Output>
      LegRole: EnumTypeDefinition
      LegSpec: MessageTypeDefinition<_speechgateway_v1_LegSpec, _speechgateway_v1_LegSpec__Output>
      ListCallsRequest: MessageTypeDefinition<_speechgateway_v1_ListCallsRequest, _speechgateway_v1_ListCallsRequest__Output>
      ListCallsResponse: MessageTypeDefinition<_speechgateway_v1_ListCallsResponse, _speechgateway_v1_ListCallsResponse__Output>
      PushTranscriptRequest: MessageTypeDefinition<_speechgateway_v1_PushTranscriptRequest, _speechgateway_v1_PushTranscriptRequest__Output>
      PushTranscriptResponse: MessageTypeDefinition<_speechgateway_v1_PushTranscriptResponse, _speechgateway_v1_PushTranscriptResponse__Output>
      StartCallRequest: MessageTypeDefinition<_speechgateway_v1_StartCallRequest, _speechgateway_v1_StartCallRequest__Output>
      StartCallResponse: MessageTypeDefinition<_speechgateway_v1_StartCallResponse, _speechgateway_v1_StartCallResponse__Output>
      Word: MessageTypeDefinition<_speechgateway_v1_Word, _speechgateway_v1_Word__Output>
    }
  }
}

