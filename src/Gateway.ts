import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import * as grpc from '@grpc/grpc-js';
import { AccessControl } from './auth/AccessControl.js';
import { principalCredential } from './auth/credential.js';
import { canControlCalls, canSeeCallMetadata } from './auth/scope.js';
import { TokenVerifier } from './auth/TokenVerifier.js';
import { GatewayError } from './errors.js';
import { StaticFiles } from './http/StaticFiles.js';
import { AlertStore, type Alerts } from './push/AlertStore.js';
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
import { parseAllowList } from './ingest/siprec/allowList.js';
import { DigestAuthenticator } from './ingest/siprec/digest.js';
import { SiprecServer } from './ingest/siprec/SiprecServer.js';
import { HttpServer } from './http/HttpServer.js';
import { CallRecordRoutes } from './http/CallRecordRoutes.js';
import { AUDIOHOOK_PATH, AudioHookServer } from './ingest/websocket/audiohook/AudioHookServer.js';
import { TWILIO_PATH, TwilioStreamServer } from './ingest/websocket/twilio/TwilioStreamServer.js';
import { AudioForkServer, FORK_PATH } from './ingest/websocket/fork/AudioForkServer.js';
import type { Logger } from './logger.js';
import { LogLimiter } from './LogLimiter.js';
import { Drain, type DrainOrigin, type DrainOutcome, type DrainStatus } from './Drain.js';
import { Readiness } from './Readiness.js';
import { GatewayMetrics } from './metrics.js';
import { phoneticLexicons } from './analytics/phonetic/lexicons.js';
import { DEBIAN_MODEL } from './asr/engines/pocketsphinx/paths.js';
import type { EventBus, EventBusHealth, EventFeed } from './calls/EventBus.js';
import { LocalCallDirectory, type CallDirectory } from './calls/CallDirectory.js';
import { CallRegistry } from './cluster/CallRegistry.js';
import { ClusterCallDirectory } from './cluster/ClusterCallDirectory.js';
import { InstanceCommands } from './cluster/InstanceCommands.js';
import { RedisAlertStore } from './cluster/RedisAlertStore.js';
import { RedisEventBus } from './cluster/RedisEventBus.js';
import { EventHub } from './push/EventHub.js';
import type { EventSource } from './push/EventSource.js';
import { EVENTS_PATH, WebSocketEventServer } from './push/WebSocketEventServer.js';
import { FileDeliveryStore } from './webhooks/FileDeliveryStore.js';
import { loadSubscriptionFile } from './webhooks/Subscription.js';
import { WebhookDispatcher } from './webhooks/WebhookDispatcher.js';

/** The bus a gateway's events travel on: in memory when it runs alone, the Redis stream in a cluster (REDIS_URL). */
export type GatewayEventBus = EventBus &
  EventSource & {
    health(): EventBusHealth;
    /** Resolves once the events published so far have reached the bus's subscribers, or at `deadline`. */
    drain(deadline: number): Promise<void>;
    close(): Promise<void>;
  };

export interface GatewayAddresses {
  readonly http: AddressInfo;
  readonly grpcPort: number;
  /** HTTPS/WSS and gRPC over TLS. */
  readonly tls: boolean;
  /** Asterisk AudioSocket TCP port; undefined when AUDIOSOCKET_PORT is off. */
  readonly audioSocketPort?: number | undefined;
  /** SIPREC SIP port (UDP and TCP); undefined when SIP_PORT is off. */
  readonly sipPort?: number | undefined;
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
  readonly hub: GatewayEventBus;
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
  private siprec: SiprecServer | undefined;
  private audioHook: AudioHookServer | undefined;
  private twilio: TwilioStreamServer | undefined;
  private forks: AudioForkServer | undefined;
  private grammars: GrammarStore | undefined;
  private records: CallRecordWriter | undefined;
  /** The call-record database (SQLite or PostgreSQL), its queue and purge; undefined with DATABASE_FILE=off. */
  private callStore: CallRecordService | undefined;
  private closing: Promise<void> | undefined;
  private admissionTimer: NodeJS.Timeout | undefined;
  private alertStore: Alerts | undefined;
  private board: CallBoard | undefined;
  private accessControl: AccessControl | undefined;
  /** In a cluster: this gateway's calls in Redis, and requests forwarded to the other gateways. */
  private registry: CallRegistry | undefined;
  private commands: InstanceCommands | undefined;
  private webhooks: WebhookDispatcher | undefined;

