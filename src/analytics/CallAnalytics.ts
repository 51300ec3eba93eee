import { randomUUID } from 'node:crypto';
import type { RecognitionResult, SpotHit } from '../asr/types.js';
import type { Language } from '../language.js';
import type { Logger } from '../logger.js';
import type { GatewayMetrics } from '../metrics.js';
import type { EventPublisher } from '../calls/EventBus.js';
import type { CallSummary, EntityValue, EscalationReason, LegRole, TranscriptGapEvent } from '../events.js';
import { VoiceActivity } from './conversation/VoiceActivity.js';
import { extractEntities } from './entities/extract.js';
import { EscalationTracker, type EscalationChange, type EscalationSignal } from './escalation/EscalationTracker.js';
import { Loudness } from './escalation/Loudness.js';
import { tokenize } from './grammar/phrase.js';
import { type IntentMatch, type IntentMatcher, type TimedToken, UtteranceIntentTracker, renderPrompt, timedTokens } from './intents/IntentMatcher.js';
import { redactTranscript, type PiiType } from './redaction/redact.js';
import { angerCues, scoreSentiment } from './sentiment/sentiment.js';

export interface CallAnalyticsOptions {
  readonly callId: string;
  readonly agentId: string;
  readonly queue: string;
  readonly language: Language;
  /** `Date.now()` at call start: event times are ms from here. */
  readonly startedAt: number;
  /** The matcher, or a getter of the current one so that grammar reloads reach running calls. */
  readonly matcher: IntentMatcher | (() => IntentMatcher);
  readonly redact: ReadonlySet<PiiType>;
  readonly hub: EventPublisher;
  readonly metrics: GatewayMetrics;
  readonly logger: Logger;
  /**
   * Whether the legs also produce a free transcript (ASR_MODE transcribe+spot).
   * Then a spotted phrase waits for the transcript to reach its end (at most
   * {@link SPOT_HOLD_MS}) so that the transcript, which hears words in context,
   * can overrule it. Without a transcript spots are decided at once. Default true.
   */
  readonly spotsWaitForTranscript?: boolean;
}

/** Longest a spotted phrase waits for the transcript to catch up before it is decided without it. */
export const SPOT_HOLD_MS = 1000;
/** How far past a spotted phrase a partial transcript must reach before it is taken as the transcript's word on it. */
const SPOT_LOOKAHEAD_MS = 300;
/** Spotted phrases waiting per leg at most; one more decides the oldest at once. */
const MAX_PENDING_SPOTS = 8;

/** Signal weights: how much one occurrence moves the escalation score (0..1). */
const WEIGHTS = {
  severity: { info: 0.15, warning: 0.3, critical: 0.6 },
  angerPerUtteranceMax: 0.45,
  angerScale: 0.3,
  raisedVoice: 0.2,
  overtalk: 0.15,
  longSilence: 0.1,
  negativeSentiment: 0.1,
  /**
   * A contact reason marked `escalates` (a formal complaint): under the first level (0.3) alone;
   * with a repeat contact (0.15) said up to about 50 s before it, over (the score's half-life is 90 s).
   */
  escalatingReason: 0.2,
} as const;
const OVERTALK_MIN_MS = 1500;
/** Transcript words this far before a spotted phrase are its context (negation, "unless", slots). */
const SPOT_CONTEXT_MS = 6000;
/** Two detections of one intent this close (ms) on a leg are the same saying, from spotter and transcript. */
const SAME_SAYING_MS = 2000;
/** Intents remembered per leg for that comparison. */
const RECENT_INTENTS = 16;
const LONG_SILENCE_MS = 10_000;

