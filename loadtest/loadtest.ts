/**
 * `npm run loadtest -- --scenario transcribe+spot --calls 2,4,8,10,12`
 *
 * For each concurrency step: starts a fresh gateway as a child process (its
 * CPU and RSS read from /proc, optionally pinned with taskset), connects M
 * event clients, ramps N two-leg calls up and keeps N up (a finished call is
 * replaced) for the step's duration, then lets the last calls finish. Calls
 * are flite fixtures (loadtest/fixtures.ts) played in real time over the
 * gRPC control plane and RTP, or as Twilio Media Streams. Writes JSON, a text
 * summary and an SVG plot of latency and CPU against concurrency.
 *
 * Measured: intent latency (end of the phrase's audio leaving the generator
 * to the intent arriving at each client), transcript lag (final transcript
 * arrival minus the wall time of its end on the call timeline), RTP loss
 * inside the gateway (sent minus counted on arrival), audio the recogniser
 * dropped, events per client, gateway CPU and RSS over time, and how late the
 * generator itself sent (a late generator invalidates the step).
 *
 * Loopback only; every step and the whole run are bounded in time.
 */
import dgram from 'node:dgram';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { POCKETSPHINX_DEFAULT_ARGS, POCKETSPHINX_NARROWBAND_DEFAULT_ARGS } from '../src/asr/engines/pocketsphinx/args.js';
import { CallControl } from '../src/ingest/grpc/client.js';
import { encodeFixture, playCall, type CallRecord, type EncodedFixture, type LoadCodec, type Transport } from './CallDriver.js';
import { EventClient } from './EventClients.js';
import { renderFixtures } from './fixtures.js';
import { GatewayProcess, metricSum } from './GatewayProcess.js';
import { MediaPump } from './MediaPump.js';
import { processTreeUsage } from './processTree.js';
import { startVoskProtocolServer } from '../test/helpers/voskProtocolServer.js';
import { renderPlot, type PlotStep } from './plot.js';
import { distribution, type Distribution } from './stats.js';

export const SCENARIOS = {
  /** RTP received, decoded and metered; transcripts pushed over gRPC (no ASR). */
  ingest: { env: { ASR: 'none' }, pushTranscripts: true, codec: 'pcmu' },
  /** pocketsphinx, free transcript of both legs. */
  transcribe: { env: { ASR: 'pocketsphinx', ASR_MODE: 'transcribe' }, pushTranscripts: false, codec: 'l16' },
  /** pocketsphinx, transcript plus phrase spotting (the gateway's default mode). */
  'transcribe+spot': { env: { ASR: 'pocketsphinx', ASR_MODE: 'transcribe+spot' }, pushTranscripts: false, codec: 'l16' },
  /** pocketsphinx, phrase spotting only (no transcript). */
  spot: { env: { ASR: 'pocketsphinx', ASR_MODE: 'spot' }, pushTranscripts: false, codec: 'l16' },
  /** Vosk (VOSK_MODEL must point at a model), the default mode. */
  vosk: { env: { ASR: 'vosk', ASR_MODE: 'transcribe+spot' }, pushTranscripts: false, codec: 'l16' },
  /**
   * The remote engine: two speech servers speaking vosk-server's protocol
   * (test/helpers/voskProtocolServer.ts, pocketsphinx behind it, one process
   * each, so a core each), started per step beside the gateway. vosk-server
   * has no spotter beside the transcript, so the transcript alone.
   */
  'vosk-server': { env: { ASR: 'vosk-server', ASR_MODE: 'transcribe' }, pushTranscripts: false, codec: 'l16' },
} as const satisfies Record<string, { env: Record<string, string>; pushTranscripts: boolean; codec: LoadCodec }>;
export type Scenario = keyof typeof SCENARIOS;

