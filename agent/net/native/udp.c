/*
 * vap_udp: a UDP socket driven from Node's own event loop, for the paths
 * where Node's dgram costs more per datagram than the work itself (TFTP
 * bulk transfers). One uv_poll_t watches the descriptor; when it is
 * readable, recvmmsg drains it into a preallocated ring and the whole batch
 * reaches JS in ONE call (the datagrams packed into one fresh ArrayBuffer,
 * or, with options.reuse, left in place in the ring, which is then an
 * ArrayBuffer itself; their lengths and ports in a shared Int32Array).
 * Sends are handed over as a list and leave with sendmmsg; what the kernel
 * will not take now (EAGAIN) is copied into a bounded queue flushed when
 * the socket turns writable.
 *
 * JS surface (agent/net/udp-native.ts wraps it):
 *   open(address, port, options, onBatch) -> handle
 *     handle.address, handle.port: where it is bound
 *     handle.meta: Int32Array [length0, port0, length1, port1, ...]
 *     onBatch(count, ArrayBuffer, from: string | string[], answered: the first datagram fired the armed reply)
 *     with options.reuse the ArrayBuffer is the ring, datagram i at i * maxDatagram, valid until onBatch returns
 *   send(handle, staged: Uint8Array, spans: Int32Array, bodies: (Uint8Array|undefined)[], count, address, port)
 *     datagram i is staged[spans[2i] .. +spans[2i+1]] then bodies[i], gathered by the kernel
 *   close(handle)
 *   stats(handle) -> [sent later (EAGAIN), sends dropped, receives truncated]
 *   unref(handle): the socket no longer keeps the event loop alive
 *   arm(handle, trigger: Uint8Array, staged, spans, bodies, count, address, port): a reply that leaves when
 *     the trigger arrives from address:port as a batch's first datagram, before JS runs
 *   disarm(handle)
 * Errors are thrown with code = the errno's name ("EADDRINUSE").
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <node_api.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

/* sendmmsg takes at most this many per call (a window of 64 blocks is one call). */
#define SEND_CHUNK 64
/* Datagrams the kernel refused for now (EAGAIN) wait in a queue up to this many bytes; beyond it they are lost, as on a full link. */
#define MAX_DEFERRED_BYTES (4u << 20)
/* Readable events drain at most this many batches before letting the loop run other work. */
#define BATCHES_PER_WAKEUP 8
/* An armed reply's trigger is a short datagram (a TFTP ACK is 4 bytes). */
#define ARMED_TRIGGER_MAX 16

typedef struct deferred {
  struct deferred *next;
  struct sockaddr_storage to;
  socklen_t to_len;
  size_t len;
  uint8_t data[];
} deferred_t;

typedef struct {
  napi_env env;
  int fd;
  int family;
  uv_poll_t poll;
  int poll_events;
  bool closed;
  /* The poll handle is closed and the JS object finalized: u is freed by whichever comes second. */
  bool poll_closed, finalized, torn_down;
  napi_ref self;    /* strong while open: the poll keeps the handle alive */
  napi_ref on_batch;
  napi_ref meta_ref;
  /* With options.reuse, the ring is this ArrayBuffer's memory (V8 frees it), delivered as it is. */
  napi_ref ring_ref;
  int32_t *meta;
  napi_async_context async;
  unsigned batch;
  size_t slot;
  uint8_t *ring;
  struct mmsghdr *msgs;
  struct iovec *iov;
  struct sockaddr_storage *from;
  /* The last source address and its JS string: a transfer's datagrams all come from one peer. */
  struct sockaddr_storage last_from;
  napi_ref last_from_text;
  deferred_t *head, *tail;
  size_t deferred_bytes;
  /* A reply armed to leave the moment its trigger arrives from `reply_to` (see js_arm). */
  bool armed;
  struct sockaddr_storage reply_to;
  socklen_t reply_to_len;
  uint8_t trigger[ARMED_TRIGGER_MAX];
  size_t trigger_len;
  uint8_t *reply;
  size_t reply_cap;
  size_t reply_lengths[SEND_CHUNK];
  unsigned reply_count;
  double sent_later, dropped, truncated;
} udp_t;