interface LegState {
  readonly intents: UtteranceIntentTracker;
  readonly voice: VoiceActivity;
  readonly loudness: Loudness;
  talking: boolean;
  lastFrameEndMs: number;
  utterances: number;
  sentimentSum: number;
  /**
   * Prompts given during the utterance in progress, by intent: when the final
   * brings entities the partial lacked (the order number said after "cancel
   * my order"), the prompt is given again, completed.
   */
  prompts: Map<string, { readonly promptId: string; readonly template: string; readonly slots: Readonly<Record<string, string>>; readonly text: string }>;
  promptsUtteranceId: number;
  /** Sum of final utterance spans: talk time when there is no audio (pushed transcripts). */
  transcriptTalkMs: number;
  audioFrames: number;
  /** Latest transcript result (partial or final): the context of spotted phrases. */
  lastResult: RecognitionResult | undefined;
  /** Recent intents (newest last, bounded), to publish a saying once whichever source hears it first. */
  recentIntents: { readonly id: string; readonly startMs: number; readonly endMs: number; readonly source: 'transcript' | 'spotter' }[];
  /** Spotted phrases waiting for the transcript to reach them (bounded by MAX_PENDING_SPOTS). */
  pendingSpots: { readonly hit: SpotHit; readonly audioEndedAt: number | undefined; readonly timer: NodeJS.Timeout }[];
}

/**
 * Everything a call's transcripts and audio levels tell: intents and their
 * entities, agent prompts, sentiment, escalation with supervisor alerts, and
 * the post-call summary. One per call; fed by the call's legs (RTP + ASR) or
 * by pushed transcripts. Pure in-memory state, bounded per call.
 */
export class CallAnalytics {
  private readonly legs: Record<LegRole, LegState>;
  private readonly escalation = new EscalationTracker();
  private readonly intentCounts = new Map<string, { intent: string; kind: string; leg: LegRole; count: number; firstAtMs: number }>();
  private primaryContactReason: string | undefined;
  private overtalkMs = 0;
  private overtalkCount = 0;
  private currentOvertalkMs = 0;
  private silenceReported = false;
  private longestSilenceMs = 0;

  constructor(private readonly options: CallAnalyticsOptions) {
    const leg = (role: LegRole): LegState => ({
      intents: new UtteranceIntentTracker(options.matcher, role),
      voice: new VoiceActivity(),
      loudness: new Loudness(),
      talking: false,
      lastFrameEndMs: 0,
      utterances: 0,
      sentimentSum: 0,
      transcriptTalkMs: 0,
      audioFrames: 0,
      prompts: new Map(),
      promptsUtteranceId: -1,
      lastResult: undefined,
      recentIntents: [],
      pendingSpots: [],
    });
    this.legs = { customer: leg('customer'), agent: leg('agent') };
  }

  /**
   * A recognition result with times already on the call's timeline.
   * `audioEndedAt` is the wall-clock end of the audio it describes, for the latency metric.
   */
  onRecognition(role: LegRole, result: RecognitionResult, audioEndedAt?: number): void {
    const { hub, callId, language, metrics } = this.options;
    if (result.text.trim().length === 0) return;
    const redacted = this.redact(result.text);
    hub.publish(
      {
        type: 'transcript',
        callId,
        leg: role,
        final: result.final,
        utteranceId: result.utteranceId,
        text: redacted,
        startMs: Math.round(result.startMs),
        endMs: Math.round(result.endMs),
      },
      audioEndedAt === undefined ? {} : { audioEndedAt },
    );

    const state = this.legs[role];
    if (state.promptsUtteranceId !== result.utteranceId) {
      state.promptsUtteranceId = result.utteranceId;
      state.prompts.clear();
    }
    state.lastResult = result;
    // The tracker still records them as fired, so the utterance's later partials and final stay quiet too.
    // Audio results carry the wall-clock end of their audio; pushed transcripts do not.
    const recognised = audioEndedAt !== undefined;
    const matches = state.intents.onResult(result, { callTimeMs: result.endMs, recognised }).filter((m) => !this.heardBefore(state, m, 'spotter'));
    if (matches.length > 0 || (result.final && state.prompts.size > 0)) {
      const entities = this.entities(result.text);
      for (const match of matches) {
        metrics.intents.inc({ intent: match.intent.id, language });
        this.remember(state, match, 'transcript');
        this.onIntent(role, match, entities, result, audioEndedAt === undefined ? undefined : audioEndedAt - (result.endMs - match.endMs), 'transcript', result.utteranceId);
      }
      if (result.final) this.completePrompts(role, entities, matches);
    }
    if (result.final) this.onFinal(role, result);
    // The transcript has had its say on these phrases: a final that reaches them, or a partial a
    // little past them (its last word may still be changing: "cancel my" before "order").
    const reached = (p: LegState['pendingSpots'][number]): boolean => (result.final ? result.endMs >= p.hit.startMs : result.endMs >= p.hit.endMs + SPOT_LOOKAHEAD_MS);
    for (const pending of state.pendingSpots.filter(reached)) this.decidePending(role, pending);
  }

