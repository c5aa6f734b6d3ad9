/**
 * `phi-gate check --policy F [--schema S.avsc | --registry [--subject S]]`: validates a policy —
 * every problem listed at once, with its path — and prints its warnings.
 *
 * - `--schema`: also compiles every destination against that writer schema and warns about rules
 *   that match none of its fields.
 * - `--registry`: the same against every version registered under the input subject
 *   (`<PHIGATE_INPUT_TOPIC>-value` unless `--subject`), and tests each derived schema against its
 *   destination subject as registration would: a schema the registry would refuse is a problem.
 *   The registry comes from the environment `run` reads (SCHEMA_REGISTRY_URL and its auth).
 *   Fields new since the policy's `reviewedSchemaVersions[subject]` that no rule names are listed
 *   as warnings, each with a suggested rule.
 *
 * Exit 0 when valid (warnings allowed), EXIT.invalid otherwise, EXIT.failure when the registry
 * cannot be asked.
 */
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import {
  loadKafkaConfig,
  loadRegistryConfig,
  loadTopicsConfig,
  type TransportSettings,
  transportWarnings,
} from '../config/index.ts';
import { formatProblems, isPhiGateError, type Problem } from '../errors.ts';
import { loadPolicy, type Policy } from '../policy/index.ts';
import { RegistryClient } from '../registry/client.ts';
import { compileType, valueSubject } from '../registry/schemas.ts';
import { parseSchemaSourceArgs } from './args.ts';
import {
  compileAgainst,
  inventoryOfWriters,
  registeredWriters,
  registrable,
  unreviewedWarnings,
  type WriterSchema,
} from './check-schemas.ts';
import type { CliIo, Command } from './io.ts';
import { EXIT } from './io.ts';

const USAGE = 'usage: phi-gate check --policy FILE [--schema SCHEMA.avsc | --registry [--subject SUBJECT]]\n';

type Options = { policy: string; schema?: string; registry?: boolean; subject?: string };

/** Problems and warnings from the writer schemas the options name; null when a schema file is unusable. */
async function schemaChecks(
  policy: Policy,
  values: Options,
  io: CliIo,
): Promise<{ problems: Problem[]; warnings: Problem[]; summary: string | null } | null> {
  if (values.schema) {
    const schemaPath = resolve(io.cwd, values.schema);
    let writer: WriterSchema;
    try {
      const schema: unknown = JSON.parse(await readFile(schemaPath, 'utf8'));
      writer = { label: schemaPath, type: compileType(schema), schema };
    } catch (err) {
      io.stderr.write(
        `phi-gate check: schema '${schemaPath}' is not a usable Avro schema (${(err as Error).message})\n`,
      );
      return null;
    }
    const { problems, warnings } = compileAgainst(policy, [writer]);
    return { problems, warnings, summary: null };
  }
  if (values.registry) {
    const { registry, inputTopic } = loadRegistryConfig(io.env);
    const client = new RegistryClient(registry);
    const subject = values.subject ?? valueSubject(inputTopic);
    const { writers, problems } = await registeredWriters(client, subject);
    const compiled = compileAgainst(policy, writers);
    problems.push(...compiled.problems, ...(await registrable(client, policy, compiled.derived)));
    const tested = [...compiled.derived.values()].reduce((n, list) => n + list.length, 0);
    const inventory = inventoryOfWriters(policy, writers);
    const unreviewed = unreviewedWarnings(policy, inventory.entries);
    const reviewed = policy.reviewedSchemaVersion(subject);
    const summary =
      `registry ${registry.url}: ${writers.length} version(s) of ${subject}, ${tested} derived schema(s) tested against their destination subjects` +
      (reviewed === null
        ? `\nno reviewedSchemaVersions["${subject}"] in the policy: set it to the version you reviewed to have new fields listed`
        : `\nreviewed against ${subject} version ${reviewed}: ${unreviewed.length} unreviewed field rule(s) suggested`);
    return { problems, warnings: [...compiled.warnings, ...inventory.warnings, ...unreviewed], summary };
  }
  return { problems: [], warnings: [], summary: null };
}

/**
 * Transport warnings for the environment check runs in: the registry's with --registry, Kafka's
 * when KAFKA_BROKERS is set (check run with a deployment's environment). Invalid settings throw
 * PHIGATE_ERR_CONFIG: that deployment would not start.
 */
function transportProblems(values: Options, env: CliIo['env']): Problem[] {
  const settings: TransportSettings = {
    ...(values.registry ? { registry: loadRegistryConfig(env).registry } : {}),
    ...(env.KAFKA_BROKERS?.trim() ? { kafka: loadKafkaConfig(env) } : {}),
  };
  return transportWarnings(settings).map((message) => ({ path: 'transport', message }));
}

export const check: Command = async (argv, io) => {
  const values = parseSchemaSourceArgs<Options>('check', argv, io, { usage: USAGE });
  if (typeof values === 'number') return values;
  const policyPath = resolve(io.cwd, values.policy);
  try {
    // phi-gate's own topics as the environment sets them (the defaults otherwise)
    const policy = await loadPolicy(policyPath, { env: io.env, topics: loadTopicsConfig(io.env) });
    const transport = transportProblems(values, io.env);
    const checked = await schemaChecks(policy, values, io);
    if (checked === null) return EXIT.invalid;
    const warnings = [...transport, ...policy.warnings, ...checked.warnings];
    const { problems } = checked;
    for (const w of warnings) io.stderr.write(`warning: ${w.path}: ${w.message}\n`);
    if (problems.length > 0) {
      io.stderr.write(`${problems.map((p) => `  - ${p.path}: ${p.message}`).join('\n')}\n`);
      return EXIT.invalid;
    }
    io.stdout.write(`policy ${policyPath} is valid (version ${policy.version})\n`);
    for (const d of policy.destinations) {
      io.stdout.write(
        `  ${d.name}: topic ${d.topic}, format ${d.format}, version ${d.version}, keys [${d.keyIds.join(', ')}]\n`,
      );
    }
    if (checked.summary !== null) io.stdout.write(`${checked.summary}\n`);
    if (warnings.length > 0)
      io.stdout.write(`${warnings.length} warning${warnings.length === 1 ? '' : 's'}\n`);
    return EXIT.ok;
  } catch (err) {
    if (!isPhiGateError(err)) throw err;
    if (err.code === 'PHIGATE_ERR_REGISTRY_UNAVAILABLE' || err.code === 'PHIGATE_ERR_REGISTRY_REJECTED') {
      io.stderr.write(`phi-gate check: ${err.code}: ${err.message}\n`);
      return EXIT.failure;
    }
    io.stderr.write(`${formatProblems(err)}\n`);
    return EXIT.invalid;
  }
};
