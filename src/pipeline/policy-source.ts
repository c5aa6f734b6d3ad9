/**
 * The policy in force, and its hot reload.
 *
 * The file is watched through its directory (a Kubernetes ConfigMap update swaps the `..data` symlink
 * there, which a watch on the file itself would miss), with a poll as a fallback for filesystems where
 * watches are unreliable. A valid new policy replaces the reference atomically; a batch captures the
 * reference when it starts, so a swap takes effect between batches, never inside one. Every
 * destination version put in force is queued for an audit entry. An invalid policy is rejected: the
 * old one stays, the problems are logged (paths and messages only) and counted.
 */
import { type FSWatcher, watch } from 'node:fs';
import { dirname } from 'node:path';
import type { Logger } from 'pino';
import { formatProblems, isPhiGateError } from '../errors.ts';
import type { Metrics } from '../observability/metrics.ts';
import { type Destination, loadPolicy, type Policy, type RuntimeTopics } from '../policy/index.ts';

export type ReloadOutcome = 'applied' | 'rejected' | 'unchanged';

export interface PolicySourceOptions {
  readonly file: string;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** A policy whose destination writes to one of these is refused, at start and on reload. */
  readonly topics?: RuntimeTopics;
  readonly pollMs: number;
  readonly logger: Logger;
  readonly metrics: Metrics;
  /**
   * Readies what a new policy needs before it is swapped in (the topics of added destinations).
   * If it throws, the reload is rejected and the running policy stays.
   */
  readonly prepare?: (policy: Policy) => Promise<void>;
  /** Called after each swap, e.g. to drop compiled routes of versions no longer in force. */
  readonly onSwap?: (policy: Policy) => void;
}

export class PolicySource {
  readonly #options: PolicySourceOptions;
  #current: Policy;
  #pendingAudit: Destination[];
  readonly #claimedAudit = new Set<Destination>();
  #watcher: FSWatcher | undefined;
  #timer: NodeJS.Timeout | undefined;
  #debounce: NodeJS.Timeout | undefined;
  #reloading: Promise<ReloadOutcome> | undefined;
  #lastRejection = '';

  private constructor(options: PolicySourceOptions, initial: Policy) {
    this.#options = options;
    this.#current = initial;
    this.#pendingAudit = [...initial.destinations];
    this.#publish(initial, undefined);
  }

  /** Loads the initial policy; an invalid one is fatal at start (the error lists every problem). */
  static async open(options: PolicySourceOptions): Promise<PolicySource> {
    const policy = await loadPolicy(options.file, {
      env: options.env,
      ...(options.topics ? { topics: options.topics } : {}),
    });
    for (const w of policy.warnings) options.logger.warn({ path: w.path }, `policy warning: ${w.message}`);
    return new PolicySource(options, policy);
  }

  get current(): Policy {
    return this.#current;
  }

  /**
   * Destinations whose policy version still needs its audit entry, claimed for one transaction:
   * partitions processed concurrently must not all write the same entry. Report the outcome with
   * `auditWritten` (committed) or `auditAbandoned` (the transaction failed: claim them again later).
   */
  claimAudit(): readonly Destination[] {
    const claimed = this.#pendingAudit.filter((d) => !this.#claimedAudit.has(d));
    for (const d of claimed) this.#claimedAudit.add(d);
    return claimed;
  }

  /** Marks audit entries as written (after their transaction committed). */
  auditWritten(written: readonly Destination[]): void {
    const done = new Set(written);
    this.#pendingAudit = this.#pendingAudit.filter((d) => !done.has(d));
    for (const d of written) this.#claimedAudit.delete(d);
  }

  /** Returns claimed entries whose transaction did not commit: the next transaction writes them. */
  auditAbandoned(claimed: readonly Destination[]): void {
    for (const d of claimed) this.#claimedAudit.delete(d);
  }

  start(): void {
    try {
      // any change in the directory may be the ConfigMap's symlink swap: the file's own name is not enough
      this.#watcher = watch(dirname(this.#options.file), { persistent: false }, () => this.#schedule());
      this.#watcher.on('error', (err) =>
        this.#options.logger.warn({ err }, 'policy directory watch failed; polling only'),
      );
    } catch (err) {
      this.#options.logger.warn({ err }, 'cannot watch the policy directory; polling only');
    }
    this.#timer = setInterval(() => void this.reload(), this.#options.pollMs);
    this.#timer.unref();
  }

  /** Loads the file again; concurrent calls share one load. */
  reload(): Promise<ReloadOutcome> {
    this.#reloading ??= this.#reload().finally(() => {
      this.#reloading = undefined;
    });
    return this.#reloading;
  }

  close(): void {
    this.#watcher?.close();
    this.#watcher = undefined;
    if (this.#timer) clearInterval(this.#timer);
    if (this.#debounce) clearTimeout(this.#debounce);
    this.#timer = undefined;
  }

  #schedule(): void {
    if (this.#debounce) clearTimeout(this.#debounce);
    this.#debounce = setTimeout(() => void this.reload(), 200);
    this.#debounce.unref();
  }

  async #reload(): Promise<ReloadOutcome> {
    const { logger, metrics } = this.#options;
    let next: Policy;
    try {
      next = await loadPolicy(this.#options.file, {
        env: this.#options.env,
        ...(this.#options.topics ? { topics: this.#options.topics } : {}),
      });
    } catch (err) {
      const text = isPhiGateError(err) ? formatProblems(err) : (err as Error).message;
      if (text !== this.#lastRejection) {
        // logged once per distinct problem set; the poll would repeat it every few seconds otherwise
        logger.error(
          { code: isPhiGateError(err) ? err.code : undefined },
          `policy reload rejected, keeping version ${this.#current.version}: ${text}`,
        );
        this.#lastRejection = text;
        metrics.policyReloads.inc({ outcome: 'rejected' });
      }
      return 'rejected';
    }
    this.#lastRejection = '';
    if (next.version === this.#current.version) return 'unchanged';
    try {
      await this.#options.prepare?.(next);
    } catch (err) {
      // e.g. a new destination's topic cannot be created: swapping in would stall every batch
      logger.error(
        { err, code: isPhiGateError(err) ? err.code : undefined },
        `policy reload rejected, keeping version ${this.#current.version}: its topics could not be readied`,
      );
      metrics.policyReloads.inc({ outcome: 'rejected' });
      return 'rejected';
    }
    const previous = this.#current;
    this.#current = next;
    const known = new Set(previous.destinations.map((d) => `${d.name}/${d.version}`));
    this.#pendingAudit.push(...next.destinations.filter((d) => !known.has(`${d.name}/${d.version}`)));
    this.#publish(next, previous);
    this.#options.onSwap?.(next);
    metrics.policyReloads.inc({ outcome: 'applied' });
    for (const w of next.warnings) logger.warn({ path: w.path }, `policy warning: ${w.message}`);
    logger.info({ from: previous.version, to: next.version }, 'policy reloaded');
    return 'applied';
  }

  #publish(next: Policy, previous: Policy | undefined): void {
    const info = this.#options.metrics.policyInfo;
    for (const d of previous?.destinations ?? []) info.remove({ destination: d.name, version: d.version });
    for (const d of next.destinations) info.set({ destination: d.name, version: d.version }, 1);
  }
}
