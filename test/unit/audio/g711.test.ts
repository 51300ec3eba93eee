import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  ALAW_DECODE_TABLE,
  G711Decoder,
  ULAW_DECODE_TABLE,
  alawToLinear,
  decodeAlaw,
  decodeUlaw,
  encodeAlaw,
  encodeUlaw,
  linearToAlaw,
  linearToUlaw,
  ulawToLinear,
} from '../../../src/audio/codecs/g711.js';

/**
 * Independent expansion formulas from the G.711 definition (not the Sun
 * bit tricks the implementation uses): a code is sign, 3-bit exponent
 * (segment) and 4-bit mantissa.
 *
 * μ-law (bits inverted on the wire): |x|₁₄ = ((2m + 33) << e) − 33, scaled ×4.
 * A-law (even bits inverted, 0x55): |x|₁₃ = 2m + 1 for e = 0,
 * (2m + 33) << (e − 1) otherwise, scaled ×8. Sign bit set = positive.
 */
function ulawFormula(code: number): number {
  const u = ~code & 0xff;
  const e = (u >> 4) & 7;
  const m = u & 0x0f;
  const magnitude = (((2 * m + 33) << e) - 33) * 4;
  return (u & 0x80) !== 0 ? 0 - magnitude : magnitude;
}

function alawFormula(code: number): number {
  const a = code ^ 0x55;
  const e = (a >> 4) & 7;
  const m = a & 0x0f;
  const magnitude = (e === 0 ? 2 * m + 1 : (2 * m + 33) << (e - 1)) * 8;
  return (a & 0x80) !== 0 ? magnitude : 0 - magnitude;
}

void describe('G.711 μ-law', () => {
  void it('decodes the ITU/G.191 reference values', () => {
    assert.equal(ulawToLinear(0x00), -32124);
    assert.equal(ulawToLinear(0x80), 32124);
    assert.equal(ulawToLinear(0xff), 0);
    assert.equal(ulawToLinear(0x7f), 0);
    assert.equal(ulawToLinear(0x01), -31100);
    assert.equal(ulawToLinear(0x0f), -16764);
    assert.equal(ulawToLinear(0x70), -120);
    assert.equal(ulawToLinear(0x7e), -8);
    assert.equal(ulawToLinear(0xfe), 8);
    assert.equal(ulawToLinear(0xf0), 120);
  });

  void it('matches the G.711 expansion formula for all 256 codes', () => {
    for (let code = 0; code < 256; code++) {
      assert.equal(ULAW_DECODE_TABLE[code], ulawFormula(code), `code 0x${code.toString(16)}`);
    }
  });

  void it('decodes a payload through the table', () => {
    const pcm = decodeUlaw(Uint8Array.of(0x00, 0x80, 0xff, 0x7f));
    assert.deepEqual(Array.from(pcm), [-32124, 32124, 0, 0]);
  });

  void it('encodes reference values', () => {
    assert.equal(linearToUlaw(0), 0xff);
    assert.equal(linearToUlaw(-1), 0x7f); // G.191: -1 is negative zero
    assert.equal(linearToUlaw(-8), 0x7e);
    assert.equal(linearToUlaw(32767), 0x80);
    assert.equal(linearToUlaw(-32768), 0x00);
    assert.equal(linearToUlaw(32124), 0x80);
    assert.equal(linearToUlaw(8), 0xfe);
  });

  void it('re-encodes every decoded code to itself (except the duplicate zero 0x7f)', () => {
    for (let code = 0; code < 256; code++) {
      if (code === 0x7f) continue;
      assert.equal(linearToUlaw(ulawToLinear(code)), code, `code 0x${code.toString(16)}`);
    }
    assert.equal(linearToUlaw(ulawToLinear(0x7f)), 0xff);
  });

  void it('round-trips every int16 within half a quantisation step (+ clipping)', () => {
    let worst = 0;
    for (let x = -32768; x <= 32767; x++) {
      const y = ulawToLinear(linearToUlaw(x));
      const err = Math.abs(y - x);
      // Step in the 16-bit domain of the segment holding |x|: 8 << segment.
      const seg = Math.max(0, Math.min(7, Math.floor(Math.log2((Math.abs(x) >> 2) + 33)) - 5));
      const bound = Math.abs(x) > 32124 ? Math.abs(x) - 32124 + 512 : (8 << seg) / 2 + 4;
      assert.ok(err <= bound, `x=${x} decoded ${y}, error ${err} > ${bound}`);
      worst = Math.max(worst, err);
    }
    assert.ok(worst <= 1024, `worst error ${worst}`);
  });
});

