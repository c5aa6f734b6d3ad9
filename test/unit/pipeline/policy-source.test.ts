import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import pino from 'pino';
import { Registry } from 'prom-client';
import { createMetrics } from '../../../src/observability/metrics.ts';
import { PolicySource } from '../../../src/pipeline/policy-source.ts';
import { packageRoot } from '../../../src/policy/index.ts';

const open = () =>
  PolicySource.open({
    file: join(packageRoot(), 'deploy', 'examples', 'policy.yaml'),
    env: {},
    pollMs: 60_000,
    logger: pino({ level: 'silent' }),
    metrics: createMetrics(new Registry(), { defaultMetrics: false }),
  });

describe('policy audit entries with partitions processed concurrently', () => {
  test('each version in force is claimed by one transaction at a time, and written once', async () => {
    const source = await open();
    const names = source.current.destinations.map((d) => d.name);
    const first = source.claimAudit();
    assert.deepEqual(
      first.map((d) => d.name),
      names,
    );
    assert.deepEqual(source.claimAudit(), [], 'a concurrent transaction gets nothing to write');
    source.auditWritten(first);
    assert.deepEqual(source.claimAudit(), [], 'written: never again');
  });

  test('entries of a transaction that failed are claimed by the next one', async () => {
    const source = await open();
    const claimed = source.claimAudit();
    assert.ok(claimed.length > 0);
    source.auditAbandoned(claimed);
    assert.deepEqual(source.claimAudit(), claimed);
  });
});
