/*
 * Session: one SSL object between two memory BIOs.
 *
 * Read side: a memory BIO holding exactly one received datagram at a time
 * (DTLS reads a whole datagram per BIO_read, RFC 6347 §4.1.1).
 * Write side: a "datagram sink" BIO that keeps every BIO_write as its own
 * datagram. A plain memory BIO would glue a whole flight into one blob and,
 * worse, report it as pending, which OpenSSL subtracts from the MTU budget
 * of every later record of the flight.
 *
 * Every call returns a result object: the datagrams to send, the plaintext
 * received, new key-log lines, the session state, the retransmission timer
 * and, on failure, OpenSSL's reason.
 */
#include "addon.h"

#include <openssl/bio.h>
#include <openssl/dtls1.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Mirrored in agent/capwap/dtls/native.ts. */
enum {
  ST_HANDSHAKING = 0,
  ST_CONNECTED = 1,
  ST_PEER_CLOSED = 2,
  ST_FAILED = 3,
  ST_FREED = 4,
  ST_LISTENING = 5,
};

static const napi_type_tag session_tag = {0x7661705f64746c73ULL, 0x73657373696f6e31ULL};
static int64_t live_sessions;

int64_t vap_live_sessions(void) { return __atomic_load_n(&live_sessions, __ATOMIC_RELAXED); }

/* ---- datagram sink BIO ------------------------------------------------- */

static BIO_METHOD *sink_method;
static pthread_once_t sink_once = PTHREAD_ONCE_INIT;

static int sink_write(BIO *bio, const char *data, int len) {
  vap_session *s = BIO_get_data(bio);
  if (len <= 0) return 0;
  if (s->out_count == s->out_cap) {
    size_t cap = s->out_cap ? s->out_cap * 2 : 8;
    vap_datagram *grown = realloc(s->out, cap * sizeof *grown);
    if (!grown) return -1;
    s->out = grown;
    s->out_cap = cap;
  }
  uint8_t *copy = malloc((size_t)len);
  if (!copy) return -1;
  memcpy(copy, data, (size_t)len);
  s->out[s->out_count++] = (vap_datagram){copy, (size_t)len};
  return len;
}

/* Every datagram is complete when written: nothing is ever pending, and the
 * MTU is what JS configured (SSL_OP_NO_QUERY_MTU), with no BIO overhead
 * because the JS transport already subtracted IP, UDP and the preamble. */
static long sink_ctrl(BIO *bio, int cmd, long num, void *ptr) {
  (void)bio, (void)num, (void)ptr;
  return cmd == BIO_CTRL_FLUSH ? 1 : 0;
}

static int sink_create(BIO *bio) {
  BIO_set_init(bio, 1);
  return 1;
}

static void make_sink_method(void) {
  sink_method = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "vap datagram sink");
  if (!sink_method) return;
  BIO_meth_set_write(sink_method, sink_write);
  BIO_meth_set_ctrl(sink_method, sink_ctrl);
  BIO_meth_set_create(sink_method, sink_create);
}

/* ---- per-session OpenSSL callbacks ------------------------------------- */

void vap_keylog_cb(const SSL *ssl, const char *line) {
  vap_session *s = SSL_get_ex_data(ssl, vap_session_index);
  if (!s) return;
  if (s->keylog_count == s->keylog_cap) {
    size_t cap = s->keylog_cap ? s->keylog_cap * 2 : 4;
    char **grown = realloc(s->keylog, cap * sizeof *grown);
    if (!grown) return;
    s->keylog = grown;
    s->keylog_cap = cap;
  }
  char *copy = strdup(line);
  if (copy) s->keylog[s->keylog_count++] = copy;
}

/* OpenSSL asks for the first timeout with 0 and for each next one with the
 * previous. RFC 6347 §4.2.4.1: start at 1 s (configurable here so tests can
 * run at loopback speed), double on each retransmission, cap at 60 s. */
static unsigned int timer_cb(SSL *ssl, unsigned int previous_us) {
  const vap_session *s = SSL_get_ex_data(ssl, vap_session_index);
  if (previous_us == 0) return s ? s->retransmit_us : 1000000;
  return previous_us >= 30000000 ? 60000000 : previous_us * 2;
}

