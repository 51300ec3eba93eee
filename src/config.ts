import { parseSecurePauseSequences, type SecurePauseSequences } from './calls/SecurePausePolicy.js';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { GatewayError } from './errors.js';
import { LANGUAGES, isLanguage, type Language } from './language.js';
import { PII_TYPES, type PiiType } from './analytics/redaction/redact.js';
import { defaultModelsDir, resolveModelPath } from './asr/models/catalog.js';
import type { AsrChoice } from './asr/engines/select.js';
import { POCKETSPHINX_AGENT_DEFAULT_ARGS, POCKETSPHINX_AGENT_DEFAULT_VOCABULARY, POCKETSPHINX_DEFAULT_ARGS, POCKETSPHINX_DEFAULT_VOCABULARY, POCKETSPHINX_NARROWBAND_DEFAULT_ARGS, POCKETSPHINX_SPOTTER_DEFAULT_ARGS, parsePocketsphinxArgs } from './asr/engines/pocketsphinx/args.js';
import type { RecognitionMode } from './asr/types.js';
import { WORKER_ISOLATIONS, type WorkerIsolation } from './asr/pool/WorkerHost.js';
import { RTP_SOURCE_POLICIES, type RtpSourcePolicy } from './ingest/rtp/SourceLatch.js';
import { parseAllowList } from './ingest/siprec/allowList.js';
import { parseDigestCredentials, type DigestCredentials } from './ingest/siprec/digest.js';
import { parseLegRule, type LegRule } from './ingest/siprec/legRule.js';

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
  /** Calls one credential (token subject, API key, stream token, AudioSocket peer) may have active at once. */
  readonly maxCallsPerCredential: number;
  /** Drain (SIGTERM, POST /v1/admin/drain): how long active calls may go on, no new ones admitted, before they end with `shutdown`. */
  readonly drainTimeoutMs: number;
  /** After the drain: how long calls get to end and streamed clients to receive their last events before connections are cut. */
  readonly shutdownDrainMs: number;
  /** Packets the reorder buffer may hold while waiting for a missing one. */
  readonly reorderDepth: number;
  /** Whether a steady new RTP source may take a leg over from a silent latched one (`relatch`) or never (`strict`). */
  readonly rtpSourcePolicy: RtpSourcePolicy;
  /** DTMF sequences that start and stop a secure pause (PCI card entry); undefined: off. */
  readonly securePauseDtmf: SecurePauseSequences | undefined;
  /** SO_RCVBUF of each RTP socket: absorbs bursts (and floods) while the event loop is busy. */
  readonly rtpReceiveBufferBytes: number;
  /** `none`: no recogniser; audio is received and metered, transcripts are pushed (PushTranscript). */
  readonly asr: AsrChoice | 'vosk-server' | 'none';
  /** ASR=vosk-server: WebSocket URLs of the speech servers per language. */
  readonly voskServerUrls: Partial<Record<Language, readonly string[]>>;
  /** Streams one speech server is sized for (admission control's capacity per healthy server). */
  readonly voskServerStreams: number;
  readonly voskModels: Partial<Record<Language, string>>;
  readonly asrWorkers: number;
  /** Where recognition workers run: child processes (a native crash ends one worker) or threads. */
  readonly asrIsolation: WorkerIsolation;
  /** WebRTC VAD gate in front of each recogniser (speech plus padding is recognised, not silence). */
  readonly asrVad: boolean;
  /** What recognition runs per leg: free transcript, phrase spotting beside it, or spotting alone. */
  readonly asrMode: RecognitionMode;
  /** Telephone profile fill level (dBFS) for narrowband legs; `undefined`: off. */
  readonly asrNarrowbandFillDbfs: number | undefined;
  /** Wideband legs carrying telephone speech get the engine's telephone profile. */
  readonly asrDetectNarrowband: boolean;
  /** Cores recognition may use before StartCall is refused; 0 means workers × 0.85. */
  readonly asrCapacityCores: number;
  /** Cores per leg assumed until measured (real-time factor). */
  readonly asrLegCost: number;
  /** N-best hypotheses after the best searched for intents on each final; 0: the best only. */
  readonly asrAlternatives: number;
  /** Intent key phrases also matched by sound (phoneme distance) on final hypotheses. */
  readonly phoneticMatching: boolean;
  readonly intentClassifier: boolean;
  /** Extra pocketsphinx flags as flag/value pairs (search pruning, docs/asr.md#speed). */
  readonly pocketsphinxArgs: readonly string[];
  /** The same for the telephone profile's (8 kHz) transcript decoders. */
  readonly pocketsphinxNarrowbandArgs: readonly string[];
  /** The same for the transcript decoders of legs whose speaker raises no intent (the agent's); undefined: their band's flags. */
  readonly pocketsphinxAgentArgs: readonly string[] | undefined;
  /** Words those decoders search (`all`: the whole model); undefined: `pocketsphinxVocabulary`. */
  readonly pocketsphinxAgentVocabulary: number | 'all' | undefined;
  readonly pocketsphinxSpotterArgs: readonly string[];
  /** Words of the language model pocketsphinx recognisers search (the most probable); undefined: all. */
  readonly pocketsphinxVocabulary: number | undefined;
  readonly grammarsDir: string;
  /** PII types redacted from transcripts, events and logs; empty disables redaction. */
  readonly redact: ReadonlySet<PiiType>;
  /** JSON-lines file of post-call records. */
  readonly callRecordsFile: string;
  /** Whether post-call records are also appended to `callRecordsFile` (the export beside the database). */
  readonly callRecordsJsonl: boolean;
  /** PostgreSQL URL of the call-record store (shared by a cluster); undefined: SQLite at `databaseFile`. */
  readonly databaseUrl: string | undefined;
  /** SQLite file of the call-record store when no `databaseUrl`; undefined (`off`): no store. */
  readonly databaseFile: string | undefined;
  /** Records waiting for the database at most; past it the newest is dropped and counted. */
  readonly callStoreQueue: number;
  /** Records the database has not taken at shutdown are kept here and written at the next start. */
  readonly callStoreSpillFile: string;
  /** Whether the redacted transcript of both legs is stored with the record. */
  readonly transcriptRetention: boolean;
  /** Stored transcripts are deleted this many days after their call ended. */
  readonly transcriptRetentionDays: number;
  readonly logLevel: string;
  /** HS256 shared secret; with `jwtPublicKeyFile` unset too, authentication is off. */
  readonly jwtSecret: string | undefined;
  /** RS256 public key (or certificate) PEM file tokens are verified with. */
  readonly jwtPublicKeyFile: string | undefined;
  /** RS256 private key (PKCS#8 PEM) the `token` command and the demo sign with; the gateway never needs it. */
  readonly jwtPrivateKeyFile: string | undefined;
  /** Required `iss` claim (and set by the token command) when set. */
  readonly jwtIssuer: string | undefined;
  /** Required `aud` claim (and set by the token command) when set. */
  readonly jwtAudience: string | undefined;
  /** Certificate chain (PEM): with `tlsKeyFile`, HTTP becomes HTTPS/WSS and gRPC uses TLS. */
  readonly tlsCertFile: string | undefined;
  readonly tlsKeyFile: string | undefined;
  /** CA (PEM) gRPC clients' certificates must be signed by (mutual TLS on the control plane). */
  readonly tlsClientCaFile: string | undefined;
  /** Recent alerts kept for GET /v1/alerts; the oldest is dropped first. */
  readonly alertsKept: number;
  /** Asterisk AudioSocket TCP port on `grpcHost`; `undefined`: off. 0 picks a free one. */
  readonly audioSocketPort: number | undefined;
  /** Agent, queue and language of AudioSocket calls (the protocol carries only a UUID). */
  readonly audioSocketAgentId: string;
  readonly audioSocketQueue: string;
  readonly audioSocketLanguage: Language;
  /** `customer`: one connection per call; `paired`: UUIDs ending in 0/1 are the customer/agent legs of one call. */
  readonly audioSocketLegs: 'customer' | 'paired';
  /** Accepted X-API-KEY values of Genesys AudioHook; empty: refused, unless authentication is off altogether. */
  readonly audiohookApiKeys: readonly string[];
  /** AudioHook client secrets (base64-decoded) by API key: a key with one must come with a valid HTTP message signature. */
  readonly audiohookClientSecrets: ReadonlyMap<string, Buffer>;
  /** Shared secrets of Twilio Media Streams (`/v1/twilio/<token>`); empty with no auth token: refused, unless authentication is off altogether. */
  readonly twilioStreamTokens: readonly string[];
  /** Twilio account auth token: X-Twilio-Signature on the stream's upgrade is verified with it. */
  readonly twilioAuthToken: string | undefined;
  /** Public base URL Twilio connects to (wss://host), for the signature; default wss://<Host header>. */
  readonly twilioPublicUrl: string | undefined;
  /** Redis of the cluster (events, call registry, alerts); undefined: this gateway runs alone on its in-memory bus. */
  readonly redisUrl: string | undefined;
  /** Prefix of every Redis key of the cluster (one Redis can hold several clusters). */
  readonly redisKeyPrefix: string;
  /** Entries the event stream keeps (XADD MAXLEN ~). */
  readonly redisStreamMaxLen: number;
  /** Outgoing events held while Redis is unreachable; past it the oldest is dropped. */
  readonly redisBufferEvents: number;
  /** This gateway's name in the cluster; default: host name and a random suffix, new at every start. */
  readonly instanceId: string;
  /** How often an instance refreshes its heartbeat and its calls' snapshots in Redis. */
  readonly clusterHeartbeatMs: number;
  /** An instance whose heartbeat is this old is lost: its calls are ended with reason instance-lost. */
  readonly clusterInstanceTtlMs: number;
  /** Shared secrets of audio forks (`/v1/fork/...`): path segment, ?token=, Basic password, Bearer or X-API-KEY; empty: refused, unless authentication is off altogether. */
  readonly forkTokens: readonly string[];
  /** Webhook subscriptions (YAML), docs/integrations/webhooks.md; undefined: none from a file. */
  readonly webhooksFile: string | undefined;
  /** The durable webhook queue (append-only journal) and the admin API's subscriptions. */
  readonly webhooksJournal: string;
  readonly webhookMaxAttempts: number;
  readonly webhookQueueLimit: number;
  readonly webhookDeadLettersKept: number;
  readonly webhookRetryBaseMs: number;
  readonly webhookRetryMaxMs: number;
  readonly webhookTimeoutMs: number;
  readonly webhookConcurrency: number;
  /** SIPREC recording server: UDP and TCP port on `sipHost`; `undefined`: off. 0 picks a free one. */
  readonly sipPort: number | undefined;
  readonly sipHost: string;
  /** Source addresses and CIDR prefixes of the SRCs that may record; empty: none, unless authentication is off altogether or digest is set. */
  readonly siprecAllow: readonly string[];
  /** Digest credentials SRCs must answer a challenge with; undefined: no digest. */
  readonly siprecDigest: DigestCredentials | undefined;
  /** Which recorded stream is the customer's and which the agent's. */
  readonly siprecLegs: LegRule;
  /** Agent id of SIPREC calls; undefined: the user part of the agent participant's AoR. */
  readonly siprecAgentId: string | undefined;
  readonly siprecQueue: string;
  readonly siprecLanguage: Language;
}

