import type * as grpc from '@grpc/grpc-js';
import type { EnumTypeDefinition, MessageTypeDefinition } from '@grpc/proto-loader';

import type { AudioChunk as _speechgateway_v1_AudioChunk, AudioChunk__Output as _speechgateway_v1_AudioChunk__Output } from './speechgateway/v1/AudioChunk.js';
import type { CallControlClient as _speechgateway_v1_CallControlClient, CallControlDefinition as _speechgateway_v1_CallControlDefinition } from './speechgateway/v1/CallControl.js';
import type { CallEvent as _speechgateway_v1_CallEvent, CallEvent__Output as _speechgateway_v1_CallEvent__Output } from './speechgateway/v1/CallEvent.js';
import type { CallInfo as _speechgateway_v1_CallInfo, CallInfo__Output as _speechgateway_v1_CallInfo__Output } from './speechgateway/v1/CallInfo.js';
import type { DtmfPress as _speechgateway_v1_DtmfPress, DtmfPress__Output as _speechgateway_v1_DtmfPress__Output } from './speechgateway/v1/DtmfPress.js';
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
import type { RtpSource as _speechgateway_v1_RtpSource, RtpSource__Output as _speechgateway_v1_RtpSource__Output } from './speechgateway/v1/RtpSource.js';
import type { SetRecognitionPausedRequest as _speechgateway_v1_SetRecognitionPausedRequest, SetRecognitionPausedRequest__Output as _speechgateway_v1_SetRecognitionPausedRequest__Output } from './speechgateway/v1/SetRecognitionPausedRequest.js';
import type { SetRecognitionPausedResponse as _speechgateway_v1_SetRecognitionPausedResponse, SetRecognitionPausedResponse__Output as _speechgateway_v1_SetRecognitionPausedResponse__Output } from './speechgateway/v1/SetRecognitionPausedResponse.js';
import type { StartCallRequest as _speechgateway_v1_StartCallRequest, StartCallRequest__Output as _speechgateway_v1_StartCallRequest__Output } from './speechgateway/v1/StartCallRequest.js';
import type { StartCallResponse as _speechgateway_v1_StartCallResponse, StartCallResponse__Output as _speechgateway_v1_StartCallResponse__Output } from './speechgateway/v1/StartCallResponse.js';
import type { StreamAudioEnd as _speechgateway_v1_StreamAudioEnd, StreamAudioEnd__Output as _speechgateway_v1_StreamAudioEnd__Output } from './speechgateway/v1/StreamAudioEnd.js';
import type { StreamAudioPause as _speechgateway_v1_StreamAudioPause, StreamAudioPause__Output as _speechgateway_v1_StreamAudioPause__Output } from './speechgateway/v1/StreamAudioPause.js';
import type { StreamAudioRequest as _speechgateway_v1_StreamAudioRequest, StreamAudioRequest__Output as _speechgateway_v1_StreamAudioRequest__Output } from './speechgateway/v1/StreamAudioRequest.js';
import type { StreamAudioResponse as _speechgateway_v1_StreamAudioResponse, StreamAudioResponse__Output as _speechgateway_v1_StreamAudioResponse__Output } from './speechgateway/v1/StreamAudioResponse.js';
import type { StreamAudioResume as _speechgateway_v1_StreamAudioResume, StreamAudioResume__Output as _speechgateway_v1_StreamAudioResume__Output } from './speechgateway/v1/StreamAudioResume.js';
import type { StreamAudioStart as _speechgateway_v1_StreamAudioStart, StreamAudioStart__Output as _speechgateway_v1_StreamAudioStart__Output } from './speechgateway/v1/StreamAudioStart.js';
import type { StreamAudioStarted as _speechgateway_v1_StreamAudioStarted, StreamAudioStarted__Output as _speechgateway_v1_StreamAudioStarted__Output } from './speechgateway/v1/StreamAudioStarted.js';
import type { Word as _speechgateway_v1_Word, Word__Output as _speechgateway_v1_Word__Output } from './speechgateway/v1/Word.js';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  speechgateway: {
    v1: {
      AudioChunk: MessageTypeDefinition<_speechgateway_v1_AudioChunk, _speechgateway_v1_AudioChunk__Output>
      CallControl: SubtypeConstructor<typeof grpc.Client, _speechgateway_v1_CallControlClient> & { service: _speechgateway_v1_CallControlDefinition }
      CallEvent: MessageTypeDefinition<_speechgateway_v1_CallEvent, _speechgateway_v1_CallEvent__Output>
      CallInfo: MessageTypeDefinition<_speechgateway_v1_CallInfo, _speechgateway_v1_CallInfo__Output>
      Codec: EnumTypeDefinition
      DtmfPress: MessageTypeDefinition<_speechgateway_v1_DtmfPress, _speechgateway_v1_DtmfPress__Output>
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
      RtpSource: MessageTypeDefinition<_speechgateway_v1_RtpSource, _speechgateway_v1_RtpSource__Output>
      SetRecognitionPausedRequest: MessageTypeDefinition<_speechgateway_v1_SetRecognitionPausedRequest, _speechgateway_v1_SetRecognitionPausedRequest__Output>
      SetRecognitionPausedResponse: MessageTypeDefinition<_speechgateway_v1_SetRecognitionPausedResponse, _speechgateway_v1_SetRecognitionPausedResponse__Output>
      StartCallRequest: MessageTypeDefinition<_speechgateway_v1_StartCallRequest, _speechgateway_v1_StartCallRequest__Output>
      StartCallResponse: MessageTypeDefinition<_speechgateway_v1_StartCallResponse, _speechgateway_v1_StartCallResponse__Output>
      StreamAudioEnd: MessageTypeDefinition<_speechgateway_v1_StreamAudioEnd, _speechgateway_v1_StreamAudioEnd__Output>
      StreamAudioPause: MessageTypeDefinition<_speechgateway_v1_StreamAudioPause, _speechgateway_v1_StreamAudioPause__Output>
      StreamAudioRequest: MessageTypeDefinition<_speechgateway_v1_StreamAudioRequest, _speechgateway_v1_StreamAudioRequest__Output>
      StreamAudioResponse: MessageTypeDefinition<_speechgateway_v1_StreamAudioResponse, _speechgateway_v1_StreamAudioResponse__Output>
      StreamAudioResume: MessageTypeDefinition<_speechgateway_v1_StreamAudioResume, _speechgateway_v1_StreamAudioResume__Output>
      StreamAudioStart: MessageTypeDefinition<_speechgateway_v1_StreamAudioStart, _speechgateway_v1_StreamAudioStart__Output>
      StreamAudioStarted: MessageTypeDefinition<_speechgateway_v1_StreamAudioStarted, _speechgateway_v1_StreamAudioStarted__Output>
      Word: MessageTypeDefinition<_speechgateway_v1_Word, _speechgateway_v1_Word__Output>
    }
  }
}

