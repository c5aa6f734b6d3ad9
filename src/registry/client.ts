/**
 * A minimal client for the Confluent Schema Registry REST API (served by Confluent, Apicurio's
 * /apis/ccompat/v7, Redpanda, Karapace). Two calls are all the service needs: fetch a schema by id,
 * register a schema under a subject; `phi-gate check --registry` adds three read-only ones (a
 * subject's versions, one version's schema, a compatibility test). Every failure is classified
 * once, here:
 *
 * - 404 on an id (40403)            → PHIGATE_ERR_UNKNOWN_SCHEMA (the record goes to the DLQ)
 * - 409 / 422 on register           → PHIGATE_ERR_REGISTRY_REJECTED (that destination fails closed)
 * - network error, timeout, 5xx, 429 → PHIGATE_ERR_REGISTRY_UNAVAILABLE (pause and retry; never DLQ)
 */
import { PhiGateError } from '../errors.ts';

export interface RegistryClientOptions {
  readonly url: string;
  readonly auth: null | { readonly username: string; readonly password: string };
  readonly timeoutMs: number;
  /** Called once per request with its operation and outcome, for metrics. */
  readonly onRequest?: (operation: Operation, outcome: 'ok' | 'not_found' | 'rejected' | 'error') => void;
}

type Operation = 'get_schema' | 'register' | 'ping' | 'get_subject' | 'compatibility';

export interface RegisteredSchema {
  readonly schemaType: string;
  readonly schema: string;
}

const CONTENT_TYPE = 'application/vnd.schemaregistry.v1+json';

export class RegistryClient {
  readonly #base: string;
  readonly #headers: Record<string, string>;
  readonly #timeoutMs: number;
  readonly #onRequest: NonNullable<RegistryClientOptions['onRequest']>;

  constructor(options: RegistryClientOptions) {
    this.#base = options.url.replace(/\/+$/, '');
    this.#headers = { Accept: CONTENT_TYPE, 'Content-Type': CONTENT_TYPE };
    if (options.auth) {
      const token = Buffer.from(`${options.auth.username}:${options.auth.password}`).toString('base64');
      this.#headers.Authorization = `Basic ${token}`;
    }
    this.#timeoutMs = options.timeoutMs;
    this.#onRequest = options.onRequest ?? (() => undefined);
  }

  /** The writer schema registered under `id`. */
  async getSchema(id: number): Promise<RegisteredSchema> {
    const res = await this.#request('get_schema', `/schemas/ids/${id}`, { method: 'GET' });
    if (res.status === 404) {
      this.#onRequest('get_schema', 'not_found');
      throw new PhiGateError('PHIGATE_ERR_UNKNOWN_SCHEMA', `schema id ${id} is not known to the registry`);
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
      await res.body?.cancel();
      this.#onRequest('get_subject', 'not_found');
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
      await res.body?.cancel();
      this.#onRequest('get_subject', 'not_found');
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
      await res.body?.cancel();
      this.#onRequest('compatibility', 'not_found');
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
      res = await fetch(`${this.#base}${path}`, {
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

function describe(err: unknown): string {
  if (err instanceof Error) {
    const cause = (err as { cause?: { code?: string } }).cause;
    return cause?.code ? `${err.message} (${cause.code})` : err.message;
  }
  return String(err);
}