/* ---- lifecycle --------------------------------------------------------- */

static void clear_pending(vap_session *s) {
  for (size_t i = 0; i < s->out_count; i++) free(s->out[i].data);
  s->out_count = 0;
  for (size_t i = 0; i < s->keylog_count; i++) free(s->keylog[i]);
  s->keylog_count = 0;
}

static void release_ssl(vap_session *s) {
  if (!s->ssl) return;
  SSL_free(s->ssl); /* frees both BIOs */
  s->ssl = NULL;
  s->state = ST_FREED;
  __atomic_sub_fetch(&live_sessions, 1, __ATOMIC_RELAXED);
}

static void session_finalize(napi_env env, void *data, void *hint) {
  (void)env, (void)hint;
  vap_session *s = data;
  release_ssl(s);
  clear_pending(s);
  free(s->out);
  free(s->keylog);
  free(s);
}

static napi_value session_new(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2], self;
  napi_get_cb_info(env, info, &argc, argv, &self, NULL);
  if (argc < 2) {
    vap_throw(env, "DTLS_USAGE", "Session(context, options)");
    return NULL;
  }
  SSL_CTX *ctx = vap_unwrap_context(env, argv[0]);
  if (!ctx) return NULL;
  int64_t mtu = 0, retransmit_ms = 1000;
  vap_get_int(env, argv[1], "mtu", &mtu);
  vap_get_int(env, argv[1], "retransmitMs", &retransmit_ms);
  if (vap_pending(env)) return NULL;
  if (retransmit_ms < 1 || retransmit_ms > 60000) {
    vap_throw(env, "DTLS_CONFIG", "retransmitMs must be 1..60000");
    return NULL;
  }

  ERR_clear_error();
  vap_session *s = calloc(1, sizeof *s);
  SSL *ssl = s && sink_method ? SSL_new(ctx) : NULL;
  BIO *rbio = ssl ? BIO_new(BIO_s_mem()) : NULL;
  BIO *wbio = rbio ? BIO_new(sink_method) : NULL;
  if (!wbio) {
    BIO_free(rbio);
    SSL_free(ssl);
    free(s);
    vap_throw_openssl(env, "SSL_new");
    return NULL;
  }
  /* An empty read BIO means "no datagram yet", never end-of-file. */
  BIO_set_mem_eof_return(rbio, -1);
  BIO_set_data(wbio, s);
  SSL_set_bio(ssl, rbio, wbio);
  s->ssl = ssl;
  s->retransmit_us = (unsigned int)retransmit_ms * 1000u;
  SSL_set_ex_data(ssl, vap_session_index, s);
  DTLS_set_timer_cb(ssl, timer_cb);
  SSL_set_options(ssl, SSL_OP_NO_QUERY_MTU);
  if (mtu > 0 && !SSL_set_mtu(ssl, mtu)) {
    SSL_free(ssl);
    free(s);
    vap_throw(env, "DTLS_CONFIG", "MTU %lld is below DTLS's minimum", (long long)mtu);
    return NULL;
  }
  bool server = SSL_CTX_get_ssl_method(ctx) == DTLS_server_method();
  if (server) {
    SSL_set_accept_state(ssl);
    s->state = ST_LISTENING;
  } else {
    SSL_set_connect_state(ssl);
    s->state = ST_HANDSHAKING;
  }
  __atomic_add_fetch(&live_sessions, 1, __ATOMIC_RELAXED);
  if (napi_wrap(env, self, s, session_finalize, NULL, NULL) != napi_ok) {
    session_finalize(env, s, NULL);
    return NULL;
  }
  napi_type_tag_object(env, self, &session_tag);
  ERR_clear_error();
  return self;
}

static vap_session *this_session(napi_env env, napi_callback_info info, size_t *argc, napi_value *argv) {
  napi_value self;
  bool tagged = false;
  void *s = NULL;
  napi_get_cb_info(env, info, argc, argv, &self, NULL);
  if (napi_check_object_type_tag(env, self, &session_tag, &tagged) != napi_ok || !tagged ||
      napi_unwrap(env, self, &s) != napi_ok) {
    vap_throw(env, "DTLS_USAGE", "expected a native DTLS Session");
    return NULL;
  }
  return s;
}