  /**
   * A grammar phrase the leg's keyword spotter heard, times on the call's
   * timeline. The spotter has no context, so the phrase is put after the
   * transcript's words that precede it and given to the same intent matcher:
   * "i don't want to" + "cancel my order" is rejected as the transcript would
   * be. Confirmed and not already heard in the transcript: an intent event
   * with `source: 'spotter'`. With a transcript running, the decision waits
   * until the transcript has reached the phrase (see `spotsWaitForTranscript`).
   */
  onSpot(role: LegRole, hit: SpotHit, audioEndedAt?: number): void {
    const state = this.legs[role];
    if (this.options.spotsWaitForTranscript === false) {
      this.decideSpot(role, hit, audioEndedAt);
      return;
    }
    if (state.pendingSpots.length >= MAX_PENDING_SPOTS) {
      const oldest = state.pendingSpots[0];
      if (oldest) this.decidePending(role, oldest);
    }
    const pending = { hit, audioEndedAt, timer: setTimeout(() => this.decidePending(role, pending), SPOT_HOLD_MS) };
    pending.timer.unref();
    state.pendingSpots.push(pending);
  }

  private decidePending(role: LegRole, pending: LegState['pendingSpots'][number]): void {
    const state = this.legs[role];
    const index = state.pendingSpots.indexOf(pending);
    if (index < 0) return;
    state.pendingSpots.splice(index, 1);
    clearTimeout(pending.timer);
    this.decideSpot(role, pending.hit, pending.audioEndedAt);
  }

  private decideSpot(role: LegRole, hit: SpotHit, audioEndedAt: number | undefined): void {
    const { metrics, language, logger } = this.options;
    const state = this.legs[role];
    // The transcript found an intent in these very words: it heard them in context, so it wins
    // (the spotter hearing "cancel my account" where the transcript has "cancel my order").
    const overruled = state.recentIntents.find((r) => r.source === 'transcript' && r.startMs < hit.endMs && r.endMs > hit.startMs);
    if (overruled) {
      metrics.spotHits.inc({ outcome: 'duplicate', language });
      logger.debug({ leg: role, phrase: hit.phrase, transcriptIntent: overruled.id }, 'spotted phrase overlaps an intent of the transcript');
      return;
    }
    const context: TimedToken[] = state.lastResult === undefined ? [] : timedTokens(state.lastResult).filter((t) => t.endMs <= hit.startMs + 150 && t.startMs >= hit.startMs - SPOT_CONTEXT_MS);
    const words = tokenize(hit.phrase);
    const span = Math.max(1, hit.endMs - hit.startMs) / Math.max(1, words.length);
    const phrase: TimedToken[] = words.map((text, i) => ({ text, startMs: hit.startMs + i * span, endMs: hit.startMs + (i + 1) * span, confidence: undefined }));
    const matcher = typeof this.options.matcher === 'function' ? this.options.matcher() : this.options.matcher;
    const matches = matcher.match([...context, ...phrase], role, { final: true }).filter((m) => m.endMs > hit.startMs && m.startMs < hit.endMs);
    if (matches.length === 0) {
      metrics.spotHits.inc({ outcome: 'unconfirmed', language });
      logger.debug({ leg: role, phrase: hit.phrase, context: context.length }, 'spotted phrase not confirmed in context');
      return;
    }
    const synthetic: RecognitionResult = { final: true, utteranceId: -1, text: [...context, ...phrase].map((t) => t.text).join(' '), startMs: hit.startMs, endMs: hit.endMs, words: [] };
    // The transcript utterance the phrase was said in, when the transcript has reached it.
    const last = state.lastResult;
    const utteranceId = last !== undefined && last.startMs < hit.endMs && last.endMs > hit.startMs ? last.utteranceId : null;
    for (const match of matches) {
      if (this.heardBefore(state, match, 'any')) {
        metrics.spotHits.inc({ outcome: 'duplicate', language });
        continue;
      }
      metrics.spotHits.inc({ outcome: 'intent', language });
      metrics.intents.inc({ intent: match.intent.id, language });
      this.remember(state, match, 'spotter');
      this.onIntent(role, match, this.entities(synthetic.text), synthetic, audioEndedAt, 'spotter', utteranceId);
    }
  }

