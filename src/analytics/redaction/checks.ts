/**
 * Check-digit and shape rules for personal data in digit strings. Each
 * function takes normalized input (digits only, or upper-case alphanumerics
 * for IBANs) and never throws.
 */

/** Luhn (ISO/IEC 7812) check of a digit string, as used by payment cards. */
export function luhnValid(digits: string): boolean {
  if (!/^\d+$/.test(digits)) return false;
  let sum = 0;
  let double = false;
  for (let i = digits.length - 1; i >= 0; i--) {
    let d = digits.charCodeAt(i) - 48;
    if (double) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    double = !double;
  }
  return sum % 10 === 0;
}

/**
 * A payment card number: 13 to 19 digits (ISO/IEC 7812), not starting with 0
 * (no issuer range does), passing Luhn, and not all one digit, whose Luhn
 * pass would be luck ("0000 0000 0000 0000").
 */
export function isCardNumber(digits: string): boolean {
  return digits.length >= 13 && digits.length <= 19 && /^[1-9]\d+$/.test(digits) && !/^(\d)\1+$/.test(digits) && luhnValid(digits);
}

/**
 * IBAN lengths per country (ISO 13616 registry, SWIFT). A country not listed
 * is accepted at any length from 15 to 34 when the check digits hold.
 */
export const IBAN_LENGTHS: ReadonlyMap<string, number> = new Map([
  ['AD', 24], ['AE', 23], ['AL', 28], ['AT', 20], ['AZ', 28], ['BA', 20], ['BE', 16], ['BG', 22],
  ['BH', 22], ['BR', 29], ['BY', 28], ['CH', 21], ['CR', 22], ['CY', 28], ['CZ', 24], ['DE', 22],
  ['DK', 18], ['DO', 28], ['EE', 20], ['EG', 29], ['ES', 24], ['FI', 18], ['FO', 18], ['FR', 27],
  ['GB', 22], ['GE', 22], ['GI', 23], ['GL', 18], ['GR', 27], ['GT', 28], ['HR', 21], ['HU', 28],
  ['IE', 22], ['IL', 23], ['IQ', 23], ['IS', 26], ['IT', 27], ['JO', 30], ['KW', 30], ['KZ', 20],
  ['LB', 28], ['LC', 32], ['LI', 21], ['LT', 20], ['LU', 20], ['LV', 21], ['LY', 25], ['MC', 27],
  ['MD', 24], ['ME', 22], ['MK', 19], ['MR', 27], ['MT', 31], ['MU', 30], ['NL', 18], ['NO', 15],
  ['PK', 24], ['PL', 28], ['PS', 29], ['PT', 25], ['QA', 29], ['RO', 24], ['RS', 22], ['SA', 24],
  ['SC', 31], ['SE', 24], ['SI', 19], ['SK', 24], ['SM', 27], ['ST', 25], ['SV', 28], ['TL', 23],
  ['TN', 24], ['TR', 26], ['UA', 29], ['VA', 22], ['VG', 24], ['XK', 20],
]);

/** ISO 13616 mod-97 check of an upper-case IBAN without spaces, with the country's length. */
export function ibanValid(iban: string): boolean {
  if (!/^[A-Z]{2}\d{2}[A-Z0-9]{11,30}$/.test(iban)) return false;
  const expected = IBAN_LENGTHS.get(iban.slice(0, 2));
  if (expected !== undefined && iban.length !== expected) return false;
  // Move the first four characters to the end, letters become 10..35, and
  // reduce mod 97 piecewise so no big integers are needed.
  const rearranged = iban.slice(4) + iban.slice(0, 4);
  let remainder = 0;
  for (const ch of rearranged) {
    const code = ch.charCodeAt(0);
    const value = code >= 65 ? code - 55 : code - 48;
    remainder = value >= 10 ? (remainder * 100 + value) % 97 : (remainder * 10 + value) % 97;
  }
  return remainder === 1;
}

/**
 * Dutch citizen service number (BSN): 9 digits passing the 11-proef
 * (9·d1 + 8·d2 + … + 2·d8 − 1·d9 divisible by 11), not all zeros.
 */
export function bsnValid(digits: string): boolean {
  if (!/^\d{9}$/.test(digits) || /^0+$/.test(digits)) return false;
  let sum = 0;
  for (let i = 0; i < 8; i++) sum += (9 - i) * (digits.charCodeAt(i) - 48);
  sum -= digits.charCodeAt(8) - 48;
  return sum % 11 === 0;
}

/**
 * The phone number a digit string is, normalized, or `undefined`.
 * `international` says a "+" or "plus" came before the digits.
 *
 * - international (+ or 00 prefix): E.164, 8 to 15 digits; +31 needs 9
 *   national digits (a spoken "(0)" after 31 is dropped), +1 needs 10;
 *   normalized as "+<digits>";
 * - Dutch national: 10 digits starting with 0 then not 0 ("0612345678");
 * - North American: 10 digits not starting with 0 or 1, or 11 starting with
 *   1 ("18005551212"); area-code rules beyond that are not checked, since
 *   "555" and test numbers are dictated too.
 */
export function phoneNumber(digits: string, international: boolean): string | undefined {
  if (!/^\d+$/.test(digits)) return undefined;
  if (!international && digits.startsWith('00')) return phoneNumber(digits.slice(2), true);
  if (international) {
    let d = digits;
    if (d.startsWith('310') && d.length === 12) d = `31${d.slice(3)}`;
    if (d.startsWith('31') && d.length !== 11) return undefined;
    if (d.startsWith('1') && d.length !== 11) return undefined;
    if (d.startsWith('0') || d.length < 8 || d.length > 15) return undefined;
    return `+${d}`;
  }
  if (digits.length === 10 && /^0[1-9]/.test(digits)) return digits;
  if (digits.length === 10 && /^[2-9]/.test(digits)) return digits;
  if (digits.length === 11 && /^1[2-9]/.test(digits)) return digits;
  return undefined;
}
