/**
 * What the Redis hop of a cluster costs: the same calls on one gateway with
 * its in-memory bus, then split between two gateways on one Redis stream
 * (each gateway pinned to its own core), with the supervisor clients on the
 * first. For every event every client receives: its delivery latency, from
 * the event's `ts` (publication on the gateway that has the call) to its
 * arrival at the client; and events lost: what the gateways published
 * (`sgw_events_published_total`) minus what each client received.
 *
 * Calls are transcripts only (ASR=none), their turns pushed with
 * PushTranscript as a recogniser would give them: a partial every 250 ms as
 * the words come, then the final; analytics and push run as for recognised
 * calls, so the event mix is a real one while the recognisers' CPU is left
 * out of a measurement of the bus.
 *
 *   node dist/loadtest/cluster-hop.js --calls 40 --duration 30 --clients 4 [--pin off] [--out docs/performance/cluster-hop.json]
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os, { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { WebSocket } from 'ws';
import { CallControl } from '../src/ingest/grpc/client.js';
import { FIXTURE_SCRIPTS } from './fixtures.js';
import { GatewayProcess, metricSum } from './GatewayProcess.js';
import { RedisServer } from './RedisProcess.js';
import { distribution, type Distribution } from './stats.js';

interface Options {
  readonly calls: number;
  readonly durationS: number;
  readonly clients: number;
  readonly out: string | undefined;
  /** Each gateway pinned to a core of its own (taskset), as the load step asks. */
  readonly pin: boolean;
}

type Mode = 'in-memory' | 'redis';

interface ModeResult {
  readonly mode: Mode;
  readonly gateways: number;
  readonly calls: number;
  readonly pushes: number;
  readonly pushErrors: number;
  readonly published: number;
  readonly receivedPerClient: readonly number[];
  /** published − received, per client. */
  readonly lostPerClient: readonly number[];
  readonly clientsClosed: number;
  /** ms from the event's `ts` to its arrival, every event at every client. */
  readonly latencyMs: Distribution | undefined;
  /** Redis: events of calls on the clients' own gateway (through the stream and back), and of the other gateway's. */
  readonly latencyLocalMs?: Distribution | undefined;
  readonly latencyRemoteMs?: Distribution | undefined;
  /** Redis: the first gateway's sgw_event_bus_delivery_seconds (publication → delivery after the stream), as the upper bounds of the buckets holding p50 and p95. */
  readonly busDeliveryOnFirst?: Readonly<Record<'local' | 'remote', { p50Le: number; p95Le: number; count: number }>>;
  readonly gatewayExitCodes: readonly (number | null)[];
}

/** A /v1/events client that keeps the latency of every event, by the gateway its call is on. */
class HopClient {
  received = 0;
  readonly latency: number[] = [];
  readonly byGateway = new Map<number, number[]>();
  closedUnexpectedly = false;
  #closing = false;

