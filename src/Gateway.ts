import type { AddressInfo } from 'node:net';
import * as grpc from '@grpc/grpc-js';
import { GrammarSet } from './analytics/grammar/GrammarSet.js';
import { resolveEngineConfig } from './asr/engines/select.js';
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
import { WebSocketEventServer } from './push/WebSocketEventServer.js';

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
  private closing: Promise<void> | undefined;

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

  get engine(): string {
    return this.asr?.stats().engine ?? 'none';
  }

  private async startParts(): Promise<GatewayAddresses> {
    const { config, logger, metrics, hub } = this;
    const grammars = await GrammarSet.load(config.grammarsDir);
    const engine = resolveEngineConfig({ asr: config.asr, voskModels: config.voskModels });
    this.asr = await AsrWorkerPool.create({ engine, workers: config.asrWorkers, logger: logger.child({ component: 'asr' }), metrics });
    logger.info({ engine: engine.engine, workers: config.asrWorkers, languages: this.asr.supportedLanguages }, 'ASR ready');

    const ports = new PortAllocator({ min: config.rtpPortMin, max: config.rtpPortMax, bindAddress: config.rtpBindHost, receiveBufferSize: config.rtpReceiveBufferBytes || undefined, logger });
    this.calls = new CallManager({
      ports,
      asr: this.asr,
      grammars,
      hub,
      metrics,
      logger,
      advertisedHost: config.rtpAdvertisedHost,
      rtpTimeoutMs: config.rtpTimeoutMs,
      reorderDepth: config.reorderDepth,
    });

    this.events = new WebSocketEventServer({ hub, metrics, logger: logger.child({ component: 'events' }) });
    const calls = this.calls;
    this.http = new HttpServer({ host: config.httpHost, port: config.httpPort, metrics, logger, events: this.events, listCalls: () => calls.list() });
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

  /** Idempotent graceful shutdown. */
  close(): Promise<void> {
    this.closing ??= (async () => {
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
      await this.calls?.close();
      this.events?.close();
      await this.http?.close();
      await this.asr?.close();
      this.logger.info('gateway stopped');
      this.logger.flush();
    })();
    return this.closing;
  }
}
