/**
 * kafkajs's logger bridged into pino (the kafkajs engine's log bridge).
 */
import { type LogEntry, type logCreator, logLevel } from 'kafkajs';
import type { Logger } from 'pino';
import { REDACTED } from '../../observability/logger.ts';

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
