// Original file: proto/speechgateway/v1/gateway.proto

import type { LegRole as _speechgateway_v1_LegRole, LegRole__Output as _speechgateway_v1_LegRole__Output } from '../../speechgateway/v1/LegRole.js';

export interface SetRecognitionPausedRequest {
  'call_id'?: (string);
  /**
   * true: start a secure pause; false: resume.
   */
  'paused'?: (boolean);
  /**
   * One leg; LEG_ROLE_UNSPECIFIED means every leg of the call.
   */
  'role'?: (_speechgateway_v1_LegRole);
}

export interface SetRecognitionPausedRequest__Output {
  'call_id': (string);
  /**
   * true: start a secure pause; false: resume.
   */
  'paused': (boolean);
  /**
   * One leg; LEG_ROLE_UNSPECIFIED means every leg of the call.
   */
  'role': (_speechgateway_v1_LegRole__Output);
}
