/*
 * Context: one SSL_CTX with everything a DTLS endpoint is configured with
 * (credentials, trust, cipher list, versions, PSK, cookie secrets, key log).
 * Sessions are cheap SSL objects made from it.
 */
#include "addon.h"

#include <openssl/err.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

static int ctx_index = -1;
int vap_session_index = -1;
static const napi_type_tag context_tag = {0x7661705f64746c73ULL, 0x636f6e7465787431ULL};

vap_ctx *vap_ctx_of(const SSL_CTX *ctx) { return SSL_CTX_get_ex_data(ctx, ctx_index); }

static void free_secret(uint8_t *p, size_t len) {
  if (!p) return;
  OPENSSL_cleanse(p, len);
  free(p);
}

/* OpenSSL calls this when the SSL_CTX's last reference is dropped. */
static void vap_ctx_free(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl, void *argp) {
  (void)parent, (void)ad, (void)idx, (void)argl, (void)argp;
  vap_ctx *vc = ptr;
  if (!vc) return;
  free(vc->psk_identity);
  free_secret(vc->psk_key, vc->psk_key_len);
  for (size_t i = 0; i < vc->psk_count; i++) {
    free(vc->psk_table[i].identity);
    free_secret(vc->psk_table[i].key, vc->psk_table[i].key_len);
  }
  free(vc->psk_table);
  OPENSSL_cleanse(vc->cookie_secret, sizeof vc->cookie_secret);
  free(vc);
}

/* ---- OpenSSL callbacks ------------------------------------------------- */

/* Chain verification stays OpenSSL's; on top of it, an optional SHA-256 pin
 * of the peer's leaf certificate. */
static int verify_cb(int preverify_ok, X509_STORE_CTX *store) {
  if (!preverify_ok) return 0;
  if (X509_STORE_CTX_get_error_depth(store) != 0) return 1;
  SSL *ssl = X509_STORE_CTX_get_ex_data(store, SSL_get_ex_data_X509_STORE_CTX_idx());
  vap_ctx *vc = vap_ctx_of(SSL_get_SSL_CTX(ssl));
  if (!vc->pinned) return 1;
  uint8_t md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  X509 *leaf = X509_STORE_CTX_get_current_cert(store);
  if (X509_digest(leaf, EVP_sha256(), md, &n) && n == VAP_SHA256_LEN && CRYPTO_memcmp(md, vc->pin, n) == 0) return 1;
  vap_session *s = SSL_get_ex_data(ssl, vap_session_index);
  if (s) s->pin_mismatch = true;
  X509_STORE_CTX_set_error(store, X509_V_ERR_APPLICATION_VERIFICATION);
  return 0;
}

static unsigned int psk_client_cb(SSL *ssl, const char *hint, char *identity, unsigned int max_identity_len,
                                  unsigned char *psk, unsigned int max_psk_len) {
  (void)hint;
  const vap_ctx *vc = vap_ctx_of(SSL_get_SSL_CTX(ssl));
  size_t id_len = strlen(vc->psk_identity);
  if (id_len + 1 > max_identity_len || vc->psk_key_len > max_psk_len) return 0;
  memcpy(identity, vc->psk_identity, id_len + 1);
  memcpy(psk, vc->psk_key, vc->psk_key_len);
  return (unsigned int)vc->psk_key_len;
}

/* Returning 0 makes OpenSSL answer with an unknown_psk_identity alert. */
static unsigned int psk_server_cb(SSL *ssl, const char *identity, unsigned char *psk, unsigned int max_psk_len) {
  const vap_ctx *vc = vap_ctx_of(SSL_get_SSL_CTX(ssl));
  for (size_t i = 0; identity && i < vc->psk_count; i++) {
    const vap_psk_entry *e = &vc->psk_table[i];
    if (strcmp(e->identity, identity) != 0) continue;
    if (e->key_len > max_psk_len) return 0;
    memcpy(psk, e->key, e->key_len);
    return (unsigned int)e->key_len;
  }
  return 0;
}

