/** The fail-safe precedence: explicit rule > envelope default > matcher > wildcard > ancestor > mode default. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { destinationFrom, natural, SEGMENT_TYPE, segment } from '../support.ts';

const HEX64 = /^[0-9a-f]{64}$/;

function run(body: string, event: Record<string, unknown>): Record<string, unknown> {
  return natural(destinationFrom(body).compile(SEGMENT_TYPE), segment(event));
}

describe('precedence', () => {
  test('an explicit rule on the field beats its matcher hit', () => {
    const out = run('    fields: { properties.email: allow }\n', {
      properties: { email: 'jane@example.com' },
    });
    assert.deepEqual(out.properties, { email: '[REDACTED:email]' }); // allowed, but detectors still scan it
  });

  test('a matcher hit beats a rule inherited from an ancestor', () => {
    const out = run('    fields: { traits: allow }\n', {
      traits: { email: 'jane@example.com', plan: 'premium', firstName: 'Jane' },
    });
    assert.deepEqual(out.traits, { plan: 'premium' }); // email, firstName: pii (drop); the rest allowed
  });

  test('the pii action applies to matcher hits (hash)', () => {
    const out = run('    mode: blocklist\n    pii: hash\n', {
      properties: { email: 'jane@example.com', specialty: 'cardiology' },
    });
    const p = out.properties as Record<string, unknown>;
    assert.match(p.email as string, HEX64);
    assert.equal(p.specialty, 'cardiology');
  });

  test('an ancestor rule beats the mode default', () => {
    const out = run('    fields: { context.page: allow }\n', {
      context: { page: { title: 'Find a doctor', path: '/find' }, locale: 'en-US' },
    });
    assert.deepEqual(out.context, {
      page: { path: '/find', referrer: null, title: 'Find a doctor', url: null },
    });
  });

  test('mode default: allowlist drops what no rule names, blocklist keeps it', () => {
    const event = { properties: { specialty: 'cardiology' } };
    assert.equal(run('', event).properties, undefined);
    assert.equal(
      (run('    mode: blocklist\n', event).properties as Record<string, unknown>).specialty,
      'cardiology',
    );
  });

  test('more literal segments win', () => {
    const out = run('    fields: { "*.email": drop, properties.email: hash }\n', {
      properties: { email: 'jane@example.com' },
    });
    assert.match((out.properties as Record<string, unknown>).email as string, HEX64);
  });

  test('between equally specific rules the more protective one wins', () => {
    const out = run(
      '    fields: { context.*.title: allow, "*.page.title": drop, context.page.path: allow }\n',
      {
        context: { page: { title: 'Find a doctor', path: '/find' } },
      },
    );
    assert.deepEqual(out.context, { page: { path: '/find' } });
  });

  test('a wildcard rule ranks below matchers: extras.* never lets a flagged key through', () => {
    const out = run('    fields: { properties.extras.*: allow }\n', {
      properties: { extras: { visit_type: 'video', ssn: '900-12-3456', patientEmail: 'x' } },
    });
    assert.deepEqual((out.properties as Record<string, unknown>).extras, { visit_type: 'video' });
  });

  test('a wildcard rule beats what the ancestor says', () => {
    const out = run('    fields: { properties: drop, properties.*: allow }\n', {
      properties: { specialty: 'cardiology', mrn: 'MRN-1' },
    });
    assert.deepEqual(out.properties, {
      specialty: 'cardiology',
      providerId: null,
      searchQuery: null,
      notes: null,
      revenue: null,
      currency: null,
      items: [],
      extras: {},
    });
  });

  test('an explicit rule below a dropped ancestor still applies', () => {
    const out = run('    mode: blocklist\n    fields: { properties: drop, properties.specialty: allow }\n', {
      properties: { specialty: 'cardiology', currency: 'USD' },
    });
    assert.deepEqual(out.properties, { specialty: 'cardiology' });
  });

  test('a transforming rule on a record applies to every scalar below it (matcher hits below still win)', () => {
    const out = run('    fields: { traits.address: { mask: { keepLast: 2 } } }\n', {
      traits: { address: { city: 'Cambridge', state: 'MA' } },
    });
    // street, city, postalCode hit matchers (pii: drop); state and country inherit the mask.
    assert.deepEqual((out.traits as Record<string, unknown>).address, { state: '**', country: null });
  });
});

describe('envelope defaults', () => {
  const event = {
    messageId: 'msg-9',
    event: 'Provider Search',
    userId: 'user-40213',
    anonymousId: 'anon-1',
    name: 'Find',
    groupId: 'g-1',
    sentAt: 1,
    receivedAt: 2,
  };
  for (const mode of ['allowlist', 'blocklist']) {
    test(`${mode}: messageId, type, event and timestamps pass; userId and anonymousId are hashed`, () => {
      const out = run(`    mode: ${mode}\n`, event);
      assert.equal(out.messageId, 'msg-9');
      assert.equal(out.type, 'track');
      assert.equal(out.event, 'Provider Search');
      assert.equal(out.timestamp, 1_700_000_000_000);
      assert.equal(out.sentAt, 1);
      assert.equal(out.receivedAt, 2);
      assert.match(out.userId as string, HEX64);
      assert.match(out.anonymousId as string, HEX64);
    });
  }
  test('allowlist: other top-level fields are not envelope (groupId, name dropped)', () => {
    const out = run('', event);
    assert.equal('groupId' in out, false);
    assert.equal('name' in out, false);
  });
  test('a rule overrides the envelope default', () => {
    const out = run('    fields: { userId: drop, anonymousId: allow, timestamp: drop }\n', event);
    assert.equal('userId' in out, false);
    assert.equal(out.anonymousId, 'anon-1');
    assert.equal('timestamp' in out, false);
  });
  test('a top-level wildcard does not override the envelope', () => {
    const out = run('    mode: blocklist\n    fields: { "*": drop }\n', event);
    assert.deepEqual(Object.keys(out).sort(), [
      'anonymousId',
      'event',
      'messageId',
      'receivedAt',
      'sentAt',
      'timestamp',
      'type',
      'userId',
    ]);
  });
});
