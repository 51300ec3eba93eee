/**
 * ASR worker thread entry. Owns one Engine and, per stream, a Recognizer, a
 * Resampler (input rate -> recogniser rate) and, unless disabled, a
 * SpeechGate (voice activity: only speech plus padding reaches the recogniser,
 * result times are mapped back to the stream's timeline). Native recognition blocks, which
 * is why it lives here and not on the main thread.
 *
 * Messages are taken off the channel as they arrive and handled one at a
 * time from two queues: `init` and `open` first (a call's start must not wait
 * behind other calls' audio), then everything else in arrival order (a
 * stream's audio, end and close stay in order; its open was sent before its
 * audio). Opening a stream is async (the resampler and the VAD load wasm).
 * Nothing escapes the handler: failures are reported as messages.
 *
 * It runs as a child process (the default: a native crash ends only this
 * process) or as a worker thread (WorkerHost.ts); only the channel differs.
 */
import { parentPort } from 'node:worker_threads';
import { GatewayError, errorMessage, type ErrorCode } from '../../errors.js';
import type { EngineConfig } from '../types.js';
import type { Engine, Recognizer, Spotter } from '../engines/Engine.js';
import { PocketsphinxEngine } from '../engines/pocketsphinx/PocketsphinxEngine.js';
import { VoskEngine } from '../engines/vosk/VoskEngine.js';
import { Resampler } from '../../audio/Resampler.js';
import { SpeechGate } from '../../audio/vad/SpeechGate.js';
import { HighBandFill } from '../../audio/HighBandFill.js';
import { BandwidthProbe } from '../../audio/BandwidthProbe.js';
import type { FromWorker, OpenMessage, StreamId, ToWorker } from './protocol.js';
import { StreamSink } from './StreamSink.js';
import type { SpotHit } from '../types.js';

interface Channel {
  /** A child process owns its CPU clock, so its accounting can include everything it spends. */
  readonly isProcess: boolean;
  send(message: FromWorker, transfer?: ArrayBuffer[]): void;
  onMessage(handler: (message: ToWorker) => void): void;
}

function channel(): Channel {
  const port = parentPort;
  if (port !== null) {
    return { isProcess: false, send: (message, transfer) => port.postMessage(message, transfer), onMessage: (handler) => port.on('message', handler) };
  }
  const send = process.send?.bind(process);
  if (send === undefined) throw new Error('asr/pool/worker.js must be started by the ASR pool (worker thread or forked process)');
  // The gateway went away (even by a crash): nothing will read results any more.
  process.on('disconnect', () => process.exit(0));
  return { isProcess: true, send: (message) => void send(message), onMessage: (handler) => process.on('message', handler) };
}

const port = channel();

interface StreamState {
  /** Recogniser and/or spotter. */
  readonly recognizer: StreamSink;
  readonly resampler: Resampler;
  /** Voice-activity gate in front of the recogniser; null when disabled for the stream. */
  readonly gate: SpeechGate | null;
}

let engine: Engine | null = null;
let partialIntervalMs: number | undefined;
let alternatives = 0;
const streams = new Map<StreamId, StreamState>();
/**
 * Received, not yet handled. Bounded by the pool: it sends a stream no more
 * audio than its backlog bound (maxBufferedAudioMs) until `processed` comes back.
 */
const urgent: ToWorker[] = [];
const ordered: ToWorker[] = [];
let draining = false;

function post(message: FromWorker, transfer?: ArrayBuffer[]): void {
  port.send(message, transfer);
}

/**
 * CPU a process worker spent since the last report, whatever it was spent on
 * (engine and decoder start, wasm, IPC, GC): the pool's accounting and
 * admission control must see all of it. A thread shares the gateway's CPU
 * clock, so it reports the wall time of the audio it handled instead.
 */
// From zero, not from now: the process's own start (Node, its modules, the engine's library)
// is recognition cost too, and /proc counts it; from now it went missing (about 0.2 s a worker).
let cpuReported: NodeJS.CpuUsage = { user: 0, system: 0 };
function cpuSinceLastReportMs(): number {
  const now = process.cpuUsage();
  const ms = (now.user - cpuReported.user + now.system - cpuReported.system) / 1000;
  cpuReported = now;
  return ms;
}

function codeOf(err: unknown): ErrorCode {
  return err instanceof GatewayError ? err.code : 'SGW_ASR_UNAVAILABLE';
}

