/**
 * A WebSocket close reason cut to what a close frame carries: at most 123
 * bytes of UTF-8 (RFC 6455 §5.5; `ws` throws on a longer one), whole
 * characters only. Used by every WebSocket endpoint that closes with text a
 * client may have chosen.
 */
export function closeReason(text: string): string {
  let reason = text.slice(0, 123);
  while (Buffer.byteLength(reason) > 123) reason = reason.slice(0, -1);
  return reason;
}
