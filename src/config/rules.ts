/**
 * Rules that involve more than one variable (TLS files need TLS, SASL needs a mechanism, ...).
 * They see which variables are set and which parsed, and add problems; a rule whose inputs failed
 * to parse stays silent, the parse problem already says what is wrong.
 */
import type { Problem } from '../errors.ts';
import type { VarName } from './schema.ts';

export interface RuleInput {
  /** The variable has a non-blank value in the environment. */
  isSet(name: VarName): boolean;
  /** The parsed value (or default); undefined if unset without default, or if it failed to parse. */
  get(name: VarName): unknown;
}

type Rule = (input: RuleInput, problems: Problem[]) => void;

const SSL_DEPENDENTS = [
  'KAFKA_SSL_CA_FILE',
  'KAFKA_SSL_CERT_FILE',
  'KAFKA_SSL_KEY_FILE',
  'KAFKA_SSL_REJECT_UNAUTHORIZED',
] as const;

const sslOptionsNeedSsl: Rule = (input, problems) => {
  if (input.get('KAFKA_SSL') !== false) return;
  for (const name of SSL_DEPENDENTS) {
    if (input.isSet(name)) {
      problems.push({
        path: name,
        message: 'has no effect while KAFKA_SSL is false: set KAFKA_SSL=true or unset it',
      });
    }
  }
};

const clientCertNeedsKey: Rule = (input, problems) => {
  if (input.get('KAFKA_SSL') !== true) return;
  const cert = input.isSet('KAFKA_SSL_CERT_FILE');
  const key = input.isSet('KAFKA_SSL_KEY_FILE');
  if (cert && !key) {
    problems.push({
      path: 'KAFKA_SSL_KEY_FILE',
      message: 'is required when KAFKA_SSL_CERT_FILE is set (mutual TLS needs the certificate and its key)',
    });
  }
  if (key && !cert) {
    problems.push({
      path: 'KAFKA_SSL_CERT_FILE',
      message: 'is required when KAFKA_SSL_KEY_FILE is set (mutual TLS needs the certificate and its key)',
    });
  }
};

/** Exactly one of a password and a password file. */
function onePassword(
  input: RuleInput,
  problems: Problem[],
  password: VarName,
  file: VarName,
  why: string,
): void {
  if (input.isSet(password) && input.isSet(file)) {
    problems.push({ path: file, message: `set ${password} or ${file}, not both` });
  } else if (!input.isSet(password) && !input.isSet(file)) {
    problems.push({ path: password, message: `is required ${why} (or ${file})` });
  }
}

const saslComplete: Rule = (input, problems) => {
  const credentials = ['KAFKA_SASL_USERNAME', 'KAFKA_SASL_PASSWORD', 'KAFKA_SASL_PASSWORD_FILE'] as const;
  if (!input.isSet('KAFKA_SASL_MECHANISM')) {
    for (const name of credentials) {
      if (input.isSet(name)) {
        problems.push({
          path: name,
          message: 'has no effect without KAFKA_SASL_MECHANISM (plain, scram-sha-256 or scram-sha-512)',
        });
      }
    }
    return;
  }
  if (!input.isSet('KAFKA_SASL_USERNAME')) {
    problems.push({ path: 'KAFKA_SASL_USERNAME', message: 'is required when KAFKA_SASL_MECHANISM is set' });
  }
  onePassword(
    input,
    problems,
    'KAFKA_SASL_PASSWORD',
    'KAFKA_SASL_PASSWORD_FILE',
    'when KAFKA_SASL_MECHANISM is set',
  );
};

const registryAuthComplete: Rule = (input, problems) => {
  const user = input.isSet('SCHEMA_REGISTRY_USERNAME');
  const password = input.isSet('SCHEMA_REGISTRY_PASSWORD') || input.isSet('SCHEMA_REGISTRY_PASSWORD_FILE');
  if (!user && password) {
    problems.push({
      path: 'SCHEMA_REGISTRY_USERNAME',
      message: 'is required when a registry password is set (basic auth needs both)',
    });
  }
  if (user || password) {
    onePassword(
      input,
      problems,
      'SCHEMA_REGISTRY_PASSWORD',
      'SCHEMA_REGISTRY_PASSWORD_FILE',
      'when SCHEMA_REGISTRY_USERNAME is set',
    );
  }
};