  private constructor(
    readonly ws: WebSocket,
    gatewayOf: (callId: string) => number | undefined,
  ) {
    ws.on('message', (data: Buffer) => {
      const receivedAt = Date.now();
      const event = JSON.parse(data.toString('utf8')) as { callId?: unknown; ts?: unknown };
      if (typeof event.callId !== 'string' || typeof event.ts !== 'number') return;
      this.received += 1;
      const ms = receivedAt - event.ts;
      this.latency.push(ms);
      const gateway = gatewayOf(event.callId);
      if (gateway === undefined) return;
      let list = this.byGateway.get(gateway);
      if (list === undefined) this.byGateway.set(gateway, (list = []));
      list.push(ms);
    });
    ws.on('close', () => {
      if (!this.#closing) this.closedUnexpectedly = true;
    });
  }

  static async connect(port: number, gatewayOf: (callId: string) => number | undefined): Promise<HopClient> {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/v1/events`, { perMessageDeflate: false });
    const client = new HopClient(ws, gatewayOf);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    return client;
  }

  close(): void {
    this.#closing = true;
    this.ws.close();
  }
}

/** The fixtures' turns, as one endless conversation per call. */
const TURNS = FIXTURE_SCRIPTS.flatMap((script) => script.turns);

/** Pushes one call's turns in real time until `stop()`: partials every 250 ms, then the final, then 500 ms of silence. */
function driveCall(control: CallControl, callId: string, offset: number, counts: { pushes: number; errors: number }): { stop(): void; done: Promise<void> } {
  let stopped = false;
  const push = (role: 'LEG_ROLE_CUSTOMER' | 'LEG_ROLE_AGENT', text: string, final: boolean, utteranceId: number, startMs: number, endMs: number): Promise<void> =>
    new Promise((resolve) => {
      counts.pushes += 1;
      control.raw.PushTranscript({ call_id: callId, role, text, final, utterance_id: utteranceId, start_ms: startMs, end_ms: endMs }, (err) => {
        if (err) counts.errors += 1;
        resolve();
      });
    });
  const done = (async () => {
    const started = Date.now();
    const utterances = { LEG_ROLE_CUSTOMER: 0, LEG_ROLE_AGENT: 0 };
    for (let turn = offset; !stopped; turn++) {
      const { speaker, text } = TURNS[turn % TURNS.length] ?? { speaker: 'customer', text: 'hello' };
      const role = speaker === 'customer' ? 'LEG_ROLE_CUSTOMER' : 'LEG_ROLE_AGENT';
      utterances[role] += 1;
      const words = text.toLowerCase().replace(/[^a-z' ]/g, '').split(' ').filter((w) => w !== '');
      const startMs = Date.now() - started;
      // About three words a second, as people speak.
      for (let n = 1; n < words.length && !stopped; n++) {
        await sleep(250);
        await push(role, words.slice(0, n).join(' '), false, utterances[role], startMs, Date.now() - started);
      }
      if (stopped) break;
      await sleep(250);
      await push(role, words.join(' '), true, utterances[role], startMs, Date.now() - started);
      await sleep(500);
    }
  })();
  return {
    stop: () => {
      stopped = true;
    },
    done,
  };
}

async function runMode(mode: Mode, options: Options, dir: string): Promise<ModeResult> {
  const redis = mode === 'redis' ? await RedisServer.start() : undefined;
  const env = (instance: string): Record<string, string> => ({
    ASR: 'none',
    JWT_SECRET: '',
    LOG_LEVEL: 'warn',
    MAX_CALLS_PER_CREDENTIAL: '100000',
    CALL_RECORDS_FILE: path.join(dir, `records-${mode}-${instance}.jsonl`),
    ...(redis === undefined ? {} : { REDIS_URL: redis.url, INSTANCE_ID: instance, REDIS_KEY_PREFIX: 'hop:' }),
  });
  const names = mode === 'redis' ? ['a', 'b'] : ['a'];
  const gateways: GatewayProcess[] = [];
  for (const [i, name] of names.entries()) {
    gateways.push(await GatewayProcess.start({ env: env(name), rtpPortMin: 47000 + i * 100, rtpPortMax: 47099 + i * 100, ...(options.pin ? { cpus: String(i % Math.max(1, os.availableParallelism())) } : {}), logFile: path.join(dir, `gateway-${mode}-${name}.log`) }));
  }
  const gatewayOfCall = new Map<string, number>();
  const controls = gateways.map((g) => new CallControl(`127.0.0.1:${g.grpcPort}`));
  const first = gateways[0] as GatewayProcess;
  const clients = await Promise.all(Array.from({ length: options.clients }, () => HopClient.connect(first.httpPort, (callId) => gatewayOfCall.get(callId))));
  // Let the buses connect (Redis) before the first call.
  await sleep(1000);
  const counts = { pushes: 0, errors: 0 };
  const drivers: { stop(): void; done: Promise<void> }[] = [];
  const callIds: string[] = [];
  for (let i = 0; i < options.calls; i++) {
    const gateway = i % gateways.length;
    const callId = `hop-${mode}-${i}`;
    gatewayOfCall.set(callId, gateway);
    const control = controls[gateway] as CallControl;
    await control.startCall({ call_id: callId, agent_id: `agent-${i}`, queue: 'orders', language: 'en-US', transcripts_only: true, legs: [{ role: 'LEG_ROLE_CUSTOMER' }, { role: 'LEG_ROLE_AGENT' }] });
    callIds.push(callId);
    drivers.push(driveCall(control, callId, i, counts));
    // Starts spread over two seconds.
    await sleep(2000 / options.calls);
  }
  await sleep(options.durationS * 1000);
  for (const driver of drivers) driver.stop();
  await Promise.all(drivers.map((d) => d.done));
  await Promise.all(callIds.map((callId) => (controls[gatewayOfCall.get(callId) ?? 0] as CallControl).endCall(callId).catch(() => undefined)));
  // What is still on its way arrives.
  await sleep(2000);
  let published = 0;
  for (const gateway of gateways) published += metricSum(await gateway.metricsText(), 'sgw_events_published_total');
  const firstMetrics = await first.metricsText();
  const busDelivery = (origin: string): { p50Le: number; p95Le: number; count: number } => ({
    p50Le: bucketQuantile(firstMetrics, 'sgw_event_bus_delivery_seconds', origin, 0.5) * 1000,
    p95Le: bucketQuantile(firstMetrics, 'sgw_event_bus_delivery_seconds', origin, 0.95) * 1000,
    count: metricSum(firstMetrics, 'sgw_event_bus_delivery_seconds_count', { origin }),
  });
  const received = clients.map((c) => c.received);
  const all = clients.flatMap((c) => c.latency);
  const fromGateway = (index: number): number[] => clients.flatMap((c) => c.byGateway.get(index) ?? []);
  const closed = clients.filter((c) => c.closedUnexpectedly).length;
  for (const client of clients) client.close();
  for (const control of controls) control.close();
  const exitCodes: (number | null)[] = [];
  for (const gateway of gateways) exitCodes.push(await gateway.stop());
  await redis?.stop();
  return {
    mode,
    gateways: gateways.length,
    calls: options.calls,
    pushes: counts.pushes,
    pushErrors: counts.errors,
    published,
    receivedPerClient: received,
    lostPerClient: received.map((r) => published - r),
    clientsClosed: closed,
    latencyMs: distribution(all),
    ...(mode === 'redis' ? { latencyLocalMs: distribution(fromGateway(0)), latencyRemoteMs: distribution(fromGateway(1)), busDeliveryOnFirst: { local: busDelivery('local'), remote: busDelivery('remote') } } : {}),
    gatewayExitCodes: exitCodes,
  };
}

/** The upper bound (le) of the histogram bucket that holds quantile `q` of the series with `origin`. */
function bucketQuantile(text: string, name: string, origin: string, q: number): number {
  const buckets: { le: number; count: number }[] = [];
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}_bucket{`) || !line.includes(`origin="${origin}"`)) continue;
    const le = /le="([^"]+)"/.exec(line)?.[1];
    if (le === undefined) continue;
    buckets.push({ le: le === '+Inf' ? Infinity : Number(le), count: Number(line.slice(line.lastIndexOf(' ') + 1)) });
  }
  const total = buckets.at(-1)?.count ?? 0;
  return buckets.find((b) => b.count >= q * total)?.le ?? NaN;
}

