/**
 * The process logger: pino, JSON lines on stdout, with redaction configured once at construction
 * (pino compiles the paths into a redactor; nothing is matched per call by our code).
 *
 * Logs must never carry a payload value or a secret. Two layers keep them out:
 * 1. Code logs ids, topics, partitions, offsets, schema ids, destination names and error codes —
 *    never decoded fields. PhiGateError messages never embed a value (see src/errors.ts), so an
 *    error logged as `{ err }` is safe. pino's std serializer writes its type, message, stack,
 *    code, disposition and problems, and appends every cause's message and stack ("caused by"):
 *    an error from a library whose message may quote data (a decoder's) must therefore be
 *    replaced by a PhiGateError that names only paths and ids, not attached as its cause.
 * 2. As a safety net, any property whose name suggests a payload or a secret is replaced by
 *    '[redacted]' at the top level and two levels down (`value`, `*.value`, `*.*.value`, ...).
 *    Deeper nesting is not covered: do not log whole records or events, whatever the depth.
 */
import { hostname } from 'node:os';
import { type Logger, pino, stdSerializers, stdTimeFunctions } from 'pino';

export const REDACTED = '[redacted]';

/** Property names that may hold event data (a record, its key, value or headers) or a secret. */
const SENSITIVE_KEYS = [
  // event data
  'value',
  'values',
  'key',
  'payload',
  'record',
  'records',
  'messages',
  'event',
  'events',
  'headers',
  'properties',
  'traits',
  'context',
  'plaintext',
  // secrets
  'password',
  'secret',
  'token',
  'authorization',
  'credentials',
  'cookie',
] as const;

/** Named explicitly for readers: each is also covered by a wildcard path. */
const EXPLICIT_PATHS = ['message.value', 'message.key', 'sasl.password', 'auth.password'];

export const REDACT_PATHS: readonly string[] = [
  ...new Set([...SENSITIVE_KEYS.flatMap((k) => [k, `*.${k}`, `*.*.${k}`]), ...EXPLICIT_PATHS]),
];

export interface LoggerOptions {
  /** A pino level: trace, debug, info, warn, error, fatal or silent. */
  readonly level: string;
  /** Where JSON lines go; stdout when absent (tests pass a stream). */
  readonly destination?: NodeJS.WritableStream;
  /** Extra fields on every line (pid and hostname are always there). */
  readonly base?: Record<string, unknown>;
}

export function createLogger(options: LoggerOptions): Logger {
  return pino(
    {
      level: options.level,
      base: { pid: process.pid, hostname: hostname(), ...options.base },
      timestamp: stdTimeFunctions.isoTime,
      // Level as a label ("warn"), which log pipelines and people read without a lookup table.
      formatters: { level: (label) => ({ level: label }) },
      // some clients report errors under `error`; serialize both keys the same way.
      serializers: { err: stdSerializers.err, error: stdSerializers.err },
      redact: { paths: [...REDACT_PATHS], censor: REDACTED },
    },
    // pino writes to stdout synchronously when no destination is given, so the last lines before
    // a crash are not lost.
    options.destination as pino.DestinationStream | undefined,
  );
}
