/**
 * Kombo's webhook signature: the `X-Kombo-Signature` header is the HMAC-SHA256 of the raw request
 * body with the webhook secret, encoded base64url without `=` padding.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

/** The signature Kombo sends with `rawBody` (also what the sandbox and tests sign with). */
export function signKomboBody(rawBody: Uint8Array | string, secret: string): string {
  return createHmac('sha256', secret).update(rawBody).digest('base64url');
}

/**
 * Whether `header` is the signature of `rawBody` with `secret`, compared in constant time. A
 * missing or empty header, an empty secret, or a value of another length is false.
 */
export function verifyKomboSignature(rawBody: Uint8Array, header: string | undefined, secret: string): boolean {
  if (header === undefined || secret === '') return false;
  const given = Buffer.from(header.trim().replace(/=+$/, ''), 'utf8');
  const expected = Buffer.from(signKomboBody(rawBody, secret), 'utf8');
  if (given.length !== expected.length) return false;
  return timingSafeEqual(given, expected);
}
