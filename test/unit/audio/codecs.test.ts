import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  createDecoder,
  createEncoder,
  payloadSampleCount,
  validateCodec,
  type CodecSpec,
} from '../../../src/audio/codecs/index.js';

function problem(result: CodecSpec | string): string {
  assert.equal(typeof result, 'string', `expected a problem, got ${JSON.stringify(result)}`);
  return result as string;
}

void describe('validateCodec', () => {
  void it('accepts PCMU/PCMA with their static payload types, defaulting them', () => {
    assert.deepEqual(validateCodec({ name: 'PCMU', clockRate: 8000, payloadType: 0 }), { name: 'PCMU', clockRate: 8000, payloadType: 0 });
    assert.deepEqual(validateCodec({ name: 'PCMU', clockRate: 8000, payloadType: undefined }), { name: 'PCMU', clockRate: 8000, payloadType: 0 });
    assert.deepEqual(validateCodec({ name: 'pcma' }), { name: 'PCMA', clockRate: 8000, payloadType: 8 });
  });

  void it('accepts G.711 with a dynamic payload type', () => {
    assert.deepEqual(validateCodec({ name: 'PCMA', clockRate: 8000, payloadType: 104 }), { name: 'PCMA', clockRate: 8000, payloadType: 104 });
  });

  void it('refuses a G.711 payload type belonging to something else', () => {
    assert.match(problem(validateCodec({ name: 'PCMA', clockRate: 8000, payloadType: 0 })), /^payload type 0 .*static 8/);
    assert.match(problem(validateCodec({ name: 'PCMU', clockRate: 8000, payloadType: 18 })), /^payload type 18/);
  });

  void it('refuses G.711 at 16 kHz', () => {
    assert.match(problem(validateCodec({ name: 'PCMU', clockRate: 16000, payloadType: 0 })), /^clock rate 16000/);
  });

  void it('accepts L16 at 8 and 16 kHz with a dynamic payload type', () => {
    assert.deepEqual(validateCodec({ name: 'L16', clockRate: 16000, payloadType: 96 }), { name: 'L16', clockRate: 16000, payloadType: 96 });
    assert.deepEqual(validateCodec({ name: 'L16', clockRate: 8000, payloadType: 127 }), { name: 'L16', clockRate: 8000, payloadType: 127 });
  });

  void it('refuses L16 without a dynamic payload type, including the 44.1 kHz static 10/11', () => {
    assert.match(problem(validateCodec({ name: 'L16', clockRate: 16000, payloadType: undefined })), /^payload type is required/);
    assert.match(problem(validateCodec({ name: 'L16', clockRate: 16000, payloadType: 11 })), /^payload type 11/);
    assert.match(problem(validateCodec({ name: 'L16', clockRate: 16000, payloadType: 95 })), /^payload type 95/);
    assert.match(problem(validateCodec({ name: 'L16', clockRate: 16000, payloadType: 128 })), /^payload type 128 is out of range/);
    assert.match(problem(validateCodec({ name: 'L16', clockRate: 16000, payloadType: 96.5 })), /^payload type/);
  });

  void it('refuses L16 at other rates or without a rate', () => {
    assert.match(problem(validateCodec({ name: 'L16', clockRate: 44100, payloadType: 96 })), /^clock rate 44100/);
    assert.match(problem(validateCodec({ name: 'L16', payloadType: 96 })), /^clock rate is required/);
  });

  void it('refuses unknown codecs', () => {
    assert.match(problem(validateCodec({ name: 'G729', clockRate: 8000, payloadType: 18 })), /^codec 'G729'/);
  });
});

void describe('createDecoder / createEncoder', () => {
  void it('round-trips through each codec', () => {
    const specs: CodecSpec[] = [
      { name: 'PCMU', clockRate: 8000, payloadType: 0 },
      { name: 'PCMA', clockRate: 8000, payloadType: 8 },
      { name: 'L16', clockRate: 16000, payloadType: 96 },
    ];
    const pcm = Int16Array.from({ length: 160 }, (_, i) => Math.round(Math.sin(i / 5) * 10000));
    for (const spec of specs) {
      const payload = createEncoder(spec).encode(pcm);
      assert.equal(payloadSampleCount(spec, payload.length), pcm.length, spec.name);
      const decoder = createDecoder(spec);
      assert.equal(decoder.spec, spec);
      assert.equal(decoder.sampleRate, spec.clockRate);
      const out = decoder.decode(payload);
      assert.equal(out.length, pcm.length);
      const maxErr = Math.max(...Array.from(out, (s, i) => Math.abs(s - (pcm[i] ?? 0))));
      assert.ok(maxErr <= (spec.name === 'L16' ? 0 : 320), `${spec.name} max error ${maxErr}`);
    }
  });

  void it('encodes into a caller buffer and returns a view of the bytes written', () => {
    const out = new Uint8Array(100);
    const view = createEncoder({ name: 'L16', clockRate: 8000, payloadType: 96 }).encode(Int16Array.of(1, 2), out);
    assert.equal(view.buffer, out.buffer);
    assert.deepEqual(Array.from(view), [0, 1, 0, 2]);
  });

  void it('payloadSampleCount flags odd L16 payloads', () => {
    assert.equal(payloadSampleCount({ name: 'L16', clockRate: 8000, payloadType: 96 }, 321), -1);
    assert.equal(payloadSampleCount({ name: 'PCMU', clockRate: 8000, payloadType: 0 }, 321), 321);
  });
});
