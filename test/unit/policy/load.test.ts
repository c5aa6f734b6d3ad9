import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { formatProblems, isPhiGateError, type PhiGateError } from '../../../src/errors.ts';
import { loadPolicy, parsePolicy } from '../../../src/policy/index.ts';
import { KEYS, policyFrom, ROOT, TEST_ENV } from './support.ts';

function problemsOf(
  yaml: string,
  env: Record<string, string | undefined> = TEST_ENV,
): readonly { path: string; message: string }[] {
  try {
    policyFrom(yaml, env);
  } catch (err) {
    assert.ok(isPhiGateError(err, 'PHIGATE_ERR_POLICY_INVALID'), String(err));
    return (err as PhiGateError).problems;
  }
  assert.fail('expected the policy to be rejected');
}

const MANY_MISTAKES = `
version: 1
extra: true
matchers:
  synonyms:
    nosuch: [x]
  custom:
    - name: loyalty
      keys: [loyaltyCard]
      values: '(a+)+$'
audit:
  hashKey: { env: UNSET_AUDIT_KEY }
destinations:
  mixpanel:
    modee: allowlist
    format: xml
    fields:
      "properties..dob": allow
      properties.dob: { generalize: decade }
      properties.x: shred
      properties.y: { mask: { keepLast: 4 }, url: {} }
      properties.email: hash
  ads:
    key: drop
    topic: events.dest.mixpanel
    fields:
      userId: drop
      anonymousId: drop
      properties.mrn: encrypt
  wh:
    hashKey: { file: TEST-ONLY-short.hmac }
    encryption:
      active: nope
      keys:
        - kid: small
          publicKey: { file: TEST-ONLY-rsa-1024.pub.pem }
        - kid: missing
          publicKey: { file: no-such-key.pub.pem }
        - kid: both
          publicKey: { file: TEST-ONLY-rsa-2048.pub.pem, env: HK }
`;

