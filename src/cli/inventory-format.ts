/**
 * How `phi-gate inventory` prints entries: `table` for a terminal (one row per field, a column per
 * destination), `markdown` for docs, `json` for machines (the entries as they are). Pure: strings in,
 * strings out.
 */
import type { InventoryCell, InventoryEntry } from '../policy/inventory.ts';

export type InventoryFormat = 'table' | 'json' | 'markdown';
export const INVENTORY_FORMATS: readonly InventoryFormat[] = ['table', 'json', 'markdown'];

/** The entries of one writer schema, under the label that names it. */
export interface InventoryGroup {
  readonly label: string;
  readonly entries: readonly InventoryEntry[];
}

const LEGEND =
  'cells: action (what decided it: explicit [: the rule, when it names an ancestor] | pii | envelope | mode | plan)\n' +
  '[new]: not in the reviewed schema version; UNREVIEWED: new, and no rule of that destination names it';

export function cellText(path: string, cell: InventoryCell): string {
  const why =
    cell.rule === 'explicit' && cell.rulePath !== null && cell.rulePath !== path
      ? `explicit: ${cell.rulePath}`
      : cell.rule;
  return `${cell.action} (${why})${cell.unreviewed ? ' UNREVIEWED' : ''}`;
}

function rowsOf(group: InventoryGroup): { header: string[]; rows: string[][] } {
  const names = Object.keys(group.entries[0]?.destinations ?? {});
  const header = ['path', 'type', 'matcher', ...names];
  const rows = group.entries.map((e) => [
    e.newSinceReview === true ? `${e.path} [new]` : e.path,
    e.avroType,
    e.classification === null
      ? ''
      : `${e.classification.matcher}${e.classification.source === 'custom' ? ' (custom)' : ''}`,
    ...names.map((n) => {
      const cell = e.destinations[n];
      return cell === undefined ? '' : cellText(e.path, cell);
    }),
  ]);
  return { header, rows };
}

function table(groups: readonly InventoryGroup[]): string {
  const parts: string[] = [];
  for (const g of groups) {
    const { header, rows } = rowsOf(g);
    const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
    const line = (cells: readonly string[]): string =>
      cells
        .map((c, i) => c.padEnd(widths[i] ?? 0))
        .join('  ')
        .trimEnd();
    parts.push(
      [`${g.label}`, line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n'),
    );
  }
  return `${parts.join('\n\n')}\n\n${LEGEND}\n`;
}

const md = (text: string): string => text.replace(/\|/g, '\\|');

function markdown(groups: readonly InventoryGroup[]): string {
  const parts: string[] = [];
  for (const g of groups) {
    const { header, rows } = rowsOf(g);
    const line = (cells: readonly string[]): string => `| ${cells.map(md).join(' | ')} |`;
    parts.push(
      [`### ${md(g.label)}`, '', line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n'),
    );
  }
  return `${parts.join('\n\n')}\n\n${LEGEND.split('\n').join('  \n')}\n`;
}

export function formatInventory(groups: readonly InventoryGroup[], format: InventoryFormat): string {
  if (format === 'json')
    return `${JSON.stringify(
      groups.flatMap((g) => g.entries),
      null,
      2,
    )}\n`;
  return format === 'table' ? table(groups) : markdown(groups);
}
