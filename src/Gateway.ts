import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import * as grpc from '@grpc/grpc-js';
import { AccessControl } from './auth/AccessControl.js';
import { principalCredential } from './auth/credential.js';
import { canControlCalls, canSeeCallMetadata } from './auth/scope.js';
import { TokenVerifier } from './auth/TokenVerifier.js';
import { GatewayError } from './errors.js';
import { StaticFiles } from './http/StaticFiles.js';
import { AlertStore } from './push/AlertStore.js';
import { CallBoard } from './push/CallBoard.js';
import { GrammarStore } from './analytics/grammar/GrammarStore.js';
import { CallRecordWriter } from './analytics/summary/CallRecordWriter.js';
import { CallRecordService } from './insights/CallRecordService.js';
import { openCallRecordStore } from './insights/openCallRecordStore.js';
import { TRANSCRIPTS_PATH, TranscriptIngestServer } from './ingest/websocket/TranscriptIngestServer.js';
import { AdmissionControl } from './asr/AdmissionControl.js';
import { createSpeechService } from './asr/createSpeechService.js';
import type { SpeechService } from './asr/SpeechService.js';
import { CallManager } from './calls/CallManager.js';
import type { GatewayConfig } from './config.js';
import { LANGUAGES, type Language } from './language.js';
import { createCallControlHandlers } from './ingest/grpc/CallControlService.js';
import { loadGatewayProto } from './ingest/grpc/protoPackage.js';
import { PortAllocator } from './ingest/rtp/PortAllocator.js';
import { AudioSocketServer } from './ingest/audiosocket/AudioSocketServer.js';
import { HttpServer } from './http/HttpServer.js';
import { CallRecordRoutes } from './http/CallRecordRoutes.js';
import { AUDIOHOOK_PATH, AudioHookServer } from './ingest/websocket/audiohook/AudioHookServer.js';
import { TWILIO_PATH, TwilioStreamServer } from './ingest/websocket/twilio/TwilioStreamServer.js';
import type { Logger } from './logger.js';
import { LogLimiter } from './LogLimiter.js';
import { Drain, type DrainOrigin, type DrainOutcome, type DrainStatus } from './Drain.js';
import { Readiness } from './Readiness.js';
import { GatewayMetrics } from './metrics.js';
import { phoneticLexicons } from './analytics/phonetic/lexicons.js';
import { DEBIAN_MODEL } from './asr/engines/pocketsphinx/paths.js';
import { EventHub } from './push/EventHub.js';
import { EVENTS_PATH, WebSocketEventServer } from './push/WebSocketEventServer.js';

export interface GatewayAddresses {
  readonly http: AddressInfo;
  readonly grpcPort: number;
  /** HTTPS/WSS and gRPC over TLS. */
  readonly tls: boolean;
  /** Asterisk AudioSocket TCP port; undefined when AUDIOSOCKET_PORT is off. */
  readonly audioSocketPort?: number | undefined;
}

/**
 * The whole gateway: control plane, RTP ingest, ASR pool, analytics and push.
 * `start()` fails fast with a clear message on a bad configuration (no engine,
 * bad model, bad grammar); `close()` is idempotent and tears down in order:
 * stop taking calls, end calls (flushing final transcripts) while their
 * clients are still connected, close ingest and push, free the recognisers.
 * `drain()` comes before it on SIGTERM: no new calls, the running ones go on
 * until they end or DRAIN_TIMEOUT_MS.
 */
export class Gateway {
  readonly metrics: GatewayMetrics;
  readonly hub: EventHub;
  /** The checks of GET /readyz; a part of the gateway adds its own (`readiness.add(name, check)`). */
  readonly readiness = new Readiness();
  private readonly drainer: Drain;
  /** One per gateway: lines a client can repeat at will are written once per source and reason a minute. */
  private readonly logLimiter: LogLimiter;
  private calls: CallManager | undefined;
  private asr: SpeechService | undefined;
  private grpcServer: grpc.Server | undefined;
  private http: HttpServer | undefined;
  private events: WebSocketEventServer | undefined;
  private transcripts: TranscriptIngestServer | undefined;
  private audioSocket: AudioSocketServer | undefined;
  private audioHook: AudioHookServer | undefined;
  private twilio: TwilioStreamServer | undefined;
  private grammars: GrammarStore | undefined;
  private records: CallRecordWriter | undefined;
  /** The call-record database (SQLite or PostgreSQL), its queue and purge; undefined with DATABASE_FILE=off. */
  private callStore: CallRecordService | undefined;
  private closing: Promise<void> | undefined;
  private admissionTimer: NodeJS.Timeout | undefined;
  private alertStore: AlertStore | undefined;
  private board: CallBoard | undefined;
  private accessControl: AccessControl | undefined;

