/**
 * WebRTC voice activity detector (libfvad compiled to WebAssembly, package
 * `@ozymandiasthegreat/vad`). The wasm binary ships inside the package and is
 * read from disk; nothing is downloaded at install or run time, and it works
 * on worker threads (plain `WebAssembly.instantiate`, no emscripten glue).
 */
import vadBuilder, { type VAD } from '@ozymandiasthegreat/vad';

/** libfvad aggressiveness: 0 = least aggressive about filtering out non-speech, 3 = most. */
export type VadMode = 0 | 1 | 2 | 3;
export type VadFrameMs = 10 | 20 | 30;
export const VAD_SAMPLE_RATES = [8000, 16000, 32000, 48000] as const;

export interface WebRtcVadOptions {
  /** 8000 or 16000 (32000 and 48000 also work; libfvad downsamples internally). */
  readonly sampleRate: number;
  /** Frame length the detector classifies; default 20 ms. */
  readonly frameMs?: VadFrameMs;
  /** Default 2. */
  readonly mode?: VadMode;
}

type VadClass = new (mode: number, rate: number) => VAD;

/** One wasm instance per thread; each detector has its own libfvad handle in it. */
let vadClass: Promise<VadClass> | undefined;

function loadVad(): Promise<VadClass> {
  vadClass ??= vadBuilder().catch((err: unknown) => {
    vadClass = undefined; // let a later create() retry
    throw err;
  });
  return vadClass;
}

/**
 * One detector per stream (libfvad keeps per-stream noise statistics).
 * Classify frames of exactly {@link frameSamples} samples with {@link isSpeech}.
 */
export class WebRtcVad {
  readonly sampleRate: number;
  readonly frameMs: VadFrameMs;
  readonly mode: VadMode;
  /** Samples per frame at `sampleRate`. */
  readonly frameSamples: number;
  private vad: VAD | null;
  /** The package copies `frame.buffer` whole, so frames must be views of their own buffer. */
  private readonly scratch: Int16Array;

  private constructor(vad: VAD, sampleRate: number, frameMs: VadFrameMs, mode: VadMode) {
    this.vad = vad;
    this.sampleRate = sampleRate;
    this.frameMs = frameMs;
    this.mode = mode;
    this.frameSamples = (sampleRate / 1000) * frameMs;
    this.scratch = new Int16Array(this.frameSamples);
  }

  /** Loads the wasm module on first use in this thread (a few ms), then creates a detector. */
  static async create(options: WebRtcVadOptions): Promise<WebRtcVad> {
    const { sampleRate } = options;
    const frameMs = options.frameMs ?? 20;
    const mode = options.mode ?? 2;
    if (!(VAD_SAMPLE_RATES as readonly number[]).includes(sampleRate)) {
      throw new RangeError(`WebRTC VAD supports ${VAD_SAMPLE_RATES.join(', ')} Hz, not ${sampleRate}`);
    }
    if (frameMs !== 10 && frameMs !== 20 && frameMs !== 30) throw new RangeError(`VAD frames are 10, 20 or 30 ms, not ${String(frameMs)}`);
    if (!Number.isInteger(mode) || mode < 0 || mode > 3) throw new RangeError(`VAD mode must be 0-3, not ${String(mode)}`);
    const Vad = await loadVad();
    return new WebRtcVad(new Vad(mode, sampleRate), sampleRate, frameMs, mode);
  }

  /**
   * True when the frame contains speech.
   * @throws RangeError on a frame of the wrong length; Error after free().
   */
  isSpeech(frame: Int16Array): boolean {
    if (this.vad === null) throw new Error('WebRtcVad used after free()');
    if (frame.length !== this.frameSamples) {
      throw new RangeError(`VAD frame must be ${this.frameSamples} samples (${this.frameMs} ms at ${this.sampleRate} Hz), got ${frame.length}`);
    }
    let input = frame;
    if (frame.byteOffset !== 0 || frame.buffer.byteLength !== frame.byteLength) {
      this.scratch.set(frame);
      input = this.scratch;
    }
    // VADEvent: -1 error, 0 silence, 1 voice.
    const result: number = this.vad.processFrame(input);
    if (result < 0) throw new Error('libfvad failed to process a frame');
    return result === 1;
  }

  get freed(): boolean {
    return this.vad === null;
  }

  /** Frees the libfvad handle. Idempotent. */
  free(): void {
    const vad = this.vad;
    this.vad = null;
    vad?.destroy();
  }

  /** Alias of {@link free}. */
  dispose(): void {
    this.free();
  }
}
