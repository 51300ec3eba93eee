import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { GatewayError } from './errors.js';
import type { Language } from './language.js';
import { PII_TYPES, type PiiType } from './analytics/redaction/redact.js';
import { defaultModelsDir, resolveModelPath } from './asr/models/catalog.js';
import type { AsrChoice } from './asr/engines/select.js';

/** Root of the installed package: the nearest folder above this file with a package.json. */
export const PACKAGE_ROOT = findPackageRoot(path.dirname(fileURLToPath(import.meta.url)));

function findPackageRoot(start: string): string {
  let dir = start;
  while (!existsSync(path.join(dir, 'package.json'))) {
    const parent = path.dirname(dir);
    if (parent === dir) return start;
    dir = parent;
  }
  return dir;
}


export interface GatewayConfig {
  readonly httpHost: string;
  readonly httpPort: number;
  readonly grpcHost: string;
  readonly grpcPort: number;
  /** Address RTP sockets bind to. */
  readonly rtpBindHost: string;
  /** Address announced to the PBX in StartCall replies. */
  readonly rtpAdvertisedHost: string;
  readonly rtpPortMin: number;
  readonly rtpPortMax: number;
  /** A call with no RTP on any leg for this long ends with reason rtp-timeout. */
  readonly rtpTimeoutMs: number;
  /** Packets the reorder buffer may hold while waiting for a missing one. */
  readonly reorderDepth: number;
  /** SO_RCVBUF of each RTP socket: absorbs bursts (and floods) while the event loop is busy. */
  readonly rtpReceiveBufferBytes: number;
  readonly asr: AsrChoice;
  readonly voskModels: Partial<Record<Language, string>>;
  readonly asrWorkers: number;
  /** WebRTC VAD gate in front of each recogniser (speech plus padding is recognised, not silence). */
  readonly asrVad: boolean;
  /** Cores recognition may use before StartCall is refused; 0 means workers × 0.85. */
  readonly asrCapacityCores: number;
  /** Cores per leg assumed until measured (real-time factor). */
  readonly asrLegCost: number;
  readonly grammarsDir: string;
  /** PII types redacted from transcripts, events and logs; empty disables redaction. */
  readonly redact: ReadonlySet<PiiType>;
  /** JSON-lines file of post-call records. */
  readonly callRecordsFile: string;
  readonly logLevel: string;
}

interface OptionSpec {
  readonly key: keyof GatewayConfig | 'voskModel' | 'voskModelNl';
  readonly flag: string;
  readonly env: string;
  readonly default: string;
  readonly description: string;
}

