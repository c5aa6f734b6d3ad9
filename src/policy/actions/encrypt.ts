/**
 * `encrypt`: the destination's active key encrypts the value's text (JWE compact or RSA-OAEP
 * base64). The encryptor throws on any failure, including a value too long for one RSA block;
 * the plan then fails closed.
 */
import type { Encryptor } from '../../crypto/index.ts';
import { scalarText } from './text.ts';
import type { ActionFn } from './types.ts';

export function createEncryptAction(encryptor: Encryptor): ActionFn {
  return (value) => encryptor.encrypt(scalarText(value));
}
