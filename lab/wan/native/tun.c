/*
 * vap_tun: a Linux TUN device (layer 3, no packet-information header) as a
 * JS object, and nothing more: `new Tun(name, onPackets)` opens it
 * non-blocking, libuv polls it, and every readable event delivers the packets
 * read until EAGAIN as one array of Buffers; `write(packet)` injects one
 * packet; `close()` stops and closes it (the kernel then deletes the device,
 * which is not persistent, wherever it was moved). What to do with a packet is
 * decided in TypeScript (lab/wan/tun-link.ts). Errors are one line naming the
 * call and the errno (its name is also the error's code).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <node_api.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <uv.h>

/* The largest IP packet; a TUN read never returns more. */
#define TUN_READ_BYTES 65536
/* Packets handed to JS per call at most, so one busy device cannot starve the loop. */
#define TUN_BATCH 64

typedef struct {
  int fd;
  uv_poll_t *poll;
  napi_env env;
  napi_ref on_packets;
  napi_async_context async;
  unsigned char buf[TUN_READ_BYTES];
} tun_t;

/* Error("WHAT: ENAME (description)") with code ENAME. */
static napi_value errno_error(napi_env env, const char *what, int err) {
  const char *name = strerrorname_np(err);
  char msg[256];
  snprintf(msg, sizeof msg, "%s: %s (%s)", what, name ? name : "errno", strerror(err));
  napi_value code, text, error;
  napi_create_string_utf8(env, name ? name : "errno", NAPI_AUTO_LENGTH, &code);
  napi_create_string_utf8(env, msg, NAPI_AUTO_LENGTH, &text);
  napi_create_error(env, code, text, &error);
  return error;
}

static void throw_errno(napi_env env, const char *what, int err) { napi_throw(env, errno_error(env, what, err)); }

static void free_poll(uv_handle_t *h) { free(h); }

/* Stop polling, close the device and drop the callback; safe to call twice. */
static void tun_shutdown(tun_t *t) {
  if (t->fd < 0) return;
  uv_poll_stop(t->poll);
  uv_close((uv_handle_t *)t->poll, free_poll);
  t->poll = NULL;
  close(t->fd);
  t->fd = -1;
  napi_delete_reference(t->env, t->on_packets);
  napi_async_destroy(t->env, t->async);
}

static void call_js(tun_t *t, napi_value error, napi_value packets) {
  napi_handle_scope scope;
  napi_open_handle_scope(t->env, &scope);
  napi_value cb, global, argv[2], result;
  napi_get_reference_value(t->env, t->on_packets, &cb);
  napi_get_global(t->env, &global);
  if (error == NULL) napi_get_null(t->env, &argv[0]);
  else argv[0] = error;
  if (packets == NULL) napi_create_array_with_length(t->env, 0, &argv[1]);
  else argv[1] = packets;
  napi_make_callback(t->env, t->async, global, cb, 2, argv, &result);
  napi_close_handle_scope(t->env, scope);
}

static void on_readable(uv_poll_t *poll, int status, int events) {
  tun_t *t = poll->data;
  napi_handle_scope scope;
  napi_open_handle_scope(t->env, &scope);
  napi_value error = NULL, packets;
  napi_create_array(t->env, &packets);
  uint32_t n = 0;
  if (status < 0) {
    error = errno_error(t->env, "poll TUN device", -status);
  } else {
    while (n < TUN_BATCH) {
      ssize_t got = read(t->fd, t->buf, sizeof t->buf);
      if (got < 0) {
        if (errno != EAGAIN && errno != EINTR) error = errno_error(t->env, "read TUN device", errno);
        if (errno != EINTR) break;
        continue;
      }
      napi_value packet;
      napi_create_buffer_copy(t->env, (size_t)got, t->buf, NULL, &packet);
      napi_set_element(t->env, packets, n++, packet);
    }
  }
  if (error != NULL) uv_poll_stop(poll);
  if (n > 0 || error != NULL) call_js(t, error, packets);
  napi_close_handle_scope(t->env, scope);
}

