/**
 * What of a Kombo error body is stored and printed. Kombo's `message` is written by whatever failed
 * (the ATS, a proxy) and can name a candidate, quote a salary, or carry terminal escapes; it reaches
 * run reports, stream markers (kept for years), CLI output and Lambda logs. So an error is told by
 * its `code`, `title` and `log_url`, and by its `message` only when personal data is kept at all
 * (`piiMode` keep); every text is cut to {@link MAX_ERROR_TEXT} characters with control characters,
 * escape sequences and bidirectional overrides taken out.
 */

/** Characters of one text of an error body kept at most. */
export const MAX_ERROR_TEXT = 500;

/** Whether a Kombo error's `message` is stored and printed (`keep`) or left out (`omit`). */
export type ErrorMessages = 'keep' | 'omit';

/** What a `piiMode` lets error messages tell: Kombo's `message` only when personal data is kept. */
export const errorMessagesFor = (mode: 'keep' | 'hash' | 'drop'): ErrorMessages => (mode === 'keep' ? 'keep' : 'omit');

/** ANSI/VT escape sequences (CSI, OSC up to BEL or ST, and two-character ones), whole. */
// eslint-disable-next-line no-control-regex
const ESCAPES = /\u001b\[[0-?]*[ -/]*[@-~]|\u001b\][^\u0007\u001b]*(?:\u0007|\u001b\\)?|\u009b[0-?]*[ -/]*[@-~]|\u009d[^\u0007\u001b]*(?:\u0007|\u001b\\)?|\u001b[@-_]/g;
/** C0 and C1 controls, DEL, and the Unicode characters that reorder or hide text. */
// eslint-disable-next-line no-control-regex
const CONTROLS = /[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]/g;

/**
 * A text from outside, safe to store and print on one line: escape sequences and control
 * characters removed (line breaks and tabs become spaces), whitespace collapsed, cut to `max`
 * characters with `…`.
 */
export function cleanText(text: string, max: number = MAX_ERROR_TEXT): string {
  const flat = text.replace(ESCAPES, '').replace(/[\t\n\r\v\f]/g, ' ').replace(CONTROLS, '').replace(/\s+/g, ' ').trim();
  return flat.length <= max ? flat : `${[...flat].slice(0, max - 1).join('')}…`;
}

/** Kombo's error object, as its envelope gives it. */
export interface KomboErrorBody {
  readonly code?: string | null;
  readonly title?: string | null;
  readonly message?: string | null;
  readonly log_url?: string | null;
}

/** The words that tell an error: its title, its message when kept, and where Kombo logged it. */
export function describeErrorBody(error: KomboErrorBody, messages: ErrorMessages): string {
  const title = cleanText(error.title ?? '');
  const message = messages === 'keep' ? cleanText(error.message ?? '') : '';
  const words = [title, message === title ? '' : message].filter((t) => t !== '').join(' ');
  const logUrl = cleanText(error.log_url ?? '');
  const told = words === '' ? (messages === 'keep' ? 'no message' : 'no title') : words;
  return logUrl === '' ? told : `${told} (log: ${logUrl})`;
}