interface OptionSpec {
  readonly key: keyof GatewayConfig | 'voskModel' | 'voskModelNl' | 'voskServerUrlsNl';
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
  { key: 'maxCallsPerCredential', flag: '--max-calls-per-credential', env: 'MAX_CALLS_PER_CREDENTIAL', default: '1000', description: 'Calls one credential may have active at once (token subject, AudioHook API key, Twilio stream token, AudioSocket peer address); beyond it StartCall, StreamAudio and the streaming protocols are refused with RESOURCE_EXHAUSTED' },
  { key: 'drainTimeoutMs', flag: '--drain-timeout-ms', env: 'DRAIN_TIMEOUT_MS', default: '600000', description: 'Drain (SIGTERM, SIGINT, POST /v1/admin/drain): new calls are refused on every ingest protocol and /readyz answers 503, while active calls go on until they end or this long has passed; then the calls left end with reason shutdown and the gateway exits. 0: end calls at once' },
  { key: 'shutdownDrainMs', flag: '--shutdown-drain-ms', env: 'SHUTDOWN_DRAIN_MS', default: '5000', description: 'After the drain: how long calls get to end (final transcripts, call.ended, call.summary, records) and gRPC StreamAudio clients to receive their last events and an OK status, before remaining connections are cut' },
  { key: 'reorderDepth', flag: '--reorder-depth', env: 'RTP_REORDER_DEPTH', default: '4', description: 'Packets held to reorder before a gap is declared lost' },
  { key: 'rtpSourcePolicy', flag: '--rtp-source-policy', env: 'RTP_SOURCE_POLICY', default: 'relatch', description: 'relatch | strict: a source gets a leg after 5 in-sequence packets; relatch: a new source whose steady real-time stream runs 250 ms while the latched one is silent takes over (NAT rebinding, SBC failover); strict: the first source keeps the leg (docs/integrations/rtp.md#source-latching)' },
  { key: 'securePauseDtmf', flag: '--secure-pause-dtmf', env: 'SECURE_PAUSE_DTMF', default: 'off', description: 'off, or <start>,<stop> DTMF sequences (e.g. *7,#): keying the start suspends recognition on every leg of the call (PCI card entry; digits masked), the stop resumes it and marks a transcript.gap' },
  { key: 'rtpReceiveBufferBytes', flag: '--rtp-recv-buffer', env: 'RTP_RECV_BUFFER', default: String(1024 * 1024), description: 'SO_RCVBUF per RTP socket in bytes (capped by net.core.rmem_max)' },
  { key: 'asr', flag: '--asr', env: 'ASR', default: 'auto', description: 'auto | vosk | pocketsphinx | vosk-server | none (auto: vosk when a model is set, else pocketsphinx; vosk-server: remote servers speaking its WebSocket protocol, VOSK_SERVER_URLS; none: RTP and streams are received and metered but not recognised, transcripts are pushed by the client)' },
  { key: 'voskServerUrls', flag: '--vosk-server-urls', env: 'VOSK_SERVER_URLS', default: '', description: 'ASR=vosk-server: comma-separated ws:// or wss:// URLs of the en-US speech servers (round robin, health-checked, failover)' },
  { key: 'voskServerUrlsNl', flag: '--vosk-server-urls-nl', env: 'VOSK_SERVER_URLS_NL', default: '', description: 'ASR=vosk-server: the nl-NL speech servers, as VOSK_SERVER_URLS' },
  { key: 'voskServerStreams', flag: '--vosk-server-streams', env: 'VOSK_SERVER_STREAMS', default: '32', description: 'ASR=vosk-server: streams one server is sized for; admission control refuses calls beyond this times the healthy servers' },
  { key: 'voskModel', flag: '--vosk-model', env: 'VOSK_MODEL', default: '', description: 'Vosk model for en-US: a directory, or a model name from `models list` in the models cache' },
  { key: 'voskModelNl', flag: '--vosk-model-nl', env: 'VOSK_MODEL_NL', default: '', description: 'Vosk model for nl-NL: a directory, or a model name from `models list` in the models cache' },
  { key: 'asrWorkers', flag: '--asr-workers', env: 'ASR_WORKERS', default: String(os.availableParallelism()), description: 'Recognition workers (default: one per core)' },
  { key: 'asrIsolation', flag: '--asr-isolation', env: 'ASR_ISOLATION', default: 'process', description: 'process | thread: recognition workers as child processes (a segfault or abort in a native engine ends that worker only; it is replaced and its calls continue) or as threads of the gateway (cheaper; a native crash takes the gateway down)' },
  { key: 'asrVad', flag: '--asr-vad', env: 'ASR_VAD', default: 'on', description: 'on | off: WebRTC VAD gate in front of each recogniser (300 ms pre-roll, 600 ms hangover)' },
  { key: 'asrMode', flag: '--asr-mode', env: 'ASR_MODE', default: 'transcribe+spot', description: 'transcribe | transcribe+spot | spot: free transcript, grammar phrase spotting beside it, or spotting alone (cheapest; no transcript)' },
  { key: 'asrNarrowbandFillDbfs', flag: '--asr-narrowband-fill', env: 'ASR_NARROWBAND_FILL', default: 'off', description: 'Experimental: noise level (dBFS, e.g. -48) filling the empty upper band of 8 kHz legs before a 16 kHz keyword spotter (docs/asr.md: it lowered recall at telephone level); off' },
  { key: 'asrDetectNarrowband', flag: '--asr-detect-narrowband', env: 'ASR_DETECT_NARROWBAND', default: 'on', description: "on | off: a 16 kHz leg whose first 1.5 s of speech has nothing above 4 kHz (a call that crossed a telephone line) is recognised with the engine's telephone profile (pocketsphinx; docs/asr.md#telephone-speech-in-a-wideband-leg)" },
  { key: 'asrCapacityCores', flag: '--asr-capacity', env: 'ASR_CAPACITY', default: '0', description: 'Cores recognition may use before StartCall is refused with RESOURCE_EXHAUSTED (0: workers x 0.85)' },
  { key: 'pocketsphinxArgs', flag: '--pocketsphinx-args', env: 'POCKETSPHINX_ARGS', default: POCKETSPHINX_DEFAULT_ARGS.join(' '), description: 'pocketsphinx flag/value pairs for wideband transcript decoders, e.g. "-maxhmmpf 3000" (docs/asr.md#speed); none: the library defaults' },
  { key: 'pocketsphinxNarrowbandArgs', flag: '--pocketsphinx-narrowband-args', env: 'POCKETSPHINX_NARROWBAND_ARGS', default: POCKETSPHINX_NARROWBAND_DEFAULT_ARGS.join(' ') || 'none', description: 'pocketsphinx flag/value pairs for 8 kHz (telephone profile) transcript decoders (docs/asr.md#speed); none: the library defaults' },
  { key: 'pocketsphinxAgentArgs', flag: '--pocketsphinx-agent-args', env: 'POCKETSPHINX_AGENT_ARGS', default: POCKETSPHINX_AGENT_DEFAULT_ARGS.join(' ') || 'none', description: "pocketsphinx flag/value pairs for the transcript decoders of agent legs when the grammars give the agent no intent (the shipped ones), both bands: a cheaper search for a transcript kept for the record (docs/asr.md#speed); same: the customer leg's flags; none: the library defaults" },
  { key: 'pocketsphinxAgentVocabulary', flag: '--pocketsphinx-agent-vocabulary', env: 'POCKETSPHINX_AGENT_VOCABULARY', default: String(POCKETSPHINX_AGENT_DEFAULT_VOCABULARY), description: "Words the transcript decoders of those agent legs search (as POCKETSPHINX_VOCABULARY; docs/asr.md#speed); same: POCKETSPHINX_VOCABULARY; all: the whole model. With POCKETSPHINX_AGENT_ARGS=same agent legs share the customer's decoders, vocabulary included" },
  { key: 'pocketsphinxSpotterArgs', flag: '--pocketsphinx-spotter-args', env: 'POCKETSPHINX_SPOTTER_ARGS', default: POCKETSPHINX_SPOTTER_DEFAULT_ARGS.join(' ') || 'none', description: 'pocketsphinx flag/value pairs for keyword spotters, both profiles (docs/asr.md#speed); none: the library defaults' },
  { key: 'pocketsphinxVocabulary', flag: '--pocketsphinx-vocabulary', env: 'POCKETSPHINX_VOCABULARY', default: String(POCKETSPHINX_DEFAULT_VOCABULARY), description: "Words pocketsphinx transcript decoders search: the language model's N most probable (fewer: less memory and CPU per leg, rare words unheard; docs/asr.md#vocabulary); all: the whole model (72.5k words)" },
  { key: 'asrAlternatives', flag: '--asr-alternatives', env: 'ASR_ALTERNATIVES', default: '4', description: "Hypotheses after the best of each final (the recogniser's N-best list) also searched for intents, at a lower confidence; 0: the best only (docs/analytics.md#matching-that-survives-asr-errors)" },
  { key: 'phoneticMatching', flag: '--phonetic', env: 'PHONETIC_MATCHING', default: 'on', description: "on | off: intent key phrases also matched by sound (phonemes from the recogniser's dictionary, espeak-ng for nl-NL and other words) on final hypotheses" },
  { key: 'intentClassifier', flag: '--intent-classifier', env: 'INTENT_CLASSIFIER', default: 'on', description: "on | off: a statistical classifier (grammars/<language>/classifier.json) also raises intents on the customer's final utterances that no grammar phrase matched" },
  { key: 'asrLegCost', flag: '--asr-leg-cost', env: 'ASR_LEG_COST', default: '0.2', description: 'Cores one leg is assumed to need until measured (its real-time factor)' },
  { key: 'grammarsDir', flag: '--grammars', env: 'GRAMMARS_DIR', default: path.join(PACKAGE_ROOT, 'grammars'), description: 'Directory with <language>/*.yaml intent grammars' },
  { key: 'redact', flag: '--redact', env: 'REDACT', default: PII_TYPES.join(','), description: 'PII redacted from transcripts, events and logs: a list of card, iban, bsn, phone, email, or none' },
  { key: 'callRecordsFile', flag: '--call-records', env: 'CALL_RECORDS_FILE', default: 'var/call-records.jsonl', description: 'JSON-lines file of post-call records (contact reason, intents, escalation, talk ratio), one per call' },
  { key: 'callRecordsJsonl', flag: '--call-records-jsonl', env: 'CALL_RECORDS_JSONL', default: 'on', description: 'on | off: also append each post-call record to CALL_RECORDS_FILE (an export beside the call-record database)' },
  { key: 'databaseUrl', flag: '--database-url', env: 'DATABASE_URL', default: '', description: 'PostgreSQL URL of the call-record store, postgres://user:password@host:5432/db (every instance of a cluster writes to it; prefer the environment variable: flags show in ps); unset: SQLite at DATABASE_FILE (docs/insights.md)' },
  { key: 'databaseFile', flag: '--database-file', env: 'DATABASE_FILE', default: 'var/call-records.db', description: 'SQLite file of the call-record store when DATABASE_URL is unset; off: no store (no insights API, GET /v1/calls/{id} answers 404)' },
  { key: 'callStoreQueue', flag: '--call-store-queue', env: 'CALL_STORE_QUEUE', default: '10000', description: 'Call records waiting for the database at most (a database outage is ridden out in this queue); past it the newest is dropped and counted' },
  { key: 'callStoreSpillFile', flag: '--call-store-spill-file', env: 'CALL_STORE_SPILL_FILE', default: 'var/call-records-spill.jsonl', description: 'Call records the database has not taken by shutdown are kept in this file and written at the next start' },
  { key: 'transcriptRetention', flag: '--transcript-retention', env: 'TRANSCRIPT_RETENTION', default: 'off', description: 'on | off: store the redacted transcript of both legs with the call record (GET /v1/calls/{id}); deleted after TRANSCRIPT_RETENTION_DAYS' },
  { key: 'transcriptRetentionDays', flag: '--transcript-retention-days', env: 'TRANSCRIPT_RETENTION_DAYS', default: '30', description: 'Days after its call ended a stored transcript is deleted (checked hourly)' },
  { key: 'logLevel', flag: '--log-level', env: 'LOG_LEVEL', default: 'info', description: 'pino level: trace, debug, info, warn, error' },
  { key: 'jwtSecret', flag: '--jwt-secret', env: 'JWT_SECRET', default: '', description: 'HS256 secret (32+ bytes) tokens are verified with; no secret and no public key: authentication off (prefer the environment variable: flags show in ps)' },
  { key: 'jwtPublicKeyFile', flag: '--jwt-public-key', env: 'JWT_PUBLIC_KEY_FILE', default: '', description: 'RS256 public key or certificate (PEM file) tokens are verified with' },
  { key: 'jwtPrivateKeyFile', flag: '--jwt-private-key', env: 'JWT_PRIVATE_KEY_FILE', default: '', description: 'RS256 private key (PKCS#8 PEM file) the token command and the demo sign with' },
  { key: 'jwtIssuer', flag: '--jwt-issuer', env: 'JWT_ISSUER', default: '', description: 'Required iss claim of tokens (unset: not checked)' },
  { key: 'jwtAudience', flag: '--jwt-audience', env: 'JWT_AUDIENCE', default: '', description: 'Required aud claim of tokens (unset: not checked)' },
  { key: 'tlsCertFile', flag: '--tls-cert', env: 'TLS_CERT_FILE', default: '', description: 'TLS certificate chain (PEM file); with --tls-key: HTTPS/WSS and gRPC over TLS' },
  { key: 'tlsKeyFile', flag: '--tls-key', env: 'TLS_KEY_FILE', default: '', description: 'TLS private key (PEM file)' },
  { key: 'tlsClientCaFile', flag: '--tls-client-ca', env: 'TLS_CLIENT_CA_FILE', default: '', description: 'CA (PEM file) gRPC clients must present a certificate from (mutual TLS on the control plane)' },
  { key: 'alertsKept', flag: '--alerts-kept', env: 'ALERTS_KEPT', default: '1000', description: 'Recent supervisor alerts kept for GET /v1/alerts (oldest dropped first)' },
  { key: 'audioSocketPort', flag: '--audiosocket-port', env: 'AUDIOSOCKET_PORT', default: 'off', description: 'Asterisk AudioSocket TCP port (e.g. 9092), bound on the gRPC host; off: no listener (the protocol has no authentication: open it on a trusted network only, docs/integrations/asterisk.md); 0 picks a free one' },
  { key: 'audioSocketAgentId', flag: '--audiosocket-agent', env: 'AUDIOSOCKET_AGENT', default: 'unknown', description: 'Agent id given to AudioSocket calls' },
  { key: 'audioSocketQueue', flag: '--audiosocket-queue', env: 'AUDIOSOCKET_QUEUE', default: 'audiosocket', description: 'Queue given to AudioSocket calls (supervisors of it see them)' },
  { key: 'audioSocketLanguage', flag: '--audiosocket-language', env: 'AUDIOSOCKET_LANGUAGE', default: 'en-US', description: 'Language of AudioSocket calls: en-US or nl-NL' },
  { key: 'audioSocketLegs', flag: '--audiosocket-legs', env: 'AUDIOSOCKET_LEGS', default: 'customer', description: 'customer: each AudioSocket connection is the customer leg of its own call (id = UUID); paired: a UUID ending in 0 is the customer leg, 1 the agent leg, of the call named by the other 35 characters' },
  { key: 'audiohookApiKeys', flag: '--audiohook-api-keys', env: 'AUDIOHOOK_API_KEYS', default: '', description: 'Genesys AudioHook: comma list of accepted X-API-KEY values for /v1/audiohook; empty: every AudioHook connection is refused (401) unless authentication is off (no JWT key)' },
  { key: 'twilioStreamTokens', flag: '--twilio-stream-tokens', env: 'TWILIO_STREAM_TOKENS', default: '', description: 'Twilio Media Streams: comma list of shared secrets accepted as wss://host/v1/twilio/<token>; none and no TWILIO_AUTH_TOKEN: refused (401) unless authentication is off' },
  { key: 'twilioAuthToken', flag: '--twilio-auth-token', env: 'TWILIO_AUTH_TOKEN', default: '', description: 'Twilio account auth token: a stream whose X-Twilio-Signature verifies with it is accepted (prefer the environment variable)' },
  { key: 'forkTokens', flag: '--fork-tokens', env: 'FORK_TOKENS', default: '', description: 'Audio forks over WebSocket (/v1/fork: FreeSWITCH mod_audio_fork and mod_audio_stream, jambonz listen, Asterisk chan_websocket): comma list of secrets accepted in the path, as ?token=, as the HTTP Basic password, a Bearer token or X-API-KEY; none: refused (401) unless authentication is off' },
  { key: 'twilioPublicUrl', flag: '--twilio-public-url', env: 'TWILIO_PUBLIC_URL', default: '', description: 'Base URL Twilio connects to, e.g. wss://gw.example.com, for X-Twilio-Signature behind a proxy (default: wss://<Host header>)' },
  { key: 'redisUrl', flag: '--redis-url', env: 'REDIS_URL', default: '', description: 'Redis of the cluster, redis://[user:pass@]host:port[/db] (rediss:// for TLS): events on one Redis stream, the call registry and alerts shared by every gateway (README.md#cluster); unset: this gateway runs alone on its in-memory bus' },
  { key: 'redisKeyPrefix', flag: '--redis-key-prefix', env: 'REDIS_KEY_PREFIX', default: 'sgw:', description: 'Prefix of every Redis key of the cluster (the event stream is <prefix>events)' },
  { key: 'redisStreamMaxLen', flag: '--redis-stream-maxlen', env: 'REDIS_STREAM_MAXLEN', default: '200000', description: 'Entries the event stream keeps (XADD MAXLEN ~): the history every since= cursor resumes from; 200 000 is about 3 minutes of 20 transcribing gateways at 10 calls each (docs/performance.md), ~80 MB of Redis' },
  { key: 'redisBufferEvents', flag: '--redis-buffer-events', env: 'REDIS_BUFFER_EVENTS', default: '10000', description: 'Outgoing events held while Redis is unreachable (about 3 minutes of one gateway at 10 calls); full: the oldest is dropped (sgw_event_bus_dropped_events_total)' },
  { key: 'instanceId', flag: '--instance-id', env: 'INSTANCE_ID', default: '', description: 'This gateway in the cluster (call registry, heartbeat, Redis client names); default: the host name and a random suffix, new at every start' },
  { key: 'clusterHeartbeatMs', flag: '--cluster-heartbeat-ms', env: 'CLUSTER_HEARTBEAT_MS', default: '2000', description: 'With REDIS_URL: how often an instance refreshes its heartbeat key and its calls in the registry, and looks for lost instances' },
  { key: 'clusterInstanceTtlMs', flag: '--cluster-instance-ttl-ms', env: 'CLUSTER_INSTANCE_TTL_MS', default: '10000', description: 'With REDIS_URL: TTL of an instance heartbeat; an instance silent this long is lost and one survivor ends its calls with reason instance-lost and alerts supervisors' },
  { key: 'audiohookClientSecrets', flag: '--audiohook-client-secrets', env: 'AUDIOHOOK_CLIENT_SECRETS', default: '', description: "Genesys AudioHook: comma list of <api key>:<client secret (base64)>; a connection with such a key must carry a valid RFC 9421 signature made with the secret, or is refused (401) (prefer the environment variable)" },
  { key: 'webhooksFile', flag: '--webhooks-file', env: 'WEBHOOKS_FILE', default: '', description: 'YAML file of webhook subscriptions (id, url, whsec_ secret, event types, queues); more can be added with POST /v1/admin/webhooks' },
  { key: 'webhooksJournal', flag: '--webhooks-journal', env: 'WEBHOOKS_JOURNAL', default: 'var/webhooks.journal', description: 'File of the durable webhook queue, its dead letters and the admin API subscriptions (append-only, compacted); written once there is a subscription' },
  { key: 'webhookMaxAttempts', flag: '--webhook-max-attempts', env: 'WEBHOOK_MAX_ATTEMPTS', default: '10', description: 'Attempts of a webhook delivery before it becomes a dead letter' },
  { key: 'webhookQueueLimit', flag: '--webhook-queue-limit', env: 'WEBHOOK_QUEUE_LIMIT', default: '100000', description: 'Undelivered webhook deliveries held over all subscriptions; beyond it new events are dropped for webhooks (sgw_webhook_dropped_total)' },
  { key: 'webhookDeadLettersKept', flag: '--webhook-dead-letters', env: 'WEBHOOK_DEAD_LETTERS_KEPT', default: '10000', description: 'Dead letters kept per webhook subscription (oldest dropped first)' },
  { key: 'webhookRetryBaseMs', flag: '--webhook-retry-base-ms', env: 'WEBHOOK_RETRY_BASE_MS', default: '1000', description: 'First webhook retry delay, doubled at each failed attempt (with jitter) up to WEBHOOK_RETRY_MAX_MS' },
  { key: 'webhookRetryMaxMs', flag: '--webhook-retry-max-ms', env: 'WEBHOOK_RETRY_MAX_MS', default: '300000', description: 'Longest webhook retry delay' },
  { key: 'webhookTimeoutMs', flag: '--webhook-timeout-ms', env: 'WEBHOOK_TIMEOUT_MS', default: '10000', description: 'A webhook attempt without an answer within this long fails (and is retried)' },
  { key: 'webhookConcurrency', flag: '--webhook-concurrency', env: 'WEBHOOK_CONCURRENCY', default: '16', description: "Calls whose webhooks are sent at once per subscription (a call's events are always sent one after another)" },
  { key: 'sipPort', flag: '--sip-port', env: 'SIP_PORT', default: 'off', description: 'SIPREC recording server (RFC 7866): SIP over UDP and TCP on this port (e.g. 5060); off: no listener; 0 picks a free one (docs/integrations/siprec.md)' },
  { key: 'sipHost', flag: '--sip-host', env: 'SIP_HOST', default: '0.0.0.0', description: 'SIPREC: address the SIP listener binds to (the Contact and SDP answers carry RTP_HOST)' },
  { key: 'siprecAllow', flag: '--siprec-allow', env: 'SIPREC_ALLOW', default: '', description: 'SIPREC: comma list of source addresses or CIDR prefixes of the SBCs/PBXs that may record (e.g. 10.1.2.3,192.168.0.0/24); others get 403; empty: every INVITE is refused unless authentication is off (no JWT key) or SIPREC_DIGEST is set' },
  { key: 'siprecDigest', flag: '--siprec-digest', env: 'SIPREC_DIGEST', default: '', description: 'SIPREC: <username>:<password> an SRC must answer a digest challenge with (RFC 3261 §22, MD5, qop=auth) on each new INVITE; with it an empty SIPREC_ALLOW admits any source (prefer the environment variable)' },
  { key: 'siprecLegs', flag: '--siprec-legs', env: 'SIPREC_LEGS', default: 'direction:inbound', description: 'SIPREC: which stream is the customer leg: direction:inbound (the first m-line, the caller, is the customer), direction:outbound (the caller is the agent), aor:<regex> (the stream of a participant whose AoR matches is the agent\'s), label:<customer>,<agent> (by a=label)' },
  { key: 'siprecAgentId', flag: '--siprec-agent', env: 'SIPREC_AGENT', default: '', description: 'SIPREC: agent id of recorded calls; empty: the user part of the agent participant\'s AoR (sip:agent-007@pbx gives agent-007), or unknown' },
  { key: 'siprecQueue', flag: '--siprec-queue', env: 'SIPREC_QUEUE', default: 'siprec', description: 'SIPREC: queue of recorded calls (supervisors of it see them)' },
  { key: 'siprecLanguage', flag: '--siprec-language', env: 'SIPREC_LANGUAGE', default: 'en-US', description: 'SIPREC: language of recorded calls: en-US or nl-NL' },
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
  const optional = (key: string): string | undefined => (str(key) === '' ? undefined : str(key));
  const optionalPath = (key: string): string | undefined => (str(key) === '' ? undefined : path.resolve(str(key)));
  const onOff = (key: string): boolean => {
    if (str(key) !== 'on' && str(key) !== 'off') throw invalid(key, 'on or off');
    return str(key) === 'on';
  };
  const label = (key: string): string => {
    if (str(key).length > 128) throw invalid(key, 'at most 128 characters');
    return str(key);
  };
  const language = (key: string): Language => {
    const value = str(key);
    if (!isLanguage(value)) throw invalid(key, LANGUAGES.join(' or '));
    return value;
  };
  const audioSocketLegs = str('audioSocketLegs');
  if (audioSocketLegs !== 'customer' && audioSocketLegs !== 'paired') throw invalid('audioSocketLegs', 'customer or paired');
  const parsedPsArgs = parsePocketsphinxArgs(str('pocketsphinxArgs'));
  if (typeof parsedPsArgs === 'string') throw invalid('pocketsphinxArgs', parsedPsArgs);
  const psArgs = parsedPsArgs;
  const psNarrowbandArgs = parsePocketsphinxArgs(str('pocketsphinxNarrowbandArgs'));
  if (typeof psNarrowbandArgs === 'string') throw invalid('pocketsphinxNarrowbandArgs', psNarrowbandArgs);
  const psAgentArgs = str('pocketsphinxAgentArgs').trim() === 'same' ? undefined : parsePocketsphinxArgs(str('pocketsphinxAgentArgs'));
  if (typeof psAgentArgs === 'string') throw invalid('pocketsphinxAgentArgs', psAgentArgs);
  const psSpotterArgs = parsePocketsphinxArgs(str('pocketsphinxSpotterArgs'));
  if (typeof psSpotterArgs === 'string') throw invalid('pocketsphinxSpotterArgs', psSpotterArgs);
  const siprecLegs = parseLegRule(str('siprecLegs'));
  if (typeof siprecLegs === 'string') throw invalid('siprecLegs', siprecLegs);
  const siprecAllow = list(str('siprecAllow'));
  const badAllow = parseAllowList(siprecAllow);
  if (typeof badAllow === 'string') throw invalid('siprecAllow', `addresses or CIDR prefixes, and '${badAllow.slice(0, 60)}' is neither`);
  const siprecDigest = str('siprecDigest') === '' ? undefined : parseDigestCredentials(str('siprecDigest'));
  if (typeof siprecDigest === 'string') throw new GatewayError('SGW_CONFIG', `--siprec-digest / SIPREC_DIGEST must be ${siprecDigest}`);
  const asr = str('asr');
  if (asr !== 'auto' && asr !== 'vosk' && asr !== 'pocketsphinx' && asr !== 'vosk-server' && asr !== 'none') {
    throw invalid('asr', 'auto, vosk, pocketsphinx, vosk-server or none');
  }
  const voskServerUrls: Partial<Record<Language, readonly string[]>> = {};
  for (const [key, language] of [['voskServerUrls', 'en-US'], ['voskServerUrlsNl', 'nl-NL']] as const) {
    const urls = str(key).split(',').map((u) => u.trim()).filter((u) => u !== '');
    const bad = urls.find((u) => !/^wss?:\/\/./.test(u));
    if (bad !== undefined) throw invalid(key, `ws:// or wss:// URLs, got '${bad}'`);
    if (urls.length > 0) voskServerUrls[language] = urls;
  }
  if (asr === 'vosk-server' && Object.keys(voskServerUrls).length === 0) throw invalid('voskServerUrls', 'at least one URL with ASR=vosk-server');
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
    maxCallsPerCredential: int('maxCallsPerCredential', 1, 1_000_000),
    drainTimeoutMs: int('drainTimeoutMs', 0, 86_400_000),
    shutdownDrainMs: int('shutdownDrainMs', 0, 600_000),
    reorderDepth: int('reorderDepth', 0, 64),
    rtpSourcePolicy: oneOf(str('rtpSourcePolicy'), RTP_SOURCE_POLICIES, () => invalid('rtpSourcePolicy', RTP_SOURCE_POLICIES.join(' or '))),
    securePauseDtmf: securePauseDtmf(str('securePauseDtmf'), (problem) => invalid('securePauseDtmf', problem)),
    rtpReceiveBufferBytes: int('rtpReceiveBufferBytes', 0, 256 * 1024 * 1024),
    asr,
    voskModels,
    voskServerUrls,
    voskServerStreams: int('voskServerStreams', 1, 100_000),
    asrWorkers: int('asrWorkers', 1, 256),
    asrIsolation: oneOf(str('asrIsolation'), WORKER_ISOLATIONS, () => invalid('asrIsolation', WORKER_ISOLATIONS.join(' or '))),
    asrVad: onOff('asrVad'),
    asrMode: recognitionMode(str('asrMode'), () => invalid('asrMode', 'transcribe, transcribe+spot or spot')),
    asrNarrowbandFillDbfs: str('asrNarrowbandFillDbfs') === 'off' ? undefined : num('asrNarrowbandFillDbfs', -90, -10),
    asrDetectNarrowband: onOff('asrDetectNarrowband'),
    asrCapacityCores: num('asrCapacityCores', 0, 1024),
    asrLegCost: num('asrLegCost', 0.001, 16),
    pocketsphinxArgs: psArgs,
    pocketsphinxNarrowbandArgs: psNarrowbandArgs,
    pocketsphinxAgentArgs: psAgentArgs,
    pocketsphinxAgentVocabulary: str('pocketsphinxAgentVocabulary') === 'same' ? undefined : str('pocketsphinxAgentVocabulary') === 'all' ? 'all' : int('pocketsphinxAgentVocabulary', 1000, 1_000_000),
    pocketsphinxSpotterArgs: psSpotterArgs,
    pocketsphinxVocabulary: str('pocketsphinxVocabulary') === 'all' ? undefined : int('pocketsphinxVocabulary', 1000, 1_000_000),
    asrAlternatives: int('asrAlternatives', 0, 20),
    phoneticMatching: onOff('phoneticMatching'),
    intentClassifier: onOff('intentClassifier'),
    grammarsDir: path.resolve(str('grammarsDir')),
    redact: parseRedact(str('redact')),
    callRecordsFile: path.resolve(str('callRecordsFile')),
    callRecordsJsonl: onOff('callRecordsJsonl'),
    databaseUrl: databaseUrl(optional('databaseUrl')),
    databaseFile: str('databaseFile') === 'off' ? undefined : path.resolve(str('databaseFile')),
    callStoreQueue: int('callStoreQueue', 1, 10_000_000),
    callStoreSpillFile: path.resolve(str('callStoreSpillFile')),
    transcriptRetention: onOff('transcriptRetention'),
    transcriptRetentionDays: int('transcriptRetentionDays', 1, 36_500),
    logLevel: str('logLevel'),
    jwtSecret: optional('jwtSecret'),
    jwtPublicKeyFile: optionalPath('jwtPublicKeyFile'),
    jwtPrivateKeyFile: optionalPath('jwtPrivateKeyFile'),
    jwtIssuer: optional('jwtIssuer'),
    jwtAudience: optional('jwtAudience'),
    tlsCertFile: optionalPath('tlsCertFile'),
    tlsKeyFile: optionalPath('tlsKeyFile'),
    tlsClientCaFile: optionalPath('tlsClientCaFile'),
    alertsKept: int('alertsKept', 1, 1_000_000),
    audiohookApiKeys: list(str('audiohookApiKeys')),
    twilioStreamTokens: list(str('twilioStreamTokens')),
    twilioAuthToken: optional('twilioAuthToken'),
    twilioPublicUrl: optional('twilioPublicUrl'),
    forkTokens: list(str('forkTokens')),
    // Not echoed in the error: the value holds secrets.
    audiohookClientSecrets: clientSecrets(str('audiohookClientSecrets'), (problem) => new GatewayError('SGW_CONFIG', `--audiohook-client-secrets / AUDIOHOOK_CLIENT_SECRETS must be ${problem}`)),
    webhooksFile: optionalPath('webhooksFile'),
    webhooksJournal: path.resolve(str('webhooksJournal')),
    webhookMaxAttempts: int('webhookMaxAttempts', 1, 1000),
    webhookQueueLimit: int('webhookQueueLimit', 1, 10_000_000),
    webhookDeadLettersKept: int('webhookDeadLettersKept', 1, 1_000_000),
    webhookRetryBaseMs: int('webhookRetryBaseMs', 1, 3_600_000),
    webhookRetryMaxMs: int('webhookRetryMaxMs', 1, 86_400_000),
    webhookTimeoutMs: int('webhookTimeoutMs', 100, 600_000),
    webhookConcurrency: int('webhookConcurrency', 1, 1024),
    audioSocketPort: str('audioSocketPort') === 'off' ? undefined : int('audioSocketPort', 0, 65535),
    audioSocketAgentId: label('audioSocketAgentId'),
    audioSocketQueue: label('audioSocketQueue'),
    audioSocketLanguage: language('audioSocketLanguage'),
    audioSocketLegs,
    // Not echoed in the error: the URL may hold a password.
    redisUrl: redisUrl(optional('redisUrl'), () => new GatewayError('SGW_CONFIG', '--redis-url / REDIS_URL must be a redis:// or rediss:// URL')),
    redisKeyPrefix: label('redisKeyPrefix'),
    redisStreamMaxLen: int('redisStreamMaxLen', 1000, 100_000_000),
    redisBufferEvents: int('redisBufferEvents', 100, 10_000_000),
    instanceId: instanceId(str('instanceId'), () => invalid('instanceId', '1-64 characters of A-Z a-z 0-9 . _ -')),
    clusterHeartbeatMs: int('clusterHeartbeatMs', 100, 60_000),
    clusterInstanceTtlMs: int('clusterInstanceTtlMs', 300, 600_000),
    sipPort: str('sipPort') === 'off' ? undefined : int('sipPort', 0, 65535),
    sipHost: str('sipHost'),
    siprecAllow,
    siprecDigest,
    siprecLegs,
    siprecAgentId: optional('siprecAgentId') === undefined ? undefined : label('siprecAgentId'),
    siprecQueue: label('siprecQueue'),
    siprecLanguage: language('siprecLanguage'),
    ...overrides,
  };
  if (config.clusterInstanceTtlMs < 2 * config.clusterHeartbeatMs) {
    throw new GatewayError('SGW_CONFIG', '--cluster-instance-ttl-ms / CLUSTER_INSTANCE_TTL_MS must be at least twice --cluster-heartbeat-ms / CLUSTER_HEARTBEAT_MS, or a live instance is taken for lost between two heartbeats');
  }
  if ((config.tlsCertFile === undefined) !== (config.tlsKeyFile === undefined)) {
    throw new GatewayError('SGW_CONFIG', '--tls-cert / TLS_CERT_FILE and --tls-key / TLS_KEY_FILE go together: set both or neither');
  }
  if (config.tlsClientCaFile !== undefined && config.tlsCertFile === undefined) {
    throw new GatewayError('SGW_CONFIG', '--tls-client-ca / TLS_CLIENT_CA_FILE needs --tls-cert and --tls-key');
  }
  if (config.rtpPortMax - config.rtpPortMin < 1) {
    throw new GatewayError('SGW_CONFIG', `RTP port range ${config.rtpPortMin}-${config.rtpPortMax} holds no RTP/RTCP pair`);
  }
  return config;
}

