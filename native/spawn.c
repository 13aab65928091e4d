/*
 * spawnDetached(file, args, env, cwd, stdoutFd, stderrFd, onExit) -> pid: starts a program in a
 * new session (its own process group), stdin from /dev/null, stdout and stderr on the given
 * descriptors, with every signal at its default and none blocked; onExit(code, signalNumber) is
 * called once it has ended (and been reaped). Throws an Error whose message ends in the errno name
 * (e.g. ENOENT) when it cannot start, as Node's spawn does.
 *
 * Why not child_process.spawn: libuv forks, and fork copies the page tables of the whole daemon,
 * on the event loop, so each launch costs time in proportion to the daemon's memory (~60 us per
 * MiB on a small VM: 4-5 ms for a daemon, more than everything else a launch does). posix_spawn
 * (glibc: clone with CLONE_VM | CLONE_VFORK) shares the memory until exec instead.
 *
 * The exit is watched with a pidfd (Linux 5.3) polled on Node's own loop; the child is reaped by
 * pid here, and libuv reaps only the children it spawned itself, so nothing else takes it.
 * `supported` is false where any of this is missing (then the caller uses child_process).
 */
#define _GNU_SOURCE
#include <node_api.h>
#include <uv.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#if defined(__linux__) && defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 29))
#define HAVE_SPAWN_DETACHED 1
#ifndef __NR_pidfd_open
#define __NR_pidfd_open 434
#endif
#endif

#ifdef HAVE_SPAWN_DETACHED

struct watch {
  uv_poll_t poll;
  napi_env env;
  napi_ref callback;
  napi_async_context context;
  pid_t pid;
  int pidfd;
};

static void throw_errno(napi_env env, const char *file, int error) {
  char message[512];
  const char *name = uv_err_name(uv_translate_sys_error(error));
  snprintf(message, sizeof message, "spawn %s %s (%s)", file, name, strerror(error));
  napi_throw_error(env, name, message);
}

/* A JS string as a malloc'd C string (NULL on failure). */
static char *string_of(napi_env env, napi_value value) {
  size_t length;
  if (napi_get_value_string_utf8(env, value, NULL, 0, &length) != napi_ok) return NULL;
  char *text = malloc(length + 1);
  if (!text) return NULL;
  if (napi_get_value_string_utf8(env, value, text, length + 1, &length) != napi_ok) {
    free(text);
    return NULL;
  }
  return text;
}

static void free_list(char **list) {
  if (!list) return;
  for (char **item = list; *item; item++) free(*item);
  free(list);
}

/* A JS array of strings as a NULL-terminated list (`first`, if given, in front). */
static char **list_of(napi_env env, napi_value array, const char *first) {
  uint32_t length;
  if (napi_get_array_length(env, array, &length) != napi_ok) return NULL;
  size_t offset = first ? 1 : 0;
  char **list = calloc(length + offset + 1, sizeof(char *));
  if (!list) return NULL;
  if (first && !(list[0] = strdup(first))) {
    free(list);
    return NULL;
  }
  for (uint32_t i = 0; i < length; i++) {
    napi_value item;
    if (napi_get_element(env, array, i, &item) != napi_ok || !(list[i + offset] = string_of(env, item))) {
      free_list(list);
      return NULL;
    }
  }
  return list;
}

static void on_closed(uv_handle_t *handle) {
  struct watch *watch = handle->data;
  close(watch->pidfd);
  free(watch);
}

static void on_exit_readable(uv_poll_t *poll, int status, int events) {
  (void)status;
  (void)events;
  struct watch *watch = poll->data;
  int wait_status = 0;
  pid_t reaped = waitpid(watch->pid, &wait_status, WNOHANG);
  if (reaped == 0 || (reaped < 0 && errno == EINTR)) return; /* not ended yet */
  uv_poll_stop(poll);

  napi_env env = watch->env;
  napi_handle_scope scope;
  napi_open_handle_scope(env, &scope);
  napi_value callback, global, args[2];
  napi_get_reference_value(env, watch->callback, &callback);
  napi_get_global(env, &global);
  napi_get_null(env, &args[0]);
  napi_get_null(env, &args[1]);
  if (reaped > 0 && WIFEXITED(wait_status)) napi_create_int32(env, WEXITSTATUS(wait_status), &args[0]);
  if (reaped > 0 && WIFSIGNALED(wait_status)) napi_create_int32(env, WTERMSIG(wait_status), &args[1]);
  if (napi_make_callback(env, watch->context, global, callback, 2, args, NULL) == napi_pending_exception) {
    napi_value error;
    napi_get_and_clear_last_exception(env, &error);
    napi_fatal_exception(env, error);
  }
  napi_close_handle_scope(env, scope);
  napi_delete_reference(env, watch->callback);
  napi_async_destroy(env, watch->context);
  uv_close((uv_handle_t *)poll, on_closed);
}

