/**
 * ensureTopics (src/kafka/topics.ts) against the real broker: it creates what is missing with the
 * given partitions and configuration, returns every topic's partition count only once each partition
 * has a leader, creates nothing when the input topic is missing, and with creation off lists every
 * missing topic at once.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { isPhiGateError } from '../../../src/errors.ts';
import { AUDIT_TOPIC_CONFIG, ensureTopics } from '../../../src/kafka/topics.ts';
import { requireStack, TestTopics, uniqueName } from '../../helpers/stack.ts';

describe('ensureTopics on the real broker', () => {
  const topics = new TestTopics();
  let input: string;
  before(async () => {
    await requireStack();
    input = await topics.create('topics-input', { partitions: 2 });
  });
  after(() => topics.cleanup());

  test('creates the missing topics and answers once every partition has a leader', async () => {
    const audit = uniqueName('topics-audit');
    const dest = uniqueName('topics-dest');
    for (const t of [audit, dest]) topics.track(t);
    const counts = await ensureTopics(
      topics.admin,
      [{ topic: input }, { topic: audit, config: AUDIT_TOPIC_CONFIG }, { topic: dest }],
      {
        input,
        create: true,
        partitions: 3,
        replicationFactor: 1,
      },
    );
    assert.deepEqual(Object.fromEntries(counts), { [input]: 2, [audit]: 3, [dest]: 3 });
    // right after: leaders known, and the configuration applied
    const { topics: meta } = await topics.admin.fetchTopicMetadata({ topics: [audit, dest] });
    for (const t of meta)
      for (const p of t.partitions) assert.ok(p.leader >= 0, `${t.name}[${p.partitionId}]`);
    const [resource] = (
      await topics.admin.describeConfigs({
        resources: [{ type: 2, name: audit, configNames: ['cleanup.policy'] }],
        includeSynonyms: false,
      })
    ).resources;
    assert.equal(resource?.configEntries[0]?.configValue, 'compact');
    // a second call finds them and creates nothing
    assert.deepEqual(
      Object.fromEntries(
        await ensureTopics(topics.admin, [{ topic: audit }, { topic: dest }], {
          input,
          create: true,
          partitions: 1,
          replicationFactor: 1,
        }),
      ),
      { [audit]: 3, [dest]: 3 },
    );
  });

  test('a missing input topic fails first, and nothing is created', async () => {
    const dest = uniqueName('topics-never');
    topics.track(dest);
    await assert.rejects(
      ensureTopics(topics.admin, [{ topic: dest }], {
        input: uniqueName('topics-no-input'),
        create: true,
        partitions: 1,
        replicationFactor: 1,
      }),
      (err: unknown) =>
        isPhiGateError(err) && err.code === 'PHIGATE_ERR_CONFIG' && /input topic/.test(err.message),
    );
    assert.ok(!(await topics.admin.listTopics()).includes(dest));
  });

  test('with creation off, every missing topic is named at once', async () => {
    const [a, b] = [uniqueName('topics-missing-a'), uniqueName('topics-missing-b')];
    await assert.rejects(
      ensureTopics(topics.admin, [{ topic: input }, { topic: a }, { topic: b }], {
        input,
        create: false,
        partitions: 1,
        replicationFactor: 1,
      }),
      (err: unknown) =>
        isPhiGateError(err) &&
        err.code === 'PHIGATE_ERR_CONFIG' &&
        err.message.includes(a) &&
        err.message.includes(b),
    );
  });
});
