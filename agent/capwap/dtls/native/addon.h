/*
 * vap_dtls: a thin N-API binding over the OpenSSL that Node itself exports.
 *
 * The addon owns no socket, no timer and no CAPWAP framing: JS feeds it
 * received datagrams and takes out the datagrams OpenSSL wants sent. Every
 * entry point clears OpenSSL's thread-wide error queue on the way in and out,
 * because Node's own crypto shares that queue and must never see our errors.
 */
#ifndef VAP_DTLS_ADDON_H
#define VAP_DTLS_ADDON_H

#define NAPI_VERSION 8
#include <node_api.h>
#include <openssl/ssl.h>
#include <stdbool.h>
#include <stddef.h>

/* ---- N-API helpers (addon.c) ------------------------------------------ */

/* Throw a JS Error with `code` unless an exception is already pending. */
void vap_throw(napi_env env, const char *code, const char *fmt, ...);
/* Throw with OpenSSL's reason text for the most recent error appended. */
void vap_throw_openssl(napi_env env, const char *what);

/* Optional-property readers: return false (and leave *out alone) when the
 * property is absent or undefined; throw and return false on a wrong type,
 * so callers check `vap_pending(env)` after a false return when it matters. */
bool vap_pending(napi_env env);
bool vap_get_bool(napi_env env, napi_value obj, const char *name, bool *out);
bool vap_get_int(napi_env env, napi_value obj, const char *name, int64_t *out);
/* Returns a malloc'd NUL-terminated copy; caller frees. */
bool vap_get_string(napi_env env, napi_value obj, const char *name, char **out);
/* Borrowed view into a Uint8Array (valid while the JS value is alive). */
bool vap_get_bytes(napi_env env, napi_value obj, const char *name, const uint8_t **data, size_t *len);
bool vap_value_bytes(napi_env env, napi_value value, const uint8_t **data, size_t *len);
char *vap_value_string(napi_env env, napi_value value);

napi_value vap_string(napi_env env, const char *s);
napi_value vap_int(napi_env env, int64_t v);
napi_value vap_undefined(napi_env env);
void vap_set(napi_env env, napi_value obj, const char *name, napi_value value);

/* ---- Context (context.c) ----------------------------------------------- */

#define VAP_COOKIE_SECRET_LEN 32
#define VAP_SHA256_LEN 32

typedef struct {
  char *identity;
  uint8_t *key;
  size_t key_len;
} vap_psk_entry;

/* Per-SSL_CTX configuration the OpenSSL callbacks read. It is hung on the
 * SSL_CTX as ex_data and freed by OpenSSL when the last SSL_CTX reference
 * goes away, so a session may outlive the JS Context object that made it. */
typedef struct {
  bool server;
  bool pinned;
  uint8_t pin[VAP_SHA256_LEN];
  /* client PSK */
  char *psk_identity;
  uint8_t *psk_key;
  size_t psk_key_len;
  /* server PSK table */
  vap_psk_entry *psk_table;
  size_t psk_count;
  /* Cookie secrets, RFC 6347 §4.2.1: the current one signs, the previous
   * one still verifies so a rotation never strands a client in flight. */
  uint8_t cookie_secret[2][VAP_COOKIE_SECRET_LEN];
} vap_ctx;

napi_status vap_context_init(napi_env env, napi_value exports);
vap_ctx *vap_ctx_of(const SSL_CTX *ctx);
/* The SSL_CTX inside a JS Context object (throws on anything else). */
SSL_CTX *vap_unwrap_context(napi_env env, napi_value value);
/* ex_data index of the vap_session that owns an SSL. */
extern int vap_session_index;

/* ---- Session (session.c) ----------------------------------------------- */

typedef struct {
  uint8_t *data;
  size_t len;
} vap_datagram;

typedef struct vap_session {
  SSL *ssl;
  /* Datagrams OpenSSL wrote during the current call (the datagram sink BIO). */
  vap_datagram *out;
  size_t out_count, out_cap;
  /* SSLKEYLOGFILE lines produced during the current call. */
  char **keylog;
  size_t keylog_count, keylog_cap;
  /* "address:port" of the peer: the cookie HMAC input. */
  char peer[80];
  size_t peer_len;
  unsigned int retransmit_us;
  bool pin_mismatch;
  int state;
} vap_session;

napi_status vap_session_init(napi_env env, napi_value exports);
/* Keylog callback installed on contexts that asked for a key log. */
void vap_keylog_cb(const SSL *ssl, const char *line);
/* Number of SSL objects alive (leak checks in tests and the benchmark). */
int64_t vap_live_sessions(void);

/* ---- X.509 issuing for the lab PKI (x509.c) ---------------------------- */

napi_status vap_x509_init(napi_env env, napi_value exports);

#endif