function format(result: ModeResult): string {
  const d = (x: Distribution | undefined): string => (x === undefined ? '–' : `${x.p50}/${x.p95}/${x.p99} ms (max ${x.max}, n ${x.count})`);
  const lines = [
    `${result.mode}: ${result.gateways} gateway(s), ${result.calls} calls, ${result.pushes} pushes (${result.pushErrors} refused), ${result.published} events published`,
    `  received per client: ${result.receivedPerClient.join(', ')}; lost per client: ${result.lostPerClient.join(', ')}; clients closed: ${result.clientsClosed}; exit codes ${result.gatewayExitCodes.join(', ')}`,
    `  delivery latency p50/p95/p99: ${d(result.latencyMs)}`,
  ];
  if (result.mode === 'redis') {
    lines.push(`    calls on the clients' gateway: ${d(result.latencyLocalMs)}`, `    calls on the other gateway:    ${d(result.latencyRemoteMs)}`);
    const bus = result.busDeliveryOnFirst;
    if (bus !== undefined) lines.push(`  on the clients' gateway, publication → delivery after the stream (sgw_event_bus_delivery_seconds): local p50 ≤ ${bus.local.p50Le} ms, p95 ≤ ${bus.local.p95Le} ms; remote p50 ≤ ${bus.remote.p50Le} ms, p95 ≤ ${bus.remote.p95Le} ms`);
  }
  return lines.join('\n');
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      calls: { type: 'string', default: '100' },
      duration: { type: 'string', default: '30' },
      clients: { type: 'string', default: '4' },
      out: { type: 'string' },
      pin: { type: 'string', default: 'on' },
    },
  });
  const options: Options = { calls: Number(values.calls), durationS: Number(values.duration), clients: Number(values.clients), out: values.out, pin: values.pin !== 'off' };
  if (!(options.calls > 0 && options.durationS > 0 && options.clients > 0)) throw new RangeError('--calls, --duration and --clients must be positive numbers');
  const dir = await mkdtemp(path.join(tmpdir(), 'sgw-cluster-hop-'));
  try {
    const results: ModeResult[] = [];
    for (const mode of ['in-memory', 'redis'] as const) {
      const result = await runMode(mode, options, dir);
      console.log(format(result));
      results.push(result);
    }
    if (options.out !== undefined) {
      const machine = { cpus: os.cpus()[0]?.model ?? 'unknown', cores: os.availableParallelism(), memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10, node: process.version, loadAverage: os.loadavg() };
      await writeFile(options.out, `${JSON.stringify({ tool: 'loadtest/cluster-hop.ts', startedAt: new Date().toISOString(), machine, options, results }, null, 2)}\n`);
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
