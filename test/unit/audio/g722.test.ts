import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { describe, it } from 'node:test';
import koffi from 'koffi';
import { G722Decoder, G722State } from '../../../src/audio/codecs/g722.js';
import { prng } from '../../helpers/prng.js';

/**
 * The reference: Debian's libspandsp2 (`g722_decode_init(NULL, 64000, 0)`,
 * `g722_decode`), through koffi. Installed by .ci/setup.
 */
const SPANDSP = '/usr/lib/x86_64-linux-gnu/libspandsp.so.2';

interface Spandsp {
  init(state: null, rate: number, options: number): unknown;
  decode(state: unknown, amp: Int16Array, data: Uint8Array, len: number): number;
  free(state: unknown): number;
}

function loadSpandsp(): Spandsp {
  const lib = koffi.load(SPANDSP);
  koffi.pointer('g722_decode_state_t', koffi.opaque());
  return {
    init: lib.func('g722_decode_state_t *g722_decode_init(void *s, int rate, int options)') as Spandsp['init'],
    decode: lib.func('int g722_decode(g722_decode_state_t *s, _Out_ int16_t *amp, const uint8_t *g722_data, int len)') as Spandsp['decode'],
    free: lib.func('int g722_decode_free(g722_decode_state_t *s)') as Spandsp['free'],
  };
}

/** Real G.722 from a third-party encoder: ffmpeg's, of a chirp with noise. */
function ffmpegG722(): Uint8Array {
  const out = execFileSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-f', 'lavfi', '-i', 'aevalsrc=0.4*sin(2*PI*(200+400*t)*t)+0.05*(random(0)-0.5):s=16000:d=3', '-c:a', 'g722', '-f', 'g722', '-']);
  return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
}

function compare(data: Uint8Array, spandsp: Spandsp, label: string): void {
  const ref = spandsp.init(null, 64000, 0);
  const refOut = new Int16Array(data.length * 2);
  const state = new G722State();
  const ours = new Int16Array(data.length * 2);
  // Packet by packet (20 ms = 160 bytes), as RTP delivers it: state carries across calls.
  for (let off = 0; off < data.length; off += 160) {
    const chunk = data.subarray(off, off + 160);
    const refChunk = new Int16Array(chunk.length * 2);
    assert.equal(spandsp.decode(ref, refChunk, chunk, chunk.length), chunk.length * 2);
    refOut.set(refChunk, off * 2);
    ours.set(state.decode(chunk), off * 2);
  }
  spandsp.free(ref);
  const firstDiff = ours.findIndex((v, i) => v !== refOut[i]);
  assert.equal(firstDiff, -1, `${label}: first difference at sample ${firstDiff}: ours ${ours[firstDiff]}, spandsp ${refOut[firstDiff]}`);
  assert.ok(refOut.some((v) => Math.abs(v) > 1000), `${label}: the stream is not near silence`);
}

/** G.722 bytes that exercise the predictors: a tone's encoding is not at hand, so random codes plus runs of silence-like codes. */
function testStream(seed: number, bytes: number): Uint8Array {
  const rand = prng(seed);
  const out = new Uint8Array(bytes);
  for (let i = 0; i < bytes; i++) {
    const phase = Math.floor(i / 800) % 3;
    // Random codes, slowly varying codes (predictor adaptation), and the idle code.
    out[i] = phase === 0 ? Math.floor(rand() * 256) : phase === 1 ? (0xc0 | (32 + Math.round(20 * Math.sin(i / 7)))) & 0xff : 0xff;
  }
  return out;
}

void describe('G.722 decoder', () => {
  void it('matches libspandsp2 sample for sample, 20 ms packets at a time', { skip: !existsSync(SPANDSP) && 'libspandsp2 is not installed' }, () => {
    const spandsp = loadSpandsp();
    for (const seed of [1, 2, 3]) compare(testStream(seed, 160 * 200), spandsp, `random codes, seed ${seed}`);
    compare(ffmpegG722(), spandsp, 'ffmpeg-encoded chirp');
  });

  void it('decodes two 16 kHz samples per byte, keeping state between payloads', () => {
    const decoder = new G722Decoder({ name: 'G722', clockRate: 8000, payloadType: 9 });
    assert.equal(decoder.sampleRate, 16000);
    const data = testStream(7, 320);
    const whole = new G722State().decode(data);
    const a = decoder.decode(data.subarray(0, 160));
    const b = decoder.decode(data.subarray(160));
    assert.equal(a.length + b.length, 640);
    assert.deepEqual([...a, ...b], [...whole]);
  });
});
