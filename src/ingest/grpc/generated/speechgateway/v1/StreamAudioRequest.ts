// Original file: proto/speechgateway/v1/gateway.proto

import type { StreamAudioStart as _speechgateway_v1_StreamAudioStart, StreamAudioStart__Output as _speechgateway_v1_StreamAudioStart__Output } from '../../speechgateway/v1/StreamAudioStart.js';
import type { AudioChunk as _speechgateway_v1_AudioChunk, AudioChunk__Output as _speechgateway_v1_AudioChunk__Output } from '../../speechgateway/v1/AudioChunk.js';
import type { DtmfPress as _speechgateway_v1_DtmfPress, DtmfPress__Output as _speechgateway_v1_DtmfPress__Output } from '../../speechgateway/v1/DtmfPress.js';
import type { StreamAudioPause as _speechgateway_v1_StreamAudioPause, StreamAudioPause__Output as _speechgateway_v1_StreamAudioPause__Output } from '../../speechgateway/v1/StreamAudioPause.js';
import type { StreamAudioResume as _speechgateway_v1_StreamAudioResume, StreamAudioResume__Output as _speechgateway_v1_StreamAudioResume__Output } from '../../speechgateway/v1/StreamAudioResume.js';
import type { StreamAudioEnd as _speechgateway_v1_StreamAudioEnd, StreamAudioEnd__Output as _speechgateway_v1_StreamAudioEnd__Output } from '../../speechgateway/v1/StreamAudioEnd.js';

export interface StreamAudioRequest {
  'start'?: (_speechgateway_v1_StreamAudioStart | null);
  'audio'?: (_speechgateway_v1_AudioChunk | null);
  'dtmf'?: (_speechgateway_v1_DtmfPress | null);
  'pause'?: (_speechgateway_v1_StreamAudioPause | null);
  'resume'?: (_speechgateway_v1_StreamAudioResume | null);
  'end'?: (_speechgateway_v1_StreamAudioEnd | null);
  'message'?: "start"|"audio"|"dtmf"|"pause"|"resume"|"end";
}

export interface StreamAudioRequest__Output {
  'start'?: (_speechgateway_v1_StreamAudioStart__Output | null);
  'audio'?: (_speechgateway_v1_AudioChunk__Output | null);
  'dtmf'?: (_speechgateway_v1_DtmfPress__Output | null);
  'pause'?: (_speechgateway_v1_StreamAudioPause__Output | null);
  'resume'?: (_speechgateway_v1_StreamAudioResume__Output | null);
  'end'?: (_speechgateway_v1_StreamAudioEnd__Output | null);
  'message'?: "start"|"audio"|"dtmf"|"pause"|"resume"|"end";
}
