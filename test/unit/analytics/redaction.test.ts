import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { bsnValid, ibanValid, isCardNumber, luhnValid, phoneNumber } from '../../../src/analytics/redaction/checks.js';
import { PII_TYPES, redactForLog, redactTranscript, type PiiType } from '../../../src/analytics/redaction/redact.js';
import type { Language } from '../../../src/language.js';
import { prng } from '../../helpers/prng.js';

type Case = [input: string, expected: string];

function check(language: Language, cases: readonly Case[], types?: ReadonlySet<PiiType>): void {
  for (const [input, expected] of cases) {
    assert.equal(redactTranscript(input, language, types === undefined ? undefined : { types }).text, expected, `${language} "${input}"`);
  }
}

describe('check digits', () => {
  test('Luhn and card numbers', () => {
    assert.ok(luhnValid('4111111111111111'));
    assert.ok(luhnValid('79927398713'));
    assert.ok(!luhnValid('4111111111111112'));
    assert.ok(!luhnValid('41x1'));
    assert.ok(isCardNumber('4111111111111111'));
    assert.ok(isCardNumber('378282246310005')); // Amex, 15 digits
    assert.ok(isCardNumber('5555555555554444'));
    assert.ok(!isCardNumber('0000000000000000')); // passes Luhn, is no card
    assert.ok(!isCardNumber('79927398713')); // too short
    assert.ok(!isCardNumber('41111111111111111111')); // 20 digits
  });

  test('IBAN mod-97 with the country length', () => {
    for (const iban of ['NL91ABNA0417164300', 'BE68539007547034', 'DE89370400440532013000', 'GB82WEST12345698765432', 'FR1420041010050500013M02606']) {
      assert.ok(ibanValid(iban), iban);
    }
    assert.ok(!ibanValid('NL91ABNA0417164301')); // check digits fail
    assert.ok(!ibanValid('NL91ABNA041716430')); // NL is 18 long
    assert.ok(!ibanValid('nl91abna0417164300')); // callers upper-case first
    assert.ok(!ibanValid(''));
  });

  test('BSN 11-proef', () => {
    assert.ok(bsnValid('111222333'));
    assert.ok(bsnValid('123456782'));
    assert.ok(!bsnValid('111222334'));
    assert.ok(!bsnValid('123456789'));
    assert.ok(!bsnValid('000000000'));
    assert.ok(!bsnValid('11122233'));
  });

  test('phone numbers by length and prefix', () => {
    assert.equal(phoneNumber('0612345678', false), '0612345678');
    assert.equal(phoneNumber('0201234567', false), '0201234567');
    assert.equal(phoneNumber('31612345678', true), '+31612345678');
    assert.equal(phoneNumber('310612345678', true), '+31612345678'); // +31 (0)6 ...
    assert.equal(phoneNumber('0031612345678', false), '+31612345678');
    assert.equal(phoneNumber('5551234567', false), '5551234567');
    assert.equal(phoneNumber('18005551212', false), '18005551212');
    assert.equal(phoneNumber('15551234567', true), '+15551234567');
    assert.equal(phoneNumber('442079460958', true), '+442079460958');
    assert.equal(phoneNumber('3161234567', true), undefined); // +31 needs 9 more digits
    assert.equal(phoneNumber('0012345678', false), undefined);
    assert.equal(phoneNumber('1234567890', false), undefined);
    assert.equal(phoneNumber('4567', false), undefined);
    assert.equal(phoneNumber('061234567', false), undefined);
  });
});

