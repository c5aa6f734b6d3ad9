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
import { type LogEntry, type logCreator, logLevel } from 'kafkajs';
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
      // kafkajs reports errors under `error`; serialize both keys the same way.
      serializers: { err: stdSerializers.err, error: stdSerializers.err },
      redact: { paths: [...REDACT_PATHS], censor: REDACTED },
    },
    // pino writes to stdout synchronously when no destination is given, so the last lines before
    // a crash are not lost.
    options.destination as pino.DestinationStream | undefined,
  );
}

type PinoMethod = 'error' | 'warn' | 'info' | 'debug';

/** kafkajs's levels (NOTHING is never passed to a log function) → pino methods. */
function pinoMethod(level: logLevel): PinoMethod {
  if (level === logLevel.ERROR) return 'error';
  if (level === logLevel.WARN) return 'warn';
  if (level === logLevel.INFO) return 'info';
  return 'debug';
}

/**
 * The kafkajs level that lets through what the pino level would show: kafkajs filters before it
 * calls the log creator, so pass this as `logLevel` in the Kafka client config.
 */
export function kafkajsLogLevel(level: string): logLevel {
  switch (level) {
    case 'trace':
    case 'debug':
      return logLevel.DEBUG;
    case 'info':
      return logLevel.INFO;
    case 'warn':
      return logLevel.WARN;
    case 'error':
    case 'fatal':
      return logLevel.ERROR;
    default:
      return logLevel.NOTHING;
  }
}

/**
 * kafkajs logs at ERROR every error response its connection layer sees, retriable ones included
 * (a coordinator still loading, a leader moving), and warns once per idempotent producer whose
 * retries are bounded. Neither needs an operator: a failure that matters surfaces again as the
 * error of the call that gave up, which phi-gate logs and counts itself (pauses, aborted
 * transactions), and phi-gate's own retry loop aborts and rebuilds a failed transactional producer.
 */
function demote(namespace: string, level: logLevel, message: string): logLevel {
  if (level === logLevel.ERROR && namespace === 'Connection' && message.startsWith('Response '))
    return logLevel.DEBUG;
  if (level === logLevel.WARN && message.startsWith('Limiting retries for the idempotent producer'))
    return logLevel.DEBUG;
  return level;
}

/**
 * Bridges kafkajs's logger into pino: one child logger {component: 'kafkajs'}, kafkajs's namespace
 * (Consumer, Connection, ...) as a field, its message as msg. kafkajs's debug logs of protocol
 * responses carry the decoded response under `data`: it is dropped here (and `payload` is
 * redacted by the logger) so no record can reach the log, whatever KAFKAJS_DEBUG_* says.
 */
export function kafkajsLogCreator(logger: Logger): logCreator {
  const child = logger.child({ component: 'kafkajs' });
  return () =>
    ({ namespace, level, log }: LogEntry) => {
      // kafkajs adds its own timestamp and `logger: 'kafkajs'`; pino has both already.
      const { message, timestamp: _timestamp, logger: _logger, data, ...extra } = log;
      const fields = data === undefined ? { namespace, ...extra } : { namespace, ...extra, data: REDACTED };
      child[pinoMethod(demote(namespace, level, message))](fields, message);
    };
}
