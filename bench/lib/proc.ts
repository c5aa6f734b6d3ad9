/**
 * A child process under measurement: its peak RSS (VmHWM) and CPU time (utime + stime) read from
 * /proc while it runs. Sampled every 100 ms; the last sample before exit is kept, so a figure can be
 * short by at most one interval.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';

const CLOCK_TICKS = 100; // USER_HZ on Linux

export interface Usage {
  readonly peakRssMb: number;
  readonly cpuSec: number;
}

export function readUsage(pid: number): Usage | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const hwm = /VmHWM:\s+(\d+) kB/.exec(status);
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // fields after the command name "(...)": state is field 3, utime 14, stime 15
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(rest[11]) + Number(rest[12]);
    return { peakRssMb: Number(hwm?.[1] ?? 0) / 1024, cpuSec: ticks / CLOCK_TICKS };
  } catch {
    return undefined; // exited
  }
}

export class Measured {
  readonly child: ChildProcess;
  readonly name: string;
  output = '';
  #last: Usage = { peakRssMb: 0, cpuSec: 0 };
  readonly #timer: NodeJS.Timeout;
  readonly #exit: Promise<number | null>;

  constructor(name: string, command: string, args: string[], env: NodeJS.ProcessEnv) {
    this.name = name;
    this.child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    const keep = (d: Buffer) => {
      this.output = (this.output + d.toString()).slice(-200_000);
    };
    this.child.stdout?.on('data', keep);
    this.child.stderr?.on('data', keep);
    this.#timer = setInterval(() => this.sample(), 100);
    this.#exit = once(this.child, 'exit').then(([code]) => {
      clearInterval(this.#timer);
      return code as number | null;
    });
  }

  pids(): number[] {
    return this.child.pid !== undefined && this.alive ? [this.child.pid] : [];
  }

  /** Current usage (a fresh read while alive, else the last sample). */
  sample(): Usage {
    const pid = this.child.pid;
    const u = pid !== undefined && this.child.exitCode === null ? readUsage(pid) : undefined;
    if (u) this.#last = { peakRssMb: Math.max(u.peakRssMb, this.#last.peakRssMb), cpuSec: u.cpuSec };
    return this.#last;
  }

  get alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  get exitReport(): string {
    return `${this.name} exited (${this.child.exitCode ?? this.child.signalCode}):\n${this.output.slice(-3000)}`;
  }

  exited(): Promise<number | null> {
    return this.#exit;
  }

  /** Resolves when `pattern` appears in the output; rejects if the process exits first. */
  async waitFor(pattern: RegExp, timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!pattern.test(this.output)) {
      if (!this.alive) throw new Error(`${this.name} exited early:\n${this.output.slice(-3000)}`);
      if (Date.now() > deadline) throw new Error(`${this.name}: timed out waiting for ${pattern}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** SIGTERM, then SIGKILL after `timeoutMs`. */
  async stop(timeoutMs = 30_000): Promise<void> {
    if (!this.alive) return;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
    await this.#exit;
    clearTimeout(timer);
  }
}

/** What a scenario measures of its process or processes. */
export interface Measurable {
  readonly alive: boolean;
  /** The last output of whichever process exited, for an error message. */
  readonly exitReport: string;
  sample(): Usage;
  /** Its live processes, for a reading of the cores (box.ts). */
  pids(): number[];
  stop(): Promise<void>;
}

/**
 * Several members of one consumer group measured as one: CPU summed, peak RSS the largest member's
 * (each is a pod of its own when deployed), alive while every member is.
 */
export class Members implements Measurable {
  readonly members: readonly Measured[];

  constructor(members: readonly Measured[]) {
    this.members = members;
  }

  get alive(): boolean {
    return this.members.every((m) => m.alive);
  }

  get exitReport(): string {
    return this.members
      .filter((m) => !m.alive)
      .map((m) => m.exitReport)
      .join('\n');
  }

  pids(): number[] {
    return this.members.flatMap((m) => m.pids());
  }

  sample(): Usage {
    const usages = this.members.map((m) => m.sample());
    return {
      peakRssMb: Math.max(...usages.map((u) => u.peakRssMb)),
      cpuSec: usages.reduce((sum, u) => sum + u.cpuSec, 0),
    };
  }

  async stop(): Promise<void> {
    await Promise.all(this.members.map((m) => m.stop()));
  }
}