/* RFC 6347 §4.2.1: Cookie = HMAC(Secret, Client-IP, ...). OpenSSL's cookie
 * callbacks do not see the ClientHello, so the input is the peer's
 * "address:port", which is what makes the exchange prove address ownership. */
static bool cookie_compute(const vap_ctx *vc, int which, const vap_session *s, uint8_t out[VAP_SHA256_LEN]) {
  unsigned int len = 0;
  return HMAC(EVP_sha256(), vc->cookie_secret[which], VAP_COOKIE_SECRET_LEN, (const uint8_t *)s->peer, s->peer_len,
              out, &len) != NULL &&
         len == VAP_SHA256_LEN;
}

static int cookie_generate_cb(SSL *ssl, unsigned char *cookie, unsigned int *cookie_len) {
  const vap_session *s = SSL_get_ex_data(ssl, vap_session_index);
  if (!s || !cookie_compute(vap_ctx_of(SSL_get_SSL_CTX(ssl)), 0, s, cookie)) return 0;
  *cookie_len = VAP_SHA256_LEN;
  return 1;
}

static int cookie_verify_cb(SSL *ssl, const unsigned char *cookie, unsigned int cookie_len) {
  const vap_session *s = SSL_get_ex_data(ssl, vap_session_index);
  const vap_ctx *vc = vap_ctx_of(SSL_get_SSL_CTX(ssl));
  uint8_t expect[VAP_SHA256_LEN];
  if (!s || cookie_len != VAP_SHA256_LEN) return 0;
  for (int which = 0; which < 2; which++) {
    if (cookie_compute(vc, which, s, expect) && CRYPTO_memcmp(expect, cookie, VAP_SHA256_LEN) == 0) return 1;
  }
  return 0;
}

/* ---- configuration ----------------------------------------------------- */

static bool load_chain(napi_env env, SSL_CTX *ctx, const char *pem) {
  BIO *bio = BIO_new_mem_buf(pem, -1);
  X509 *leaf = bio ? PEM_read_bio_X509(bio, NULL, NULL, NULL) : NULL;
  if (!leaf || SSL_CTX_use_certificate(ctx, leaf) != 1) {
    X509_free(leaf);
    BIO_free(bio);
    vap_throw_openssl(env, "certificate");
    return false;
  }
  X509_free(leaf);
  X509 *extra;
  while ((extra = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL) {
    if (SSL_CTX_add0_chain_cert(ctx, extra) != 1) {
      X509_free(extra);
      BIO_free(bio);
      vap_throw_openssl(env, "certificate chain");
      return false;
    }
  }
  BIO_free(bio);
  ERR_clear_error(); /* the loop ends on "no start line" */
  return true;
}

static bool load_key(napi_env env, SSL_CTX *ctx, const char *pem) {
  BIO *bio = BIO_new_mem_buf(pem, -1);
  EVP_PKEY *key = bio ? PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL) : NULL;
  BIO_free(bio);
  bool loaded = key && SSL_CTX_use_PrivateKey(ctx, key) == 1;
  EVP_PKEY_free(key);
  if (!loaded) {
    vap_throw_openssl(env, "private key");
    return false;
  }
  /* A key of another type lands in another slot, so OpenSSL's own reason
   * ("no certificate assigned") would not name the actual mistake. */
  if (SSL_CTX_check_private_key(ctx) != 1) {
    vap_throw_openssl(env, "private key does not match the certificate");
    return false;
  }
  return true;
}

