/** The README's column reference, generated from the table definitions. */
import { PARTITION_COLUMNS, TABLES } from './tables.ts';
import type { ColumnDef } from './tables.ts';

const PARQUET_TYPES = {
  string: 'STRING (UTF-8)',
  json: 'STRING (JSON text)',
  timestamp: 'TIMESTAMP(MILLIS, UTC)',
  boolean: 'BOOLEAN',
  int32: 'INT32',
} as const;

function origin(table: { arrayField?: string }, c: ColumnDef): string {
  switch (c.source.kind) {
    case 'field':
      return `\`${table.arrayField ? `${table.arrayField}[].` : ''}${c.source.path.join('.')}\``;
    case 'parent-id':
      return 'id of the parent record';
    case 'position':
      return 'index in the array, from 0';
    case 'meta':
      return c.name === '_run_id' ? 'run that wrote the row' : 'when the row was fetched';
  }
}

/** Markdown: one section per table with its grain and columns. */
export function columnReference(): string {
  const parts = [
    '## Tables',
    '',
    `Every table is partitioned by ${PARTITION_COLUMNS.map((p) => `\`${p.name}\` (${p.type})`).join(' and ')}, which live in the path only.`,
    '',
  ];
  for (const t of TABLES) {
    parts.push(`### \`${t.name}\``, '', `${t.grain}, from \`GET /ats/${t.model}\`.`, '', '| column | type | from |', '|---|---|---|');
    for (const c of t.columns) parts.push(`| \`${c.name}\` | ${PARQUET_TYPES[c.type]} | ${origin(t, c)} |`);
    parts.push('');
  }
  return parts.join('\n');
}

/** Replace the text between `<!-- name:begin -->` and `<!-- name:end -->`. */
export function replaceSection(doc: string, name: string, body: string): string {
  const begin = `<!-- ${name}:begin -->`;
  const end = `<!-- ${name}:end -->`;
  const i = doc.indexOf(begin);
  const j = doc.indexOf(end);
  if (i < 0 || j < i) throw new Error(`markers for ${name} not found`);
  return `${doc.slice(0, i + begin.length)}\n${body.trim()}\n${doc.slice(j)}`;
}
