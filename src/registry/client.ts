/**
 * A minimal client for the Confluent Schema Registry REST API (served by Confluent, Apicurio's
 * /apis/ccompat/v7, Redpanda, Karapace). Two calls are all the service needs: fetch a schema by id,
 * register a schema under a subject; the data inventory adds the subject versions an id is registered
 * as, and `phi-gate check --registry` three read-only ones (a subject's versions, one version's
 * schema, a compatibility test). Every failure is classified
 * once, here:
 *
 * - 404 with error_code 40403 on an id → PHIGATE_ERR_UNKNOWN_SCHEMA (the record goes to the DLQ);
 *   remembered for `unknownSchemaTtlMs`, so an unknown id costs one request, not one per record
 * - 404 with 40401 / 40402 on a subject lookup → "no such subject / version" (check only)
 * - 409 / 422 on register              → PHIGATE_ERR_REGISTRY_REJECTED (that destination fails closed)
 * - network error, timeout, 5xx, 429, 401, 403, and any other 404 (a wrong base path, an ingress
 *   error page, a Confluent code that makes no sense for the call) → PHIGATE_ERR_REGISTRY_UNAVAILABLE
 *   (pause and retry; never DLQ: only the registry saying "no such schema" condemns a record)
 */
import { PhiGateError } from '../errors.ts';
import { type Send, transport } from './transport.ts';

export interface RegistryClientOptions {
  readonly url: string;
  readonly auth: null | { readonly username: string; readonly password: string };
  /** Sent as `Authorization: Bearer` instead of basic auth (the config never sets both). */
  readonly bearerToken?: string | undefined;
  /** PEM CA bundle an https registry is verified against, instead of the system CAs. */
  readonly ca?: string | undefined;
  readonly timeoutMs: number;
  /** How long an id the registry does not know (40403) is answered from memory; default 30 s. */
  readonly unknownSchemaTtlMs?: number;
  /** Called once per request with its operation and outcome, for metrics. */
  readonly onRequest?: (operation: Operation, outcome: 'ok' | 'not_found' | 'rejected' | 'error') => void;
}

type Operation = 'get_schema' | 'register' | 'ping' | 'get_subject' | 'get_versions' | 'compatibility';

export interface RegisteredSchema {
  readonly schemaType: string;
  readonly schema: string;
}

const CONTENT_TYPE = 'application/vnd.schemaregistry.v1+json';
/** Confluent error codes of a 404 (the only ones that mean "not there"). */
const SUBJECT_NOT_FOUND = 40401;
const VERSION_NOT_FOUND = 40402;
const SCHEMA_NOT_FOUND = 40403;
const UNKNOWN_SCHEMA_TTL_MS = 30_000;
/** Bound of the unknown-id memory: past it, expired entries go, then all of them. */
const UNKNOWN_SCHEMA_LIMIT = 10_000;

export class RegistryClient {
  readonly #base: string;
  readonly #headers: Record<string, string>;
  readonly #timeoutMs: number;
  readonly #send: Send;
  readonly #onRequest: NonNullable<RegistryClientOptions['onRequest']>;
  readonly #unknownTtlMs: number;
  /** schema id → until when it is answered as unknown without asking. */
  readonly #unknown = new Map<number, number>();

  constructor(options: RegistryClientOptions) {
    this.#base = options.url.replace(/\/+$/, '');
    this.#headers = { Accept: CONTENT_TYPE, 'Content-Type': CONTENT_TYPE };
    if (options.auth) {
      const token = Buffer.from(`${options.auth.username}:${options.auth.password}`).toString('base64');
      this.#headers.Authorization = `Basic ${token}`;
    } else if (options.bearerToken !== undefined) {
      this.#headers.Authorization = `Bearer ${options.bearerToken}`;
    }
    this.#send = transport(options.ca);
    this.#timeoutMs = options.timeoutMs;
    this.#onRequest = options.onRequest ?? (() => undefined);
    this.#unknownTtlMs = options.unknownSchemaTtlMs ?? UNKNOWN_SCHEMA_TTL_MS;
  }

