import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Resampler } from '../../../src/audio/Resampler.js';
import { chunks, concat } from '../../helpers/speech.js';

function sine(freq: number, rate: number, seconds: number, amplitude = 0.5): Int16Array {
  const out = new Int16Array(Math.round(rate * seconds));
  for (let i = 0; i < out.length; i++) out[i] = Math.round(amplitude * 32767 * Math.sin((2 * Math.PI * freq * i) / rate));
  return out;
}

/** Frequency estimated from rising zero crossings, skipping the filter's start-up. */
function frequency(pcm: Int16Array, rate: number, skip: number): number {
  let first = -1;
  let last = -1;
  let count = 0;
  for (let i = skip + 1; i < pcm.length; i++) {
    if ((pcm[i - 1] ?? 0) < 0 && (pcm[i] ?? 0) >= 0) {
      if (first < 0) first = i;
      else count++;
      last = i;
    }
  }
  return (count * rate) / (last - first);
}

function rms(pcm: Int16Array, from: number): number {
  let sum = 0;
  for (let i = from; i < pcm.length; i++) sum += (pcm[i] ?? 0) ** 2;
  return Math.sqrt(sum / (pcm.length - from));
}

test('1 kHz sine at 8 kHz resampled in 20 ms chunks to 16 kHz keeps frequency, level and length', async () => {
  const input = sine(1000, 8000, 1);
  const resampler = await Resampler.create(8000, 16000);
  const out = concat(...chunks(input, 8000, 20).map((c) => resampler.process(c)));
  resampler.destroy();

  assert.ok(Math.abs(out.length - 16000) <= 4, `length ${out.length}`);
  const f = frequency(out, 16000, 200);
  assert.ok(Math.abs(f - 1000) < 5, `frequency ${f}`);
  const ratio = rms(out, 200) / rms(input, 100);
  assert.ok(ratio > 0.9 && ratio < 1.1, `level ratio ${ratio}`);
});

test('16 kHz -> 8 kHz halves the length and keeps a 1 kHz tone', async () => {
  const input = sine(1000, 16000, 1);
  const resampler = await Resampler.create(16000, 8000);
  const out = concat(...chunks(input, 16000, 20).map((c) => resampler.process(c)));
  resampler.destroy();
  assert.ok(Math.abs(out.length - 8000) <= 4, `length ${out.length}`);
  const f = frequency(out, 8000, 100);
  assert.ok(Math.abs(f - 1000) < 5, `frequency ${f}`);
});

test('state carries across chunks: chunked output equals one-shot output', async () => {
  const input = sine(440, 8000, 0.5);
  const chunked = await Resampler.create(8000, 16000);
  const whole = await Resampler.create(8000, 16000);
  const a = concat(...chunks(input, 8000, 20).map((c) => chunked.process(c)));
  const b = whole.process(input);
  chunked.destroy();
  whole.destroy();
  assert.ok(Math.abs(a.length - b.length) <= 2, `${a.length} vs ${b.length}`);
  let maxDiff = 0;
  for (let i = 200; i < Math.min(a.length, b.length) - 50; i++) maxDiff = Math.max(maxDiff, Math.abs((a[i] ?? 0) - (b[i] ?? 0)));
  // Chunk-boundary discontinuities would show up as differences of thousands.
  assert.ok(maxDiff <= 2, `max difference ${maxDiff}`);
});

test('full-scale input is clamped, not wrapped', async () => {
  // A full-scale square wave makes the sinc filter overshoot past int16.
  const input = new Int16Array(8000);
  for (let i = 0; i < input.length; i++) input[i] = Math.floor(i / 40) % 2 === 0 ? 32767 : -32768;
  const resampler = await Resampler.create(8000, 16000);
  const out = concat(...chunks(input, 8000, 20).map((c) => resampler.process(c)));
  resampler.destroy();
  // Middle of each half period (80 output samples long): sign must match the input's.
  let checked = 0;
  for (let half = 2; half < 190; half++) {
    const centre = half * 80 + 40 + 8; // + small filter delay
    const expected = half % 2 === 0 ? 1 : -1;
    assert.equal(Math.sign(out[centre] ?? 0), expected, `half period ${half} at ${centre}: ${out[centre]}`);
    checked++;
  }
  assert.ok(checked > 100);
  assert.ok(out.some((v) => v === 32767), 'overshoot should saturate at 32767');
});

test('equal rates are the identity; destroy is idempotent; use after destroy throws', async () => {
  const identity = await Resampler.create(16000, 16000);
  const pcm = new Int16Array([1, 2, 3]);
  assert.equal(identity.isIdentity, true);
  assert.equal(identity.process(pcm), pcm);
  identity.destroy();
  identity.destroy();

  const r = await Resampler.create(8000, 16000);
  r.destroy();
  r.destroy();
  assert.throws(() => r.process(pcm), /after destroy/);
  await assert.rejects(Resampler.create(0, 16000), RangeError);
});
