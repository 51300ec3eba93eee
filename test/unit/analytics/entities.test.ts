import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { extractEntities, type Entity } from '../../../src/analytics/entities/extract.js';
import { parseCardinalAt, parseDigitRunAt, parseNumberAt, parseOrdinalAt } from '../../../src/analytics/entities/numbers.js';
import { parseSlotAt, type SlotType } from '../../../src/analytics/entities/slots.js';
import { tokenize } from '../../../src/analytics/grammar/phrase.js';
import type { Language } from '../../../src/language.js';
import { prng } from '../../helpers/prng.js';

type NumberCase = [text: string, digits: string | undefined, value?: number, end?: number];

function checkNumbers(language: Language, cases: readonly NumberCase[]): void {
  for (const [text, digits, value, end] of cases) {
    const tokens = text.split(' ');
    const span = parseNumberAt(tokens, 0, language);
    assert.equal(span?.digits, digits, `${language} "${text}" digits`);
    if (digits === undefined) continue;
    assert.equal(span?.value, value, `${language} "${text}" value`);
    assert.equal(span?.kind, value === undefined ? 'digits' : 'cardinal', `${language} "${text}" kind`);
    assert.equal(span?.end, end ?? tokens.length, `${language} "${text}" end`);
  }
}

describe('parseNumberAt, English', () => {
  test('digit by digit', () => {
    checkNumbers('en-US', [
      ['four five six seven', '4567'],
      ['zero six one two', '0612'],
      ['oh six one two', '0612'],
      ['o one', '01'],
      ['double five', '55'],
      ['four double five six', '4556'],
      ['triple seven one', '7771'],
      ['one two three four five six seven eight nine zero', '1234567890'],
    ]);
  });

  test('group readings as on the phone', () => {
    checkNumbers('en-US', [
      ['forty five sixty seven', '4567'],
      ['forty-five sixty-seven', '4567'],
      ['nineteen ninety nine', '1999'],
      ['twenty twenty five', '2025'],
      ['oh six twelve thirty four', '061234'],
      ['one eight hundred five five five one two one two', '18005551212'],
    ]);
  });

  test('written digits', () => {
    checkNumbers('en-US', [
      ['45 67', '4567'],
      ['4567', '4567', 4567],
      ['06', '06'],
      ['06-12345678', '0612345678'],
      ['0', '0', 0],
      ['25 thousand', '25000', 25000],
      ['1234567890123456', '1234567890123456'],
    ]);
  });

  test('cardinals', () => {
    checkNumbers('en-US', [
      ['one', '1', 1],
      ['zero', '0', 0],
      ['twenty five', '25', 25],
      ['twenty-five', '25', 25],
      ['twelve hundred', '1200', 1200],
      ['twenty five hundred', '2500', 2500],
      ['one thousand two hundred and five', '1205', 1205],
      ['one thousand and five', '1005', 1005],
      ['two hundred five', '205', 205],
      ['a hundred', '100', 100],
      ['a thousand euros', '1000', 1000, 2],
      ['three million four hundred thousand', '3400000', 3400000],
      ['two thousand twenty five', '2025', 2025],
      ['nine hundred ninety nine million nine hundred ninety nine thousand nine hundred ninety nine', '999999999', 999999999],
    ]);
  });

  test('decimals', () => {
    checkNumbers('en-US', [
      ['twenty five point five', '25.5', 25.5],
      ['twenty five point five zero', '25.50', 25.5],
      ['zero point seven five', '0.75', 0.75],
      ['twenty five point', '25', 25, 2],
    ]);
  });

  test('stops before ordinary words, and ordinary words are no numbers', () => {
    checkNumbers('en-US', [
      ['one i ordered', '1', 1, 1],
      ['twenty five euros', '25', 25, 2],
      ['two hundred and', '200', 200, 2],
      ['a', undefined],
      ['a lot', undefined],
      ['oh', undefined],
      ['oh i see', undefined],
      ['and', undefined],
      ['hundreds', undefined],
      ['double', undefined],
      ['double check', undefined],
      ['point', undefined],
      ['', undefined],
    ]);
    // "the one I ordered": one is a cardinal 1 of one token.
    assert.deepEqual(parseNumberAt(['the', 'one', 'i', 'ordered'], 1, 'en-US'), { start: 1, end: 2, digits: '1', value: 1, kind: 'cardinal' });
    assert.equal(parseNumberAt(['the', 'one'], 0, 'en-US'), undefined);
  });
});