static bool load_ca(napi_env env, SSL_CTX *ctx, const char *pem) {
  X509_STORE *store = SSL_CTX_get_cert_store(ctx);
  BIO *bio = BIO_new_mem_buf(pem, -1);
  int count = 0;
  X509 *cert;
  while (bio && (cert = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL) {
    int ok = X509_STORE_add_cert(store, cert);
    X509_free(cert);
    if (!ok) {
      BIO_free(bio);
      vap_throw_openssl(env, "trusted CA");
      return false;
    }
    count++;
  }
  BIO_free(bio);
  ERR_clear_error();
  if (count == 0) vap_throw(env, "DTLS_CONFIG", "trusted CA: no PEM certificate found");
  return count > 0;
}

static uint8_t *dup_bytes(const uint8_t *p, size_t len) {
  uint8_t *copy = malloc(len ? len : 1);
  if (copy) memcpy(copy, p, len);
  return copy;
}

static bool configure_psk(napi_env env, napi_value opts, SSL_CTX *ctx, vap_ctx *vc) {
  if (!vc->server) {
    char *identity = NULL;
    const uint8_t *key;
    size_t key_len;
    if (!vap_get_string(env, opts, "pskIdentity", &identity)) return !vap_pending(env);
    if (!vap_get_bytes(env, opts, "pskKey", &key, &key_len)) {
      free(identity);
      vap_throw(env, "DTLS_CONFIG", "PSK identity given without a key");
      return false;
    }
    vc->psk_identity = identity;
    vc->psk_key = dup_bytes(key, key_len);
    vc->psk_key_len = key_len;
    if (!vc->psk_key) {
      vap_throw(env, "DTLS_CONFIG", "no memory for the PSK");
      return false;
    }
    SSL_CTX_set_psk_client_callback(ctx, psk_client_cb);
    return true;
  }
  /* The server's table: pskIdentities[i] is the identity of pskKeys[i]. Every
   * N-API call is checked: a value that is not there is left uninitialized. */
  napi_value ids, keys;
  bool has_ids = false, ids_array = false, keys_array = false;
  uint32_t n = 0, key_count = 0;
  if (napi_has_named_property(env, opts, "pskIdentities", &has_ids) != napi_ok) {
    vap_throw(env, "DTLS_CONFIG", "options must be an object");
    return false;
  }
  if (!has_ids) return true;
  if (napi_get_named_property(env, opts, "pskIdentities", &ids) != napi_ok ||
      napi_get_named_property(env, opts, "pskKeys", &keys) != napi_ok || napi_is_array(env, ids, &ids_array) != napi_ok ||
      napi_is_array(env, keys, &keys_array) != napi_ok || !ids_array || !keys_array) {
    vap_throw(env, "DTLS_CONFIG", "pskIdentities and pskKeys must both be arrays");
    return false;
  }
  if (napi_get_array_length(env, ids, &n) != napi_ok || napi_get_array_length(env, keys, &key_count) != napi_ok ||
      n != key_count) {
    vap_throw(env, "DTLS_CONFIG", "pskIdentities has %u entries and pskKeys %u: one key per identity", n, key_count);
    return false;
  }
  vc->psk_table = calloc(n ? n : 1, sizeof *vc->psk_table);
  if (!vc->psk_table) {
    vap_throw(env, "DTLS_CONFIG", "no memory for %u PSK entries", n);
    return false;
  }
  for (uint32_t i = 0; i < n; i++) {
    napi_value id_v, key_v;
    napi_valuetype id_type;
    napi_typedarray_type key_type;
    bool key_typed = false;
    void *key = NULL;
    size_t key_len = 0;
    if (napi_get_element(env, ids, i, &id_v) != napi_ok || napi_get_element(env, keys, i, &key_v) != napi_ok) {
      vap_throw(env, "DTLS_CONFIG", "cannot read PSK entry %u", i);
      return false;
    }
    if (napi_typeof(env, id_v, &id_type) != napi_ok || id_type != napi_string) {
      vap_throw(env, "DTLS_CONFIG", "pskIdentities[%u] must be a string", i);
      return false;
    }
    if (napi_is_typedarray(env, key_v, &key_typed) != napi_ok || !key_typed ||
        napi_get_typedarray_info(env, key_v, &key_type, &key_len, &key, NULL, NULL) != napi_ok ||
        key_type != napi_uint8_array) {
      vap_throw(env, "DTLS_CONFIG", "pskKeys[%u] must be a Uint8Array", i);
      return false;
    }
    char *identity = vap_value_string(env, id_v);
    uint8_t *copy = identity ? dup_bytes(key ? key : "", key_len) : NULL;
    if (!copy) {
      free(identity);
      vap_throw(env, "DTLS_CONFIG", "no memory for PSK entry %u", i);
      return false;
    }
    vc->psk_table[i] = (vap_psk_entry){identity, copy, key_len};
    vc->psk_count = i + 1;
  }
  char *hint = NULL;
  if (vap_get_string(env, opts, "pskHint", &hint)) {
    int ok = SSL_CTX_use_psk_identity_hint(ctx, hint);
    free(hint);
    if (!ok) {
      vap_throw_openssl(env, "PSK identity hint");
      return false;
    }
  }
  SSL_CTX_set_psk_server_callback(ctx, psk_server_cb);
  return !vap_pending(env);
}

static bool configure(napi_env env, napi_value opts, SSL_CTX *ctx, vap_ctx *vc) {
  char *s = NULL;
  int64_t n;
  bool b;

  /* No session cache and no tickets: CAPWAP never resumes, and a cache
   * would grow with every AP that ever joined (it would read as a leak).
   * No renegotiation: CAPWAP never needs it and it is attack surface.
   * No encrypt-then-MAC (RFC 7366): OpenSSL 3.0's DTLS record layer answers
   * a record failing an encrypt-then-MAC check with a fatal bad_record_mac
   * alert instead of discarding it (RFC 6347 §4.1.2.7), so one forged
   * datagram would end any CBC session. MAC-then-encrypt failures are
   * discarded silently, and OpenSSL checks them in constant time (Lucky 13). */
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
  SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET | SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_ENCRYPT_THEN_MAC);
  /* Idle sessions give their 16 KB read/write buffers back (memory per AP). */
  SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
  if (vc->server) {
    SSL_CTX_set_options(ctx, SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_COOKIE_EXCHANGE);
    SSL_CTX_set_cookie_generate_cb(ctx, cookie_generate_cb);
    SSL_CTX_set_cookie_verify_cb(ctx, cookie_verify_cb);
    /* Only used if the cipher list is configured with DHE suites
     * (RFC 5415 §2.4.3 SHOULD: TLS_DHE_RSA_WITH_AES_128_CBC_SHA). */
    SSL_CTX_set_dh_auto(ctx, 1);
  }
  if (RAND_bytes(vc->cookie_secret[0], VAP_COOKIE_SECRET_LEN) != 1 ||
      RAND_bytes(vc->cookie_secret[1], VAP_COOKIE_SECRET_LEN) != 1) {
    vap_throw_openssl(env, "cookie secret");
    return false;
  }

  if (vap_get_int(env, opts, "securityLevel", &n)) SSL_CTX_set_security_level(ctx, (int)n);
  if (vap_get_int(env, opts, "minVersion", &n) && SSL_CTX_set_min_proto_version(ctx, (int)n) != 1) {
    vap_throw_openssl(env, "minimum DTLS version");
    return false;
  }
  SSL_CTX_set_max_proto_version(ctx, DTLS1_2_VERSION);
  if (vap_get_string(env, opts, "ciphers", &s)) {
    int ok = SSL_CTX_set_cipher_list(ctx, s);
    free(s);
    if (!ok) {
      vap_throw_openssl(env, "cipher list");
      return false;
    }
  }
  if (vap_get_string(env, opts, "cert", &s)) {
    bool ok = load_chain(env, ctx, s);
    free(s);
    if (!ok) return false;
  }
  if (vap_get_string(env, opts, "key", &s)) {
    bool ok = load_key(env, ctx, s);
    free(s);
    if (!ok) return false;
  }
  if (vap_get_string(env, opts, "ca", &s)) {
    bool ok = load_ca(env, ctx, s);
    free(s);
    if (!ok) return false;
  }
  if (SSL_CTX_get0_certificate(ctx)) {
    /* Build our chain once, here, rather than on every handshake (OpenSSL's
     * auto-chaining runs X509_verify_cert per handshake), from the PEM's
     * extra certificates up to a CA we trust, and leave the root out: the
     * peer has it, RFC 5246 §7.4.2 lets us omit it, and every certificate
     * sent costs the peer a slow OpenSSL 3.0 public-key decode. If no chain
     * can be built (our issuer is not in `ca`), the PEM's chain goes out
     * as given. */
    SSL_CTX_set_mode(ctx, SSL_MODE_NO_AUTO_CHAIN);
    if (SSL_CTX_build_cert_chain(ctx, SSL_BUILD_CHAIN_FLAG_UNTRUSTED | SSL_BUILD_CHAIN_FLAG_NO_ROOT) != 1) ERR_clear_error();
  }
  const uint8_t *pin;
  size_t pin_len;
  if (vap_get_bytes(env, opts, "pin", &pin, &pin_len)) {
    if (pin_len != VAP_SHA256_LEN) {
      vap_throw(env, "DTLS_CONFIG", "pinned fingerprint must be a SHA-256 digest (32 bytes)");
      return false;
    }
    memcpy(vc->pin, pin, VAP_SHA256_LEN);
    vc->pinned = true;
  }
  bool verify = vap_get_bool(env, opts, "verifyPeer", &b) && b;
  if (verify) {
    /* The server side demands a certificate: the controller admits an AP
     * only on X.509 mutual authentication. */
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | (vc->server ? SSL_VERIFY_FAIL_IF_NO_PEER_CERT : 0), verify_cb);
  }
  if (vap_get_bool(env, opts, "keylog", &b) && b) SSL_CTX_set_keylog_callback(ctx, vap_keylog_cb);
  if (!configure_psk(env, opts, ctx, vc) || vap_pending(env)) return false;
  /* The pin is checked in verify_cb only: without verification, or when a
   * PSK suite lets a handshake finish with no certificate, it never would be. */
  if (vc->pinned && (!verify || vc->psk_identity || vc->psk_table)) {
    vap_throw(env, "DTLS_CONFIG", "a pinned fingerprint needs verifyPeer and no PSK, or it would never be checked");
    return false;
  }
  return true;
}

