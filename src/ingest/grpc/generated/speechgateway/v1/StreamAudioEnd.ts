// Original file: proto/speechgateway/v1/gateway.proto


/**
 * The call is over (the same as half-closing the request stream).
 */
export interface StreamAudioEnd {
}

/**
 * The call is over (the same as half-closing the request stream).
 */
export interface StreamAudioEnd__Output {
}
