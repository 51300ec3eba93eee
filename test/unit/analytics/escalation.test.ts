import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { EscalationTracker, type EscalationSignal } from '../../../src/analytics/escalation/EscalationTracker.js';
import { Loudness } from '../../../src/analytics/escalation/Loudness.js';
import { VoiceActivity } from '../../../src/analytics/conversation/VoiceActivity.js';

const signal = (atMs: number, weight: number, kind: EscalationSignal['kind'] = 'anger'): EscalationSignal => ({ kind, atMs, weight, detail: `${kind}@${atMs}` });

describe('escalation score', () => {
  test('signals add up to levels, each change carries its reasons', () => {
    const t = new EscalationTracker({ halfLifeMs: 60_000, minDwellMs: 20_000 });
    assert.equal(t.add(signal(1000, 0.2)), undefined, 'one mild signal stays calm');
    const up = t.add(signal(2000, 0.2, 'raised_voice'));
    assert.equal(up?.level, 'elevated');
    assert.equal(up?.previous, 'calm');
    assert.equal(up?.rising, true);
    assert.deepEqual(up?.reasons.map((r) => r.kind).sort(), ['anger', 'raised_voice']);
    const critical = t.add(signal(3000, 0.6, 'cue'));
    assert.equal(critical?.level, 'critical', 'a big jump can skip a level');
    assert.equal(t.peak.level, 'critical');
  });

  test('hysteresis and dwell: no flapping around a threshold, and decay brings it down in steps', () => {
    const t = new EscalationTracker({ halfLifeMs: 10_000, minDwellMs: 20_000, hysteresis: 0.1, upThresholds: [0.3, 0.6, 0.9] });
    assert.equal(t.add(signal(0, 0.35))?.level, 'elevated');
    // Just below the threshold: within the hysteresis band and the dwell, the level holds.
    assert.equal(t.tick(2_000), undefined);
    assert.equal(t.level, 'elevated');
    // After the dwell time the decayed score (0.35 * 0.5^2.5 = 0.06) is far below 0.3 - 0.1.
    const down = t.tick(25_000);
    assert.equal(down?.level, 'calm');
    assert.equal(down?.rising, false);
    assert.equal(t.peak.level, 'elevated');
  });

  test('repeated small cues close together escalate; the same cues spread over an hour do not', () => {
    const burst = new EscalationTracker({ halfLifeMs: 60_000 });
    for (let i = 0; i < 4; i++) burst.add(signal(i * 5000, 0.15));
    assert.equal(burst.level, 'elevated');
    const spread = new EscalationTracker({ halfLifeMs: 60_000 });
    for (let i = 0; i < 4; i++) spread.add(signal(i * 900_000, 0.15));
    assert.equal(spread.level, 'calm');
  });
});

describe('raised voice', () => {
  test('a rise of 6 dB over the speaker\'s own baseline is reported once until it comes down', () => {
    const l = new Loudness({ baselineMs: 2000, windowMs: 500, raiseDb: 6 });
    for (let i = 0; i < 100; i++) assert.equal(l.pushSpeech(-30 + (i % 3), 20), undefined);
    assert.ok(Math.abs((l.baseline ?? 0) + 29) < 1.5);
    const rises: number[] = [];
    for (let i = 0; i < 100; i++) {
      const r = l.pushSpeech(-21, 20);
      if (r !== undefined) rises.push(r);
    }
    assert.equal(rises.length, 1);
    assert.ok((rises[0] ?? 0) >= 6);
    for (let i = 0; i < 50; i++) l.pushSpeech(-30, 20);
    let again = 0;
    for (let i = 0; i < 50; i++) if (l.pushSpeech(-20, 20) !== undefined) again++;
    assert.equal(again, 1, 'a second shout after calming down counts again');
  });

  test('a loud speaker who is loud all along is not "raised"', () => {
    const l = new Loudness({ baselineMs: 2000, windowMs: 500 });
    let rises = 0;
    for (let i = 0; i < 1000; i++) if (l.pushSpeech(-12, 20) !== undefined) rises++;
    assert.equal(rises, 0);
  });
});

describe('voice activity', () => {
  test('speech above the noise floor counts as talk; pauses shorter than the hangover do not end it', () => {
    const v = new VoiceActivity({ hangoverMs: 300 });
    let t = 0;
    const run = (ms: number, db: number): boolean[] => {
      const out: boolean[] = [];
      for (let i = 0; i < ms / 20; i++, t += 20) out.push(v.push(t, 20, db));
      return out;
    };
    assert.ok(run(1000, -65).every((x) => !x), 'line noise is not speech');
    assert.ok(run(1000, -25).every((x) => x));
    assert.ok(run(200, -65).every((x) => x), 'a short pause keeps the turn');
    assert.ok(run(600, -65).slice(-5).every((x) => !x), 'a long pause ends it');
    assert.equal(v.talkMs, 1000);
  });
});
