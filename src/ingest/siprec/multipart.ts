/**
 * multipart/mixed bodies (RFC 2046 §5.1.1, as RFC 7866 §8 uses them: the
 * SDP offer and the rs-metadata in one INVITE). A small splitter rather than
 * an npm parser: the well-known ones (busboy, parse-multipart-data) only
 * take multipart/form-data, and a SIP body is whole in memory already.
 *
 * @see [RFC 2046 §5.1.1](https://datatracker.ietf.org/doc/html/rfc2046#section-5.1.1)
 */

export interface BodyPart {
  /** Lower-case media type of the part's Content-Type (`text/plain` when absent, §5.1). */
  readonly type: string;
  /** Lower-case Content-Disposition value without parameters (`session`, `recording-session`), if any. */
  readonly disposition: string | undefined;
  readonly content: string;
}

/** Parts past this are ignored: an SRC sends two (SDP and metadata). */
const MAX_PARTS = 16;

/**
 * Splits `body` at `boundary`; the preamble and epilogue are dropped.
 * @returns the parts, or a one-line problem.
 */
export function splitMultipart(body: string, boundary: string): BodyPart[] | string {
  if (boundary === '' || boundary.length > 70) return 'multipart boundary missing or longer than 70 characters';
  const delimiter = `--${boundary}`;
  const sections = body.split(new RegExp(`(?:^|\\r?\\n)${escapeRegExp(delimiter)}`));
  // sections[0] is the preamble; the last delimiter is followed by "--".
  const parts: BodyPart[] = [];
  let closed = false;
  for (const section of sections.slice(1)) {
    if (section.startsWith('--')) {
      closed = true;
      break;
    }
    if (parts.length >= MAX_PARTS) break;
    const text = section.replace(/^[ \t]*\r?\n/, '');
    const blank = /\r?\n\r?\n/.exec(text);
    const headerText = blank === null ? (text.trim() === '' ? '' : text) : text.slice(0, blank.index);
    const content = blank === null ? '' : text.slice(blank.index + blank[0].length);
    let type = 'text/plain';
    let disposition: string | undefined;
    for (const line of headerText.split(/\r?\n/)) {
      const colon = line.indexOf(':');
      if (colon <= 0) continue;
      const name = line.slice(0, colon).trim().toLowerCase();
      const value = (line.slice(colon + 1).split(';')[0] ?? '').trim().toLowerCase();
      if (name === 'content-type' || name === 'c') type = value;
      else if (name === 'content-disposition') disposition = value;
    }
    parts.push({ type, disposition, content });
  }
  if (parts.length === 0) return `no part delimited by boundary '${boundary.slice(0, 70)}'`;
  if (!closed) return 'multipart body has no closing delimiter';
  return parts;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
