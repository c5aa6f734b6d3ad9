/** Runtime configuration from environment variables: validated once at start, then frozen. */
export { describeConfig } from './describe.ts';
export { loadConfig, loadKafkaConfig, loadRegistryConfig, loadTopicsConfig } from './load.ts';
export {
  type Config,
  ENV_VARS,
  LOG_LEVELS,
  type LogLevel,
  OUTPUT_COMPRESSIONS,
  type OutputCompression,
  SASL_MECHANISMS,
  type SaslMechanism,
  type VarName,
} from './schema.ts';
export { type TransportSettings, transportWarnings } from './warnings.ts';
