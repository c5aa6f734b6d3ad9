/*
 * AES-256-GCM for phi-gate's JWE encryption (src/crypto/gcm.ts): one OpenSSL cipher context per
 * content key, reused for every value sealed under it.
 *
 * Why native: node:crypto creates a cipher object per value (one IV per cipher), so each value pays
 * for a context, a key schedule and four JS-to-C++ calls — about 3 µs, 90 % of it overhead, and the
 * largest single cost of a pipeline that encrypts. Here the context is made once per key and each
 * value is one call: a new IV (EVP_EncryptInit_ex with only the IV resets the GCM state and keeps the
 * key schedule), the AAD, the plaintext, the tag.
 *
 * Nothing here chooses an IV: the caller passes a fresh 12-byte IV for every value (jwe.ts draws
 * them from a per-key counter). The symbols come from the OpenSSL inside the running Node binary,
 * the same code node:crypto runs. The key and each plaintext copy are wiped when done with.
 *
 *   open(key: Buffer(32), aad: Buffer, prefix: Buffer) → handle
 *   seal(handle, iv: Buffer(12), plaintext: string)
 *     → prefix ‖ "BASE64URL(iv).BASE64URL(ciphertext).BASE64URL(tag)", one flat string
 *   close(handle)              the context, AAD and prefix are freed at once (also when the handle is collected)
 *
 * The prefix (a JWE's constant "header.encrypted-key." for the key's window, ASCII) is written in
 * front here: concatenated in JavaScript, every value would be a rope that the Avro writer then
 * copies flat again.
 *
 * HMAC-SHA256 for the `hash` action and keyed pseudonyms (src/crypto/hmac.ts), RFC 2104 with the
 * two padded key blocks absorbed once per key: each value then costs two SHA-256 runs of one or two
 * blocks, on stack copies of the two absorbed states, and no allocation.
 *
 *   hmacOpen(key: Buffer) → handle      a key longer than the 64-byte block is hashed first
 *   hmac(handle, value: string) → lowercase hex of HMAC-SHA256(key, UTF-8 value)
 *   hmacClose(handle)                    the absorbed states are wiped (also when the handle is collected)
 *
 * It uses OpenSSL's SHA256_Init/Update/Final: deprecated in OpenSSL 3 in favour of EVP, whose
 * context copy allocates per call, but exported by Node and the same SHA-256 code. Lone surrogates
 * become U+FFFD, as node:crypto's UTF-8 does.
 */
#define OPENSSL_SUPPRESS_DEPRECATED
#include <node_api.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <stdlib.h>
#include <string.h>

#define KEY_BYTES 32
#define IV_BYTES 12
#define TAG_BYTES 16
#define STACK_BYTES 2048

typedef struct {
  EVP_CIPHER_CTX *ctx;
  unsigned char *aad;
  size_t aad_len;
  char *prefix;
  size_t prefix_len;
} sealer_t;

static void sealer_release(sealer_t *s) {
  if (s->ctx != NULL) {
    EVP_CIPHER_CTX_free(s->ctx); /* cleanses the key schedule */
    s->ctx = NULL;
  }
  free(s->aad);
  s->aad = NULL;
  free(s->prefix);
  s->prefix = NULL;
}

static void sealer_finalize(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  sealer_release((sealer_t *)data);
  free(data);
}

/* Each handle is tagged with its kind: a handle of the other kind is refused, never reinterpreted. */
static const napi_type_tag SEALER_TAG = {0x8f1c2a6b5d3e4f70ULL, 0x91a2b3c4d5e6f708ULL};
static const napi_type_tag HMAC_TAG = {0x3b7d9e1f2a4c6e80ULL, 0x5f6e7d8c9bab0c1dULL};

static void *tagged_arg(napi_env env, napi_value v, const napi_type_tag *tag) {
  napi_valuetype t;
  bool is = false;
  void *data = NULL;
  if (napi_typeof(env, v, &t) != napi_ok || t != napi_external) return NULL;
  if (napi_check_object_type_tag(env, v, tag, &is) != napi_ok || !is) return NULL;
  if (napi_get_value_external(env, v, &data) != napi_ok) return NULL;
  return data;
}

static napi_value fail(napi_env env, const char *message) {
  napi_throw_error(env, "PHIGATE_ERR_GCM", message);
  return NULL;
}