/** Every setting, its flag, environment variable and default (also printed by --help and in README). */
export const OPTIONS: readonly OptionSpec[] = [
  { key: 'httpHost', flag: '--http-host', env: 'HTTP_HOST', default: '0.0.0.0', description: 'HTTP bind address (/v1/events, /metrics, /healthz)' },
  { key: 'httpPort', flag: '--http-port', env: 'HTTP_PORT', default: '8080', description: 'HTTP port; 0 picks a free one' },
  { key: 'grpcHost', flag: '--grpc-host', env: 'GRPC_HOST', default: '0.0.0.0', description: 'gRPC control-plane bind address' },
  { key: 'grpcPort', flag: '--grpc-port', env: 'GRPC_PORT', default: '50051', description: 'gRPC port; 0 picks a free one' },
  { key: 'rtpBindHost', flag: '--rtp-bind', env: 'RTP_BIND', default: '0.0.0.0', description: 'Address RTP/RTCP sockets bind to' },
  { key: 'rtpAdvertisedHost', flag: '--rtp-host', env: 'RTP_HOST', default: '127.0.0.1', description: 'Host returned to the PBX in StartCall replies' },
  { key: 'rtpPortMin', flag: '--rtp-port-min', env: 'RTP_PORT_MIN', default: '40000', description: 'First port of the RTP range (even ports for RTP, +1 for RTCP)' },
  { key: 'rtpPortMax', flag: '--rtp-port-max', env: 'RTP_PORT_MAX', default: '40999', description: 'Last port of the RTP range' },
  { key: 'rtpTimeoutMs', flag: '--rtp-timeout-ms', env: 'RTP_TIMEOUT_MS', default: '30000', description: 'End a call after this long without RTP on any leg' },
  { key: 'reorderDepth', flag: '--reorder-depth', env: 'RTP_REORDER_DEPTH', default: '4', description: 'Packets held to reorder before a gap is declared lost' },
  { key: 'rtpReceiveBufferBytes', flag: '--rtp-recv-buffer', env: 'RTP_RECV_BUFFER', default: String(1024 * 1024), description: 'SO_RCVBUF per RTP socket in bytes (capped by net.core.rmem_max)' },
  { key: 'asr', flag: '--asr', env: 'ASR', default: 'auto', description: 'auto | vosk | pocketsphinx (auto: vosk when a model is set, else pocketsphinx)' },
  { key: 'voskModel', flag: '--vosk-model', env: 'VOSK_MODEL', default: '', description: 'Vosk model for en-US: a directory, or a model name from `models list` in the models cache' },
  { key: 'voskModelNl', flag: '--vosk-model-nl', env: 'VOSK_MODEL_NL', default: '', description: 'Vosk model for nl-NL: a directory, or a model name from `models list` in the models cache' },
  { key: 'asrWorkers', flag: '--asr-workers', env: 'ASR_WORKERS', default: String(os.availableParallelism()), description: 'Recognition worker threads (default: one per core)' },
  { key: 'asrVad', flag: '--asr-vad', env: 'ASR_VAD', default: 'on', description: 'on | off: WebRTC VAD gate in front of each recogniser (300 ms pre-roll, 600 ms hangover)' },
  { key: 'asrCapacityCores', flag: '--asr-capacity', env: 'ASR_CAPACITY', default: '0', description: 'Cores recognition may use before StartCall is refused with RESOURCE_EXHAUSTED (0: workers x 0.85)' },
  { key: 'asrLegCost', flag: '--asr-leg-cost', env: 'ASR_LEG_COST', default: '0.2', description: 'Cores one leg is assumed to need until measured (its real-time factor)' },
  { key: 'grammarsDir', flag: '--grammars', env: 'GRAMMARS_DIR', default: path.join(PACKAGE_ROOT, 'grammars'), description: 'Directory with <language>/*.yaml intent grammars' },
  { key: 'redact', flag: '--redact', env: 'REDACT', default: PII_TYPES.join(','), description: 'PII redacted from transcripts, events and logs: a list of card, iban, bsn, phone, email, or none' },
  { key: 'callRecordsFile', flag: '--call-records', env: 'CALL_RECORDS_FILE', default: 'var/call-records.jsonl', description: 'JSON-lines file of post-call records (contact reason, intents, escalation, talk ratio), one per call' },
  { key: 'logLevel', flag: '--log-level', env: 'LOG_LEVEL', default: 'info', description: 'pino level: trace, debug, info, warn, error' },
];

/**
 * Resolves configuration from flags (highest), environment, then defaults.
 * Unknown flags and malformed values are errors that name the flag.
 */
