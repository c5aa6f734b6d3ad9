/** Shared fixtures for the config tests: a temp dir with the files *_FILE variables point at. */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../../src/config/index.ts';
import { isPhiGateError, type Problem } from '../../../src/errors.ts';

export const CANARY = 'CANARY-s3cr3t-7f1c';

export interface Files {
  readonly dir: string;
  readonly policy: string;
  readonly ca: string;
  readonly cert: string;
  readonly key: string;
  readonly password: string;
  readonly empty: string;
  readonly subdir: string;
  cleanup(): void;
}

export function makeFiles(): Files {
  const dir = mkdtempSync(join(tmpdir(), 'phigate-config-'));
  const write = (name: string, text: string) => {
    const path = join(dir, name);
    writeFileSync(path, text);
    return path;
  };
  const subdir = join(dir, 'a-directory');
  mkdirSync(subdir);
  return {
    dir,
    policy: write('policy.yaml', 'version: 1\n'),
    ca: write('ca.pem', '-----BEGIN CERTIFICATE-----\nCA\n-----END CERTIFICATE-----\n'),
    cert: write('client.pem', '-----BEGIN CERTIFICATE-----\nCLIENT\n-----END CERTIFICATE-----\n'),
    key: write('client.key', `-----BEGIN PRIVATE KEY-----\n${CANARY}\n-----END PRIVATE KEY-----\n`),
    password: write('password', `${CANARY}\n`),
    empty: write('empty', ''),
    subdir,
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

export function minimalEnv(files: Files): Record<string, string> {
  return {
    KAFKA_BROKERS: '127.0.0.1:9092',
    SCHEMA_REGISTRY_URL: 'http://127.0.0.1:8081/apis/ccompat/v7',
    PHIGATE_POLICY_FILE: files.policy,
  };
}

/** Runs loadConfig, asserts it fails with PHIGATE_ERR_CONFIG, returns the problems. */
export function problemsOf(env: Record<string, string | undefined>): readonly Problem[] {
  try {
    loadConfig(env);
  } catch (err) {
    assert.ok(isPhiGateError(err, 'PHIGATE_ERR_CONFIG'), `expected PHIGATE_ERR_CONFIG, got ${String(err)}`);
    assert.equal(err.message, 'runtime configuration is invalid');
    assert.ok(!JSON.stringify(err.problems).includes(CANARY), 'a problem echoes a secret');
    return err.problems;
  }
  assert.fail('loadConfig accepted an invalid environment');
}

/** The problem for one variable (asserts there is exactly one). */
export function problemFor(problems: readonly Problem[], path: string): string {
  const found = problems.filter((p) => p.path === path);
  assert.equal(found.length, 1, `expected one problem for ${path}, got ${JSON.stringify(problems)}`);
  return found[0]!.message;
}
