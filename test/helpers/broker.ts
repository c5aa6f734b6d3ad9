/**
 * A test's own Kafka broker, for fault injection: started through deploy/local/stack.sh with a state
 * dir and ports of its own, so that killing or freezing it never touches the shared broker other
 * tests use. It uses the shared schema registry.
 *
 * With `{ proxy: true }` the broker advertises the port of a protocol-aware proxy (kafka-proxy.ts)
 * in front of it, so that a test can garble the broker's answers to clients.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { KafkaProxy } from './kafka-proxy.ts';
import { freePort } from './service.ts';

const run = promisify(execFile);
const STACK = fileURLToPath(new URL('../../deploy/local/stack.sh', import.meta.url));

export class PrivateBroker {
  readonly dir: string;
  readonly brokers: readonly string[];
  /** The proxy clients reach the broker through, when started with one. */
  readonly proxy: KafkaProxy | undefined;
  readonly #env: NodeJS.ProcessEnv;
  /** The running broker's process id, read from its pid file at each start. */
  #pid = 0;
  #frozen = false;

  private constructor(dir: string, env: NodeJS.ProcessEnv, port: number, proxy: KafkaProxy | undefined) {
    this.dir = dir;
    this.#env = env;
    this.proxy = proxy;
    this.brokers = [`127.0.0.1:${proxy?.port ?? port}`];
  }

  /** Formats a fresh data dir and starts the broker; resolves once it serves requests. */
  static async start(options: { proxy?: boolean } = {}): Promise<PrivateBroker> {
    const dir = await mkdtemp(join(tmpdir(), 'phigate-broker-'));
    const [port, controller, saslSsl] = [await freePort(), await freePort(), await freePort()];
    // before the broker: its own transaction markers reach it through the advertised port too
    const proxy = options.proxy ? await KafkaProxy.start(await freePort(), port) : undefined;
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      STACK_DIR: dir,
      KAFKA_PORT: String(port),
      KAFKA_ADVERTISED_PORT: String(proxy?.port ?? port),
      KAFKA_CONTROLLER_PORT: String(controller),
      KAFKA_SASL_SSL_PORT: String(saslSsl),
      KAFKA_HEAP: '-Xms128m -Xmx512m',
    };
    // set to the shared stack's addresses, these would make stack.sh treat this as an external cluster
    delete env.KAFKA_BROKERS;
    delete env.SCHEMA_REGISTRY_URL;
    const broker = new PrivateBroker(dir, env, port, proxy);
    try {
      await broker.#stack('start', 'kafka');
      await broker.#readPid();
    } catch (err) {
      await broker.destroy();
      throw err;
    }
    return broker;
  }

  async #stack(...args: string[]): Promise<void> {
    try {
      await run('bash', [STACK, ...args], { env: this.#env, timeout: 150_000 });
    } catch (err) {
      const { stderr } = err as { stderr?: string };
      throw new Error(`stack.sh ${args.join(' ')} failed: ${stderr ?? (err as Error).message}`);
    }
  }

  async #readPid(): Promise<void> {
    this.#pid = Number((await readFile(join(this.dir, 'kafka.pid'), 'utf8')).trim());
  }

  /** kill -9, and wait until the process is gone (a JVM takes a moment to die). */
  async kill9(): Promise<void> {
    const pid = this.#pid;
    process.kill(pid, 'SIGKILL');
    const deadline = Date.now() + 30_000;
    while (alive(pid)) {
      if (Date.now() > deadline) throw new Error(`broker pid ${pid} survived kill -9 for 30 s`);
      await sleep(100);
    }
  }

  /**
   * SIGSTOP: the broker holds its connections open and answers nothing. Synchronous, so that a
   * proxy trap can freeze it before a client reads the answer being rewritten.
   */
  freeze(): void {
    process.kill(this.#pid, 'SIGSTOP');
    this.#frozen = true;
  }

  thaw(): void {
    process.kill(this.#pid, 'SIGCONT');
    this.#frozen = false;
  }

  get frozen(): boolean {
    return this.#frozen;
  }

  /** Starts the broker again on the data it has (`stack.sh resume`); resolves once it is ready. */
  async resume(): Promise<void> {
    await this.#stack('resume', 'kafka');
    await this.#readPid();
  }

  /** The broker's own log (the lifecycle lines and warnings), for a failure message. */
  async logTail(chars = 3000): Promise<string> {
    const text = await readFile(join(this.dir, 'logs', 'kafka.log'), 'utf8').catch(() => '');
    return text.slice(-chars);
  }

  /** Stops the broker (thawing it first) and deletes its state dir. Idempotent. */
  async destroy(): Promise<void> {
    const pid = this.#pid;
    if (pid > 0 && alive(pid)) process.kill(pid, 'SIGCONT');
    await this.#stack('stop', 'kafka').catch(() => undefined);
    if (pid > 0 && alive(pid)) process.kill(pid, 'SIGKILL');
    await this.proxy?.close();
    await rm(this.dir, { recursive: true, force: true });
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
