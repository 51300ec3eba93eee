import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * All gateway metrics in one registry, so that tests can create an isolated
 * set per gateway instance and `/metrics` serves exactly this set.
 */
export class GatewayMetrics {
  readonly registry = new Registry();

  readonly activeCalls = new Gauge({
    name: 'sgw_active_calls',
    help: 'Calls currently active',
    registers: [this.registry],
  });

  readonly callsStarted = new Counter({
    name: 'sgw_calls_started_total',
    help: 'Calls started',
    labelNames: ['language'] as const,
    registers: [this.registry],
  });

  readonly callsEnded = new Counter({
    name: 'sgw_calls_ended_total',
    help: 'Calls ended, by reason',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });

  readonly rtpPacketsReceived = new Counter({
    name: 'sgw_rtp_packets_received_total',
    help: 'RTP packets accepted into a leg',
    labelNames: ['leg'] as const,
    registers: [this.registry],
  });

  readonly rtpPacketsDropped = new Counter({
    name: 'sgw_rtp_packets_dropped_total',
    help: 'Datagrams dropped on an RTP/RTCP port, by reason',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });

  readonly rtpPacketsLost = new Counter({
    name: 'sgw_rtp_packets_lost_total',
    help: 'RTP packets never received (gap filled with silence by the reorder buffer)',
    registers: [this.registry],
  });

  readonly rtcpPacketsReceived = new Counter({
    name: 'sgw_rtcp_packets_received_total',
    help: 'RTCP packets received, by packet type',
    labelNames: ['type'] as const,
    registers: [this.registry],
  });

  readonly asrAudioSeconds = new Counter({
    name: 'sgw_asr_audio_seconds_total',
    help: 'Seconds of audio processed by recognisers',
    labelNames: ['engine'] as const,
    registers: [this.registry],
  });

  readonly asrProcessingSeconds = new Counter({
    name: 'sgw_asr_processing_seconds_total',
    help: 'CPU-side wall seconds spent inside recognisers',
    labelNames: ['engine'] as const,
    registers: [this.registry],
  });

  readonly asrRealTimeFactor = new Gauge({
    name: 'sgw_asr_real_time_factor',
    help: 'Processing seconds per audio second over the last reporting window (lower is better; 1 = one core per stream)',
    labelNames: ['engine'] as const,
    registers: [this.registry],
  });

  readonly asrVadSkippedSeconds = new Counter({
    name: 'sgw_asr_vad_skipped_seconds_total',
    help: 'Seconds of audio the voice-activity gate kept from recognisers (silence beyond pre-roll and hangover)',
    labelNames: ['engine'] as const,
    registers: [this.registry],
  });

  readonly asrAudioDropped = new Counter({
    name: 'sgw_asr_audio_dropped_seconds_total',
    help: 'Seconds of audio dropped because a leg\'s recogniser queue was full',
    registers: [this.registry],
  });

  readonly asrWorkerRestarts = new Counter({
    name: 'sgw_asr_worker_restarts_total',
    help: 'ASR worker threads that exited unexpectedly and were replaced',
    registers: [this.registry],
  });

  readonly transcriptGaps = new Counter({
    name: 'sgw_transcript_gaps_total',
    help: 'Stretches of a leg never transcribed (recogniser worker replaced mid-call)',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });

  readonly intents = new Counter({
    name: 'sgw_intents_total',
    help: 'Intents detected, by intent and language',
    labelNames: ['intent', 'language'] as const,
    registers: [this.registry],
  });

  readonly escalationChanges = new Counter({
    name: 'sgw_escalation_level_changes_total',
    help: 'Escalation level changes, by new level and direction',
    labelNames: ['level', 'direction'] as const,
    registers: [this.registry],
  });

  readonly alerts = new Counter({
    name: 'sgw_alerts_total',
    help: 'Supervisor alerts raised, by source and severity',
    labelNames: ['source', 'severity'] as const,
    registers: [this.registry],
  });

  readonly redactions = new Counter({
    name: 'sgw_redactions_total',
    help: 'PII findings redacted from transcripts, by type',
    labelNames: ['type'] as const,
    registers: [this.registry],
  });

  readonly callRecords = new Counter({
    name: 'sgw_call_records_total',
    help: 'Post-call records, by outcome (written, failed, dropped)',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });

  readonly transcriptsPushed = new Counter({
    name: 'sgw_transcripts_pushed_total',
    help: 'Transcripts pushed by clients (PushTranscript, /v1/transcripts), by outcome',
    labelNames: ['channel', 'outcome'] as const,
    registers: [this.registry],
  });

  readonly eventLatency = new Histogram({
    name: 'sgw_event_latency_seconds',
    help: 'From the end of the audio an event describes to its publication on the hub',
    labelNames: ['type'] as const,
    buckets: [0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1, 1.5, 2, 3, 5],
    registers: [this.registry],
  });

  readonly eventsPublished = new Counter({
    name: 'sgw_events_published_total',
    help: 'Events published on the hub, by type',
    labelNames: ['type'] as const,
    registers: [this.registry],
  });

  readonly wsClients = new Gauge({
    name: 'sgw_ws_event_clients',
    help: 'Connected /v1/events WebSocket clients',
    registers: [this.registry],
  });

  readonly wsClientsDropped = new Counter({
    name: 'sgw_ws_event_clients_dropped_total',
    help: 'Event clients closed by the gateway, by reason',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });

  readonly grpcRequests = new Counter({
    name: 'sgw_grpc_requests_total',
    help: 'Control-plane requests, by method and gRPC status code name',
    labelNames: ['method', 'code'] as const,
    registers: [this.registry],
  });

  constructor(options: { defaultMetrics?: boolean } = {}) {
    if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: this.registry, prefix: 'sgw_' });
  }
}