/* ---- JS class ---------------------------------------------------------- */

static void context_finalize(napi_env env, void *data, void *hint) {
  (void)env, (void)hint;
  SSL_CTX_free(data);
}

static napi_value context_new(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1], self;
  napi_get_cb_info(env, info, &argc, argv, &self, NULL);
  bool server = false;
  if (argc < 1 || !vap_get_bool(env, argv[0], "server", &server)) {
    vap_throw(env, "DTLS_USAGE", "Context(options): options.server is required");
    return NULL;
  }
  ERR_clear_error();
  SSL_CTX *ctx = SSL_CTX_new(server ? DTLS_server_method() : DTLS_client_method());
  vap_ctx *vc = calloc(1, sizeof *vc);
  if (!ctx || !vc || !SSL_CTX_set_ex_data(ctx, ctx_index, vc)) {
    free(vc);
    SSL_CTX_free(ctx);
    vap_throw_openssl(env, "SSL_CTX_new");
    return NULL;
  }
  vc->server = server;
  if (!configure(env, argv[0], ctx, vc)) {
    SSL_CTX_free(ctx); /* frees vc through vap_ctx_free */
    ERR_clear_error();
    return NULL;
  }
  ERR_clear_error();
  if (napi_wrap(env, self, ctx, context_finalize, NULL, NULL) != napi_ok) {
    SSL_CTX_free(ctx);
    return NULL;
  }
  napi_type_tag_object(env, self, &context_tag);
  return self;
}

