/**
 * `phi-gate inventory --policy F [--schema S.avsc | --registry [--subject S]] [--format table|json|markdown]`:
 * the data inventory — every field path of each writer schema, its Avro type, what the matchers
 * classify it as, and per destination the action that applies and which rule decided it. The
 * writer schemas are a local .avsc (default: the package's schemas/segment-event.avsc) or every
 * version registered under the input subject (`<PHIGATE_INPUT_TOPIC>-value` unless `--subject`), read
 * as `check --registry` reads them. Fields new since the policy's `reviewedSchemaVersions[subject]`
 * are marked. Reads only: nothing is written anywhere, no broker is needed.
 *
 * Exit 0; EXIT.invalid for an invalid policy or an unusable schema; EXIT.failure when the registry
 * cannot be asked.
 */
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { loadRegistryConfig } from '../config/index.ts';
import { formatProblems, isPhiGateError, type Problem } from '../errors.ts';
import { loadPolicy, type Policy, packageRoot } from '../policy/index.ts';
import { RegistryClient } from '../registry/client.ts';
import { compileType, valueSubject } from '../registry/schemas.ts';
import { parseSchemaSourceArgs } from './args.ts';
import { inventoryOfWriters, registeredWriters, type WriterSchema } from './check-schemas.ts';
import { formatInventory, INVENTORY_FORMATS, type InventoryFormat } from './inventory-format.ts';
import type { CliIo, Command } from './io.ts';
import { EXIT } from './io.ts';

const USAGE =
  'usage: phi-gate inventory --policy FILE [--schema SCHEMA.avsc | --registry [--subject SUBJECT]] [--format table|json|markdown]\n';

type Options = { policy: string; schema?: string; registry?: boolean; subject?: string; format?: string };

/** The writer schemas the options name, or the exit code when they cannot be had. */
async function writersFor(
  values: Options,
  io: CliIo,
): Promise<{ writers: WriterSchema[]; problems: Problem[] } | number> {
  if (values.registry) {
    const { registry, inputTopic } = loadRegistryConfig(io.env);
    const subject = values.subject ?? valueSubject(inputTopic);
    return registeredWriters(new RegistryClient(registry), subject);
  }
  const schemaPath = values.schema
    ? resolve(io.cwd, values.schema)
    : join(packageRoot(), 'schemas', 'segment-event.avsc');
  try {
    const schema: unknown = JSON.parse(await readFile(schemaPath, 'utf8'));
    return { writers: [{ label: schemaPath, type: compileType(schema), schema }], problems: [] };
  } catch (err) {
    io.stderr.write(
      `phi-gate inventory: schema '${schemaPath}' is not a usable Avro schema (${(err as Error).message})\n`,
    );
    return EXIT.invalid;
  }
}

function groupLabel(w: WriterSchema): string {
  return w.subject === undefined ? w.label : `${w.subject} version ${w.version} (schema id ${w.schemaId})`;
}

async function print(policy: Policy, values: Options, format: InventoryFormat, io: CliIo): Promise<number> {
  const found = await writersFor(values, io);
  if (typeof found === 'number') return found;
  const { writers, problems } = found;
  if (problems.length > 0) {
    io.stderr.write(`${problems.map((p) => `  - ${p.path}: ${p.message}`).join('\n')}\n`);
    if (writers.length === 0) return EXIT.invalid;
  }
  const { perWriter, warnings } = inventoryOfWriters(policy, writers);
  for (const w of warnings) io.stderr.write(`warning: ${w.path}: ${w.message}\n`);
  const groups = writers.map((w, i) => ({ label: groupLabel(w), entries: perWriter[i] ?? [] }));
  io.stdout.write(formatInventory(groups, format));
  return EXIT.ok;
}

export const inventory: Command = async (argv, io) => {
  const values = parseSchemaSourceArgs<Options>('inventory', argv, io, {
    usage: USAGE,
    options: { format: { type: 'string' } },
  });
  if (typeof values === 'number') return values;
  const format = (values.format ?? 'table') as InventoryFormat;
  if (!INVENTORY_FORMATS.includes(format)) {
    io.stderr.write(`phi-gate inventory: --format must be one of: ${INVENTORY_FORMATS.join(', ')}\n${USAGE}`);
    return EXIT.usage;
  }
  try {
    const policy = await loadPolicy(resolve(io.cwd, values.policy), { env: io.env });
    return await print(policy, values, format, io);
  } catch (err) {
    if (!isPhiGateError(err)) throw err;
    if (err.code === 'PHIGATE_ERR_REGISTRY_UNAVAILABLE' || err.code === 'PHIGATE_ERR_REGISTRY_REJECTED') {
      io.stderr.write(`phi-gate inventory: ${err.code}: ${err.message}\n`);
      return EXIT.failure;
    }
    io.stderr.write(`${formatProblems(err)}\n`);
    return EXIT.invalid;
  }
};