static int buffer_arg(napi_env env, napi_value v, unsigned char **data, size_t *len) {
  bool is = false;
  if (napi_is_buffer(env, v, &is) != napi_ok || !is) return 0;
  return napi_get_buffer_info(env, v, (void **)data, len) == napi_ok;
}

typedef struct {
  const napi_type_tag *tag;
  const char *not_one; /* the error for any other value */
} kind_t;

static const kind_t SEALER = {&SEALER_TAG, "not a sealer"};
static const kind_t HMAC_KEY = {&HMAC_TAG, "not an HMAC key"};

/*
 * The arguments of a call on a handle: exactly `argc` of them into `argv`, the first a handle of
 * `kind`. Returns its data, or NULL with the exception thrown (`usage` for a wrong count).
 */
static void *handle_call(napi_env env, napi_callback_info info, size_t argc, napi_value *argv, const kind_t *kind, const char *usage) {
  size_t got = argc;
  if (napi_get_cb_info(env, info, &got, argv, NULL, NULL) != napi_ok || got != argc) {
    fail(env, usage);
    return NULL;
  }
  void *data = tagged_arg(env, argv[0], kind->tag);
  if (data == NULL) fail(env, kind->not_one);
  return data;
}

static const char B64URL[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* base64url without padding (RFC 7515 §2); returns the characters written */
static size_t b64url(const unsigned char *in, size_t len, char *out) {
  size_t o = 0, i = 0;
  for (; i + 3 <= len; i += 3) {
    unsigned v = (unsigned)in[i] << 16 | (unsigned)in[i + 1] << 8 | in[i + 2];
    out[o++] = B64URL[v >> 18];
    out[o++] = B64URL[(v >> 12) & 63];
    out[o++] = B64URL[(v >> 6) & 63];
    out[o++] = B64URL[v & 63];
  }
  if (len - i == 1) {
    unsigned v = (unsigned)in[i] << 16;
    out[o++] = B64URL[v >> 18];
    out[o++] = B64URL[(v >> 12) & 63];
  } else if (len - i == 2) {
    unsigned v = (unsigned)in[i] << 16 | (unsigned)in[i + 1] << 8;
    out[o++] = B64URL[v >> 18];
    out[o++] = B64URL[(v >> 12) & 63];
    out[o++] = B64URL[(v >> 6) & 63];
  }
  return o;
}

static size_t b64url_len(size_t n) { return n / 3 * 4 + (n % 3 == 0 ? 0 : n % 3 + 1); }

static napi_value js_open(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  unsigned char *key, *aad, *prefix;
  size_t key_len, aad_len, prefix_len;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 3) return fail(env, "open(key, aad, prefix)");
  if (!buffer_arg(env, argv[0], &key, &key_len) || key_len != KEY_BYTES) return fail(env, "the key must be 32 bytes");
  if (!buffer_arg(env, argv[1], &aad, &aad_len)) return fail(env, "the AAD must be a Buffer");
  if (!buffer_arg(env, argv[2], &prefix, &prefix_len)) return fail(env, "the prefix must be a Buffer");

  sealer_t *s = calloc(1, sizeof *s);
  if (s == NULL) return fail(env, "out of memory");
  s->aad = malloc(aad_len == 0 ? 1 : aad_len);
  s->prefix = malloc(prefix_len == 0 ? 1 : prefix_len);
  s->ctx = EVP_CIPHER_CTX_new();
  if (s->aad == NULL || s->prefix == NULL || s->ctx == NULL ||
      EVP_EncryptInit_ex(s->ctx, EVP_aes_256_gcm(), NULL, NULL, NULL) != 1 ||
      EVP_CIPHER_CTX_ctrl(s->ctx, EVP_CTRL_GCM_SET_IVLEN, IV_BYTES, NULL) != 1 ||
      EVP_EncryptInit_ex(s->ctx, NULL, NULL, key, NULL) != 1) {
    sealer_release(s);
    free(s);
    return fail(env, "AES-256-GCM initialisation failed");
  }
  memcpy(s->aad, aad, aad_len);
  s->aad_len = aad_len;
  memcpy(s->prefix, prefix, prefix_len);
  s->prefix_len = prefix_len;
  napi_value handle;
  if (napi_create_external(env, s, sealer_finalize, NULL, &handle) != napi_ok) {
    sealer_release(s);
    free(s);
    return fail(env, "open failed");
  }
  if (napi_type_tag_object(env, handle, &SEALER_TAG) != napi_ok) {
    sealer_release(s); /* the handle's finalizer frees the rest */
    return fail(env, "open failed");
  }
  return handle;
}