describe('loader: every problem at once, each with its path', () => {
  const problems = problemsOf(MANY_MISTAKES);
  const byPath = new Map<string, string[]>();
  for (const p of problems) byPath.set(p.path, [...(byPath.get(p.path) ?? []), p.message]);
  const expected: [string, RegExp][] = [
    ['extra', /unknown key/],
    ['matchers.synonyms.nosuch', /no matcher named 'nosuch'/],
    ['matchers.custom[0].values', /repeats a group/],
    ['audit.hashKey', /UNSET_AUDIT_KEY.*unset/],
    ['destinations.mixpanel.modee', /unknown key/],
    ['destinations.mixpanel.format', /must be one of: avro, json/],
    ['destinations.mixpanel.fields["properties..dob"]', /bad path: empty segment/],
    [
      'destinations.mixpanel.fields["properties.dob"].generalize',
      /must be one of: year, month, birthyear, age, zip3/,
    ],
    [
      'destinations.mixpanel.fields["properties.x"]',
      /unknown action "shred" \(actions: allow, drop, hash, encrypt/,
    ],
    ['destinations.mixpanel.fields["properties.y"]', /exactly one of: sha256, generalize, mask, url/],
    ['destinations.mixpanel.hashKey', /missing: hash is used by key: hash.*fields\["properties.email"\]/],
    ['destinations.ads.encryption', /missing: encrypt is used by fields\["properties.mrn"\]/],
    ['destinations.ads.topic', /also used by destination 'mixpanel'/],
    ['destinations.wh.hashKey', /at least 32 are required/],
    ['destinations.wh.encryption.active', /active kid 'nope' is not among the listed keys/],
    ['destinations.wh.encryption.keys[0].publicKey', /RSA modulus is 1024 bits/],
    ['destinations.wh.encryption.keys[1].publicKey', /file not found/],
    ['destinations.wh.encryption.keys[2].publicKey', /exactly one of: file, env/],
  ];
  for (const [path, message] of expected) {
    test(`${path}: ${message}`, () => {
      const messages = byPath.get(path);
      assert.ok(
        messages,
        `no problem reported at ${path}; got:\n${problems.map((p) => `${p.path}: ${p.message}`).join('\n')}`,
      );
      assert.ok(
        messages.some((m) => message.test(m)),
        `${path}: ${messages.join(' | ')}`,
      );
    });
  }
  test('no problem message contains a secret', () => {
    for (const p of problems) assert.doesNotMatch(p.message, new RegExp(TEST_ENV.HK as string));
  });
});

describe('loader: a mistyped action', () => {
  const yaml = `version: 1
destinations:
  d:
    hashKey: { env: HK }
    fomat: json
    format: avroo
    fields: { properties.email: hashh, properties.x: { sha265: email }, properties.y: shred }
`;
  const problems = problemsOf(yaml);
  const text = problems.map((p) => `${p.path}: ${p.message}`);
  test('is an unknown action with a suggestion, not a missing encryption key', () => {
    assert.ok(
      text.includes(
        'destinations.d.fields["properties.email"]: unknown action "hashh": did you mean hash? (actions: allow, drop, hash, encrypt, or a mapping with one of sha256, generalize, mask, url)',
      ),
      text.join('\n'),
    );
    assert.ok(!text.some((t) => /encrypt is used by|encryption/.test(t)), text.join('\n'));
  });
  test('mistyped keys and enum values get a suggestion too; one problem per mistake', () => {
    assert.deepEqual(text.slice().sort(), [
      'destinations.d.fields["properties.email"]: unknown action "hashh": did you mean hash? (actions: allow, drop, hash, encrypt, or a mapping with one of sha256, generalize, mask, url)',
      'destinations.d.fields["properties.x"].sha265: unknown key: did you mean sha256?',
      'destinations.d.fields["properties.y"]: unknown action "shred" (actions: allow, drop, hash, encrypt, or a mapping with one of sha256, generalize, mask, url)',
      'destinations.d.fomat: unknown key: did you mean format?',
      'destinations.d.format: did you mean avro? (must be one of: avro, json)',
    ]);
  });
  test('the formatted error counts the problems once', () => {
    try {
      policyFrom(yaml);
      assert.fail('expected a rejection');
    } catch (err) {
      const first = formatProblems(err as PhiGateError).split('\n')[0];
      assert.equal(first, 'PHIGATE_ERR_POLICY_INVALID: policy is invalid (5 problems)');
    }
  });
});

describe("loader: no destination writes to phi-gate's own topics", () => {
  const yaml = `version: 1
destinations:
  a: { hashKey: { env: HK }, topic: events.raw }
  b: { hashKey: { env: HK }, topic: audit }
  c: { hashKey: { env: HK }, topic: dlq }
  d: { hashKey: { env: HK }, topic: events.raw }
  e: { hashKey: { env: HK } }
`;
  const topics = { input: 'events.raw', audit: 'audit', dlq: 'dlq' };
  test('the input, audit and DLQ topics, and another destination’s topic: every problem at once', () => {
    assert.throws(
      () => parsePolicy(yaml, { baseDir: KEYS, env: TEST_ENV, topics }),
      (err: unknown) => {
        assert.ok(isPhiGateError(err, 'PHIGATE_ERR_POLICY_INVALID'));
        assert.deepEqual(
          err.problems.map((p) => `${p.path}: ${p.message}`),
          [
            "destinations.d.topic: topic 'events.raw' is also used by destination 'a'",
            "destinations.a.topic: topic 'events.raw' is the input topic (PHIGATE_INPUT_TOPIC): a destination needs a topic of its own",
            "destinations.b.topic: topic 'audit' is the audit topic (PHIGATE_AUDIT_TOPIC): a destination needs a topic of its own",
            "destinations.c.topic: topic 'dlq' is the dead-letter topic (PHIGATE_DLQ_TOPIC): a destination needs a topic of its own",
            "destinations.d.topic: topic 'events.raw' is the input topic (PHIGATE_INPUT_TOPIC): a destination needs a topic of its own",
          ],
        );
        return true;
      },
    );
  });
  test('without runtime topics only the destinations are compared with each other', () => {
    const fine = 'version: 1\ndestinations:\n  a: { hashKey: { env: HK }, topic: events.raw }\n';
    assert.equal(parsePolicy(fine, { baseDir: KEYS, env: TEST_ENV }).destinations[0]?.topic, 'events.raw');
    assert.throws(() => parsePolicy(fine, { baseDir: KEYS, env: TEST_ENV, topics }), /policy is invalid/);
  });
});

describe('loader: YAML and file errors', () => {
  test('YAML syntax errors are reported with line and column', () => {
    const problems = problemsOf('version: 1\ndestinations:\n  d: {\n');
    assert.ok(problems.length >= 1);
    assert.match(problems[0]?.path ?? '', /^\(yaml\) line \d+, column \d+$/);
  });
  test('duplicate YAML keys are an error', () => {
    const problems = problemsOf('version: 1\nversion: 1\ndestinations: {}\n');
    assert.match(problems[0]?.message ?? '', /unique|duplicate/i);
  });
  test('a document that is not a mapping', () => {
    assert.deepEqual(problemsOf('- 1\n- 2\n'), [{ path: '(root)', message: 'must be a YAML mapping' }]);
  });
  test('version and destinations are required', () => {
    const paths = problemsOf('matchers: {}\n').map((p) => p.path);
    assert.ok(paths.includes('version') && paths.includes('destinations'), paths.join(', '));
  });
  test('loadPolicy: a missing file is a policy problem, not a crash', async () => {
    await assert.rejects(loadPolicy(join(KEYS, 'no-such-policy.yaml'), { env: {} }), (err: unknown) => {
      assert.ok(isPhiGateError(err, 'PHIGATE_ERR_POLICY_INVALID'));
      assert.equal(err.problems[0]?.path, '(file)');
      return true;
    });
  });
  test('loadPolicy: relative key paths resolve against the policy file directory', async () => {
    const policy = await loadPolicy(join(ROOT, 'deploy', 'examples', 'policy.yaml'), { env: {} });
    assert.deepEqual(
      policy.destinations.map((d) => d.name),
      ['google-ads', 'mixpanel', 'warehouse'],
    );
  });
});

describe('loader: defaults and the frozen result', () => {
  const policy = policyFrom('version: 1\ndestinations:\n  mixpanel:\n    hashKey: { env: HK }\n');
  const d = policy.destinations[0];
  test('defaults: topic, format avro, headers drop, key hash', () => {
    assert.ok(d);
    assert.equal(d.topic, 'events.dest.mixpanel');
    assert.equal(d.format, 'avro');
    assert.equal(d.keepHeaders, false);
    assert.match(d.transformKey(Buffer.from('user-40213'))?.toString() ?? '', /^[0-9a-f]{64}$/);
  });
  test('versions are hex content hashes; key ids name the key without containing it', () => {
    assert.match(policy.version, /^[0-9a-f]{16}$/);
    assert.match(d?.version ?? '', /^[0-9a-f]{16}$/);
    assert.deepEqual(d?.keyIds.length, 1);
    assert.match(d?.keyIds[0] ?? '', /^hmac:[0-9a-f]{16}$/);
    assert.doesNotMatch(JSON.stringify(d?.keyIds), /test-only/);
  });
  test('the policy is frozen', () => {
    assert.ok(Object.isFrozen(policy) && Object.isFrozen(policy.destinations) && Object.isFrozen(d));
  });
  test('no audit key: pseudonymize returns null', () => {
    assert.equal(policy.pseudonymize('user-40213'), null);
  });
  test('audit key: a stable keyed pseudonym', () => {
    const p = policyFrom(
      'version: 1\naudit: { hashKey: { env: HK } }\ndestinations:\n  d: { key: drop, fields: { userId: drop, anonymousId: drop } }\n',
    );
    assert.match(p.pseudonymize('user-40213') ?? '', /^[0-9a-f]{64}$/);
    assert.equal(p.pseudonymize('user-40213'), p.pseudonymize('user-40213'));
    assert.notEqual(p.pseudonymize('user-40213'), p.pseudonymize('user-40214'));
  });
});

describe('loader: versions', () => {
  const base = `version: 1
destinations:
  a:
    hashKey: { env: HK }
    fields: { properties.email: hash, properties.specialty: allow }
  b:
    hashKey: { env: HK }
`;
  test('key order and formatting do not change versions', () => {
    const reordered = `destinations:
  b: { hashKey: { env: HK } }
  a:
    fields:
      properties.specialty: allow
      properties.email: hash
    hashKey: { env: HK }
version: 1
`;
    const p1 = policyFrom(base);
    const p2 = policyFrom(reordered);
    assert.equal(p1.version, p2.version);
    assert.deepEqual(
      p1.destinations.map((d) => d.version),
      p2.destinations.map((d) => d.version),
    );
  });
  test('changing one destination changes its version and the policy version only', () => {
    const p1 = policyFrom(base);
    const p2 = policyFrom(base.replace('properties.specialty: allow', 'properties.specialty: drop'));
    assert.notEqual(p1.version, p2.version);
    assert.notEqual(p1.destinations[0]?.version, p2.destinations[0]?.version);
    assert.equal(p1.destinations[1]?.version, p2.destinations[1]?.version);
  });
  test('a different key is a different version', () => {
    const p1 = policyFrom(base);
    const p2 = policyFrom(base, { HK: `${TEST_ENV.HK}-rotated` });
    assert.notEqual(p1.destinations[0]?.version, p2.destinations[0]?.version);
    assert.notEqual(p1.destinations[0]?.keyIds[0], p2.destinations[0]?.keyIds[0]);
  });
});

describe('loader: warnings', () => {
  test('an allow rule on a field a matcher flags is a warning, not an error', () => {
    const policy = policyFrom(
      'version: 1\ndestinations:\n  d:\n    hashKey: { env: HK }\n    fields: { traits.email: allow, properties.specialty: allow }\n',
    );
    assert.deepEqual(policy.warnings, [
      {
        path: 'destinations.d.fields["traits.email"]',
        message: "allowlist destination allows a field the 'email' matcher flags as personal data",
      },
    ]);
  });
  test('allowing an age, birth date, ZIP or IP names the generalization that would do', () => {
    const policy = policyFrom(
      'version: 1\ndestinations:\n  d:\n    hashKey: { env: HK }\n    fields: { traits.age: allow, properties.dob: allow, traits.zip: allow, context.ip: allow }\n',
    );
    assert.deepEqual(
      policy.warnings.map((w) => [
        w.path,
        w.message.replace(/^allowlist destination allows a field the /, ''),
      ]),
      [
        [
          'destinations.d.fields["context.ip"]',
          "'ip' matcher flags as personal data (generalize: ipv4-24 keeps a coarse part)",
        ],
        [
          'destinations.d.fields["properties.dob"]',
          "'birth_date' matcher flags as personal data (generalize: birthyear keeps a coarse part)",
        ],
        [
          'destinations.d.fields["traits.age"]',
          "'age' matcher flags as personal data (generalize: age keeps a coarse part)",
        ],
        [
          'destinations.d.fields["traits.zip"]',
          "'zip' matcher flags as personal data (generalize: zip3 keeps a coarse part)",
        ],
      ],
    );
  });
  test('generalize: year or month on a birth date is a warning; birthyear, or another date, is not', () => {
    const policy = policyFrom(
      'version: 1\ndestinations:\n  d:\n    hashKey: { env: HK }\n    fields:\n' +
        '      traits.birthday: { generalize: year }\n      properties.dob: { generalize: month }\n' +
        '      properties.date_of_birth: { generalize: birthyear }\n      properties.visitDate: { generalize: year }\n',
    );
    const advice = (rule: string) =>
      `generalize: ${rule} on a birth date keeps years that mean an age over 89; use generalize: birthyear`;
    assert.deepEqual(policy.warnings, [
      { path: 'destinations.d.fields["properties.dob"]', message: advice('month') },
      { path: 'destinations.d.fields["traits.birthday"]', message: advice('year') },
    ]);
  });
});

describe('loader: the example policy', () => {
  test('parses with keys resolved against baseDir', () => {
    const policy = parsePolicy('version: 1\ndestinations:\n  d:\n    hashKey: { file: TEST-ONLY-a.hmac }\n', {
      baseDir: KEYS,
      env: {},
    });
    assert.equal(policy.destinations.length, 1);
  });
});

describe('loader: encryption warnings', () => {
  test('reuse with rsa-oaep-256 is a warning', () => {
    const policy = policyFrom(`version: 1
destinations:
  d:
    hashKey: { env: HK }
    encryption:
      scheme: rsa-oaep-256
      active: k
      keys: [{ kid: k, publicKey: { file: TEST-ONLY-rsa-2048.pub.pem } }]
      reuse: { maxValues: 10 }
`);
    assert.deepEqual(
      policy.warnings.map((w) => w.path),
      ['destinations.d.encryption.reuse'],
    );
  });
});
