/**
 * Scenario 1, the broker ceiling: Kafka's own ProducerPerformance and ConsumerPerformance (kafka-tools
 * jar) on the same broker with the same record size. Their latency figures are the producer's
 * acknowledgement latency (send → acks=all), at the same fixed fraction of the measured maximum.
 */
import { kafkaToolArgs } from '../../deploy/local/kafka-tools.ts';
import { Measured } from './proc.ts';

async function tool(
  main: string,
  args: string[],
): Promise<{ out: string; peakRssMb: number; cpuSec: number }> {
  const p = new Measured(main, 'java', kafkaToolArgs(main, args), process.env);
  const code = await p.exited();
  const u = p.sample();
  if (code !== 0) throw new Error(`${main} exited with ${code}:\n${p.output.slice(-3000)}`);
  return { out: p.output, ...u };
}

export interface ProducerRun {
  readonly recordsPerSec: number;
  readonly p50Ms: number;
  readonly p95Ms: number;
  readonly p99Ms: number;
  readonly peakRssMb: number;
  readonly cpuSec: number;
}

export async function producerPerf(
  brokers: string,
  topic: string,
  records: number,
  size: number,
  throughput: number,
): Promise<ProducerRun> {
  const r = await tool('ProducerPerformance', [
    '--topic',
    topic,
    '--num-records',
    String(records),
    '--record-size',
    String(size),
    '--throughput',
    String(throughput),
    '--producer-props',
    `bootstrap.servers=${brokers}`,
    'acks=all',
  ]);
  // "N records sent, X records/sec (Y MB/sec), A ms avg latency, M ms max latency, P50 ms 50th, P95 ms 95th, P99 ms 99th, ..."
  const m = /records sent, ([\d.]+) records\/sec.*?, (\d+) ms 50th, (\d+) ms 95th, (\d+) ms 99th/.exec(r.out);
  if (!m) throw new Error(`unexpected ProducerPerformance output:\n${r.out.slice(-2000)}`);
  return {
    recordsPerSec: Number(m[1]),
    p50Ms: Number(m[2]),
    p95Ms: Number(m[3]),
    p99Ms: Number(m[4]),
    peakRssMb: r.peakRssMb,
    cpuSec: r.cpuSec,
  };
}

export async function consumerPerf(
  brokers: string,
  topic: string,
  records: number,
): Promise<{ recordsPerSec: number; peakRssMb: number; cpuSec: number }> {
  const r = await tool('ConsumerPerformance', [
    '--bootstrap-server',
    brokers,
    '--topic',
    topic,
    '--messages',
    String(records),
  ]);
  // header line, then "start, end, MB, MB/s, nMsg, nMsg/s, rebalance ms, fetch ms, fetch MB/s, fetch nMsg/s"
  const line = r.out.split('\n').find((l) => /^\d{4}-\d\d-\d\d /.test(l));
  const cols = line?.split(', ');
  if (!cols || cols.length < 10)
    throw new Error(`unexpected ConsumerPerformance output:\n${r.out.slice(-2000)}`);
  // fetch nMsg/s leaves out the group join (as the phi-gate figures leave out start-up)
  return { recordsPerSec: Number(cols[9]), peakRssMb: r.peakRssMb, cpuSec: r.cpuSec };
}