export interface LoadTestOptions {
  readonly scenario: Scenario;
  /** Concurrent calls per step (each call has two legs). */
  readonly calls: readonly number[];
  readonly transport: Transport;
  readonly codec: LoadCodec;
  readonly clients: number;
  /** Seconds over which a step's calls start. */
  readonly rampS: number;
  /** Seconds the step keeps its calls up after the ramp (finished calls are replaced). */
  readonly durationS: number;
  /** Cut each call after this many seconds (the smoke test's short calls); Infinity: whole fixtures. */
  readonly callS: number;
  /** taskset CPU list for the gateway; the generator takes the others. Undefined: not pinned. */
  readonly cpus: string | undefined;
  readonly asrWorkers: number;
  /** Keep the gateway's admission control (default off: the load test measures past it). */
  readonly admission: boolean;
  readonly rtpPortMin: number;
  readonly rtpPortMax: number;
  readonly outDir: string;
  /** Write a V8 CPU profile of the gateway per step into the output folder. */
  readonly profile?: boolean;
  /** Hard limit for the whole run. */
  readonly maxMinutes: number;
  /** Progress lines (stderr by default). */
  readonly log?: (line: string) => void;
}

export interface StepResult {
  readonly calls: number;
  readonly legs: number;
  readonly callsPlayed: number;
  readonly callErrors: number;
  readonly errorSamples: readonly string[];
  readonly intents: {
    readonly expected: number;
    readonly detected: number;
    readonly unexpected: number;
    /** Intents the fixtures do not label, by name (false positives, or a label missing). */
    readonly unexpectedByIntent: Readonly<Record<string, number>>;
    readonly bySource: Readonly<Record<string, number>>;
    /** ms, every delivery to every client. */
    readonly latencyMs: Distribution | undefined;
  };
  readonly transcriptLagMs: Distribution | undefined;
  readonly rtp: { readonly sent: number; readonly received: number; readonly lost: number; readonly dropped: number; readonly lossPercent: number; readonly kernelRcvbufErrors: number };
  readonly asr: { readonly audioSeconds: number; readonly droppedSeconds: number; readonly gaps: number; readonly processingSeconds: number };
  readonly events: { readonly perClient: readonly number[]; readonly clientsDropped: number; readonly clientsClosed: number };
  readonly cpu: { readonly meanCores: number; readonly maxCores: number };
  readonly memory: { readonly idleMb: number; readonly peakMb: number; readonly steadyMb: number; readonly perCallMb: number };
  readonly generator: { readonly latenessP99Ms: number; readonly latenessMaxMs: number };
  readonly timeline: readonly { readonly atS: number; readonly cpuCores: number; readonly rssMb: number; readonly activeLegs: number }[];
  readonly gatewayExitCode: number | null;
  /** The vosk-server scenario's speech servers (separate processes, not in the gateway's CPU): mean cores over the step. */
  readonly speechServerCores?: number;
}

export interface LoadTestReport {
  readonly tool: 'speech-gateway loadtest';
  readonly startedAt: string;
  readonly machine: { readonly cpu: string; readonly cores: number; readonly memoryGb: number; readonly node: string; readonly kernel: string };
  readonly options: Omit<LoadTestOptions, 'log'>;
  /** The gateway's settings that shape the figures. */
  readonly gateway: { readonly env: Readonly<Record<string, string>>; readonly pocketsphinxArgs: string; readonly pocketsphinxNarrowbandArgs: string };
  readonly steps: StepResult[];
}

const round = (v: number, digits = 2): number => Math.round(v * 10 ** digits) / 10 ** digits;

function udpRcvbufErrors(): number {
  try {
    const lines = readFileSync('/proc/net/snmp', 'utf8').split('\n').filter((l) => l.startsWith('Udp:'));
    const [names, values] = lines.map((l) => l.split(/\s+/));
    const at = names?.indexOf('RcvbufErrors') ?? -1;
    return at < 0 ? 0 : Number(values?.[at] ?? 0);
  } catch {
    return 0;
  }
}

function machine(): LoadTestReport['machine'] {
  return {
    cpu: os.cpus()[0]?.model ?? 'unknown',
    cores: os.cpus().length,
    memoryGb: round(os.totalmem() / 2 ** 30, 1),
    node: process.version,
    kernel: os.release(),
  };
}

