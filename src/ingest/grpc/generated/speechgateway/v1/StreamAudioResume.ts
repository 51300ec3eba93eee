// Original file: proto/speechgateway/v1/gateway.proto

import type { LegRole as _speechgateway_v1_LegRole, LegRole__Output as _speechgateway_v1_LegRole__Output } from '../../speechgateway/v1/LegRole.js';

export interface StreamAudioResume {
  /**
   * LEG_ROLE_UNSPECIFIED: every leg.
   */
  'role'?: (_speechgateway_v1_LegRole);
}

export interface StreamAudioResume__Output {
  /**
   * LEG_ROLE_UNSPECIFIED: every leg.
   */
  'role': (_speechgateway_v1_LegRole__Output);
}
