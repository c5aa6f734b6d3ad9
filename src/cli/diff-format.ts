/** The text report of `phi-gate diff` (a PolicyDiff, src/policy/diff.ts): one block per destination. */
import type { DestinationDiff, EventCounts, PolicyDiff } from '../policy/diff.ts';

function counts(c: EventCounts): string {
  const parts = [`${c.delivered} delivered`];
  if (c.filtered > 0) parts.push(`${c.filtered} filtered`);
  if (c.filtered_consent > 0) parts.push(`${c.filtered_consent} filtered_consent`);
  if (c.failed_closed > 0) parts.push(`${c.failed_closed} failed_closed`);
  return parts.join(', ');
}

function unchanged(d: DestinationDiff): boolean {
  return d.presence === 'both' && d.newlyDelivered === 0 && d.newlyFiltered === 0 && d.fields.length === 0;
}

function block(d: DestinationDiff): string[] {
  const presence = d.presence === 'both' ? '' : d.presence === 'added' ? ' (new destination)' : ' (removed)';
  if (unchanged(d)) return [`${d.destination}: no change (${counts(d.new)})`];
  const lines = [`${d.destination}${presence}:`];
  lines.push(`  events: old ${counts(d.old)}; new ${counts(d.new)}`);
  lines.push(`  newly delivered: ${d.newlyDelivered}, newly filtered: ${d.newlyFiltered}`);
  const width = Math.max(0, ...d.fields.map((f) => f.path.length));
  for (const f of d.fields) {
    const mark = f.leak === null ? '' : `   LEAK: reaches ${d.destination} in clear; ${f.leak}`;
    lines.push(
      `  ${f.leak === null ? ' ' : '!'} ${f.path.padEnd(width)}  ${f.from} → ${f.to}  (${f.events} event${f.events === 1 ? '' : 's'})${mark}`,
    );
  }
  return lines;
}

export function formatDiff(diff: PolicyDiff, source: string): string {
  const lines = [
    `${diff.events} events compared from ${source}` +
      (diff.undecodable > 0 ? `; ${diff.undecodable} undecodable (not compared)` : ''),
    `old policy version ${diff.oldVersion} → new policy version ${diff.newVersion}`,
    '',
  ];
  for (const d of diff.destinations) lines.push(...block(d));
  lines.push('');
  lines.push(
    diff.leaks === 0
      ? 'no field newly reaches a destination in clear'
      : `${diff.leaks} newly leaking field value${diff.leaks === 1 ? '' : 's'} (marked !): a flagged field or a detector hit reaches a destination in clear where it did not`,
  );
  return `${lines.join('\n')}\n`;
}
