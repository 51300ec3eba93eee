// Original file: proto/speechgateway/v1/gateway.proto

import type { LegRole as _speechgateway_v1_LegRole, LegRole__Output as _speechgateway_v1_LegRole__Output } from '../../speechgateway/v1/LegRole.js';

export interface DtmfPress {
  'role'?: (_speechgateway_v1_LegRole);
  /**
   * One of 0-9 * # A-D.
   */
  'digit'?: (string);
  'duration_ms'?: (number);
}

export interface DtmfPress__Output {
  'role': (_speechgateway_v1_LegRole__Output);
  /**
   * One of 0-9 * # A-D.
   */
  'digit': (string);
  'duration_ms': (number);
}
