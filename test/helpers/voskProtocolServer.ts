/**
 * A speech server that speaks vosk-server's WebSocket protocol as published
 * (alphacep/vosk-server websocket/asr_server.py), backed by the local
 * pocketsphinx engine, so the gateway's remote engine is tested against the
 * protocol without a Vosk model:
 *
 * - text `{"config": {"sample_rate": 8000, "phrase_list": [...], "words": true, "max_alternatives": 2}}`
 *   configures the connection's recogniser (before its first audio);
 * - every binary message (16-bit mono PCM) gets exactly one JSON answer: the
 *   utterance's final when an endpoint was reached (`{"result": [{word, start,
 *   end, conf}], "text"}`, or `{"alternatives": [{text, confidence, result}]}`
 *   with max_alternatives), else `{"partial": "..."}`; times in seconds from
 *   the connection's first sample;
 * - text `{"eof" : 1}` gets the final result, then the server closes.
 *
 * Faults for the tests (argv): `--stall-after N` stops answering after N audio
 * messages (the socket stays open), `--garbage-after N` answers non-JSON from
 * then on, `--die-after N` kills the process (SIGKILL) on message N+1.
 *
 * Run as a child process by {@link startVoskProtocolServer}; it prints
 * `{"listening": <port>}` on stdout once it accepts connections.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import { PocketsphinxEngine } from '../../src/asr/engines/pocketsphinx/PocketsphinxEngine.js';
import { DEBIAN_MODEL } from '../../src/asr/engines/pocketsphinx/paths.js';
import { POCKETSPHINX_DEFAULT_ARGS, POCKETSPHINX_DEFAULT_VOCABULARY } from '../../src/asr/engines/pocketsphinx/args.js';
import type { Recognizer } from '../../src/asr/engines/Engine.js';
import type { RecognitionResult, WordTiming } from '../../src/asr/types.js';
import { Resampler } from '../../src/audio/Resampler.js';

export interface VoskProtocolServerFaults {
  readonly stallAfter?: number;
  readonly garbageAfter?: number;
  readonly dieAfter?: number;
}

export interface VoskProtocolServer {
  readonly url: string;
  readonly port: number;
  readonly process: ChildProcess;
  /** Kills the server (SIGKILL) and waits for it to go. */
  kill(): Promise<void>;
}

/** Starts the server in a child process on a free port (or `port`). */
export async function startVoskProtocolServer(faults: VoskProtocolServerFaults = {}, port = 0): Promise<VoskProtocolServer> {
  const args = ['--port', String(port)];
  if (faults.stallAfter !== undefined) args.push('--stall-after', String(faults.stallAfter));
  if (faults.garbageAfter !== undefined) args.push('--garbage-after', String(faults.garbageAfter));
  if (faults.dieAfter !== undefined) args.push('--die-after', String(faults.dieAfter));
  const child = fork(fileURLToPath(import.meta.url), args, { stdio: ['ignore', 'pipe', 'inherit', 'ipc'], execArgv: [] });
  const exited = once(child, 'exit');
  const listening = await new Promise<number>((resolve, reject) => {
    let out = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const match = /\{"listening":(\d+)\}/.exec(out);
      if (match) resolve(Number(match[1]));
    });
    child.once('exit', (code) => reject(new Error(`vosk protocol server exited with ${code} before listening`)));
  });
  return {
    url: `ws://127.0.0.1:${listening}`,
    port: listening,
    process: child,
    kill: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}

function seconds(ms: number): number {
  return Math.round(ms) / 1000;
}

function wordsJson(words: readonly WordTiming[]): object[] {
  return words.map((w) => ({ word: w.word, start: seconds(w.startMs), end: seconds(w.endMs), conf: w.confidence ?? 1 }));
}

function finalJson(result: RecognitionResult | undefined, maxAlternatives: number): string {
  if (result === undefined) return maxAlternatives > 0 ? JSON.stringify({ alternatives: [{ text: '', confidence: 0 }] }) : JSON.stringify({ text: '' });
  if (maxAlternatives > 0) {
    const hypotheses = [{ text: result.text, words: result.words }, ...(result.alternatives ?? [])].slice(0, maxAlternatives);
    return JSON.stringify({ alternatives: hypotheses.map((h, rank) => ({ text: h.text, confidence: 100 - rank, result: wordsJson(h.words) })) });
  }
  return JSON.stringify({ result: wordsJson(result.words), text: result.text });
}

