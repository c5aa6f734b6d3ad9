/**
 * Output formats of the crypto actions, versioned so that an audit entry can name exactly what a
 * destination received. A format string never changes meaning: any change to the bytes produced
 * (normalization, encoding, header, algorithms) gets a new version, and the golden tests in
 * test/unit/crypto/ pin the current ones.
 */
export const FORMATS = Object.freeze({
  /** HMAC-SHA256(destination hashKey, UTF-8 value), lowercase hex. */
  hmac: 'hmac-sha256-hex/v1',
  /** SHA-256 of the normalized UTF-8 value, lowercase hex; 64-hex inputs pass through lowercased. */
  sha256: Object.freeze({
    email: 'sha256-email-hex/v1',
    phone: 'sha256-phone-e164-hex/v1',
    plain: 'sha256-plain-hex/v1',
  }),
  /** JWE compact, header {"alg":"RSA-OAEP-256","enc":"A256GCM","kid":…}, CEK reused per bounded window. */
  jwe: 'jwe-compact-rsa-oaep-256-a256gcm/v1',
  /** Standard padded base64 of one RSA-OAEP (SHA-256, MGF1-SHA-256) block. */
  'rsa-oaep-256': 'rsa-oaep-256-base64/v1',
} as const);

export type CryptoFormat =
  | typeof FORMATS.hmac
  | (typeof FORMATS.sha256)[keyof typeof FORMATS.sha256]
  | typeof FORMATS.jwe
  | (typeof FORMATS)['rsa-oaep-256'];
