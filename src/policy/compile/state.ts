/**
 * Per-plan scratch state for one `apply`. Plans run synchronously and are not re-entrant, so one
 * instance per plan is reused for every record: `reset` at the start of each apply. It holds what
 * only data can decide — decision entries for map keys and detector hits, and where a failure
 * happened — so that the static part of a decision stays precomputed.
 */
import { isPhiGateError, PhiGateError } from '../../errors.ts';

export class ApplyState {
  /** Full display path of the innermost map entry being applied; '' outside maps. */
  prefix = '';
  /** Decision entries only data could decide, or null when there are none (the common case). */
  dynamic: Record<string, string> | null = null;
  /** Full path of the field whose action failed. */
  failPath: string | null = null;

  reset(): void {
    this.prefix = '';
    this.dynamic = null;
    this.failPath = null;
  }

  /**
   * Records a map entry's action. Several entries of one map can share a path (`extras.*`): the
   * first action stays, so a finding already noted there is not overwritten by the next entry's
   * static `allow` (entries sharing a path come from one compiled variant: same static actions).
   */
  note(path: string, action: string): void {
    if (this.dynamic === null) this.dynamic = Object.create(null) as Record<string, string>;
    if (!(path in this.dynamic)) this.dynamic[path] = action;
  }

  /** Adds a detector finding, keeping earlier kinds for the same path (`redact:email,phone`), once each. */
  noteFinding(path: string, mode: string, kind: string): void {
    if (this.dynamic === null) this.dynamic = Object.create(null) as Record<string, string>;
    const prev = this.dynamic[path];
    if (prev?.startsWith(`${mode}:`)) {
      if (
        !prev
          .slice(mode.length + 1)
          .split(',')
          .includes(kind)
      )
        this.dynamic[path] = `${prev},${kind}`;
    } else this.dynamic[path] = `${mode}:${kind}`;
  }

  /**
   * Records where an action failed and returns the error to throw. A PhiGateError keeps its code
   * (its message is value-free by contract); anything else becomes PHIGATE_ERR_ACTION without its
   * cause, because foreign errors may quote the value (URL parsing does).
   */
  fail(rel: string, action: string, err: unknown): PhiGateError {
    const path = this.prefix + rel;
    if (this.failPath === null) this.failPath = path;
    if (isPhiGateError(err)) return err;
    const name = err instanceof Error ? err.name : 'error';
    return new PhiGateError('PHIGATE_ERR_ACTION', `${action} failed at ${path} (${name})`);
  }
}