  /** The writer schema registered under `id`. */
  async getSchema(id: number): Promise<RegisteredSchema> {
    const until = this.#unknown.get(id);
    if (until !== undefined) {
      if (until > Date.now()) throw unknownSchema(id);
      this.#unknown.delete(id);
    }
    const res = await this.#request('get_schema', `/schemas/ids/${id}`, { method: 'GET' });
    if (res.status === 404) {
      await this.#notFound('get_schema', res, [SCHEMA_NOT_FOUND], `schema id ${id}`);
      this.#rememberUnknown(id);
      throw unknownSchema(id);
    }
    const body = (await this.#json('get_schema', res)) as { schema?: unknown; schemaType?: unknown };
    if (typeof body.schema !== 'string') {
      this.#onRequest('get_schema', 'error');
      throw new PhiGateError('PHIGATE_ERR_BAD_SCHEMA', `registry answered schema id ${id} without a schema`);
    }
    this.#onRequest('get_schema', 'ok');
    return {
      schema: body.schema,
      schemaType: typeof body.schemaType === 'string' ? body.schemaType : 'AVRO',
    };
  }

  /**
   * The (subject, version) pairs `id` is registered as (`GET /schemas/ids/{id}/versions`: Confluent
   * 5.3+, Apicurio ccompat); one schema may be registered under several subjects. None when the
   * registry does not know the id.
   */
  async schemaVersions(id: number): Promise<{ readonly subject: string; readonly version: number }[]> {
    const res = await this.#request('get_versions', `/schemas/ids/${id}/versions`, { method: 'GET' });
    if (res.status === 404) {
      await this.#notFound('get_versions', res, [SCHEMA_NOT_FOUND], `the versions of schema id ${id}`);
      return [];
    }
    const body = await this.#json('get_versions', res);
    const valid =
      Array.isArray(body) &&
      body.every(
        (v) =>
          typeof v === 'object' &&
          v !== null &&
          typeof (v as { subject?: unknown }).subject === 'string' &&
          Number.isInteger((v as { version?: unknown }).version),
      );
    if (!valid) {
      this.#onRequest('get_versions', 'error');
      throw new PhiGateError(
        'PHIGATE_ERR_REGISTRY_UNAVAILABLE',
        `registry answered the versions of schema id ${id} without a list of subject versions`,
      );
    }
    this.#onRequest('get_versions', 'ok');
    return (body as { subject: string; version: number }[]).map(({ subject, version }) => ({
      subject,
      version,
    }));
  }

  /** Registers an Avro schema under `subject` (idempotent in the registry) and returns its id. */
  async register(subject: string, schema: string): Promise<number> {
    const res = await this.#request('register', `/subjects/${encodeURIComponent(subject)}/versions`, {
      method: 'POST',
      body: JSON.stringify({ schemaType: 'AVRO', schema }),
    });
    if (res.status === 409 || res.status === 422) {
      throw await this.#refusal(
        'register',
        res,
        `registry refused the derived schema for subject ${subject}`,
      );
    }
    const body = (await this.#json('register', res)) as { id?: unknown };
    if (typeof body.id !== 'number') {
      this.#onRequest('register', 'error');
      throw new PhiGateError(
        'PHIGATE_ERR_REGISTRY_UNAVAILABLE',
        `registry answered subject ${subject} without an id`,
      );
    }
    this.#onRequest('register', 'ok');
    return body.id;
  }

  /** The versions registered under `subject`, ascending; none when the subject does not exist. */
  async subjectVersions(subject: string): Promise<number[]> {
    const res = await this.#request('get_subject', `/subjects/${encodeURIComponent(subject)}/versions`, {
      method: 'GET',
    });
    if (res.status === 404) {
      await this.#notFound('get_subject', res, [SUBJECT_NOT_FOUND], `subject ${subject}`);
      return [];
    }
    const body = await this.#json('get_subject', res);
    if (!Array.isArray(body) || !body.every((v) => Number.isInteger(v))) {
      this.#onRequest('get_subject', 'error');
      throw new PhiGateError(
        'PHIGATE_ERR_REGISTRY_UNAVAILABLE',
        `registry answered subject ${subject}'s versions without a list`,
      );
    }
    this.#onRequest('get_subject', 'ok');
    return (body as number[]).sort((a, b) => a - b);
  }

  /** The schema registered as `version` of `subject`. */
  async subjectSchema(subject: string, version: number): Promise<RegisteredSchema & { readonly id: number }> {
    const res = await this.#request(
      'get_subject',
      `/subjects/${encodeURIComponent(subject)}/versions/${version}`,
      { method: 'GET' },
    );
    if (res.status === 404) {
      await this.#notFound(
        'get_subject',
        res,
        [SUBJECT_NOT_FOUND, VERSION_NOT_FOUND],
        `subject ${subject} version ${version}`,
      );
      throw new PhiGateError('PHIGATE_ERR_UNKNOWN_SCHEMA', `subject ${subject} has no version ${version}`);
    }
    const body = (await this.#json('get_subject', res)) as {
      schema?: unknown;
      schemaType?: unknown;
      id?: unknown;
    };
    if (typeof body.schema !== 'string' || typeof body.id !== 'number') {
      this.#onRequest('get_subject', 'error');
      throw new PhiGateError(
        'PHIGATE_ERR_BAD_SCHEMA',
        `registry answered ${subject} version ${version} without a schema`,
      );
    }
    this.#onRequest('get_subject', 'ok');
    return {
      id: body.id,
      schema: body.schema,
      schemaType: typeof body.schemaType === 'string' ? body.schemaType : 'AVRO',
    };
  }

  /**
   * Whether registering `schema` under `subject` would pass the subject's compatibility check (the
   * same test registration runs, against the versions its level names). A subject that does not
   * exist accepts anything.
   */
  async isCompatible(subject: string, schema: string): Promise<boolean> {
    const res = await this.#request(
      'compatibility',
      `/compatibility/subjects/${encodeURIComponent(subject)}/versions`,
      { method: 'POST', body: JSON.stringify({ schemaType: 'AVRO', schema }) },
    );
    if (res.status === 404) {
      await this.#notFound(
        'compatibility',
        res,
        [SUBJECT_NOT_FOUND, VERSION_NOT_FOUND],
        `the compatibility test for ${subject}`,
      );
      return true;
    }
    if (res.status === 409 || res.status === 422) {
      throw await this.#refusal(
        'compatibility',
        res,
        `registry cannot test the schema for subject ${subject}`,
      );
    }
    const body = (await this.#json('compatibility', res)) as { is_compatible?: unknown };
    if (typeof body.is_compatible !== 'boolean') {
      this.#onRequest('compatibility', 'error');
      throw new PhiGateError(
        'PHIGATE_ERR_REGISTRY_UNAVAILABLE',
        `registry answered the test for ${subject} without is_compatible`,
      );
    }
    this.#onRequest('compatibility', body.is_compatible ? 'ok' : 'rejected');
    return body.is_compatible;
  }

  /** True when the registry answers at all (readiness). */
  async ping(): Promise<boolean> {
    try {
      const res = await this.#request('ping', '/subjects', { method: 'GET' });
      await res.body?.cancel();
      this.#onRequest('ping', res.ok ? 'ok' : 'error');
      return res.ok;
    } catch {
      return false;
    }
  }

  async #request(operation: Operation, path: string, init: RequestInit): Promise<Response> {
    let res: Response;
    try {
      res = await this.#send(`${this.#base}${path}`, {
        ...init,
        headers: this.#headers,
        signal: AbortSignal.timeout(this.#timeoutMs),
      });
    } catch (cause) {
      this.#onRequest(operation, 'error');
      throw new PhiGateError(
        'PHIGATE_ERR_REGISTRY_UNAVAILABLE',
        `schema registry request failed: ${describe(cause)}`,
        {
          cause,
        },
      );
    }
    if (res.status >= 500 || res.status === 429 || res.status === 401 || res.status === 403) {
      await res.body?.cancel();
      this.#onRequest(operation, 'error');
      // 401/403 are retried too: credentials rotate; failing closed to the DLQ would lose records
      throw new PhiGateError(
        'PHIGATE_ERR_REGISTRY_UNAVAILABLE',
        `schema registry answered HTTP ${res.status}`,
      );
    }
    return res;
  }

  /**
   * A 404 answer: returns when its Confluent error code is one of `expected` (the registry itself
   * says the thing is not there); anything else — no JSON, no code, another code — is a registry
   * that is not the one configured or not working: PHIGATE_ERR_REGISTRY_UNAVAILABLE.
   */
  async #notFound(
    operation: Operation,
    res: Response,
    expected: readonly number[],
    what: string,
  ): Promise<void> {
    const text = await res.text().catch(() => '');
    let code: unknown;
    try {
      code = (JSON.parse(text) as { error_code?: unknown } | null)?.error_code;
    } catch {
      code = undefined;
    }
    if (typeof code === 'number' && expected.includes(code)) {
      this.#onRequest(operation, 'not_found');
      return;
    }
    this.#onRequest(operation, 'error');
    const said = typeof code === 'number' ? `error code ${code}` : 'no Confluent error code';
    throw new PhiGateError(
      'PHIGATE_ERR_REGISTRY_UNAVAILABLE',
      `schema registry answered HTTP 404 with ${said} for ${what} (expected ${expected.join(' or ')}): ` +
        'is SCHEMA_REGISTRY_URL the Confluent-compatible API base?',
    );
  }

  #rememberUnknown(id: number): void {
    if (this.#unknownTtlMs <= 0) return;
    const now = Date.now();
    if (this.#unknown.size >= UNKNOWN_SCHEMA_LIMIT) {
      for (const [k, until] of this.#unknown) if (until <= now) this.#unknown.delete(k);
      if (this.#unknown.size >= UNKNOWN_SCHEMA_LIMIT) this.#unknown.clear();
    }
    this.#unknown.set(id, now + this.#unknownTtlMs);
  }

  /** A 409 / 422 answer: PHIGATE_ERR_REGISTRY_REJECTED with the registry's own words, bounded. */
  async #refusal(operation: Operation, res: Response, what: string): Promise<PhiGateError> {
    this.#onRequest(operation, 'rejected');
    const detail = await res.text().catch(() => '');
    return new PhiGateError(
      'PHIGATE_ERR_REGISTRY_REJECTED',
      `${what} (HTTP ${res.status}): ${detail.slice(0, 300)}`,
    );
  }

  async #json(operation: Operation, res: Response): Promise<unknown> {
    if (!res.ok) {
      this.#onRequest(operation, 'error');
      throw new PhiGateError(
        'PHIGATE_ERR_REGISTRY_UNAVAILABLE',
        `schema registry answered HTTP ${res.status}`,
      );
    }
    try {
      return await res.json();
    } catch (cause) {
      this.#onRequest(operation, 'error');
      throw new PhiGateError(
        'PHIGATE_ERR_REGISTRY_UNAVAILABLE',
        'schema registry answered with invalid JSON',
        { cause },
      );
    }
  }
}

function unknownSchema(id: number): PhiGateError {
  return new PhiGateError('PHIGATE_ERR_UNKNOWN_SCHEMA', `schema id ${id} is not known to the registry`);
}

function describe(err: unknown): string {
  if (err instanceof Error) {
    const cause = (err as { cause?: { code?: string } }).cause;
    return cause?.code ? `${err.message} (${cause.code})` : err.message;
  }
  return String(err);
}
