/**
 * The gateway under test as a child process (`node dist/src/cli.js serve`),
 * optionally pinned to CPUs with taskset, so its CPU and memory are its own
 * and not the load generator's. CPU and RSS are read from /proc over the
 * gateway's process tree: every thread, and the recognition worker processes.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { processTreeUsage } from './processTree.js';

const CLI = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'src', 'cli.js');
/** Linux USER_HZ: /proc/<pid>/stat counts CPU time in these ticks. */
const CLOCK_TICKS_PER_S = 100;

export interface GatewayProcessOptions {
  /** Extra environment (ASR, ASR_MODE, ...); ports and hosts are set here. */
  readonly env: Readonly<Record<string, string>>;
  readonly rtpPortMin: number;
  readonly rtpPortMax: number;
  /** taskset CPU list, e.g. "0" or "0,1"; undefined: not pinned. */
  readonly cpus?: string;
  /** Where the gateway's log goes. */
  readonly logFile: string;
  /** Extra Node.js flags for the gateway, e.g. `--cpu-prof`. */
  readonly nodeFlags?: readonly string[];
  /** How long to wait for the gateway to answer (model loading included). */
  readonly startTimeoutMs?: number;
}

export interface ProcessSample {
  /** ms since the sampler started. */
  readonly atMs: number;
  /** CPU in cores over the last interval (1 = one core busy). */
  readonly cpuCores: number;
  readonly rssMb: number;
}

/** A free TCP port on 127.0.0.1 (bound, then released). */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

export class GatewayProcess {
  readonly #child: ChildProcess;
  readonly #exited: Promise<number | null>;
  #sampler: NodeJS.Timeout | undefined;
  #samples: ProcessSample[] = [];

  private constructor(
    child: ChildProcess,
    readonly httpPort: number,
    readonly grpcPort: number,
  ) {
    this.#child = child;
    this.#exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
  }

  get pid(): number {
    return this.#child.pid ?? 0;
  }

  static async start(options: GatewayProcessOptions): Promise<GatewayProcess> {
    const httpPort = await freePort();
    const grpcPort = await freePort();
    const env = {
      // stop() means stop now: calls end with reason shutdown at once, not after a drain of minutes (tests that drain set it).
      DRAIN_TIMEOUT_MS: '0',
      ...process.env,
      ...options.env,
      HTTP_HOST: '127.0.0.1',
      HTTP_PORT: String(httpPort),
      GRPC_HOST: '127.0.0.1',
      GRPC_PORT: String(grpcPort),
      RTP_BIND: '127.0.0.1',
      RTP_HOST: '127.0.0.1',
      RTP_PORT_MIN: String(options.rtpPortMin),
      RTP_PORT_MAX: String(options.rtpPortMax),
    };
    const argv = [process.execPath, ...(options.nodeFlags ?? []), CLI, 'serve'];
    const [command, ...args] = options.cpus === undefined ? argv : ['taskset', '-c', options.cpus, ...argv];
    const log = createWriteStream(options.logFile);
    const child = spawn(command as string, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout?.pipe(log);
    child.stderr?.pipe(log);
    const gateway = new GatewayProcess(child, httpPort, grpcPort);
    const deadline = Date.now() + (options.startTimeoutMs ?? 60_000);
    for (;;) {
      if (child.exitCode !== null) throw new Error(`gateway exited with code ${child.exitCode} during start; see ${options.logFile}`);
      try {
        const res = await fetch(`http://127.0.0.1:${httpPort}/healthz`);
        if (res.ok) break;
      } catch {
        // Not listening yet.
      }
      if (Date.now() > deadline) {
        await gateway.stop();
        throw new Error(`gateway did not answer /healthz within ${options.startTimeoutMs ?? 60_000} ms; see ${options.logFile}`);
      }
      await sleep(200);
    }
    return gateway;
  }

  /** Samples CPU and RSS every `intervalMs` until stop(). */
  startSampling(intervalMs = 1000): void {
    if (this.#sampler !== undefined) return;
    const origin = Date.now();
    let last: { atMs: number; ticks: number } | undefined;
    const sample = async (): Promise<void> => {
      const now = Date.now();
      const usage = await this.usage().catch(() => undefined);
      if (usage === undefined) return;
      if (last !== undefined) {
        const cpuCores = (usage.cpuTicks - last.ticks) / CLOCK_TICKS_PER_S / ((now - last.atMs) / 1000);
        this.#samples.push({ atMs: now - origin, cpuCores, rssMb: usage.rssMb });
      }
      last = { atMs: now, ticks: usage.cpuTicks };
    };
    void sample();
    this.#sampler = setInterval(() => void sample(), intervalMs);
  }

  /** Samples since startSampling(); `since` keeps only those at or after that offset (ms). */
  samples(since = 0): ProcessSample[] {
    return this.#samples.filter((s) => s.atMs >= since);
  }

  /** CPU ticks (user + system, all threads, worker processes included) and resident memory now. */
  async usage(): Promise<{ cpuTicks: number; rssMb: number }> {
    const { cpuTicks, rssMb } = await processTreeUsage(this.pid);
    return { cpuTicks, rssMb };
  }

  /** The gateway's Prometheus text. */
  async metricsText(): Promise<string> {
    const res = await fetch(`http://127.0.0.1:${this.httpPort}/metrics`);
    return res.text();
  }

  /** Sends `signal` and returns at once (a drain test watches the gateway while it drains). */
  signal(signal: NodeJS.Signals): void {
    if (this.#child.exitCode === null) this.#child.kill(signal);
  }

  /** Resolves with the exit code once the process is gone. */
  get exited(): Promise<number | null> {
    return this.#exited;
  }

  /** SIGKILL at once (a crashed or killed instance): nothing of the gateway runs after it. Resolves once it is gone. */
  async kill(): Promise<void> {
    clearInterval(this.#sampler);
    if (this.#child.exitCode === null && this.#child.signalCode === null) this.#child.kill('SIGKILL');
    await this.#exited;
  }

  /** SIGTERM (graceful: calls end, logs flush; no drain unless DRAIN_TIMEOUT_MS is set), SIGKILL after 15 s. Resolves with the exit code. */
  async stop(): Promise<number | null> {
    clearInterval(this.#sampler);
    if (this.#child.exitCode === null) this.#child.kill('SIGTERM');
    const timer = setTimeout(() => this.#child.kill('SIGKILL'), 15_000);
    const code = await this.#exited;
    clearTimeout(timer);
    return code;
  }
}

/**
 * Sum of a metric's samples in Prometheus text, over every label set matching
 * `labels` (all of them when empty).
 */
export function metricSum(text: string, name: string, labels: Readonly<Record<string, string>> = {}): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const rest = line.slice(name.length);
    if (rest[0] !== '{' && rest[0] !== ' ') continue;
    const labelText = rest[0] === '{' ? rest.slice(1, rest.indexOf('}')) : '';
    if (!Object.entries(labels).every(([k, v]) => labelText.includes(`${k}="${v}"`))) continue;
    const value = Number(rest.slice(rest.lastIndexOf(' ') + 1));
    if (Number.isFinite(value)) sum += value;
  }
  return sum;
}
