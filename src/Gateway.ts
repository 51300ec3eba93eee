import type { AddressInfo } from 'node:net';
import * as grpc from '@grpc/grpc-js';
import { GrammarStore } from './analytics/grammar/GrammarStore.js';
import { CallRecordWriter } from './analytics/summary/CallRecordWriter.js';
import { TRANSCRIPTS_PATH, TranscriptIngestServer } from './ingest/websocket/TranscriptIngestServer.js';
import { resolveEngineConfig } from './asr/engines/select.js';
import { AdmissionControl } from './asr/AdmissionControl.js';
import { AsrWorkerPool } from './asr/pool/AsrWorkerPool.js';
import { CallManager } from './calls/CallManager.js';
import type { GatewayConfig } from './config.js';
import { createCallControlHandlers } from './ingest/grpc/CallControlService.js';
import { loadGatewayProto } from './ingest/grpc/protoPackage.js';
import { PortAllocator } from './ingest/rtp/PortAllocator.js';
import { HttpServer } from './http/HttpServer.js';
import type { Logger } from './logger.js';
import { GatewayMetrics } from './metrics.js';
import { EventHub } from './push/EventHub.js';
import { EVENTS_PATH, WebSocketEventServer } from './push/WebSocketEventServer.js';

export interface GatewayAddresses {
  readonly http: AddressInfo;
  readonly grpcPort: number;
}

/**
 * The whole gateway: control plane, RTP ingest, ASR pool, analytics and push.
 * `start()` fails fast with a clear message on a bad configuration (no engine,
 * bad model, bad grammar); `close()` is idempotent and tears down in order:
 * stop taking calls, end calls (flushing final transcripts), close push, free
 * the recognisers.
 */
export class Gateway {
  readonly metrics: GatewayMetrics;
  readonly hub: EventHub;
  private calls: CallManager | undefined;
  private asr: AsrWorkerPool | undefined;
  private grpcServer: grpc.Server | undefined;
  private http: HttpServer | undefined;
  private events: WebSocketEventServer | undefined;
  private transcripts: TranscriptIngestServer | undefined;
  private grammars: GrammarStore | undefined;
  private records: CallRecordWriter | undefined;
  private closing: Promise<void> | undefined;
  private admissionTimer: NodeJS.Timeout | undefined;

  private constructor(
    readonly config: GatewayConfig,
    readonly logger: Logger,
    metrics: GatewayMetrics,
  ) {
    this.metrics = metrics;
    this.hub = new EventHub(metrics);
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

  /** The recognition pool (operations and tests: stats, supervision). */
  get asrPool(): AsrWorkerPool | undefined {
    return this.asr;
  }

  get engine(): string {
    return this.asr?.stats().engine ?? 'none';
  }

  private async startParts(): Promise<GatewayAddresses> {
    const { config, logger, metrics, hub } = this;
    this.grammars = await GrammarStore.open(config.grammarsDir, { logger: logger.child({ component: 'grammars' }), watch: true });
    const grammars = this.grammars;
    this.records = new CallRecordWriter({ file: config.callRecordsFile, metrics, logger });
    const engine = resolveEngineConfig({ asr: config.asr, voskModels: config.voskModels });
    this.asr = await AsrWorkerPool.create({ engine, workers: config.asrWorkers, vad: config.asrVad, logger: logger.child({ component: 'asr' }), metrics });
    logger.info({ engine: engine.engine, workers: config.asrWorkers, languages: this.asr.supportedLanguages }, 'ASR ready');

    const asr = this.asr;
    const admission = new AdmissionControl({
      stats: () => asr.stats(),
      capacityCores: config.asrCapacityCores > 0 ? config.asrCapacityCores : config.asrWorkers * 0.85,
      priorLegCost: config.asrLegCost,
    });
    this.admissionTimer = setInterval(() => admission.sample(), 5000);
    this.admissionTimer.unref();
    const ports = new PortAllocator({ min: config.rtpPortMin, max: config.rtpPortMax, bindAddress: config.rtpBindHost, receiveBufferSize: config.rtpReceiveBufferBytes || undefined, logger });
    this.calls = new CallManager({
      ports,
      asr: this.asr,
      admission,
      intentMatcher: (language) => grammars.matcher(language),
      redact: config.redact,
      records: this.records,
      hub,
      metrics,
      logger,
      advertisedHost: config.rtpAdvertisedHost,
      rtpTimeoutMs: config.rtpTimeoutMs,
      reorderDepth: config.reorderDepth,
    });

    this.events = new WebSocketEventServer({ hub, metrics, logger: logger.child({ component: 'events' }) });
    const calls = this.calls;
    this.transcripts = new TranscriptIngestServer(this.calls, metrics, logger.child({ component: 'transcripts' }));
    const events = this.events;
    const transcripts = this.transcripts;
    this.http = new HttpServer({
      host: config.httpHost,
      port: config.httpPort,
      metrics,
      logger,
      upgrades: new Map([
        [EVENTS_PATH, (req, socket, head, url) => events.handleUpgrade(req, socket, head, url)],
        [TRANSCRIPTS_PATH, (req, socket, head) => transcripts.handleUpgrade(req, socket, head)],
      ]),
      listCalls: () => calls.list(),
    });
    const http = await this.http.listen();

    const proto = loadGatewayProto();
    this.grpcServer = new grpc.Server();
    this.grpcServer.addService(proto.speechgateway.v1.CallControl.service, createCallControlHandlers(this.calls, metrics, logger.child({ component: 'grpc' })));
    const grpcServer = this.grpcServer;
    const grpcPort = await new Promise<number>((resolve, reject) => {
      grpcServer.bindAsync(`${config.grpcHost}:${config.grpcPort}`, grpc.ServerCredentials.createInsecure(), (err, port) => (err ? reject(err) : resolve(port)));
    });
    logger.info({ http: `${http.address}:${http.port}`, grpcPort }, 'gateway listening');
    return { http, grpcPort };
  }

  /** Re-reads the grammars (SIGHUP); a broken file keeps the running set and is reported. */
  async reloadGrammars(): Promise<boolean> {
    const result = await this.grammars?.reload();
    return result?.ok ?? false;
  }

  /** Idempotent graceful shutdown. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      clearInterval(this.admissionTimer);
      const grpcServer = this.grpcServer;
      if (grpcServer !== undefined) {
        await new Promise<void>((resolve) => {
          const force = setTimeout(() => {
            grpcServer.forceShutdown();
            resolve();
          }, 3000);
          grpcServer.tryShutdown(() => {
            clearTimeout(force);
            resolve();
          });
        });
      }
      this.transcripts?.close();
      await this.calls?.close();
      // Every call has ended and queued its record: write them before anything else stops.
      await this.records?.close();
      this.grammars?.close();
      this.events?.close();
      await this.http?.close();
      await this.asr?.close();
      this.logger.info('gateway stopped');
      this.logger.flush();
    })();
    return this.closing;
  }
}
