import { createHash, createHmac } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parsePiiOptions, parseSyncConfig, secretFlagWarnings } from '../../cli/config.ts';
import { checkPiiSalt } from '../../shared/config.ts';
import { ConfigError } from '../../shared/errors.ts';
import { hashPii } from '../../shared/flatten.ts';

/** What `openssl rand -hex 32` gives: 64 hex digits. */
const GOOD_SALT = '9f2c4e7a1b3d5f60718293a4b5c6d7e8f90a1b2c3d4e5f6a7b8c9d0e1f2a3b4c';

const dir = mkdtempSync(join(tmpdir(), 'kombo-pii-salt-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const file = (name: string, text: string) => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};

describe('the hash salt: at least 32 characters, at least 10 of them different', () => {
  it.each([
    ['16 characters, as the old rule took', 'k3y-0f-16-chars!', /this one is 16 characters long/],
    ['31 characters', 'abcdefghijklmnopqrstuvwxyz01234', /this one is 31 characters long/],
    ['one character repeated', 'a'.repeat(32), /this one has only 1 different character$/],
    ['two characters alternating', 'ab'.repeat(24), /this one has only 2 different characters$/],
    ['nine characters repeated', '123456789'.repeat(5), /this one has only 9 different characters$/],
  ])('refuses %s, saying the rule and never the salt', (_what, salt, problem) => {
    const err = (() => {
      try {
        checkPiiSalt(salt);
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toMatch(/needs a secret salt of at least 32 characters, with at least 10 different ones \(e\.g\. from `openssl rand -hex 32`\)/);
    expect((err as Error).message).toMatch(problem);
    expect((err as Error).message).not.toContain(salt.slice(0, 8));
  });

  it('takes a random salt and a long passphrase', () => {
    expect(checkPiiSalt(GOOD_SALT)).toBe(GOOD_SALT);
    expect(checkPiiSalt('correct horse battery staple, twice')).toBe('correct horse battery staple, twice');
  });
});

describe('hashPii: HMAC-SHA256 keyed by the salt', () => {
  it('is the keyed HMAC of the normalised value, not the salted plain hash', () => {
    const hmac = createHmac('sha256', GOOD_SALT).update('ada@example.com').digest('hex');
    const salted = createHash('sha256').update(GOOD_SALT).update('\0').update('ada@example.com').digest('hex');
    expect(hashPii('email', '  Ada@Example.COM ', GOOD_SALT)).toBe(hmac);
    expect(hashPii('email', 'ada@example.com', GOOD_SALT)).not.toBe(salted);
  });
});

describe('secrets from the environment or a file', () => {
  it.each([
    ['KOMBO_PII_SALT', {}, { KOMBO_PII_SALT: GOOD_SALT }],
    ['KOMBO_PII_SALT_FILE (a trailing line break dropped)', {}, { KOMBO_PII_SALT_FILE: file('salt-env', `${GOOD_SALT}\n`) }],
    ['--pii-salt-file', { piiSaltFile: file('salt-flag', GOOD_SALT) }, {}],
    ['KOMBO_PII_SALT before KOMBO_PII_SALT_FILE', {}, { KOMBO_PII_SALT: GOOD_SALT, KOMBO_PII_SALT_FILE: file('salt-other', `x${GOOD_SALT}`) }],
  ])('reads the salt from %s', (_where, input, env) => {
    expect(parsePiiOptions({ piiMode: 'hash', ...input }, env)).toEqual({ mode: 'hash', salt: GOOD_SALT });
  });

  it.each([
    ['a missing file', { KOMBO_PII_SALT_FILE: join(dir, 'nowhere') }, /^KOMBO_PII_SALT_FILE .*nowhere: no such file; give the file that holds the secret$/],
    ['an empty file', { KOMBO_PII_SALT_FILE: file('empty', '\n') }, /^KOMBO_PII_SALT_FILE .*empty: the file is empty; write the secret into it$/],
    ['a weak salt in a file', { KOMBO_PII_SALT_FILE: file('weak', 'a'.repeat(40)) }, /^the salt \(KOMBO_PII_SALT, KOMBO_PII_SALT_FILE or --pii-salt-file\): .*only 1 different character$/],
  ])('refuses %s with a ConfigError', (_what, env, message) => {
    expect(() => parsePiiOptions({ piiMode: 'hash' }, env)).toThrow(message);
    expect(() => parsePiiOptions({ piiMode: 'hash' }, env)).toThrow(ConfigError);
  });

  it.each([
    ['--api-key-file', { apiKeyFile: file('key-flag', 'key-from-a-file\n') }, {}],
    ['KOMBO_API_KEY_FILE', {}, { KOMBO_API_KEY_FILE: file('key-env', 'key-from-a-file') }],
    ['KOMBO_API_KEY', {}, { KOMBO_API_KEY: 'key-from-a-file', KOMBO_API_KEY_FILE: file('key-other', 'another') }],
  ])('reads the API key from %s', (_where, input, env) => {
    const config = parseSyncConfig({ integrations: 'lever:A1', ...input }, env, new Date('2026-11-20T00:00:00Z'));
    expect(config).toMatchObject({ source: 'kombo', apiKey: 'key-from-a-file' });
  });

  it('warns about --api-key and --pii-salt, which ps and the shell history show, and about nothing else', () => {
    expect(secretFlagWarnings({ apiKey: 'k', piiSalt: GOOD_SALT })).toEqual([
      "warning: --api-key shows the secret to every user of this machine (ps) and keeps it in the shell's history; set KOMBO_API_KEY or KOMBO_API_KEY_FILE, or pass --api-key-file, instead",
      "warning: --pii-salt shows the secret to every user of this machine (ps) and keeps it in the shell's history; set KOMBO_PII_SALT or KOMBO_PII_SALT_FILE, or pass --pii-salt-file, instead",
    ]);
    expect(secretFlagWarnings({})).toEqual([]);
  });
});
