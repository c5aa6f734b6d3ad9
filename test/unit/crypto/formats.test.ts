import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FORMATS } from '../../../src/crypto/index.ts';

test('format names are pinned (changing one is a new version, never an edit) and frozen', () => {
  assert.deepEqual(FORMATS, {
    hmac: 'hmac-sha256-hex/v1',
    sha256: { email: 'sha256-email-hex/v1', phone: 'sha256-phone-e164-hex/v1', plain: 'sha256-plain-hex/v1' },
    jwe: 'jwe-compact-rsa-oaep-256-a256gcm/v1',
    'rsa-oaep-256': 'rsa-oaep-256-base64/v1',
  });
  assert.ok(Object.isFrozen(FORMATS));
  assert.ok(Object.isFrozen(FORMATS.sha256));
});
