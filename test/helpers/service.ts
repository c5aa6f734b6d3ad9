/**
 * Runs `phi-gate run` as a real child process against the real stack, so that tests can send it
 * SIGTERM or kill -9 it like Kubernetes would.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { BROKERS, REGISTRY_URL } from './stack.ts';

const MAIN = fileURLToPath(new URL('../../src/main.ts', import.meta.url));

export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  server.close();
  await once(server, 'close');
  return port;
}

export interface ServiceOptions {
  readonly input: string;
  readonly audit: string;
  readonly dlq: string;
  /** Default `<input>.inventory`: tests must not share the default `events.inventory`. */
  readonly inventory?: string;
  readonly groupId: string;
  readonly policyFile: string;
  readonly transactionalIdPrefix?: string;
  /** Default: the shared broker (KAFKA_BROKERS). */
  readonly brokers?: readonly string[];
  readonly env?: Record<string, string>;
}

export class Service {
  readonly port: number;
  readonly #child: ChildProcess;
  readonly #exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  output = '';

  private constructor(child: ChildProcess, port: number) {
    this.#child = child;
    this.port = port;
    child.stdout?.on('data', (d: Buffer) => {
      this.output += d.toString();
    });
    child.stderr?.on('data', (d: Buffer) => {
      this.output += d.toString();
    });
    this.#exit = once(child, 'exit').then(([code, signal]) => ({ code, signal }));
  }

  static async start(options: ServiceOptions): Promise<Service> {
    const port = await freePort();
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '/tmp',
      KAFKAJS_NO_PARTITIONER_WARNING: '1',
      KAFKA_BROKERS: (options.brokers ?? BROKERS).join(','),
      SCHEMA_REGISTRY_URL: REGISTRY_URL,
      PHIGATE_INPUT_TOPIC: options.input,
      PHIGATE_AUDIT_TOPIC: options.audit,
      PHIGATE_DLQ_TOPIC: options.dlq,
      PHIGATE_INVENTORY_TOPIC: options.inventory ?? `${options.input}.inventory`,
      PHIGATE_GROUP_ID: options.groupId,
      PHIGATE_TRANSACTIONAL_ID_PREFIX: options.transactionalIdPrefix ?? options.groupId,
      PHIGATE_POLICY_FILE: options.policyFile,
      PHIGATE_POLICY_POLL_MS: '500',
      PHIGATE_METRICS_HOST: '127.0.0.1',
      PHIGATE_METRICS_PORT: String(port),
      PHIGATE_TOPIC_PARTITIONS: '2',
      PHIGATE_TOPIC_REPLICATION: '1',
      PHIGATE_BATCH_MAX_MS: '50',
      PHIGATE_RETRY_INITIAL_MS: '200',
      PHIGATE_RETRY_MAX_MS: '2000',
      PHIGATE_LOG_LEVEL: 'info',
      // several instances run on this one host: each needs its own transactional id
      PHIGATE_INSTANCE_ID: `${options.groupId}-${port}`,
      ...options.env,
    };
    const child = spawn(process.execPath, [MAIN, 'run'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    return new Service(child, port);
  }

  /**
   * The end of the output for a failure message, about `chars` long: phi-gate's own lines, then,
   * apart, its Kafka client's. During an outage the client logs many lines, which in a plain tail
   * push phi-gate's own out of a shortened report.
   */
  report(chars = 6000): string {
    const lines = this.output.split('\n');
    const fromClient = (line: string) => /"component":"(librdkafka|kafkajs)"/.test(line);
    const own = lines.filter((line) => !fromClient(line)).join('\n');
    const client = lines.filter(fromClient).join('\n');
    const share = Math.floor(chars / 3);
    return `${own.slice(-(chars - share))}\n--- its Kafka client ---\n${client.slice(-share)}`;
  }

  /** The child's process id (for /proc/<pid>/status). */
  get pid(): number | undefined {
    return this.#child.pid;
  }

  /** Whether the child is still running. */
  get alive(): boolean {
    return this.#child.exitCode === null && this.#child.signalCode === null;
  }

  async metricsText(): Promise<string> {
    const res = await fetch(`http://127.0.0.1:${this.port}/metrics`);
    return res.text();
  }

  /** Sum of a counter's samples whose labels include every given label. */
  async counter(name: string, labels: Record<string, string> = {}): Promise<number> {
    const text = await this.metricsText();
    let sum = 0;
    for (const line of text.split('\n')) {
      if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
      if (!Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) continue;
      sum += Number(line.slice(line.lastIndexOf(' ') + 1));
    }
    return sum;
  }

  /** Waits until /readyz answers 200 (joined the group, registry reachable). */
  async waitReady(timeoutMs = 45_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (this.#child.exitCode !== null) {
        throw new Error(
          `phi-gate exited with ${this.#child.exitCode} before it was ready:\n${this.report(4000)}`,
        );
      }
      try {
        const res = await fetch(`http://127.0.0.1:${this.port}/readyz`, {
          signal: AbortSignal.timeout(1000),
        });
        if (res.status === 200) return;
      } catch {
        // not listening yet
      }
      await new Promise((r) => setTimeout(r, 200));
    }
    throw new Error(`phi-gate not ready after ${timeoutMs} ms:\n${this.report(4000)}`);
  }

  /** Polls `probe` until it is true or the deadline passes. */
  static async until(probe: () => Promise<boolean>, timeoutMs = 30_000, what = 'condition'): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (await probe()) return;
      await new Promise((r) => setTimeout(r, 200));
    }
    throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
  }

  signal(signal: NodeJS.Signals): void {
    this.#child.kill(signal);
  }

  exited(): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    return this.#exit;
  }

  /** SIGTERM and wait; SIGKILL if it does not exit in time. Idempotent. */
  async stop(timeoutMs = 30_000): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    if (this.#child.exitCode === null && this.#child.signalCode === null) {
      this.#child.kill('SIGTERM');
      const timer = setTimeout(() => this.#child.kill('SIGKILL'), timeoutMs);
      const result = await this.#exit;
      clearTimeout(timer);
      return result;
    }
    return this.#exit;
  }
}
