/*
 * peerCredentials(fd) -> [pid, uid, gid] | null: who is at the other end of a connected Unix
 * socket, as the kernel recorded it when the peer called connect(). Linux: SO_PEERCRED.
 * macOS and the BSDs: getpeereid() for uid/gid, and LOCAL_PEERPID for the pid where it exists.
 * Elsewhere, or when the call fails, null.
 */
#define _GNU_SOURCE
#include <node_api.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <unistd.h>
#if defined(__APPLE__)
#include <sys/un.h>
#endif

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

static napi_value init(napi_env env, napi_value exports) {
  napi_value fn;
  if (napi_create_function(env, "peerCredentials", NAPI_AUTO_LENGTH, peer_credentials, NULL, &fn) != napi_ok) return NULL;
  napi_set_named_property(env, exports, "peerCredentials", fn);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
