/**
 * The seam between phi-gate and a Kafka client. Only `src/kafka/` knows a client; the rest of
 * phi-gate sees this interface and the pipeline's records (src/pipeline/records.ts).
 *
 * An engine runs the consumer group on the input topic and, for each batch it fetches, calls the
 * batch step and writes the step's outputs together with the input offsets in ONE transaction.
 * What happens when a step or a transaction fails is decided by the error catalogue
 * (src/errors.ts) through `decide()` in retry.ts, the same for every engine.
 *
 * Two engines:
 * - `librdkafka` (default): Confluent's client. One transactional producer per instance, offsets
 *   sent with the consumer's group metadata (KIP-447, Kafka Streams' EOS-v2): a zombie is fenced by
 *   the group generation.
 * - `kafkajs`: pure JavaScript, for platforms where the native client cannot be built. kafkajs
 *   lacks KIP-447, so it fences with one transactional id per input partition.
 */
import type { PhiGateError } from '../errors.ts';
import type { PartitionBatch, StepResult } from '../pipeline/step.ts';

export const ENGINES = ['librdkafka', 'kafkajs'] as const;
export type EngineName = (typeof ENGINES)[number];

/** The batch step as an engine calls it (BatchStep#run). */
export type Step = (batches: readonly PartitionBatch[]) => Promise<StepResult>;

export interface KafkaEngine {
  readonly name: EngineName;
  /** True while the member is in the group with an assignment (possibly empty). */
  readonly joined: boolean;
  /** Joins the group and starts the loop; resolves once it runs. */
  start(step: Step): Promise<void>;
  /**
   * Stops fetching, lets the batch in hand commit, leaves the group, disconnects. Idempotent.
   * After a fatal error it aborts instead: nothing more is committed.
   */
  close(): Promise<void>;
}

export interface EngineHooks {
  /**
   * The instance cannot go on (catalogue disposition `fatal`: a fenced producer, an unrecoverable
   * client error, a bug). The engine has stopped committing; the app closes and exits non-zero.
   */
  readonly onFatal: (err: PhiGateError) => void;
}

/**
 * How often a member heart-beats, for both engines: every 3 s (both clients' default), or three
 * times per session timeout (PHIGATE_SESSION_TIMEOUT_MS) when that is shorter.
 */
export function heartbeatIntervalMs(sessionTimeoutMs: number): number {
  return Math.min(3_000, Math.floor(sessionTimeoutMs / 3));
}
