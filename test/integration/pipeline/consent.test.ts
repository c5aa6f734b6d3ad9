/**
 * Consent-aware delivery end to end on the real broker and registry: `phi-gate run` with an ad
 * destination that declares `consent: { categories: [Advertising] }` and an analytics destination
 * that declares none. Events with Advertising granted reach the ads topic; denied ones and ones
 * without preferences (`missing: drop`, the default) do not, and their audit entries say
 * `filtered_consent` — counted in phigate_destination_events_total{outcome="filtered_consent"}.
 */
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { consumeAll } from '../../helpers/consume.ts';
import {
  EventProducer,
  type Keys,
  makeKeys,
  type ServiceTopics,
  segmentEvent,
  serviceTopics,
} from '../../helpers/pipeline.ts';
import { Service } from '../../helpers/service.ts';
import { registry, requireStack, TestTopics, uniqueName } from '../../helpers/stack.ts';

describe('pipeline: consent-aware delivery', () => {
  const topics = new TestTopics();
  let keys: Keys;
  let producer: EventProducer;
  let service: Service;
  let names: ServiceTopics<'ads' | 'analytics'>;

  before(async () => {
    await requireStack();
    keys = await makeKeys();
    names = await serviceTopics(topics, 'consent', ['ads', 'analytics']);
    const policyFile = join(keys.dir, 'consent-policy.yaml');
    await writeFile(
      policyFile,
      `version: 1
audit:
  hashKey: { file: ${keys.dir}/audit.hmac }
destinations:
  ads:
    topic: ${names.ads}
    key: drop
    consent: { categories: [Advertising] }
    fields:
      properties.specialty: allow
    hashKey: { file: ${keys.dir}/ads.hmac }
  analytics:
    topic: ${names.analytics}
    fields:
      properties.specialty: allow
    hashKey: { file: ${keys.dir}/mixpanel.hmac }
`,
    );
    producer = new EventProducer(names.input);
    await producer.connect();
    service = await Service.start({ ...names, groupId: uniqueName('consent-group'), policyFile });
    await service.waitReady();
  });

  after(async () => {
    await service?.stop();
    await producer?.disconnect();
    await topics.cleanup();
  });

  const withConsent = (prefs: Record<string, boolean> | null) => {
    const e = segmentEvent('search', 1);
    return prefs === null ? e : { ...e, context: { consent: { categoryPreferences: prefs } } };
  };
  const granted = [withConsent({ Advertising: true, Analytics: false }), withConsent({ Advertising: true })];
  const denied = [withConsent({ Advertising: false, Analytics: true })];
  const missing = [withConsent(null)];

  test('consented events reach the ad destination; refused and missing ones are filtered_consent', async () => {
    await producer.send([...granted, ...denied, ...missing]);
    const all = [...granted, ...denied, ...missing];
    const [ads, analytics, audit] = await Promise.all([
      consumeAll(names.ads, { count: granted.length, settleMs: 1000 }),
      consumeAll(names.analytics, { count: all.length, settleMs: 500 }),
      consumeAll(names.audit, { count: all.length * 2 + 2, settleMs: 500 }),
    ]);
    const reg = registry();
    const adIds = new Set(
      await Promise.all(ads.map(async (r) => (await reg.decode(r.message.value as Buffer)).messageId)),
    );
    assert.deepEqual([...adIds].sort(), granted.map((e) => e.messageId).sort(), 'only consented events');
    assert.equal(analytics.length, all.length, 'a destination without consent is unaffected');

    const outcomes = new Map<string, string>();
    for (const r of audit) {
      const entry = await reg.decode(r.message.value as Buffer);
      if (entry.kind === 'event') outcomes.set(r.message.key?.toString() ?? '', entry.outcome);
    }
    for (const e of granted) assert.equal(outcomes.get(`ads/${e.messageId}`), 'delivered');
    for (const e of [...denied, ...missing])
      assert.equal(outcomes.get(`ads/${e.messageId}`), 'filtered_consent');
    for (const e of all) assert.equal(outcomes.get(`analytics/${e.messageId}`), 'delivered');

    await Service.until(
      async () =>
        (await service.counter('phigate_destination_events_total', {
          destination: 'ads',
          outcome: 'filtered_consent',
        })) ===
        denied.length + missing.length,
      10_000,
      'the filtered_consent counter',
    );
    assert.equal(
      await service.counter('phigate_destination_events_total', { destination: 'ads', outcome: 'delivered' }),
      granted.length,
    );
  });
});
