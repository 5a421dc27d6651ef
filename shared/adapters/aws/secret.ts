/**
 * The Kombo API key, read from Secrets Manager once per Lambda container and cached. The value is
 * held in a private field and appears in no error, log line or return value.
 */
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { ConfigError } from '../../errors.ts';
import { KomboClient } from '../../kombo/client.ts';

/** What the stack puts in the secret until the user sets the real key. */
export const API_KEY_PLACEHOLDER = 'REPLACE_ME_WITH_THE_KOMBO_API_KEY';

/** The secret holds the key as plain text, or as JSON `{"apiKey": "…"}`. */
function extractKey(secretString: string): string {
  const text = secretString.trim();
  if (text.startsWith('{')) {
    try {
      const parsed: unknown = JSON.parse(text);
      const key = parsed !== null && typeof parsed === 'object' ? (parsed as { apiKey?: unknown }).apiKey : undefined;
      if (typeof key === 'string') return key.trim();
    } catch {
      // Not JSON after all: a key that starts with "{" is taken as it is.
    }
  }
  return text;
}

export class CachedSecret {
  #value: Promise<string> | undefined;

  constructor(
    private readonly client: SecretsManagerClient,
    private readonly secretId: string,
  ) {}

  /** The API key; the first call reads the secret, later calls reuse it. A failed read is retried next time. */
  value(): Promise<string> {
    this.#value ??= this.read().catch((err: unknown) => {
      this.#value = undefined;
      throw err;
    });
    return this.#value;
  }

  /** Forget the cached key, e.g. after Kombo rejected it, so the next call reads a corrected secret. */
  invalidate(): void {
    this.#value = undefined;
  }

  private async read(): Promise<string> {
    const res = await this.client.send(new GetSecretValueCommand({ SecretId: this.secretId }));
    const key = res.SecretString === undefined ? '' : extractKey(res.SecretString);
    const howToSet = `aws secretsmanager put-secret-value --secret-id ${this.secretId} --secret-string '<your Kombo API key>'`;
    if (key === '' || key === API_KEY_PLACEHOLDER) throw new ConfigError(`the Kombo API key secret ${this.secretId} is not set yet: ${howToSet}`);
    return key;
  }
}

/**
 * A Kombo client per container, rebuilt only when the key changes (after {@link CachedSecret.invalidate}),
 * so its request statistics and connections survive across messages.
 */
export function komboClientFromSecret(secret: CachedSecret, baseUrl: string): () => Promise<KomboClient> {
  let current: { key: string; client: KomboClient } | undefined;
  return async () => {
    const key = await secret.value();
    if (current?.key !== key) current = { key, client: new KomboClient({ baseUrl, apiKey: key }) };
    return current.client;
  };
}