/* ---- driving OpenSSL --------------------------------------------------- */

typedef struct {
  napi_env env;
  napi_value result;
  napi_value data; /* array of plaintext Buffers, created on first use */
  uint32_t data_count;
  uint32_t discarded; /* records received and thrown away during this call */
} call;

/* Record why the session died, in OpenSSL's words, then drop the queue. */
static void fail(call *c, vap_session *s, int ssl_error) {
  unsigned long first = 0, first_ssl = 0, e;
  while ((e = ERR_get_error()) != 0) {
    if (!first) first = e;
    if (!first_ssl && ERR_GET_LIB(e) == ERR_LIB_SSL) first_ssl = e;
  }
  e = first_ssl ? first_ssl : first;
  int reason = ERR_GET_REASON(e);
  const char *text = e ? ERR_reason_error_string(e) : NULL;
  const char *kind = "protocol";
  napi_value err;
  napi_create_object(c->env, &err);
  if (reason >= SSL_AD_REASON_OFFSET && ERR_GET_LIB(e) == ERR_LIB_SSL) {
    kind = "alert";
    vap_set(c->env, err, "alert", vap_string(c->env, SSL_alert_desc_string_long(reason - SSL_AD_REASON_OFFSET)));
  } else if (reason == SSL_R_CERTIFICATE_VERIFY_FAILED || reason == SSL_R_PEER_DID_NOT_RETURN_A_CERTIFICATE) {
    kind = "verify";
    long vr = SSL_get_verify_result(s->ssl);
    if (s->pin_mismatch)
      vap_set(c->env, err, "detail",
              vap_string(c->env, "peer certificate does not match the pinned SHA-256 fingerprint"));
    else if (vr != X509_V_OK)
      vap_set(c->env, err, "detail", vap_string(c->env, X509_verify_cert_error_string(vr)));
  } else if (reason == SSL_R_READ_TIMEOUT_EXPIRED) {
    kind = "timeout";
  }
  char fallback[64];
  if (!text) {
    snprintf(fallback, sizeof fallback, "SSL_get_error %d", ssl_error);
    text = fallback;
  }
  vap_set(c->env, err, "kind", vap_string(c->env, kind));
  vap_set(c->env, err, "reason", vap_string(c->env, text));
  vap_set(c->env, c->result, "error", err);
  s->state = ST_FAILED;
}

static bool would_block(int ssl_error) { return ssl_error == SSL_ERROR_WANT_READ || ssl_error == SSL_ERROR_WANT_WRITE; }

static void read_plaintext(call *c, vap_session *s) {
  /* DTLS records carry at most 2^14 bytes of plaintext (RFC 6347 §4.1). */
  static __thread uint8_t buf[16384];
  for (;;) {
    int n = SSL_read(s->ssl, buf, sizeof buf);
    if (n > 0) {
      napi_value chunk;
      if (!c->data) napi_create_array(c->env, &c->data);
      napi_create_buffer_copy(c->env, (size_t)n, buf, NULL, &chunk);
      napi_set_element(c->env, c->data, c->data_count++, chunk);
      continue;
    }
    int err = SSL_get_error(s->ssl, n);
    if (would_block(err)) return;
    if (err == SSL_ERROR_ZERO_RETURN) {
      s->state = ST_PEER_CLOSED; /* close_notify received */
      return;
    }
    fail(c, s, err);
    return;
  }
}

/* Advance the handshake, then hand over any plaintext already decrypted. */
static void step(call *c, vap_session *s) {
  if (s->state == ST_HANDSHAKING) {
    int r = SSL_do_handshake(s->ssl);
    if (r == 1) {
      s->state = ST_CONNECTED;
    } else {
      int err = SSL_get_error(s->ssl, r);
      if (!would_block(err)) fail(c, s, err);
    }
  }
  if (s->state == ST_CONNECTED) read_plaintext(c, s);
}

