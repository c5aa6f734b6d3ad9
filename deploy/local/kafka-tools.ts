/**
 * Apache Kafka's own command-line tools (the kafka-tools jar and its dependencies), from the jars
 * `stack.sh fetch` put in the cache: the benchmark's broker ceiling and the tests' interoperability
 * checks run the Java client through them.
 */
import { homedir } from 'node:os';
import { join } from 'node:path';

export const kafkaLibs = join(
  process.env.PHIGATE_CACHE ?? join(homedir(), '.cache', 'phi-gate'),
  'kafka-4.1.1',
  'libs',
);

/** `java` arguments that run the tool `org.apache.kafka.tools.<main>`. */
export function kafkaToolArgs(main: string, args: readonly string[]): string[] {
  return ['-Xms256m', '-Xmx512m', '-cp', `${kafkaLibs}/*`, `org.apache.kafka.tools.${main}`, ...args];
}