/** `key:secret,...` (the secret base64, as Genesys shows it, so the last `:` ends the key); a key may not hold `,`. */
function clientSecrets(value: string, invalid: (problem: string) => GatewayError): ReadonlyMap<string, Buffer> {
  const secrets = new Map<string, Buffer>();
  for (const entry of list(value)) {
    const at = entry.lastIndexOf(':');
    const key = entry.slice(0, at);
    const secret = entry.slice(at + 1);
    if (at <= 0 || !/^[A-Za-z0-9+/]+={0,2}$/.test(secret)) throw invalid('a comma list of <api key>:<base64 client secret>');
    secrets.set(key, Buffer.from(secret, 'base64'));
  }
  return secrets;
}

/** A comma list, blanks dropped. */
function list(value: string): string[] {
  return value.split(',').map((v) => v.trim()).filter((v) => v !== '');
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
  return [
    'Usage: speech-gateway [serve|demo|models|token|train-intents|report] [options]   (models: list | download <name...> | verify <name...> [--cache DIR])',
    '       speech-gateway token --role agent|supervisor|admin|pbx [--agent ID] [--queues a,b] [--sub NAME] [--ttl 8h] [options]',
    '       speech-gateway train-intents --corpus DIR [--language en-US|nl-NL] [--grammars DIR]   (writes <grammars>/<language>/classifier.json)',
    '       speech-gateway report [--from 2026-11-01] [--to 2026-12-01] [--queue Q] [--language L] [--agent A] [--bucket day|hour] [--format text|csv|json] [--table reasons|trend]', '', '  flag                   environment        meaning', ...rows].join('\n');
}