function createEngine(config: EngineConfig): Engine {
  switch (config.engine) {
    case 'pocketsphinx':
      return new PocketsphinxEngine({ hmm: config.hmm, lm: config.lm, dict: config.dict }, { extraArgs: config.extraArgs ?? [], narrowbandArgs: config.narrowbandArgs ?? [], ...(config.recordArgs === undefined ? {} : { recordArgs: config.recordArgs }), ...(config.recordVocabulary === undefined ? {} : { recordVocabulary: config.recordVocabulary }), ...(config.vocabulary === undefined ? {} : { vocabulary: config.vocabulary }), spotterArgs: config.spotterArgs ?? [] });
    case 'vosk':
      return new VoskEngine(config.models);
  }
}

function freeStream(streamId: StreamId): void {
  const stream = streams.get(streamId);
  if (!stream) return;
  streams.delete(streamId);
  try {
    stream.recognizer.free();
  } finally {
    stream.resampler.destroy();
    stream.gate?.free();
  }
}

function freeAll(): void {
  for (const id of [...streams.keys()]) {
    try {
      freeStream(id);
    } catch {
      // Keep freeing the others; the engine frees leftovers below.
    }
  }
  engine?.free();
  engine = null;
}

/** The telephone profile's fill, when asked for and the input is narrower than the recogniser. */
function narrowbandFill(msg: OpenMessage, recognizerRate: number): HighBandFill | null {
  if (msg.narrowbandFillDbfs === undefined || msg.inputSampleRate >= recognizerRate) return null;
  return new HighBandFill({ sampleRate: recognizerRate, sourceSampleRate: msg.inputSampleRate, levelDbfs: msg.narrowbandFillDbfs });
}

function postSpots(streamId: StreamId, stream: StreamState): void {
  const raw = stream.recognizer.takeHits();
  if (raw.length === 0) return;
  const gate = stream.gate;
  const hits: SpotHit[] = gate
    ? raw.map((h) => ({ phrase: h.phrase, startMs: Math.round(gate.toStreamMs(h.startMs)), endMs: Math.round(gate.toStreamMs(h.endMs, true)) }))
    : raw;
  post({ type: 'spots', streamId, hits });
}