  private heardBefore(state: LegState, match: IntentMatch, source: 'spotter' | 'any'): boolean {
    return state.recentIntents.some(
      (r) => r.id === match.intent.id && (source === 'any' || r.source === source) && match.startMs < r.endMs + SAME_SAYING_MS && match.endMs > r.startMs - SAME_SAYING_MS,
    );
  }

  private remember(state: LegState, match: IntentMatch, source: 'transcript' | 'spotter'): void {
    state.recentIntents.push({ id: match.intent.id, startMs: match.startMs, endMs: match.endMs, source });
    if (state.recentIntents.length > RECENT_INTENTS) state.recentIntents.shift();
  }

  private onIntent(
    role: LegRole,
    match: IntentMatch,
    entities: readonly EntityValue[],
    result: RecognitionResult,
    audioEndedAt: number | undefined,
    source: 'transcript' | 'spotter',
    utteranceId: number | null,
  ): void {
    const { hub, callId, logger } = this.options;
    const { intent } = match;
    logger.info({ leg: role, intent: intent.id, kind: intent.kind, partial: !result.final, fuzzy: match.fuzzy, source }, 'intent detected');
    const slotEntities: EntityValue[] = Object.entries(match.slots).map(([type, value]) => ({ type, value }));
    const allEntities = dedupeEntities([...slotEntities, ...entities]);
    hub.publish(
      {
        type: 'intent',
        callId,
        leg: role,
        intent: intent.id,
        kind: intent.kind,
        severity: intent.severity,
        text: this.redact(match.text),
        confidence: Math.round(match.confidence * 1000) / 1000,
        startMs: Math.round(match.startMs),
        endMs: Math.round(match.endMs),
        partial: !result.final,
        utteranceId,
        source,
        evidence: source === 'spotter' ? 'exact' : match.evidence,
        alternative: match.alternative,
        slots: match.slots,
        entities: allEntities,
      },
      audioEndedAt === undefined ? {} : { audioEndedAt },
    );

    const key = `${intent.id}/${role}`;
    const counted = this.intentCounts.get(key);
    if (counted === undefined) {
      this.intentCounts.set(key, { intent: intent.id, kind: intent.kind, leg: role, count: 1, firstAtMs: Math.round(match.startMs) });
    } else {
      counted.count += 1;
    }
    if (intent.kind === 'intent' && role === 'customer') this.primaryContactReason ??= intent.id;

    if (intent.prompt !== undefined) {
      const promptId = randomUUID();
      const text = promptText(intent.prompt, match.slots, allEntities);
      this.legs[role].prompts.set(intent.id, { promptId, template: intent.prompt, slots: match.slots, text });
      hub.publish({ type: 'prompt', callId, promptId, agentId: this.options.agentId, intent: intent.id, text, entities: allEntities });
    }
    if (intent.kind === 'escalation' || intent.escalates) {
      const signal: EscalationSignal = {
        kind: intent.id === 'repeat_contact' ? 'repeat_contact' : 'cue',
        atMs: match.endMs,
        weight: intent.kind === 'escalation' ? WEIGHTS.severity[intent.severity] : WEIGHTS.escalatingReason,
        detail: `${intent.id} (${role}): "${this.redact(match.text)}"`,
      };
      if (intent.severity === 'critical') {
        this.alert('critical', 'intent', `${intent.id.replace(/_/g, ' ')} on the ${role} leg`, [toReason(signal)], match.endMs);
      }
      this.signal(signal);
    }
  }

