import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TAPS_PER_SIDE, Upsampler2x } from '../../../src/audio/Upsampler2x.js';
import { Resampler } from '../../../src/audio/Resampler.js';
import { chunks, concat } from '../../helpers/speech.js';

function sine(freq: number, rate: number, seconds: number, amplitude = 0.5): Int16Array {
  const out = new Int16Array(Math.round(rate * seconds));
  for (let i = 0; i < out.length; i++) out[i] = Math.round(amplitude * 32767 * Math.sin((2 * Math.PI * freq * i) / rate));
  return out;
}

/** Amplitude of `freq` in `pcm` (Goertzel over a whole number of periods from `from`). */
function amplitude(pcm: Int16Array, rate: number, freq: number, from: number): number {
  const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));
  const whole = rate / gcd(rate, freq);
  const n = Math.floor((pcm.length - from) / whole) * whole;
  let re = 0;
  let im = 0;
  for (let i = 0; i < n; i++) {
    const v = pcm[from + i] ?? 0;
    re += v * Math.cos((2 * Math.PI * freq * i) / rate);
    im -= v * Math.sin((2 * Math.PI * freq * i) / rate);
  }
  return (2 * Math.hypot(re, im)) / n;
}

const db = (ratio: number): number => 20 * Math.log10(ratio);

test('2x up: exactly twice the samples, chunked output identical to one-shot', () => {
  const input = sine(440, 8000, 0.5);
  const whole = new Upsampler2x().process(input);
  const chunked = new Upsampler2x();
  const parts = chunks(input, 8000, 20).map((c) => chunked.process(c));
  for (const [i, part] of parts.entries()) assert.equal(part.length, 320, `chunk ${i}`);
  assert.equal(whole.length, 2 * input.length);
  assert.deepEqual(concat(...parts), whole);
  assert.equal(new Upsampler2x().process(new Int16Array(0)).length, 0);
});

test('2x up: the input samples come through unchanged, delayed by the filter, between interpolated ones', () => {
  const input = sine(1000, 8000, 0.2);
  const out = new Upsampler2x().process(input);
  for (let m = 0; m < input.length - TAPS_PER_SIDE; m++) assert.equal(out[2 * (m + TAPS_PER_SIDE)], input[m], `sample ${m}`);
  // Priming: silence in, silence out.
  assert.deepEqual([...out.subarray(0, 2)], [0, 0]);
});

test('2x up: tones across the telephone band keep their level, their images above 4 kHz are gone', () => {
  for (const freq of [300, 1000, 2000, 3000, 3400]) {
    const input = sine(freq, 8000, 1, 0.3);
    const out = new Upsampler2x().process(input);
    const kept = amplitude(out, 16000, freq, 400) / amplitude(input, 8000, freq, 200);
    assert.ok(Math.abs(db(kept)) < 0.1, `${freq} Hz passes at ${db(kept).toFixed(3)} dB`);
    // Zero-stuffing would put an image of the tone at 8000 - f as loud as the tone itself.
    const image = amplitude(out, 16000, 8000 - freq, 400) / amplitude(input, 8000, freq, 200);
    assert.ok(db(image) < (freq <= 3000 ? -80 : -60), `${freq} Hz: image at ${8000 - freq} Hz ${db(image).toFixed(1)} dB`);
  }
});

test('2x up: full scale is clamped, not wrapped', () => {
  const input = new Int16Array(8000);
  for (let i = 0; i < input.length; i++) input[i] = Math.floor(i / 40) % 2 === 0 ? 32767 : -32768;
  const out = new Upsampler2x().process(input);
  assert.ok(out.some((v) => v === 32767) && out.some((v) => v === -32768));
  for (let half = 2; half < 190; half++) {
    const centre = half * 80 + 40 + 2 * TAPS_PER_SIDE;
    assert.equal(Math.sign(out[centre] ?? 0), half % 2 === 0 ? 1 : -1, `half period ${half}`);
  }
});

test('Resampler: 8 -> 16 kHz is the half-band upsampler unless libsamplerate is asked for; other ratios stay libsamplerate', async () => {
  const input = sine(1000, 8000, 0.3);
  const auto = await Resampler.create(8000, 16000);
  assert.deepEqual(auto.process(input), new Upsampler2x().process(input));
  auto.destroy();
  assert.throws(() => auto.process(input), /after destroy/);
  const wasm = await Resampler.create(8000, 16000, 'libsamplerate');
  const viaWasm = wasm.process(input);
  wasm.destroy();
  assert.notDeepEqual(viaWasm, new Upsampler2x().process(input));
  const down = await Resampler.create(16000, 8000);
  assert.ok(Math.abs(down.process(sine(1000, 16000, 0.3)).length - 2400) <= 4);
  down.destroy();
});
