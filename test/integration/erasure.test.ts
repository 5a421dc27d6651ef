/**
 * Erasure against a Kombo that keeps serving what it deleted: the real pipeline (`runLocal`, a folder
 * warehouse, `KomboClient`) syncs an independent Kombo-compatible server (test/helpers/kombo-server.ts)
 * and `compact --erase` runs between nights, in either order with the deletion in the ATS.
 *
 * - Day 1 (full): candidates ada, ben, cal with one application each.
 * - Day 2: ben and ben-1 are deleted in the ATS (Kombo serves them on, with their data and
 *   `remote_deleted_at`), then erased; cal and cal-1 are erased while still in the ATS, then cal
 *   changes there; ada changes too. An incremental sync.
 * - Day 3: a full sync (asked): Kombo still serves ben and cal.
 */
import { describe, expect, it } from 'vitest';
import { openWarehouse } from '../../shared/adapters/local/duckdb.ts';
import { FolderStore } from '../../shared/adapters/local/folder-store.ts';
import { LocalCatalog } from '../../shared/adapters/local/local-catalog.ts';
import { runLocal } from '../../shared/adapters/local/local-run.ts';
import { KomboClient } from '../../shared/kombo/client.ts';
import { compactWarehouse } from '../../shared/pipeline/compact.ts';
import type { ModelName } from '../../shared/tables.ts';
import { cycleWithoutFullDays } from '../helpers/full-cycle.ts';
import { objects } from '../helpers/history.ts';
import type { Stage } from '../helpers/kombo-server.ts';
import { applicationRecord, candidateRecord, startKomboServer } from '../helpers/kombo-server.ts';
import { tempDirs } from '../helpers/temp.ts';

const INTEGRATION = 'greenhouse:Erasure7Kq2Wm8R';
const KEY = 'erasure-test-key';
const MODELS: readonly ModelName[] = ['candidates', 'applications'];
const DATES = ['2026-03-02', '2026-03-03', '2026-03-04'] as const;
const CYCLE = cycleWithoutFullDays([INTEGRATION], DATES);
const SCREEN: Stage = { id: 'StgScreen', name: 'Screen', index: 1 };
const at = (date: string, time: string): string => `${date}T${time}.000Z`;

const newWarehouse = tempDirs('kombo-erasure-');

describe('erasure survives the order an operator chooses', () => {
  it('an erased record is never stored again, deleted in the ATS first or still there and changing, incremental or full', async () => {
    const people = ['ada', 'ben', 'cal'];
    const kombo = await startKomboServer({
      integrationId: INTEGRATION,
      apiKey: KEY,
      clock: at(DATES[0], '05:00:00'),
      records: {
        candidates: people.map((p) => candidateRecord({ id: p, firstName: p.toUpperCase(), lastName: 'Doe', emails: [`${p}@example.com`], tags: [], changedAt: at('2026-02-01', '09:00:00') })),
        applications: people.map((p) => applicationRecord({ id: `${p}-1`, candidateId: p, stage: SCREEN, changedAt: at('2026-02-01', '09:00:00') })),
      },
    });
    const dir = newWarehouse();
    const store = new FolderStore(dir);
    const client = new KomboClient({ baseUrl: kombo.url, apiKey: KEY });
    const sync = async (date: string, k: number, full = false) => {
      kombo.setClock(at(date, '06:00:00'));
      const report = await runLocal({ client, store, catalog: new LocalCatalog(store), runId: `20990101T00000${k}Z-aaaaaa`, snapshotDate: date, integrationIds: [INTEGRATION], models: MODELS, concurrency: 2, fullEveryDays: CYCLE, ...(full && { full: true }) });
      expect(report.status).toBe('succeeded');
    };
    const stored = async () => {
      const db = await openWarehouse(dir);
      try {
        return await objects(
          db,
          `SELECT 'candidates' AS t, id, CAST(snapshot_date AS VARCHAR) AS d FROM candidates
           UNION ALL SELECT 'candidate_email_addresses', candidate_id, CAST(snapshot_date AS VARCHAR) FROM candidate_email_addresses
           UNION ALL SELECT 'applications', id, CAST(snapshot_date AS VARCHAR) FROM applications ORDER BY ALL`,
        );
      } finally {
        db.close();
      }
    };
    try {
      await sync(DATES[0], 1);
      kombo.setClock(at(DATES[1], '04:00:00'));
      kombo.markDeleted('candidates', 'ben');
      kombo.markDeleted('applications', 'ben-1');
      await compactWarehouse({ store, catalog: new LocalCatalog(store) }, { runId: 'compact-erase', today: DATES[1], retentionDays: 3650, erase: ['ben', 'ben-1', 'cal', 'cal-1'] });
      kombo.setClock(at(DATES[1], '05:00:00'));
      kombo.change('candidates', 'cal', (c) => (c['first_name'] = 'Calvin'));
      kombo.change('applications', 'cal-1', (a) => (a['outcome'] = 'DECLINED'));
      kombo.change('candidates', 'ada', (c) => (c['first_name'] = 'Adele'));
      await sync(DATES[1], 2);
      await sync(DATES[2], 3, true);

      expect(await stored()).toEqual([
        { t: 'applications', id: 'ada-1', d: DATES[0] },
        { t: 'candidate_email_addresses', id: 'ada', d: DATES[0] },
        { t: 'candidate_email_addresses', id: 'ada', d: DATES[1] },
        { t: 'candidates', id: 'ada', d: DATES[0] },
        { t: 'candidates', id: 'ada', d: DATES[1] },
      ]);
    } finally {
      await kombo.close();
    }
  });
});