static napi_value js_seal(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  unsigned char *iv;
  size_t iv_len;
  napi_valuetype t;
  sealer_t *s = handle_call(env, info, 3, argv, &SEALER, "seal(handle, iv, plaintext)");
  if (s == NULL) return NULL;
  if (s->ctx == NULL) return fail(env, "the sealer is closed");
  if (!buffer_arg(env, argv[1], &iv, &iv_len) || iv_len != IV_BYTES) return fail(env, "the IV must be 12 bytes");
  if (napi_typeof(env, argv[2], &t) != napi_ok || t != napi_string) return fail(env, "the plaintext must be a string");

  size_t len = 0;
  if (napi_get_value_string_utf8(env, argv[2], NULL, 0, &len) != napi_ok) return fail(env, "plaintext");
  /* plaintext and ciphertext side by side; then the encoded output */
  size_t out_len = s->prefix_len + b64url_len(IV_BYTES) + 1 + b64url_len(len) + 1 + b64url_len(TAG_BYTES);
  size_t need = (len + 1) + len + TAG_BYTES + out_len;
  unsigned char stack[STACK_BYTES];
  unsigned char *mem = need <= sizeof stack ? stack : malloc(need);
  if (mem == NULL) return fail(env, "out of memory");
  unsigned char *pt = mem, *ct = mem + len + 1, *tag = ct + len;
  char *out = (char *)(tag + TAG_BYTES);
  size_t copied = 0;
  int outl = 0, ok = napi_get_value_string_utf8(env, argv[2], (char *)pt, len + 1, &copied) == napi_ok && copied == len;

  ok = ok && EVP_EncryptInit_ex(s->ctx, NULL, NULL, NULL, iv) == 1; /* new IV, same key schedule */
  ok = ok && (s->aad_len == 0 || EVP_EncryptUpdate(s->ctx, NULL, &outl, s->aad, (int)s->aad_len) == 1);
  ok = ok && (len == 0 || EVP_EncryptUpdate(s->ctx, ct, &outl, pt, (int)len) == 1) && (size_t)outl == (len == 0 ? (size_t)outl : len);
  ok = ok && EVP_EncryptFinal_ex(s->ctx, ct + len, &outl) == 1 && outl == 0;
  ok = ok && EVP_CIPHER_CTX_ctrl(s->ctx, EVP_CTRL_GCM_GET_TAG, TAG_BYTES, tag) == 1;
  OPENSSL_cleanse(pt, len + 1);

  napi_value result = NULL;
  if (ok) {
    memcpy(out, s->prefix, s->prefix_len);
    size_t o = s->prefix_len;
    o += b64url(iv, IV_BYTES, out + o);
    out[o++] = '.';
    o += b64url(ct, len, out + o);
    out[o++] = '.';
    o += b64url(tag, TAG_BYTES, out + o);
    if (napi_create_string_latin1(env, out, o, &result) != napi_ok) result = NULL;
  }
  if (mem != stack) free(mem);
  if (result == NULL) return fail(env, "AES-256-GCM encryption failed");
  return result;
}

static napi_value js_close(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  sealer_t *s = handle_call(env, info, 1, argv, &SEALER, "close(handle)");
  if (s != NULL) sealer_release(s);
  return NULL;
}

#define SHA256_BLOCK 64
#define SHA256_LEN 32

typedef struct {
  SHA256_CTX inner; /* after (K xor ipad) */
  SHA256_CTX outer; /* after (K xor opad) */
  int open;
} hmac_t;

static void hmac_finalize(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  OPENSSL_cleanse(data, sizeof(hmac_t));
  free(data);
}

