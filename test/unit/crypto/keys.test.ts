import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { loadPrivateKey, loadPublicKey, loadSecret } from '../../../src/crypto/keys.ts';
import { tempDir } from '../../helpers/temp.ts';
import { rsaPair } from './_keys.ts';

const dir = tempDir('keys');
const ctx = { baseDir: dir, env: {} as Record<string, string | undefined> };
const KEY = `${'k'.repeat(31)}Z`; // 32 bytes, recognizable in messages

function file(name: string, content: string | Buffer): string {
  writeFileSync(join(dir, name), content);
  return name;
}

/** Asserts a KEY_MATERIAL error whose message matches `rule` and contains none of `secrets`. */
function rejects(fn: () => unknown, rule: RegExp, ...secrets: string[]): void {
  assert.throws(fn, (err: Error & { code?: string }) => {
    assert.equal(err.code, 'PHIGATE_ERR_KEY_MATERIAL');
    assert.match(err.message, rule);
    for (const s of secrets) assert.ok(!err.message.includes(s), 'message leaks key material');
    return true;
  });
}

describe('loadSecret', () => {
  test('file: exactly one trailing "\\n" or "\\r\\n" is removed, nothing else', () => {
    assert.equal(loadSecret({ file: file('a', `${KEY}\n`) }, ctx).toString(), KEY);
    assert.equal(loadSecret({ file: file('b', `${KEY}\r\n`) }, ctx).toString(), KEY);
    assert.equal(loadSecret({ file: file('c', `${KEY}\n\n`) }, ctx).toString(), `${KEY}\n`);
    assert.equal(loadSecret({ file: file('d', KEY) }, ctx).toString(), KEY);
    assert.equal(loadSecret({ file: file('e', ` ${KEY} `) }, ctx).toString(), ` ${KEY} `);
  });

  test('file: binary bytes are the key as they are', () => {
    const bytes = Buffer.from(Array.from({ length: 40 }, (_, i) => (i * 37) & 0xff));
    assert.deepEqual(loadSecret({ file: file('bin', bytes) }, ctx), bytes);
  });

  test('file: a final 0x0a byte is a newline even in a binary key; too short then, the error says why', () => {
    // One `head -c 32 /dev/urandom` key in 256 ends in 0x0a (§3: one trailing newline is ignored).
    const bytes = Buffer.from([...Array.from({ length: 31 }, (_, i) => 0x80 + i), 0x0a]);
    rejects(
      () => loadSecret({ file: file('bin-nl', bytes) }, ctx),
      /is 31 bytes once its trailing newline is ignored; at least 32 are required \(generate text keys: openssl rand -hex 32\)/,
    );
    const longer = Buffer.concat([Buffer.from([0x80]), bytes]);
    assert.deepEqual(loadSecret({ file: file('bin-nl-33', longer) }, ctx), longer.subarray(0, 32));
  });

  test('file: a relative path resolves against baseDir; an absolute one is used as is', () => {
    mkdirSync(join(dir, 'sub'), { recursive: true });
    file('sub/k', KEY);
    assert.equal(loadSecret({ file: 'sub/k' }, ctx).toString(), KEY);
    assert.equal(
      loadSecret({ file: join(dir, 'sub/k') }, { baseDir: '/nonexistent', env: {} }).toString(),
      KEY,
    );
  });

  test('env: the value as UTF-8, newline included', () => {
    const env = { HMAC_KEY: `${KEY}é`, NL_KEY: `${KEY}\n` };
    assert.equal(loadSecret({ env: 'HMAC_KEY' }, { baseDir: dir, env }).toString('utf8'), `${KEY}é`);
    assert.equal(loadSecret({ env: 'NL_KEY' }, { baseDir: dir, env }).length, 33);
  });

  test('shorter than minBytes (default 32) is rejected, naming the source and not the bytes', () => {
    const short = `${'k'.repeat(30)}Q`; // 31 bytes
    rejects(
      () => loadSecret({ file: file('short', `${short}\n`) }, ctx),
      /short'.*31 bytes once its trailing newline is ignored; at least 32/,
      short,
    );
    rejects(
      () => loadSecret({ env: 'SHORT' }, { baseDir: dir, env: { SHORT: short } }),
      /'SHORT'.*31 bytes/,
      short,
    );
    assert.equal(
      loadSecret({ env: 'SHORT' }, { baseDir: dir, env: { SHORT: short } }, { minBytes: 16 }).length,
      31,
    );
    rejects(() => loadSecret({ file: file('long', KEY) }, ctx, { minBytes: 64 }), /at least 64/, KEY);
  });

  test('missing file, directory, empty file, unset or empty env var: named, with the resolved path', () => {
    rejects(
      () => loadSecret({ file: 'nope/missing.key' }, ctx),
      new RegExp(`'${join(dir, 'nope/missing.key')}': file not found`),
    );
    rejects(() => loadSecret({ file: 'sub' }, ctx), /not a regular file|is a directory/);
    rejects(() => loadSecret({ file: file('empty', '\n') }, ctx), /is empty/);
    rejects(
      () => loadSecret({ env: 'UNSET_KEY' }, ctx),
      /environment variable 'UNSET_KEY': is unset or empty/,
    );
    rejects(
      () => loadSecret({ env: 'EMPTY' }, { baseDir: dir, env: { EMPTY: '' } }),
      /'EMPTY': is unset or empty/,
    );
  });
});