  private constructor(
    readonly config: GatewayConfig,
    readonly logger: Logger,
    metrics: GatewayMetrics,
  ) {
    this.metrics = metrics;
    this.hub = new EventHub(metrics);
    this.logLimiter = new LogLimiter({ metrics });
    // The call manager comes at start: the drain asks for it each time it counts.
    const calls = (): CallManager | undefined => this.calls;
    this.drainer = new Drain({
      limitMs: config.drainTimeoutMs,
      calls: {
        get count() {
          return calls()?.count ?? 0;
        },
        whenIdle: () => calls()?.whenIdle() ?? Promise.resolve(),
      },
      metrics,
      logger,
    });
    this.readiness.add('draining', () => this.drainer.readiness());
  }

  static async start(config: GatewayConfig, logger: Logger, metrics = new GatewayMetrics()): Promise<{ gateway: Gateway; addresses: GatewayAddresses }> {
    const gateway = new Gateway(config, logger, metrics);
    try {
      const addresses = await gateway.startParts();
      return { gateway, addresses };
    } catch (err) {
      await gateway.close();
      throw err;
    }
  }

  /** The speech service calls recognise with (operations and tests); undefined with `ASR=none`. */
  get speech(): SpeechService | undefined {
    return this.asr;
  }

  get engine(): string {
    return this.asr?.engine ?? 'none';
  }

  /** Whether requests need a token (a JWT key is configured). */
  get authEnabled(): boolean {
    return this.accessControl?.enabled ?? false;
  }