describe('redactTranscript', () => {
  test('cards, written and spoken, only when Luhn holds', () => {
    check('en-US', [
      ['my card is 4111 1111 1111 1111 thanks', 'my card is [card] thanks'],
      ['4111-1111-1111-1111', '[card]'],
      ['amex 3782 822463 10005', 'amex [card]'],
      ['four one one one one one one one one one one one one one one one', '[card]'],
      ['it is forty one eleven eleven eleven eleven eleven eleven eleven', 'it is [card]'],
      ['card 4111 1111 1111 1112', 'card 4111 1111 1111 1112'],
      ['four one one one one one one one one one one one one one one two', 'four one one one one one one one one one one one one one one two'],
    ]);
    check('nl-NL', [['mijn kaart is vier een een een een een een een een een een een een een een een', 'mijn kaart is [card]']]);
  });

  test('IBANs, written and spoken, only when mod-97 holds', () => {
    check('en-US', [
      ['iban NL91ABNA0417164300 please', 'iban [iban] please'],
      ['NL91 ABNA 0417 1643 00', '[iban]'],
      ['nl91abna0417164300', '[iban]'],
      ['to BE68 5390 0754 7034 today', 'to [iban] today'],
      ['n l nine one a b n a zero four one seven one six four three zero zero', '[iban]'],
      ['NL91ABNA0417164301', 'NL91ABNA0417164301'],
      ['NL91 ABNA 0417 1643 01', 'NL91 ABNA 0417 1643 01'],
      ['n l nine one a b n a zero four one seven one six four three zero one', 'n l nine one a b n a zero four one seven one six four three zero one'],
    ]);
    check('nl-NL', [['mijn rekening is n l negen een a b n a nul vier een zeven een zes vier drie nul nul', 'mijn rekening is [iban]']]);
  });

  test('BSNs: 9 digits passing the 11-proef', () => {
    check('nl-NL', [
      ['mijn bsn is 111222333', 'mijn bsn is [bsn]'],
      ['111.222.333', '[bsn]'],
      ['111 222 333', '[bsn]'],
      ['mijn bsn is een een een twee twee twee drie drie drie', 'mijn bsn is [bsn]'],
      ['mijn bsn is 111222334', 'mijn bsn is 111222334'],
      ['een twee drie vier vijf zes zeven acht negen', 'een twee drie vier vijf zes zeven acht negen'],
    ]);
    check('en-US', [['ssn one one one two two two three three three', 'ssn [bsn]']]);
  });

  test('phone numbers, written and spoken', () => {
    check('en-US', [
      ['call +31 6 12345678 now', 'call [phone] now'],
      ['06-12345678', '[phone]'],
      ['(555) 123-4567', '[phone]'],
      ['+1 555 123 4567', '[phone]'],
      ['555-123-4567', '[phone]'],
      ['+31 (0)6 12345678', '[phone]'],
      ['0031 6 12345678', '[phone]'],
      ['+44 20 7946 0958', '[phone]'],
      ['one eight hundred five five five one two one two', '[phone]'],
      ['call me on oh six one two three four five six seven eight', 'call me on [phone]'],
      ['plus three one six one two three four five six seven eight', '[phone]'],
      ['five five five one two three four five six seven', '[phone]'],
    ]);
    check('nl-NL', [
      ['bel me op nul zes een twee drie vier vijf zes zeven acht', 'bel me op [phone]'],
      ['nul zes twaalf vierendertig zesenvijftig achtenzeventig', '[phone]'],
      ['plus eenendertig zes een twee drie vier vijf zes zeven acht', '[phone]'],
      ['bel 020 123 4567', 'bel [phone]'],
    ]);
  });

  test('e-mail addresses, written and spoken', () => {
    check('en-US', [
      ['mail jan@example.com now', 'mail [email] now'],
      ['j.jansen+shop@mail.example.co.uk.', '[email].'],
      ['jan at example dot com', '[email]'],
      ['it is jan dot jansen at gmail dot com thanks', 'it is [email] thanks'],
      ['j a n at example dot com', '[email]'],
      ['jan at example.com', '[email]'],
      ['look at amazon dot com', 'look at amazon dot com'],
      ['i am at home', 'i am at home'],
      ['meet at noon dot', 'meet at noon dot'],
    ]);
    check('nl-NL', [
      ['jan apenstaartje example punt nl', '[email]'],
      ['mijn mail is piet punt jansen apenstaartje ziggo punt nl', 'mijn mail is [email]'],
    ]);
  });

  test('ordinary numbers stay', () => {
    check('en-US', [
      ['order number four five six seven', 'order number four five six seven'],
      ['twenty five euros', 'twenty five euros'],
      ['one thousand two hundred and five dollars', 'one thousand two hundred and five dollars'],
      ['on march third at ten', 'on march third at ten'],
      ['i have 3 items, 4 boxes and 12 bags', 'i have 3 items, 4 boxes and 12 bags'],
      ['nineteen ninety nine', 'nineteen ninety nine'],
      ['my order number is 0612345678', 'my order number is 0612345678'],
      ['', ''],
    ]);
    check('nl-NL', [
      ['bestelnummer vier vijf zes zeven', 'bestelnummer vier vijf zes zeven'],
      ['twintig euro vijftig', 'twintig euro vijftig'],
      ['een twee drie', 'een twee drie'],
    ]);
  });

  test('several findings, counts, and per-type options', () => {
    const text = 'card 4111 1111 1111 1111, mail jan@example.com, call 0612345678 or 0612345679, bsn 111222333';
    const all = redactTranscript(text, 'en-US');
    assert.equal(all.text, 'card [card], mail [email], call [phone] or [phone], bsn [bsn]');
    assert.deepEqual(all.found, [
      { type: 'card', count: 1 },
      { type: 'bsn', count: 1 },
      { type: 'phone', count: 2 },
      { type: 'email', count: 1 },
    ]);
    const onlyEmail = redactTranscript(text, 'en-US', { types: new Set<PiiType>(['email']) });
    assert.equal(onlyEmail.text, 'card 4111 1111 1111 1111, mail [email], call 0612345678 or 0612345679, bsn 111222333');
    assert.deepEqual(onlyEmail.found, [{ type: 'email', count: 1 }]);
    // A spoken IBAN whose type is off stays whole: its digits are not a phone.
    const spokenIban = 'n l nine one a b n a zero four one seven one six four three zero zero';
    assert.equal(redactTranscript(spokenIban, 'en-US', { types: new Set<PiiType>(['phone', 'card', 'bsn']) }).text, spokenIban);
    const none = redactTranscript(text, 'en-US', { types: new Set() });
    assert.deepEqual(none, { text, found: [] });
    assert.equal(redactForLog(text, 'nl-NL'), all.text);
    assert.deepEqual([...PII_TYPES], ['card', 'iban', 'bsn', 'phone', 'email']);
  });
});


