// Original file: proto/speechgateway/v1/gateway.proto

import type { StreamAudioStarted as _speechgateway_v1_StreamAudioStarted, StreamAudioStarted__Output as _speechgateway_v1_StreamAudioStarted__Output } from '../../speechgateway/v1/StreamAudioStarted.js';
import type { CallEvent as _speechgateway_v1_CallEvent, CallEvent__Output as _speechgateway_v1_CallEvent__Output } from '../../speechgateway/v1/CallEvent.js';

export interface StreamAudioResponse {
  /**
   * First: the call has started.
   */
  'started'?: (_speechgateway_v1_StreamAudioStarted | null);
  /**
   * Then every event of the call, ending with call.summary.
   */
  'event'?: (_speechgateway_v1_CallEvent | null);
  'message'?: "started"|"event";
}

export interface StreamAudioResponse__Output {
  /**
   * First: the call has started.
   */
  'started'?: (_speechgateway_v1_StreamAudioStarted__Output | null);
  /**
   * Then every event of the call, ending with call.summary.
   */
  'event'?: (_speechgateway_v1_CallEvent__Output | null);
  'message'?: "started"|"event";
}
