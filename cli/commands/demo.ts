/** `npm start`: sync the sandbox into ./warehouse, then show what landed, from DuckDB. */
import { parseSyncConfig } from '../../shared/config.ts';
import { openWarehouse } from '../../shared/analytics/duckdb.ts';
import { TABLES } from '../../shared/tables.ts';
import { formatTable } from '../output.ts';
import { syncCommand } from './sync.ts';

/** SQL of the first summary: row counts per table and integration, in the latest snapshot. */
export function rowCountsSql(snapshotDate: string): string {
  return TABLES.map(
    (t) => `SELECT '${t.name}' AS "table", integration_id, count(*) AS "rows" FROM "${t.name}" WHERE snapshot_date = DATE '${snapshotDate}' GROUP BY ALL`,
  ).join(' UNION ALL ') + ' ORDER BY 1, 2';
}

/** SQL: applications per current stage, in the latest snapshot, deleted ones left out. */
export function stageCountsSql(snapshotDate: string): string {
  return `SELECT current_stage_index AS stage_index, coalesce(current_stage_name, '(none)') AS current_stage, count(*) AS applications
FROM applications WHERE snapshot_date = DATE '${snapshotDate}' AND remote_deleted_at IS NULL
GROUP BY ALL ORDER BY stage_index NULLS LAST, current_stage`;
}

export async function demoCommand(warehouse: string, out: NodeJS.WritableStream = process.stdout): Promise<number> {
  const config = parseSyncConfig({ warehouse }, {});
  const { exitCode } = await syncCommand(config, out);
  const db = await openWarehouse(config.warehouse);
  try {
    const counts = await db.query(rowCountsSql(config.snapshotDate));
    out.write(`\nRows per table and integration (snapshot ${config.snapshotDate}, read back by DuckDB):\n${formatTable(counts.columns, counts.rows)}\n`);
    const stages = await db.query(stageCountsSql(config.snapshotDate));
    out.write(`\nApplications per current stage:\n${formatTable(stages.columns, stages.rows)}\n`);
    out.write(`\nTry: npx kombo-etl query "select * from applications limit 5"\n`);
  } finally {
    db.close();
  }
  return exitCode;
}