async function serve(): Promise<void> {
  const { values } = parseArgs({
    options: { port: { type: 'string', default: '0' }, 'stall-after': { type: 'string' }, 'garbage-after': { type: 'string' }, 'die-after': { type: 'string' } },
  });
  const limit = (v: string | undefined): number => (v === undefined ? Infinity : Number(v));
  const stallAfter = limit(values['stall-after']);
  const garbageAfter = limit(values['garbage-after']);
  const dieAfter = limit(values['die-after']);
  const engine = new PocketsphinxEngine(DEBIAN_MODEL, { extraArgs: [...POCKETSPHINX_DEFAULT_ARGS], vocabulary: POCKETSPHINX_DEFAULT_VOCABULARY });
  let audioMessages = 0;

  const wss = new WebSocketServer({ host: '127.0.0.1', port: Number(values.port) });
  wss.on('connection', (ws: WebSocket) => {
    let sampleRate = 8000;
    let maxAlternatives = 0;
    let session: Promise<{ recognizer: Recognizer; resampler: Resampler }> | undefined;
    const pendingFinals: RecognitionResult[] = [];
    let partial = '';
    // Messages are answered strictly in order, as the original's `await recv()` loop does.
    let chain = Promise.resolve();
    const start = (): Promise<{ recognizer: Recognizer; resampler: Resampler }> => {
      session ??= (async () => {
        const recognizer = engine.createRecognizer('en-US', { narrowband: sampleRate <= 8000, alternatives: Math.max(0, maxAlternatives - 1) });
        return { recognizer, resampler: await Resampler.create(sampleRate, recognizer.sampleRate) };
      })();
      return session;
    };
    const take = (results: readonly RecognitionResult[]): void => {
      for (const r of results) {
        if (r.final) pendingFinals.push(r);
        else partial = r.text;
      }
    };
    const handle = async (data: RawData, isBinary: boolean): Promise<void> => {
      const buffer = Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
      const text = isBinary ? undefined : buffer.toString('utf8');
      if (text?.includes('config') === true) {
        const config = (JSON.parse(text) as { config: { sample_rate?: number; max_alternatives?: number } }).config;
        if (config.sample_rate !== undefined) sampleRate = Math.round(Number(config.sample_rate));
        if (config.max_alternatives !== undefined) maxAlternatives = Number(config.max_alternatives);
        return;
      }
      const eof = text === '{"eof" : 1}';
      if (!eof) audioMessages++;
      if (audioMessages > dieAfter) process.kill(process.pid, 'SIGKILL');
      // A wedged server stays wedged: its health checks (eof on a new connection) fail too.
      if (audioMessages > stallAfter) return;
      if (audioMessages > garbageAfter) {
        ws.send('<html>502 Bad Gateway</html>');
        return;
      }
      if (eof) {
        const { recognizer } = await start();
        take(recognizer.finish());
        ws.send(finalJson(pendingFinals.shift(), maxAlternatives));
        ws.close();
        return;
      }
      const { recognizer, resampler } = await start();
      const samples = new Int16Array(buffer.buffer.slice(buffer.byteOffset, buffer.byteOffset + (buffer.byteLength & ~1)));
      take(recognizer.accept(resampler.process(samples)));
      const final = pendingFinals.shift();
      if (final !== undefined) {
        partial = '';
        ws.send(finalJson(final, maxAlternatives));
      } else ws.send(JSON.stringify({ partial }));
    };
    ws.on('message', (data, isBinary) => {
      chain = chain.then(() => handle(data, isBinary)).catch((err: unknown) => {
        process.stderr.write(`vosk protocol server: ${String(err)}\n`);
        ws.close(1011);
      });
    });
    ws.on('close', () => {
      void session?.then(({ recognizer, resampler }) => {
        recognizer.free();
        resampler.destroy();
      });
    });
  });
  await once(wss, 'listening');
  const address = wss.address();
  process.stdout.write(`${JSON.stringify({ listening: typeof address === 'object' && address !== null ? address.port : 0 })}\n`);
  process.on('disconnect', () => process.exit(0));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) void serve();
