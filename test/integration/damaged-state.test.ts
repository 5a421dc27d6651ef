/**
 * Damaged change capture state through the real CLI: an index file a commit names is gone. The
 * stream fails with one clear error naming the way out and lets go of its lock (a later sync is not
 * refused as busy), `retry` ends the same way instead of crashing, and `sync --full` rebuilds the
 * state without the lost file, after which incremental syncs go on.
 */
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { StreamReportRow } from '../../cli/output.ts';
import { runCli } from '../helpers/cli.ts';
import { tempDirs } from '../helpers/temp.ts';

const tmp = tempDirs('kombo-damaged-');
const INTEGRATION = 'lever:4hNwQe8ZkPa2XtJ6mDvR9bLy';
const warehouse = join(tmp(), 'wh');
const syncDay = (day: string, extra: string[] = []) =>
  runCli(['sync', '--as-of', day, '--integrations', INTEGRATION, '--models', 'candidates', '--warehouse', warehouse, '--format', 'json', ...extra]);
const streamOf = (stdout: string): StreamReportRow => (JSON.parse(stdout) as { streams: StreamReportRow[] }).streams[0]!;
const stateDir = () => {
  const dirs = readdirSync(join(warehouse, '_state'));
  return join(warehouse, '_state', dirs.find((d) => !d.startsWith('_'))!, 'candidates');
};

beforeAll(async () => {
  expect((await syncDay('2025-06-01')).code).toBe(0);
  expect((await syncDay('2025-06-02')).code).toBe(0);
  const index = join(stateDir(), 'index');
  const files = readdirSync(index).sort();
  expect(files).toHaveLength(2);
  rmSync(join(index, files[1]!));
}, 120_000);

describe('a missing index file', () => {
  let runId = '';
  it('fails the stream with one clear error naming --full, and keeps no lock', async () => {
    const r = await syncDay('2025-06-03');
    expect(r.code, r.stderr).toBe(1);
    const s = streamOf(r.stdout);
    runId = (JSON.parse(r.stdout) as { run_id: string }).run_id;
    expect(s.status).toBe('failed');
    expect(`${s.error_code ?? ''} ${s.reason ?? ''}`).toMatch(/STATE\.INDEX_MISSING.*--full/);
    expect(existsSync(join(stateDir(), 'lock.json'))).toBe(false);
  }, 60_000);

  it('is not refused as busy by a later sync, and retry ends the same way instead of crashing', async () => {
    const again = await syncDay('2025-06-03');
    expect(streamOf(again.stdout).error_code).toBe('STATE.INDEX_MISSING');
    const retry = await runCli(['retry', '--run-id', runId, '--sandbox', '--warehouse', warehouse, '--format', 'json']);
    expect(retry.code, retry.stderr).toBe(1);
    expect(streamOf(retry.stdout).error_code).toBe('STATE.INDEX_MISSING');
    expect(existsSync(join(warehouse, '_runs', runId, '_FAILED.json'))).toBe(true);
  }, 60_000);

  it('is rebuilt by sync --full, after which incremental syncs go on', async () => {
    const full = await syncDay('2025-06-03', ['--full']);
    expect(full.code, full.stderr).toBe(0);
    const s = streamOf(full.stdout);
    expect(s).toMatchObject({ status: 'done', mode: 'full' });
    expect(s.versions).toBe(s.records);
    const next = await syncDay('2025-06-04', ['--full-every', '30']);
    expect(next.code, next.stderr).toBe(0);
    expect(streamOf(next.stdout)).toMatchObject({ status: 'done', mode: 'incremental' });
  }, 60_000);
});
