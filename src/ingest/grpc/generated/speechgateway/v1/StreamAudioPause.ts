// Original file: proto/speechgateway/v1/gateway.proto

import type { LegRole as _speechgateway_v1_LegRole, LegRole__Output as _speechgateway_v1_LegRole__Output } from '../../speechgateway/v1/LegRole.js';

/**
 * Suspends recognition: silence replaces the audio, so call times stay right.
 */
export interface StreamAudioPause {
  /**
   * LEG_ROLE_UNSPECIFIED: every leg.
   */
  'role'?: (_speechgateway_v1_LegRole);
  /**
   * Secure pause (card entry): DTMF digits are masked too.
   */
  'secure'?: (boolean);
}

/**
 * Suspends recognition: silence replaces the audio, so call times stay right.
 */
export interface StreamAudioPause__Output {
  /**
   * LEG_ROLE_UNSPECIFIED: every leg.
   */
  'role': (_speechgateway_v1_LegRole__Output);
  /**
   * Secure pause (card entry): DTMF digits are masked too.
   */
  'secure': (boolean);
}
