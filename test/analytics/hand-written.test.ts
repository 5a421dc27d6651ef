/**
 * The funnel, time to fill, offer and rejection views and interviewer load on DuckDB over rows written
 * by hand into the contract's tables: the edge cases a simulated company rarely shows (a stage the job
 * does not list, an offer set back to draft, a job closed without a closing date).
 */
import { describe, expect, it } from 'vitest';
import { DuckDBInstance } from '@duckdb/node-api';
import { DUCKDB_TYPES, analyticsViewStatements } from '../../shared/adapters/local/duckdb.ts';
import { CATALOG_TABLES, PARTITION_COLUMNS, SYNCS_TABLE, TABLES } from '../../shared/tables.ts';

/**
 * An in-memory DuckDB with the contract's tables (empty) and the real views over them, for hand-written
 * rows. The rows written are whole nightly copies (every record each date, which reads as versions
 * that did not all change), so `syncs` is every date a model's table holds a row on.
 */
async function handWritten<T>(body: (run: (sql: string) => Promise<unknown[][]>) => Promise<T>): Promise<T> {
  const instance = await DuckDBInstance.create(':memory:');
  const con = await instance.connect();
  try {
    await con.run("SET TimeZone = 'UTC'");
    // Every catalog table but `syncs`, made up below from the data tables.
    for (const t of CATALOG_TABLES.filter((x) => x.name !== SYNCS_TABLE.name)) {
      const cols = [...t.columns, ...PARTITION_COLUMNS].map((c) => `"${c.name}" ${DUCKDB_TYPES[c.type]}`);
      await con.run(`CREATE TABLE "${t.name}" (${cols.join(', ')})`);
    }
    const roots = TABLES.filter((t) => t.arrayField === undefined);
    await con.run(
      `CREATE VIEW syncs AS ${roots
        .map(
          (t) =>
            `SELECT DISTINCT '${t.model}' AS model, 'full' AS mode, CAST(snapshot_date AS TIMESTAMPTZ) AS started_at, CAST(snapshot_date AS TIMESTAMPTZ) AS valid_from, snapshot_date, integration_id FROM "${t.name}"`,
        )
        .join(' UNION ALL ')}`,
    );
    for (const statement of analyticsViewStatements()) await con.run(statement);
    return await body(async (sql) => (await con.runAndReadAll(sql)).getRowsJson());
  } finally {
    con.closeSync();
    instance.closeSync();
  }
}

