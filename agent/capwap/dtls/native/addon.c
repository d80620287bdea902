#include "addon.h"

#include <openssl/err.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool vap_pending(napi_env env) {
  bool pending = false;
  napi_is_exception_pending(env, &pending);
  return pending;
}

void vap_throw(napi_env env, const char *code, const char *fmt, ...) {
  if (vap_pending(env)) return;
  char msg[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  napi_throw_error(env, code, msg);
}

void vap_throw_openssl(napi_env env, const char *what) {
  unsigned long e = ERR_peek_last_error();
  const char *reason = e ? ERR_reason_error_string(e) : NULL;
  vap_throw(env, "DTLS_CONFIG", "%s: %s", what, reason ? reason : "unknown OpenSSL error");
  ERR_clear_error();
}

static bool get_prop(napi_env env, napi_value obj, const char *name, napi_value *out) {
  napi_value v;
  napi_valuetype t;
  if (napi_get_named_property(env, obj, name, &v) != napi_ok) return false;
  if (napi_typeof(env, v, &t) != napi_ok || t == napi_undefined || t == napi_null) return false;
  *out = v;
  return true;
}

bool vap_get_bool(napi_env env, napi_value obj, const char *name, bool *out) {
  napi_value v;
  if (!get_prop(env, obj, name, &v)) return false;
  if (napi_get_value_bool(env, v, out) != napi_ok) {
    vap_throw(env, "DTLS_CONFIG", "option %s must be a boolean", name);
    return false;
  }
  return true;
}

bool vap_get_int(napi_env env, napi_value obj, const char *name, int64_t *out) {
  napi_value v;
  if (!get_prop(env, obj, name, &v)) return false;
  if (napi_get_value_int64(env, v, out) != napi_ok) {
    vap_throw(env, "DTLS_CONFIG", "option %s must be a number", name);
    return false;
  }
  return true;
}

char *vap_value_string(napi_env env, napi_value value) {
  size_t len = 0;
  if (napi_get_value_string_utf8(env, value, NULL, 0, &len) != napi_ok) {
    vap_throw(env, "DTLS_CONFIG", "expected a string");
    return NULL;
  }
  char *s = malloc(len + 1);
  if (!s) {
    vap_throw(env, "DTLS_CONFIG", "no memory for a string of %zu bytes", len);
    return NULL;
  }
  napi_get_value_string_utf8(env, value, s, len + 1, &len);
  return s;
}

bool vap_get_string(napi_env env, napi_value obj, const char *name, char **out) {
  napi_value v;
  if (!get_prop(env, obj, name, &v)) return false;
  char *s = vap_value_string(env, v);
  if (!s) return false;
  *out = s;
  return true;
}

bool vap_value_bytes(napi_env env, napi_value value, const uint8_t **data, size_t *len) {
  bool is_typed = false;
  napi_typedarray_type type;
  void *base = NULL;
  if (napi_is_typedarray(env, value, &is_typed) != napi_ok || !is_typed ||
      napi_get_typedarray_info(env, value, &type, len, &base, NULL, NULL) != napi_ok || type != napi_uint8_array) {
    vap_throw(env, "DTLS_USAGE", "expected a Uint8Array");
    return false;
  }
  /* An empty typed array may report a NULL base; hand out a valid pointer. */
  *data = base ? base : (const uint8_t *)"";
  return true;
}

bool vap_get_bytes(napi_env env, napi_value obj, const char *name, const uint8_t **data, size_t *len) {
  napi_value v;
  if (!get_prop(env, obj, name, &v)) return false;
  return vap_value_bytes(env, v, data, len);
}

napi_value vap_string(napi_env env, const char *s) {
  napi_value v;
  napi_create_string_utf8(env, s ? s : "", NAPI_AUTO_LENGTH, &v);
  return v;
}

napi_value vap_int(napi_env env, int64_t n) {
  napi_value v;
  napi_create_int64(env, n, &v);
  return v;
}

napi_value vap_undefined(napi_env env) {
  napi_value v;
  napi_get_undefined(env, &v);
  return v;
}

void vap_set(napi_env env, napi_value obj, const char *name, napi_value value) {
  napi_set_named_property(env, obj, name, value);
}

static napi_value live_sessions(napi_env env, napi_callback_info info) {
  (void)info;
  return vap_int(env, vap_live_sessions());
}

NAPI_MODULE_INIT() {
  napi_value fn;
  if (vap_context_init(env, exports) != napi_ok || vap_session_init(env, exports) != napi_ok ||
      vap_x509_init(env, exports) != napi_ok)
    return NULL;
  napi_create_function(env, "liveSessions", NAPI_AUTO_LENGTH, live_sessions, NULL, &fn);
  vap_set(env, exports, "liveSessions", fn);
  vap_set(env, exports, "opensslVersion", vap_string(env, OpenSSL_version(OPENSSL_VERSION)));
  return exports;
}
