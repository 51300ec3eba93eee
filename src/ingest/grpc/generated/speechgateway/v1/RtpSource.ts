// Original file: proto/speechgateway/v1/gateway.proto


export interface RtpSource {
  /**
   * IPv4 address, e.g. "10.0.0.5" (no host names; RTP sockets are IPv4).
   */
  'address'?: (string);
  /**
   * Its RTP port, 1..65535; 0 means any port of the address (NAT, SBC port pools).
   */
  'port'?: (number);
}

export interface RtpSource__Output {
  /**
   * IPv4 address, e.g. "10.0.0.5" (no host names; RTP sockets are IPv4).
   */
  'address': (string);
  /**
   * Its RTP port, 1..65535; 0 means any port of the address (NAT, SBC port pools).
   */
  'port': (number);
}