static void throw_errno(napi_env env, int err, const char *what) {
  bool pending = false;
  napi_is_exception_pending(env, &pending);
  if (pending) return;
  char msg[256];
  snprintf(msg, sizeof msg, "%s: %s (%s)", what, uv_err_name(-err), uv_strerror(-err));
  napi_throw_error(env, uv_err_name(-err), msg);
}

static void throw_usage(napi_env env, const char *msg) {
  bool pending = false;
  napi_is_exception_pending(env, &pending);
  if (!pending) napi_throw_error(env, "EINVAL", msg);
}

static bool get_string(napi_env env, napi_value v, char *out, size_t cap) {
  size_t len;
  if (napi_get_value_string_utf8(env, v, out, cap, &len) != napi_ok || len >= cap - 1) {
    throw_usage(env, "expected an address string");
    return false;
  }
  return true;
}

static int64_t get_option(napi_env env, napi_value options, const char *name, int64_t fallback) {
  napi_value v;
  napi_valuetype t;
  int64_t n;
  if (napi_get_named_property(env, options, name, &v) != napi_ok || napi_typeof(env, v, &t) != napi_ok || t != napi_number) return fallback;
  if (napi_get_value_int64(env, v, &n) != napi_ok) return fallback;
  return n;
}

/* "127.0.0.1" or "::1" and a port → a sockaddr of the socket's family; an IPv4 address on an IPv6 socket is IPv4-mapped. */
static bool parse_endpoint(const char *text, int port, int family, struct sockaddr_storage *out, socklen_t *len) {
  memset(out, 0, sizeof *out);
  if (port < 0 || port > 65535) return false;
  if (family == AF_INET) {
    struct sockaddr_in *a = (struct sockaddr_in *)out;
    a->sin_family = AF_INET;
    a->sin_port = htons((uint16_t)port);
    *len = sizeof *a;
    return inet_pton(AF_INET, text, &a->sin_addr) == 1;
  }
  struct sockaddr_in6 *a = (struct sockaddr_in6 *)out;
  a->sin6_family = AF_INET6;
  a->sin6_port = htons((uint16_t)port);
  *len = sizeof *a;
  if (inet_pton(AF_INET6, text, &a->sin6_addr) == 1) return true;
  struct in_addr v4;
  if (inet_pton(AF_INET, text, &v4) != 1) return false;
  a->sin6_addr.s6_addr[10] = 0xff;
  a->sin6_addr.s6_addr[11] = 0xff;
  memcpy(&a->sin6_addr.s6_addr[12], &v4, 4);
  return true;
}

static int port_of(const struct sockaddr_storage *s) {
  return ntohs(s->ss_family == AF_INET ? ((const struct sockaddr_in *)s)->sin_port : ((const struct sockaddr_in6 *)s)->sin6_port);
}

static bool same_host(const struct sockaddr_storage *a, const struct sockaddr_storage *b) {
  if (a->ss_family != b->ss_family) return false;
  if (a->ss_family == AF_INET) return ((const struct sockaddr_in *)a)->sin_addr.s_addr == ((const struct sockaddr_in *)b)->sin_addr.s_addr;
  return memcmp(&((const struct sockaddr_in6 *)a)->sin6_addr, &((const struct sockaddr_in6 *)b)->sin6_addr, 16) == 0;
}

static napi_value host_text(napi_env env, const struct sockaddr_storage *s) {
  char text[INET6_ADDRSTRLEN];
  const void *addr = s->ss_family == AF_INET ? (const void *)&((const struct sockaddr_in *)s)->sin_addr : (const void *)&((const struct sockaddr_in6 *)s)->sin6_addr;
  inet_ntop(s->ss_family, addr, text, sizeof text);
  napi_value v;
  napi_create_string_utf8(env, text, NAPI_AUTO_LENGTH, &v);
  return v;
}

/* The source address as a JS string, made once per peer rather than once per datagram. */
static napi_value from_text(udp_t *u, const struct sockaddr_storage *s) {
  napi_value v;
  if (u->last_from_text && same_host(s, &u->last_from)) {
    napi_get_reference_value(u->env, u->last_from_text, &v);
    return v;
  }
  v = host_text(u->env, s);
  if (u->last_from_text) napi_delete_reference(u->env, u->last_from_text);
  napi_create_reference(u->env, v, 1, &u->last_from_text);
  u->last_from = *s;
  return v;
}

