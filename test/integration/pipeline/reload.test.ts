/**
 * Hot reload as Kubernetes does it: the policy file is a symlink into `..data`, and a ConfigMap update
 * swaps `..data` to a new directory. A valid new policy is swapped in between batches and audited; an
 * invalid one is rejected, counted, and the old policy keeps running.
 */
import assert from 'node:assert/strict';
import { mkdir, rename, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { consumeAll } from '../../helpers/consume.ts';
import {
  EventProducer,
  type Keys,
  makeKeys,
  pipelineTopics,
  policyYaml,
  segmentEvent,
} from '../../helpers/pipeline.ts';
import { Service } from '../../helpers/service.ts';
import { registry, requireStack, TestTopics, uniqueName } from '../../helpers/stack.ts';

/** Writes `text` as a new ConfigMap generation and swaps the `..data` symlink to it atomically. */
async function configMapUpdate(dir: string, generation: string, text: string): Promise<void> {
  const genDir = join(dir, `..${generation}`);
  await mkdir(genDir);
  await writeFile(join(genDir, 'policy.yaml'), text);
  await symlink(`..${generation}`, join(dir, '..data_tmp'));
  await rename(join(dir, '..data_tmp'), join(dir, '..data'));
}

describe('pipeline: policy hot reload', () => {
  const topics = new TestTopics();
  let keys: Keys;
  let names: Awaited<ReturnType<typeof pipelineTopics>>;
  let producer: EventProducer;
  let service: Service;
  let configDir: string;

  before(async () => {
    await requireStack();
    keys = await makeKeys();
    names = await pipelineTopics(topics, 'reload');
    configDir = join(keys.dir, 'configmap');
    await mkdir(configDir);
    await configMapUpdate(configDir, 'gen1', policyYaml(keys, names));
    await symlink('..data/policy.yaml', join(configDir, 'policy.yaml'));
    producer = new EventProducer(names.input);
    await producer.connect();
    service = await Service.start({
      ...names,
      groupId: uniqueName('reload-group'),
      policyFile: join(configDir, 'policy.yaml'),
    });
    await service.waitReady();
  });

  after(async () => {
    await service?.stop();
    await producer?.disconnect();
    await topics.cleanup();
  });

  test('a valid new policy is swapped in, applies to later events and is audited', async () => {
    const first = segmentEvent('booked', 1);
    await producer.send([first]);
    const before = await consumeAll(names.mixpanel, { count: 1 });
    const reg = registry();
    const v1 = await reg.decode(before[0]?.message.value as Buffer);
    assert.equal(v1.properties.currency, undefined, 'v1 does not let currency through');

    await configMapUpdate(
      configDir,
      'gen2',
      policyYaml(keys, names, { mixpanelExtra: '\n      properties.currency: allow' }),
    );
    await Service.until(
      async () => (await service.counter('phigate_policy_reloads_total', { outcome: 'applied' })) === 1,
      20_000,
      'reload applied',
    );

    const second = segmentEvent('booked', 2);
    await producer.send([second]);
    const afterReload = await consumeAll(names.mixpanel, { count: 2 });
    const decoded = await Promise.all(afterReload.map((r) => reg.decode(r.message.value as Buffer)));
    const v2 = decoded.find((d) => d.messageId === second.messageId);
    assert.equal(v2?.properties.currency, 'USD', 'the new rule applies to events after the swap');

    const audit = await consumeAll(names.audit, { count: 3 + 3 * 2 + 1, settleMs: 300 });
    const policyKeys = audit
      .map((r) => r.message.key?.toString() ?? '')
      .filter((k) => k.startsWith('policy/mixpanel/'));
    assert.equal(policyKeys.length, 2, 'both mixpanel policy versions are audited');
  });

  test('a reload that adds a destination creates its topic first; the new destination receives events', async () => {
    const crm = `${names.input}.dest.crm`;
    topics.track(crm);
    const added = `${policyYaml(keys, names, { mixpanelExtra: '\n      properties.currency: allow' })}  crm:
    topic: ${crm}
    mode: allowlist
    events:
      allow: ["Appointment Booked"]
    fields:
      properties.specialty: allow
    hashKey: { file: ${keys.dir}/mixpanel.hmac }
`;
    await configMapUpdate(configDir, 'gen2b', added);
    await Service.until(
      async () => (await service.counter('phigate_policy_reloads_total', { outcome: 'applied' })) === 2,
      20_000,
      'reload with a new destination applied',
    );
    const event = segmentEvent('booked', 3);
    await producer.send([event]);
    const received = await consumeAll(crm, { count: 1, timeoutMs: 30_000 });
    assert.equal(
      received.length,
      1,
      `the new destination's topic exists and got the event:\n${service.report(3000)}`,
    );
    const value = await registry().decode(received[0]?.message.value as Buffer);
    assert.deepEqual(
      [value.messageId, value.properties.specialty, value.properties.email],
      [event.messageId, 'dermatology', undefined],
    );
  });

  test('an invalid policy is rejected, counted, and the running one stays', async () => {
    await configMapUpdate(configDir, 'gen3', 'version: 1\ndestinations:\n  mixpanel:\n    mode: sometimes\n');
    await Service.until(
      async () => (await service.counter('phigate_policy_reloads_total', { outcome: 'rejected' })) >= 1,
      20_000,
      'reload rejected',
    );
    assert.match(service.output, /policy reload rejected/);

    const third = segmentEvent('booked', 4);
    await producer.send([third]);
    const records = await consumeAll(names.mixpanel, { count: 4 });
    const decoded = await Promise.all(records.map((r) => registry().decode(r.message.value as Buffer)));
    const v = decoded.find((d) => d.messageId === third.messageId);
    assert.equal(v?.properties.currency, 'USD', 'still the last valid policy');
    assert.equal(await service.counter('phigate_policy_reloads_total', { outcome: 'applied' }), 2);
  });
});