SSL_CTX *vap_unwrap_context(napi_env env, napi_value value) {
  bool tagged = false;
  void *ctx = NULL;
  if (napi_check_object_type_tag(env, value, &context_tag, &tagged) != napi_ok || !tagged ||
      napi_unwrap(env, value, &ctx) != napi_ok) {
    vap_throw(env, "DTLS_USAGE", "expected a native DTLS Context");
    return NULL;
  }
  return ctx;
}

static SSL_CTX *this_context(napi_env env, napi_callback_info info) {
  napi_value self;
  napi_get_cb_info(env, info, NULL, NULL, &self, NULL);
  return vap_unwrap_context(env, self);
}

static napi_value context_rotate_cookie_secret(napi_env env, napi_callback_info info) {
  SSL_CTX *ctx = this_context(env, info);
  if (!ctx) return NULL;
  vap_ctx *vc = vap_ctx_of(ctx);
  memcpy(vc->cookie_secret[1], vc->cookie_secret[0], VAP_COOKIE_SECRET_LEN);
  if (RAND_bytes(vc->cookie_secret[0], VAP_COOKIE_SECRET_LEN) != 1) vap_throw_openssl(env, "cookie secret");
  return vap_undefined(env);
}

/* The suites this context would offer or accept, as [openssl, iana] pairs:
 * lets the TS layer translate RFC (IANA) names, which OpenSSL 3.0's cipher
 * list syntax does not accept, and lets tests see the effective list. */