const PIECES = [
  ...'one four oh zero nine double plus at dot punt apenstaartje n l a b een nul zes vier twintig hundred point komma'.split(' '),
  ...'4111 1111 0612345678 +31 (0)6 NL91 ABNA 0417 1643 00 111.222.333 @ jan@ @example.com . , - ( ) + \' \\n \\t ‘ ’'.split(' '),
  ' ', ' ', ' ', '@@', '.@.', 'x'.repeat(80), '1'.repeat(80), 'é', '\u0301', '\ud83d\ude00', '\ud800',
];

describe('fuzz: redaction never throws', () => {
  test('20,000 random strings (bounded in time)', () => {
    const random = prng(1337);
    const deadline = Date.now() + 20_000;
    let runs = 0;
    for (; runs < 20_000 && Date.now() < deadline; runs++) {
      const parts = Array.from({ length: Math.floor(random() * 24) }, () =>
        random() < 0.9 ? (PIECES[Math.floor(random() * PIECES.length)] ?? '') : String.fromCharCode(Math.floor(random() * 0xffff)),
      );
      const text = parts.join(random() < 0.5 ? ' ' : '');
      const language: Language = random() < 0.5 ? 'en-US' : 'nl-NL';
      const result = redactTranscript(text, language);
      assert.equal(typeof result.text, 'string');
      for (const f of result.found) assert.ok(f.count > 0 && PII_TYPES.includes(f.type));
      // Redacting twice changes nothing more: placeholders are no PII.
      assert.equal(redactTranscript(result.text, language).text, result.text, JSON.stringify(text));
    }
    assert.ok(runs >= 1000, `only ${runs} fuzz runs in the time budget`);
    assert.doesNotThrow(() => redactTranscript(undefined as unknown as string, 'en-US'));
    assert.doesNotThrow(() => redactTranscript('4111 1111 1111 1111', 'xx' as Language, { types: 'all' as unknown as Set<PiiType> }));
  });

  test('a long input stays fast', () => {
    const long = 'my card is four one one one and call me at jan at example dot com '.repeat(2000) + 'a'.repeat(100_000) + '@';
    const t0 = performance.now();
    redactTranscript(long, 'en-US');
    assert.ok(performance.now() - t0 < 5000);
  });
});
