import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { EXIT } from '../../../src/cli/io.ts';
import { keygen } from '../../../src/cli/keygen.ts';
import { runCommand } from '../../helpers/cli.ts';
import { tempDir } from '../../helpers/temp.ts';

const dir = tempDir('cli-keygen');

function run(...argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return runCommand(keygen, argv, { cwd: dir });
}

describe('phi-gate keygen', () => {
  test('prints the kid alone on stdout, the paths on stderr; --out is relative to cwd; private key 0600', async () => {
    const r = await run('--out', 'keys', '--kid', 'mixpanel-2026-11');
    assert.equal(r.code, EXIT.ok);
    assert.equal(r.stdout, 'mixpanel-2026-11\n');
    const priv = join(dir, 'keys/mixpanel-2026-11.key.pem');
    const pub = join(dir, 'keys/mixpanel-2026-11.pub.pem');
    assert.ok(r.stderr.includes(priv) && r.stderr.includes(pub));
    assert.equal(statSync(priv).mode & 0o777, 0o600);
    assert.equal(statSync(pub).mode & 0o777, 0o644);
  });

  test('default kid: key-<YYYYMMDD>-<6 hex>', async () => {
    const r = await run('--out', 'keys');
    assert.equal(r.code, EXIT.ok);
    assert.match(r.stdout, /^key-\d{8}-[0-9a-f]{6}\n$/);
  });

  test('refuses to overwrite: failure exit, nothing on stdout', async () => {
    const r = await run('--out', 'keys', '--kid', 'mixpanel-2026-11');
    assert.equal(r.code, EXIT.failure);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /PHIGATE_ERR_INPUT: refusing to overwrite existing file/);
  });

  test('usage errors exit 2: no --out, unknown option, positional, bad kid', async () => {
    for (const argv of [
      [],
      ['--out'],
      ['--out', 'k', '--force'],
      ['--out', 'k', 'extra'],
      ['--out', 'k', '--kid', '../x'],
    ]) {
      const r = await run(...argv);
      assert.equal(r.code, EXIT.usage, argv.join(' '));
      assert.equal(r.stdout, '');
      assert.notEqual(r.stderr, '');
    }
  });

  test('--help prints usage and exits 0', async () => {
    const r = await run('--help');
    assert.equal(r.code, EXIT.ok);
    assert.match(r.stdout, /usage: phi-gate keygen --out DIR/);
  });
});
