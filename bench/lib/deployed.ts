/**
 * How phi-gate runs as shipped, read from the deploy assets themselves so that `npm run bench`
 * measures that and not Node's defaults:
 * - the node flags of the image's ENTRYPOINT (deploy/Dockerfile), between the node binary and
 *   main.js: V8 options that NODE_OPTIONS may not carry;
 * - NODE_OPTIONS and MALLOC_ARENA_MAX of the container in the base Kubernetes deployment.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import YAML from 'yaml';

export interface DeployedRuntime {
  /** Flags given to node before the script, in order. */
  readonly nodeFlags: readonly string[];
  readonly env: { readonly NODE_OPTIONS?: string; readonly MALLOC_ARENA_MAX?: string };
}

export function deployedRuntime(root: string): DeployedRuntime {
  return {
    nodeFlags: entrypointNodeFlags(readFileSync(join(root, 'deploy', 'Dockerfile'), 'utf8')),
    env: containerEnv(readFileSync(join(root, 'deploy', 'k8s', 'base', 'deployment.yaml'), 'utf8')),
  };
}

/** The flags of an exec-form `ENTRYPOINT ["<node>", ...flags, "<main>.js"]`; throws on any other shape. */
export function entrypointNodeFlags(dockerfile: string): string[] {
  const lines = dockerfile.split('\n').filter((l) => l.startsWith('ENTRYPOINT '));
  if (lines.length !== 1) throw new Error(`expected one ENTRYPOINT in the Dockerfile, found ${lines.length}`);
  const argv: unknown = JSON.parse((lines[0] as string).slice('ENTRYPOINT '.length));
  if (!Array.isArray(argv) || !argv.every((a) => typeof a === 'string'))
    throw new Error('the ENTRYPOINT is not in exec form (a JSON array of strings)');
  const script = argv.findIndex((a) => a.endsWith('.js'));
  const flags = argv.slice(1, script);
  if (script < 1 || !flags.every((f) => f.startsWith('--')))
    throw new Error(`the ENTRYPOINT is not "node [--flags] main.js": ${JSON.stringify(argv)}`);
  return flags;
}

function containerEnv(deploymentYaml: string): DeployedRuntime['env'] {
  const manifest = YAML.parse(deploymentYaml);
  const env: { name: string; value?: string }[] = manifest.spec.template.spec.containers[0].env ?? [];
  const value = (name: string) => env.find((e) => e.name === name)?.value;
  const out: { NODE_OPTIONS?: string; MALLOC_ARENA_MAX?: string } = {};
  for (const name of ['NODE_OPTIONS', 'MALLOC_ARENA_MAX'] as const) {
    const v = value(name);
    if (v !== undefined) out[name] = String(v);
  }
  return out;
}
