import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { tokenize } from '../../../src/analytics/grammar/phrase.js';
import { ANGER_LEXICON, SENTIMENT_LEXICON } from '../../../src/analytics/sentiment/lexicon.js';
import { angerCues, scoreSentiment, type SentimentScore } from '../../../src/analytics/sentiment/sentiment.js';
import type { Language } from '../../../src/language.js';
import { prng } from '../../helpers/prng.js';

const score = (text: string, language: Language): SentimentScore => scoreSentiment(tokenize(text), language);
const label = (text: string, language: Language): SentimentScore['label'] => score(text, language).label;

describe('scoreSentiment', () => {
  test('English polarity', () => {
    const cases: [string, SentimentScore['label']][] = [
      ['i am very happy with the service', 'positive'],
      ['thank you so much you have been really helpful', 'positive'],
      ['great', 'positive'],
      ['this is terrible', 'negative'],
      ['the package never arrived and nobody helps me', 'negative'],
      ['my order is broken and the driver was rude', 'negative'],
      ['i would like to cancel my order', 'neutral'],
      ['where is my order', 'neutral'],
      ['okay', 'neutral'],
      ['', 'neutral'],
    ];
    for (const [text, expected] of cases) assert.equal(label(text, 'en-US'), expected, text);
  });

  test('Dutch polarity', () => {
    const cases: [string, SentimentScore['label']][] = [
      ['ik ben heel blij met jullie service', 'positive'],
      ['dank je wel voor de hulp', 'positive'],
      ['super goed geholpen', 'positive'],
      ['dit is echt waardeloos', 'negative'],
      ['het pakket is nog steeds niet aangekomen', 'negative'],
      ['het werkt niet', 'negative'],
      ['ik wil mijn bestelling annuleren', 'neutral'],
      ['waar blijft mijn pakket', 'neutral'],
    ];
    for (const [text, expected] of cases) assert.equal(label(text, 'nl-NL'), expected, text);
  });

  test('negation flips and damps', () => {
    const happy = score('i am happy', 'en-US');
    const notHappy = score('i am not happy', 'en-US');
    assert.ok(happy.score > 0.3);
    assert.ok(notHappy.score < -0.2);
    assert.deepEqual(notHappy.hits, ['not happy']);
    assert.equal(label("i don't like it i'm not satisfied", 'en-US'), 'negative');
    assert.equal(label('this is not bad at all', 'en-US'), 'positive');
    assert.equal(label('never again', 'en-US'), 'negative');

    assert.equal(label('ik ben niet blij', 'nl-NL'), 'negative');
    assert.deepEqual(score('ik ben niet blij', 'nl-NL').hits, ['niet blij']);
    assert.equal(label('ik ben niet tevreden', 'nl-NL'), 'negative');
    assert.equal(label('geen probleem', 'nl-NL'), 'positive');
    assert.equal(label('niet slecht', 'nl-NL'), 'positive');
    assert.ok(score('ik heb geen enkel probleem gehad', 'nl-NL').score > 0);
    // A negated complaint is calm, not glad.
    assert.equal(label('ik ben niet boos', 'nl-NL'), 'neutral');
    assert.equal(label("i'm not angry", 'en-US'), 'neutral');
    // "no" reaches only the next word: "no, it's great" stays positive.
    assert.equal(label("no it's great", 'en-US'), 'positive');
  });

  test('intensifiers strengthen, softeners weaken', () => {
    assert.ok(score('very happy', 'en-US').score > score('happy', 'en-US').score);
    assert.ok(score('really terrible', 'en-US').score < score('terrible', 'en-US').score);
    assert.ok(score('a bit disappointed', 'en-US').score > score('disappointed', 'en-US').score);
    assert.ok(score('heel blij', 'nl-NL').score > score('blij', 'nl-NL').score);
    assert.ok(score('erg slecht', 'nl-NL').score < score('slecht', 'nl-NL').score);
    assert.ok(score('echt blij', 'nl-NL').score > score('blij', 'nl-NL').score);
    // The intensifier is not counted as a term of its own.
    assert.deepEqual(score('super blij', 'nl-NL').hits, ['blij']);
  });

  test('what follows "but" / "maar" decides', () => {
    assert.equal(label('it was late but the driver was great', 'en-US'), 'positive');
    assert.equal(label('the driver was great but the package was broken', 'en-US'), 'negative');
    assert.equal(label('het was laat maar de bezorger was heel vriendelijk', 'nl-NL'), 'positive');
  });

  test('scores stay within -1..1 and saturate', () => {
    const many = score('great '.repeat(50), 'en-US');
    assert.ok(many.score <= 1 && many.score > 0.95);
    const awful = score('terrible awful horrible worst nightmare '.repeat(10), 'en-US');
    assert.ok(awful.score >= -1 && awful.score < -0.95);
  });

  test('diacritics and apostrophes are folded', () => {
    assert.equal(label('ik ben geïrriteerd', 'nl-NL'), 'negative');
    assert.equal(label('ik ben geirriteerd', 'nl-NL'), 'negative');
    assert.equal(scoreSentiment(['it', 'doesn\u2019t', 'work'], 'en-US').label, 'negative');
  });
});

