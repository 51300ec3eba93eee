import type { GatewayConfig } from '../config.js';
import type { Logger } from '../logger.js';
import type { GatewayMetrics } from '../metrics.js';
import { resolveEngineConfig, type AsrChoice } from './engines/select.js';
import { AsrWorkerPool } from './pool/AsrWorkerPool.js';
import { VoskServerService } from './engines/vosk-server/VoskServerService.js';
import type { SpeechService } from './SpeechService.js';

export type SpeechServiceConfig = Pick<
  GatewayConfig,
  'voskModels' | 'voskServerUrls' | 'voskServerStreams' | 'pocketsphinxArgs' | 'pocketsphinxNarrowbandArgs' | 'pocketsphinxAgentArgs' | 'pocketsphinxAgentVocabulary' | 'pocketsphinxVocabulary' | 'pocketsphinxSpotterArgs' | 'asrWorkers' | 'asrIsolation' | 'asrVad' | 'asrAlternatives' | 'asrNarrowbandFillDbfs' | 'asrDetectNarrowband'
> & {
  readonly asr: AsrChoice | 'vosk-server';
};

/**
 * The speech service the configuration asks for; the one place that knows
 * the implementations, so the gateway only sees {@link SpeechService}.
 * `vosk-server`: a remote farm (src/asr/engines/vosk-server); otherwise the
 * local worker pool with the engine `resolveEngineConfig` picks.
 * @throws GatewayError (normally SGW_ASR_UNAVAILABLE / SGW_CONFIG) when the engine cannot start.
 */
export async function createSpeechService(config: SpeechServiceConfig, logger: Logger, metrics: GatewayMetrics): Promise<SpeechService> {
  if (config.asr === 'vosk-server') {
    return new VoskServerService({ servers: config.voskServerUrls, streamsPerServer: config.voskServerStreams, alternatives: config.asrAlternatives, logger, metrics });
  }
  const resolved = resolveEngineConfig({ asr: config.asr, voskModels: config.voskModels });
  const engine = resolved.engine === 'pocketsphinx' ? { ...resolved, extraArgs: config.pocketsphinxArgs, narrowbandArgs: config.pocketsphinxNarrowbandArgs, ...(config.pocketsphinxAgentArgs === undefined ? {} : { recordArgs: config.pocketsphinxAgentArgs }), ...(config.pocketsphinxAgentVocabulary === undefined ? {} : { recordVocabulary: config.pocketsphinxAgentVocabulary }), spotterArgs: config.pocketsphinxSpotterArgs, ...(config.pocketsphinxVocabulary === undefined ? {} : { vocabulary: config.pocketsphinxVocabulary }) } : resolved;
  // Telephone profile (docs/asr.md): measured for pocketsphinx's wideband model only.
  const fill = config.asrNarrowbandFillDbfs;
  return AsrWorkerPool.create({
    engine,
    workers: config.asrWorkers,
    isolation: config.asrIsolation,
    vad: config.asrVad,
    alternatives: config.asrAlternatives,
    detectNarrowband: config.asrDetectNarrowband,
    ...(fill === undefined ? {} : { narrowbandFillDbfs: fill }),
    logger,
    metrics,
  });
}