/*
 * An established CAPWAP session is idle almost all the time (an Echo every
 * 30 s), yet OpenSSL keeps a ~17 KB read and a ~17 KB write buffer per SSL
 * and SSL_MODE_RELEASE_BUFFERS does nothing for DTLS. So a connected
 * session holds its buffers only during a call: finish() frees them and
 * begin() gets them back, because DTLS's write path (even a close_notify)
 * never allocates its buffer itself. SSL_free_buffers had a use-after-free
 * until OpenSSL 3.0.14 (CVE-2024-4741); older OpenSSLs keep the buffers.
 */
static bool can_free_buffers(void) {
  static int ok = -1;
  if (ok < 0) ok = OpenSSL_version_num() >= 0x300000e0UL;
  return ok;
}

static call begin(napi_env env, vap_session *s) {
  call c = {env, NULL, NULL, 0, 0};
  napi_create_object(env, &c.result);
  ERR_clear_error();
  if (s->ssl && !SSL_alloc_buffers(s->ssl)) fail(&c, s, SSL_ERROR_SSL);
  return c;
}

/* Fill in everything JS needs after a call and reset the per-call queues. */
static napi_value finish(call *c, vap_session *s) {
  napi_env env = c->env;
  if (s->out_count) {
    napi_value out;
    napi_create_array_with_length(env, s->out_count, &out);
    for (size_t i = 0; i < s->out_count; i++) {
      napi_value dg;
      napi_create_buffer_copy(env, s->out[i].len, s->out[i].data, NULL, &dg);
      napi_set_element(env, out, (uint32_t)i, dg);
    }
    vap_set(env, c->result, "out", out);
  }
  if (s->keylog_count) {
    napi_value lines;
    napi_create_array_with_length(env, s->keylog_count, &lines);
    for (size_t i = 0; i < s->keylog_count; i++) napi_set_element(env, lines, (uint32_t)i, vap_string(env, s->keylog[i]));
    vap_set(env, c->result, "keylog", lines);
  }
  clear_pending(s);
  if (s->state == ST_CONNECTED && can_free_buffers()) SSL_free_buffers(s->ssl);
  if (c->data) vap_set(env, c->result, "data", c->data);
  if (c->discarded) vap_set(env, c->result, "discarded", vap_int(env, c->discarded));
  struct timeval tv = {0, 0};
  int64_t timer = -1;
  if (s->state == ST_HANDSHAKING && DTLSv1_get_timeout(s->ssl, &tv) == 1)
    timer = (int64_t)tv.tv_sec * 1000 + (tv.tv_usec + 999) / 1000;
  vap_set(env, c->result, "timer", vap_int(env, timer));
  vap_set(env, c->result, "state", vap_int(env, s->state));
  ERR_clear_error();
  return c->result;
}

static bool feed_bytes(napi_env env, vap_session *s, napi_value value) {
  const uint8_t *data;
  size_t len;
  if (!vap_value_bytes(env, value, &data, &len)) return false;
  if (len > 0 && len <= INT32_MAX) BIO_write(SSL_get_rbio(s->ssl), data, (int)len);
  return true;
}

/* ---- methods ----------------------------------------------------------- */

/* Client: send the first ClientHello. */
static napi_value session_start(napi_env env, napi_callback_info info) {
  vap_session *s = this_session(env, info, NULL, NULL);
  if (!s) return NULL;
  call c = begin(env, s);
  step(&c, s);
  return finish(&c, s);
}

/*
 * The shortest body a protected (epoch > 0) record can have under the
 * negotiated suite. OpenSSL 3.0 does not discard every record shorter than
 * that: an AEAD body below explicit nonce + tag makes it send a fatal
 * internal_error alert, so one forged datagram would end the session. RFC
 * 6347 §4.1.2.7 says invalid records are silently discarded; these are
 * discarded here, before OpenSSL sees them. Before a suite is chosen no
 * protected record can be authentic (we never resume, so the peer's first
 * epoch-1 record always follows the ServerHello).
 */
