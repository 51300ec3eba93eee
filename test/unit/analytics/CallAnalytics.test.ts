import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, test } from 'node:test';
import { CallAnalytics } from '../../../src/analytics/CallAnalytics.js';
import { GrammarSet } from '../../../src/analytics/grammar/GrammarSet.js';
import { IntentMatcher } from '../../../src/analytics/intents/IntentMatcher.js';
import type { RecognitionResult } from '../../../src/asr/types.js';
import { PACKAGE_ROOT } from '../../../src/config.js';
import { createLogger } from '../../../src/logger.js';
import { GatewayMetrics } from '../../../src/metrics.js';
import { EventHub } from '../../../src/push/EventHub.js';
import type { GatewayEvent } from '../../../src/events.js';

const grammars = await GrammarSet.load(path.join(PACKAGE_ROOT, 'grammars'));

function setup(redact = new Set(['card', 'iban', 'bsn', 'phone', 'email'] as const), spotsWaitForTranscript = true) {
  const metrics = new GatewayMetrics({ defaultMetrics: false });
  const hub = new EventHub(metrics, 1000);
  const events: GatewayEvent[] = [];
  hub.subscribe((e) => events.push(e));
  const analytics = new CallAnalytics({
    callId: 'c',
    agentId: 'agent-1',
    queue: 'q',
    language: 'en-US',
    startedAt: Date.now(),
    matcher: new IntentMatcher(grammars.intents('en-US'), { language: 'en-US' }),
    redact,
    hub,
    metrics,
    logger: createLogger('silent'),
    spotsWaitForTranscript,
  });
  return { analytics, events };
}

const final = (utteranceId: number, text: string, startMs: number): RecognitionResult => ({ final: true, utteranceId, text, startMs, endMs: startMs + 2000, words: [] });

/** Feeds `ms` of 20 ms frames at `db` on a leg, starting at `from`. */
function frames(analytics: CallAnalytics, leg: 'customer' | 'agent', from: number, ms: number, db: number): number {
  for (let t = from; t < from + ms; t += 20) analytics.onAudioFrame(leg, t, 20, db);
  return from + ms;
}