static void on_poll(uv_poll_t *poll, int status, int events);

static void watch(udp_t *u) {
  int events = UV_READABLE | (u->head ? UV_WRITABLE : 0);
  if (events == u->poll_events) return;
  u->poll_events = events;
  uv_poll_start(&u->poll, events, on_poll);
}

/* Hand a batch to JS inside a callback scope, so promises and queued sends run when it returns. */
static void deliver(udp_t *u, unsigned n, bool answered) {
  napi_env env = u->env;
  napi_handle_scope scope;
  napi_open_handle_scope(env, &scope);
  unsigned count = 0;
  uint8_t *packed = NULL;
  napi_value buffer, from = NULL, list = NULL;
  if (u->ring_ref) napi_get_reference_value(env, u->ring_ref, &buffer);
  else {
    size_t total = 0;
    for (unsigned i = 0; i < n; i++)
      if (!(u->msgs[i].msg_hdr.msg_flags & MSG_TRUNC)) total += u->msgs[i].msg_len;
    napi_create_arraybuffer(env, total, (void **)&packed, &buffer);
  }
  size_t offset = 0;
  for (unsigned i = 0; i < n; i++) {
    if (u->msgs[i].msg_hdr.msg_flags & MSG_TRUNC) {
      u->truncated++;
      continue;
    }
    size_t len = u->msgs[i].msg_len;
    const uint8_t *slot = u->ring + (size_t)i * u->slot;
    if (packed) memcpy(packed + offset, slot, len);
    /* In place, datagram k of the batch lies in slot k: one after a truncated one moves down. */
    else if (count != i) memmove(u->ring + (size_t)count * u->slot, slot, len);
    offset += len;
    u->meta[2 * count] = (int32_t)len;
    u->meta[2 * count + 1] = port_of(&u->from[i]);
    napi_value text = from_text(u, &u->from[i]);
    if (!from) from = text;
    else if (!list) {
      bool same = false;
      napi_strict_equals(env, from, text, &same);
      if (!same) {
        napi_create_array_with_length(env, n, &list);
        for (unsigned j = 0; j < count; j++) napi_set_element(env, list, j, from);
      }
    }
    if (list) napi_set_element(env, list, count, text);
    count++;
  }
  if (count > 0) {
    napi_value argv[4], fn, recv, result;
    napi_create_uint32(env, count, &argv[0]);
    argv[1] = buffer;
    argv[2] = list ? list : from;
    napi_get_boolean(env, answered, &argv[3]);
    napi_get_reference_value(env, u->on_batch, &fn);
    napi_get_reference_value(env, u->self, &recv);
    bool thrown = false;
    if (napi_make_callback(env, u->async, recv, fn, 4, argv, &result) != napi_ok && napi_is_exception_pending(env, &thrown) == napi_ok && thrown) {
      /* The handler threw: an uncaught exception, as from any other event. */
      napi_value err;
      napi_get_and_clear_last_exception(env, &err);
      napi_fatal_exception(env, err);
    }
  }
  napi_close_handle_scope(env, scope);
}

static void send_datagrams(udp_t *u, struct iovec (*iov)[2], unsigned n, const struct sockaddr_storage *to, socklen_t to_len);

/*
 * The first datagram of a batch just received is the armed trigger, from
 * the armed peer: the reply leaves now, before any JS runs, and the batch
 * reaches JS saying so. Only the first: datagrams before the trigger could
 * have changed what JS wants to answer.
 */
static bool fire_armed(udp_t *u) {
  if (!u->armed || (u->msgs[0].msg_hdr.msg_flags & MSG_TRUNC) || u->msgs[0].msg_len != u->trigger_len) return false;
  if (memcmp(u->ring, u->trigger, u->trigger_len) != 0) return false;
  if (!same_host(&u->from[0], &u->reply_to) || port_of(&u->from[0]) != port_of(&u->reply_to)) return false;
  u->armed = false;
  struct iovec iov[SEND_CHUNK][2];
  size_t at = 0;
  for (unsigned i = 0; i < u->reply_count; i++) {
    iov[i][0].iov_base = u->reply + at;
    iov[i][0].iov_len = u->reply_lengths[i];
    iov[i][1].iov_base = NULL;
    iov[i][1].iov_len = 0;
    at += u->reply_lengths[i];
  }
  /* What the kernel refused now waits for writable: on_poll watches for it once the batch is delivered. */
  send_datagrams(u, iov, u->reply_count, &u->reply_to, u->reply_to_len);
  return true;
}

