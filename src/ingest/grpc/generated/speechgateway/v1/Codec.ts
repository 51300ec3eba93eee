// Original file: proto/speechgateway/v1/gateway.proto

export const Codec = {
  CODEC_UNSPECIFIED: 'CODEC_UNSPECIFIED',
  /**
   * G.711 mu-law, 8000 Hz, payload type 0
   */
  CODEC_PCMU: 'CODEC_PCMU',
  /**
   * G.711 A-law, 8000 Hz, payload type 8
   */
  CODEC_PCMA: 'CODEC_PCMA',
  /**
   * linear 16-bit big-endian, 8000 or 16000 Hz, dynamic payload type
   */
  CODEC_L16: 'CODEC_L16',
} as const;

export type Codec =
  | 'CODEC_UNSPECIFIED'
  | 0
  /**
   * G.711 mu-law, 8000 Hz, payload type 0
   */
  | 'CODEC_PCMU'
  | 1
  /**
   * G.711 A-law, 8000 Hz, payload type 8
   */
  | 'CODEC_PCMA'
  | 2
  /**
   * linear 16-bit big-endian, 8000 or 16000 Hz, dynamic payload type
   */
  | 'CODEC_L16'
  | 3

export type Codec__Output = typeof Codec[keyof typeof Codec]
