/** The policy comparison of `phi-gate diff`: counts, field changes and what makes a leak. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { PolicyComparison } from '../../../src/policy/diff.ts';
import { policyFrom, SEGMENT_SCHEMA, SEGMENT_TYPE, segment } from './support.ts';

const policy = (body: string) =>
  policyFrom(`version: 1
destinations:
  d:
    hashKey: { env: HK }
${body}`);

const search = (properties: Record<string, unknown>) =>
  segment({ event: 'Provider Search', properties: { specialty: 'cardiology', ...properties } });

function compare(oldBody: string, newBody: string, events: unknown[]) {
  const c = new PolicyComparison(policy(oldBody), policy(newBody));
  for (const e of events) c.add(SEGMENT_TYPE, SEGMENT_SCHEMA, e);
  return c.result();
}

describe('PolicyComparison', () => {
  test('identical policies: no change, no leak', () => {
    const body = '    fields: { properties.specialty: allow }\n';
    const r = compare(body, body, [search({}), search({})]);
    assert.equal(r.events, 2);
    assert.equal(r.leaks, 0);
    const [d] = r.destinations;
    assert.deepEqual(d?.fields, []);
    assert.equal(d?.old.delivered, 2);
    assert.equal(d?.newlyDelivered, 0);
  });

  test('a flagged field newly allowed in clear is a leak, with the matcher named', () => {
    const r = compare(
      '    fields: { properties.email: hash }\n',
      '    detectors: off\n    fields: { properties.email: allow }\n',
      [search({ email: 'pat@example.com' }), search({ email: null })],
    );
    const [d] = r.destinations;
    const email = d?.fields.filter((f) => f.path === 'properties.email');
    assert.deepEqual(
      email?.map((f) => [f.from, f.to, f.events, f.leak !== null]),
      [
        ['hash', 'allow', 1, true],
        ['hash', 'allow', 1, false],
      ],
    );
    assert.match(email?.[0]?.leak ?? '', /'email' matcher/);
    assert.equal(r.leaks, 1, 'the event whose email is null sends nothing: no leak for it');
  });

  test('dropping more is never a leak', () => {
    const r = compare(
      '    fields: { properties.specialty: allow, properties.email: hash }\n',
      '    fields: { properties.email: drop }\n',
      [search({ email: 'pat@example.com' })],
    );
    assert.equal(r.leaks, 0);
    const changes = r.destinations[0]?.fields.map((f) => `${f.path}: ${f.from} → ${f.to}`);
    assert.deepEqual(changes, ['properties.email: hash → drop', 'properties.specialty: allow → drop']);
  });

  test('a detector hit newly in clear (flag instead of redact) is a leak; redacted is not', () => {
    const events = [search({ searchQuery: 'call me at pat@example.com' })];
    const flagged = compare(
      '    fields: { properties.searchQuery: allow }\n',
      '    detectors: flag\n    fields: { properties.searchQuery: allow }\n',
      events,
    );
    const q = flagged.destinations[0]?.fields.find((f) => f.path === 'properties.searchQuery');
    assert.deepEqual([q?.from, q?.to], ['redact:email', 'flag:email']);
    assert.match(q?.leak ?? '', /value detector/);
    const redacted = compare('    fields: {}\n', '    fields: { properties.searchQuery: allow }\n', events);
    assert.equal(redacted.leaks, 0);
  });

  test('events newly delivered count, and their clear flagged fields leak', () => {
    const r = compare(
      '    events: { drop: ["Provider Search"] }\n    fields: { properties.email: allow }\n    detectors: off\n',
      '    fields: { properties.email: allow }\n    detectors: off\n',
      [search({ email: 'pat@example.com' })],
    );
    const d = r.destinations[0];
    assert.equal(d?.newlyDelivered, 1);
    assert.equal(d?.old.filtered, 1);
    const email = d?.fields.find((f) => f.path === 'properties.email');
    assert.deepEqual([email?.from, email?.to], ['(filtered)', 'allow']);
    assert.ok(email?.leak);
    // only leaking fields are listed for a newly delivered event; the counts tell the rest
    assert.ok(d?.fields.every((f) => f.leak !== null));
  });

  test('newly filtered events are counted, not listed field by field', () => {
    const r = compare(
      '    fields: { properties.specialty: allow }\n',
      '    events: { drop: ["Provider Search"] }\n    fields: { properties.specialty: allow }\n',
      [search({}), search({})],
    );
    const d = r.destinations[0];
    assert.equal(d?.newlyFiltered, 2);
    assert.equal(d?.new.filtered, 2);
    assert.deepEqual(d?.fields, []);
  });

  test('a destination only the new policy has: added, every delivered event newly delivered', () => {
    const c = new PolicyComparison(
      policy('    fields: {}\n'),
      policyFrom(`version: 1
destinations:
  d:
    hashKey: { env: HK }
    fields: {}
  e:
    hashKey: { env: HK }
    detectors: off
    fields: { properties.email: allow }
`),
    );
    c.add(SEGMENT_TYPE, SEGMENT_SCHEMA, search({ email: 'pat@example.com' }));
    c.undecodable();
    const r = c.result();
    assert.equal(r.undecodable, 1);
    const e = r.destinations.find((x) => x.destination === 'e');
    assert.equal(e?.presence, 'added');
    assert.equal(e?.newlyDelivered, 1);
    assert.deepEqual(
      e?.fields.map((f) => [f.path, f.from, f.to]),
      [['properties.email', '(absent)', 'allow']],
    );
    assert.equal(r.leaks, 1);
  });

  test('no value appears in the result', () => {
    const r = compare(
      '    fields: { properties.email: hash }\n',
      '    detectors: off\n    fields: { properties.email: allow }\n',
      [search({ email: 'pat@example.com' })],
    );
    assert.doesNotMatch(JSON.stringify(r), /pat@example\.com|cardiology/);
  });
});