/** CPUs not in `list` (for the generator when the gateway is pinned). */
function complementCpus(list: string): string | undefined {
  const pinned = new Set<number>();
  for (const part of list.split(',')) {
    const [a, b] = part.split('-').map(Number);
    if (a === undefined || !Number.isInteger(a)) continue;
    for (let c = a; c <= (b ?? a); c++) pinned.add(c);
  }
  const rest = Array.from({ length: os.cpus().length }, (_, i) => i).filter((c) => !pinned.has(c));
  return rest.length === 0 ? undefined : rest.join(',');
}

async function runStep(calls: number, options: LoadTestOptions, fixtures: readonly EncodedFixture[], stepIndex: number, deadline: number): Promise<StepResult> {
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const scenario = SCENARIOS[options.scenario];
  const env: Record<string, string> = {
    ...scenario.env,
    ASR_WORKERS: String(options.asrWorkers),
    LOG_LEVEL: 'warn',
    RTP_TIMEOUT_MS: '15000',
    CALL_RECORDS_FILE: path.join(options.outDir, `records-${options.scenario}-${calls}.jsonl`),
  };
  if (!options.admission) env['ASR_CAPACITY'] = '1000';
  const servers = options.scenario === 'vosk-server' ? await Promise.all([startVoskProtocolServer(), startVoskProtocolServer()]) : [];
  if (servers.length > 0) env['VOSK_SERVER_URLS'] = servers.map((s) => s.url).join(',');
  let gateway: GatewayProcess;
  try {
    gateway = await GatewayProcess.start({
      env,
      rtpPortMin: options.rtpPortMin,
      rtpPortMax: options.rtpPortMax,
      cpus: options.cpus,
      logFile: path.join(options.outDir, `gateway-${options.scenario}-${calls}.log`),
      ...(options.profile === true ? { nodeFlags: ['--cpu-prof', `--cpu-prof-dir=${options.outDir}`, `--cpu-prof-name=gateway-${options.scenario}-${calls}.cpuprofile`] } : {}),
      startTimeoutMs: 120_000,
    });
  } catch (err) {
    await Promise.all(servers.map((s) => s.kill()));
    throw err;
  }
  const control = new CallControl(`127.0.0.1:${gateway.grpcPort}`);
  const clients: EventClient[] = [];
  const pump = new MediaPump();
  const sockets: dgram.Socket[] = [];
  const records: CallRecord[] = [];
  const timeline: { atS: number; activeLegs: number }[] = [];
  try {
    for (let i = 0; i < options.clients; i++) clients.push(await EventClient.connect(gateway.httpPort, i === 0));
    for (let i = 0; i < Math.min(64, calls * 2); i++) {
      const socket = dgram.createSocket('udp4');
      await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', () => resolve()));
      socket.on('error', () => undefined);
      sockets.push(socket);
    }
    await sleep(1000);
    const idleMb = (await gateway.usage()).rssMb;
    const before = await gateway.metricsText();
    const rcvbufBefore = udpRcvbufErrors();
    gateway.startSampling(1000);
    const serverTicks = async (): Promise<number> => (await Promise.all(servers.map(async (sv) => (await processTreeUsage(sv.process.pid ?? 0)).cpuTicks))).reduce((a, b) => a + b, 0);
    const serverTicksBefore = await serverTicks();
    const origin = Date.now();
    const legSampler = setInterval(() => timeline.push({ atS: (Date.now() - origin) / 1000, activeLegs: pump.activeLegs }), 1000);
    const rampMs = options.rampS * 1000;
    const holdUntil = Math.min(origin + rampMs + options.durationS * 1000, deadline - 60_000);
    pump.resetLateness();
    log(`step ${stepIndex + 1}: ${calls} calls (${calls * 2} legs), ramp ${options.rampS} s, hold ${options.durationS} s`);
    await Promise.all(
      Array.from({ length: calls }, async (_, slot) => {
        await sleep((slot * rampMs) / calls);
        for (let k = 0; Date.now() < holdUntil; k++) {
          const encoded = fixtures[(slot + k) % fixtures.length] as EncodedFixture;
          const record = await playCall(`lt${stepIndex}-${slot}-${k}`, encoded, {
            transport: options.transport,
            control,
            pump,
            httpPort: gateway.httpPort,
            pushTranscripts: scenario.pushTranscripts,
            sockets,
          });
          records.push(record);
          // A refused call must not spin: wait a frame's worth before the slot tries again.
          if (record.error !== undefined) await sleep(1000);
        }
      }),
    );
    // Trailing events (finals flushed at hang-up, summaries).
    await sleep(3000);
    // Clock ticks are 1/100 s on Linux.
    const speechServerCores = servers.length === 0 ? undefined : round((await serverTicks()) - serverTicksBefore) / 100 / ((Date.now() - origin) / 1000);
    if (speechServerCores !== undefined) log(`speech servers: ${speechServerCores.toFixed(2)} cores mean`);
    clearInterval(legSampler);
    const after = await gateway.metricsText();
    const steadySamples = gateway.samples(rampMs).filter((s) => s.atMs <= holdUntil - origin);
    const allSamples = gateway.samples();
    const lateness = pump.lateness();

    const result = summarizeStep({
      calls,
      records,
      clients,
      before,
      after,
      rcvbufErrors: udpRcvbufErrors() - rcvbufBefore,
      idleMb,
      steady: steadySamples.length > 0 ? steadySamples : allSamples,
      all: allSamples,
      lateness,
      timeline: allSamples.map((s) => ({
        atS: round(s.atMs / 1000, 1),
        cpuCores: round(s.cpuCores),
        rssMb: Math.round(s.rssMb),
        activeLegs: timeline.reduce((best, t) => (Math.abs(t.atS * 1000 - s.atMs) < Math.abs(best.atS * 1000 - s.atMs) ? t : best), { atS: 0, activeLegs: 0 }).activeLegs,
      })),
      transport: options.transport,
    });
    return { ...result, gatewayExitCode: await gateway.stop(), ...(speechServerCores === undefined ? {} : { speechServerCores: round(speechServerCores) }) };
  } finally {
    pump.close();
    for (const client of clients) client.close();
    for (const socket of sockets) socket.close();
    control.close();
    await gateway.stop();
    await Promise.all(servers.map((s) => s.kill()));
  }
}

