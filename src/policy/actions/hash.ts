/** `hash`: HMAC-SHA256 with the destination's own key, lowercase hex (crypto FORMATS.hmac). */
import { scalarText } from './text.ts';
import type { ActionFn } from './types.ts';

export function createHashAction(hmac: (value: string) => string): ActionFn {
  return (value) => hmac(scalarText(value));
}
