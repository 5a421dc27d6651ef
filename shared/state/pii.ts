/**
 * The personal-data mode a warehouse stores its rows with (`keep`, `hash` or `drop`), and for `hash`
 * the hash scheme, never the salt. Recorded by the first sync that writes to the warehouse, and
 * checked by every later one before it writes anything: a sync that asks for another mode (or
 * hashes another way) would apply it to the records it happens to fetch and leave every other
 * record as stored, so `_latest` would mix names kept with names dropped. Such a sync is refused.
 */
import type { ObjectStore } from '../ports.ts';
import { ConfigError } from '../errors.ts';
import type { PiiHashScheme, PiiMode, PiiOptions } from '../flatten.ts';
import { PII_HASH_SCHEME } from '../flatten.ts';
import { decodeJson, encodeJson } from './codec.ts';
import { RUNS_PREFIX, STATE_PREFIX, splitRunKey, stateKeys, webhookKeys } from './keys.ts';

/** What the warehouse records: the mode, the hash scheme for `hash`, and when it was recorded. */
export interface PiiRecord {
  readonly mode: PiiMode;
  readonly hashScheme?: PiiHashScheme;
  readonly recordedAt: string;
}

/** The mode a warehouse holds, recorded or worked out from runs written before the record existed. */
export interface WarehousePii {
  /** `undefined`: runs exist but none says its mode (runs of AWS, or of versions that did not record it). */
  readonly mode: PiiMode | undefined;
  readonly hashScheme?: PiiHashScheme;
  readonly how: 'recorded' | 'inferred';
}

/** How to name the settings in a refusal: the CLI's flags, or the stack's settings. */
export interface PiiHints {
  /** Where the mode is set, e.g. `--pii-mode`. */
  readonly mode: string;
  /** How to start a new warehouse, e.g. `--warehouse DIR`. */
  readonly newWarehouse: string;
}

/** Hash scheme of every version that hashed before schemes were recorded. */
const EARLIER_SCHEME: PiiHashScheme = 'salted-sha256';
const SCHEME_NAMES: Record<PiiHashScheme, string> = { 'hmac-sha256': 'HMAC-SHA256', 'salted-sha256': 'salted SHA-256' };

/**
 * The warehouse's mode: its record, or for a warehouse written before the record existed, what the
 * latest local run that says its mode (`runner.json`) stored with, a hash run having hashed the
 * earlier way. Undefined for a warehouse without runs, or whose runs stored nothing yet.
 */
export async function readWarehousePii(store: ObjectStore): Promise<WarehousePii | undefined> {
  const body = await store.get(stateKeys.pii());
  if (body) {
    const record = decodeJson<PiiRecord>(body);
    return { mode: record.mode, ...(record.hashScheme !== undefined && { hashScheme: record.hashScheme }), how: 'recorded' };
  }
  const keys = await store.list(RUNS_PREFIX);
  if (!keys.some((k) => splitRunKey(k)?.file === 'plan.json')) return undefined;
  // Run ids start with their UTC time: the last runner is the latest run's.
  for (const key of keys.filter((k) => splitRunKey(k)?.file === 'runner.json').reverse()) {
    const runnerBody = await store.get(key);
    const mode = runnerBody ? decodeJson<{ pii?: { mode?: PiiMode } }>(runnerBody).pii?.mode : undefined;
    if (mode !== undefined) return { mode, ...(mode === 'hash' && { hashScheme: EARLIER_SCHEME }), how: 'inferred' };
  }
  // Planned runs that stored nothing yet (AWS's planner writes the first plan before a chunk records the mode): a new warehouse.
  // The integrations registry and the webhook state are not stored rows.
  const isWebhookState = (k: string): boolean => k === webhookKeys.registry() || k.startsWith(webhookKeys.prefix());
  if ((await store.list(STATE_PREFIX)).every(isWebhookState)) return undefined;
  return { mode: undefined, how: 'inferred' };
}

/** Why `pii` may not write into a warehouse holding `held`, or undefined when it may. */
function piiConflict(held: WarehousePii, pii: PiiOptions, hints: PiiHints): string | undefined {
  const away = `sync with ${hints.mode} ${pii.mode} into a new warehouse (${hints.newWarehouse})`;
  if (held.mode === undefined) {
    // Runs without a recorded mode: keep and drop cannot be checked; any earlier hash was the earlier scheme.
    if (pii.mode !== 'hash') return undefined;
    return `holds runs that did not record their personal-data mode, and hashes stored by them (if any) never match ${SCHEME_NAMES[PII_HASH_SCHEME]} ones: ${away}`;
  }
  const how = held.how === 'inferred' ? ' (as its latest run says)' : '';
  if (held.mode !== pii.mode) {
    return `stores personal data with ${hints.mode} ${held.mode}${how}, and this sync asks for ${pii.mode}: a change would reach only the records a sync fetches and leave the others as stored, so nothing was written; sync with ${hints.mode} ${held.mode}, or ${away}`;
  }
  const scheme = held.hashScheme ?? EARLIER_SCHEME;
  if (pii.mode === 'hash' && scheme !== PII_HASH_SCHEME) {
    return `holds personal data hashed with ${SCHEME_NAMES[scheme]}${how}, and this version hashes with ${SCHEME_NAMES[PII_HASH_SCHEME]}: the two never match, so nothing was written; ${away}`;
  }
  return undefined;
}

/**
 * Throws a ConfigError, before anything is written, when the warehouse stores personal data with
 * another mode or hash scheme than `pii`. `where` names the warehouse in the message. Returns what
 * the warehouse holds.
 */
export async function assertWarehousePii(store: ObjectStore, pii: PiiOptions, where: string, hints: PiiHints): Promise<WarehousePii | undefined> {
  const held = await readWarehousePii(store);
  const conflict = held === undefined ? undefined : piiConflict(held, pii, hints);
  if (conflict !== undefined) throw new ConfigError(`warehouse ${where} ${conflict}`);
  return held;
}

/** Record the warehouse's mode if it has no record yet (the first sync to write to it does). */
export async function recordWarehousePii(store: ObjectStore, pii: PiiOptions, now: Date = new Date()): Promise<void> {
  const record: PiiRecord = { mode: pii.mode, ...(pii.mode === 'hash' && { hashScheme: PII_HASH_SCHEME }), recordedAt: now.toISOString() };
  await store.putIfAbsent(stateKeys.pii(), encodeJson(record));
}

/**
 * Check the warehouse's mode, then record it if it has no record yet: what a sync does before it
 * writes. Once recorded, a check is one read (the fetcher makes it before every chunk).
 */
export async function holdWarehousePii(store: ObjectStore, pii: PiiOptions, where: string, hints: PiiHints): Promise<void> {
  const held = await assertWarehousePii(store, pii, where, hints);
  if (held?.how !== 'recorded') await recordWarehousePii(store, pii);
}
