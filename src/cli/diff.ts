/**
 * `phi-gate diff --policy NEW.yaml [--against OLD.yaml] [--sample N] [--from earliest|latest] [--json]`:
 * what a policy change would do to real traffic. Reads up to N raw events (default 10,000) from the
 * input topic, read-only (src/kafka/reader.ts: assigned partitions, no group, no commit, nothing
 * written — not even a derived schema: plans are compiled locally and never registered), runs the
 * old policy (default: the file PHIGATE_POLICY_FILE names) and the new one on each, and prints per
 * destination the events newly delivered / filtered and per field path the old → new action.
 *
 * Exit 0: no leak; 4: some change lets a matcher-flagged field or a detector hit reach a destination
 * in clear where it did not (CI can gate a policy change on it); 3: a policy does not validate
 * (every problem listed); 1: Kafka or the registry cannot be read; 2: usage. Undecodable events are
 * counted, not fatal.
 */
import { resolve } from 'node:path';
import { loadKafkaConfig, loadRegistryConfig, loadTopicsConfig } from '../config/index.ts';
import { formatProblems, isPhiGateError } from '../errors.ts';
import { type ReadFrom, TopicReader } from '../kafka/reader.ts';
import { Decoder } from '../pipeline/decode.ts';
import { PolicyComparison, type PolicyDiff } from '../policy/diff.ts';
import { loadPolicy, type Policy } from '../policy/index.ts';
import { RegistryClient } from '../registry/client.ts';
import { WriterTypes } from '../registry/schemas.ts';
import { parseCommandArgs } from './args.ts';
import { formatDiff } from './diff-format.ts';
import type { CliIo, Command } from './io.ts';
import { EXIT } from './io.ts';

const USAGE =
  'usage: phi-gate diff --policy NEW.yaml [--against OLD.yaml] [--sample N] [--from earliest|latest] [--json]\n' +
  '  OLD defaults to the file PHIGATE_POLICY_FILE names; N to 10000; --from to latest (the most recent events)\n';

/** Exit code of a diff in which some change newly leaks. */
export const EXIT_LEAK = 4;
const DEFAULT_SAMPLE = 10_000;
const MAX_SAMPLE = 1_000_000;
const PROGRESS_MS = 2_000;

type Options = { policy: string; against?: string; sample?: string; from?: string; json?: boolean };

/** Both policies, or the exit code after printing every problem of each that does not validate. */
async function loadBoth(
  newPath: string,
  oldPath: string,
  io: CliIo,
): Promise<{ old: Policy; new: Policy } | number> {
  const topics = loadTopicsConfig(io.env);
  const load = (path: string) =>
    loadPolicy(path, { env: io.env, topics }).then(
      (policy) => ({ policy }),
      (err: unknown) => {
        if (!isPhiGateError(err)) throw err;
        return { error: `${path}: ${formatProblems(err)}` };
      },
    );
  const [before, after] = await Promise.all([load(oldPath), load(newPath)]);
  const errors = [before, after].flatMap((r) => ('error' in r ? [r.error] : []));
  if (errors.length > 0) {
    io.stderr.write(
      `phi-gate diff: ${errors.length === 1 ? 'a policy does' : 'the policies do'} not validate\n`,
    );
    for (const e of errors) io.stderr.write(`${e}\n`);
    return EXIT.invalid;
  }
  return { old: (before as { policy: Policy }).policy, new: (after as { policy: Policy }).policy };
}

async function compare(
  policies: { old: Policy; new: Policy },
  options: { sample: number; from: ReadFrom },
  io: CliIo,
): Promise<{ diff: PolicyDiff; source: string }> {
  const { registry, inputTopic } = loadRegistryConfig(io.env);
  const kafka = loadKafkaConfig(io.env);
  const types = new WriterTypes(new RegistryClient(registry));
  const decoder = new Decoder(types);
  const comparison = new PolicyComparison(policies.old, policies.new);
  const reader = await TopicReader.open({ kafka, logLevel: 'error' });
  let lastProgress = Date.now();
  try {
    for await (const records of reader.read({ topic: inputTopic, max: options.sample, from: options.from })) {
      for (const record of records) {
        let decoded = decoder.decode(record.value);
        if (decoded instanceof Promise) decoded = await decoded;
        if (!decoded.ok) {
          comparison.undecodable();
          continue;
        }
        comparison.add(decoded.type, types.schema(decoded.schemaId), decoded.value);
      }
      if (Date.now() - lastProgress > PROGRESS_MS) {
        lastProgress = Date.now();
        const p = reader.progress();
        io.stderr.write(`phi-gate diff: read ${p.read} of ${p.expected} events from ${inputTopic}\n`);
      }
    }
  } finally {
    await reader.close();
  }
  const p = reader.progress();
  return {
    diff: comparison.result(),
    source: `${inputTopic} (${p.partitions} partition${p.partitions === 1 ? '' : 's'}, ${options.from})`,
  };
}

export const diff: Command = async (argv, io) => {
  const parsed = parseCommandArgs('diff', argv, io, {
    usage: USAGE,
    options: {
      policy: { type: 'string' },
      against: { type: 'string' },
      sample: { type: 'string' },
      from: { type: 'string' },
      json: { type: 'boolean' },
    },
    required: ['policy'],
  });
  if (typeof parsed === 'number') return parsed;
  const values = parsed.values as Options;
  const sample = values.sample === undefined ? DEFAULT_SAMPLE : Number(values.sample);
  if (!Number.isInteger(sample) || sample < 1 || sample > MAX_SAMPLE) {
    io.stderr.write(`phi-gate diff: --sample must be an integer from 1 to ${MAX_SAMPLE}\n${USAGE}`);
    return EXIT.usage;
  }
  const from = (values.from ?? 'latest') as ReadFrom;
  if (from !== 'earliest' && from !== 'latest') {
    io.stderr.write(`phi-gate diff: --from must be earliest or latest\n${USAGE}`);
    return EXIT.usage;
  }
  const oldFile = values.against ?? io.env.PHIGATE_POLICY_FILE;
  if (oldFile === undefined || oldFile === '') {
    io.stderr.write(`phi-gate diff: --against is required when PHIGATE_POLICY_FILE is not set\n${USAGE}`);
    return EXIT.usage;
  }
  try {
    const policies = await loadBoth(resolve(io.cwd, values.policy), resolve(io.cwd, oldFile), io);
    if (typeof policies === 'number') return policies;
    const { diff: result, source } = await compare(policies, { sample, from }, io);
    io.stdout.write(
      values.json ? `${JSON.stringify({ source, ...result }, null, 2)}\n` : formatDiff(result, source),
    );
    return result.leaks > 0 ? EXIT_LEAK : EXIT.ok;
  } catch (err) {
    if (isPhiGateError(err) && err.code === 'PHIGATE_ERR_CONFIG') {
      io.stderr.write(`${formatProblems(err)}\n`);
      return EXIT.invalid;
    }
    const code = isPhiGateError(err) ? `${err.code}: ` : '';
    io.stderr.write(`phi-gate diff: cannot read the input topic: ${code}${(err as Error).message}\n`);
    return EXIT.failure;
  }
};
