/**
 * The text an action sees for a scalar: strings and enum symbols as they are, numbers in JavaScript
 * decimal form, booleans as true/false, bytes and fixed as lowercase hex. Records, maps and arrays
 * never reach an action: a rule on them applies to each scalar below.
 */
import { PhiGateError } from '../../errors.ts';

export function scalarText(value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint')
    return String(value);
  if (Buffer.isBuffer(value)) return value.toString('hex');
  throw new PhiGateError('PHIGATE_ERR_ACTION', 'value is not a scalar');
}
