/**
 * librdkafka's log and error events bridged into pino: one child logger {component: 'librdkafka'}.
 * librdkafka logs protocol and connection events, never record contents (no `debug` contexts that
 * dump messages are enabled).
 */
import type { EventEmitter } from 'node:events';
import type { KafkaConsumer, Producer } from '@confluentinc/kafka-javascript';
import type { Logger } from 'pino';

interface LogEvent {
  readonly severity?: number;
  readonly fac?: string;
  readonly message?: string;
}

/** Syslog severities (0 emergency … 7 debug) → pino methods. */
function method(severity: number): 'error' | 'warn' | 'info' | 'debug' {
  if (severity <= 3) return 'error';
  if (severity === 4) return 'warn';
  if (severity <= 6) return 'info';
  return 'debug';
}

export function bridgeLogs(rdkafkaClient: KafkaConsumer | Producer, logger: Logger, name: string): void {
  const child = logger.child({ component: 'librdkafka', client: name });
  // both clients are EventEmitters; their typings overload `on` per client, which a union cannot call
  const client = rdkafkaClient as unknown as EventEmitter;
  client.on('event.log', (event: LogEvent) => {
    child[method(event.severity ?? 7)]({ facility: event.fac }, event.message ?? '');
  });
  // errors the client recovers from itself (a broker down, a connection refused): the calls that
  // give up report them again, as catalogue errors
  client.on('event.error', (err: { code?: number; message?: string; isFatal?: boolean }) => {
    child[err.isFatal ? 'error' : 'warn'](
      { code: err.code, fatal: err.isFatal === true },
      err.message ?? 'client error',
    );
  });
}
