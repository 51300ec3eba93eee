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
  /**
   * G.722 64 kbit/s, RTP clock 8000 (audio 16 kHz), payload type 9
   */
  CODEC_G722: 'CODEC_G722',
  /**
   * Opus, RTP clock 48000, dynamic payload type
   */
  CODEC_OPUS: 'CODEC_OPUS',
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
  /**
   * G.722 64 kbit/s, RTP clock 8000 (audio 16 kHz), payload type 9
   */
  | 'CODEC_G722'
  | 4
  /**
   * Opus, RTP clock 48000, dynamic payload type
   */
  | 'CODEC_OPUS'
  | 5

export type Codec__Output = typeof Codec[keyof typeof Codec]