  private async startParts(): Promise<GatewayAddresses> {
    const { config, logger, metrics, hub, logLimiter } = this;
    const verifier =
      config.jwtSecret === undefined && config.jwtPublicKeyFile === undefined
        ? undefined
        : await TokenVerifier.fromFiles({ secret: config.jwtSecret, publicKeyFile: config.jwtPublicKeyFile, issuer: config.jwtIssuer, audience: config.jwtAudience });
    const access = new AccessControl(verifier, metrics);
    this.accessControl = access;
    if (verifier === undefined) {
      logger.warn('authentication is OFF: no JWT_SECRET or JWT_PUBLIC_KEY_FILE is set, so every client of HTTP, WebSocket and gRPC acts as admin and sees every call');
    } else {
      logger.info({ algorithms: verifier.algorithms, issuer: config.jwtIssuer, audience: config.jwtAudience }, 'authentication on: bearer tokens required');
    }
    const tls = readTls(config);
    this.alertStore = new AlertStore(hub, metrics, config.alertsKept);
    this.board = new CallBoard(hub);
    const board = this.board;
    this.grammars = await GrammarStore.open(config.grammarsDir, {
      logger: logger.child({ component: 'grammars' }),
      watch: true,
      prepare: LANGUAGES,
      classifiers: config.intentClassifier,
      ...(config.phoneticMatching ? { phonetic: phoneticLexicons({ 'en-US': DEBIAN_MODEL.dict }, logger.child({ component: 'phonetic' })) } : {}),
    });
    const grammars = this.grammars;
    if (config.callRecordsJsonl) this.records = new CallRecordWriter({ file: config.callRecordsFile, metrics, logger });
    this.callStore = await startCallRecordService(config, { hub, metrics, logger: logger.child({ component: 'call-store' }), grammars });
    const callStore = this.callStore;
    if (callStore !== undefined) this.readiness.add('call-store', () => callStore.readiness());
    let admission: AdmissionControl | undefined;
    if (config.asr === 'none') {
      logger.warn('ASR=none: audio is received and metered but not recognised; transcripts come from PushTranscript or /v1/transcripts');
    } else {
      const asr = await createSpeechService({ ...config, asr: config.asr }, logger.child({ component: 'asr' }), metrics);
      this.asr = asr;
      logger.info(
        { engine: asr.engine, workers: config.asrWorkers, isolation: config.asrIsolation, languages: asr.supportedLanguages, mode: config.asrMode, narrowbandFillDbfs: config.asrNarrowbandFillDbfs ?? 'off' },
        'ASR ready',
      );
      if (config.asrMode === 'spot' && !asr.capabilities.spotting) {
        throw new GatewayError('SGW_CONFIG', `ASR_MODE=spot needs phrase spotting, which ASR engine ${asr.engine} does not have; use ASR_MODE=transcribe`);
      }
      const legAdmission = new AdmissionControl({
        speech: asr,
        // 0: 0.85 of the service's capacity (one core per worker for the local pool).
        ...(config.asrCapacityCores > 0 ? { capacity: config.asrCapacityCores } : {}),
        priorLegCost: config.asrLegCost,
        metrics,
      });
      admission = legAdmission;
      this.admissionTimer = setInterval(() => legAdmission.sample(), 5000);
      this.admissionTimer.unref();
    }
    const ports = new PortAllocator({ min: config.rtpPortMin, max: config.rtpPortMax, bindAddress: config.rtpBindHost, receiveBufferSize: config.rtpReceiveBufferBytes || undefined, logger });
    this.calls = new CallManager({
      ports,
      asr: this.asr,
      admission,
      intentMatcher: (language) => grammars.matcher(language),
      recognitionMode: config.asrMode,
      spotPhrases: (language, speaker) => grammars.spotPhrases(language, speaker),
      redact: config.redact,
      records: this.records,
      hub,
      metrics,
      logger,
      logLimiter,
      advertisedHost: config.rtpAdvertisedHost,
      rtpTimeoutMs: config.rtpTimeoutMs,
      reorderDepth: config.reorderDepth,
      rtpSourcePolicy: config.rtpSourcePolicy,
      securePause: config.securePauseDtmf,
      maxCallsPerCredential: config.maxCallsPerCredential,
      admit: (protocol) => this.drainer.admit(protocol),
    });

    this.events = new WebSocketEventServer({ hub, metrics, access, logger: logger.child({ component: 'events' }) });
    const calls = this.calls;
    this.transcripts = new TranscriptIngestServer(this.calls, metrics, logger.child({ component: 'transcripts' }));
    const events = this.events;
    const transcripts = this.transcripts;
    // Genesys and Twilio cannot send a JWT: their endpoints check their own credentials (docs/integrations/).
    const audioHook = new AudioHookServer({
      calls,
      metrics,
      logger: logger.child({ component: 'audiohook' }),
      logLimiter,
      apiKeys: config.audiohookApiKeys,
      allowWithoutKey: config.audiohookApiKeys.length === 0 && !access.enabled,
      defaultLanguage: 'en-US',
    });
    this.audioHook = audioHook;
    const twilio = new TwilioStreamServer({
      calls,
      metrics,
      logger: logger.child({ component: 'twilio' }),
      logLimiter,
      streamTokens: config.twilioStreamTokens,
      authToken: config.twilioAuthToken,
      publicUrl: config.twilioPublicUrl,
      allowUnauthenticated: config.twilioStreamTokens.length === 0 && config.twilioAuthToken === undefined && !access.enabled,
      defaultLanguage: 'en-US',
    });
    this.twilio = twilio;
    this.http = new HttpServer({
      host: config.httpHost,
      port: config.httpPort,
      metrics,
      logger,
      access,
      alerts: this.alertStore,
      readiness: this.readiness,
      drain: this.drainer,
      eventCursor: () => hub.cursor,
      callRecords: new CallRecordRoutes({ records: this.callStore, isActive: (callId) => calls.list().some((call) => call.callId === callId), access, logger: logger.child({ component: 'call-store' }) }),
      pages: new StaticFiles(),
      tls: tls === undefined ? undefined : { cert: tls.cert, key: tls.key },
      upgrades: new Map([
        [EVENTS_PATH, (req, socket, head, url, principal) => events.handleUpgrade(req, socket, head, url, principal)],
        [
          TRANSCRIPTS_PATH,
          (req, socket, head, _url, principal) => {
            if (!canControlCalls(principal)) throw access.forbidden('websocket', `transcript ingest needs role admin or pbx, not ${principal.role}`);
            transcripts.handleUpgrade(req, socket, head, principalCredential(principal));
          },
        ],
      ]),
      selfAuthenticatedUpgrades: new Map([
        [AUDIOHOOK_PATH, (req, socket, head) => audioHook.handleUpgrade(req, socket, head)],
        [TWILIO_PATH, (req, socket, head, url) => twilio.handleUpgrade(req, socket, head, url)],
      ]),
      listCalls: (principal) =>
        calls
          .list()
          .filter((call) => canSeeCallMetadata(principal, call))
          .map((call) => ({ ...call, ...(board.get(call.callId) ?? { contactReason: undefined, escalationLevel: 'calm', alerts: 0 }) })),
    });
    const http = await this.http.listen();

    const proto = loadGatewayProto();
    this.grpcServer = new grpc.Server();
    this.grpcServer.addService(proto.speechgateway.v1.CallControl.service, createCallControlHandlers(this.calls, metrics, logger.child({ component: 'grpc' }), access, hub, logLimiter));
    const grpcServer = this.grpcServer;
    const credentials =
      tls === undefined ? grpc.ServerCredentials.createInsecure() : grpc.ServerCredentials.createSsl(tls.clientCa ?? null, [{ cert_chain: tls.cert, private_key: tls.key }], tls.clientCa !== undefined);
    const grpcPort = await new Promise<number>((resolve, reject) => {
      grpcServer.bindAsync(`${config.grpcHost}:${config.grpcPort}`, credentials, (err, port) => (err ? reject(err) : resolve(port)));
    });
    let audioSocketPort: number | undefined;
    if (config.audioSocketPort !== undefined) {
      this.audioSocket = new AudioSocketServer({
        host: config.grpcHost,
        port: config.audioSocketPort,
        calls: this.calls,
        hub,
        defaults: { agentId: config.audioSocketAgentId, queue: config.audioSocketQueue, language: config.audioSocketLanguage },
        legMode: config.audioSocketLegs,
        metrics,
        logger: logger.child({ component: 'audiosocket' }),
        logLimiter,
        idleTimeoutMs: config.rtpTimeoutMs,
      });
      audioSocketPort = (await this.audioSocket.listen()).port;
    }
    logger.info({ http: `${http.address}:${http.port}`, grpcPort, audioSocketPort, tls: tls !== undefined, clientCertificates: tls?.clientCa !== undefined }, 'gateway listening');
    return { http, grpcPort, tls: tls !== undefined, audioSocketPort };
  }

