/**
 * The registry client's credentials and trust: a bearer token is sent as such, and an https
 * registry signed by a private CA is trusted with that CA's bundle only. The certificate is made
 * here with openssl, for 127.0.0.1, and thrown away afterwards.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingHttpHeaders } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { isPhiGateError } from '../../../src/errors.ts';
import { RegistryClient } from '../../../src/registry/client.ts';

const SCHEMA = JSON.stringify({ type: 'record', name: 'R', fields: [{ name: 'a', type: 'string' }] });

function selfSigned(dir: string): { cert: string; key: string } {
  const key = join(dir, 'key.pem');
  const cert = join(dir, 'cert.pem');
  execFileSync(
    'openssl',
    ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1'].concat([
      '-subj',
      '/CN=127.0.0.1',
      '-addext',
      'subjectAltName=IP:127.0.0.1',
    ]),
    { stdio: 'ignore' },
  );
  return { cert: readFileSync(cert, 'utf8'), key: readFileSync(key, 'utf8') };
}

describe('registry client: bearer token and a private CA', () => {
  const dir = mkdtempSync(join(tmpdir(), 'phigate-registry-tls-'));
  const { cert, key } = selfSigned(dir);
  const seen: IncomingHttpHeaders[] = [];
  const answer = (headers: IncomingHttpHeaders, res: import('node:http').ServerResponse) => {
    seen.push(headers);
    res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ schema: SCHEMA }));
  };
  let tls: Server;
  let plain: import('node:http').Server;
  let httpsUrl = '';
  let httpUrl = '';

  before(async () => {
    tls = createServer({ cert, key }, (req, res) => answer(req.headers, res));
    plain = createHttpServer((req, res) => answer(req.headers, res));
    await new Promise<void>((r) => tls.listen(0, '127.0.0.1', r));
    await new Promise<void>((r) => plain.listen(0, '127.0.0.1', r));
    httpsUrl = `https://127.0.0.1:${(tls.address() as AddressInfo).port}/api`;
    httpUrl = `http://127.0.0.1:${(plain.address() as AddressInfo).port}/api`;
  });
  after(async () => {
    await new Promise((r) => tls.close(r));
    await new Promise((r) => plain.close(r));
    rmSync(dir, { recursive: true, force: true });
  });

  test('a bearer token is sent as Authorization: Bearer', async () => {
    seen.length = 0;
    const c = new RegistryClient({ url: httpUrl, auth: null, bearerToken: 'made-up-token', timeoutMs: 2000 });
    await c.getSchema(1);
    assert.equal(seen[0]?.authorization, 'Bearer made-up-token');
  });
  test('an https registry signed by a private CA: trusted with SCHEMA_REGISTRY_CA_FILE, refused without', async () => {
    const trusted = new RegistryClient({ url: httpsUrl, auth: null, ca: cert, timeoutMs: 2000 });
    seen.length = 0;
    assert.equal(JSON.parse((await trusted.getSchema(1)).schema).name, 'R');
    const basic = new RegistryClient({
      url: httpsUrl,
      auth: { username: 'reader', password: 'made-up' },
      ca: cert,
      timeoutMs: 2000,
    });
    await basic.getSchema(2);
    assert.equal(seen[1]?.authorization, `Basic ${Buffer.from('reader:made-up').toString('base64')}`);
    const id = await new RegistryClient({ url: httpsUrl, auth: null, ca: cert, timeoutMs: 2000 }).ping();
    assert.equal(id, true);
    const untrusted = new RegistryClient({ url: httpsUrl, auth: null, timeoutMs: 2000 });
    await assert.rejects(untrusted.getSchema(1), (err) =>
      isPhiGateError(err, 'PHIGATE_ERR_REGISTRY_UNAVAILABLE'),
    );
  });
  test('a timeout through the CA transport is the registry unavailable', async () => {
    const slow = createServer({ cert, key }, () => undefined); // never answers
    await new Promise<void>((r) => slow.listen(0, '127.0.0.1', r));
    const url = `https://127.0.0.1:${(slow.address() as AddressInfo).port}`;
    const c = new RegistryClient({ url, auth: null, ca: cert, timeoutMs: 200 });
    await assert.rejects(c.getSchema(1), (err) => isPhiGateError(err, 'PHIGATE_ERR_REGISTRY_UNAVAILABLE'));
    slow.closeAllConnections();
    await new Promise((r) => slow.close(r));
  });
});
