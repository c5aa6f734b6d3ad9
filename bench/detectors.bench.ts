/**
 * The value detectors (redact mode) on what they must leave alone and on what they must find.
 * Run: `node bench/detectors.bench.ts [N]` (N random ids per form, default 100,000).
 *
 * - false positives: the share of random identifiers of common message-id forms that the scanner
 *   would change — each one a messageId changed downstream, where it is the dedupe and join key;
 * - cost: µs per scanned string for free text without digits, with digits but no PII, and with PII.
 */
import { randomUUID } from 'node:crypto';
import { compileScanner } from '../src/policy/detectors.ts';

const N = Number(process.argv[2] ?? 100_000);
const scan = compileScanner('redact', []);
if (scan === null) throw new Error('redact mode compiles a scanner');

const CLOCK_START = 1_600_000_000_000; // 2020-09-13, 13 digits like every ms clock until 2286
const ID_FORMS: Record<string, (i: number) => string> = {
  'uuid v4': () => randomUUID(),
  'analytics-node (node-next-<ms>-<uuid>)': (i) => `node-next-${CLOCK_START + i * 7919}-${randomUUID()}`,
  'analytics.js-style (ajs-next-<ms>-<hex>)': (i) =>
    `ajs-next-${CLOCK_START + i * 7919}-${randomUUID().replaceAll('-', '')}`,
  'counter + clock (msg-<ms>-<n>)': (i) => `msg-${CLOCK_START + i * 7919}-${i}`,
};

console.log(`node ${process.version}, ${N.toLocaleString('en-US')} random ids per form\n`);
console.log('false positives: ids the scanner would change');
for (const [form, make] of Object.entries(ID_FORMS)) {
  const kinds = new Map<string, number>();
  let changed = 0;
  for (let i = 0; i < N; i++) {
    const id = make(i);
    let kind = '';
    if (scan(id, (k) => (kind = k)) !== id) {
      changed++;
      kinds.set(kind, (kinds.get(kind) ?? 0) + 1);
    }
  }
  const byKind = [...kinds].map(([k, n]) => `${k} ${((100 * n) / N).toFixed(2)} %`).join(', ');
  console.log(`  ${form.padEnd(44)} ${((100 * changed) / N).toFixed(3).padStart(7)} %  ${byKind}`);
}

const TEXTS: Record<string, string> = {
  'no digits': 'Looking for a cardiologist who speaks Spanish near downtown',
  'digits, no PII': 'Visit on 2026-01-19 at 09:00, copay $25.00, room 12, order 4471',
  'with PII': 'call (617) 555-0142 or jane.testperson@example.com, card 4111 1111 1111 1111',
  'intl phone': 'call +44 20 7946 0958 after six',
};
console.log('\ncost per scanned string (median of 5 rounds)');
const noop = (): void => {};
for (const [name, text] of Object.entries(TEXTS)) {
  const rounds: number[] = [];
  let sink = 0;
  for (let r = 0; r < 6; r++) {
    const start = performance.now();
    for (let i = 0; i < 200_000; i++) sink += scan(text, noop).length;
    if (r > 0) rounds.push(((performance.now() - start) * 1000) / 200_000); // round 0 warms up
  }
  rounds.sort((a, b) => a - b);
  console.log(
    `  ${name.padEnd(16)} ${(rounds[2] ?? 0).toFixed(3).padStart(7)} µs${sink === 0 ? ' (unreachable)' : ''}`,
  );
}
