import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { decrypt } from '../../../src/cli/decrypt.ts';
import { EXIT } from '../../../src/cli/io.ts';
import { keygen } from '../../../src/cli/keygen.ts';
import type { Encryptor } from '../../../src/crypto/encryptor.ts';
import { createJweEncryptor } from '../../../src/crypto/jwe.ts';
import { loadPublicKey } from '../../../src/crypto/keys.ts';
import { createRsaOaepEncryptor } from '../../../src/crypto/rsa-oaep.ts';
import { runCommand } from '../../helpers/cli.ts';
import { tempDir } from '../../helpers/temp.ts';

const dir = tempDir('cli-decrypt');

function run(
  command: typeof decrypt,
  argv: string[],
  stdin = '',
): Promise<{ code: number; stdout: string; stderr: string }> {
  return runCommand(command, argv, { cwd: dir, stdin });
}

describe('phi-gate decrypt', () => {
  let jwe: Encryptor;
  let rsa: Encryptor;
  let keyPath: string;

  before(async () => {
    // The real flow: keygen writes the pair, phi-gate encrypts with the public key, the owner decrypts.
    const r = await run(keygen, ['--out', 'keys']);
    assert.equal(r.code, EXIT.ok);
    const kid = r.stdout.trim();
    keyPath = `keys/${kid}.key.pem`;
    const publicKey = loadPublicKey({ file: `keys/${kid}.pub.pem` }, { baseDir: dir, env: {} });
    jwe = createJweEncryptor({ kid, publicKey });
    rsa = createRsaOaepEncryptor({ kid, publicKey });
  });

  test('values as arguments, both formats, one plaintext per line in order', async () => {
    const r = await run(decrypt, [
      '--key',
      keyPath,
      jwe.encrypt('Jane Doe'),
      rsa.encrypt('M-12345678'),
      jwe.encrypt(''),
    ]);
    assert.equal(r.code, EXIT.ok);
    assert.equal(r.stdout, 'Jane Doe\nM-12345678\n\n');
    assert.equal(r.stderr, '');
  });

  test('stdin: one value per line, CRLF tolerated, blank lines skipped', async () => {
    const stdin = `${jwe.encrypt('Jane Doe')}\r\n\n${jwe.encrypt('jane.doe@example.com')}\n${rsa.encrypt('+16505550100')}`;
    const r = await run(decrypt, ['--key', keyPath], stdin);
    assert.equal(r.code, EXIT.ok);
    assert.equal(r.stdout, 'Jane Doe\njane.doe@example.com\n+16505550100\n');
  });

  test('a bad line is reported by number on stderr, the rest still decrypt, exit failure', async () => {
    const good = jwe.encrypt('Jane Doe');
    const tampered = `${good.slice(0, -3)}AAA`;
    const stdin = [jwe.encrypt('John Roe'), 'garbage!', tampered, jwe.encrypt('Jane Doe')].join('\n');
    const r = await run(decrypt, ['--key', keyPath], stdin);
    assert.equal(r.code, EXIT.failure);
    assert.equal(r.stdout, 'John Roe\nJane Doe\n');
    const lines = r.stderr.trim().split('\n');
    assert.equal(lines.length, 2);
    assert.match(lines[0]!, /^phi-gate decrypt: line 2: PHIGATE_ERR_INPUT: value is neither/);
    assert.match(lines[1]!, /^phi-gate decrypt: line 3: PHIGATE_ERR_INPUT: JWE authentication failed/);
    assert.ok(!r.stderr.includes('garbage'));
  });

  test('a bad argument is reported by position', async () => {
    const r = await run(decrypt, ['--key', keyPath, 'a.b.c', jwe.encrypt('Jane Doe')]);
    assert.equal(r.code, EXIT.failure);
    assert.equal(r.stdout, 'Jane Doe\n');
    assert.match(r.stderr, /argument 1: PHIGATE_ERR_INPUT: JWE compact has 3 parts/);
  });

  test('a wrong or missing key file fails before reading values', async () => {
    const r = await run(decrypt, ['--key', 'keys/absent.key.pem', jwe.encrypt('Jane Doe')]);
    assert.equal(r.code, EXIT.failure);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /PHIGATE_ERR_KEY_MATERIAL: key file '.*absent.key.pem': file not found/);
    const pub = await run(decrypt, ['--key', keyPath.replace('.key.pem', '.pub.pem'), 'x']);
    assert.equal(pub.code, EXIT.failure);
    assert.match(pub.stderr, /PKCS#8/);
  });

  test('several keys (a rotation overlap): JWE picks by kid, raw RSA-OAEP tries each key', async () => {
    const r = await run(keygen, ['--out', 'keys', '--kid', 'dest-2027-05']);
    assert.equal(r.code, EXIT.ok);
    const publicKey = loadPublicKey({ file: 'keys/dest-2027-05.pub.pem' }, { baseDir: dir, env: {} });
    const jwe2 = createJweEncryptor({ kid: 'dest-2027-05', publicKey });
    const rsa2 = createRsaOaepEncryptor({ kid: 'dest-2027-05', publicKey });
    const values = [
      jwe.encrypt('old jwe'),
      jwe2.encrypt('new jwe'),
      rsa.encrypt('old raw'),
      rsa2.encrypt('new raw'),
    ];
    const both = await run(decrypt, ['--key', keyPath, '--key', 'keys/dest-2027-05.key.pem', ...values]);
    assert.deepEqual(both, { code: EXIT.ok, stdout: 'old jwe\nnew jwe\nold raw\nnew raw\n', stderr: '' });

    // With only the new key, the old values fail by position and the new ones still decrypt.
    const one = await run(decrypt, ['--key', 'keys/dest-2027-05.key.pem', ...values]);
    assert.equal(one.code, EXIT.failure);
    assert.equal(one.stdout, 'new jwe\nnew raw\n');
    assert.match(one.stderr, /argument 1: .*does not decrypt/);
    assert.match(one.stderr, /argument 3: .*does not decrypt/);
  });

  test('several keys: every bad key file is reported before any value is read', async () => {
    const r = await run(decrypt, [
      '--key',
      keyPath,
      '--key',
      keyPath,
      '--key',
      'keys/renamed.pem',
      '--key',
      'keys/absent.key.pem',
      jwe.encrypt('Jane Doe'),
    ]);
    assert.equal(r.code, EXIT.failure);
    assert.equal(r.stdout, '');
    const lines = r.stderr.trim().split('\n');
    assert.equal(lines.length, 3, r.stderr);
    assert.match(lines[0] ?? '', /kid '.*' is given twice/);
    assert.match(
      lines[1] ?? '',
      /'keys\/renamed.pem': with several --key, each file must be named <kid>.key.pem/,
    );
    assert.match(lines[2] ?? '', /absent.key.pem': file not found/);
  });

  test('usage errors exit 2', async () => {
    for (const argv of [[], ['--key'], ['--key', keyPath, '--verbose'], ['--key', keyPath, '--key', '']]) {
      const r = await run(decrypt, argv);
      assert.equal(r.code, EXIT.usage, argv.join(' '));
      assert.match(r.stderr, /usage: phi-gate decrypt/);
    }
  });
});
