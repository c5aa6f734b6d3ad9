import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { EXIT } from '../../../src/cli/io.ts';
import { preview } from '../../../src/cli/preview.ts';
import { decryptValue, loadPrivateKey } from '../../../src/crypto/index.ts';
import { runCommand } from '../../helpers/cli.ts';
import { tempDir } from '../../helpers/temp.ts';

const ROOT = join(import.meta.dirname, '..', '..', '..');
const EXAMPLES = join(ROOT, 'deploy', 'examples');

async function run(argv: string[], cwd = ROOT): Promise<{ code: number; out: string; err: string }> {
  const r = await runCommand(preview, argv, { cwd });
  return { code: r.code, out: r.stdout, err: r.stderr };
}

const POLICY = join(EXAMPLES, 'policy.yaml');
const event = (name: string) => join(EXAMPLES, 'events', name);

describe('phi-gate preview', () => {
  test('one JSON object keyed by destination: the sanitized event, or null where filtered', async () => {
    const r = await run(['--policy', POLICY, '--event', event('provider-search.json')]);
    assert.equal(r.code, EXIT.ok, r.err);
    const out = JSON.parse(r.out);
    assert.deepEqual(Object.keys(out), ['google-ads', 'mixpanel', 'warehouse']);
    assert.equal(out['google-ads'], null);
    assert.equal(out.mixpanel.properties.specialty, 'cardiology');
    assert.equal(
      out.mixpanel.properties.searchQuery,
      'cardiologist near 02139, call me back at [REDACTED:phone]',
    );
    assert.equal(out.mixpanel.properties.zip, '021');
    assert.equal(out.mixpanel.context.ip, '203.0.113.0');
    assert.equal(
      out.mixpanel.context.page.url,
      'https://care.example.com/find-a-doctor?utm_source=newsletter&utm_campaign=winter',
    );
    assert.match(out.mixpanel.userId, /^[0-9a-f]{64}$/);
    assert.deepEqual(out.mixpanel.properties.extras, { utm_content: 'search-box' }); // insurance_id hit a matcher
  });

  test('--explain: outcome, fields, kids, version and error code per destination', async () => {
    const r = await run(['--policy', POLICY, '--event', event('prescription-filled.json'), '--explain']);
    assert.equal(r.code, EXIT.ok, r.err);
    const out = JSON.parse(r.out);
    assert.equal(out.mixpanel.outcome, 'filtered');
    assert.equal(out.mixpanel.event, null);
    assert.equal(out.warehouse.outcome, 'delivered');
    assert.equal(out.warehouse.fields['properties.mrn'], 'encrypt');
    assert.deepEqual(out.warehouse.kids.includes('DEMO-ONLY-warehouse-2026-01'), true);
    assert.match(out.warehouse.policyVersion, /^[0-9a-f]{16}$/);
    assert.equal(out.warehouse.errorCode, null);
    // The demo key pair round-trips.
    const key = loadPrivateKey(join(EXAMPLES, 'keys', 'DEMO-ONLY-warehouse-2026-01.key.pem'));
    assert.equal(decryptValue(out.warehouse.event.properties.mrn, key), 'MRN-00482913');
  });

  test('--explain never shows a map key: entries are generalized (made-up name and diagnosis)', async () => {
    const dir = tempDir('preview');
    const src = JSON.parse(readFileSync(event('provider-search.json'), 'utf8'));
    src.properties.extras['Winifred Ashcombe: type 2 diabetes'] = 'x';
    writeFileSync(join(dir, 'e.json'), JSON.stringify(src));
    const r = await run(['--policy', POLICY, '--event', join(dir, 'e.json'), '--explain']);
    assert.equal(r.code, EXIT.ok, r.err);
    assert.doesNotMatch(r.err, /Winifred|Ashcombe|diabetes/);
    const out = JSON.parse(r.out) as Record<string, { event: unknown; fields: Record<string, string> }>;
    // mixpanel's policy allows extras.* (the entry reaches its event); no decision names the key
    for (const [name, d] of Object.entries(out))
      assert.doesNotMatch(JSON.stringify({ ...d, event: null }), /Winifred|Ashcombe|diabetes/, name);
    const fields = out.mixpanel?.fields ?? {};
    assert.equal(fields['properties.extras.*'], 'allow');
    assert.equal(fields['properties.extras.<pii:insurance_id>'], 'drop');
  });

  test('every example event previews; PHI in free text never reaches mixpanel', async () => {
    for (const name of [
      'appointment-booked.json',
      'identify.json',
      'page-utm.json',
      'visit-notes.json',
      'provider-search.json',
      'prescription-filled.json',
    ]) {
      const r = await run(['--policy', POLICY, '--event', event(name)]);
      assert.equal(r.code, EXIT.ok, `${name}: ${r.err}`);
      const mixpanel = JSON.stringify(JSON.parse(r.out).mixpanel);
      assert.doesNotMatch(
        mixpanel,
        /Testperson|jane\.testperson|900-12-3456|555-0142|4111 1111|MRN-004|M-2026/,
        name,
      );
    }
  });

  test('consent: the ad platform gets the event only with Advertising consent; --explain says which category blocked it', async () => {
    const consented = await run([
      '--policy',
      POLICY,
      '--event',
      event('appointment-booked.json'),
      '--explain',
    ]);
    assert.equal(consented.code, EXIT.ok, consented.err);
    const ok = JSON.parse(consented.out)['google-ads'];
    assert.equal(ok.outcome, 'delivered');
    assert.match(ok.event.traits.email, /^[0-9a-f]{64}$/);
    assert.equal(ok.consentBlockedBy, undefined);

    const dir = tempDir('preview');
    const booked = JSON.parse(readFileSync(event('appointment-booked.json'), 'utf8'));
    booked.context.consent.categoryPreferences = { Advertising: false, Analytics: true };
    writeFileSync(join(dir, 'denied.json'), JSON.stringify(booked));
    delete booked.context.consent;
    writeFileSync(join(dir, 'none.json'), JSON.stringify(booked));

    const denied = await run(['--policy', POLICY, '--event', join(dir, 'denied.json'), '--explain']);
    assert.equal(denied.code, EXIT.ok, denied.err);
    const out = JSON.parse(denied.out);
    assert.deepEqual(out['google-ads'], {
      event: null,
      outcome: 'filtered_consent',
      fields: { 'context.consent.categoryPreferences.Advertising': 'consent:denied' },
      kids: [],
      policyVersion: out['google-ads'].policyVersion,
      errorCode: null,
      consentBlockedBy: [{ category: 'Advertising', reason: 'denied' }],
    });
    assert.match(denied.err, /^google-ads: filtered by consent: Advertising \(denied\)$/m);
    assert.equal(out.mixpanel.outcome, 'delivered'); // declares no consent: unaffected

    const none = await run(['--policy', POLICY, '--event', join(dir, 'none.json'), '--explain']);
    assert.deepEqual(JSON.parse(none.out)['google-ads'].consentBlockedBy, [
      { category: null, reason: 'missing' },
    ]);
    assert.match(none.err, /google-ads: filtered by consent: no consent preferences \(missing\)/);
    // Without --explain: just null, nothing on stderr.
    const plain = await run(['--policy', POLICY, '--event', join(dir, 'none.json')]);
    assert.equal(JSON.parse(plain.out)['google-ads'], null);
    assert.equal(plain.err, '');
  });

  test('a failing action: null for that destination, the reason on stderr', async () => {
    const dir = tempDir('preview');
    writeFileSync(
      join(dir, 'e.json'),
      JSON.stringify({
        messageId: 'm',
        type: 'track',
        event: 'x',
        timestamp: '2026-01-01T00:00:00Z',
        properties: { dob: 'July 1984' },
      }),
    );
    writeFileSync(
      join(dir, 'p.yaml'),
      'version: 1\ndestinations:\n  d:\n    key: drop\n    fields: { userId: drop, anonymousId: drop, properties.dob: { generalize: year } }\n',
    );
    const r = await run(['--policy', 'p.yaml', '--event', 'e.json', '--explain'], dir);
    assert.equal(r.code, EXIT.ok);
    const out = JSON.parse(r.out);
    assert.deepEqual(out.d, {
      event: null,
      outcome: 'failed_closed',
      fields: { 'properties.dob': 'failed:PHIGATE_ERR_ACTION' },
      kids: [],
      policyVersion: out.d.policyVersion,
      errorCode: 'PHIGATE_ERR_ACTION',
    });
    assert.match(r.err, /d: failed closed at properties\.dob/);
    assert.doesNotMatch(r.err, /July/);
  });

  test('input errors: an event that does not fit the schema, a missing file, usage', async () => {
    const dir = tempDir('preview');
    writeFileSync(join(dir, 'e.json'), JSON.stringify({ type: 'track' }));
    const bad = await run(['--policy', POLICY, '--event', join(dir, 'e.json')]);
    assert.equal(bad.code, EXIT.failure);
    assert.match(bad.err, /PHIGATE_ERR_INPUT: event does not fit the schema \(\d+ problems\)/);
    assert.match(bad.err, /- messageId: is required/);
    assert.equal((await run(['--policy', POLICY, '--event', join(dir, 'nope.json')])).code, EXIT.failure);
    assert.equal((await run(['--policy', POLICY])).code, EXIT.usage);
  });

  test('every mismatch is reported, and event fields the schema lacks are warnings', async () => {
    const dir = tempDir('preview');
    const src = JSON.parse(readFileSync(event('provider-search.json'), 'utf8'));
    writeFileSync(
      join(dir, 'bad.json'),
      JSON.stringify({ ...src, messageId: 7, timestamp: 'soon', userId: ['x'] }),
    );
    const bad = await run(['--policy', POLICY, '--event', join(dir, 'bad.json')]);
    assert.equal(bad.code, EXIT.failure);
    assert.match(bad.err, /\(3 problems\)/);
    for (const path of ['messageId', 'timestamp', 'userId']) assert.match(bad.err, new RegExp(`- ${path}: `));
    writeFileSync(
      join(dir, 'extra.json'),
      JSON.stringify({ ...src, campaign: 'winter', properties: { ...src.properties, specialtyy: 'x' } }),
    );
    const extra = await run(['--policy', POLICY, '--event', join(dir, 'extra.json')]);
    assert.equal(extra.code, EXIT.ok, extra.err);
    assert.match(
      extra.err,
      /^warning: event field properties\.specialtyy is not in the schema .*: ignored$/m,
    );
    assert.match(extra.err, /^warning: event field campaign is not in the schema/m);
    assert.ok(JSON.parse(extra.out).mixpanel, 'the preview still runs');
  });

  test('the default schema resolves from the package root, not the working directory', async () => {
    const r = await run(['--policy', POLICY, '--event', event('identify.json')], tmpdir());
    assert.equal(r.code, EXIT.ok, r.err);
  });
});
