/*
 * Certificate issuing for the lab PKI (`vap pki init`). Doing it here, with
 * the OpenSSL that Node already carries, means a Pi or a container needs no
 * `openssl` binary to make its X.509 material. The certificate profile
 * (names, extensions, validity) is decided in TypeScript; this only encodes
 * and signs.
 */
#include "addon.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <stdlib.h>
#include <string.h>

static X509 *read_cert(const char *pem) {
  BIO *bio = BIO_new_mem_buf(pem, -1);
  X509 *x = bio ? PEM_read_bio_X509(bio, NULL, NULL, NULL) : NULL;
  BIO_free(bio);
  return x;
}

static EVP_PKEY *read_key(const char *pem, bool private_key) {
  BIO *bio = BIO_new_mem_buf(pem, -1);
  EVP_PKEY *k = NULL;
  if (bio) k = private_key ? PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL) : PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
  BIO_free(bio);
  return k;
}

/* [[name, value], ...] applied by `apply(x, name, value)`. */
static bool each_pair(napi_env env, napi_value opts, const char *prop, bool (*apply)(void *, const char *, const char *),
                      void *target) {
  napi_value list;
  uint32_t n = 0;
  if (napi_get_named_property(env, opts, prop, &list) != napi_ok || napi_get_array_length(env, list, &n) != napi_ok) {
    vap_throw(env, "DTLS_USAGE", "%s must be an array of [name, value] pairs", prop);
    return false;
  }
  for (uint32_t i = 0; i < n; i++) {
    napi_value pair, k, v;
    napi_get_element(env, list, i, &pair);
    napi_get_element(env, pair, 0, &k);
    napi_get_element(env, pair, 1, &v);
    char *name = vap_value_string(env, k);
    char *value = name ? vap_value_string(env, v) : NULL;
    bool ok = value && apply(target, name, value);
    if (!ok && !vap_pending(env)) {
      vap_throw(env, "DTLS_CONFIG", "%s %s=%s rejected by OpenSSL", prop, name ? name : "?", value ? value : "?");
    }
    free(name);
    free(value);
    if (!ok) return false;
  }
  return true;
}

static bool add_name_entry(void *name, const char *field, const char *value) {
  return X509_NAME_add_entry_by_txt(name, field, MBSTRING_UTF8, (const unsigned char *)value, -1, -1, 0) == 1;
}

typedef struct {
  X509 *cert;
  X509V3_CTX v3;
} ext_target;

static bool add_extension(void *target, const char *name, const char *value) {
  ext_target *t = target;
  X509_EXTENSION *ext = X509V3_EXT_nconf(NULL, &t->v3, name, value);
  bool ok = ext && X509_add_ext(t->cert, ext, -1) == 1;
  X509_EXTENSION_free(ext);
  return ok;
}

/*
 * signCertificate({ subject, publicKey, issuerKey, issuerCert?, serial,
 *                   notBefore, notAfter, extensions }) -> PEM string
 * Times are Unix seconds. Without issuerCert the certificate is self-signed.
 */
static napi_value sign_certificate(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value opts, result = NULL;
  napi_get_cb_info(env, info, &argc, &opts, NULL, NULL);
  if (argc < 1) {
    vap_throw(env, "DTLS_USAGE", "signCertificate(options)");
    return NULL;
  }
  ERR_clear_error();
  char *pub_pem = NULL, *issuer_key_pem = NULL, *issuer_pem = NULL;
  const uint8_t *serial;
  size_t serial_len;
  int64_t not_before = 0, not_after = 0;
  X509 *x = NULL, *issuer = NULL;
  EVP_PKEY *pub = NULL, *issuer_key = NULL;
  X509_NAME *subject = NULL;
  BIGNUM *bn = NULL;
  BIO *out = NULL;

  if (!vap_get_string(env, opts, "publicKey", &pub_pem) || !vap_get_string(env, opts, "issuerKey", &issuer_key_pem) ||
      !vap_get_bytes(env, opts, "serial", &serial, &serial_len) || !vap_get_int(env, opts, "notBefore", &not_before) ||
      !vap_get_int(env, opts, "notAfter", &not_after)) {
    vap_throw(env, "DTLS_USAGE", "signCertificate: publicKey, issuerKey, serial, notBefore, notAfter are required");
    goto done;
  }
  vap_get_string(env, opts, "issuerCert", &issuer_pem);
  pub = read_key(pub_pem, false);
  issuer_key = read_key(issuer_key_pem, true);
  issuer = issuer_pem ? read_cert(issuer_pem) : NULL;
  if (!pub || !issuer_key || (issuer_pem && !issuer)) {
    vap_throw_openssl(env, "signCertificate: reading PEM input");
    goto done;
  }
  if (issuer && X509_check_private_key(issuer, issuer_key) != 1) {
    vap_throw(env, "DTLS_CONFIG", "signCertificate: issuerKey does not belong to issuerCert");
    goto done;
  }
  x = X509_new();
  subject = X509_NAME_new();
  bn = BN_bin2bn(serial, (int)serial_len, NULL);
  if (!x || !subject || !bn || !X509_set_version(x, X509_VERSION_3) ||
      !BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) || !X509_set_pubkey(x, pub) ||
      !ASN1_TIME_set(X509_getm_notBefore(x), (time_t)not_before) ||
      !ASN1_TIME_set(X509_getm_notAfter(x), (time_t)not_after)) {
    vap_throw_openssl(env, "signCertificate");
    goto done;
  }
  if (!each_pair(env, opts, "subject", add_name_entry, subject)) goto done;
  X509_set_subject_name(x, subject);
  X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : subject);
  ext_target t = {x, {0}};
  X509V3_set_ctx(&t.v3, issuer ? issuer : x, x, NULL, NULL, 0);
  if (!each_pair(env, opts, "extensions", add_extension, &t)) goto done;
  out = BIO_new(BIO_s_mem());
  if (!X509_sign(x, issuer_key, EVP_sha256()) || !out || !PEM_write_bio_X509(out, x)) {
    vap_throw_openssl(env, "signCertificate: signing");
    goto done;
  }
  char *pem = NULL;
  long len = BIO_get_mem_data(out, &pem);
  napi_create_string_utf8(env, pem, (size_t)len, &result);

done:
  BIO_free(out);
  BN_free(bn);
  X509_NAME_free(subject);
  X509_free(x);
  X509_free(issuer);
  EVP_PKEY_free(pub);
  EVP_PKEY_free(issuer_key);
  free(pub_pem);
  free(issuer_key_pem);
  free(issuer_pem);
  ERR_clear_error();
  return result;
}

napi_status vap_x509_init(napi_env env, napi_value exports) {
  napi_value fn;
  napi_status st = napi_create_function(env, "signCertificate", NAPI_AUTO_LENGTH, sign_certificate, NULL, &fn);
  if (st != napi_ok) return st;
  return napi_set_named_property(env, exports, "signCertificate", fn);
}