function summarizeStep(input: {
  calls: number;
  records: readonly CallRecord[];
  clients: readonly EventClient[];
  before: string;
  after: string;
  rcvbufErrors: number;
  idleMb: number;
  steady: readonly { cpuCores: number; rssMb: number }[];
  all: readonly { cpuCores: number; rssMb: number }[];
  lateness: { p99: number; max: number };
  timeline: StepResult['timeline'];
  transport: Transport;
}): Omit<StepResult, 'gatewayExitCode'> {
  const { records, clients, before, after } = input;
  const delta = (name: string, labels: Record<string, string> = {}): number => metricSum(after, name, labels) - metricSum(before, name, labels);
  const firstIntent = clients.map((client) => {
    const first = new Map<string, number>();
    for (const intent of client.intents) {
      const key = `${intent.callId}|${intent.intent}`;
      if (intent.leg === 'customer' && !first.has(key)) first.set(key, intent.receivedAt);
    }
    return first;
  });
  const latencies: number[] = [];
  let expected = 0;
  let detected = 0;
  const expectedKeys = new Set<string>();
  for (const record of records) {
    record.phrases.forEach((phrase, i) => {
      const sentAt = record.phraseEndsSentAt[i];
      if (phrase.leg !== 'customer') return;
      if (sentAt !== undefined) for (const also of phrase.alsoRaises) expectedKeys.add(`${record.callId}|${also}`);
      if (phrase.intent === undefined) return;
      expectedKeys.add(`${record.callId}|${phrase.intent}`);
      if (sentAt === undefined) return;
      expected++;
      firstIntent.forEach((first, c) => {
        const at = first.get(`${record.callId}|${phrase.intent}`);
        if (at === undefined) return;
        latencies.push(at - sentAt);
        if (c === 0) detected++;
      });
    });
  }
  const bySource: Record<string, number> = {};
  let unexpected = 0;
  const unexpectedByIntent: Record<string, number> = {};
  const playedCalls = new Set(records.map((r) => r.callId));
  for (const intent of clients[0]?.intents ?? []) {
    if (intent.leg !== 'customer' || !playedCalls.has(intent.callId)) continue;
    if (!expectedKeys.has(`${intent.callId}|${intent.intent}`)) {
      unexpected++;
      unexpectedByIntent[intent.intent] = (unexpectedByIntent[intent.intent] ?? 0) + 1;
    } else bySource[intent.source] = (bySource[intent.source] ?? 0) + 1;
  }
  const startedAt = new Map(records.map((r) => [r.callId, r.startedAtMs]));
  const lags: number[] = [];
  for (const final of clients[0]?.finals ?? []) {
    const start = startedAt.get(final.callId);
    if (start !== undefined && start > 0) lags.push(final.receivedAt - (start + final.endMs));
  }
  const framesSent = records.reduce((n, r) => n + r.framesSent, 0);
  const received = input.transport === 'rtp' ? delta('sgw_rtp_packets_received_total') : delta('sgw_ingest_messages_total', { protocol: 'twilio', type: 'media' });
  const mean = (xs: readonly number[]): number => (xs.length === 0 ? 0 : xs.reduce((a, b) => a + b, 0) / xs.length);
  const steadyMb = mean(input.steady.map((s) => s.rssMb));
  const errors = records.filter((r) => r.error !== undefined);
  return {
    calls: input.calls,
    legs: input.calls * 2,
    callsPlayed: records.length,
    callErrors: errors.length,
    errorSamples: [...new Set(errors.map((r) => r.error ?? ''))].slice(0, 5),
    intents: { expected, detected, unexpected, unexpectedByIntent, bySource, latencyMs: distribution(latencies) },
    transcriptLagMs: distribution(lags),
    rtp: {
      sent: framesSent,
      received,
      lost: delta('sgw_rtp_packets_lost_total'),
      dropped: delta('sgw_rtp_packets_dropped_total'),
      lossPercent: framesSent === 0 ? 0 : round((Math.max(0, framesSent - received) / framesSent) * 100, 4),
      kernelRcvbufErrors: input.rcvbufErrors,
    },
    asr: {
      audioSeconds: round(delta('sgw_asr_audio_seconds_total'), 1),
      droppedSeconds: round(delta('sgw_asr_audio_dropped_seconds_total'), 2),
      gaps: delta('sgw_transcript_gaps_total'),
      processingSeconds: round(delta('sgw_asr_processing_seconds_total'), 1),
    },
    events: {
      perClient: clients.map((c) => c.events),
      clientsDropped: delta('sgw_ws_event_clients_dropped_total'),
      clientsClosed: clients.filter((c) => c.closedUnexpectedly).length,
    },
    cpu: { meanCores: round(mean(input.steady.map((s) => s.cpuCores))), maxCores: round(Math.max(0, ...input.all.map((s) => s.cpuCores))) },
    memory: {
      idleMb: Math.round(input.idleMb),
      peakMb: Math.round(Math.max(input.idleMb, ...input.all.map((s) => s.rssMb))),
      steadyMb: Math.round(steadyMb),
      perCallMb: round(Math.max(0, steadyMb - input.idleMb) / input.calls, 1),
    },
    generator: { latenessP99Ms: input.lateness.p99, latenessMaxMs: input.lateness.max },
    timeline: input.timeline,
  };
}