static napi_value js_hmac_open(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  unsigned char *key;
  size_t key_len;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 1) return fail(env, "hmacOpen(key)");
  if (!buffer_arg(env, argv[0], &key, &key_len) || key_len == 0) return fail(env, "the HMAC key must be a non-empty Buffer");
  hmac_t *h = calloc(1, sizeof *h);
  if (h == NULL) return fail(env, "out of memory");
  unsigned char k[SHA256_BLOCK] = {0}, ipad[SHA256_BLOCK], opad[SHA256_BLOCK];
  if (key_len > SHA256_BLOCK) SHA256(key, key_len, k); /* RFC 2104 §2: a long key is hashed first */
  else memcpy(k, key, key_len);
  for (int i = 0; i < SHA256_BLOCK; i++) {
    ipad[i] = k[i] ^ 0x36;
    opad[i] = k[i] ^ 0x5c;
  }
  int ok = SHA256_Init(&h->inner) == 1 && SHA256_Update(&h->inner, ipad, SHA256_BLOCK) == 1 &&
           SHA256_Init(&h->outer) == 1 && SHA256_Update(&h->outer, opad, SHA256_BLOCK) == 1;
  OPENSSL_cleanse(k, sizeof k);
  OPENSSL_cleanse(ipad, sizeof ipad);
  OPENSSL_cleanse(opad, sizeof opad);
  napi_value handle;
  if (!ok || napi_create_external(env, h, hmac_finalize, NULL, &handle) != napi_ok) {
    hmac_finalize(env, h, NULL);
    return fail(env, "HMAC-SHA256 initialisation failed");
  }
  if (napi_type_tag_object(env, handle, &HMAC_TAG) != napi_ok) {
    OPENSSL_cleanse(h, sizeof *h); /* never opened; the handle's finalizer frees it */
    return fail(env, "HMAC-SHA256 initialisation failed");
  }
  h->open = 1;
  return handle;
}

static napi_value js_hmac(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  napi_valuetype t;
  hmac_t *h = handle_call(env, info, 2, argv, &HMAC_KEY, "hmac(handle, value)");
  if (h == NULL) return NULL;
  if (!h->open) return fail(env, "the HMAC key is closed");
  if (napi_typeof(env, argv[1], &t) != napi_ok || t != napi_string) return fail(env, "the value must be a string");
  size_t len = 0, copied = 0;
  if (napi_get_value_string_utf8(env, argv[1], NULL, 0, &len) != napi_ok) return fail(env, "value");
  unsigned char stack[STACK_BYTES];
  unsigned char *m = len + 1 <= sizeof stack ? stack : malloc(len + 1);
  if (m == NULL) return fail(env, "out of memory");
  int ok = napi_get_value_string_utf8(env, argv[1], (char *)m, len + 1, &copied) == napi_ok && copied == len;
  SHA256_CTX c;
  unsigned char d[SHA256_LEN];
  memcpy(&c, &h->inner, sizeof c);
  ok = ok && SHA256_Update(&c, m, len) == 1 && SHA256_Final(d, &c) == 1;
  memcpy(&c, &h->outer, sizeof c);
  ok = ok && SHA256_Update(&c, d, SHA256_LEN) == 1 && SHA256_Final(d, &c) == 1;
  OPENSSL_cleanse(m, len + 1);
  if (m != stack) free(m);
  OPENSSL_cleanse(&c, sizeof c);
  napi_value result = NULL;
  if (ok) {
    static const char HEX[] = "0123456789abcdef";
    char hex[2 * SHA256_LEN];
    for (int i = 0; i < SHA256_LEN; i++) {
      hex[2 * i] = HEX[d[i] >> 4];
      hex[2 * i + 1] = HEX[d[i] & 15];
    }
    if (napi_create_string_latin1(env, hex, sizeof hex, &result) != napi_ok) result = NULL;
  }
  if (result == NULL) return fail(env, "HMAC-SHA256 failed");
  return result;
}

static napi_value js_hmac_close(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  hmac_t *h = handle_call(env, info, 1, argv, &HMAC_KEY, "hmacClose(handle)");
  if (h != NULL) OPENSSL_cleanse(h, sizeof *h); /* open = 0 */
  return NULL;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"open", NULL, js_open, NULL, NULL, NULL, napi_default, NULL},
      {"seal", NULL, js_seal, NULL, NULL, NULL, napi_default, NULL},
      {"close", NULL, js_close, NULL, NULL, NULL, napi_default, NULL},
      {"hmacOpen", NULL, js_hmac_open, NULL, NULL, NULL, napi_default, NULL},
      {"hmac", NULL, js_hmac, NULL, NULL, NULL, napi_default, NULL},
      {"hmacClose", NULL, js_hmac_close, NULL, NULL, NULL, napi_default, NULL},
  };
  if (napi_define_properties(env, exports, sizeof props / sizeof *props, props) != napi_ok) return NULL;
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