  /** Re-reads the grammars (SIGHUP); a broken file keeps the running set and is reported. */
  async reloadGrammars(): Promise<boolean> {
    const result = await this.grammars?.reload();
    return result?.ok ?? false;
  }

  /**
   * Starts draining (idempotent: a running drain keeps its origin and
   * deadline): every ingest protocol refuses new calls with SGW_DRAINING,
   * /readyz answers 503, and the calls already running go on until they end
   * or DRAIN_TIMEOUT_MS. `drained` resolves then; the caller `close()`s.
   */
  drain(origin: DrainOrigin, requestedBy?: string): DrainStatus {
    return this.drainer.start(origin, requestedBy);
  }

  /** Resolves when a drain (however it started) is over: no call left, the limit, or cut short. */
  get drained(): Promise<DrainOutcome> {
    return this.drainer.finished;
  }

  /** Ends a running drain now: close() then ends the calls still running with `shutdown`. */
  cutDrain(): void {
    this.drainer.cut();
  }

  get drainStatus(): DrainStatus {
    return this.drainer.status();
  }

  /**
   * Idempotent graceful shutdown, in the order that loses nothing: stop
   * taking calls (gRPC refuses new RPCs, the call manager new calls), end
   * every call with reason `shutdown` (final transcripts, `call.ended`,
   * `call.summary`, the record) while every client is still connected, let
   * StreamAudio streams send those and finish with OK, then close the ingest
   * endpoints, push, HTTP and the recognisers. Calls and streams get
   * `SHUTDOWN_DRAIN_MS`; connections still open then are cut. After a
   * `drain()` the calls left are those the drain limit caught.
   */
  close(): Promise<void> {
    this.closing ??= (async () => {
      this.drainer.close();
      clearInterval(this.admissionTimer);
      const { logger } = this;
      const drainMs = this.config.shutdownDrainMs;
      const deadline = Date.now() + drainMs;
      const grpcServer = this.grpcServer;
      // GOAWAY: new RPCs are refused; running ones, StreamAudio streams included, go on until they finish.
      const grpcDrained = grpcServer === undefined ? Promise.resolve() : new Promise<void>((resolve) => grpcServer.tryShutdown(() => resolve()));
      const callsEnded = this.calls?.close() ?? Promise.resolve();
      if (!(await settlesBefore(callsEnded, deadline))) logger.warn({ drainMs }, 'calls still ending at the shutdown drain deadline');
      // The calls are over: the sessions of the streaming protocols can go (their clients have had call.ended).
      this.transcripts?.close();
      this.audioHook?.close();
      this.twilio?.close();
      await this.audioSocket?.close();
      if (grpcServer !== undefined && !(await settlesBefore(grpcDrained, deadline))) {
        logger.warn({ drainMs }, 'gRPC calls still open at the shutdown drain deadline: cancelled');
        grpcServer.forceShutdown();
      }
      // Every call has ended and queued its record: write them before anything else stops.
      await callsEnded;
      await this.records?.close();
      // The database gets its own flush (an outage must not eat the time the calls had); what it does not take is spilled.
      await this.callStore?.close(Date.now() + Math.max(1000, drainMs));
      this.grammars?.close();
      this.events?.close();
      this.alertStore?.close();
      this.board?.close();
      await this.http?.close();
      await this.asr?.close();
      // Repeats suppressed since their last line are reported before the log ends.
      this.logLimiter.close();
      logger.info('gateway stopped');
      logger.flush();
    })();
    return this.closing;
  }
}