static void finalize(napi_env env, void *data, void *hint) {
  tun_t *t = data;
  tun_shutdown(t);
  free(t);
}

static tun_t *unwrap(napi_env env, napi_callback_info info, size_t *argc, napi_value *argv) {
  napi_value self;
  tun_t *t = NULL;
  napi_get_cb_info(env, info, argc, argv, &self, NULL);
  napi_unwrap(env, self, (void **)&t);
  return t;
}

/* new Tun(name, onPackets(error, packets)) */
static napi_value tun_new(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2], self;
  napi_get_cb_info(env, info, &argc, argv, &self, NULL);
  char name[IFNAMSIZ + 1];
  size_t len = 0;
  napi_valuetype cb_type = napi_undefined;
  if (argc == 2) napi_typeof(env, argv[1], &cb_type);
  if (argc != 2 || napi_get_value_string_utf8(env, argv[0], name, sizeof name, &len) != napi_ok || cb_type != napi_function) {
    napi_throw_type_error(env, NULL, "Tun(name, onPackets): expected a device name and a function");
    return NULL;
  }
  if (len == 0 || len >= IFNAMSIZ) {
    napi_throw_range_error(env, NULL, "Tun: a device name is 1 to 15 characters");
    return NULL;
  }
  int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) {
    throw_errno(env, "open /dev/net/tun", errno);
    return NULL;
  }
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
  memcpy(ifr.ifr_name, name, len);
  if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
    int err = errno;
    close(fd);
    char what[64];
    snprintf(what, sizeof what, "TUNSETIFF %s", name);
    throw_errno(env, what, err);
    return NULL;
  }
  tun_t *t = calloc(1, sizeof *t);
  t->poll = calloc(1, sizeof *t->poll);
  t->fd = fd;
  t->env = env;
  uv_loop_t *loop;
  napi_get_uv_event_loop(env, &loop);
  uv_poll_init(loop, t->poll, fd);
  t->poll->data = t;
  napi_create_reference(env, argv[1], 1, &t->on_packets);
  napi_value resource_name;
  napi_create_string_utf8(env, "vap_tun", NAPI_AUTO_LENGTH, &resource_name);
  napi_async_init(env, NULL, resource_name, &t->async);
  napi_wrap(env, self, t, finalize, NULL, NULL);
  uv_poll_start(t->poll, UV_READABLE, on_readable);
  return self;
}

/* write(packet): true once the kernel took it, false when its queue is full (the packet is dropped, as on a busy link). */
static napi_value tun_write(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1], result;
  tun_t *t = unwrap(env, info, &argc, argv);
  void *data;
  size_t len;
  bool is_typed = false;
  if (argc == 1) napi_is_typedarray(env, argv[0], &is_typed);
  if (t == NULL || !is_typed) {
    napi_throw_type_error(env, NULL, "Tun.write(packet): expected a Uint8Array");
    return NULL;
  }
  napi_typedarray_type type;
  napi_get_typedarray_info(env, argv[0], &type, &len, &data, NULL, NULL);
  if (t->fd < 0) {
    throw_errno(env, "write TUN device", EBADF);
    return NULL;
  }
  ssize_t put = write(t->fd, data, len);
  if (put < 0 && errno != EAGAIN) {
    throw_errno(env, "write TUN device", errno);
    return NULL;
  }
  napi_get_boolean(env, put >= 0, &result);
  return result;
}

static napi_value tun_close(napi_env env, napi_callback_info info) {
  size_t argc = 0;
  tun_t *t = unwrap(env, info, &argc, NULL);
  if (t != NULL) tun_shutdown(t);
  return NULL;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor methods[] = {
      {"write", NULL, tun_write, NULL, NULL, NULL, napi_default, NULL},
      {"close", NULL, tun_close, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_value cls;
  napi_define_class(env, "Tun", NAPI_AUTO_LENGTH, tun_new, NULL, 2, methods, &cls);
  napi_set_named_property(env, exports, "Tun", cls);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
