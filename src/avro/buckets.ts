/**
 * avsc's union buckets (lib/types.js getTypeBucket): the JavaScript kind of value each Avro type is
 * represented by under `wrapUnions: 'auto'`. A union whose branches share a bucket is wrapped; an
 * unwrapped union picks its branch by the bucket of the value. The policy compiler and the compiled
 * codecs both decide branches with this one mapping.
 */
export function bucketOfType(typeName: string): string {
  switch (typeName) {
    case 'int':
    case 'long':
    case 'float':
    case 'double':
      return 'number';
    case 'bytes':
    case 'fixed':
      return 'buffer';
    case 'enum':
      return 'string';
    case 'record':
    case 'error':
    case 'map':
      return 'object';
    default:
      return typeName;
  }
}
