/**
 * Policy engine throughput: for each example event × destination, decode (the pipeline's compiled
 * Avro codec) + apply + encode (the pipeline's framed encoder), on one core. Then the same the way the pipeline
 * runs it: each event decoded once and applied + encoded for every destination of a policy, counted
 * in event-destination applications. Also: the decode+encode floor on this machine (compiled codec
 * and avsc's own), and the amortized cost of one encrypted value (JWE with content-key reuse).
 *
 *   npm run bench:policy                  (BENCH_MS=<ms per measurement>, default 1000)
 */
import { readdirSync, readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import avro from 'avsc';
import { codecFor } from '../src/avro/codec.ts';
import { encodeFramed, frameHeader } from '../src/pipeline/wire.ts';
import { fromNaturalJson, loadPolicy, packageRoot, parsePolicy } from '../src/policy/index.ts';
import type { Destination, Policy } from '../src/policy/types.ts';

const MS = Number(process.env.BENCH_MS ?? 1000);
const root = packageRoot();
const examples = join(root, 'deploy', 'examples');
const schema = JSON.parse(readFileSync(join(root, 'schemas', 'segment-event.avsc'), 'utf8'));
const writer = avro.Type.forSchema(schema, { wrapUnions: 'auto' });
const codec = codecFor(writer);
const decode = (bytes: Buffer) => codec.decode(bytes) as Record<string, unknown>;

const events = readdirSync(join(examples, 'events'))
  .filter((f) => f.endsWith('.json'))
  .sort()
  .map((f) => ({
    name: f.replace(/\.json$/, ''),
    bytes: writer.toBuffer(
      fromNaturalJson(writer, JSON.parse(readFileSync(join(examples, 'events', f), 'utf8')), schema),
    ),
  }));

/** Runs `fn` repeatedly for ~MS ms after a warm-up; returns ns per call. */
function measure(fn: () => void): number {
  const warmUntil = performance.now() + Math.min(300, MS / 2);
  while (performance.now() < warmUntil) for (let i = 0; i < 100; i++) fn();
  let n = 0;
  const start = process.hrtime.bigint();
  const until = performance.now() + MS;
  while (performance.now() < until) {
    for (let i = 0; i < 200; i++) fn();
    n += 200;
  }
  return Number(process.hrtime.bigint() - start) / n;
}

function pipelineStep(
  d: Destination,
  bytes: Buffer,
): { run: () => void; applyOnly: () => void; outcome: string; encrypted: number } {
  const plan = d.compile(writer, { writerSchema: schema });
  const probe = plan.apply(decode(bytes));
  // Values actually encrypted in this event (a JWE compact string starts with the encoded header).
  const json = probe.outcome === 'delivered' ? plan.toJson(probe.value) : '';
  const encrypted = json.split('"eyJhbGciOiJSU0EtT0FFUC0yNTYi').length - 1;
  const header = frameHeader(1);
  const planCodec = codecFor(plan.type);
  const run = (): void => {
    const r = plan.apply(decode(bytes));
    if (r.outcome === 'delivered') encodeFramed(planCodec, header, r.value);
  };
  const record = decode(bytes);
  const applyOnly = (): void => {
    plan.apply(record);
  };
  return { run, applyOnly, outcome: probe.outcome, encrypted };
}

const rows: string[][] = [];
const fmt = (ns: number): [string, string] => [
  (ns / 1000).toFixed(2),
  Math.round(1e9 / ns).toLocaleString('en-US'),
];

const meanOver = (f: (bytes: Buffer) => void) => {
  const each = events.map((e) => measure(() => f(e.bytes)));
  return each.reduce((a, b) => a + b, 0) / each.length;
};
const header1 = frameHeader(1);
const floorNs = meanOver((bytes) => encodeFramed(codec, header1, decode(bytes)));
const avscFloorNs = meanOver((bytes) => writer.toBuffer(writer.fromBuffer(bytes)));

const policy = await loadPolicy(join(examples, 'policy.yaml'), { env: process.env });
// The plain case the target is stated for: allowlist, a handful of allowed fields, ids hashed
// (userId/anonymousId by default, the record key too), detectors on.
const plain = parsePolicy(
  `version: 1
destinations:
  allowlist+hash:
    hashKey: { file: keys/DEMO-ONLY-mixpanel.hmac }
    fields:
      properties.specialty: allow
      properties.providerId: allow
      properties.revenue: allow
      properties.currency: allow
      "properties.items[].sku": allow
      traits.plan: allow
      context.locale: allow
      context.page.title: allow
`.replace('allowlist+hash', 'allowlist-hash'),
  { baseDir: examples, env: process.env },
);
const perDestination = new Map<string, { run: number[]; apply: number[] }>();
for (const d of [...plain.destinations, ...policy.destinations]) {
  for (const e of events) {
    const step = pipelineStep(d, e.bytes);
    const applyNs = measure(step.applyOnly);
    const ns = measure(step.run);
    if (step.outcome === 'delivered') {
      const acc = perDestination.get(d.name) ?? { run: [], apply: [] };
      acc.run.push(ns);
      acc.apply.push(applyNs);
      perDestination.set(d.name, acc);
    }
    rows.push([
      d.name,
      e.name,
      step.outcome,
      String(step.encrypted),
      (applyNs / 1000).toFixed(2),
      ...fmt(ns),
    ]);
  }
}

/**
 * As the pipeline does it (src/pipeline/process.ts): every event decoded once, then applied and
 * encoded for each destination. Returns ns per event-destination application (filtered ones count:
 * the pipeline decides them too) over all example events in turn.
 */
function sharedDecode(p: Policy): { ns: number; applications: number } {
  const steps = p.destinations.map((d) => {
    const plan = d.compile(writer, { writerSchema: schema });
    return { plan, header: frameHeader(1), codec: codecFor(plan.type) };
  });
  let i = 0;
  const ns = measure(() => {
    const e = events[i++ % events.length] as (typeof events)[number];
    const value = decode(e.bytes);
    for (const { plan, header, codec: planCodec } of steps) {
      const r = plan.apply(value);
      if (r.outcome === 'delivered') encodeFramed(planCodec, header, r.value);
    }
  });
  return { ns: ns / steps.length, applications: steps.length };
}
const threeAllowlists = parsePolicy(
  ['mixpanel', 'warehouse', 'audit']
    .map(
      (key, n) => `  allowlist-hash-${n + 1}:
    hashKey: { file: keys/DEMO-ONLY-${key}.hmac }
    fields: { properties.specialty: allow, properties.providerId: allow, properties.revenue: allow, properties.currency: allow, "properties.items[].sku": allow, traits.plan: allow, context.locale: allow, context.page.title: allow }
`,
    )
    .join('')
    .replace(/^/, 'version: 1\ndestinations:\n'),
  { baseDir: examples, env: process.env },
);
const shared = [
  { name: '3 × allowlist-hash', ...sharedDecode(threeAllowlists) },
  { name: 'example policy', ...sharedDecode(policy) },
];

// Encryption amortized per value: apply with the warehouse's encrypting rules vs the same rules as
// plain allow (detectors off in both), divided by the values actually encrypted. Encoding the longer
// ciphertexts is left out: it is the same for any encryptor.
const wh = readFileSync(join(examples, 'policy.yaml'), 'utf8');
const variant = (encrypt: boolean) =>
  parsePolicy(
    wh
      .replace(/detectors: redact/g, 'detectors: off')
      .replace(/pii: encrypt/, encrypt ? 'pii: encrypt' : 'pii: drop')
      .replace(/: encrypt$/gm, encrypt ? ': encrypt' : ': allow'),
    { baseDir: examples, env: process.env },
  ).destinations.find((d) => d.name === 'warehouse') as Destination;
const withEnc = variant(true);
const withoutEnc = variant(false);
let encNs = 0;
let encValues = 0;
for (const e of events) {
  const a = pipelineStep(withEnc, e.bytes);
  if (a.outcome !== 'delivered' || a.encrypted === 0) continue;
  const b = pipelineStep(withoutEnc, e.bytes);
  encNs += measure(a.applyOnly) - measure(b.applyOnly);
  encValues += a.encrypted;
}

const header = ['destination', 'event', 'outcome', 'encrypted', 'apply µs', 'pipeline µs', 'events/s/core'];
const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
const line = (r: string[]) =>
  r.map((c, i) => (i >= 3 ? c.padStart(widths[i] ?? 0) : c.padEnd(widths[i] ?? 0))).join('  ');
console.log(
  `phi-gate policy benchmark — node ${process.version}, ${cpus()[0]?.model ?? 'cpu'} × ${cpus().length}, load ${loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}, ${MS} ms per measurement`,
);
console.log('pipeline = compiled decode + apply + framed encode, per event × destination, one core\n');
console.log(line(header));
console.log(widths.map((w) => '-'.repeat(w)).join('  '));
for (const r of rows) console.log(line(r));
console.log('\nper destination, delivered events (mean):');
const mean = (list: number[]) => list.reduce((a, b) => a + b, 0) / list.length;
for (const [name, { run, apply }] of perDestination) {
  const [us, rate] = fmt(mean(run));
  const [applyUs, applyRate] = fmt(mean(apply));
  console.log(
    `  ${name.padEnd(15)} pipeline ${us.padStart(7)} µs ${rate.padStart(9)}/s   apply only ${applyUs.padStart(7)} µs ${applyRate.padStart(9)}/s`,
  );
}
console.log('\nas the pipeline runs it: each event decoded once, applied + encoded per destination:');
for (const { name, ns, applications } of shared) {
  const [us, rate] = fmt(ns);
  console.log(
    `  ${name.padEnd(20)} ${us.padStart(7)} µs ${rate.padStart(9)} event-destination applications/s (${applications} destinations)`,
  );
}
const [floorUs, floorRate] = fmt(floorNs);
const [avscUs, avscRate] = fmt(avscFloorNs);
console.log(
  `\nfloor (writer decode + encode, no policy): compiled codec ${floorUs} µs/event, ${floorRate} events/s/core; avsc ${avscUs} µs/event, ${avscRate} events/s/core`,
);
console.log(
  `encryption (JWE, content key reused): ${encValues === 0 ? 'n/a' : `${(encNs / encValues / 1000).toFixed(2)} µs per value, amortized over ${encValues} values`}`,
);
