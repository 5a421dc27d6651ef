/**
 * The Kombo API key, or the PII salt of `piiMode` hash, read from Secrets Manager once per Lambda
 * container and cached. The stack keeps the salt in a secret of its own, which only the fetcher may
 * read; a secret holding both (`{"apiKey", "piiSalt"}`) is read where no salt secret is set. The values are held in a private field and appear in no error or
 * log line; the salt is returned only inside the {@link PiiOptions} handed to the pipeline.
 */
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { PII_SALT_RULE, piiSaltProblem } from '../../config.ts';
import { ConfigError } from '../../errors.ts';
import type { PiiMode, PiiOptions } from '../../flatten.ts';
import { KomboClient } from '../../kombo/client.ts';
import type { PacingOptions } from '../../kombo/pacing.ts';
import type { ErrorMessages } from '../../kombo/error-text.ts';

/** What the stack puts in the secret until the user sets the real key. */
export const API_KEY_PLACEHOLDER = 'REPLACE_ME_WITH_THE_KOMBO_API_KEY';
/** What the stack puts in the salt secret until the user sets the salt. */
export const PII_SALT_PLACEHOLDER = 'REPLACE_ME_WITH_THE_PII_SALT';

/** What a secret holds: the API key (with an optional `piiSalt` beside it), or the salt alone. */
export type SecretHolds = 'apiKey' | 'piiSalt';

interface SecretContents {
  readonly apiKey: string;
  readonly piiSalt?: string;
}

/**
 * The secret holds the key as plain text, or as JSON `{"apiKey": "…", "piiSalt": "…"}` (`piiSalt`
 * optional). A JSON object without a string `apiKey` counts as a key not set yet.
 */
function parseContents(secretString: string): SecretContents {
  const text = secretString.trim();
  if (text.startsWith('{')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      // Not JSON after all: a key that starts with "{" is taken as it is.
      return { apiKey: text };
    }
    if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)) {
      const { apiKey, piiSalt } = parsed as { apiKey?: unknown; piiSalt?: unknown };
      return {
        apiKey: typeof apiKey === 'string' ? apiKey.trim() : '',
        ...(typeof piiSalt === 'string' && piiSalt.trim() !== '' && { piiSalt: piiSalt.trim() }),
      };
    }
  }
  return { apiKey: text };
}

/** A salt secret: the salt as plain text, or JSON `{"piiSalt": "…"}`; the placeholder counts as no salt. */
function parseSalt(secretString: string | undefined): SecretContents {
  const text = (secretString ?? '').trim();
  const salt = text.startsWith('{') ? parseContents(text).piiSalt : text;
  return salt === undefined || salt === '' || salt === PII_SALT_PLACEHOLDER ? { apiKey: '' } : { apiKey: '', piiSalt: salt };
}

export class CachedSecret {
  #value: Promise<SecretContents> | undefined;

  constructor(
    private readonly client: SecretsManagerClient,
    private readonly secretId: string,
    private readonly holds: SecretHolds = 'apiKey',
  ) {}

  /** The API key; the first call reads the secret, later calls reuse it. A failed read is retried next time. */
  async value(): Promise<string> {
    return (await this.contents()).apiKey;
  }

  /**
   * The personal-data options of `mode`, for `hash` with the salt from the same (cached) read of the
   * secret. A missing or short salt throws a ConfigError that says how to set it, and drops the
   * cache so the next call reads the corrected secret.
   */
  async piiOptions(mode: PiiMode): Promise<PiiOptions> {
    if (mode !== 'hash') return { mode };
    const { piiSalt } = await this.contents();
    const weak = piiSaltProblem(piiSalt);
    if (piiSalt !== undefined && weak === undefined) return { mode, salt: piiSalt };
    this.invalidate();
    // The salt itself is never echoed, only what is wrong with it.
    const problem = piiSalt === undefined ? 'has no "piiSalt"' : `has a "piiSalt" that ${weak ?? ''}`;
    const value = this.holds === 'piiSalt' ? "'<the salt>'" : `'{"apiKey":"<your Kombo API key>","piiSalt":"<the salt>"}'`;
    throw new ConfigError(
      `piiMode "hash" needs a secret salt of ${PII_SALT_RULE}, but the secret ${this.secretId} ${problem}: ` +
        `aws secretsmanager put-secret-value --secret-id ${this.secretId} --secret-string ${value} ` +
        '(a random secret, e.g. from openssl rand -hex 32; a salt already in use elsewhere, such as the API key secret, goes in unchanged, or every hash changes)',
    );
  }

  /** Forget the cached key, e.g. after Kombo rejected it, so the next call reads a corrected secret. */
  invalidate(): void {
    this.#value = undefined;
  }

  private contents(): Promise<SecretContents> {
    this.#value ??= this.read().catch((err: unknown) => {
      this.#value = undefined;
      throw err;
    });
    return this.#value;
  }

  private async read(): Promise<SecretContents> {
    const res = await this.client.send(new GetSecretValueCommand({ SecretId: this.secretId }));
    if (this.holds === 'piiSalt') return parseSalt(res.SecretString);
    const contents = res.SecretString === undefined ? { apiKey: '' } : parseContents(res.SecretString);
    const howToSet = `aws secretsmanager put-secret-value --secret-id ${this.secretId} --secret-string '<your Kombo API key>'`;
    if (contents.apiKey === '' || contents.apiKey === API_KEY_PLACEHOLDER) {
      throw new ConfigError(`the Kombo API key secret ${this.secretId} is not set yet: ${howToSet} (or '{"apiKey":"…","piiSalt":"…"}' with piiMode hash)`);
    }
    return contents;
  }
}

/**
 * A Kombo client per container, rebuilt only when the key changes (after {@link CachedSecret.invalidate}),
 * so its request statistics, pace and connections survive across messages. `pacing`: this
 * function's share of the Kombo budget (`{}`: paced by Kombo's `ratelimit-*` headers only).
 * `errorMessages`: whether Kombo's error `message` reaches reports and logs (`keep` only with
 * `piiMode` keep; by default it does not, see `kombo/error-text.ts`).
 */
export function komboClientFromSecret(secret: CachedSecret, baseUrl: string, pacing: PacingOptions = {}, errorMessages: ErrorMessages = 'omit'): () => Promise<KomboClient> {
  let current: { key: string; client: KomboClient } | undefined;
  return async () => {
    const key = await secret.value();
    if (current?.key !== key) current = { key, client: new KomboClient({ baseUrl, apiKey: key, pacing, errorMessages }) };
    return current.client;
  };
}
