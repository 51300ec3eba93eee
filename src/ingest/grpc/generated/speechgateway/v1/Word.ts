// Original file: proto/speechgateway/v1/gateway.proto


export interface Word {
  'word'?: (string);
  'start_ms'?: (number);
  'end_ms'?: (number);
  /**
   * 0..1; 0 means unknown.
   */
  'confidence'?: (number | string);
}

export interface Word__Output {
  'word': (string);
  'start_ms': (number);
  'end_ms': (number);
  /**
   * 0..1; 0 means unknown.
   */
  'confidence': (number);
}