static size_t shortest_protected_body(const SSL *ssl) {
  const SSL_CIPHER *suite = SSL_get_current_cipher(ssl);
  if (!suite) suite = SSL_get_pending_cipher(ssl);
  if (!suite) return SIZE_MAX;
  const EVP_CIPHER *cipher = EVP_get_cipherbynid(SSL_CIPHER_get_cipher_nid(suite));
  if (SSL_CIPHER_is_aead(suite)) {
    /* RFC 5288 §3 (GCM), RFC 6655 §3 (CCM): an 8-byte explicit nonce; RFC
     * 7905 (ChaCha20-Poly1305): none. Tags are 16 bytes, CCM_8's 8. */
    int mode = cipher ? EVP_CIPHER_get_mode(cipher) : 0;
    size_t nonce = mode == EVP_CIPH_GCM_MODE || mode == EVP_CIPH_CCM_MODE ? 8 : 0;
    size_t tag = strstr(SSL_CIPHER_get_name(suite), "CCM8") ? 8 : 16;
    return nonce + tag;
  }
  const EVP_MD *digest = EVP_get_digestbynid(SSL_CIPHER_get_digest_nid(suite));
  size_t mac = digest ? (size_t)EVP_MD_get_size(digest) : 0;
  size_t block = cipher ? (size_t)EVP_CIPHER_get_block_size(cipher) : 1;
  if (block <= 1) return mac; /* stream or NULL cipher: the MAC alone */
  /* CBC, MAC-then-encrypt (context.c turns encrypt-then-MAC off): an
   * explicit IV, then the MAC and at least one padding byte in whole blocks. */
  return block + (mac + 1 + block - 1) / block * block;
}

enum { APPLICATION_DATA = 23 };

/* Hand a received datagram to OpenSSL without the protected records that
 * are too short to be authentic (counted as discarded). Returns how many
 * protected application-data records went through. */
static uint32_t feed_records(call *c, vap_session *s, const uint8_t *data, size_t len) {
  BIO *rbio = SSL_get_rbio(s->ssl);
  size_t shortest = shortest_protected_body(s->ssl);
  uint32_t application = 0;
  size_t off = 0;
  while (off < len) {
    const uint8_t *h = data + off;
    size_t rest = len - off;
    size_t body = rest >= DTLS1_RT_HEADER_LENGTH ? (size_t)h[11] << 8 | h[12] : 0;
    if (rest < DTLS1_RT_HEADER_LENGTH || body > rest - DTLS1_RT_HEADER_LENGTH) {
      /* A partial record: OpenSSL drops the rest of the datagram itself. */
      BIO_write(rbio, h, (int)rest);
      break;
    }
    size_t record = DTLS1_RT_HEADER_LENGTH + body;
    bool is_protected = h[3] != 0 || h[4] != 0;
    if (is_protected && body < shortest) {
      c->discarded++;
    } else {
      BIO_write(rbio, h, (int)record);
      if (is_protected && h[0] == APPLICATION_DATA) application++;
    }
    off += record;
  }
  return application;
}

/* A received datagram (without CAPWAP preamble). */
static napi_value session_feed(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  const uint8_t *data;
  size_t len;
  vap_session *s = this_session(env, info, &argc, argv);
  if (!s || argc < 1 || !vap_value_bytes(env, argv[0], &data, &len)) return NULL;
  call c = begin(env, s);
  if ((s->state == ST_HANDSHAKING || s->state == ST_CONNECTED) && len > 0 && len <= INT32_MAX) {
    bool was_connected = s->state == ST_CONNECTED;
    uint32_t application = feed_records(&c, s, data, len);
    step(&c, s);
    /* Each authentic application-data record comes out of SSL_read as one
     * chunk; the ones that did not were dropped by OpenSSL (bad MAC or tag,
     * replayed, outside the window) or carried nothing. */
    if (was_connected && s->state == ST_CONNECTED && application > c.data_count) c.discarded += application - c.data_count;
  }
  return finish(&c, s);
}

/*
 * Server listener: a stateless ClientHello filter. RFC 6347 §4.2.1: the
 * server answers a ClientHello without a valid cookie with a
 * HelloVerifyRequest and keeps no state; only a ClientHello that echoes a
 * valid cookie makes this object the peer's session (accepted = true, and
 * the first server flight is already in `out`). JS then makes a new
 * listener, so the SSL allocation per peer happens after the cookie check.
 * With `admit` false (the server is at its cap of handshakes) a valid
 * cookie is still reported, but no flight is computed: JS drops the object
 * and the peer's retransmitted ClientHello tries again later.
 */