describe('parseNumberAt, Dutch', () => {
  test('digit by digit', () => {
    checkNumbers('nl-NL', [
      ['vier vijf zes zeven', '4567'],
      ['nul zes een twee', '0612'],
      ['een twee drie', '123'],
      ['één twee drie', '123'],
      ['dubbel nul zeven', '007'],
      ['zes dubbele vier', '644'],
      ['nul zes twaalf vierendertig zesenvijftig achtenzeventig', '0612345678'],
      ['vijfenveertig zevenenzestig', '4567'],
      ['nul zes vijf en veertig', '0645'],
    ]);
  });

  test('cardinals and compounds', () => {
    checkNumbers('nl-NL', [
      ['vijfenveertig', '45', 45],
      ['drieëntwintig', '23', 23],
      ['drieentwintig', '23', 23],
      ['drie-en-twintig', '23', 23],
      ['tweeëntachtig', '82', 82],
      ['eenentwintig', '21', 21],
      ['honderdvijftig', '150', 150],
      ['honderdeneen', '101', 101],
      ['tweeduizend', '2000', 2000],
      ['negentienhonderd', '1900', 1900],
      ['negentienhonderd vijfentachtig', '1985', 1985],
      ['twaalfhonderd', '1200', 1200],
      ['achttien', '18', 18],
      ['zeventig', '70', 70],
      ['vijf en twintig', '25', 25],
      ['tweeduizend vijfentwintig', '2025', 2025],
      ['tweeduizendvierhonderdvijfenveertig', '2445', 2445],
      ['drie miljoen', '3000000', 3000000],
      ['een miljoen', '1000000', 1000000],
      ['een honderd', '100', 100],
      ['honderd', '100', 100],
      ['duizend', '1000', 1000],
      ['één', '1', 1],
      ['vijfentwintig komma vijf', '25.5', 25.5],
    ]);
  });

  test('ordinary words are no numbers', () => {
    checkNumbers('nl-NL', [
      ['een', undefined],
      ['een bestelling', undefined],
      ['een 06 nummer', undefined],
      ['achten', undefined],
      ['en', undefined],
      ['tienen', undefined],
      ['tweede', undefined],
      ['komma', undefined],
    ]);
    // English words are not Dutch numbers and vice versa.
    assert.equal(parseNumberAt(['four'], 0, 'nl-NL'), undefined);
    assert.equal(parseNumberAt(['vier'], 0, 'en-US'), undefined);
  });
});

describe('cardinals, ordinals and digit runs', () => {
  test('parseCardinalAt reads no digit sequences', () => {
    assert.deepEqual(parseCardinalAt(['twenty', 'three', 'twenty', 'twenty'], 0, 'en-US'), { start: 0, end: 2, value: 23 });
    assert.deepEqual(parseCardinalAt(['four', 'five'], 0, 'en-US'), { start: 0, end: 1, value: 4 });
    assert.equal(parseCardinalAt(['oh', 'six'], 0, 'en-US'), undefined);
  });

  test('parseOrdinalAt', () => {
    const cases: [string, Language, number | undefined][] = [
      ['first', 'en-US', 1],
      ['third', 'en-US', 3],
      ['twenty first', 'en-US', 21],
      ['thirty-first', 'en-US', 31],
      ['3rd', 'en-US', 3],
      ['22nd', 'en-US', 22],
      ['first', 'nl-NL', undefined],
      ['eerste', 'nl-NL', 1],
      ['derde', 'nl-NL', 3],
      ['achtste', 'nl-NL', 8],
      ['negentiende', 'nl-NL', 19],
      ['twintigste', 'nl-NL', 20],
      ['eenendertigste', 'nl-NL', 31],
      ['3e', 'nl-NL', 3],
      ['1ste', 'nl-NL', 1],
      ['ende', 'nl-NL', undefined],
      ['de', 'nl-NL', undefined],
    ];
    for (const [text, language, value] of cases) {
      assert.equal(parseOrdinalAt(text.split(' '), 0, language)?.value, value, `${language} ${text}`);
    }
  });

  test('parseDigitRunAt joins numbers dictated in pieces', () => {
    assert.deepEqual(parseDigitRunAt('one hundred twenty three four five six'.split(' '), 0, 'en-US'), { start: 0, end: 7, digits: '123456' });
    assert.deepEqual(parseDigitRunAt('4111 1111 1111 1111'.split(' '), 0, 'en-US'), { start: 0, end: 4, digits: '4111111111111111' });
    assert.equal(parseDigitRunAt(['hello'], 0, 'en-US'), undefined);
  });
});

