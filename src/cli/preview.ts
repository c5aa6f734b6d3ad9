/**
 * `phi-gate preview --policy F --event E.json [--schema S.avsc] [--explain]`: what each destination
 * would receive for one event. The event is natural JSON (as a person writes a Segment event);
 * the schema defaults to the package's schemas/segment-event.avsc. Prints one JSON object keyed by
 * destination: the sanitized event, or null where it is filtered or failed closed. --explain maps
 * each destination to { event, outcome, fields, kids, policyVersion, errorCode } instead, plus
 * `consentBlockedBy` ([{ category, reason }]) where consent filtered the event. Every mismatch
 * between the event and the schema is an error (all listed); event fields the schema does not have
 * are warnings on stderr (they are dropped, as a producer's serializer would drop them).
 */
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import avro from 'avsc';
import { formatProblems, isPhiGateError, PhiGateError } from '../errors.ts';
import { type ConsentBlock, loadPolicy, naturalJson, packageRoot } from '../policy/index.ts';
import { parseCommandArgs } from './args.ts';
import type { Command } from './io.ts';
import { EXIT } from './io.ts';

const USAGE = 'usage: phi-gate preview --policy FILE --event EVENT.json [--schema SCHEMA.avsc] [--explain]\n';

async function readJson(path: string, what: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new PhiGateError(
      'PHIGATE_ERR_INPUT',
      `cannot read ${what} '${path}' (${(err as NodeJS.ErrnoException).code ?? 'error'})`,
    );
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new PhiGateError('PHIGATE_ERR_INPUT', `${what} '${path}' is not JSON`);
  }
}

function describeBlocks(blocked: readonly ConsentBlock[]): string {
  return blocked
    .map((b) =>
      b.category === null ? `no consent preferences (${b.reason})` : `${b.category} (${b.reason})`,
    )
    .join(', ');
}

export const preview: Command = async (argv, io) => {
  const parsed = parseCommandArgs('preview', argv, io, {
    usage: USAGE,
    options: {
      policy: { type: 'string' },
      event: { type: 'string' },
      schema: { type: 'string' },
      explain: { type: 'boolean' },
    },
    required: ['policy', 'event'],
  });
  if (typeof parsed === 'number') return parsed;
  const values = parsed.values as { policy: string; event: string; schema?: string; explain?: boolean };
  try {
    const policy = await loadPolicy(resolve(io.cwd, values.policy), { env: io.env });
    const schemaPath = values.schema
      ? resolve(io.cwd, values.schema)
      : join(packageRoot(), 'schemas', 'segment-event.avsc');
    const schema = await readJson(schemaPath, 'schema');
    let type: avro.Type;
    try {
      type = avro.Type.forSchema(schema as avro.Schema, { wrapUnions: 'auto' });
    } catch (err) {
      throw new PhiGateError(
        'PHIGATE_ERR_INPUT',
        `schema '${schemaPath}' is not a usable Avro schema (${(err as Error).message})`,
      );
    }
    const { value: record, ignored } = naturalJson(
      type,
      await readJson(resolve(io.cwd, values.event), 'event'),
      schema,
    );
    // a field the schema lacks never reaches a destination: say so rather than preview silently without it
    for (const path of ignored)
      io.stderr.write(`warning: event field ${path} is not in the schema ${schemaPath}: ignored\n`);

    const out: Record<string, unknown> = {};
    for (const d of policy.destinations) {
      const plan = d.compile(type, { writerSchema: schema });
      const result = plan.apply(record);
      const event = result.outcome === 'delivered' ? JSON.parse(plan.toJson(result.value)) : null;
      if (result.outcome === 'failed_closed') {
        const where = Object.keys(result.decision.fields)[0] ?? '(record)';
        io.stderr.write(
          `${d.name}: failed closed at ${where}: ${result.error.code}: ${result.error.message}\n`,
        );
      }
      const { outcome, fields, kids, policyVersion, errorCode } = result.decision;
      const explained: Record<string, unknown> = { event, outcome, fields, kids, policyVersion, errorCode };
      if (result.outcome === 'filtered_consent') {
        // Which category blocked it: the declared categories are policy, not event data.
        explained.consentBlockedBy = result.blocked;
        if (values.explain)
          io.stderr.write(`${d.name}: filtered by consent: ${describeBlocks(result.blocked)}\n`);
      }
      out[d.name] = values.explain ? explained : event;
    }
    io.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
    return EXIT.ok;
  } catch (err) {
    if (!isPhiGateError(err)) throw err;
    io.stderr.write(`${formatProblems(err)}\n`);
    return err.code === 'PHIGATE_ERR_POLICY_INVALID' ? EXIT.invalid : EXIT.failure;
  }
};