static napi_value session_listen(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  bool admit = true;
  vap_session *s = this_session(env, info, &argc, argv);
  if (!s || argc < 3) return NULL;
  if (napi_get_value_bool(env, argv[2], &admit) != napi_ok) {
    vap_throw(env, "DTLS_USAGE", "listen(datagram, peer, admit): admit must be a boolean");
    return NULL;
  }
  if (s->state != ST_LISTENING) {
    vap_throw(env, "DTLS_USAGE", "listen() on a session that is not a listener");
    return NULL;
  }
  size_t peer_len = 0;
  if (napi_get_value_string_utf8(env, argv[1], s->peer, sizeof s->peer, &peer_len) != napi_ok) {
    vap_throw(env, "DTLS_USAGE", "listen(datagram, peer): peer must be a string");
    return NULL;
  }
  s->peer_len = peer_len;
  call c = begin(env, s);
  BIO *rbio = SSL_get_rbio(s->ssl);
  if (!feed_bytes(env, s, argv[0])) return NULL;
  BIO_ADDR *addr = BIO_ADDR_new();
  int r = addr ? DTLSv1_listen(s->ssl, addr) : -1;
  BIO_ADDR_free(addr);
  /* Whatever the listener did not consume was not a ClientHello worth state. */
  (void)BIO_reset(rbio);
  bool accepted = r > 0;
  if (accepted) {
    s->state = ST_HANDSHAKING;
    if (admit) step(&c, s);
  } else {
    ERR_clear_error(); /* garbage or a cookie-less hello: nothing to report */
  }
  napi_value flag;
  napi_get_boolean(env, accepted, &flag);
  vap_set(env, c.result, "accepted", flag);
  return finish(&c, s);
}

/* The largest datagram from now on (the listener sets it per peer: IPv4 and
 * IPv6 headers differ). Kept across DTLSv1_listen's SSL_clear because of
 * SSL_OP_NO_QUERY_MTU. */
static napi_value session_set_mtu(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  int64_t mtu = 0;
  vap_session *s = this_session(env, info, &argc, argv);
  if (!s) return NULL;
  if (argc < 1 || napi_get_value_int64(env, argv[0], &mtu) != napi_ok || mtu <= 0 || mtu > 65535) {
    vap_throw(env, "DTLS_USAGE", "setMtu(mtu): mtu must be 1..65535");
    return NULL;
  }
  if (!s->ssl) {
    vap_throw(env, "DTLS_USAGE", "setMtu() after close");
    return NULL;
  }
  if (!SSL_set_mtu(s->ssl, (long)mtu)) {
    vap_throw(env, "DTLS_CONFIG", "MTU %lld is below DTLS's minimum", (long long)mtu);
    return NULL;
  }
  return vap_undefined(env);
}

/* Application data out. */
static napi_value session_write(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  vap_session *s = this_session(env, info, &argc, argv);
  if (!s || argc < 1) return NULL;
  const uint8_t *data;
  size_t len;
  if (!vap_value_bytes(env, argv[0], &data, &len)) return NULL;
  if (s->state != ST_CONNECTED) {
    vap_throw(env, "DTLS_USAGE", "write() before the handshake completed or after close");
    return NULL;
  }
  call c = begin(env, s);
  if (len > 0) {
    int n = SSL_write(s->ssl, data, (int)len);
    if (n <= 0) fail(&c, s, SSL_get_error(s->ssl, n));
  }
  return finish(&c, s);
}

/* The JS retransmission timer fired. OpenSSL decides whether its own timer
 * has really expired and, if so, resends the last flight. */
static napi_value session_timeout(napi_env env, napi_callback_info info) {
  vap_session *s = this_session(env, info, NULL, NULL);
  if (!s) return NULL;
  call c = begin(env, s);
  if (s->state == ST_HANDSHAKING && DTLSv1_handle_timeout(s->ssl) < 0) fail(&c, s, SSL_ERROR_SSL);
  return finish(&c, s);
}