static void receive(udp_t *u) {
  for (int round = 0; round < BATCHES_PER_WAKEUP && !u->closed; round++) {
    for (unsigned i = 0; i < u->batch; i++) {
      u->msgs[i].msg_hdr.msg_namelen = sizeof u->from[i];
      u->msgs[i].msg_hdr.msg_flags = 0;
    }
    int n = recvmmsg(u->fd, u->msgs, u->batch, MSG_DONTWAIT, NULL);
    if (n < 0) {
      if (errno == EINTR) continue;
      return; /* EAGAIN, or an error queued by ICMP: nothing to read */
    }
    if (n == 0) return;
    deliver(u, (unsigned)n, fire_armed(u));
    if ((unsigned)n < u->batch) return;
  }
}

static void defer(udp_t *u, const struct iovec *parts, size_t count, const struct sockaddr_storage *to, socklen_t to_len) {
  size_t len = 0;
  for (size_t i = 0; i < count; i++) len += parts[i].iov_len;
  if (u->deferred_bytes + len > MAX_DEFERRED_BYTES) {
    u->dropped++;
    return;
  }
  deferred_t *d = malloc(sizeof *d + len);
  if (!d) {
    u->dropped++;
    return;
  }
  d->next = NULL;
  d->to = *to;
  d->to_len = to_len;
  d->len = len;
  for (size_t i = 0, at = 0; i < count; at += parts[i].iov_len, i++) memcpy(d->data + at, parts[i].iov_base, parts[i].iov_len);
  if (u->tail) u->tail->next = d;
  else u->head = d;
  u->tail = d;
  u->deferred_bytes += len;
  u->sent_later++;
}

/* Send what waited for the socket to turn writable, oldest first, until the kernel refuses again. */
static void flush_deferred(udp_t *u) {
  while (u->head) {
    deferred_t *d = u->head;
    ssize_t r = sendto(u->fd, d->data, d->len, MSG_DONTWAIT, (struct sockaddr *)&d->to, d->to_len);
    if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS)) return;
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) u->dropped++;
    u->head = d->next;
    if (!u->head) u->tail = NULL;
    u->deferred_bytes -= d->len;
    free(d);
  }
}

static void on_poll(uv_poll_t *poll, int status, int events) {
  udp_t *u = poll->data;
  if (u->closed) return;
  if (events & UV_WRITABLE) flush_deferred(u);
  if (events & UV_READABLE || status < 0) receive(u);
  if (!u->closed) watch(u);
}

static void free_ring(udp_t *u) {
  if (!u->ring_ref) free(u->ring);
  free(u->msgs);
  free(u->iov);
  free(u->from);
  u->ring = NULL;
  u->msgs = NULL;
  u->iov = NULL;
  u->from = NULL;
  while (u->head) {
    deferred_t *d = u->head;
    u->head = d->next;
    free(d);
  }
  u->tail = NULL;
  u->deferred_bytes = 0;
  free(u->reply);
  u->reply = NULL;
  u->reply_cap = 0;
  u->armed = false;
}

static void on_closed(uv_handle_t *h) {
  udp_t *u = h->data;
  if (u->fd >= 0) close(u->fd);
  u->fd = -1;
  free_ring(u);
  u->poll_closed = true;
  if (u->finalized) {
    free(u);
    return;
  }
  /* Let the JS object be collected; its finalizer frees u. */
  if (u->self && !u->torn_down) {
    napi_delete_reference(u->env, u->self);
    u->self = NULL;
  }
}

static void finalize(napi_env env, void *data, void *hint) {
  udp_t *u = data;
  if (u->on_batch) napi_delete_reference(env, u->on_batch);
  if (u->meta_ref) napi_delete_reference(env, u->meta_ref);
  if (u->ring_ref) napi_delete_reference(env, u->ring_ref);
  if (u->last_from_text) napi_delete_reference(env, u->last_from_text);
  u->finalized = true;
  if (u->poll_closed) free(u);
}

