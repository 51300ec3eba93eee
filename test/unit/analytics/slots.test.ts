import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseSlotAt, type SlotType } from '../../../src/analytics/entities/slots.js';
import type { Language } from '../../../src/language.js';

type Case = [text: string, value: string | undefined, end?: number];

function check(type: SlotType, language: Language, cases: readonly Case[]): void {
  for (const [text, value, end] of cases) {
    const tokens = text.split(' ');
    const slot = parseSlotAt(type, tokens, 0, language);
    assert.equal(slot?.value, value, `${type} ${language} "${text}"`);
    if (end !== undefined) assert.equal(slot?.end, end, `${type} ${language} "${text}" end`);
  }
}

describe('order_number slot', () => {
  test('digit runs of 3..20 digits, spoken or written', () => {
    check('order_number', 'en-US', [
      ['four five six seven', '4567', 4],
      ['forty five sixty seven', '4567', 4],
      ['four five six seven please', '4567', 4],
      ['one two three', '123', 3],
      ['oh one two three', '0123', 4],
      ['double four five six', '4456', 4],
      ['45 67', '4567', 2],
      ['4567', '4567', 1],
      ['one hundred twenty three four five six', '123456', 7],
      ['one two', undefined],
      ['one two three four five six seven eight nine zero one two three four five six seven eight nine zero one', undefined],
      ['hello', undefined],
    ]);
    check('order_number', 'nl-NL', [
      ['vier vijf zes zeven', '4567', 4],
      ['vijfenveertig zevenenzestig', '4567', 2],
      ['nul zes een twee', '0612', 4],
      ['een twee drie', '123', 3],
    ]);
  });

  test('letters spelled before the digits', () => {
    check('order_number', 'en-US', [
      ['a b c one two three', 'ABC123', 6],
      ['x y one two three four', 'XY1234', 6],
      ['abc123', 'ABC123', 1],
      ['a four five six', undefined], // "a" is the article, and the slot must start here
    ]);
    assert.deepEqual(parseSlotAt('order_number', ['is', 'a', 'four', 'five', 'six'], 2, 'en-US'), { end: 5, value: '456' });
  });
});

describe('amount slot', () => {
  test('English amounts', () => {
    check('amount', 'en-US', [
      ['twenty five euros', '25.00 EUR', 3],
      ['twenty five dollars and fifty cents', '25.50 USD', 6],
      ['five euros fifty', '5.50 EUR', 3],
      ['a dollar fifty', '1.50 USD', 3],
      ['fifty cents', '0.50', 2],
      ['twenty five point five zero euros', '25.50 EUR', 6],
      ['one thousand two hundred and five dollars', '1205.00 USD', 7],
      ['eur 25', '25.00 EUR', 2],
      ['25 euros', '25.00 EUR', 2],
      ['twenty five', '25.00', 2],
      ['five euros and two tickets', '5.00 EUR', 2],
      ['ten pounds', '10.00 GBP', 2],
      ['euros', undefined],
      ['the', undefined],
    ]);
  });

  test('Dutch amounts', () => {
    check('amount', 'nl-NL', [
      ['twintig euro vijftig', '20.50 EUR', 3],
      ['euro vijftig', '1.50 EUR', 2],
      ['een euro', '1.00 EUR', 2],
      ['vijftig cent', '0.50 EUR', 2],
      ['vijfentwintig euro', '25.00 EUR', 2],
      ['vijfentwintig komma vijftig euro', '25.50 EUR', 4],
      ['twintig euro en vijftig cent', '20.50 EUR', 5],
      ["honderdvijftig euro's", '150.00 EUR', 2],
      ['tweeduizend euro', '2000.00 EUR', 2],
      ['een', undefined],
    ]);
  });
});

describe('date slot', () => {
  test('English dates', () => {
    check('date', 'en-US', [
      ['march third', '--03-03', 2],
      ['march the third', '--03-03', 3],
      ['march 3rd', '--03-03', 2],
      ['the third of march', '--03-03', 4],
      ['third of march', '--03-03', 3],
      ['3 march', '--03-03', 2],
      ['june twenty first', '--06-21', 3],
      ['june twenty-first', '--06-21', 2],
      ['june twenty one', '--06-21', 3],
      ['march twenty first twenty twenty five', '2025-03-21', 6],
      ['december thirty first two thousand twenty four', '2024-12-31', 7],
      ['january', '--01', 1],
      ['today', '+0d', 1],
      ['tomorrow', '+1d', 1],
      ['yesterday', '-1d', 1],
      ['the day after tomorrow', '+2d', 4],
      ['monday', 'weekday:monday', 1],
      ['next friday', 'weekday:friday', 2],
      ['2025-03-03', '2025-03-03', 1],
      ['february thirtieth', undefined],
      ['may i help you', undefined],
      ['may one of us', undefined],
      ['may fifth', '--05-05', 2],
      ['march', undefined],
      ['next', undefined],
      ['the order', undefined],
    ]);
  });

  test('Dutch dates', () => {
    check('date', 'nl-NL', [
      ['3 maart', '--03-03', 2],
      ['drie maart', '--03-03', 2],
      ['drieëntwintig maart', '--03-23', 2],
      ['drie en twintig maart', '--03-23', 4],
      ['de derde maart', '--03-03', 3],
      ['de eenentwintigste van maart', '--03-21', 4],
      ['3e mei', '--05-03', 2],
      ['1 januari tweeduizend vijfentwintig', '2025-01-01', 4],
      ['maart', '--03', 1],
      ['morgen', '+1d', 1],
      ['overmorgen', '+2d', 1],
      ['gisteren', '-1d', 1],
      ['eergisteren', '-2d', 1],
      ['vandaag', '+0d', 1],
      ['maandag', 'weekday:monday', 1],
      ['volgende week', undefined],
      ['volgende woensdag', 'weekday:wednesday', 2],
      ['dertig februari', undefined],
    ]);
    // "goede morgen" is a greeting, not tomorrow.
    assert.equal(parseSlotAt('date', ['goede', 'morgen'], 1, 'nl-NL'), undefined);
  });
});

describe('number slot', () => {
  test('digits as spoken or the cardinal', () => {
    check('number', 'en-US', [
      ['four five six seven', '4567', 4],
      ['twenty five', '25', 2],
      ['one thousand two hundred and five', '1205', 6],
      ['twenty five point five', '25.5', 4],
      ['the', undefined],
    ]);
    check('number', 'nl-NL', [
      ['nul zes', '06', 2],
      ['vijfenveertig', '45', 1],
    ]);
  });

  test('bad positions and types give undefined, never throw', () => {
    const tokens = ['four', 'five'];
    for (const start of [-1, 2, 99, 0.5, Number.NaN]) {
      for (const type of ['order_number', 'amount', 'date', 'number'] as const) {
        assert.equal(parseSlotAt(type, tokens, start, 'en-US'), undefined);
      }
    }
    assert.equal(parseSlotAt('nonsense' as SlotType, tokens, 0, 'en-US'), undefined);
    assert.equal(parseSlotAt('number', [], 0, 'nl-NL'), undefined);
  });
});