const fmt = (d: Distribution | undefined, key: 'p50' | 'p95' | 'p99'): string => (d === undefined ? '–' : String(Math.round(d[key])));

/** The human summary: one row per step. */
export function formatSummary(report: LoadTestReport, label: string = report.options.scenario): string {
  const o = report.options;
  const lines = [
    `speech-gateway load test: ${label}, ${o.transport}${o.transport === 'rtp' ? ` ${o.codec.toUpperCase()}` : ''}, ${o.clients} event clients, ASR workers ${o.asrWorkers}, gateway CPUs ${o.cpus ?? 'all'}`,
    `machine: ${report.machine.cpu}, ${report.machine.cores} cores, ${report.machine.memoryGb} GiB, Node ${report.machine.node}; ${report.startedAt}`,
    '',
    '| calls | legs | played | intents found/expected | intent latency p50/p95/p99 ms | transcript lag p50/p95 ms | RTP loss % | ASR dropped s | CPU mean/max cores | RSS idle/peak MB | MB/call | events/client | generator late p99 ms | errors |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|---|---|',
  ];
  for (const s of report.steps) {
    const perClient = s.events.perClient;
    const events = perClient.length === 0 ? '–' : Math.min(...perClient) === Math.max(...perClient) ? String(perClient[0]) : `${Math.min(...perClient)}–${Math.max(...perClient)}`;
    lines.push(
      `| ${s.calls} | ${s.legs} | ${s.callsPlayed} | ${s.intents.detected}/${s.intents.expected}${s.intents.unexpected > 0 ? ` (+${s.intents.unexpected} unexpected)` : ''} | ${fmt(s.intents.latencyMs, 'p50')}/${fmt(s.intents.latencyMs, 'p95')}/${fmt(s.intents.latencyMs, 'p99')} | ${fmt(s.transcriptLagMs, 'p50')}/${fmt(s.transcriptLagMs, 'p95')} | ${s.rtp.lossPercent} | ${s.asr.droppedSeconds} | ${s.cpu.meanCores}/${s.cpu.maxCores} | ${s.memory.idleMb}/${s.memory.peakMb} | ${s.memory.perCallMb} | ${events} | ${s.generator.latenessP99Ms} | ${s.callErrors}${s.errorSamples.length > 0 ? ` (${s.errorSamples[0]})` : ''} |`,
    );
  }
  return `${lines.join('\n')}\n`;
}