describe('loadPublicKey', () => {
  const good = rsaPair();

  test('PEM SPKI RSA >= 2048 from a file or an env var', () => {
    const fromFile = loadPublicKey({ file: file('good.pub.pem', good.publicPem) }, ctx);
    assert.ok(fromFile.equals(good.publicKey));
    const fromEnv = loadPublicKey({ env: 'PUB' }, { baseDir: dir, env: { PUB: good.publicPem } });
    assert.ok(fromEnv.equals(good.publicKey));
  });

  test('RSA 1024 is rejected', () => {
    rejects(
      () => loadPublicKey({ file: file('weak.pub.pem', rsaPair('small', 1024).publicPem) }, ctx),
      /weak.pub.pem'.*1024 bits; at least 2048/,
    );
  });

  test('non-RSA (EC) is rejected', () => {
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({
      type: 'spki',
      format: 'pem',
    });
    rejects(() => loadPublicKey({ file: file('ec.pub.pem', ec) }, ctx), /key type is ec; only RSA/);
  });

  test('PKCS#1 "BEGIN RSA PUBLIC KEY" is rejected: SPKI is required', () => {
    const pkcs1 = good.publicKey.export({ type: 'pkcs1', format: 'pem' });
    rejects(() => loadPublicKey({ file: file('pkcs1.pem', pkcs1) }, ctx), /'RSA PUBLIC KEY'; SPKI PEM/);
  });

  test('a private key configured as the public key is rejected without echoing it', () => {
    const body = good.privatePem.split('\n')[1]!;
    rejects(
      () => loadPublicKey({ file: file('oops.pem', good.privatePem) }, ctx),
      /holds a private key/,
      body,
    );
  });

  test('not PEM, two blocks, a corrupt body, a missing file', () => {
    rejects(() => loadPublicKey({ file: file('text.pem', 'hello') }, ctx), /is not PEM/);
    rejects(
      () => loadPublicKey({ file: file('two.pem', good.publicPem + good.publicPem) }, ctx),
      /2 PEM blocks/,
    );
    const corrupt = good.publicPem.replace(/\n[A-Za-z0-9+/]{20}/, '\n!!!!!!!!!!!!!!!!!!!!');
    rejects(() => loadPublicKey({ file: file('corrupt.pem', corrupt) }, ctx), /not a parsable SPKI/);
    rejects(() => loadPublicKey({ file: 'absent.pem' }, ctx), /absent.pem': file not found/);
    rejects(() => loadPublicKey({ env: 'NO_PUB' }, ctx), /'NO_PUB': is unset or empty/);
  });
});

describe('loadPrivateKey', () => {
  const good = rsaPair();

  test('PKCS#8 PEM from a path or inline', () => {
    const path = join(dir, file('good.key.pem', good.privatePem));
    assert.ok(loadPrivateKey(path).equals(good.privateKey));
    assert.ok(loadPrivateKey(good.privatePem).equals(good.privateKey));
  });

  test('PKCS#1, public, EC, encrypted and missing are rejected without echoing the key', () => {
    const body = good.privatePem.split('\n')[1]!;
    const pkcs1 = good.privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();
    rejects(
      () => loadPrivateKey(pkcs1),
      /inline private key PEM: is PEM 'RSA PRIVATE KEY'; PKCS#8/,
      pkcs1.split('\n')[1]!,
    );
    rejects(() => loadPrivateKey(good.publicPem), /'PUBLIC KEY'/);
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' })
      .privateKey.export({ type: 'pkcs8', format: 'pem' })
      .toString();
    rejects(() => loadPrivateKey(ec), /key type is ec/);
    const encrypted = good.privateKey
      .export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: 'made-up' })
      .toString();
    rejects(() => loadPrivateKey(encrypted), /encrypted private key/, body);
    rejects(() => loadPrivateKey(join(dir, 'absent.key.pem')), /absent.key.pem': file not found/);
  });
});
