/**
 * The load test's calls: scripted two-party conversations spoken by flite,
 * with each customer intent phrase at the end of its turn, so the end of the
 * phrase's audio (the zero of intent latency) is known to the millisecond.
 */
import { renderCall, type Speaker, type Turn } from '../src/demo/speech.js';

export interface FixtureScript {
  readonly name: string;
  /**
   * `intent`: what the turn's closing phrase raises (latency is timed on it);
   * `alsoRaises`: intents of earlier words in the turn, expected but not timed.
   */
  readonly turns: readonly (Turn & { readonly intent?: string; readonly alsoRaises?: readonly string[] })[];
}

/**
 * Four calls of 20–30 s each: a cancellation with an order number, an
 * escalation to a manager, a refund then a closed account, and a legal threat.
 * Intents are the grammar's (grammars/en-US); every intent phrase ends its turn.
 */
export const FIXTURE_SCRIPTS: readonly FixtureScript[] = [
  {
    name: 'cancel',
    turns: [
      { speaker: 'agent', text: 'Thank you for calling, how can I help you today?' },
      { speaker: 'customer', text: 'Hello. I would like to cancel my order.', intent: 'cancel_order' },
      { speaker: 'agent', text: 'Of course. Can I have the order number please?' },
      { speaker: 'customer', text: 'The order number is four five six seven.' },
      { speaker: 'agent', text: 'Thank you. That order has been cancelled.' },
      { speaker: 'customer', text: 'Great, thank you very much. Goodbye.' },
    ],
  },
  {
    name: 'escalation',
    turns: [
      { speaker: 'agent', text: 'Good afternoon, you are speaking with Sam.' },
      { speaker: 'customer', text: 'Hi. Where is my order?', intent: 'order_status' },
      { speaker: 'agent', text: 'Let me check the tracking for you.' },
      { speaker: 'customer', text: 'This is the third time I am calling.', intent: 'repeat_contact' },
      { speaker: 'agent', text: 'I am sorry about that. It is still in the warehouse.' },
      // "This is ridiculous" is a complaint by the grammars' definition (docs/grammars.md).
      { speaker: 'customer', text: 'This is ridiculous. I want to speak to your manager.', gainDb: 9, intent: 'speak_to_manager', alsoRaises: ['complaint'] },
      { speaker: 'agent', text: 'I understand. I will get my supervisor.' },
    ],
  },
  {
    name: 'refund',
    turns: [
      { speaker: 'agent', text: 'Hello, how can I help?' },
      { speaker: 'customer', text: 'The headphones are broken and I want a refund.', intent: 'refund_request' },
      { speaker: 'agent', text: 'I am sorry to hear that. I will arrange the refund today.' },
      { speaker: 'customer', text: 'Thank you. And please close my account.', intent: 'close_account' },
      { speaker: 'agent', text: 'I can help you with that as well.' },
    ],
  },
  {
    name: 'legal',
    turns: [
      { speaker: 'agent', text: 'Hello, what can I do for you?' },
      { speaker: 'customer', text: 'My invoice is wrong again.' },
      { speaker: 'agent', text: 'Let me have a look at it.' },
      { speaker: 'customer', text: 'If this is not fixed today I will contact my lawyer.', intent: 'legal_threat' },
      { speaker: 'agent', text: 'I understand. I will correct the invoice now.' },
    ],
  },
];

export interface FixturePhrase {
  readonly leg: Speaker;
  readonly text: string;
  /** The intent the phrase should raise, if any. */
  readonly intent: string | undefined;
  /** Intents earlier words of the turn raise: expected, not timed. */
  readonly alsoRaises: readonly string[];
  /** Turn position on the leg's timeline (ms from the leg's first sample). */
  readonly startMs: number;
  readonly endMs: number;
}

export interface Fixture {
  readonly name: string;
  readonly sampleRate: 8000 | 16000;
  readonly legs: Readonly<Record<Speaker, Int16Array>>;
  /** Every turn, in order; the ones with `intent` are what latency is measured on. */
  readonly phrases: readonly FixturePhrase[];
  readonly durationMs: number;
}

/** Synthesises every script at `sampleRate` (flite + sox; a few seconds, in parallel). */
export async function renderFixtures(sampleRate: 8000 | 16000, scripts: readonly FixtureScript[] = FIXTURE_SCRIPTS): Promise<Fixture[]> {
  return Promise.all(
    scripts.map(async (script) => {
      // Telephone level (-10 dB) leaves room for the raised-voice turn, as in the demo.
      const call = await renderCall(script.turns, { rate: sampleRate, voices: { customer: 'slt', agent: 'rms' }, gainDb: -10, leadMs: 300, tailMs: 1200 });
      const phrases = call.turns.map((turn, i) => ({ leg: turn.speaker, text: turn.text, intent: script.turns[i]?.intent, alsoRaises: script.turns[i]?.alsoRaises ?? [], startMs: turn.startMs, endMs: turn.endMs }));
      return { name: script.name, sampleRate, legs: call.legs, phrases, durationMs: (call.legs.customer.length / sampleRate) * 1000 };
    }),
  );
}