function plotSteps(report: LoadTestReport): PlotStep[] {
  return report.steps.map((s) => ({
    concurrency: s.calls,
    ...(s.intents.latencyMs === undefined ? {} : { intentLatencyMs: { p50: s.intents.latencyMs.p50, p95: s.intents.latencyMs.p95, p99: s.intents.latencyMs.p99 } }),
    ...(s.transcriptLagMs === undefined ? {} : { transcriptLagMs: { p50: s.transcriptLagMs.p50, p95: s.transcriptLagMs.p95 } }),
    cpuCores: s.cpu.meanCores,
    rssMb: s.memory.peakMb,
  }));
}

/** Runs every step and writes `<out>/<name>.json`, `.txt` and `.svg`; returns the report. */
export async function runLoadTest(options: LoadTestOptions): Promise<{ report: LoadTestReport; files: { json: string; summary: string; plot: string } }> {
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const deadline = Date.now() + options.maxMinutes * 60_000;
  if (options.transport === 'twilio' && options.codec !== 'pcmu') throw new RangeError('--transport twilio carries PCMU only (use --codec pcmu)');
  if (options.scenario === 'vosk' && (process.env['VOSK_MODEL'] ?? '') === '') throw new RangeError('the vosk scenario needs VOSK_MODEL set to a Vosk model directory');
  const portsNeeded = 2 * 2 * Math.max(...options.calls);
  if (options.rtpPortMax - options.rtpPortMin + 1 < portsNeeded) throw new RangeError(`RTP port range ${options.rtpPortMin}-${options.rtpPortMax} is too small for ${Math.max(...options.calls)} calls (${portsNeeded} ports)`);
  await mkdir(options.outDir, { recursive: true });
  log(`rendering fixtures (flite, ${options.codec === 'pcmu' ? 8000 : 16000} Hz) ...`);
  const rendered = await renderFixtures(options.codec === 'pcmu' ? 8000 : 16000);
  const fixtures = rendered.map((f) => encodeFixture(f, options.codec, options.callS * 1000));
  const recorded: Omit<LoadTestOptions, 'log'> & { log?: unknown } = { ...options };
  delete recorded.log;
  const report: LoadTestReport = {
    tool: 'speech-gateway loadtest',
    startedAt: new Date().toISOString(),
    machine: machine(),
    options: recorded,
    gateway: { env: SCENARIOS[options.scenario].env, pocketsphinxArgs: process.env['POCKETSPHINX_ARGS'] ?? POCKETSPHINX_DEFAULT_ARGS.join(' '), pocketsphinxNarrowbandArgs: process.env['POCKETSPHINX_NARROWBAND_ARGS'] ?? (POCKETSPHINX_NARROWBAND_DEFAULT_ARGS.join(' ') || 'none') },
    steps: [],
  };
  const name = `${options.scenario}-${options.transport}`;
  const files = { json: path.join(options.outDir, `${name}.json`), summary: path.join(options.outDir, `${name}.txt`), plot: path.join(options.outDir, `${name}.svg`) };
  for (const [i, calls] of options.calls.entries()) {
    if (Date.now() > deadline - 90_000) {
      log(`stopping before step ${i + 1}: the run's ${options.maxMinutes} minute limit is near`);
      break;
    }
    const step = await runStep(calls, options, fixtures, i, deadline);
    report.steps.push(step);
    log(formatSummary({ ...report, steps: [step] }).split('\n').slice(-2).join(''));
    await writeOutputs(report, files);
  }
  await writeOutputs(report, files);
  return { report, files };
}