static napi_value context_ciphers(napi_env env, napi_callback_info info) {
  SSL_CTX *ctx = this_context(env, info);
  if (!ctx) return NULL;
  STACK_OF(SSL_CIPHER) *list = SSL_CTX_get_ciphers(ctx);
  int n = list ? sk_SSL_CIPHER_num(list) : 0;
  napi_value arr;
  napi_create_array_with_length(env, (size_t)n, &arr);
  for (int i = 0; i < n; i++) {
    const SSL_CIPHER *c = sk_SSL_CIPHER_value(list, i);
    napi_value pair;
    napi_create_array_with_length(env, 2, &pair);
    napi_set_element(env, pair, 0, vap_string(env, SSL_CIPHER_get_name(c)));
    napi_set_element(env, pair, 1, vap_string(env, SSL_CIPHER_standard_name(c)));
    napi_set_element(env, arr, (uint32_t)i, pair);
  }
  return arr;
}

/* ex_data indexes are process-wide (libcrypto is shared by every worker
 * thread that loads the addon), so they are allocated exactly once. */
static pthread_once_t index_once = PTHREAD_ONCE_INIT;
static void alloc_indexes(void) {
  ctx_index = CRYPTO_get_ex_new_index(CRYPTO_EX_INDEX_SSL_CTX, 0, NULL, NULL, NULL, vap_ctx_free);
  vap_session_index = CRYPTO_get_ex_new_index(CRYPTO_EX_INDEX_SSL, 0, NULL, NULL, NULL, NULL);
}

napi_status vap_context_init(napi_env env, napi_value exports) {
  pthread_once(&index_once, alloc_indexes);
  if (ctx_index < 0 || vap_session_index < 0) return napi_generic_failure;
  napi_property_descriptor methods[] = {
      {"rotateCookieSecret", NULL, context_rotate_cookie_secret, NULL, NULL, NULL, napi_default, NULL},
      {"ciphers", NULL, context_ciphers, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_value cls;
  napi_status st = napi_define_class(env, "Context", NAPI_AUTO_LENGTH, context_new, NULL,
                                     sizeof methods / sizeof methods[0], methods, &cls);
  if (st != napi_ok) return st;
  return napi_set_named_property(env, exports, "Context", cls);
}