static napi_value spawn_detached(napi_env env, napi_callback_info info) {
  size_t argc = 7;
  napi_value argv[7];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 7) {
    napi_throw_type_error(env, NULL, "spawnDetached(file, args, env, cwd, stdoutFd, stderrFd, onExit)");
    return NULL;
  }
  int32_t out_fd, err_fd;
  char *file = string_of(env, argv[0]);
  char **args = file ? list_of(env, argv[1], file) : NULL;
  char **environment = list_of(env, argv[2], NULL);
  char *cwd = string_of(env, argv[3]);
  if (!file || !args || !environment || !cwd || napi_get_value_int32(env, argv[4], &out_fd) != napi_ok ||
      napi_get_value_int32(env, argv[5], &err_fd) != napi_ok) {
    free(file);
    free_list(args);
    free_list(environment);
    free(cwd);
    napi_throw_type_error(env, NULL, "spawnDetached: bad arguments");
    return NULL;
  }

  posix_spawnattr_t attributes;
  posix_spawn_file_actions_t actions;
  sigset_t all, none;
  sigfillset(&all);
  sigemptyset(&none);
  posix_spawnattr_init(&attributes);
  /* As libuv does for a detached child: its own session, default signal dispositions (the daemon
     ignores SIGPIPE, which exec would pass on), nothing blocked. */
  posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
  posix_spawnattr_setsigdefault(&attributes, &all);
  posix_spawnattr_setsigmask(&attributes, &none);
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, out_fd, 1);
  posix_spawn_file_actions_adddup2(&actions, err_fd, 2);
  posix_spawn_file_actions_addchdir_np(&actions, cwd);

  pid_t pid;
  /* Like execvp (Node's spawn): a name without a slash is looked up on PATH. */
  int error = posix_spawnp(&pid, file, &actions, &attributes, args, environment);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attributes);
  free_list(args);
  free_list(environment);
  free(cwd);
  if (error != 0) {
    throw_errno(env, file, error);
    free(file);
    return NULL;
  }

  int pidfd = (int)syscall(__NR_pidfd_open, pid, 0);
  struct watch *watch = pidfd < 0 ? NULL : calloc(1, sizeof(struct watch));
  uv_loop_t *loop = NULL;
  napi_value name;
  int ok = watch && napi_get_uv_event_loop(env, &loop) == napi_ok && uv_poll_init(loop, &watch->poll, pidfd) == 0;
  if (ok) {
    watch->poll.data = watch;
    watch->env = env;
    watch->pid = pid;
    watch->pidfd = pidfd;
    ok = napi_create_reference(env, argv[6], 1, &watch->callback) == napi_ok &&
         napi_create_string_utf8(env, "hld:claude-exit", NAPI_AUTO_LENGTH, &name) == napi_ok &&
         napi_async_init(env, NULL, name, &watch->context) == napi_ok &&
         uv_poll_start(&watch->poll, UV_READABLE, on_exit_readable) == 0;
    if (!ok) {
      /* Not watched, so not left running either. */
      kill(-pid, SIGKILL);
      waitpid(pid, NULL, 0);
      uv_close((uv_handle_t *)&watch->poll, on_closed);
      throw_errno(env, file, EAGAIN);
      free(file);
      return NULL;
    }
  } else {
    int watch_error = pidfd < 0 ? errno : ENOMEM;
    kill(-pid, SIGKILL);
    waitpid(pid, NULL, 0);
    if (pidfd >= 0) close(pidfd);
    free(watch);
    throw_errno(env, file, watch_error);
    free(file);
    return NULL;
  }
  free(file);
  napi_value result;
  napi_create_int32(env, pid, &result);
  return result;
}

/* Whether this kernel has pidfds: a pidfd of ourselves. */
static int pidfds_work(void) {
  int fd = (int)syscall(__NR_pidfd_open, getpid(), 0);
  if (fd < 0) return 0;
  close(fd);
  return 1;
}

#endif /* HAVE_SPAWN_DETACHED */

static napi_value init(napi_env env, napi_value exports) {
  napi_value supported;
#ifdef HAVE_SPAWN_DETACHED
  napi_get_boolean(env, pidfds_work(), &supported);
  napi_value fn;
  if (napi_create_function(env, "spawnDetached", NAPI_AUTO_LENGTH, spawn_detached, NULL, &fn) != napi_ok) return NULL;
  napi_set_named_property(env, exports, "spawnDetached", fn);
#else
  napi_get_boolean(env, 0, &supported);
#endif
  napi_set_named_property(env, exports, "supported", supported);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