async function writeOutputs(report: LoadTestReport, files: { json: string; summary: string; plot: string }): Promise<void> {
  await writeFile(files.json, `${JSON.stringify(report, null, 2)}\n`);
  await writeFile(files.summary, formatSummary(report));
  await writeFile(files.plot, renderPlot(`speech-gateway load test: ${report.options.scenario} (${report.machine.cores} cores)`, [{ label: report.options.scenario, steps: plotSteps(report) }], { targets: { latencyP50Ms: 400, latencyP95Ms: 800 } }));
}

/** Combines several runs' JSON into one summary and one plot (docs/performance.md). */
export async function mergeReports(jsonFiles: readonly string[], outBase: string): Promise<void> {
  const reports = await Promise.all(jsonFiles.map(async (f) => JSON.parse(await readFile(f, 'utf8')) as LoadTestReport));
  const label = (r: LoadTestReport): string => `${r.options.scenario} (${r.options.transport}${r.options.transport === 'rtp' ? ` ${r.options.codec}` : ''})`;
  await writeFile(`${outBase}.svg`, renderPlot('speech-gateway: intent latency, CPU and memory against concurrent calls', reports.map((r) => ({ label: label(r), steps: plotSteps(r) })), { targets: { latencyP50Ms: 400, latencyP95Ms: 800 } }));
  await writeFile(`${outBase}.txt`, reports.map((r) => formatSummary(r, label(r))).join('\n'));
}

