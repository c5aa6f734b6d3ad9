/**
 * `sha256: email|phone|plain`: unkeyed SHA-256 of the normalized value, for ad-platform matching.
 * A value that is already a 64-hex digest passes as it is; a phone that cannot become E.164 throws.
 */
import { createSha256Hasher } from '../../crypto/index.ts';
import type { Sha256Kind } from '../rules.ts';
import { scalarText } from './text.ts';
import type { ActionFn } from './types.ts';

export function createSha256Action(kind: Sha256Kind): ActionFn {
  const hasher = createSha256Hasher(kind);
  return (value) => hasher(scalarText(value));
}
