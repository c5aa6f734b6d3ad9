/**
 * What the box's cores did while a phase ran: how busy they were (/proc/stat), and for each process
 * of interest the CPU time its threads used and the time they were ready to run but waited for a
 * core (/proc/<pid>/task/<tid>/schedstat: nanoseconds on a CPU, nanoseconds on a run queue, time
 * slices). When the broker, phi-gate and the instrument share a few cores, that wait is part of
 * every end-to-end latency: a transaction's callback that is due waits for a core first.
 * Linux only; elsewhere `BoxProbe.end` returns null.
 */
import { readdirSync, readFileSync } from 'node:fs';

export interface ProcessLoad {
  readonly name: string;
  /** CPU used by all its threads, in cores (CPU seconds per second). */
  readonly cpuCores: number;
  /** Time its threads were runnable but not running, in cores (thread-seconds per second). */
  readonly waitCores: number;
  /** Share of the phase its JavaScript thread waited for a core (Node processes only). */
  readonly jsWaitPct: number | null;
}

/** A process of interest: its pids (several members of a group count as one), and whether it is Node. */
export interface Watched {
  readonly pids: readonly number[];
  readonly node: boolean;
}

export interface BoxLoad {
  readonly seconds: number;
  readonly cores: number;
  /** Share of all cores' time not idle (steal counted as busy: the cores were not ours). */
  readonly busyPct: number;
  /** Share of all cores' time the hypervisor gave to someone else (steal), part of busyPct. */
  readonly stealPct: number;
  readonly processes: readonly ProcessLoad[];
}

interface Schedule {
  readonly pids: number;
  readonly node: boolean;
  readonly cpuNs: number;
  readonly waitNs: number;
  /** The thread-group leaders' wait, a mean over the pids: for Node, the JavaScript thread. */
  readonly mainWaitNs: number;
}

interface Snapshot {
  readonly atNs: bigint;
  readonly busy: number;
  readonly steal: number;
  readonly total: number;
  readonly cores: number;
  readonly processes: ReadonlyMap<string, Schedule>;
}

/** The local broker (deploy/local/stack.sh starts it as `kafka.Kafka`), when it runs on this box. */
export function localBrokerPids(): number[] {
  const pids: number[] = [];
  for (const entry of safeReaddir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8');
      if (cmdline.split('\0').includes('kafka.Kafka')) pids.push(Number(entry));
    } catch {
      // exited while listed
    }
  }
  return pids;
}

export class BoxProbe {
  readonly #processes: () => Readonly<Record<string, Watched>>;
  #start: Snapshot | null = null;

  /** `processes`: read at each end of the phase (a scenario's members may change); a name without pids is left out. */
  constructor(processes: () => Readonly<Record<string, Watched>>) {
    this.#processes = processes;
  }

  begin(): void {
    this.#start = snapshot(this.#processes());
  }

  end(): BoxLoad | null {
    const start = this.#start;
    const stop = snapshot(this.#processes());
    if (start === null || stop.total === 0) return null;
    const seconds = Number(stop.atNs - start.atNs) / 1e9;
    const processes: ProcessLoad[] = [];
    for (const [name, b] of stop.processes) {
      const a = start.processes.get(name);
      if (a === undefined || b.pids === 0) continue;
      const perSecond = (ns: number) => ns / 1e9 / seconds;
      processes.push({
        name,
        cpuCores: perSecond(b.cpuNs - a.cpuNs),
        waitCores: perSecond(b.waitNs - a.waitNs),
        jsWaitPct: b.node ? perSecond(b.mainWaitNs - a.mainWaitNs) * 100 : null,
      });
    }
    return {
      seconds,
      cores: stop.cores,
      busyPct: ((stop.busy - start.busy) / (stop.total - start.total)) * 100,
      stealPct: ((stop.steal - start.steal) / (stop.total - start.total)) * 100,
      processes,
    };
  }
}

/** One line for the log: busy share, then each process's CPU and wait in cores. */
export function describeBox(box: BoxLoad): string {
  const parts = box.processes.map(
    (p) =>
      `${p.name} ${p.cpuCores.toFixed(2)} / ${p.waitCores.toFixed(2)}` +
      (p.jsWaitPct === null ? '' : ` (its JavaScript thread waited ${p.jsWaitPct.toFixed(0)} % of the time)`),
  );
  const steal = box.stealPct >= 0.5 ? `, ${box.stealPct.toFixed(0)} % of it stolen by the hypervisor` : '';
  const head = `the box ${box.busyPct.toFixed(0)} % busy (${box.cores} cores${steal})`;
  return parts.length === 0 ? head : `${head}; CPU / waiting for a core, in cores: ${parts.join(', ')}`;
}

function snapshot(processes: Readonly<Record<string, Watched>>): Snapshot {
  const atNs = process.hrtime.bigint();
  const { busy, steal, total, cores } = cpuTimes();
  const schedules = new Map<string, Schedule>();
  for (const [name, { pids, node }] of Object.entries(processes)) {
    let cpuNs = 0;
    let waitNs = 0;
    let mainWaitNs = 0;
    for (const pid of pids) {
      for (const tid of safeReaddir(`/proc/${pid}/task`)) {
        const s = schedstat(`/proc/${pid}/task/${tid}/schedstat`);
        if (s === null) continue;
        cpuNs += s[0];
        waitNs += s[1];
        if (tid === String(pid)) mainWaitNs += s[1];
      }
    }
    const n = pids.length;
    schedules.set(name, { pids: n, node, cpuNs, waitNs, mainWaitNs: n > 0 ? mainWaitNs / n : 0 });
  }
  return { atNs, busy, steal, total, cores, processes: schedules };
}

/** The aggregate `cpu` line of /proc/stat: user nice system idle iowait irq softirq steal … */
function cpuTimes(): { busy: number; steal: number; total: number; cores: number } {
  try {
    const stat = readFileSync('/proc/stat', 'utf8');
    const lines = stat.split('\n');
    const fields = (lines[0] ?? '').trim().split(/\s+/).slice(1, 9).map(Number);
    const total = fields.reduce((s, x) => s + x, 0);
    const idle = (fields[3] ?? 0) + (fields[4] ?? 0);
    const cores = lines.filter((l) => /^cpu\d+ /.test(l)).length;
    return { busy: total - idle, steal: fields[7] ?? 0, total, cores };
  } catch {
    return { busy: 0, steal: 0, total: 0, cores: 0 };
  }
}

function schedstat(path: string): [number, number] | null {
  try {
    const [cpu, wait] = readFileSync(path, 'utf8').trim().split(' ').map(Number);
    return cpu === undefined || wait === undefined ? null : [cpu, wait];
  } catch {
    return null; // the thread ended, or no schedstat on this kernel
  }
}

function safeReaddir(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}