void describe('G.711 A-law', () => {
  void it('decodes the ITU/G.191 reference values', () => {
    assert.equal(alawToLinear(0xd5), 8);
    assert.equal(alawToLinear(0x55), -8);
    assert.equal(alawToLinear(0x2a), -32256);
    assert.equal(alawToLinear(0xaa), 32256);
    assert.equal(alawToLinear(0x80), 5504);
    assert.equal(alawToLinear(0x00), -5504);
    assert.equal(alawToLinear(0xd4), 24);
    assert.equal(alawToLinear(0xc5), 264);
  });

  void it('matches the G.711 expansion formula for all 256 codes', () => {
    for (let code = 0; code < 256; code++) {
      assert.equal(ALAW_DECODE_TABLE[code], alawFormula(code), `code 0x${code.toString(16)}`);
    }
  });

  void it('encodes reference values', () => {
    assert.equal(linearToAlaw(0), 0xd5);
    assert.equal(linearToAlaw(-1), 0x55);
    assert.equal(linearToAlaw(32767), 0xaa);
    assert.equal(linearToAlaw(-32768), 0x2a);
  });

  void it('re-encodes every decoded code to itself', () => {
    for (let code = 0; code < 256; code++) {
      assert.equal(linearToAlaw(alawToLinear(code)), code, `code 0x${code.toString(16)}`);
    }
  });

  void it('round-trips every int16 within half a quantisation step (+ clipping)', () => {
    for (let x = -32768; x <= 32767; x++) {
      const y = alawToLinear(linearToAlaw(x));
      const mag = x < 0 ? -x - 1 : x; // A-law is symmetric around -0.5
      const seg = Math.max(0, Math.min(7, Math.floor(Math.log2((mag >> 3) + 1)) - 4));
      const step = 16 << Math.max(0, seg - 1);
      const bound = mag > 32256 ? mag - 32256 + step / 2 + 1 : step / 2 + 1;
      assert.ok(Math.abs(y - x) <= bound, `x=${x} decoded ${y}, error ${Math.abs(y - x)} > ${bound}`);
    }
  });
});

void describe('G.711 payload helpers', () => {
  void it('encodes and decodes whole payloads', () => {
    const pcm = Int16Array.from([0, 1000, -1000, 32767, -32768, 8, -8]);
    const u = encodeUlaw(pcm);
    const a = encodeAlaw(pcm);
    assert.equal(u.length, pcm.length);
    assert.equal(a.length, pcm.length);
    assert.deepEqual(Array.from(decodeUlaw(u)), Array.from(pcm, (s) => ulawToLinear(linearToUlaw(s))));
    assert.deepEqual(Array.from(decodeAlaw(a)), Array.from(pcm, (s) => alawToLinear(linearToAlaw(s))));
  });

  void it('refuses an output buffer that is too small, stating byte counts', () => {
    assert.throws(() => encodeUlaw(new Int16Array(10), new Uint8Array(5)), {
      name: 'RangeError',
      message: /5 bytes, 10 needed/,
    });
  });

  void it('G711Decoder picks the table from the spec', () => {
    const pcmu = new G711Decoder({ name: 'PCMU', clockRate: 8000, payloadType: 0 });
    const pcma = new G711Decoder({ name: 'PCMA', clockRate: 8000, payloadType: 8 });
    assert.equal(pcmu.sampleRate, 8000);
    assert.deepEqual(Array.from(pcmu.decode(Uint8Array.of(0x80))), [32124]);
    assert.deepEqual(Array.from(pcma.decode(Uint8Array.of(0xaa))), [32256]);
    assert.throws(() => new G711Decoder({ name: 'L16', clockRate: 8000, payloadType: 96 }), TypeError);
  });
});