/** A PostgreSQL URL; the error never repeats the value (it may hold a password). */
function databaseUrl(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (!/^postgres(ql)?:\/\/./.test(value)) throw new GatewayError('SGW_CONFIG', '--database-url / DATABASE_URL must be a postgres:// or postgresql:// URL');
  return value;
}

function oneOf<T extends string>(value: string, allowed: readonly T[], invalid: () => GatewayError): T {
  const found = allowed.find((a) => a === value);
  if (found === undefined) throw invalid();
  return found;
}

function redisUrl(value: string | undefined, invalid: () => GatewayError): string | undefined {
  if (value === undefined) return undefined;
  if (!/^rediss?:\/\/./.test(value)) throw invalid();
  return value;
}

/** INSTANCE_ID, or the host name and a random suffix: a restarted gateway is a new instance (its old calls are ended as lost). */
function instanceId(value: string, invalid: () => GatewayError): string {
  const id = value === '' ? `${os.hostname().replace(/[^A-Za-z0-9._-]/g, '-').slice(0, 48)}-${randomBytes(4).toString('hex')}` : value;
  if (!/^[A-Za-z0-9._-]{1,64}$/.test(id)) throw invalid();
  return id;
}

function recognitionMode(value: string, invalid: () => GatewayError): RecognitionMode {
  if (value === 'transcribe' || value === 'transcribe+spot' || value === 'spot') return value;
  throw invalid();
}

function securePauseDtmf(value: string, invalid: (expected: string) => GatewayError): SecurePauseSequences | undefined {
  const parsed = parseSecurePauseSequences(value);
  if (typeof parsed === 'string') throw invalid(parsed);
  return parsed;
}