/* The environment is going away (a worker ending) with the socket open: no more JS; close the descriptor and the poll. */
static void on_env_teardown(void *data) {
  udp_t *u = data;
  if (u->closed) return;
  u->closed = true;
  u->torn_down = true;
  uv_poll_stop(&u->poll);
  close(u->fd);
  u->fd = -1;
  uv_close((uv_handle_t *)&u->poll, on_closed);
}

static void shut(udp_t *u) {
  if (u->closed) return;
  flush_deferred(u);
  u->closed = true;
  napi_remove_env_cleanup_hook(u->env, on_env_teardown, u);
  napi_async_destroy(u->env, u->async);
  uv_poll_stop(&u->poll);
  uv_close((uv_handle_t *)&u->poll, on_closed);
}

/* A call's arguments (up to n) and the socket its first one names; NULL (and a JS error) when it names none. */
static udp_t *socket_call(napi_env env, napi_callback_info info, napi_value *argv, size_t n) {
  size_t argc = n;
  void *u = NULL;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < n || napi_unwrap(env, argv[0], &u) != napi_ok || !u) {
    throw_usage(env, "expected a vap_udp handle and its arguments");
    return NULL;
  }
  return u;
}

/* The ring in malloc'd memory, or with `reuse` in an ArrayBuffer JS reads in place. */
static bool alloc_ring(udp_t *u, bool reuse) {
  if (reuse) {
    napi_value ring;
    void *data = NULL;
    if (napi_create_arraybuffer(u->env, (size_t)u->batch * u->slot, &data, &ring) == napi_ok && napi_create_reference(u->env, ring, 1, &u->ring_ref) == napi_ok) u->ring = data;
  } else {
    u->ring = malloc((size_t)u->batch * u->slot);
  }
  u->msgs = calloc(u->batch, sizeof *u->msgs);
  u->iov = calloc(u->batch, sizeof *u->iov);
  u->from = calloc(u->batch, sizeof *u->from);
  if (!u->ring || !u->msgs || !u->iov || !u->from) return false;
  for (unsigned i = 0; i < u->batch; i++) {
    u->iov[i].iov_base = u->ring + (size_t)i * u->slot;
    u->iov[i].iov_len = u->slot;
    u->msgs[i].msg_hdr.msg_iov = &u->iov[i];
    u->msgs[i].msg_hdr.msg_iovlen = 1;
    u->msgs[i].msg_hdr.msg_name = &u->from[i];
  }
  return true;
}

static void set_buffer(int fd, int option, int force_option, int64_t bytes) {
  if (bytes <= 0) return;
  int n = bytes > INT32_MAX / 2 ? INT32_MAX / 2 : (int)bytes;
  /* The privileged option passes net.core.[rw]mem_max; without privileges the kernel caps the plain one there. */
  if (setsockopt(fd, SOL_SOCKET, force_option, &n, sizeof n) != 0) setsockopt(fd, SOL_SOCKET, option, &n, sizeof n);
}

