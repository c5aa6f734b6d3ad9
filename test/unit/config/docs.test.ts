/**
 * docs/configuration.md carries the table of every environment variable; it must match
 * ENV_VARS exactly. To regenerate it after changing src/config/schema.ts:
 *   UPDATE_DOCS=1 node --test test/unit/config/docs.test.ts
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { test } from 'node:test';
import { ENV_VARS } from '../../../src/config/index.ts';
import type { VarSpec } from '../../../src/config/schema.ts';

const DOC = new URL('../../../docs/configuration.md', import.meta.url);
const START = '<!-- env-table:start (generated from src/config/schema.ts) -->';
const END = '<!-- env-table:end -->';

function defaultCell(spec: VarSpec): string {
  if ('default' in spec && spec.default !== undefined) return `\`${String(spec.default)}\``;
  if ('required' in spec && spec.required) return '**required**';
  return 'unset';
}

function formatCell(spec: VarSpec): string {
  switch (spec.kind) {
    case 'integer':
      return `integer ${spec.min}–${spec.max}`;
    case 'boolean':
      return 'true \\| false \\| 1 \\| 0';
    case 'enum':
      return spec.values.join(' \\| ');
    case 'brokers':
      return 'host:port,…';
    case 'url':
      return 'http(s) URL';
    case 'topic':
      return 'topic name';
    case 'path':
      return 'file path';
    case 'file':
      return 'file path (contents loaded)';
    case 'secret':
      return 'text (verbatim)';
    case 'string':
      return 'text';
  }
}

function renderTable(): string {
  const rows = Object.entries(ENV_VARS).map(([name, s]) => {
    const spec: VarSpec = s;
    const secret = spec.secret ? ' **Secret**: never logged or echoed.' : '';
    return `| \`${name}\` | ${defaultCell(spec)} | ${formatCell(spec)} | ${spec.doc}.${secret} |`;
  });
  return ['| Variable | Default | Format | Meaning |', '| --- | --- | --- | --- |', ...rows].join('\n');
}

/** Cells of each table row, so that column padding added by a Markdown formatter does not matter. */
function cells(table: string): string[][] {
  return table
    .trim()
    .split('\n')
    .map((line) =>
      line
        .trim()
        .split(/(?<!\\)\|/)
        .slice(1, -1)
        .map((cell) => cell.trim().replace(/^-+$/, '---')),
    );
}

test('docs/configuration.md lists every variable with its default, format and meaning', () => {
  const text = readFileSync(DOC, 'utf8');
  const start = text.indexOf(START);
  const end = text.indexOf(END);
  assert.ok(start >= 0 && end > start, `docs/configuration.md must contain the markers ${START} … ${END}`);
  const expected = renderTable();
  const actual = text.slice(start + START.length, end).trim();
  if (process.env.UPDATE_DOCS === '1') {
    writeFileSync(DOC, `${text.slice(0, start + START.length)}\n${expected}\n${text.slice(end)}`);
    return;
  }
  assert.deepEqual(
    cells(actual),
    cells(expected),
    'regenerate with: UPDATE_DOCS=1 node --test test/unit/config/docs.test.ts',
  );
});
