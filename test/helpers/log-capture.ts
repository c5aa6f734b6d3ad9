/** A phi-gate logger writing into memory, for tests that read what was logged. */
import { Writable } from 'node:stream';
import { createLogger } from '../../src/observability/logger.ts';

/** A logger writing into an array of JSON lines; `lines()` parses them. */
export function captureLogs(level = 'info', base?: Record<string, unknown>) {
  const raw: string[] = [];
  const destination = new Writable({
    write(chunk, _encoding, callback) {
      raw.push(String(chunk));
      callback();
    },
  });
  const logger = createLogger({ level, destination, ...(base ? { base } : {}) });
  const lines = () => raw.map((line) => JSON.parse(line) as Record<string, any>);
  return { logger, raw, lines };
}