static napi_value js_open(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4], this_arg;
  napi_get_cb_info(env, info, &argc, argv, &this_arg, NULL);
  char address[INET6_ADDRSTRLEN + 1];
  int32_t port;
  if (argc < 4 || !get_string(env, argv[0], address, sizeof address)) return NULL;
  if (napi_get_value_int32(env, argv[1], &port) != napi_ok) {
    throw_usage(env, "port must be a number");
    return NULL;
  }
  int family = strchr(address, ':') ? AF_INET6 : AF_INET;
  struct sockaddr_storage local;
  socklen_t local_len;
  char what[INET6_ADDRSTRLEN + 32];
  snprintf(what, sizeof what, family == AF_INET6 ? "bind [%s]:%d" : "bind %s:%d", address, port);
  if (!parse_endpoint(address, port, family, &local, &local_len)) {
    char msg[sizeof what + 64];
    snprintf(msg, sizeof msg, "%s: not an IP address and port", what);
    throw_usage(env, msg);
    return NULL;
  }
  int fd = socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    throw_errno(env, errno, "socket");
    return NULL;
  }
  set_buffer(fd, SO_RCVBUF, SO_RCVBUFFORCE, get_option(env, argv[2], "receiveBufferBytes", 0));
  set_buffer(fd, SO_SNDBUF, SO_SNDBUFFORCE, get_option(env, argv[2], "sendBufferBytes", 0));
  if (get_option(env, argv[2], "broadcast", 0)) {
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_BROADCAST, &one, sizeof one);
  }
  if (bind(fd, (struct sockaddr *)&local, local_len) != 0 || getsockname(fd, (struct sockaddr *)&local, &local_len) != 0) {
    int err = errno;
    close(fd);
    throw_errno(env, err, what);
    return NULL;
  }
  udp_t *u = calloc(1, sizeof *u);
  if (!u) {
    close(fd);
    throw_errno(env, ENOMEM, "socket");
    return NULL;
  }
  u->env = env;
  u->fd = fd;
  u->family = family;
  u->slot = (size_t)get_option(env, argv[2], "maxDatagram", 65536);
  u->batch = (unsigned)get_option(env, argv[2], "batch", 32);
  if (u->slot < 1 || u->slot > 65536 || u->batch < 1 || u->batch > 1024) {
    close(fd);
    free(u);
    throw_usage(env, "maxDatagram must be 1 to 65536 and batch 1 to 1024");
    return NULL;
  }
  if (!alloc_ring(u, get_option(env, argv[2], "reuse", 0) != 0)) {
    close(fd);
    free_ring(u);
    if (u->ring_ref) napi_delete_reference(env, u->ring_ref);
    free(u);
    throw_errno(env, ENOMEM, "receive ring");
    return NULL;
  }
  uv_loop_t *loop;
  napi_get_uv_event_loop(env, &loop);
  uv_poll_init(loop, &u->poll, fd);
  u->poll.data = u;

  napi_value handle, meta_buffer, meta, name;
  void *meta_data;
  napi_create_object(env, &handle);
  napi_create_arraybuffer(env, (size_t)u->batch * 2 * sizeof(int32_t), &meta_data, &meta_buffer);
  napi_create_typedarray(env, napi_int32_array, (size_t)u->batch * 2, meta_buffer, 0, &meta);
  u->meta = meta_data;
  napi_create_reference(env, meta, 1, &u->meta_ref);
  napi_create_reference(env, argv[3], 1, &u->on_batch);
  napi_set_named_property(env, handle, "meta", meta);
  napi_set_named_property(env, handle, "address", host_text(env, &local));
  napi_value bound_port;
  napi_create_int32(env, port_of(&local), &bound_port);
  napi_set_named_property(env, handle, "port", bound_port);
  napi_create_string_utf8(env, "vap_udp", NAPI_AUTO_LENGTH, &name);
  napi_async_init(env, handle, name, &u->async);
  napi_wrap(env, handle, u, finalize, NULL, NULL);
  napi_create_reference(env, handle, 1, &u->self);
  napi_add_env_cleanup_hook(env, on_env_teardown, u);
  watch(u);
  return handle;
}

/* A typed array of `want`'s type as a pointer and byte length. */
static bool typed_bytes(napi_env env, napi_value value, napi_typedarray_type want, struct iovec *out) {
  napi_typedarray_type type;
  void *data = NULL;
  size_t len = 0;
  if (napi_get_typedarray_info(env, value, &type, &len, &data, NULL, NULL) != napi_ok || type != want) return false;
  out->iov_base = data ? data : (void *)"";
  out->iov_len = want == napi_int32_array ? len * sizeof(int32_t) : len;
  return true;
}

/* Element i of a JS array: a Uint8Array's bytes, or none for undefined. */
static bool element_bytes(napi_env env, napi_value list, uint32_t i, struct iovec *out) {
  napi_value item;
  napi_valuetype t;
  if (napi_get_element(env, list, i, &item) != napi_ok || napi_typeof(env, item, &t) != napi_ok) return false;
  if (t == napi_undefined) {
    out->iov_base = NULL;
    out->iov_len = 0;
    return true;
  }
  return typed_bytes(env, item, napi_uint8_array, out);
}

/*
 * Datagrams i of `iov` (a head and a body each, the body possibly empty)
 * to one peer, by sendmmsg. One datagram per message, not a UDP GSO send
 * of the whole run: GSO lands a TFTP window on the receiver at once, and
 * a receiver that takes block by block then works alone while the sender
 * waits, where separate datagrams let it start on the first while the rest
 * are sent (measured against atftpd and the atftp client: 143 MB/s with
 * GSO, 183 without).
 */
