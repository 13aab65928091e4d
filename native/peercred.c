/*
 * The Unix-socket calls Node does not offer, or offers only with its whole stream stack:
 *
 * peerCredentials(fd) -> [pid, uid, gid] | null: who is at the other end of a connected Unix
 * socket, as the kernel recorded it when the peer called connect(). Linux: SO_PEERCRED.
 * macOS and the BSDs: getpeereid() for uid/gid, and LOCAL_PEERPID for the pid where it exists.
 * Elsewhere, or when the call fails, null.
 *
 * connectUnix(path, timeoutMs) -> fd | -errno: a blocking stream socket connected to `path`
 * (close-on-exec). A connect waits only while the listener's backlog is full, and a write only
 * while the peer does not read: both give up after timeoutMs (SO_SNDTIMEO) with -EAGAIN.
 * The short CLI commands use it with fs.writeSync/fs.read instead of node:net, whose modules
 * alone cost them more than the rest of their work (src/client/fd-socket.ts).
 *
 * watchReadable(fd, callback) -> watch: calls callback(status) on the event loop each time the
 * fd is readable (or, status < 0, failed): libuv's poll handle, which node:net's sockets use
 * underneath their streams. It keeps the loop alive until unwatch(watch), which must come before
 * the fd is closed.
 *
 * isatty(fd) -> boolean: isatty(3), without loading node:tty (which loads node:net).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <node_api.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/un.h>
#include <unistd.h>
#include <uv.h>

static napi_value triple(napi_env env, double pid, double uid, double gid) {
  napi_value result, value;
  if (napi_create_array_with_length(env, 3, &result) != napi_ok) return NULL;
  napi_create_double(env, pid, &value);
  napi_set_element(env, result, 0, value);
  napi_create_double(env, uid, &value);
  napi_set_element(env, result, 1, value);
  napi_create_double(env, gid, &value);
  napi_set_element(env, result, 2, value);
  return result;
}

static napi_value peer_credentials(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1], null_value;
  napi_get_null(env, &null_value);
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 1) return null_value;
  int32_t fd;
  if (napi_get_value_int32(env, argv[0], &fd) != napi_ok || fd < 0) return null_value;
#if defined(__linux__)
  struct ucred cred;
  socklen_t length = sizeof(cred);
  if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &length) != 0 || length != sizeof(cred)) return null_value;
  return triple(env, cred.pid, cred.uid, cred.gid);
#elif defined(__APPLE__) || defined(__FreeBSD__) || defined(__OpenBSD__) || defined(__NetBSD__)
  uid_t uid;
  gid_t gid;
  if (getpeereid(fd, &uid, &gid) != 0) return null_value;
  double pid = -1;
#if defined(LOCAL_PEERPID)
  pid_t peer_pid;
  socklen_t length = sizeof(peer_pid);
  if (getsockopt(fd, SOL_LOCAL, LOCAL_PEERPID, &peer_pid, &length) == 0) pid = peer_pid;
#endif
  return triple(env, pid, uid, gid);
#else
  (void)fd;
  return null_value;
#endif
}

static napi_value int_value(napi_env env, int32_t number) {
  napi_value value;
  napi_create_int32(env, number, &value);
  return value;
}

static napi_value connect_unix(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  struct sockaddr_un address;
  memset(&address, 0, sizeof(address));
  address.sun_family = AF_UNIX;
  size_t length = 0;
  int32_t timeout_ms = 0;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 2) return int_value(env, -EINVAL);
  // A path that does not fit sun_path (with its terminating NUL) is refused, never cut short.
  if (napi_get_value_string_utf8(env, argv[0], NULL, 0, &length) != napi_ok || length == 0 || length >= sizeof(address.sun_path) ||
      napi_get_value_string_utf8(env, argv[0], address.sun_path, sizeof(address.sun_path), &length) != napi_ok)
    return int_value(env, -ENAMETOOLONG);
  if (napi_get_value_int32(env, argv[1], &timeout_ms) != napi_ok || timeout_ms <= 0) return int_value(env, -EINVAL);
#if defined(SOCK_CLOEXEC)
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
#else
  int fd = socket(AF_UNIX, SOCK_STREAM, 0); // macOS: no SOCK_CLOEXEC, so close-on-exec right after
  if (fd >= 0) fcntl(fd, F_SETFD, FD_CLOEXEC);
#endif
  if (fd < 0) return int_value(env, -errno);
  struct timeval timeout = {timeout_ms / 1000, (timeout_ms % 1000) * 1000};
  if (setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof(timeout)) != 0 ||
      connect(fd, (struct sockaddr *)&address, sizeof(address)) != 0) {
    int error = errno;
    close(fd);
    return int_value(env, -error);
  }
  return int_value(env, fd);
}

typedef struct {
  uv_poll_t poll;
  napi_env env;
  napi_ref callback;
  napi_async_context context;
  int stopped;
} readable_watch;

static void on_watch_closed(uv_handle_t *handle) {
  free(handle->data);
}

static void on_readable(uv_poll_t *poll, int status, int events) {
  (void)events;
  readable_watch *watch = poll->data;
  napi_env env = watch->env;
  napi_handle_scope scope;
  napi_value callback, receiver, argv[1], result;
  if (napi_open_handle_scope(env, &scope) != napi_ok) return;
  napi_get_reference_value(env, watch->callback, &callback);
  napi_get_global(env, &receiver);
  napi_create_int32(env, status, &argv[0]);
  // make_callback, not call_function: promise reactions and nextTicks run after it, as after any I/O callback.
  if (napi_make_callback(env, watch->context, receiver, callback, 1, argv, &result) == napi_pending_exception) {
    napi_value error;
    napi_get_and_clear_last_exception(env, &error);
    napi_fatal_exception(env, error);
  }
  napi_close_handle_scope(env, scope);
}

static napi_value watch_readable(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2], name, handle;
  int32_t fd;
  uv_loop_t *loop;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 2 || napi_get_value_int32(env, argv[0], &fd) != napi_ok ||
      fd < 0 || napi_get_uv_event_loop(env, &loop) != napi_ok) {
    napi_throw_type_error(env, NULL, "watchReadable(fd, callback)");
    return NULL;
  }
  readable_watch *watch = calloc(1, sizeof(readable_watch));
  if (!watch || uv_poll_init(loop, &watch->poll, fd) != 0) {
    free(watch);
    napi_throw_error(env, NULL, "cannot watch the socket");
    return NULL;
  }
  watch->env = env;
  watch->poll.data = watch;
  napi_create_reference(env, argv[1], 1, &watch->callback);
  napi_create_string_utf8(env, "hld.FdSocket", NAPI_AUTO_LENGTH, &name);
  napi_async_init(env, NULL, name, &watch->context);
  uv_poll_start(&watch->poll, UV_READABLE, on_readable);
  napi_create_external(env, watch, NULL, NULL, &handle);
  return handle;
}

static napi_value unwatch(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  readable_watch *watch;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 1 ||
      napi_get_value_external(env, argv[0], (void **)&watch) != napi_ok || watch->stopped)
    return NULL;
  watch->stopped = 1;
  uv_poll_stop(&watch->poll);
  napi_delete_reference(env, watch->callback);
  napi_async_destroy(env, watch->context);
  uv_close((uv_handle_t *)&watch->poll, on_watch_closed);
  return NULL;
}

static napi_value is_a_tty(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1], result;
  int32_t fd = -1;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) == napi_ok && argc == 1) napi_get_value_int32(env, argv[0], &fd);
  napi_get_boolean(env, fd >= 0 && isatty(fd) == 1, &result);
  return result;
}

static napi_value init(napi_env env, napi_value exports) {
  const struct {
    const char *name;
    napi_callback callback;
  } functions[] = {
      {"peerCredentials", peer_credentials},
      {"connectUnix", connect_unix},
      {"watchReadable", watch_readable},
      {"unwatch", unwatch},
      {"isatty", is_a_tty},
  };
  for (size_t i = 0; i < sizeof(functions) / sizeof(functions[0]); i++) {
    napi_value fn;
    if (napi_create_function(env, functions[i].name, NAPI_AUTO_LENGTH, functions[i].callback, NULL, &fn) != napi_ok) return NULL;
    napi_set_named_property(env, exports, functions[i].name, fn);
  }
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
