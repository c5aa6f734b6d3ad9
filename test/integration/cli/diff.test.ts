/**
 * `phi-gate diff` on the real broker and registry: a topic holding events (and one undecodable
 * record), an OLD policy, a NEW one that newly lets a matcher-flagged field through in clear → exit 4;
 * one that only drops more → exit 0; an invalid one → every problem, exit 3. Nothing is written: the
 * topic list and the registry's subjects are the same before and after.
 */
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { diff } from '../../../src/cli/diff.ts';
import { runCommand } from '../../helpers/cli.ts';
import { EventProducer, segmentEvent } from '../../helpers/pipeline.ts';
import { BROKERS, REGISTRY_URL, requireStack, TestTopics } from '../../helpers/stack.ts';
import { tempDir } from '../../helpers/temp.ts';

const HK = 'test-only-diff-hmac-key-0123456789abcdefghij';

const policy = (fields: string, extra = '') => `version: 1
destinations:
  mixpanel:
    hashKey: { env: DIFF_HK }${extra}
    fields:
${fields}
`;

const OLD = policy(`      properties.specialty: allow
      properties.email: hash`);
// detectors off: with the default `redact`, the email detector would still catch the values
const LEAKS = policy(
  `      properties.specialty: allow
      properties.email: allow`,
  '\n    detectors: off',
);
/** The same change with the detectors on: the values are redacted, not in clear — no leak. */
const REDACTED = policy(`      properties.specialty: allow
      properties.email: allow`);
const DROPS_MORE = policy(`      properties.email: hash`);
const INVALID = `version: 1
destinations:
  mixpanel:
    mode: allowlst
    hashKey: { env: DIFF_HK }
    fields:
      properties.email: hsh
`;

async function subjects(): Promise<string[]> {
  return ((await (await fetch(`${REGISTRY_URL}/subjects`)).json()) as string[]).sort();
}

describe('phi-gate diff', () => {
  const topics = new TestTopics();
  let dir: string;
  let env: Record<string, string>;
  let producer: EventProducer;

  before(async () => {
    await requireStack();
    dir = tempDir('diff');
    for (const [name, text] of Object.entries({ OLD, LEAKS, REDACTED, DROPS_MORE, INVALID }))
      await writeFile(join(dir, `${name}.yaml`), text);
    const input = await topics.create('diff-raw', { partitions: 2 });
    producer = new EventProducer(input);
    await producer.connect();
    await producer.send([
      segmentEvent('search', 1),
      segmentEvent('search', 2),
      segmentEvent('booked', 3),
      segmentEvent('identify', 4),
    ]);
    await producer.sendRaw([{ key: 'x', value: Buffer.from('not avro') }]);
    env = {
      KAFKA_BROKERS: BROKERS.join(','),
      SCHEMA_REGISTRY_URL: REGISTRY_URL,
      PHIGATE_INPUT_TOPIC: input,
      PHIGATE_POLICY_FILE: join(dir, 'OLD.yaml'),
      DIFF_HK: HK,
    };
  });

  after(async () => {
    await producer?.disconnect();
    await topics.cleanup();
  });

  test('a change that lets a flagged field through in clear exits 4, and nothing is written', async () => {
    // other suites share this broker and registry: only names this test could have caused are compared
    const ours = (names: string[]) =>
      names.filter((n) => n.includes(env.PHIGATE_INPUT_TOPIC as string) || n.includes('diff'));
    const topicsBefore = ours(await topics.admin.listTopics()).sort();
    const subjectsBefore = ours(await subjects());
    const r = await runCommand(diff, ['--policy', 'LEAKS.yaml', '--from', 'earliest'], { cwd: dir, env });
    assert.equal(r.code, 4, r.stderr + r.stdout);
    assert.match(r.stdout, /4 events compared/);
    assert.match(r.stdout, /1 undecodable/);
    assert.match(r.stdout, /! properties\.email +hash → allow +\(3 events\) +LEAK: .*'email' matcher/);
    // the identify event has no properties: the same change sends nothing there
    assert.match(r.stdout, /\n {4}properties\.email +hash → allow +\(1 event\)\n/);
    assert.deepEqual(ours(await topics.admin.listTopics()).sort(), topicsBefore, 'no topic created');
    assert.deepEqual(ours(await subjects()), subjectsBefore, 'no schema registered');
    const [committed] = await topics.admin.fetchOffsets({
      groupId: 'phi-gate-diff-never-joined',
      topics: [env.PHIGATE_INPUT_TOPIC as string],
    });
    assert.ok(
      committed?.partitions.every((p) => p.offset === '-1'),
      'no offset committed',
    );
  });

  test('--json: the same comparison for machines', async () => {
    const r = await runCommand(diff, ['--policy', 'LEAKS.yaml', '--from', 'earliest', '--json'], {
      cwd: dir,
      env,
    });
    assert.equal(r.code, 4);
    const out = JSON.parse(r.stdout);
    assert.equal(out.events, 4);
    assert.equal(out.undecodable, 1);
    const mixpanel = out.destinations.find((d: { destination: string }) => d.destination === 'mixpanel');
    const email = mixpanel.fields.find(
      (f: { path: string; leak: string | null }) => f.path === 'properties.email' && f.leak,
    );
    assert.deepEqual([email.from, email.to, email.events], ['hash', 'allow', 3]);
    assert.ok(email.leak);
  });

  test('a flagged field let through but caught by a value detector is no leak', async () => {
    const r = await runCommand(diff, ['--policy', 'REDACTED.yaml', '--from', 'earliest'], { cwd: dir, env });
    assert.match(r.stdout, /properties\.email +hash → redact:email +\(3 events\)/);
    // the identify event has no properties: `allow` of a null sends nothing
    assert.match(r.stdout, /properties\.email +hash → allow +\(1 event\)\n/);
    assert.equal(r.code, 0, r.stdout);
  });

  test('a change that only drops more exits 0', async () => {
    const r = await runCommand(
      diff,
      ['--policy', 'DROPS_MORE.yaml', '--against', 'OLD.yaml', '--sample', '100', '--from', 'earliest'],
      { cwd: dir, env },
    );
    assert.equal(r.code, 0, r.stderr + r.stdout);
    assert.match(r.stdout, /properties\.specialty +allow → drop/);
    assert.match(r.stdout, /no field newly reaches a destination in clear/);
  });

  test('--sample bounds the read; --from latest reads the most recent', async () => {
    const r = await runCommand(diff, ['--policy', 'LEAKS.yaml', '--sample', '2', '--json'], {
      cwd: dir,
      env,
    });
    const out = JSON.parse(r.stdout);
    assert.ok(out.events + out.undecodable <= 2, r.stdout);
  });

  test('a policy that does not validate: every problem, exit 3', async () => {
    const r = await runCommand(diff, ['--policy', 'INVALID.yaml'], { cwd: dir, env });
    assert.equal(r.code, 3);
    assert.match(r.stderr, /INVALID\.yaml/);
    assert.match(r.stderr, /2 problems/);
    assert.match(r.stderr, /mixpanel\.mode: did you mean allowlist/);
    assert.match(r.stderr, /hsh/);
  });
});