  private entities(text: string): EntityValue[] {
    return extractEntities(tokenize(text), this.options.language)
      .filter((e) => !(e.type === 'phone' && this.options.redact.has('phone')))
      .map((e) => ({ type: e.type, value: e.value }));
  }

  /** Re-issues prompts of this utterance that the final's entities complete (same `promptId`). */
  private completePrompts(role: LegRole, entities: readonly EntityValue[], firedNow: readonly IntentMatch[]): void {
    const state = this.legs[role];
    for (const [intentId, prompt] of state.prompts) {
      if (firedNow.some((m) => m.intent.id === intentId)) continue;
      const text = promptText(prompt.template, prompt.slots, entities);
      if (text === prompt.text) continue;
      state.prompts.set(intentId, { ...prompt, text });
      this.options.hub.publish({ type: 'prompt', callId: this.options.callId, promptId: prompt.promptId, agentId: this.options.agentId, intent: intentId, text, entities: [...entities] });
    }
  }

  private onFinal(role: LegRole, result: RecognitionResult): void {
    const { hub, callId, language } = this.options;
    const state = this.legs[role];
    const tokens = tokenize(result.text);
    const sentiment = scoreSentiment(tokens, language);
    state.utterances += 1;
    state.sentimentSum += sentiment.score;
    state.transcriptTalkMs += Math.max(0, result.endMs - result.startMs);
    hub.publish({
      type: 'sentiment',
      callId,
      leg: role,
      utteranceId: result.utteranceId,
      score: Math.round(sentiment.score * 1000) / 1000,
      label: sentiment.label,
      startMs: Math.round(result.startMs),
      endMs: Math.round(result.endMs),
    });
    if (role !== 'customer') return;
    const cues = angerCues(tokens, language);
    if (cues.length > 0) {
      const weight = Math.min(WEIGHTS.angerPerUtteranceMax, cues.reduce((sum, c) => sum + c.weight, 0) * WEIGHTS.angerScale);
      this.signal({ kind: 'anger', atMs: result.endMs, weight, detail: `anger/frustration: ${cues.map((c) => `"${c.term}"`).join(', ')}` });
    }
    if (sentiment.score <= -0.5) {
      this.signal({ kind: 'negative_sentiment', atMs: result.endMs, weight: WEIGHTS.negativeSentiment, detail: `negative sentiment ${sentiment.score.toFixed(2)}` });
    }
  }

  /** A DTMF press; `digit` undefined while masked by a secure pause. Counted, never transcribed. */
  onDtmf(role: LegRole, digit: string | undefined, atMs: number, durationMs?: number): void {
    const { hub, callId, metrics } = this.options;
    metrics.dtmfDigits.inc({ masked: digit === undefined ? 'yes' : 'no' });
    hub.publish({ type: 'dtmf', callId, leg: role, digit: digit ?? null, atMs: Math.round(atMs), ...(durationMs === undefined ? {} : { durationMs: Math.round(durationMs) }) });
  }