async function handle(msg: ToWorker): Promise<void> {
  switch (msg.type) {
    case 'init': {
      if (engine !== null) {
        post({ type: 'initError', requestId: msg.requestId, code: 'SGW_CONFIG', message: 'worker already initialised' });
        return;
      }
      try {
        engine = createEngine(msg.engine);
        partialIntervalMs = msg.partialIntervalMs;
        alternatives = msg.alternatives ?? 0;
        post({ type: 'ready', requestId: msg.requestId, engine: engine.name });
      } catch (err) {
        post({ type: 'initError', requestId: msg.requestId, code: codeOf(err), message: errorMessage(err) });
      }
      return;
    }
    case 'open': {
      const { requestId, streamId } = msg;
      let recognizer: Recognizer | undefined;
      let spotter: Spotter | undefined;
      let resampler: Resampler | undefined;
      try {
        if (engine === null) throw new GatewayError('SGW_ASR_UNAVAILABLE', 'ASR worker has no engine');
        if (streams.has(streamId)) throw new GatewayError('SGW_INVALID_ARGUMENT', `stream ${streamId} already open`);
        // Telephone audio (8 kHz) reaching a wideband engine gets the engine's telephone profile
        // (docs/asr.md). The spotter's audio may instead get the high-band fill, which makes it
        // wideband-like again, so a filled spotter keeps the wideband profile.
        const narrowband = msg.inputSampleRate < engine.sampleRate && msg.inputSampleRate <= 8000;
        const fill = narrowbandFill(msg, engine.sampleRate);
        if (msg.mode !== 'spot') recognizer = engine.createRecognizer(msg.language, { narrowband, alternatives, recordOnly: msg.recordOnly === true, ...(partialIntervalMs === undefined ? {} : { partialIntervalMs }) });
        if (msg.mode !== 'transcribe') spotter = engine.createSpotter(msg.language, msg.spotPhrases ?? [], { narrowband: narrowband && fill === null });
        const probe = msg.detectNarrowband === true && !narrowband && engine.telephoneProfile && msg.inputSampleRate >= 16000 ? new BandwidthProbe({ sampleRate: engine.sampleRate }) : undefined;
        const wideEngine = engine;
        const language = msg.language;
        const mode = msg.mode;
        const phrases = msg.spotPhrases ?? [];
        const recordOnly = msg.recordOnly === true;
        const sink = new StreamSink(
          recognizer ?? null,
          spotter ?? null,
          fill,
          probe && {
            probe,
            create: () => {
              const r = mode === 'spot' ? null : wideEngine.createRecognizer(language, { narrowband: true, alternatives, recordOnly, ...(partialIntervalMs === undefined ? {} : { partialIntervalMs }) });
              try {
                return { recognizer: r, spotter: mode === 'transcribe' ? null : wideEngine.createSpotter(language, phrases, { narrowband: true }) };
              } catch (err) {
                r?.free();
                throw err;
              }
            },
            onDecided: (bandwidth, highBandDb, error) => post({ type: 'bandwidth', streamId, bandwidth, highBandDb: Number.isFinite(highBandDb) ? highBandDb : -200, ...(error === undefined ? {} : { error: errorMessage(error) }) }),
          },
        );
        resampler = await Resampler.create(msg.inputSampleRate, sink.sampleRate);
        const gate = msg.vad === false ? null : await SpeechGate.create({ ...msg.vad, sampleRate: sink.sampleRate });
        streams.set(streamId, { recognizer: sink, resampler, gate });
        post({ type: 'opened', requestId, streamId, engineSampleRate: sink.sampleRate, ...(spotter ? { spotSkipped: spotter.skipped } : {}) });
      } catch (err) {
        recognizer?.free();
        spotter?.free();
        resampler?.destroy();
        post({ type: 'openError', requestId, streamId, code: codeOf(err), message: errorMessage(err) });
      }
      return;
    }
    case 'audio': {
      const { streamId } = msg;
      const samples = msg.pcm.byteLength >> 1;
      const stream = streams.get(streamId);
      const start = performance.now();
      const gate = stream?.gate ?? null;
      const skippedBefore = gate?.skippedSamples ?? 0;
      if (stream) {
        try {
          const pcm = stream.resampler.process(new Int16Array(msg.pcm, 0, samples));
          const results = gate ? gate.process(pcm, stream.recognizer) : stream.recognizer.accept(pcm);
          if (results.length > 0) post({ type: 'results', streamId, results });
          postSpots(streamId, stream);
        } catch (err) {
          post({ type: 'error', streamId, message: `recognition failed: ${errorMessage(err)}` });
        }
      }
      const processingMs = port.isProcess ? cpuSinceLastReportMs() : performance.now() - start;
      // Always acknowledged, even for an unknown stream, so the sender's backlog accounting drains.
      if (gate) post({ type: 'processed', streamId, samples, processingMs, vadSkippedSeconds: (gate.skippedSamples - skippedBefore) / gate.sampleRate });
      else post({ type: 'processed', streamId, samples, processingMs });
      return;
    }
    case 'end': {
      const { requestId, streamId } = msg;
      const stream = streams.get(streamId);
      if (stream) {
        try {
          const results = stream.gate ? stream.gate.finish(stream.recognizer) : stream.recognizer.finish();
          if (results.length > 0) post({ type: 'results', streamId, results });
          postSpots(streamId, stream);
        } catch (err) {
          post({ type: 'error', streamId, message: `flushing the final result failed: ${errorMessage(err)}` });
        }
      }
      // The final flush decodes too; a process reports it now rather than with some later stream's audio.
      if (port.isProcess) post({ type: 'processed', streamId, samples: 0, processingMs: cpuSinceLastReportMs() });
      post({ type: 'ended', requestId, streamId });
      return;
    }
    case 'close':
      try {
        freeStream(msg.streamId);
      } catch (err) {
        post({ type: 'error', streamId: msg.streamId, message: `freeing the recogniser failed: ${errorMessage(err)}` });
      }
      return;
    case 'shutdown':
      try {
        freeAll();
      } finally {
        // Native decoders are freed above; exiting here ends only this thread.
        process.exit(0);
      }
      return;
    case 'ping':
    case 'debug':
      return; // handled before queueing
  }
}

port.onMessage((msg: ToWorker) => {
  // Heartbeats bypass the queues: they must measure whether the worker is responsive, not the backlog.
  if (msg.type === 'ping') {
    post({ type: 'pong', seq: msg.seq });
    return;
  }
  if (msg.type === 'debug') {
    if (msg.action === 'exit') process.exit(70);
    // A native library's abort (SIGABRT), as a segfault would: only a process worker survives being asked.
    else if (msg.action === 'crash') process.abort();
    // Blocks the thread without burning CPU.
    else Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, msg.ms ?? 60_000);
    return;
  }
  (msg.type === 'open' || msg.type === 'init' ? urgent : ordered).push(msg);
  if (!draining) {
    draining = true;
    setImmediate(() => void drain());
  }
});

/** One message per turn of the event loop, so messages that arrived meanwhile are queued (and an open can go first). */
async function drain(): Promise<void> {
  const msg = urgent.shift() ?? ordered.shift();
  if (msg === undefined) {
    draining = false;
    return;
  }
  try {
    await handle(msg);
  } catch (err) {
    post({ type: 'error', message: `unexpected failure handling ${msg.type}: ${errorMessage(err)}` });
  }
  setImmediate(() => void drain());
}
