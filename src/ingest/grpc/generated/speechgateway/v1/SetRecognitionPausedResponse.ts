// Original file: proto/speechgateway/v1/gateway.proto

import type { CallInfo as _speechgateway_v1_CallInfo, CallInfo__Output as _speechgateway_v1_CallInfo__Output } from '../../speechgateway/v1/CallInfo.js';

export interface SetRecognitionPausedResponse {
  'call'?: (_speechgateway_v1_CallInfo | null);
}

export interface SetRecognitionPausedResponse__Output {
  'call': (_speechgateway_v1_CallInfo__Output | null);
}