  private constructor(
    readonly config: GatewayConfig,
    readonly logger: Logger,
    metrics: GatewayMetrics,
  ) {
    this.metrics = metrics;
    this.logLimiter = new LogLimiter({ metrics });
    const busLogger = logger.child({ component: 'events' });
    this.hub =
      config.redisUrl === undefined
        ? new EventHub(metrics, undefined, undefined, { logger: busLogger, logLimiter: this.logLimiter })
        : new RedisEventBus({
            url: config.redisUrl,
            keyPrefix: config.redisKeyPrefix,
            instanceId: config.instanceId,
            maxLen: config.redisStreamMaxLen,
            bufferSize: config.redisBufferEvents,
            metrics,
            logger: busLogger,
            logLimiter: this.logLimiter,
          });
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
    // Reported, not failed: a Redis outage hits every instance at once, and a balancer with no ready
    // instance sends calls nowhere, while each instance still serves its own calls and clients.
    this.readiness.add('event-bus', () => {
      const { connected, buffered, lastError } = this.hub.health();
      return { ok: true, connected, buffered, ...(lastError === undefined ? {} : { lastError }) };
    });
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

  /**
   * The event bus's health for /readyz: connected (always, in memory), events
   * waiting in its outgoing buffer, the last Redis error while disconnected.
   */
  eventBusHealth(): EventBusHealth {
    return this.hub.health();
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
    this.alertStore =
      config.redisUrl === undefined
        ? new AlertStore(hub, metrics, config.alertsKept)
        : new RedisAlertStore({
            url: config.redisUrl,
            keyPrefix: config.redisKeyPrefix,
            instanceId: config.instanceId,
            bus: hub,
            metrics,
            logger: logger.child({ component: 'alerts' }),
            logLimiter,
            capacity: config.alertsKept,
          });
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
    // Before the first call: what a previous run left queued is sent again, before anything new of the same call.
    const webhooks = await WebhookDispatcher.open({
      store: new FileDeliveryStore(config.webhooksJournal, logger.child({ component: 'webhooks' })),
      fileSubscriptions: config.webhooksFile === undefined ? [] : await loadSubscriptionFile(config.webhooksFile),
      metrics,
      logger: logger.child({ component: 'webhooks' }),
      logLimiter,
      maxAttempts: config.webhookMaxAttempts,
      queueLimit: config.webhookQueueLimit,
      deadLettersKept: config.webhookDeadLettersKept,
      retryBaseMs: config.webhookRetryBaseMs,
      retryMaxMs: config.webhookRetryMaxMs,
      attemptTimeoutMs: config.webhookTimeoutMs,
      concurrency: config.webhookConcurrency,
    });
    this.webhooks = webhooks;
    // Once per event in the cluster: each gateway sends its own calls' events.
    hub.subscribe((event, owner, local) => {
      if (local) webhooks.publish(event, owner);
    }, 'webhooks');
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
      raisesIntents: (language, speaker) => grammars.raisesIntents(language, speaker),
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

    let directory: CallDirectory = new LocalCallDirectory(this.calls);
    if (config.redisUrl !== undefined) {
      const cluster = { url: config.redisUrl, keyPrefix: config.redisKeyPrefix, instanceId: config.instanceId, calls: this.calls, logger: logger.child({ component: 'cluster' }), logLimiter };
      this.registry = new CallRegistry({ ...cluster, heartbeatMs: config.clusterHeartbeatMs, instanceTtlMs: config.clusterInstanceTtlMs, bus: hub });
      this.commands = new InstanceCommands(cluster);
      directory = new ClusterCallDirectory(this.calls, this.registry, this.commands, config.instanceId);
      logger.info({ instanceId: config.instanceId, keyPrefix: config.redisKeyPrefix }, 'cluster: events, calls and alerts shared through Redis');
    }

    this.events = new WebSocketEventServer({ hub, metrics, access, logger: logger.child({ component: 'events' }) });
    const calls = this.calls;
    this.transcripts = new TranscriptIngestServer(this.calls, metrics, logger.child({ component: 'transcripts' }));
    const events = this.events;
    const transcripts = this.transcripts;
    // Genesys, Twilio and the audio forks cannot send a JWT: their endpoints check their own credentials (docs/integrations/).
    const audioHook = new AudioHookServer({
      calls,
      metrics,
      logger: logger.child({ component: 'audiohook' }),
      logLimiter,
      apiKeys: config.audiohookApiKeys,
      clientSecrets: config.audiohookClientSecrets,
      allowWithoutKey: config.audiohookApiKeys.length === 0 && config.audiohookClientSecrets.size === 0 && !access.enabled,
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
    const forks = new AudioForkServer({
      calls,
      metrics,
      logger: logger.child({ component: 'audio-fork' }),
      logLimiter,
      tokens: config.forkTokens,
      allowUnauthenticated: config.forkTokens.length === 0 && !access.enabled,
      defaultLanguage: 'en-US',
    });
    this.forks = forks;
    this.http = new HttpServer({
      host: config.httpHost,
      port: config.httpPort,
      metrics,
      logger,
      access,
      alerts: this.alertStore,
      readiness: this.readiness,
      drain: this.drainer,
      webhooks,
      eventCursor: () => hub.cursor,
      eventOrigin: () => hub.origin,
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
        [FORK_PATH, (req, socket, head, url) => forks.handleUpgrade(req, socket, head, url)],
      ]),
      listCalls: async (principal) =>
        (await directory.list())
          .filter((call) => canSeeCallMetadata(principal, call))
          .map((call) => ({ ...call, ...(board.get(call.callId) ?? { contactReason: undefined, escalationLevel: 'calm', alerts: 0 }) })),
    });
    const http = await this.http.listen();

    const proto = loadGatewayProto();
    this.grpcServer = new grpc.Server();
    this.grpcServer.addService(proto.speechgateway.v1.CallControl.service, createCallControlHandlers(this.calls, metrics, logger.child({ component: 'grpc' }), access, hub, logLimiter, directory));
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
    let sipPort: number | undefined;
    if (config.sipPort !== undefined) {
      // SIP carries no token: the SRC's source address is its credential (SIPREC_ALLOW).
      const allow = parseAllowList(config.siprecAllow);
      if (typeof allow === 'string') throw new GatewayError('SGW_CONFIG', `SIPREC_ALLOW: '${allow}' is not an address or CIDR prefix`);
      const digest = config.siprecDigest === undefined ? undefined : new DigestAuthenticator(config.siprecDigest);
      // An empty list admits any source only when something else authenticates (digest) or nothing does (authentication off).
      const anySource = config.siprecAllow.length === 0 && (digest !== undefined || !access.enabled);
      if (config.siprecAllow.length === 0 && !anySource) logger.warn('SIPREC is on but SIPREC_ALLOW and SIPREC_DIGEST are empty: every INVITE is refused (403)');
      this.siprec = new SiprecServer({
        host: config.sipHost,
        port: config.sipPort,
        advertisedHost: config.rtpAdvertisedHost,
        calls: this.calls,
        hub,
        legRule: config.siprecLegs,
        allow: anySource ? undefined : allow,
        digest,
        defaults: { agentId: config.siprecAgentId, queue: config.siprecQueue, language: config.siprecLanguage },
        metrics,
        logger: logger.child({ component: 'siprec' }),
        logLimiter,
      });
      sipPort = (await this.siprec.listen()).port;
    }
    logger.info({ http: `${http.address}:${http.port}`, grpcPort, audioSocketPort, sipPort, tls: tls !== undefined, clientCertificates: tls?.clientCa !== undefined }, 'gateway listening');
    return { http, grpcPort, tls: tls !== undefined, audioSocketPort, sipPort };
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
      this.forks?.close();
      await this.audioSocket?.close();
      await this.siprec?.close();
      if (grpcServer !== undefined && !(await settlesBefore(grpcDrained, deadline))) {
        logger.warn({ drainMs }, 'gRPC calls still open at the shutdown drain deadline: cancelled');
        grpcServer.forceShutdown();
      }
      // Every call has ended and queued its record: write them before anything else stops.
      await callsEnded;
      await this.records?.close();
      // After the last call.summary is queued: what is not delivered stays in the journal for the next start.
      await this.webhooks?.close();
      // The database gets its own flush (an outage must not eat the time the calls had); what it does not take is spilled.
      await this.callStore?.close(Date.now() + Math.max(1000, drainMs));
      this.grammars?.close();
      // In a cluster the calls' last events reach this instance's clients back through Redis.
      await this.hub.drain(Math.max(deadline, Date.now() + 2000));
      // Its calls are over: it leaves the registry cleanly instead of being taken for lost.
      await this.registry?.close();
      this.commands?.close();
      this.events?.close();
      this.alertStore?.close();
      this.board?.close();
      await this.http?.close();
      await this.hub.close();
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
  parts: { hub: EventFeed; metrics: GatewayMetrics; logger: Logger; grammars: GrammarStore },
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
