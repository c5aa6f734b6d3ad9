/**
 * `phi-gate check --policy F [--schema S.avsc]`: validates a policy — every problem listed at once,
 * with its path — and prints its warnings. With --schema it also compiles every destination
 * against that writer schema and warns about rules that match none of its fields.
 * Exit 0 when valid (warnings allowed), EXIT.invalid otherwise.
 */
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import avro from 'avsc';
import { formatProblems, isPhiGateError, type Problem } from '../errors.ts';
import { loadPolicy } from '../policy/index.ts';
import { parseCommandArgs } from './args.ts';
import type { Command } from './io.ts';
import { EXIT } from './io.ts';

const USAGE = 'usage: phi-gate check --policy FILE [--schema SCHEMA.avsc]\n';

function fieldPath(destination: string, rule: string): string {
  return `destinations.${destination}.fields[${JSON.stringify(rule)}]`;
}

export const check: Command = async (argv, io) => {
  const parsed = parseCommandArgs('check', argv, io, {
    usage: USAGE,
    options: { policy: { type: 'string' }, schema: { type: 'string' } },
    required: ['policy'],
  });
  if (typeof parsed === 'number') return parsed;
  const values = parsed.values as { policy: string; schema?: string };
  const policyPath = resolve(io.cwd, values.policy);
  try {
    const policy = await loadPolicy(policyPath, { env: io.env });
    const warnings: Problem[] = [...policy.warnings];
    const problems: Problem[] = [];
    if (values.schema) {
      const schemaPath = resolve(io.cwd, values.schema);
      let schema: unknown;
      let type: avro.Type;
      try {
        schema = JSON.parse(await readFile(schemaPath, 'utf8'));
        type = avro.Type.forSchema(schema as avro.Schema, { wrapUnions: 'auto' });
      } catch (err) {
        io.stderr.write(
          `phi-gate check: schema '${schemaPath}' is not a usable Avro schema (${(err as Error).message})\n`,
        );
        return EXIT.invalid;
      }
      for (const d of policy.destinations) {
        try {
          const plan = d.compile(type, { writerSchema: schema });
          for (const rule of plan.unmatchedRules)
            warnings.push({ path: fieldPath(d.name, rule), message: 'matches no field of the schema' });
        } catch (err) {
          if (!isPhiGateError(err)) throw err;
          problems.push({ path: `destinations.${d.name}`, message: `${err.code}: ${err.message}` });
        }
      }
    }
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
    if (warnings.length > 0)
      io.stdout.write(`${warnings.length} warning${warnings.length === 1 ? '' : 's'}\n`);
    return EXIT.ok;
  } catch (err) {
    if (!isPhiGateError(err)) throw err;
    io.stderr.write(`${formatProblems(err)}\n`);
    return EXIT.invalid;
  }
};