static void send_datagrams(udp_t *u, struct iovec (*iov)[2], unsigned n, const struct sockaddr_storage *to, socklen_t to_len) {
  struct mmsghdr msgs[SEND_CHUNK];
  for (unsigned i = 0; i < n; i++) {
    memset(&msgs[i], 0, sizeof msgs[i]);
    msgs[i].msg_hdr.msg_iov = iov[i];
    msgs[i].msg_hdr.msg_iovlen = iov[i][1].iov_len ? 2 : 1;
    msgs[i].msg_hdr.msg_name = (void *)to;
    msgs[i].msg_hdr.msg_namelen = to_len;
  }
  unsigned sent = 0;
  /* Order holds: while older datagrams wait for writable, newer ones queue behind them. */
  while (sent < n && !u->head) {
    int r = sendmmsg(u->fd, msgs + sent, n - sent, MSG_DONTWAIT);
    if (r > 0) sent += (unsigned)r;
    else if (errno == EINTR) continue;
    else if (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS) break;
    else {
      /* Unreachable, refused, too big: this one datagram is lost, the rest still go. */
      u->dropped++;
      sent++;
    }
  }
  for (unsigned i = sent; i < n; i++) defer(u, iov[i], msgs[i].msg_hdr.msg_iovlen, to, to_len);
}

/* Datagrams as JS hands them over (send, arm): argv[k..k+5] = staged, spans, bodies, count, address, port. */
typedef struct {
  struct iovec staged;
  const int32_t *spans;
  napi_value bodies;
  uint32_t count;
  struct sockaddr_storage to;
  socklen_t to_len;
} datagrams_t;

static bool get_datagrams(napi_env env, udp_t *u, napi_value *argv, datagrams_t *d) {
  int32_t port;
  char address[INET6_ADDRSTRLEN + 1];
  struct iovec spans_bytes;
  if (napi_get_value_uint32(env, argv[3], &d->count) != napi_ok || napi_get_value_int32(env, argv[5], &port) != napi_ok ||
      !get_string(env, argv[4], address, sizeof address))
    return false;
  if (!typed_bytes(env, argv[0], napi_uint8_array, &d->staged) || !typed_bytes(env, argv[1], napi_int32_array, &spans_bytes) ||
      spans_bytes.iov_len < (size_t)d->count * 2 * sizeof(int32_t)) {
    throw_usage(env, "send takes a staging Uint8Array and its spans");
    return false;
  }
  d->spans = spans_bytes.iov_base;
  d->bodies = argv[2];
  if (!parse_endpoint(address, port, u->family, &d->to, &d->to_len)) {
    char msg[INET6_ADDRSTRLEN + 96];
    snprintf(msg, sizeof msg, "cannot send to %s port %d: not an IPv%d address and port", address, port, u->family == AF_INET ? 4 : 6);
    throw_usage(env, msg);
    return false;
  }
  return true;
}

/* Datagrams first … first+n−1 of `d` as a head and a body each. */
static bool datagram_parts(napi_env env, const datagrams_t *d, uint32_t first, unsigned n, struct iovec (*iov)[2]) {
  for (unsigned i = 0; i < n; i++) {
    int32_t at = d->spans[2 * (first + i)], len = d->spans[2 * (first + i) + 1];
    if (at < 0 || len < 0 || (size_t)at + (size_t)len > d->staged.iov_len || !element_bytes(env, d->bodies, first + i, &iov[i][1])) {
      throw_usage(env, "send: a span outside the staging area, or a body that is not a Uint8Array");
      return false;
    }
    iov[i][0].iov_base = (uint8_t *)d->staged.iov_base + at;
    iov[i][0].iov_len = (size_t)len;
  }
  return true;
}

static napi_value js_send(napi_env env, napi_callback_info info) {
  napi_value argv[7];
  udp_t *u = socket_call(env, info, argv, 7);
  datagrams_t d;
  if (!u || u->closed || !get_datagrams(env, u, argv + 1, &d)) return NULL;
  struct iovec iov[SEND_CHUNK][2];
  for (uint32_t done = 0; done < d.count;) {
    unsigned n = d.count - done < SEND_CHUNK ? d.count - done : SEND_CHUNK;
    if (!datagram_parts(env, &d, done, n, iov)) return NULL;
    send_datagrams(u, iov, n, &d.to, d.to_len);
    done += n;
  }
  watch(u);
  return NULL;
}

