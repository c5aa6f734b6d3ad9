/** phi-gate's cryptographic primitives. Everything costly happens once, in the create and load functions. */
export * from './decrypt.ts';
export type * from './encryptor.ts';
export * from './formats.ts';
export * from './hmac.ts';
export * from './jwe.ts';
export * from './keygen.ts';
export * from './keyring.ts';
export * from './keys.ts';
export * from './rsa-oaep.ts';
export * from './sha256.ts';