describe('extractEntities', () => {
  const extract = (text: string, language: Language): Omit<Entity, 'start' | 'end'>[] =>
    extractEntities(tokenize(text), language).map(({ type, value }) => ({ type, value }));

  test('English: order number by context, amount by currency, date by month', () => {
    const tokens = tokenize('my order number is four five six seven and it cost twenty five euros on march third');
    assert.deepEqual(extractEntities(tokens, 'en-US'), [
      { type: 'order_number', value: '4567', start: 4, end: 8 },
      { type: 'amount', value: '25.00 EUR', start: 11, end: 14 },
      { type: 'date', value: '--03-03', start: 15, end: 17 },
    ]);
    assert.deepEqual(extract('i was charged forty nine dollars and ninety nine cents yesterday', 'en-US'), [
      { type: 'amount', value: '49.99 USD' },
      { type: 'date', value: '-1d' },
    ]);
    assert.deepEqual(extract('the order is a b c one two three', 'en-US'), [{ type: 'order_number', value: 'ABC123' }]);
    assert.deepEqual(extract('reference number 98765 please', 'en-US'), [{ type: 'order_number', value: '98765' }]);
  });

  test('Dutch: bestelnummer, ordernummer, euro amounts, relative days', () => {
    assert.deepEqual(extract('mijn bestelnummer is vier vijf zes zeven en het kostte twintig euro vijftig', 'nl-NL'), [
      { type: 'order_number', value: '4567' },
      { type: 'amount', value: '20.50 EUR' },
    ]);
    assert.deepEqual(extract('ordernummer vijfenveertig zevenenzestig graag voor morgen', 'nl-NL'), [
      { type: 'order_number', value: '4567' },
      { type: 'date', value: '+1d' },
    ]);
    assert.deepEqual(extract('het is geleverd op drie maart maar ik betaalde vijftig cent te veel', 'nl-NL'), [
      { type: 'date', value: '--03-03' },
      { type: 'amount', value: '0.50 EUR' },
    ]);
  });

  test('phone numbers by shape', () => {
    assert.deepEqual(extract('call me on oh six one two three four five six seven eight', 'en-US'), [{ type: 'phone', value: '0612345678' }]);
    assert.deepEqual(extract('bel me op nul zes twaalf vierendertig zesenvijftig achtenzeventig', 'nl-NL'), [{ type: 'phone', value: '0612345678' }]);
    assert.deepEqual(extract('plus drie een zes een twee drie vier vijf zes zeven acht', 'nl-NL'), [{ type: 'phone', value: '+31612345678' }]);
    assert.deepEqual(extract('my number is 555 123 4567', 'en-US'), [{ type: 'phone', value: '5551234567' }]);
  });

  test('ordinary numbers are no entities', () => {
    assert.deepEqual(extract('i ordered three items and two of them broke', 'en-US'), []);
    assert.deepEqual(extract('four five six seven', 'en-US'), []); // no context: just a number
    assert.deepEqual(extract('ik wil een bestelling annuleren', 'nl-NL'), []);
    assert.deepEqual(extract('may i speak to someone about the one i ordered', 'en-US'), []);
    // The tail of a long run is not re-read as a phone number.
    assert.deepEqual(extract('one two three four five six seven eight nine one two three four', 'en-US'), []);
    assert.deepEqual(extractEntities([], 'en-US'), []);
  });

  test('entities do not overlap and are in order', () => {
    const tokens = tokenize('order 1234 tomorrow for 10 euros order number 5678 on 3 march and call 0612345678');
    const entities = extractEntities(tokens, 'en-US');
    assert.deepEqual(
      entities.map((e) => e.type),
      ['order_number', 'date', 'amount', 'order_number', 'date', 'phone'],
    );
    for (let k = 1; k < entities.length; k++) assert.ok((entities[k]?.start ?? 0) >= (entities[k - 1]?.end ?? 0));
  });
});