export function loadConfig(argv: readonly string[], env: NodeJS.ProcessEnv = process.env, overrides: Partial<GatewayConfig> = {}): GatewayConfig {
  const raw = new Map<string, string>();
  for (const option of OPTIONS) {
    const fromEnv = env[option.env];
    raw.set(option.key, fromEnv !== undefined && fromEnv !== '' ? fromEnv : option.default);
  }
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    const [flag, inline] = arg.includes('=') ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg, undefined];
    const option = OPTIONS.find((o) => o.flag === flag);
    if (option === undefined) throw new GatewayError('SGW_CONFIG', `unknown option ${flag} (see --help)`);
    const value = inline ?? argv[++i];
    if (value === undefined) throw new GatewayError('SGW_CONFIG', `${flag} needs a value`);
    raw.set(option.key, value);
  }
  const str = (key: string): string => raw.get(key) ?? '';
  const invalid = (key: string, expected: string): GatewayError => {
    const option = OPTIONS.find((o) => o.key === key);
    return new GatewayError('SGW_CONFIG', `${option?.flag ?? key} / ${option?.env ?? key} must be ${expected}, got '${str(key)}'`);
  };
  const num = (key: string, min: number, max: number, integer = false): number => {
    const value = Number(str(key));
    if (!(integer ? Number.isInteger(value) : Number.isFinite(value)) || value < min || value > max) {
      throw invalid(key, `${integer ? 'an integer' : 'a number'} in [${min}, ${max}]`);
    }
    return value;
  };
  const int = (key: string, min: number, max: number): number => num(key, min, max, true);
  const onOff = (key: string): boolean => {
    if (str(key) !== 'on' && str(key) !== 'off') throw invalid(key, 'on or off');
    return str(key) === 'on';
  };
  const asr = str('asr');
  if (asr !== 'auto' && asr !== 'vosk' && asr !== 'pocketsphinx') {
    throw invalid('asr', 'auto, vosk or pocketsphinx');
  }
  const voskModels: Partial<Record<Language, string>> = {};
  const modelsDir = defaultModelsDir(env);
  if (str('voskModel') !== '') voskModels['en-US'] = resolveModelPath(str('voskModel'), modelsDir);
  if (str('voskModelNl') !== '') voskModels['nl-NL'] = resolveModelPath(str('voskModelNl'), modelsDir);

  const config: GatewayConfig = {
    httpHost: str('httpHost'),
    httpPort: int('httpPort', 0, 65535),
    grpcHost: str('grpcHost'),
    grpcPort: int('grpcPort', 0, 65535),
    rtpBindHost: str('rtpBindHost'),
    rtpAdvertisedHost: str('rtpAdvertisedHost'),
    rtpPortMin: int('rtpPortMin', 1024, 65534),
    rtpPortMax: int('rtpPortMax', 1025, 65535),
    rtpTimeoutMs: int('rtpTimeoutMs', 100, 3_600_000),
    reorderDepth: int('reorderDepth', 0, 64),
    rtpReceiveBufferBytes: int('rtpReceiveBufferBytes', 0, 256 * 1024 * 1024),
    asr,
    voskModels,
    asrWorkers: int('asrWorkers', 1, 256),
    asrVad: onOff('asrVad'),
    asrCapacityCores: num('asrCapacityCores', 0, 1024),
    asrLegCost: num('asrLegCost', 0.001, 16),
    grammarsDir: path.resolve(str('grammarsDir')),
    redact: parseRedact(str('redact')),
    callRecordsFile: path.resolve(str('callRecordsFile')),
    logLevel: str('logLevel'),
    ...overrides,
  };
  if (config.rtpPortMax - config.rtpPortMin < 1) {
    throw new GatewayError('SGW_CONFIG', `RTP port range ${config.rtpPortMin}-${config.rtpPortMax} holds no RTP/RTCP pair`);
  }
  return config;
}

function parseRedact(value: string): ReadonlySet<PiiType> {
  if (value === 'none' || value === '') return new Set();
  const types = value.split(',').map((t) => t.trim());
  for (const t of types) {
    if (!(PII_TYPES as readonly string[]).includes(t)) throw new GatewayError('SGW_CONFIG', `--redact / REDACT: unknown type '${t}'; use ${PII_TYPES.join(', ')} or none`);
  }
  return new Set(types as PiiType[]);
}

export function helpText(): string {
  const rows = OPTIONS.map((o) => `  ${`${o.flag} <v>`.padEnd(22)} ${o.env.padEnd(18)} ${o.description} (default: ${o.default || 'unset'})`);
  return ['Usage: speech-gateway [serve|demo|models] [options]   (models: list | download <name...> | verify <name...> [--cache DIR])', '', '  flag                   environment        meaning', ...rows].join('\n');
}
