/**
 * The benchmark's reading of the box's cores (bench/lib/box.ts): a process's CPU and its wait for a
 * core come from its threads' schedstat, the busy share from /proc/stat.
 */
import assert from 'node:assert/strict';
import { cpus } from 'node:os';
import { describe, test } from 'node:test';
import { BoxProbe, describeBox } from '../../../bench/lib/box.ts';

describe('BoxProbe', () => {
  test('a thread that spins shows as CPU used, within the box', () => {
    const probe = new BoxProbe(() => ({ self: { pids: [process.pid], node: true } }));
    probe.begin();
    const until = Date.now() + 300;
    while (Date.now() < until); // the JavaScript thread is busy for 300 ms
    const box = probe.end();
    assert.ok(box !== null, 'schedstat and /proc/stat are readable on Linux');
    assert.equal(box.cores, cpus().length);
    assert.ok(box.seconds >= 0.3, String(box.seconds));
    assert.ok(box.busyPct > 0 && box.busyPct <= 100, String(box.busyPct));
    assert.ok(box.stealPct >= 0 && box.stealPct <= box.busyPct, String(box.stealPct));
    const self = box.processes.find((p) => p.name === 'self');
    assert.ok(self !== undefined);
    // it ran or waited to run for most of the phase: the two together cannot be far below one core
    assert.ok(self.cpuCores + self.waitCores > 0.5, JSON.stringify(self));
    assert.ok(self.jsWaitPct !== null && self.jsWaitPct >= 0 && self.jsWaitPct <= 100, JSON.stringify(self));
  });

  test('a process that is gone counts as nothing, one without pids is left out, and no phase begun gives no reading', () => {
    const probe = new BoxProbe(() => ({
      gone: { pids: [2 ** 22 + 1], node: false },
      none: { pids: [], node: true },
    }));
    assert.equal(probe.end(), null);
    probe.begin();
    const box = probe.end();
    assert.deepEqual(
      box?.processes.map((p) => [p.name, p.cpuCores, p.waitCores, p.jsWaitPct]),
      [['gone', 0, 0, null]],
    );
  });
});

test('describeBox: the busy share (and the stolen share when there is one), then CPU / wait per process', () => {
  const box = { seconds: 17, cores: 2, busyPct: 90, stealPct: 6, processes: [] };
  assert.equal(describeBox(box), 'the box 90 % busy (2 cores, 6 % of it stolen by the hypervisor)');

  const line = describeBox({
    seconds: 17,
    cores: 2,
    busyPct: 87.4,
    stealPct: 0.2,
    processes: [
      { name: 'phi-gate', cpuCores: 0.754, waitCores: 1.3, jsWaitPct: 35.2 },
      { name: 'broker', cpuCores: 0.65, waitCores: 0.649, jsWaitPct: null },
    ],
  });
  assert.equal(
    line,
    'the box 87 % busy (2 cores); CPU / waiting for a core, in cores: phi-gate 0.75 / 1.30 (its JavaScript thread waited 35 % of the time), broker 0.65 / 0.65',
  );
});
