/** What the policy engine holds per destination: encrypt one string value, or throw (it fails closed). */
export interface Encryptor {
  /** The key id every ciphertext is attributed to (in the JWE header; in the audit entry for rsa-oaep-256). */
  readonly kid: string;
  readonly scheme: 'jwe' | 'rsa-oaep-256';
  /** Throws PhiGateError on any failure; the caller must then send nothing for the record. */
  encrypt(plaintext: string): string;
}