  /** Marks a stretch of the leg's audio that will never be transcribed; times on the call timeline. */
  onGap(role: LegRole, startMs: number, endMs: number, reason: TranscriptGapEvent['reason']): void {
    const { hub, callId, metrics, logger } = this.options;
    metrics.transcriptGaps.inc({ reason });
    // A pause or audio the platform discarded is the platform's doing: a warning only when the gateway lost audio.
    const level = reason === 'asr-worker-restart' || reason === 'asr-backlog' ? 'warn' : 'info';
    logger[level]({ leg: role, startMs: Math.round(startMs), endMs: Math.round(endMs), reason }, 'transcript gap');
    hub.publish({ type: 'transcript.gap', callId, leg: role, startMs: Math.round(startMs), endMs: Math.round(endMs), reason });
  }

  /**
   * One frame of a leg's audio: `atMs` is its start on the call timeline.
   * Drives talk time, overtalk, dead air and raised voice.
   */
  onAudioFrame(role: LegRole, atMs: number, durationMs: number, levelDb: number): void {
    const state = this.legs[role];
    const other = this.legs[role === 'customer' ? 'agent' : 'customer'];
    state.audioFrames += 1;
    const wasTalking = state.talking;
    state.talking = state.voice.push(atMs, durationMs, levelDb);
    state.lastFrameEndMs = atMs + durationMs;
    const frameIsSpeech = state.voice.lastSpeechAtMs === atMs + durationMs;
    if (frameIsSpeech && role === 'customer') {
      const rise = state.loudness.pushSpeech(levelDb, durationMs, !wasTalking);
      if (rise !== undefined) {
        this.signal({ kind: 'raised_voice', atMs: atMs + durationMs, weight: WEIGHTS.raisedVoice, detail: `customer ${rise.toFixed(1)} dB above their own baseline` });
      }
    }

    // Overtalk: both legs talking at once, as of the other leg's latest frame.
    const otherCurrent = other.lastFrameEndMs >= atMs - 100;
    if (state.talking && other.talking && otherCurrent && role === 'customer') {
      this.currentOvertalkMs += durationMs;
      this.overtalkMs += durationMs;
      if (this.currentOvertalkMs >= OVERTALK_MIN_MS && this.currentOvertalkMs - durationMs < OVERTALK_MIN_MS) {
        this.overtalkCount += 1;
        this.signal({ kind: 'overtalk', atMs: atMs + durationMs, weight: WEIGHTS.overtalk, detail: `customer and agent talking at once for ${(OVERTALK_MIN_MS / 1000).toFixed(1)} s` });
      }
    } else if (role === 'customer' && !(state.talking && other.talking)) {
      this.currentOvertalkMs = 0;
    }
    if (!wasTalking && state.talking) this.silenceReported = false;

    // Dead air: nobody has spoken for a while (measured on the customer leg's clock).
    if (role === 'customer') {
      const lastSpeech = Math.max(state.voice.lastSpeechAtMs, other.voice.lastSpeechAtMs, 0);
      const silentMs = atMs + durationMs - lastSpeech;
      if (!state.talking && !other.talking) this.longestSilenceMs = Math.max(this.longestSilenceMs, silentMs);
      if (silentMs >= LONG_SILENCE_MS && !this.silenceReported && lastSpeech > 0) {
        this.silenceReported = true;
        this.signal({ kind: 'long_silence', atMs: atMs + durationMs, weight: WEIGHTS.longSilence, detail: `${(silentMs / 1000).toFixed(0)} s without speech on either leg` });
      }
    }
  }

  /** Lets the escalation score decay; call about once a second with the call time. */
  tick(atMs: number): void {
    const change = this.escalation.tick(atMs);
    if (change !== undefined) this.publishEscalation(change);
  }

  private signal(signal: EscalationSignal): void {
    const change = this.escalation.add(signal);
    if (change !== undefined) this.publishEscalation(change);
  }

  private publishEscalation(change: EscalationChange): void {
    const { hub, callId, metrics, logger } = this.options;
    const reasons = change.reasons.map(toReason);
    metrics.escalationChanges.inc({ level: change.level, direction: change.rising ? 'up' : 'down' });
    logger.info({ escalationLevel: change.level, previousLevel: change.previous, score: change.score }, 'escalation level changed');
    hub.publish({ type: 'escalation', callId, level: change.level, previousLevel: change.previous, score: change.score, rising: change.rising, reasons, atMs: Math.round(change.atMs) });
    if (change.rising) {
      this.alert(change.level === 'critical' ? 'critical' : 'warning', 'escalation', `escalation ${change.previous} → ${change.level}`, reasons, change.atMs);
    }
  }

