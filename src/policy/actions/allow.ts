/**
 * `allow`: the value passes as it is — except free text, which the destination's value detectors
 * scan first (`detectors: redact` rewrites matches, `flag` only reports them; see detectors.ts).
 * Only string leaves get here; other allowed scalars pass untouched.
 */
import type { Scanner } from '../detectors.ts';

/** `report` is created once per leaf at compile time, so a clean value costs no allocation. */
export function createAllowString(
  scanner: Scanner,
  report: (kind: string) => void,
): (value: unknown) => string {
  return (value) => scanner(value as string, report);
}