describe('the views over hand-written rows', () => {
  it('hiring_funnel keeps a stage seen on applications but missing from the job’s list, flagged, in the order applications give it', async () => {
    const rows = await handWritten(async (run) => {
      // Prepare: one job listing three stages; a1 is in the listed Screen stage, a2 in a stage the job
      // does not list ("Take-home", index 1 on the application).
      const snap = "DATE '2025-06-02', 'acme'";
      await run(`INSERT INTO jobs (id, name, status, department, location_city, location_country, snapshot_date, integration_id)
        VALUES ('j1', 'Backend Engineer', 'OPEN', 'Engineering', 'Berlin', 'DE', ${snap})`);
      await run(`INSERT INTO job_stages (job_id, "position", stage_id, name, "index", snapshot_date, integration_id) VALUES
        ('j1', 0, 's0', 'Applied', 0, ${snap}), ('j1', 1, 's1', 'Screen', 1, ${snap}), ('j1', 2, 's2', 'Offer', 2, ${snap})`);
      await run(`INSERT INTO applications (id, job_id, job_name, outcome, current_stage_id, current_stage_name, current_stage_index, snapshot_date, integration_id) VALUES
        ('a1', 'j1', 'Backend Engineer', 'PENDING', 's1', 'Screen', 1, DATE '2025-06-01', 'acme'),
        ('a1', 'j1', 'Backend Engineer', 'PENDING', 's1', 'Screen', 1, ${snap}),
        ('a2', 'j1', 'Backend Engineer', 'PENDING', 'sx', 'Take-home', 1, ${snap})`);
      // Act
      return run('SELECT stage_id, stage_name, stage_index, listed_in_job, CAST(reached AS INTEGER), job_status, department, location FROM hiring_funnel ORDER BY stage_index, stage_id');
    });
    // Assess
    expect(rows).toEqual([
      ['s0', 'Applied', 0, true, 2, 'OPEN', 'Engineering', 'Berlin, DE'],
      ['s1', 'Screen', 1, true, 2, 'OPEN', 'Engineering', 'Berlin, DE'],
      ['sx', 'Take-home', 1, false, 2, 'OPEN', 'Engineering', 'Berlin, DE'],
      ['s2', 'Offer', 2, true, 0, 'OPEN', 'Engineering', 'Berlin, DE'],
    ]);
  });

  it('offer_acceptance counts offers by the month they were seen sent, each once, by its latest status, and those sent before the first snapshot in a row of their own', async () => {
    const rows = await handWritten(async (run) => {
      // Prepare: four snapshots of six offers of one application.
      const history: Record<string, (string | null)[]> = {
        early: ['SENT', 'SENT', 'ACCEPTED', 'ACCEPTED'], // sent before the first snapshot: when is unknown, that it was accepted is not
        accepted: ['DRAFT', 'SENT', 'SENT', 'ACCEPTED'], // 2 days from sent to accepted
        declined: ['APPROVED', 'DECLINED', 'DECLINED', 'DECLINED'], // sent and declined between two snapshots: 0 days
        abandoned: ['DRAFT', 'SENT', 'ABANDONED', 'ABANDONED'],
        draftOnly: ['DRAFT', 'DRAFT', 'ABANDONED', 'ABANDONED'], // never sent
        pending: [null, null, 'DRAFT', 'SENT'],
      };
      const dates = ['2025-06-29', '2025-06-30', '2025-07-01', '2025-07-02'];
      const values = Object.entries(history).flatMap(([id, statuses]) =>
        statuses.flatMap((status, k) => (status === null ? [] : [`('${id}', '${status}', 'a1', DATE '${dates[k] as string}', 'acme')`])),
      );
      await run(`INSERT INTO offers (id, status, application_id, snapshot_date, integration_id) VALUES ${values.join(', ')}`);
      await run("INSERT INTO applications (id, job_id, job_name, snapshot_date, integration_id) VALUES ('a1', 'j1', 'Backend Engineer', DATE '2025-07-02', 'acme')");
      // Act
      return run(`SELECT CAST(sent_month AS VARCHAR), CAST(sent AS INTEGER), CAST(accepted AS INTEGER), CAST(declined AS INTEGER), CAST(abandoned AS INTEGER),
        CAST(pending AS INTEGER), acceptance_rate, median_days_to_decision FROM offer_acceptance ORDER BY sent_month`);
    });
    // Assess
    expect(rows).toEqual([
      ['2025-06-01', 3, 1, 1, 1, 0, 0.5, 1],
      ['2025-07-01', 1, 0, 0, 0, 1, null, null],
      [null, 1, 1, 0, 0, 0, 1, null],
    ]);
  });

  it('hiring_funnel orders what an application reached by the job’s own index of the stage, whatever index the application carries', async () => {
    const rows = await handWritten(async (run) => {
      // Prepare: the job lists four stages. a1 sits in Interview with no index on the application; a2 in
      // Screen with the index 3 the ATS gives it; a3 in a stage the job does not list, whose index on the
      // applications went from 3 to 1 (the funnel places it at 1, its latest index).
      const d1 = "DATE '2025-06-01', 'acme'";
      const d2 = "DATE '2025-06-02', 'acme'";
      await run(`INSERT INTO jobs (id, name, status, snapshot_date, integration_id) VALUES ('j1', 'Backend Engineer', 'OPEN', ${d2})`);
      await run(`INSERT INTO job_stages (job_id, "position", stage_id, name, "index", snapshot_date, integration_id) VALUES
        ('j1', 0, 's0', 'Applied', 0, ${d2}), ('j1', 1, 's1', 'Screen', 1, ${d2}), ('j1', 2, 's2', 'Interview', 2, ${d2}), ('j1', 3, 's3', 'Offer', 3, ${d2})`);
      await run(`INSERT INTO applications (id, job_id, job_name, outcome, current_stage_id, current_stage_name, current_stage_index, snapshot_date, integration_id) VALUES
        ('a1', 'j1', 'Backend Engineer', 'PENDING', 's2', 'Interview', NULL, ${d1}),
        ('a1', 'j1', 'Backend Engineer', 'PENDING', 's2', 'Interview', NULL, ${d2}),
        ('a2', 'j1', 'Backend Engineer', 'PENDING', 's1', 'Screen', 3, ${d1}),
        ('a2', 'j1', 'Backend Engineer', 'PENDING', 's1', 'Screen', 3, ${d2}),
        ('a3', 'j1', 'Backend Engineer', 'PENDING', 'sx', 'Take-home', 3, ${d1}),
        ('a3', 'j1', 'Backend Engineer', 'PENDING', 'sx', 'Take-home', 1, ${d2})`);
      // Act
      return run('SELECT stage_id, stage_index, listed_in_job, CAST(reached AS INTEGER) FROM hiring_funnel ORDER BY stage_index, stage_id');
    });
    // Assess
    expect(rows).toEqual([
      ['s0', 0, true, 3],
      ['s1', 1, true, 3],
      ['sx', 1, false, 3],
      ['s2', 2, true, 1],
      ['s3', 3, true, 0],
    ]);
  });

  it('hiring_funnel keeps a stage seen on applications with no index and missing from the job’s list, flagged, after the listed stages', async () => {
    const rows = await handWritten(async (run) => {
      // Prepare: the job lists Applied and Screen. a1 moves on to Screen; a2 moves from Applied to an
      // "Assessment" stage the job does not list and the application gives no index for.
      const d1 = "DATE '2025-06-01', 'acme'";
      const d2 = "DATE '2025-06-02', 'acme'";
      const d3 = "DATE '2025-06-03', 'acme'";
      await run(`INSERT INTO jobs (id, name, status, snapshot_date, integration_id) VALUES ('j1', 'Backend Engineer', 'OPEN', ${d3})`);
      await run(`INSERT INTO job_stages (job_id, "position", stage_id, name, "index", snapshot_date, integration_id) VALUES
        ('j1', 0, 's0', 'Applied', 0, ${d3}), ('j1', 1, 's1', 'Screen', 1, ${d3})`);
      await run(`INSERT INTO applications (id, job_id, job_name, outcome, current_stage_id, current_stage_name, current_stage_index, snapshot_date, integration_id) VALUES
        ('a1', 'j1', 'Backend Engineer', 'PENDING', 's0', 'Applied', 0, ${d1}),
        ('a1', 'j1', 'Backend Engineer', 'PENDING', 's1', 'Screen', 1, ${d2}),
        ('a1', 'j1', 'Backend Engineer', 'PENDING', 's1', 'Screen', 1, ${d3}),
        ('a2', 'j1', 'Backend Engineer', 'PENDING', 's0', 'Applied', 0, ${d1}),
        ('a2', 'j1', 'Backend Engineer', 'PENDING', 'sy', 'Assessment', NULL, ${d2}),
        ('a2', 'j1', 'Backend Engineer', 'PENDING', 'sy', 'Assessment', NULL, ${d3})`);
      // Act
      return run(`SELECT stage_id, stage_name, stage_index, listed_in_job, CAST(reached AS INTEGER), CAST(currently_in AS INTEGER), conversion_to_next
        FROM hiring_funnel ORDER BY stage_index, stage_id`);
    });
    // Assess: the unordered stage counts the applications seen in it and none other; no conversion runs into or out of it.
    expect(rows).toEqual([
      ['s0', 'Applied', 0, true, 2, 0, 0.5],
      ['s1', 'Screen', 1, true, 1, 1, null],
      ['sy', 'Assessment', 2, false, 1, 1, null],
    ]);
  });

  it('rejection_breakdown counts an application moved to a "Rejected" stage as it was declined in the stage it was in before', async () => {
    const rows = await handWritten(async (run) => {
      // Prepare: a1 is in Interview, then declined and moved to Rejected in the same snapshot; a2 was
      // declined in Applied before the first snapshot (no open stretch seen: its declined snapshot's stage counts).
      const d1 = "DATE '2025-06-01', 'acme'";
      const d2 = "DATE '2025-06-02', 'acme'";
      await run(`INSERT INTO jobs (id, name, status, snapshot_date, integration_id) VALUES ('j1', 'Backend Engineer', 'OPEN', ${d2})`);
      await run(`INSERT INTO job_stages (job_id, "position", stage_id, name, "index", snapshot_date, integration_id) VALUES
        ('j1', 0, 's0', 'Applied', 0, ${d2}), ('j1', 1, 's1', 'Interview', 1, ${d2}), ('j1', 2, 's9', 'Rejected', 2, ${d2})`);
      await run(`INSERT INTO applications (id, job_id, job_name, outcome, rejection_reason_name, current_stage_id, current_stage_name, current_stage_index, snapshot_date, integration_id) VALUES
        ('a1', 'j1', 'Backend Engineer', 'PENDING', NULL, 's1', 'Interview', 1, ${d1}),
        ('a1', 'j1', 'Backend Engineer', 'DECLINED', 'Skills', 's9', 'Rejected', 2, ${d2}),
        ('a2', 'j1', 'Backend Engineer', 'DECLINED', 'Skills', 's0', 'Applied', 0, ${d1}),
        ('a2', 'j1', 'Backend Engineer', 'DECLINED', 'Skills', 's9', 'Rejected', 2, ${d2})`);
      // Act
      return run('SELECT rejection_reason, stage_id, stage_name, stage_index, CAST(declined AS INTEGER) FROM rejection_breakdown ORDER BY stage_index');
    });
    // Assess
    expect(rows).toEqual([
      ['Skills', 's0', 'Applied', 0, 1],
      ['Skills', 's1', 'Interview', 1, 1],
    ]);
  });

  it('time_to_fill stops counting days open when a job shows closed or archived without a closing date', async () => {
    const rows = await handWritten(async (run) => {
      // Prepare: four `jobs` snapshots. Status per snapshot; only `dated` has a `closed_at`.
      const history: Record<string, { opened: string; closedAt: string | null; statuses: string[] }> = {
        closedThenArchived: { opened: '2025-06-01', closedAt: null, statuses: ['OPEN', 'OPEN', 'CLOSED', 'ARCHIVED'] }, // closed on 06-04
        reopened: { opened: '2025-05-30', closedAt: null, statuses: ['OPEN', 'CLOSED', 'OPEN', 'CLOSED'] }, // closed again on 06-05
        closedBefore: { opened: '2025-05-01', closedAt: null, statuses: ['CLOSED', 'CLOSED', 'CLOSED', 'CLOSED'] }, // when is unknown
        dated: { opened: '2025-06-01', closedAt: '2025-06-03', statuses: ['OPEN', 'OPEN', 'CLOSED', 'CLOSED'] },
        open: { opened: '2025-06-01', closedAt: null, statuses: ['OPEN', 'OPEN', 'OPEN', 'OPEN'] },
      };
      const dates = ['2025-06-02', '2025-06-03', '2025-06-04', '2025-06-05'];
      const values = Object.entries(history).flatMap(([id, j]) =>
        j.statuses.map((status, k) => {
          const closedAt = j.closedAt !== null && k >= 2 ? `TIMESTAMPTZ '${j.closedAt} 12:00:00+00'` : 'NULL';
          return `('${id}', '${status}', TIMESTAMPTZ '${j.opened} 09:00:00+00', ${closedAt}, DATE '${dates[k] as string}', 'acme')`;
        }),
      );
      await run(`INSERT INTO jobs (id, status, opened_at, closed_at, snapshot_date, integration_id) VALUES ${values.join(', ')}`);
      // Act
      return run('SELECT job_id, job_status, CAST(closed_on AS VARCHAR), CAST(days_open AS INTEGER) FROM time_to_fill ORDER BY job_id');
    });
    // Assess
    expect(rows).toEqual([
      ['closedBefore', 'CLOSED', null, null],
      ['closedThenArchived', 'ARCHIVED', null, 3],
      ['dated', 'CLOSED', '2025-06-03', 2],
      ['open', 'OPEN', null, 4],
      ['reopened', 'CLOSED', null, 6],
    ]);
  });

  it('time_to_fill dates the first accepted offer only of an offer still accepted', async () => {
    const rows = await handWritten(async (run) => {
      // Prepare: j1's offer is accepted, then abandoned; j2's is accepted and stays so.
      const dates = ['2025-06-02', '2025-06-03', '2025-06-04'];
      const history: Record<string, { app: string; statuses: string[] }> = {
        o1: { app: 'a1', statuses: ['SENT', 'ACCEPTED', 'ABANDONED'] },
        o2: { app: 'a2', statuses: ['SENT', 'ACCEPTED', 'ACCEPTED'] },
      };
      const values = Object.entries(history).flatMap(([id, o]) => o.statuses.map((status, k) => `('${id}', '${status}', '${o.app}', DATE '${dates[k] as string}', 'acme')`));
      await run(`INSERT INTO offers (id, status, application_id, snapshot_date, integration_id) VALUES ${values.join(', ')}`);
      await run(`INSERT INTO applications (id, job_id, outcome, snapshot_date, integration_id) VALUES
        ('a1', 'j1', 'PENDING', DATE '2025-06-04', 'acme'), ('a2', 'j2', 'PENDING', DATE '2025-06-04', 'acme')`);
      await run(`INSERT INTO jobs (id, status, opened_at, snapshot_date, integration_id) VALUES
        ('j1', 'OPEN', TIMESTAMPTZ '2025-06-01 09:00:00+00', DATE '2025-06-04', 'acme'), ('j2', 'OPEN', TIMESTAMPTZ '2025-06-01 09:00:00+00', DATE '2025-06-04', 'acme')`);
      // Act
      return run('SELECT job_id, CAST(first_offer_accepted_on AS VARCHAR), CAST(days_to_accepted_offer AS INTEGER) FROM time_to_fill ORDER BY job_id');
    });
    // Assess
    expect(rows).toEqual([
      ['j1', null, null],
      ['j2', '2025-06-03', 2],
    ]);
  });

  it('offer_acceptance counts an offer set back to draft after being sent as pending, and gives offers of no job their median', async () => {
    const rows = await handWritten(async (run) => {
      // Prepare: on a1 (job j1) one offer is sent then set back to draft, then approved; one is accepted.
      // On a2 (no job) one offer is sent and accepted a day later.
      const history: Record<string, { app: string; statuses: string[] }> = {
        backToDraft: { app: 'a1', statuses: ['DRAFT', 'SENT', 'DRAFT', 'APPROVED'] },
        accepted: { app: 'a1', statuses: ['DRAFT', 'SENT', 'ACCEPTED', 'ACCEPTED'] },
        noJob: { app: 'a2', statuses: ['DRAFT', 'SENT', 'ACCEPTED', 'ACCEPTED'] },
      };
      const dates = ['2025-06-02', '2025-06-03', '2025-06-04', '2025-06-05'];
      const values = Object.entries(history).flatMap(([id, o]) => o.statuses.map((status, k) => `('${id}', '${status}', '${o.app}', DATE '${dates[k] as string}', 'acme')`));
      await run(`INSERT INTO offers (id, status, application_id, snapshot_date, integration_id) VALUES ${values.join(', ')}`);
      await run(`INSERT INTO applications (id, job_id, snapshot_date, integration_id) VALUES
        ('a1', 'j1', DATE '2025-06-05', 'acme'), ('a2', NULL, DATE '2025-06-05', 'acme')`);
      // Act
      return run(`SELECT job_id, CAST(sent AS INTEGER), CAST(accepted AS INTEGER), CAST(declined AS INTEGER), CAST(abandoned AS INTEGER),
        CAST(pending AS INTEGER), acceptance_rate, median_days_to_decision FROM offer_acceptance ORDER BY job_id NULLS LAST`);
    });
    // Assess: the parts add up to `sent`.
    expect(rows).toEqual([
      ['j1', 2, 1, 0, 0, 1, 1, 1],
      [null, 1, 1, 0, 0, 0, 1, 1],
    ]);
  });

  it('interviewer_load names interviewers and gives their status from users, falling back to the interview’s names', async () => {
    const rows = await handWritten(async (run) => {
      // Prepare: u1 is in the users list and has left; u2 is not in it.
      const snap = "DATE '2025-06-02', 'acme'";
      await run(`INSERT INTO interviews (id, application_id, starting_at, ending_at, snapshot_date, integration_id)
        VALUES ('i1', 'a1', TIMESTAMPTZ '2025-06-02 10:00:00+00', TIMESTAMPTZ '2025-06-02 11:00:00+00', ${snap})`);
      await run(`INSERT INTO interview_users (interview_id, "position", user_id, first_name, last_name, snapshot_date, integration_id)
        VALUES ('i1', 0, 'u1', 'Kenji', NULL, ${snap}), ('i1', 1, 'u2', 'Ana', 'Lima', ${snap})`);
      await run(`INSERT INTO users (id, first_name, last_name, status, snapshot_date, integration_id) VALUES ('u1', 'Kenji', 'Watanabe', 'INACTIVE', ${snap})`);
      // Act
      return run('SELECT user_id, user_name, user_status FROM interviewer_load ORDER BY user_id');
    });
    // Assess
    expect(rows).toEqual([
      ['u1', 'Kenji Watanabe', 'INACTIVE'],
      ['u2', 'Ana Lima', null],
    ]);
  });
});