const FUZZ_WORDS = [
  ...'zero oh o one two three four five six seven eight nine ten eleven twelve twenty forty ninety hundred thousand million billion and a an point double triple'.split(' '),
  ...'nul een één twee drie vier vijf zes zeven acht negen tien elf twaalf twintig vijfenveertig drieëntwintig honderd duizend miljoen en komma dubbel'.split(' '),
  ...'euro euros eur dollar dollars cent cents the of de van march may maart mei monday maandag morgen tomorrow next volgende order number bestelnummer plus is'.split(' '),
  ...'third first derde eerste 3rd 3e 21st 0 06 45 4567 06-12345678 2025-02-29 2024-02-29 99999999999999999999 - -- \'s x abc123'.split(' '),
  '',
  'a'.repeat(70),
  '9'.repeat(70),
  'tweeduizendvierhonderdvijfenveertig',
  'honderdhonderd',
  'enenen',
];

describe('fuzz: numbers, slots and entities never throw', () => {
  test('20,000 random token arrays (bounded in time)', () => {
    const random = prng(20240601);
    const pick = (): string => {
      const r = random();
      if (r < 0.85) return FUZZ_WORDS[Math.floor(random() * FUZZ_WORDS.length)] ?? '';
      // Random code points, including surrogates and combining marks.
      return String.fromCharCode(...Array.from({ length: 1 + Math.floor(random() * 6) }, () => Math.floor(random() * 0xffff)));
    };
    const types: SlotType[] = ['order_number', 'amount', 'date', 'number'];
    const deadline = Date.now() + 20_000;
    let runs = 0;
    for (; runs < 20_000 && Date.now() < deadline; runs++) {
      const tokens = Array.from({ length: Math.floor(random() * 14) }, pick);
      const language: Language = random() < 0.5 ? 'en-US' : 'nl-NL';
      const start = Math.floor(random() * (tokens.length + 2)) - 1;
      const span = parseNumberAt(tokens, start, language);
      if (span !== undefined) {
        assert.ok(span.end > span.start && span.end <= tokens.length, JSON.stringify(tokens));
        assert.ok(span.kind === 'digits' || Number.isFinite(span.value), JSON.stringify(tokens));
      }
      parseCardinalAt(tokens, start, language);
      parseOrdinalAt(tokens, start, language);
      parseDigitRunAt(tokens, start, language);
      for (const type of types) {
        const slot = parseSlotAt(type, tokens, start, language);
        if (slot !== undefined) assert.ok(slot.end > start && slot.end <= tokens.length, `${type} ${JSON.stringify(tokens)}`);
      }
      let previousEnd = 0;
      for (const e of extractEntities(tokens, language)) {
        assert.ok(e.start >= previousEnd && e.end > e.start && e.end <= tokens.length, JSON.stringify(tokens));
        previousEnd = e.end;
      }
    }
    assert.ok(runs >= 1000, `only ${runs} fuzz runs in the time budget`);
    // Values that break the static types must not throw either.
    const junk = [null, undefined, 42, {}, ['x', 1], Symbol('s')] as unknown as string[];
    assert.doesNotThrow(() => parseNumberAt(junk, 0, 'en-US'));
    assert.doesNotThrow(() => extractEntities(junk, 'xx-XX' as Language));
    assert.doesNotThrow(() => parseSlotAt('date', junk, 1, 'nl-NL'));
  });

  test('a long transcript is handled in linear-ish time', () => {
    const tokens = Array.from({ length: 20_000 }, (_, k) => FUZZ_WORDS[k % FUZZ_WORDS.length] ?? '');
    const t0 = performance.now();
    extractEntities(tokens, 'en-US');
    extractEntities(tokens, 'nl-NL');
    assert.ok(performance.now() - t0 < 5000);
  });
});