/** The call-record store of the configuration (DATABASE_URL, else DATABASE_FILE), started; undefined when off. */
async function startCallRecordService(
  config: GatewayConfig,
  parts: { hub: EventHub; metrics: GatewayMetrics; logger: Logger; grammars: GrammarStore },
): Promise<CallRecordService | undefined> {
  const store = openCallRecordStore(config, parts.logger);
  if (store === undefined) return undefined;
  const service = new CallRecordService({
    store,
    hub: parts.hub,
    metrics: parts.metrics,
    logger: parts.logger,
    // The grammar as it is when the call ends: a record keeps the marks its reason had then.
    marks: (language, intent) => parts.grammars.current.intents(language as Language).find((d) => d.id === intent),
    maxQueued: config.callStoreQueue,
    spillFile: config.callStoreSpillFile,
    retainTranscripts: config.transcriptRetention,
    retentionDays: config.transcriptRetentionDays,
  });
  await service.start();
  return service;
}

/** Whether `promise` settles before `deadline` (a Date.now() value). */
async function settlesBefore(promise: Promise<unknown>, deadline: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), Math.max(0, deadline - Date.now()));
  });
  const settled = promise.then(
    () => true as const,
    () => true as const,
  );
  try {
    return await Promise.race([settled, late]);
  } finally {
    clearTimeout(timer);
  }
}

/** Certificate, key and client CA files, read at start so a bad path stops start-up with its name. */
function readTls(config: GatewayConfig): { cert: Buffer; key: Buffer; clientCa: Buffer | undefined } | undefined {
  if (config.tlsCertFile === undefined || config.tlsKeyFile === undefined) return undefined;
  const read = (file: string, what: string): Buffer => {
    try {
      return readFileSync(file);
    } catch (err) {
      throw new GatewayError('SGW_CONFIG', `${what}: cannot read ${file} (${err instanceof Error ? err.message : String(err)})`);
    }
  };
  return {
    cert: read(config.tlsCertFile, 'TLS certificate'),
    key: read(config.tlsKeyFile, 'TLS key'),
    clientCa: config.tlsClientCaFile === undefined ? undefined : read(config.tlsClientCaFile, 'TLS client CA'),
  };
}