/** A bearer token (from one source) or basic auth, never both: the registry would see one of them. */
const registryBearerAlone: Rule = (input, problems) => {
  const token = input.isSet('SCHEMA_REGISTRY_BEARER_TOKEN');
  const file = input.isSet('SCHEMA_REGISTRY_BEARER_TOKEN_FILE');
  if (token && file) {
    problems.push({
      path: 'SCHEMA_REGISTRY_BEARER_TOKEN_FILE',
      message: 'set SCHEMA_REGISTRY_BEARER_TOKEN or SCHEMA_REGISTRY_BEARER_TOKEN_FILE, not both',
    });
  }
  if (!token && !file) return;
  const basic = [
    'SCHEMA_REGISTRY_USERNAME',
    'SCHEMA_REGISTRY_PASSWORD',
    'SCHEMA_REGISTRY_PASSWORD_FILE',
  ] as const;
  for (const name of basic) {
    if (input.isSet(name)) {
      problems.push({
        path: name,
        message:
          'excludes a registry bearer token: use basic auth or SCHEMA_REGISTRY_BEARER_TOKEN(_FILE), not both',
      });
    }
  }
};

const registryCaNeedsHttps: Rule = (input, problems) => {
  const url = input.get('SCHEMA_REGISTRY_URL');
  if (input.isSet('SCHEMA_REGISTRY_CA_FILE') && typeof url === 'string' && !url.startsWith('https:')) {
    problems.push({
      path: 'SCHEMA_REGISTRY_CA_FILE',
      message: 'has no effect with an http:// SCHEMA_REGISTRY_URL: use https:// or unset it',
    });
  }
};

const retryOrdered: Rule = (input, problems) => {
  const initial = input.get('PHIGATE_RETRY_INITIAL_MS');
  const max = input.get('PHIGATE_RETRY_MAX_MS');
  if (typeof initial === 'number' && typeof max === 'number' && initial > max) {
    problems.push({
      path: 'PHIGATE_RETRY_INITIAL_MS',
      message: `must not exceed PHIGATE_RETRY_MAX_MS (${initial} > ${max})`,
    });
  }
};

/** Reading from the audit or DLQ topic would feed phi-gate's own output back into it. */
const topicsDistinct: Rule = (input, problems) => {
  const names = [
    'PHIGATE_INPUT_TOPIC',
    'PHIGATE_AUDIT_TOPIC',
    'PHIGATE_DLQ_TOPIC',
    'PHIGATE_INVENTORY_TOPIC',
  ] as const;
  names.forEach((name, i) => {
    const topic = input.get(name);
    const earlier = names.slice(0, i).find((other) => input.get(other) === topic);
    if (typeof topic === 'string' && earlier !== undefined) {
      problems.push({
        path: name,
        message: `must differ from ${earlier} (both are ${JSON.stringify(topic)})`,
      });
    }
  });
};

/** kafkajs's snappy and lz4 codecs are JavaScript and read-only (src/kafka/kafkajs/compression.ts). */
const compressionOfEngine: Rule = (input, problems) => {
  const codec = input.get('PHIGATE_COMPRESSION');
  if (input.get('PHIGATE_KAFKA_ENGINE') === 'kafkajs' && (codec === 'snappy' || codec === 'lz4')) {
    problems.push({
      path: 'PHIGATE_COMPRESSION',
      message: `${codec} is written only by the librdkafka engine; with PHIGATE_KAFKA_ENGINE=kafkajs use none, gzip or zstd`,
    });
  }
};

export const RULES: readonly Rule[] = [
  compressionOfEngine,
  sslOptionsNeedSsl,
  clientCertNeedsKey,
  saslComplete,
  registryAuthComplete,
  registryBearerAlone,
  registryCaNeedsHttps,
  retryOrdered,
  topicsDistinct,
];
