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

  readonly activeLegs = new Gauge({
    name: 'sgw_active_legs',
    help: 'Call legs with media (RTP or streamed audio) currently active; transcripts-only calls have none',
    registers: [this.registry],
  });

  readonly callsStarted = new Counter({
    name: 'sgw_calls_started_total',
    help: 'Calls started',
    labelNames: ['language'] as const,
    registers: [this.registry],
  });

  readonly callsOverCredentialLimit = new Counter({
    name: 'sgw_calls_over_credential_limit_total',
    help: 'Calls refused because their credential (token subject, API key, stream token, AudioSocket peer) already had MAX_CALLS_PER_CREDENTIAL calls active',
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
    help: 'Datagrams dropped on an RTP/RTCP port, by reason: unexpected_source, foreign_source, unexpected_payload_type, malformed, duplicate, late, out_of_range',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });

  readonly rtpSourceLatches = new Counter({
    name: 'sgw_rtp_source_latches_total',
    help: 'RTP sources that got a leg, by kind: first (passed probation), takeover (a steady new source replaced a silent latched one, RTP_SOURCE_POLICY=relatch)',
    labelNames: ['kind'] as const,
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

  readonly rtpJitterEvents = new Counter({
    name: 'sgw_rtp_jitter_events_total',
    help: 'RTP jitter buffer events: duplicate, late, out_of_range, reordered (filled a hole in time), lost (packets), resync, silence_fill, timestamp_jump, ssrc_change',
    labelNames: ['event'] as const,
    registers: [this.registry],
  });

  readonly rtpConcealedSeconds = new Counter({
    name: 'sgw_rtp_concealed_seconds_total',
    help: 'Seconds of silence inserted on RTP legs, by cause: loss (packets never received), sender_silence (timestamp gaps), undecodable',
    labelNames: ['cause'] as const,
    registers: [this.registry],
  });

  readonly rtpTelephoneEvents = new Counter({
    name: 'sgw_rtp_telephone_events_total',
    help: 'RFC 4733 telephone-event packets, by outcome: digit (a press reported), update, redundant (repeated end or late update of a reported press), ignored (not a DTMF key), malformed',
    labelNames: ['outcome'] as const,
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

  readonly asrStreamBandwidth = new Counter({
    name: 'sgw_asr_stream_bandwidth_total',
    help: 'Wideband streams probed for telephone speech, by what their first speech was (narrowband: recognised with the telephone profile)',
    labelNames: ['engine', 'bandwidth'] as const,
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
    help: 'ASR workers (processes or threads) that exited unexpectedly or hung and were replaced',
    registers: [this.registry],
  });

  readonly asrBacklogMaxSeconds = new Gauge({
    name: 'sgw_asr_backlog_max_seconds',
    help: 'Largest backlog of one leg\'s audio waiting for its local recogniser, seconds, sampled every 5 s; at the per-leg bound (5 s) newer audio is dropped (sgw_asr_audio_dropped_seconds_total)',
    registers: [this.registry],
  });

  readonly asrLoadCores = new Gauge({
    name: 'sgw_asr_load_cores',
    help: 'Recognition load admission control predicts for the open legs (open streams x measured cores per leg), sampled every 5 s',
    registers: [this.registry],
  });

  readonly asrCapacityCores = new Gauge({
    name: 'sgw_asr_capacity_cores',
    help: 'Recognition load admission control admits up to (ASR_CAPACITY, or 0.85 x the service\'s capacity); a call that would pass it is refused with RESOURCE_EXHAUSTED',
    registers: [this.registry],
  });

  readonly asrRemoteServersUp = new Gauge({
    name: 'sgw_asr_remote_servers_up',
    help: 'Remote speech servers (vosk-server protocol) that answered their last health check or connection, per language',
    labelNames: ['language'] as const,
    registers: [this.registry],
  });

  readonly asrRemoteFailovers = new Counter({
    name: 'sgw_asr_remote_failovers_total',
    help: 'Streams moved to another remote speech server, by what went wrong with the one they were on',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });

  readonly transcriptGaps = new Counter({
    name: 'sgw_transcript_gaps_total',
    help: 'Stretches of a leg never transcribed, by reason: asr-worker-restart, asr-backlog (the gateway lost the audio), secure-pause, paused, discarded (the platform paused or discarded it)',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });

  readonly intents = new Counter({
    name: 'sgw_intents_total',
    help: 'Intents detected, by intent and language',
    labelNames: ['intent', 'language'] as const,
    registers: [this.registry],
  });

  readonly dtmfDigits = new Counter({
    name: 'sgw_dtmf_digits_total',
    help: 'DTMF key presses received on call legs; masked: yes during a secure pause (card entry)',
    labelNames: ['masked'] as const,
    registers: [this.registry],
  });

  readonly spotHits = new Counter({
    name: 'sgw_spot_hits_total',
    help: 'Grammar phrases heard by keyword spotters, by outcome: intent (confirmed, published), duplicate (the transcript had it already), unconfirmed (the matcher rejected it in context: negation, unless, speaker, window)',
    labelNames: ['outcome', 'language'] as const,
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

  readonly callStoreQueueDepth = new Gauge({
    name: 'sgw_call_store_queue_depth',
    help: 'Call records waiting for the call-record database (bounded by CALL_STORE_QUEUE; past it the newest is dropped)',
    registers: [this.registry],
  });

  readonly callStoreRecords = new Counter({
    name: 'sgw_call_store_records_total',
    help: 'Call records by outcome in the call-record database: written; failed (in a write attempt that failed; kept and retried); dropped (queue full); rejected (refused by the database for its data, never retried); spilled (still queued at shutdown, kept in the spill file for the next start)',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });

  readonly callStoreWriteSeconds = new Histogram({
    name: 'sgw_call_store_write_seconds',
    help: 'Time to write one batch of call records (one transaction), successful or not',
    buckets: [0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });

  readonly callStoreUp = new Gauge({
    name: 'sgw_call_store_up',
    help: 'Whether the call-record database answered the last write or check (1) or not (0)',
    registers: [this.registry],
  });

  readonly transcriptsPurged = new Counter({
    name: 'sgw_call_store_transcripts_purged_total',
    help: 'Transcript lines deleted by the retention purge (calls ended more than TRANSCRIPT_RETENTION_DAYS ago)',
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

  readonly eventListenerErrors = new Counter({
    name: 'sgw_event_listener_errors_total',
    help: 'Events a subscriber of the event bus threw on (the event still reached every other subscriber), by listener: websocket-events, alert-store, call-board, stream-audio, audiosocket, call-registry',
    labelNames: ['listener'] as const,
    registers: [this.registry],
  });

  readonly eventBusConnected = new Gauge({
    name: 'sgw_event_bus_connected',
    help: 'Whether the event bus is connected: 1 (the in-memory bus of a gateway alone always is; with REDIS_URL, both Redis connections are ready), 0 while events wait in the outgoing buffer',
    registers: [this.registry],
  });

  readonly eventBusBuffered = new Gauge({
    name: 'sgw_event_bus_buffered_events',
    help: 'Events of this instance waiting in the outgoing buffer for the Redis stream (bounded by REDIS_BUFFER_EVENTS)',
    registers: [this.registry],
  });

  readonly eventBusDropped = new Counter({
    name: 'sgw_event_bus_dropped_events_total',
    help: 'Events dropped from a full outgoing buffer (the oldest first) while Redis was unreachable: never in the stream, though delivered to this instance\'s own clients',
    registers: [this.registry],
  });

  readonly eventBusDelivery = new Histogram({
    name: 'sgw_event_bus_delivery_seconds',
    help: 'With REDIS_URL: from an event\'s publication (its ts, on the gateway that has the call) to its delivery here after the Redis stream, by origin: local (this gateway\'s) or remote (includes the clock offset between gateways)',
    labelNames: ['origin'] as const,
    buckets: [0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5],
    registers: [this.registry],
  });

  readonly eventBusReconnects = new Counter({
    name: 'sgw_event_bus_reconnects_total',
    help: 'Times the event bus got its Redis connection back after losing it',
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

  readonly authRejections = new Counter({
    name: 'sgw_auth_rejections_total',
    help: 'Requests refused by authentication or authorization, by transport (http, websocket, grpc) and reason (missing, invalid, expired, forbidden)',
    labelNames: ['transport', 'reason'] as const,
    registers: [this.registry],
  });

  readonly alertsStored = new Gauge({
    name: 'sgw_alerts_stored',
    help: 'Alerts held in the recent-alerts store (GET /v1/alerts)',
    registers: [this.registry],
  });

  readonly alertsEvicted = new Counter({
    name: 'sgw_alerts_evicted_total',
    help: 'Alerts dropped from the full recent-alerts store (oldest first), by whether they had been acknowledged',
    labelNames: ['acked'] as const,
    registers: [this.registry],
  });

  readonly alertsAcked = new Counter({
    name: 'sgw_alerts_acknowledged_total',
    help: 'Alerts acknowledged by a supervisor or admin',
    registers: [this.registry],
  });

  readonly eventResumes = new Counter({
    name: 'sgw_ws_event_resumes_total',
    help: 'Event clients that connected with a since cursor, by outcome (complete: every missed event replayed; gap: some may be missing) and, for a gap, reason (other-run, expired, malformed, unknown)',
    labelNames: ['outcome', 'reason'] as const,
    registers: [this.registry],
  });

  readonly wsTokenRefreshes = new Counter({
    name: 'sgw_ws_event_token_refreshes_total',
    help: 'Fresh tokens presented on open event connections (auth message), by outcome (ok, refused: the connection is closed)',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });

  readonly audioSocketConnections = new Gauge({
    name: 'sgw_audiosocket_connections',
    help: 'Open Asterisk AudioSocket TCP connections',
    registers: [this.registry],
  });

  readonly audioSocketFrames = new Counter({
    name: 'sgw_audiosocket_frames_total',
    help: 'AudioSocket frames received, by kind (uuid, audio, dtmf, hangup, error, unknown)',
    labelNames: ['kind'] as const,
    registers: [this.registry],
  });

  readonly audioSocketErrors = new Counter({
    name: 'sgw_audiosocket_errors_total',
    help: 'Bad input on AudioSocket connections, by reason; oversize, bad_first_frame, bad_uuid, odd_audio, unsupported_rate, rate_change, call_refused, idle_timeout close the connection, the others are skipped',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });

  readonly streamAudioMessages = new Counter({
    name: 'sgw_stream_audio_messages_total',
    help: 'gRPC StreamAudio messages received, by kind (start, audio, dtmf, pause, resume, end, empty)',
    labelNames: ['kind'] as const,
    registers: [this.registry],
  });

  readonly streamAudioErrors = new Counter({
    name: 'sgw_stream_audio_errors_total',
    help: 'gRPC StreamAudio streams ended by bad input or refused, by reason; sequence_late chunks are dropped and the stream goes on',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });

  readonly streamAudioEventsDropped = new Counter({
    name: 'sgw_stream_audio_events_dropped_total',
    help: 'Events not sent on a StreamAudio response stream because the client did not read them (queue of 1000 full; newest dropped)',
    registers: [this.registry],
  });

  readonly ingestProtocolErrors = new Counter({
    name: 'sgw_ingest_protocol_errors_total',
    help: 'Bad input on a streaming ingest protocol (audiohook, twilio, audio-fork, siprec), by protocol and reason; answered with the protocol\'s own error (siprec: a SIP 4xx/5xx, or a dropped message or TCP connection)',
    labelNames: ['protocol', 'reason'] as const,
    registers: [this.registry],
  });

  readonly ingestSessions = new Counter({
    name: 'sgw_ingest_sessions_total',
    help: 'Streaming ingest sessions (audiohook, twilio, audio-fork, siprec), by outcome (opened: a call started; probe: a connection probe; overloaded; refused)',
    labelNames: ['protocol', 'outcome'] as const,
    registers: [this.registry],
  });

  readonly ingestMessages = new Counter({
    name: 'sgw_ingest_messages_total',
    help: 'Well-formed messages received on a streaming ingest protocol (audiohook, twilio, audio-fork, siprec), by protocol and message type (audio frames as audio, empty AudioHook frames as empty-audio; siprec: the SIP method, response, BYE-sent)',
    labelNames: ['protocol', 'type'] as const,
    registers: [this.registry],
  });

  readonly sipResponses = new Counter({
    name: 'sgw_sip_responses_total',
    help: 'SIP responses the SIPREC recording server sent, by request method (INVITE, ACK, BYE, CANCEL, OPTIONS, UPDATE, other) and status code',
    labelNames: ['method', 'status'] as const,
    registers: [this.registry],
  });

  readonly logOccurrences = new Counter({
    name: 'sgw_log_occurrences_total',
    help: 'Occurrences of log lines a remote party can repeat at will (refused requests, bad input, new RTP SSRCs), by reason, whether written or suppressed by the per-source rate limit',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });

  readonly logSuppressed = new Counter({
    name: 'sgw_log_suppressed_total',
    help: 'Of sgw_log_occurrences_total, the lines not written because the same reason from the same source was logged less than a window (60 s) ago; a summary line reports them',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });

  readonly dtmfDropped = new Counter({
    name: 'sgw_dtmf_dropped_total',
    help: 'DTMF presses dropped by the per-leg bound (20 a second, bursts of 10): no dtmf event, no secure-pause key',
    registers: [this.registry],
  });

  readonly languageRefusals = new Counter({
    name: 'sgw_language_refusals_total',
    help: 'Calls and sessions refused for their language (not served, or no ASR model on this gateway), by the language asked for (normalised tag; invalid: not a language tag; other: past the first 32 distinct)',
    labelNames: ['language'] as const,
    registers: [this.registry],
  });

  readonly draining = new Gauge({
    name: 'sgw_draining',
    help: 'Whether the gateway is draining (1: SIGTERM or POST /v1/admin/drain; no new calls, active calls go on until they end or DRAIN_TIMEOUT_MS) or serving (0); sgw_active_calls is what is left',
    registers: [this.registry],
  });

  readonly drainRefusals = new Counter({
    name: 'sgw_drain_refusals_total',
    help: 'New calls and connections refused because the gateway was draining (SGW_DRAINING), by ingest protocol (start-call, stream-audio, audiohook, twilio, audio-fork, audiosocket, transcripts, siprec)',
    labelNames: ['protocol'] as const,
    registers: [this.registry],
  });

  readonly webhookDeliveries = new Counter({
    name: 'sgw_webhook_deliveries_total',
    help: 'Webhook delivery attempts, by subscription and outcome: delivered (2xx), retried (failed, to be tried again after a backoff), dead_letter (failed WEBHOOK_MAX_ATTEMPTS times, moved to the dead letters)',
    labelNames: ['subscription', 'outcome'] as const,
    registers: [this.registry],
  });

  readonly webhookDropped = new Counter({
    name: 'sgw_webhook_dropped_total',
    help: 'Webhook deliveries never queued, by subscription and reason: queue_full (WEBHOOK_QUEUE_LIMIT undelivered events held), dead_letter_evicted (the oldest dead letter dropped past WEBHOOK_DEAD_LETTERS_KEPT)',
    labelNames: ['subscription', 'reason'] as const,
    registers: [this.registry],
  });

  readonly webhookAttemptSeconds = new Histogram({
    name: 'sgw_webhook_attempt_seconds',
    help: 'Duration of one webhook delivery attempt (request sent to answer or failure), by outcome: success or failure',
    labelNames: ['outcome'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [this.registry],
  });

  readonly webhookQueueDepth = new Gauge({
    name: 'sgw_webhook_queue_depth',
    help: 'Webhook deliveries queued and not yet delivered or given up, by subscription (kept in the durable queue across restarts)',
    labelNames: ['subscription'] as const,
    registers: [this.registry],
  });

  readonly webhookDeadLetters = new Gauge({
    name: 'sgw_webhook_dead_letters',
    help: 'Webhook deliveries given up after WEBHOOK_MAX_ATTEMPTS and kept for redelivery (GET /v1/admin/webhooks), by subscription',
    labelNames: ['subscription'] as const,
    registers: [this.registry],
  });

  /** Label values of languageRefusals seen so far: they come from clients, so only the first few get a series. */
  private readonly refusedLanguages = new Set<string>();

  /** Counts a call or session refused for `requested` (a client's language tag), with a bounded label. */
  countLanguageRefusal(requested: string): void {
    let language = languageLabel(requested);
    if (!this.refusedLanguages.has(language)) {
      if (this.refusedLanguages.size >= MAX_REFUSED_LANGUAGE_LABELS) language = 'other';
      else this.refusedLanguages.add(language);
    }
    this.languageRefusals.inc({ language });
  }

  constructor(options: { defaultMetrics?: boolean } = {}) {
    if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: this.registry, prefix: 'sgw_' });
  }
}

const MAX_REFUSED_LANGUAGE_LABELS = 32;
const LANGUAGE_TAG = /^([A-Za-z]{2,3})(?:-([A-Za-z]{2}|[0-9]{3}|[A-Za-z0-9]{4,8}))?$/;

/** `fr-fr` → `fr-FR`; anything that is not a simple language(-region) tag → `invalid`. */
function languageLabel(tag: string): string {
  const match = LANGUAGE_TAG.exec(tag);
  if (match === null) return 'invalid';
  const language = (match[1] ?? '').toLowerCase();
  const region = match[2];
  if (region === undefined) return language;
  return `${language}-${region.length === 2 ? region.toUpperCase() : region}`;
}
