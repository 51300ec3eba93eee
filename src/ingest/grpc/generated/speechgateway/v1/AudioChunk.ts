// Original file: proto/speechgateway/v1/gateway.proto

import type { LegRole as _speechgateway_v1_LegRole, LegRole__Output as _speechgateway_v1_LegRole__Output } from '../../speechgateway/v1/LegRole.js';
import type { Long } from '@grpc/proto-loader';

/**
 * Encoded audio of one leg, in the leg's codec, at most 64 KiB; 20-100 ms is usual.
 */
export interface AudioChunk {
  'role'?: (_speechgateway_v1_LegRole);
  'payload'?: (Buffer | Uint8Array | string);
  /**
   * Optional, per leg: 1, 2, 3 ... A chunk at or below the last one is dropped
   * (counted); a gap is filled with silence (at most 1 s) so times stay right.
   * 0: not used.
   */
  'sequence'?: (number | string | Long);
}

/**
 * Encoded audio of one leg, in the leg's codec, at most 64 KiB; 20-100 ms is usual.
 */
export interface AudioChunk__Output {
  'role': (_speechgateway_v1_LegRole__Output);
  'payload': (Buffer);
  /**
   * Optional, per leg: 1, 2, 3 ... A chunk at or below the last one is dropped
   * (counted); a gap is filled with silence (at most 1 s) so times stay right.
   * 0: not used.
   */
  'sequence': (number);
}