describe('angerCues', () => {
  test('English cues with weights and token spans', () => {
    const tokens = tokenize("this is ridiculous, i'm sick and tired of waiting, what a waste of time");
    const cues = angerCues(tokens, 'en-US');
    assert.deepEqual(
      cues.map((c) => [c.term, c.start, c.end]),
      [
        ['ridiculous', 2, 3],
        ['sick and tired', 4, 7],
        ['waste of time', 11, 14],
      ],
    );
    for (const c of cues) assert.ok(c.weight > 0 && c.weight <= 1);
    assert.deepEqual(angerCues(tokenize('this is unacceptable i want to speak to a manager'), 'en-US').map((c) => c.term), ['unacceptable', 'speak to a manager']);
    assert.deepEqual(angerCues(tokenize("i'm fed up, this is bullshit"), 'en-US').map((c) => c.term), ['fed up', 'bullshit']);
  });

  test('Dutch cues', () => {
    assert.deepEqual(angerCues(tokenize('dit is belachelijk, ik ben het zat'), 'nl-NL').map((c) => c.term), ['belachelijk', 'ik ben het zat']);
    assert.deepEqual(angerCues(tokenize('schandalig en onacceptabel, ik ben woedend'), 'nl-NL').map((c) => c.term), ['schandalig', 'onacceptabel', 'woedend']);
    assert.deepEqual(angerCues(tokenize('voor de zoveelste keer, ik word er gek van'), 'nl-NL').map((c) => c.term), ['voor de zoveelste keer', 'ik word er gek van']);
  });

  test('longest match, intensified weight, negation removes the cue', () => {
    const [plain] = angerCues(['ridiculous'], 'en-US');
    const [strong] = angerCues(['really', 'ridiculous'], 'en-US');
    assert.ok(plain !== undefined && strong !== undefined && strong.weight > plain.weight);
    assert.equal(angerCues(tokenize('absolutely ridiculous'), 'en-US')[0]?.term, 'absolutely ridiculous');
    assert.deepEqual(angerCues(tokenize("i'm not angry"), 'en-US'), []);
    assert.deepEqual(angerCues(tokenize('ik ben niet boos'), 'nl-NL'), []);
    assert.deepEqual(angerCues(tokenize('where is my order'), 'en-US'), []);
    assert.deepEqual(angerCues(tokenize('waar is mijn bestelling'), 'nl-NL'), []);
  });
});

describe('lexicons', () => {
  test('well-formed: lower case, single spaces, values in range', () => {
    for (const language of ['en-US', 'nl-NL'] as const) {
      for (const [term, value] of SENTIMENT_LEXICON[language]) {
        assert.match(term, /^[\p{Ll}'-]+( [\p{Ll}'-]+)*$/u, term);
        assert.ok(value >= -1 && value <= 1 && value !== 0, term);
      }
      for (const [term, weight] of ANGER_LEXICON[language]) {
        assert.match(term, /^[\p{Ll}'-]+( [\p{Ll}'-]+)*$/u, term);
        assert.ok(weight > 0 && weight <= 1, term);
      }
    }
    const total = [...Object.values(SENTIMENT_LEXICON), ...Object.values(ANGER_LEXICON)].reduce((n, m) => n + m.size, 0);
    assert.ok(total >= 300, `${total} entries`);
  });
});


describe('fuzz: sentiment never throws', () => {
  test('20,000 random token arrays (bounded in time)', () => {
    const vocabulary = [
      ...'not very happy but no never great terrible fed up sick of and tired waste of time ridiculous really a bit'.split(' '),
      ...'niet heel blij maar geen probleem ik ben het zat belachelijk echt erg super boos geïrriteerd'.split(' '),
      '', "n't", "don't", '\u0301', 'e\u0301', '\ud800',
    ];
    const random = prng(7);
    const deadline = Date.now() + 20_000;
    let runs = 0;
    for (; runs < 20_000 && Date.now() < deadline; runs++) {
      const tokens = Array.from({ length: Math.floor(random() * 16) }, () =>
        random() < 0.9 ? (vocabulary[Math.floor(random() * vocabulary.length)] ?? '') : String.fromCharCode(Math.floor(random() * 0xffff)),
      );
      const language: Language = random() < 0.5 ? 'en-US' : 'nl-NL';
      const s = scoreSentiment(tokens, language);
      assert.ok(Number.isFinite(s.score) && s.score >= -1 && s.score <= 1, JSON.stringify(tokens));
      for (const c of angerCues(tokens, language)) assert.ok(c.weight >= 0 && c.weight <= 1 && c.end > c.start && c.end <= tokens.length);
    }
    assert.ok(runs >= 1000, `only ${runs} fuzz runs in the time budget`);
    assert.doesNotThrow(() => scoreSentiment(null as unknown as string[], 'xx' as Language));
    assert.doesNotThrow(() => angerCues([1, undefined, {}] as unknown as string[], 'nl-NL'));
  });
});