function parseCli(argv: readonly string[]): { options: LoadTestOptions } | { merge: string[]; out: string } {
  const { values, positionals } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: {
      scenario: { type: 'string', default: 'transcribe+spot' },
      calls: { type: 'string', default: '2,4,8,10,12' },
      transport: { type: 'string', default: 'rtp' },
      codec: { type: 'string' },
      clients: { type: 'string', default: '4' },
      ramp: { type: 'string', default: '10' },
      duration: { type: 'string', default: '60' },
      'call-seconds': { type: 'string' },
      cpus: { type: 'string' },
      workers: { type: 'string', default: String(os.availableParallelism()) },
      admission: { type: 'boolean', default: false },
      profile: { type: 'boolean', default: false },
      'rtp-ports': { type: 'string', default: '45000-49999' },
      out: { type: 'string', default: 'loadtest/results' },
      'max-minutes': { type: 'string', default: '60' },
      merge: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    process.exit(0);
  }
  if (values.merge) return { merge: positionals, out: values.out };
  const scenario = values.scenario;
  if (!(scenario in SCENARIOS)) throw new RangeError(`--scenario must be one of ${Object.keys(SCENARIOS).join(', ')}`);
  const s = scenario as Scenario;
  const number = (name: string, raw: string, min: number, max: number): number => {
    const v = Number(raw);
    if (!Number.isFinite(v) || v < min || v > max) throw new RangeError(`--${name} must be a number in [${min}, ${max}], got '${raw}'`);
    return v;
  };
  const calls = values.calls.split(',').map((c) => Math.round(number('calls', c, 1, 2000)));
  const transport = values.transport;
  if (transport !== 'rtp' && transport !== 'twilio') throw new RangeError('--transport must be rtp or twilio');
  const codec: string = values.codec ?? (transport === 'twilio' ? 'pcmu' : SCENARIOS[s].codec);
  if (codec !== 'pcmu' && codec !== 'l16') throw new RangeError('--codec must be pcmu or l16');
  const [min, max] = values['rtp-ports'].split('-').map((p) => number('rtp-ports', p, 1024, 65535));
  if (min === undefined || max === undefined || max < min) throw new RangeError('--rtp-ports must be MIN-MAX');
  return {
    options: {
      scenario: s,
      calls,
      transport,
      codec,
      clients: Math.round(number('clients', values.clients, 1, 1000)),
      rampS: number('ramp', values.ramp, 0, 3600),
      durationS: number('duration', values.duration, 0, 3600),
      callS: values['call-seconds'] === undefined ? Infinity : number('call-seconds', values['call-seconds'], 1, 3600),
      // Ingest-only is a one-core target: pin it there unless told otherwise.
      cpus: values.cpus ?? ((s as string) === 'ingest' && os.availableParallelism() > 1 ? '0' : undefined),
      asrWorkers: Math.round(number('workers', values.workers, 1, 64)),
      admission: values.admission,
      profile: values.profile,
      rtpPortMin: min,
      rtpPortMax: max,
      outDir: values.out,
      maxMinutes: number('max-minutes', values['max-minutes'], 1, 600),
    },
  };
}

const USAGE = `npm run loadtest -- [options]
  --scenario ingest|transcribe|transcribe+spot|spot|vosk|vosk-server   (default transcribe+spot)
  --calls 2,4,8,10,12      concurrent two-leg calls per step
  --transport rtp|twilio   gRPC StartCall + RTP (default), or Twilio Media Streams over WebSocket
  --codec pcmu|l16         RTP codec (default: pcmu for ingest, l16 16 kHz for recognition)
  --clients 4              WebSocket event clients
  --ramp 10 --duration 60  seconds to start the calls, then seconds to keep them up
  --call-seconds N         cut each fixture call after N seconds
  --cpus 0                 taskset CPUs for the gateway (ingest default: 0; the generator takes the rest)
  --workers N              ASR_WORKERS (default: cores)
  --admission              keep the gateway's admission control (default off)
  --profile                V8 CPU profile of the gateway per step (<out>/gateway-*.cpuprofile)
  --rtp-ports 45000-49999  --out loadtest/results  --max-minutes 60
  --merge a.json b.json --out docs/performance   one plot and summary from several runs`;

async function main(): Promise<void> {
  const parsed = parseCli(process.argv.slice(2));
  if ('merge' in parsed) {
    await mergeReports(parsed.merge, parsed.out);
    process.stdout.write(`wrote ${parsed.out}.svg and ${parsed.out}.txt\n`);
    return;
  }
  const { options } = parsed;
  // Hard stop, whatever happens.
  setTimeout(() => {
    process.stderr.write(`load test: hard limit of ${options.maxMinutes} minutes reached\n`);
    process.exit(2);
  }, options.maxMinutes * 60_000).unref();
  if (options.cpus !== undefined) {
    const rest = complementCpus(options.cpus);
    if (rest !== undefined) execFileSync('taskset', ['-a', '-p', '-c', rest, String(process.pid)], { stdio: 'ignore' });
  }
  const { report, files } = await runLoadTest(options);
  process.stdout.write(formatSummary(report));
  process.stdout.write(`\nwrote ${files.json}, ${files.summary}, ${files.plot}\n`);
}

if (process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((err: unknown) => {
    process.stderr.write(`load test failed: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
}
