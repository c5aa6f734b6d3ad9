/**
 * Loading a policy: YAML → JSON-schema check (defaults filled) → semantic checks → keys loaded →
 * frozen Policy. Every problem of every stage is collected and thrown at once
 * (PHIGATE_ERR_POLICY_INVALID with `problems`); only a YAML syntax error stops early, since there is
 * no document to check after it.
 */
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { parseDocument } from 'yaml';
import { PhiGateError, type Problem } from '../errors.ts';
import { normalizePolicy } from './config.ts';
import { loadPolicyKeys } from './keys.ts';
import { buildPolicy } from './policy.ts';
import { type RuntimeTopics, runtimeTopicProblems } from './topics.ts';
import type { Policy } from './types.ts';
import { validatePolicyShape } from './validate.ts';

type Env = Readonly<Record<string, string | undefined>>;

/** The count is not part of the message: formatProblems adds it beside the list. */
function invalid(problems: readonly Problem[]): PhiGateError {
  return new PhiGateError('PHIGATE_ERR_POLICY_INVALID', 'policy is invalid', { problems });
}

function parseYaml(text: string, problems: Problem[]): unknown {
  const doc = parseDocument(text, { uniqueKeys: true, prettyErrors: true });
  for (const err of doc.errors) {
    const at = err.linePos?.[0];
    // The pretty message ends with " at line L, column C:" and a code frame: keep the sentence only.
    const message = (err.message.split('\n')[0] ?? 'syntax error').replace(/ at line \d+, column \d+:?$/, '');
    problems.push({ path: at ? `(yaml) line ${at.line}, column ${at.col}` : '(yaml)', message });
  }
  if (problems.length > 0) return undefined;
  return doc.toJS({ maxAliasCount: 100 });
}

export interface LoadOptions {
  readonly env: Env;
  /** phi-gate's own topics, when known: no destination may write to one of them. */
  readonly topics?: RuntimeTopics | undefined;
}

export function parsePolicy(text: string, opts: LoadOptions & { baseDir: string }): Policy {
  const problems: Problem[] = [];
  const doc = parseYaml(text, problems);
  if (problems.length > 0) throw invalid(problems);
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc))
    throw invalid([{ path: '(root)', message: 'must be a YAML mapping' }]);
  problems.push(...validatePolicyShape(doc));
  const { config, warnings } = normalizePolicy(doc, problems);
  if (opts.topics !== undefined) problems.push(...runtimeTopicProblems(config, opts.topics));
  const keys = loadPolicyKeys(config, { baseDir: opts.baseDir, env: opts.env }, problems);
  if (problems.length > 0) throw invalid(problems);
  return buildPolicy(config, keys, warnings);
}

export async function loadPolicy(path: string, opts: LoadOptions): Promise<Policy> {
  const file = resolve(path);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'unknown error';
    throw new PhiGateError('PHIGATE_ERR_POLICY_INVALID', `cannot read policy file '${file}'`, {
      cause: err,
      problems: [{ path: '(file)', message: `cannot read '${file}' (${code})` }],
    });
  }
  return parsePolicy(text, { ...opts, baseDir: dirname(file) });
}