/* Orderly close: a close_notify alert if established, then free the SSL. */
static napi_value session_close(napi_env env, napi_callback_info info) {
  vap_session *s = this_session(env, info, NULL, NULL);
  if (!s) return NULL;
  call c = begin(env, s);
  if (s->state == ST_CONNECTED || s->state == ST_PEER_CLOSED) SSL_shutdown(s->ssl);
  napi_value result = finish(&c, s);
  release_ssl(s);
  vap_set(env, result, "state", vap_int(env, ST_FREED));
  return result;
}

static napi_value name_string(napi_env env, const X509_NAME *name) {
  BIO *bio = BIO_new(BIO_s_mem());
  char *text = NULL;
  napi_value v;
  X509_NAME_print_ex(bio, name, 0, XN_FLAG_RFC2253);
  long len = BIO_get_mem_data(bio, &text);
  napi_create_string_utf8(env, text ? text : "", len > 0 ? (size_t)len : 0, &v);
  BIO_free(bio);
  return v;
}

/* Who is on the other side, once the handshake is done. */
static napi_value session_peer(napi_env env, napi_callback_info info) {
  vap_session *s = this_session(env, info, NULL, NULL);
  if (!s) return NULL;
  if (!s->ssl || s->state != ST_CONNECTED) return vap_undefined(env);
  napi_value o;
  napi_create_object(env, &o);
  const SSL_CIPHER *cipher = SSL_get_current_cipher(s->ssl);
  vap_set(env, o, "cipher", vap_string(env, SSL_CIPHER_get_name(cipher)));
  vap_set(env, o, "cipherStandardName", vap_string(env, SSL_CIPHER_standard_name(cipher)));
  vap_set(env, o, "version", vap_string(env, SSL_get_version(s->ssl)));
  vap_set(env, o, "dataMtu", vap_int(env, (int64_t)DTLS_get_data_mtu(s->ssl)));
  const char *psk_identity = SSL_get_psk_identity(s->ssl);
  if (psk_identity) vap_set(env, o, "pskIdentity", vap_string(env, psk_identity));
  X509 *cert = SSL_get1_peer_certificate(s->ssl);
  if (cert) {
    uint8_t md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    char hex[EVP_MAX_MD_SIZE * 3] = "";
    X509_digest(cert, EVP_sha256(), md, &n);
    for (unsigned int i = 0; i < n; i++) snprintf(hex + i * 3, 4, i + 1 < n ? "%02X:" : "%02X", md[i]);
    vap_set(env, o, "subject", name_string(env, X509_get_subject_name(cert)));
    vap_set(env, o, "issuer", name_string(env, X509_get_issuer_name(cert)));
    vap_set(env, o, "fingerprint256", vap_string(env, hex));
    X509_free(cert);
  }
  ERR_clear_error();
  return o;
}

napi_status vap_session_init(napi_env env, napi_value exports) {
  pthread_once(&sink_once, make_sink_method);
  if (!sink_method) return napi_generic_failure;
  napi_property_descriptor methods[] = {
      {"start", NULL, session_start, NULL, NULL, NULL, napi_default, NULL},
      {"feed", NULL, session_feed, NULL, NULL, NULL, napi_default, NULL},
      {"listen", NULL, session_listen, NULL, NULL, NULL, napi_default, NULL},
      {"setMtu", NULL, session_set_mtu, NULL, NULL, NULL, napi_default, NULL},
      {"write", NULL, session_write, NULL, NULL, NULL, napi_default, NULL},
      {"timeout", NULL, session_timeout, NULL, NULL, NULL, napi_default, NULL},
      {"close", NULL, session_close, NULL, NULL, NULL, napi_default, NULL},
      {"peer", NULL, session_peer, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_value cls;
  napi_status st = napi_define_class(env, "Session", NAPI_AUTO_LENGTH, session_new, NULL,
                                     sizeof methods / sizeof methods[0], methods, &cls);
  if (st != napi_ok) return st;
  return napi_set_named_property(env, exports, "Session", cls);
}