  private alert(severity: 'warning' | 'critical', source: 'escalation' | 'intent', message: string, reasons: readonly EscalationReason[], atMs: number): void {
    const { hub, callId, agentId, queue, metrics } = this.options;
    metrics.alerts.inc({ source, severity });
    hub.publish({ type: 'alert', callId, alertId: randomUUID(), severity, agentId, queue, source, message, reasons, atMs: Math.round(atMs) });
  }

  private redact(text: string): string {
    if (this.options.redact.size === 0) return text;
    const result = redactTranscript(text, this.options.language, { types: this.options.redact });
    for (const { type, count } of result.found) this.options.metrics.redactions.inc({ type }, count);
    return result.text;
  }

  /** The post-call record. */
  summarize(endReason: string, endedAt: number): CallSummary {
    // Nothing heard is lost: phrases still waiting for the transcript are decided now.
    for (const role of ['customer', 'agent'] as const) {
      for (const pending of [...this.legs[role].pendingSpots]) this.decidePending(role, pending);
    }
    const { callId, agentId, queue, language, startedAt } = this.options;
    const customer = this.legs.customer;
    const agent = this.legs.agent;
    const talkMs = (leg: LegState): number => (leg.audioFrames > 0 ? leg.voice.talkMs : leg.transcriptTalkMs);
    const talkTotal = talkMs(customer) + talkMs(agent);
    const peak = this.escalation.peak;
    const primary = this.primaryContactReason ?? [...this.intentCounts.values()].find((i) => i.kind === 'intent')?.intent ?? 'unknown';
    return {
      callId,
      agentId,
      queue,
      language,
      startedAt: new Date(startedAt).toISOString(),
      endedAt: new Date(endedAt).toISOString(),
      endReason,
      durationMs: endedAt - startedAt,
      primaryContactReason: primary,
      intents: [...this.intentCounts.values()].sort((a, b) => a.firstAtMs - b.firstAtMs),
      escalation: { peakLevel: peak.level, peakScore: Math.round(peak.score * 1000) / 1000, reasons: peak.reasons.map(toReason) },
      talk: {
        customerMs: Math.round(talkMs(customer)),
        agentMs: Math.round(talkMs(agent)),
        customerRatio: talkTotal === 0 ? 0 : Math.round((talkMs(customer) / talkTotal) * 1000) / 1000,
        overtalkCount: this.overtalkCount,
        overtalkMs: Math.round(this.overtalkMs),
        longestSilenceMs: Math.round(this.longestSilenceMs),
      },
      sentiment: {
        customer: customer.utterances === 0 ? null : Math.round((customer.sentimentSum / customer.utterances) * 1000) / 1000,
        agent: agent.utterances === 0 ? null : Math.round((agent.sentimentSum / agent.utterances) * 1000) / 1000,
      },
      utterances: { customer: customer.utterances, agent: agent.utterances },
    };
  }
}

function toReason(signal: EscalationSignal): EscalationReason {
  return { kind: signal.kind, detail: signal.detail, atMs: Math.round(signal.atMs) };
}

function dedupeEntities(entities: readonly EntityValue[]): EntityValue[] {
  const seen = new Set<string>();
  return entities.filter((e) => {
    const key = `${e.type}=${e.value}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** The prompt with slots the phrase captured, else an entity of the slot's type from the utterance. */
function promptText(template: string, slots: Readonly<Record<string, string>>, entities: readonly EntityValue[]): string {
  const values: Record<string, string> = {};
  for (const e of [...entities].reverse()) values[e.type] = e.value;
  return renderPrompt(template, { ...values, ...slots });
}