describe('call analytics', () => {
  test('an order-number intent gives a prompt with the number; transcripts are redacted', () => {
    const { analytics, events } = setup();
    analytics.onRecognition('customer', final(0, 'i want to cancel my order four five six seven', 1000));
    analytics.onRecognition('customer', final(1, 'my phone number is oh six one two three four five six seven eight', 4000));
    const intent = events.find((e) => e.type === 'intent');
    assert.equal(intent?.type === 'intent' && intent.intent, 'cancel_order');
    assert.ok(intent?.type === 'intent' && intent.entities.some((e) => e.type === 'order_number' && e.value === '4567'), JSON.stringify(intent));
    const prompt = events.find((e) => e.type === 'prompt');
    assert.ok(prompt?.type === 'prompt' && prompt.text.includes('4567'), JSON.stringify(prompt));
    const phone = events.find((e) => e.type === 'transcript' && e.utteranceId === 1);
    assert.ok(phone?.type === 'transcript' && phone.text.includes('[phone]') && !phone.text.includes('six seven eight'), JSON.stringify(phone));
  });

  test('a prompt from a partial is completed by the final with the same promptId', () => {
    const { analytics, events } = setup();
    analytics.onRecognition('customer', { final: false, utteranceId: 4, text: 'i want to cancel my order', startMs: 0, endMs: 1500, words: [] });
    analytics.onRecognition('customer', final(4, 'i want to cancel my order the order number is four five six seven', 0));
    const prompts = events.filter((e) => e.type === 'prompt');
    assert.equal(prompts.length, 2, JSON.stringify(prompts));
    const [first, second] = prompts;
    assert.ok(first?.type === 'prompt' && second?.type === 'prompt');
    if (first?.type !== 'prompt' || second?.type !== 'prompt') return;
    assert.equal(first.promptId, second.promptId);
    assert.ok(!first.text.includes('4567') && second.text.includes('4567'), `${first.text} / ${second.text}`);
    assert.equal(events.filter((e) => e.type === 'intent').length, 1, 'the intent itself fires once');
  });

  test('with redaction off, text passes unchanged', () => {
    const { analytics, events } = setup(new Set());
    analytics.onRecognition('customer', final(0, 'my phone number is oh six one two three four five six seven eight', 0));
    const t = events.find((e) => e.type === 'transcript');
    assert.ok(t?.type === 'transcript' && t.text.endsWith('six seven eight'));
  });

  test('raised voice, overtalk and dead air escalate with reasons; an alert goes with the rise', () => {
    const { analytics, events } = setup();
    let t = 0;
    // Ten seconds of a customer at their normal level, then the agent answers.
    t = frames(analytics, 'customer', t, 10_000, -30);
    frames(analytics, 'agent', 0, 10_000, -90);
    // Both talking at once for two seconds, the customer 10 dB up.
    for (let i = 0; i < 100; i++, t += 20) {
      analytics.onAudioFrame('agent', t, 20, -28);
      analytics.onAudioFrame('customer', t, 20, -20);
    }
    const kinds = () => events.flatMap((e) => (e.type === 'escalation' ? e.reasons.map((r) => r.kind) : []));
    analytics.onRecognition('customer', final(1, 'this is unacceptable i am sick of waiting', t - 2000));
    const escalation = events.find((e) => e.type === 'escalation');
    assert.ok(escalation?.type === 'escalation' && escalation.rising, JSON.stringify(events.filter((e) => e.type !== 'transcript')));
    assert.ok(kinds().includes('raised_voice'), kinds().join());
    assert.ok(kinds().includes('overtalk'), kinds().join());
    assert.ok(kinds().includes('anger'), kinds().join());
    assert.ok(events.some((e) => e.type === 'alert' && e.source === 'escalation'));

    // Twelve seconds of silence on both legs.
    for (let i = 0; i < 600; i++, t += 20) {
      analytics.onAudioFrame('agent', t, 20, -90);
      analytics.onAudioFrame('customer', t, 20, -90);
    }
    const summary = analytics.summarize('ended-by-request', Date.now());
    assert.ok(summary.talk.longestSilenceMs >= 11_000, JSON.stringify(summary.talk));
    assert.equal(summary.talk.overtalkCount, 1);
    assert.ok(summary.talk.customerMs >= 11_000 && summary.talk.agentMs >= 1500, JSON.stringify(summary.talk));
    assert.notEqual(summary.escalation.peakLevel, 'calm');
  });

  test('a formal complaint alone stays calm; after a repeat contact the call is elevated', () => {
    const alone = setup();
    alone.analytics.onRecognition('customer', final(0, 'i would like to file a complaint about the courier', 1000));
    const aloneSummary = alone.analytics.summarize('rtcp-bye', Date.now());
    assert.equal(aloneSummary.primaryContactReason, 'complaint');
    assert.equal(aloneSummary.escalation.peakLevel, 'calm');

    const again = setup();
    // No anger words in it ("third time" is one), so only the repeat contact and the complaint count.
    again.analytics.onRecognition('customer', final(0, 'i already called about this last week', 1000));
    // Half a minute later: the repeat contact's weight has decayed (half-life 90 s), and the two still add up.
    again.analytics.onRecognition('customer', final(1, 'i want to file a complaint', 33_000));
    const summary = again.analytics.summarize('rtcp-bye', Date.now());
    assert.equal(summary.escalation.peakLevel, 'elevated');
    const escalation = again.events.find((e) => e.type === 'escalation');
    assert.ok(escalation?.type === 'escalation' && escalation.reasons.some((r) => r.detail.startsWith('complaint')), JSON.stringify(escalation));
  });

  test('a calm call stays calm and its summary names the contact reason', () => {
    const { analytics, events } = setup();
    let t = 0;
    for (let turn = 0; turn < 6; turn++) {
      const leg = turn % 2 === 0 ? 'customer' : 'agent';
      const other = leg === 'customer' ? 'agent' : 'customer';
      for (let i = 0; i < 150; i++, t += 20) {
        analytics.onAudioFrame(leg, t, 20, -28 + (i % 5));
        analytics.onAudioFrame(other, t, 20, -85);
      }
    }
    analytics.onRecognition('agent', final(0, 'how can i help you today', 0));
    analytics.onRecognition('customer', final(1, 'where is my package it has not arrived', 3000));
    analytics.onRecognition('customer', final(2, 'okay thank you very much that is great', 9000));
    assert.equal(events.filter((e) => e.type === 'escalation').length, 0);
    const summary = analytics.summarize('rtcp-bye', Date.now());
    assert.equal(summary.primaryContactReason, 'order_status');
    assert.equal(summary.escalation.peakLevel, 'calm');
    assert.ok(summary.sentiment.customer !== null && summary.sentiment.customer > 0);
    assert.ok(Math.abs(summary.talk.customerRatio - 0.5) < 0.05, JSON.stringify(summary.talk));
  });
});

