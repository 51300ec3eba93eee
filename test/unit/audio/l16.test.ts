import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { L16Decoder, decodeL16, encodeL16 } from '../../../src/audio/codecs/l16.js';

void describe('L16 (RFC 3551 §4.5.11)', () => {
  void it('decodes network byte order (big-endian)', () => {
    const pcm = decodeL16(Uint8Array.of(0x01, 0x02, 0xff, 0xfe, 0x80, 0x00, 0x7f, 0xff, 0x00, 0x00));
    assert.deepEqual(Array.from(pcm), [0x0102, -2, -32768, 32767, 0]);
  });

  void it('encodes to big-endian', () => {
    assert.deepEqual(Array.from(encodeL16(Int16Array.of(0x0102, -2, -32768, 32767))), [
      0x01, 0x02, 0xff, 0xfe, 0x80, 0x00, 0x7f, 0xff,
    ]);
  });

  void it('round-trips', () => {
    const pcm = Int16Array.from({ length: 1000 }, (_, i) => Math.round(Math.sin(i / 7) * 30000));
    assert.deepEqual(decodeL16(encodeL16(pcm)), pcm);
  });

  void it('decodes a payload at an odd byte offset inside a larger buffer', () => {
    const backing = Uint8Array.of(0xaa, 0x12, 0x34, 0xbb);
    assert.deepEqual(Array.from(decodeL16(backing.subarray(1, 3))), [0x1234]);
  });

  void it('rejects an odd byte count with a RangeError stating it', () => {
    assert.throws(() => decodeL16(new Uint8Array(161)), { name: 'RangeError', message: /161 bytes/ });
    assert.throws(() => new L16Decoder({ name: 'L16', clockRate: 16000, payloadType: 96 }).decode(new Uint8Array(3)), RangeError);
  });

  void it('decodes an empty payload to no samples', () => {
    assert.equal(decodeL16(new Uint8Array(0)).length, 0);
  });

  void it('L16Decoder reports the clock rate as sample rate', () => {
    assert.equal(new L16Decoder({ name: 'L16', clockRate: 16000, payloadType: 97 }).sampleRate, 16000);
    assert.throws(() => new L16Decoder({ name: 'PCMU', clockRate: 8000, payloadType: 0 }), TypeError);
  });
});
