/**
 * Settings that are valid but send secrets or events unprotected: `run` logs them at start and
 * `phi-gate check` prints them. Warnings, not errors: a dev stack on 127.0.0.1 runs this way.
 */
import type { Config } from './schema.ts';

export interface TransportSettings {
  readonly kafka?: Pick<Config['kafka'], 'ssl' | 'sasl'>;
  readonly registry?: Pick<Config['registry'], 'url' | 'auth' | 'bearerToken' | 'ca'>;
}

/** One line per unprotected transport, naming the variables to change; never a secret value. */
export function transportWarnings(config: TransportSettings): string[] {
  const warnings: string[] = [];
  const { kafka, registry } = config;
  if (kafka?.sasl && kafka.ssl === false) {
    const what =
      kafka.sasl.mechanism === 'plain'
        ? 'the SASL PLAIN password crosses the network in clear text, and so does every event'
        : 'SCRAM keeps the password off the wire, but every event (PHI included) crosses the network unencrypted';
    warnings.push(`KAFKA_SASL_MECHANISM=${kafka.sasl.mechanism} without KAFKA_SSL=true: ${what}`);
  }
  if (kafka?.ssl && !kafka.ssl.rejectUnauthorized) {
    warnings.push(
      'KAFKA_SSL_REJECT_UNAUTHORIZED=false: the broker certificate is not verified, anyone in the path can read the events',
    );
  }
  if (registry?.url.startsWith('http:')) {
    if (registry.auth !== null)
      warnings.push('registry basic auth over http://: the password crosses the network in clear text');
    if (registry.bearerToken !== undefined)
      warnings.push('registry bearer token over http://: the token crosses the network in clear text');
  }
  return warnings;
}