describe('CallAnalytics: spotted phrases', () => {
  /** A result with one timed word per token, `stepMs` apart from `startMs`. */
  const timed = (utteranceId: number, text: string, startMs: number, final: boolean, stepMs = 300): RecognitionResult => {
    const words = text.split(' ').map((word, i) => ({ word, startMs: startMs + i * stepMs, endMs: startMs + (i + 1) * stepMs }));
    return { final, utteranceId, text, startMs, endMs: startMs + words.length * stepMs, words };
  };
  const intents = (events: GatewayEvent[]) => events.filter((e) => e.type === 'intent');

  test('a phrase the transcript garbled becomes an intent with source spotter, and the later transcript does not repeat it', () => {
    const { analytics, events } = setup();
    analytics.onRecognition('customer', timed(3, 'hello i want to', 0, false));
    analytics.onSpot('customer', { phrase: 'speak to your manager', startMs: 1200, endMs: 2300 }, Date.now());
    assert.deepEqual(intents(events), [], 'held until the transcript reaches the phrase');
    analytics.onRecognition('customer', timed(3, 'hello i want to beat or my', 0, false));
    assert.deepEqual(intents(events), [], 'a partial that only just reaches the phrase may still change its last words');
    analytics.onRecognition('customer', timed(3, 'hello i want to beat or my amateur right now', 0, false));
    const spotted = intents(events);
    assert.equal(spotted.length, 1);
    assert.equal(spotted[0]?.type === 'intent' && spotted[0].intent, 'speak_to_manager');
    assert.equal(spotted[0]?.type === 'intent' && spotted[0].source, 'spotter');
    assert.equal(spotted[0]?.type === 'intent' && spotted[0].utteranceId, 3, 'the transcript utterance the phrase was said in');
    assert.ok(events.some((e) => e.type === 'prompt' && e.intent === 'speak_to_manager'), 'the agent gets the prompt');
    // The transcript's final gets the words right after all: one saying, one intent.
    analytics.onRecognition('customer', timed(3, 'hello i want to speak to your manager', 0, true));
    assert.equal(intents(events).length, 1);
  });

  test('the transcript overrules a spotted phrase where it heard other words', () => {
    const { analytics, events } = setup();
    analytics.onRecognition('customer', timed(0, 'i would like to', 0, false));
    analytics.onSpot('customer', { phrase: 'cancel my account', startMs: 1200, endMs: 2100 });
    analytics.onRecognition('customer', timed(0, 'i would like to cancel my order please', 0, false));
    analytics.summarize('ended-by-request', Date.now());
    assert.deepEqual(intents(events).map((e) => e.type === 'intent' && `${e.intent}/${e.source}`), ['cancel_order/transcript']);
  });

  test('without a transcript (ASR_MODE=spot) a phrase is decided at once; with one, at the latest when the call ends', () => {
    const alone = setup(undefined, false);
    alone.analytics.onSpot('customer', { phrase: 'cancel my order', startMs: 1000, endMs: 1800 });
    assert.equal(intents(alone.events).length, 1);
    const [heard] = intents(alone.events);
    assert.equal(heard?.type === 'intent' && heard.utteranceId, null, 'no transcript, no utterance to name');

    const waiting = setup();
    waiting.analytics.onSpot('customer', { phrase: 'cancel my order', startMs: 1000, endMs: 1800 });
    assert.equal(intents(waiting.events).length, 0);
    waiting.analytics.summarize('ended-by-request', Date.now());
    assert.equal(intents(waiting.events).length, 1, 'a pending phrase is not lost at hang-up');
  });

  test('the transcript context vetoes a spotted phrase: negation', () => {
    const { analytics, events } = setup();
    analytics.onRecognition('customer', timed(0, 'no no i do not want to', 0, false));
    analytics.onSpot('customer', { phrase: 'cancel my order', startMs: 1850, endMs: 2700 });
    analytics.summarize('ended-by-request', Date.now());
    assert.deepEqual(intents(events), []);
  });

  test('a phrase the transcript already produced is not published twice', () => {
    const { analytics, events } = setup();
    analytics.onRecognition('customer', timed(0, 'please cancel my order', 0, true));
    analytics.onSpot('customer', { phrase: 'cancel my order', startMs: 320, endMs: 1150 });
    analytics.summarize('ended-by-request', Date.now());
    const found = intents(events);
    assert.equal(found.length, 1);
    assert.equal(found[0]?.type === 'intent' && found[0].source, 'transcript');
  });

  test('a spotted phrase on the wrong leg for its intent is not confirmed', () => {
    const { analytics, events } = setup();
    // speak_to_manager is a customer intent; the agent saying it is not an escalation.
    analytics.onSpot('agent', { phrase: 'speak to your manager', startMs: 0, endMs: 1000 });
    analytics.summarize('ended-by-request', Date.now());
    assert.deepEqual(intents(events), []);
  });
});