/*
 * arm(handle, trigger, staged, spans, bodies, count, address, port): the
 * datagrams (at most SEND_CHUNK) are copied and leave to address:port the
 * moment `trigger`, byte for byte, arrives from there as the first datagram
 * of a batch — before JS hears of it. A TFTP sender arms its next window on
 * the ACK that will release it, so the window no longer waits for a turn of
 * the event loop. Arming again replaces; disarm(handle) forgets.
 */
static napi_value js_arm(napi_env env, napi_callback_info info) {
  napi_value argv[8];
  udp_t *u = socket_call(env, info, argv, 8);
  datagrams_t d;
  struct iovec trigger;
  if (!u || u->closed || !get_datagrams(env, u, argv + 2, &d)) return NULL;
  if (!typed_bytes(env, argv[1], napi_uint8_array, &trigger) || trigger.iov_len == 0 || trigger.iov_len > ARMED_TRIGGER_MAX || d.count == 0 || d.count > SEND_CHUNK) {
    throw_usage(env, "arm takes a trigger of 1 to 16 bytes and 1 to 64 datagrams");
    return NULL;
  }
  struct iovec iov[SEND_CHUNK][2];
  if (!datagram_parts(env, &d, 0, d.count, iov)) return NULL;
  size_t total = 0;
  for (unsigned i = 0; i < d.count; i++) total += iov[i][0].iov_len + iov[i][1].iov_len;
  if (total > u->reply_cap) {
    uint8_t *grown = realloc(u->reply, total);
    if (!grown) {
      throw_errno(env, ENOMEM, "arm");
      return NULL;
    }
    u->reply = grown;
    u->reply_cap = total;
  }
  size_t at = 0;
  for (unsigned i = 0; i < d.count; i++) {
    memcpy(u->reply + at, iov[i][0].iov_base, iov[i][0].iov_len);
    if (iov[i][1].iov_len) memcpy(u->reply + at + iov[i][0].iov_len, iov[i][1].iov_base, iov[i][1].iov_len);
    u->reply_lengths[i] = iov[i][0].iov_len + iov[i][1].iov_len;
    at += u->reply_lengths[i];
  }
  u->reply_count = d.count;
  memcpy(u->trigger, trigger.iov_base, trigger.iov_len);
  u->trigger_len = trigger.iov_len;
  u->reply_to = d.to;
  u->reply_to_len = d.to_len;
  u->armed = true;
  return NULL;
}

static napi_value js_disarm(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  udp_t *u = socket_call(env, info, argv, 1);
  if (u) u->armed = false;
  return NULL;
}

static napi_value js_close(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  udp_t *u = socket_call(env, info, argv, 1);
  if (u) shut(u);
  return NULL;
}

/* The socket no longer keeps the event loop alive (a finished transfer's dally must not hold up a CLI's exit). */
static napi_value js_unref(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  udp_t *u = socket_call(env, info, argv, 1);
  if (u && !u->closed) uv_unref((uv_handle_t *)&u->poll);
  return NULL;
}

static napi_value js_stats(napi_env env, napi_callback_info info) {
  napi_value argv[1], out, v;
  udp_t *u = socket_call(env, info, argv, 1);
  if (!u) return NULL;
  napi_create_array_with_length(env, 3, &out);
  double values[3] = {u->sent_later, u->dropped, u->truncated};
  for (uint32_t i = 0; i < 3; i++) {
    napi_create_double(env, values[i], &v);
    napi_set_element(env, out, i, v);
  }
  return out;
}

NAPI_MODULE_INIT() {
  napi_property_descriptor props[] = {
      {"open", NULL, js_open, NULL, NULL, NULL, napi_default, NULL},
      {"send", NULL, js_send, NULL, NULL, NULL, napi_default, NULL},
      {"close", NULL, js_close, NULL, NULL, NULL, napi_default, NULL},
      {"stats", NULL, js_stats, NULL, NULL, NULL, napi_default, NULL},
      {"unref", NULL, js_unref, NULL, NULL, NULL, napi_default, NULL},
      {"arm", NULL, js_arm, NULL, NULL, NULL, napi_default, NULL},
      {"disarm", NULL, js_disarm, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  return exports;
}
