import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createDecoder, payloadTicks, pcmSampleRate, ticksToSamples, validateCodec, type CodecSpec } from '../../../src/audio/codecs/index.js';
import { OpusRtpDecoder, opusPacketTicks } from '../../../src/audio/codecs/opus.js';

const OPUS: CodecSpec = { name: 'OPUS', clockRate: 48000, payloadType: 111 };

void describe('Opus (RFC 7587 / RFC 6716)', () => {
  void it('reads packet durations from the TOC byte, in 48 kHz ticks', () => {
    // config 1 = SILK NB 20 ms; code 0: one frame.
    assert.equal(opusPacketTicks(Uint8Array.of(1 << 3, 0xaa)), 960);
    // config 31 = CELT FB 20 ms; code 1: two equal frames.
    assert.equal(opusPacketTicks(Uint8Array.of((31 << 3) | 1, 1, 2)), 1920);
    // config 16 = CELT NB 2.5 ms; code 3, CBR, 4 frames of 2 bytes.
    assert.equal(opusPacketTicks(Uint8Array.of((16 << 3) | 3, 4, 1, 1, 2, 2, 3, 3, 4, 4)), 480);
    // config 12 = hybrid SWB 10 ms; code 2: first frame 2 bytes, second 1.
    assert.equal(opusPacketTicks(Uint8Array.of((12 << 3) | 2, 2, 9, 9, 9)), 960);
    // config 3 = SILK NB 60 ms, code 3 VBR with padding: 2 frames = 120 ms.
    assert.equal(opusPacketTicks(Uint8Array.of((3 << 3) | 3, 0x80 | 0x40 | 2, 1, 2, 7, 7, 7, 0)), 5760);
  });

  void it('refuses packets that break RFC 6716 §3.4 R1-R7', () => {
    assert.equal(opusPacketTicks(new Uint8Array(0)), -1, 'R1 empty');
    assert.equal(opusPacketTicks(Uint8Array.of((31 << 3) | 1, 1)), -1, 'R3 odd code-1 split');
    assert.equal(opusPacketTicks(Uint8Array.of((31 << 3) | 2, 9, 1)), -1, 'R4 code-2 length past the end');
    assert.equal(opusPacketTicks(Uint8Array.of((31 << 3) | 3)), -1, 'R5 no count byte');
    assert.equal(opusPacketTicks(Uint8Array.of((31 << 3) | 3, 0)), -1, 'R5 zero frames');
    assert.equal(opusPacketTicks(Uint8Array.of((3 << 3) | 3, 3, 0, 0, 0)), -1, 'R5 over 120 ms');
    assert.equal(opusPacketTicks(Uint8Array.of((31 << 3) | 3, 3, 1, 2)), -1, 'R6 CBR not divisible');
    assert.equal(opusPacketTicks(Uint8Array.of((31 << 3) | 3, 0x40 | 1, 200, 1)), -1, 'R6/R7 padding past the end');
    assert.equal(opusPacketTicks(Uint8Array.of((31 << 3) | 3, 0x80 | 2, 250, 1)), -1, 'R7 VBR length past the end');
    assert.equal(payloadTicks(OPUS, new Uint8Array(5000).fill(8)), -1, 'over the decoder input size');
  });

  void it('validates the codec at 48 kHz with a dynamic payload type, decoding to 16 kHz', () => {
    assert.deepEqual(validateCodec({ name: 'opus', payloadType: 111 }), OPUS);
    assert.match(validateCodec({ name: 'OPUS', clockRate: 16000, payloadType: 111 }) as string, /^clock rate 16000/);
    assert.match(validateCodec({ name: 'OPUS' }) as string, /^payload type is required/);
    assert.equal(pcmSampleRate(OPUS), 16000);
    assert.equal(ticksToSamples(OPUS, 960), 320);
    assert.deepEqual(validateCodec({ name: 'g722' }), { name: 'G722', clockRate: 8000, payloadType: 9 });
    assert.equal(pcmSampleRate({ name: 'G722', clockRate: 8000, payloadType: 9 }), 16000);
    assert.equal(ticksToSamples({ name: 'G722', clockRate: 8000, payloadType: 9 }, 160), 320);
  });

  void it('decodes with libopus (WASM) to 16 kHz mono, silence of the right length for undecodable frames', async () => {
    const decoder = createDecoder(OPUS) as OpusRtpDecoder;
    await decoder.ready;
    // A CELT 20 ms frame of arbitrary bytes still decodes (to noise) with the packet's length.
    const pcm = decoder.decode(Uint8Array.of(31 << 3, ...new Uint8Array(40).fill(0x5a)));
    assert.equal(pcm.length, 320);
    // The DTX/PLC packet: a TOC alone.
    assert.equal(decoder.decode(Uint8Array.of(1 << 3)).length, 320);
    assert.throws(() => decoder.decode(new Uint8Array(0)), RangeError);
    decoder.close();
    decoder.close();
    assert.equal(decoder.decode(Uint8Array.of(1 << 3)).length, 320, 'closed: silence, never a crash');
  });
});
