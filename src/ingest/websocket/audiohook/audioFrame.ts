/**
 * AudioHook binary frames: samples of the chosen media, channels interleaved
 * in the order of `media.channels` (`external` = the customer, `internal` =
 * the agent). PCMU is one byte per sample; L16 is 16-bit signed
 * little-endian (unlike RTP's big-endian L16).
 *
 * @see [AudioHook media](https://developer.genesys.cloud/devapps/audiohook/protocol-reference#audio-data)
 */
import { ULAW_DECODE_TABLE, linearToUlaw } from '../../../audio/codecs/g711.js';
import { AudioHookProtocolError, type MediaChannel, type MediaParameter } from './protocol.js';

/** Bytes of one sample on every channel. */
export function frameBytesPerSample(media: MediaParameter): number {
  return media.channels.length * (media.format === 'PCMU' ? 1 : 2);
}

/**
 * Splits one binary frame into 16-bit PCM per channel.
 * @throws AudioHookProtocolError when the frame is empty or tears a sample.
 */
export function decodeAudioFrame(data: Uint8Array, media: MediaParameter): Map<MediaChannel, Int16Array> {
  const stride = frameBytesPerSample(media);
  if (data.length === 0 || data.length % stride !== 0) {
    throw new AudioHookProtocolError('bad-audio-frame', `audio frame of ${data.length} bytes is not a whole number of ${stride}-byte samples`);
  }
  const samples = data.length / stride;
  const out = new Map<MediaChannel, Int16Array>();
  media.channels.forEach((channel, c) => {
    const pcm = new Int16Array(samples);
    if (media.format === 'PCMU') {
      for (let i = 0, j = c; i < samples; i++, j += stride) pcm[i] = ULAW_DECODE_TABLE[data[j] ?? 0xff] ?? 0;
    } else {
      for (let i = 0, j = c * 2; i < samples; i++, j += stride) pcm[i] = (((data[j + 1] ?? 0) << 24) | ((data[j] ?? 0) << 16)) >> 16;
    }
    out.set(channel, pcm);
  });
  return out;
}

/** Encodes per-channel PCM as one interleaved frame (for test clients). */
export function encodeAudioFrame(channels: readonly Int16Array[], media: MediaParameter): Uint8Array {
  const samples = channels[0]?.length ?? 0;
  const stride = frameBytesPerSample(media);
  const out = new Uint8Array(samples * stride);
  channels.forEach((pcm, c) => {
    for (let i = 0; i < samples; i++) {
      const s = pcm[i] ?? 0;
      if (media.format === 'PCMU') {
        out[i * stride + c] = linearToUlaw(s);
      } else {
        out[i * stride + c * 2] = s & 0xff;
        out[i * stride + c * 2 + 1] = (s >> 8) & 0xff;
      }
    }
  });
  return out;
}
