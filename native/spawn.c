/*
 * spawnDetached(file, args, env, cwd, stdoutFd, stderrFd, umask, onExit) -> pid: starts a program
 * in a new session (its own process group), stdin from /dev/null, stdout and stderr on the given
 * descriptors, with every signal at its default and none blocked, and the given umask (-1: the
 * daemon's); onExit(code, signalNumber) is called once it has ended (and been reaped). Throws an
 * Error whose message ends in the errno name (e.g. ENOENT) when it cannot start, as Node's spawn
 * does.
 *
 * Why not child_process.spawn: libuv forks, and fork copies the page tables of the whole daemon,
 * on the event loop, so each launch costs time in proportion to the daemon's memory (~60 us per
 * MiB on a small VM: 4-5 ms for a daemon, more than everything else a launch does). A clone with
 * CLONE_VM | CLONE_VFORK (what glibc's posix_spawn does) shares the memory until exec instead.
 * Why not posix_spawn itself: it cannot set the child's umask, and the daemon's own (0077) is not
 * the user's; a /bin/sh in between that set it and exec'd claude cost an exec per launch (about
 * half of the spawn's time on a 2-core machine). So the child here is ours, as small as
 * posix_spawn's: the same steps in the same order, plus umask(). It runs on the daemon's memory
 * (on a stack of its own) until it execs, so it makes system calls only, with every signal
 * blocked until its handlers are back to the defaults: a handler of the daemon's must not run in it.
 * Its clone has no CLONE_FS, so its umask and cwd are its own.
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
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#if defined(__linux__) && defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 11))
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

/* What the child needs, in the daemon's memory (shared until it execs). */
struct child {
  const char *file;
  char **args;
  char **environment;
  const char *cwd;
  int out_fd;
  int err_fd;
  int umask; /* -1: keep the daemon's */
  volatile int error; /* set by the child when it cannot exec */
};

/* `fd` as `target`, without close-on-exec (dup2 of a descriptor onto itself would keep the flag). */
static int move_fd(int fd, int target) {
  if (fd != target) return dup2(fd, target) < 0 ? -1 : 0;
  int flags = fcntl(fd, F_GETFD);
  return flags < 0 ? -1 : fcntl(fd, F_SETFD, flags & ~FD_CLOEXEC);
}

static int child_main(void *arg) {
  struct child *child = arg;
  /* As libuv does for a detached child: every handler at its default (the daemon's, which live in
     this memory, and its ignored SIGPIPE, which exec would pass on), its own session. Signals stay
     blocked (the parent blocked them all) until then. */
  struct sigaction default_action;
  memset(&default_action, 0, sizeof default_action);
  default_action.sa_handler = SIG_DFL;
  for (int sig = 1; sig < _NSIG; sig++) sigaction(sig, &default_action, NULL); /* KILL, STOP and glibc's own fail: fine */
  if (setsid() < 0) goto failed;
  if (child->umask >= 0) umask((mode_t)child->umask);
  int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (null < 0 || move_fd(null, 0) < 0) goto failed;
  if (move_fd(child->out_fd, 1) < 0 || move_fd(child->err_fd, 2) < 0) goto failed;
  if (chdir(child->cwd) < 0) goto failed;
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, NULL);
  /* Like execvp (Node's spawn): a name without a slash is looked up on PATH. */
  if (strchr(child->file, '/')) execve(child->file, child->args, child->environment);
  else execvpe(child->file, child->args, child->environment);
failed:
  child->error = errno;
  _exit(127);
}

/* Starts the child; its pid, or -1 with errno set (the child's reason when it could not exec). */
static pid_t start_child(struct child *child) {
  size_t args = 0;
  while (child->args[args]) args++;
  /* execvpe may build an argument list for /bin/sh on this stack (a script without #!). */
  size_t stack_size = 64 * 1024 + (args + 2) * sizeof(char *);
  long page = sysconf(_SC_PAGESIZE);
  stack_size = (stack_size + (size_t)page - 1) & ~((size_t)page - 1);
  void *stack = mmap(NULL, stack_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
  if (stack == MAP_FAILED) return -1;
  sigset_t all, previous;
  sigfillset(&all);
  pthread_sigmask(SIG_BLOCK, &all, &previous);
  child->error = 0;
  /* Returns once the child has exec'd or exited (CLONE_VFORK). */
  pid_t pid = clone(child_main, (char *)stack + stack_size, CLONE_VM | CLONE_VFORK | SIGCHLD, child);
  int error = pid < 0 ? errno : child->error;
  pthread_sigmask(SIG_SETMASK, &previous, NULL);
  munmap(stack, stack_size);
  if (pid > 0 && error != 0) waitpid(pid, NULL, 0);
  if (error != 0) {
    errno = error;
    return -1;
  }
  return pid;
}

static napi_value spawn_detached(napi_env env, napi_callback_info info) {
  size_t argc = 8;
  napi_value argv[8];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 8) {
    napi_throw_type_error(env, NULL, "spawnDetached(file, args, env, cwd, stdoutFd, stderrFd, umask, onExit)");
    return NULL;
  }
  int32_t out_fd, err_fd, mask;
  char *file = string_of(env, argv[0]);
  char **args = file ? list_of(env, argv[1], file) : NULL;
  char **environment = list_of(env, argv[2], NULL);
  char *cwd = string_of(env, argv[3]);
  if (!file || !args || !environment || !cwd || napi_get_value_int32(env, argv[4], &out_fd) != napi_ok ||
      napi_get_value_int32(env, argv[5], &err_fd) != napi_ok || napi_get_value_int32(env, argv[6], &mask) != napi_ok ||
      mask < -1 || mask > 0777) {
    free(file);
    free_list(args);
    free_list(environment);
    free(cwd);
    napi_throw_type_error(env, NULL, "spawnDetached: bad arguments");
    return NULL;
  }

  struct child child = {
      .file = file, .args = args, .environment = environment, .cwd = cwd, .out_fd = out_fd, .err_fd = err_fd, .umask = mask};
  pid_t pid = start_child(&child);
  int error = errno;
  free_list(args);
  free_list(environment);
  free(cwd);
  if (pid < 0) {
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
    ok = napi_create_reference(env, argv[7], 1, &watch->callback) == napi_ok &&
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
  /* Takes the umask (an addon built before it did takes 7 arguments, not 8). */
  napi_value with_umask;
  napi_get_boolean(env, 1, &with_umask);
  napi_set_named_property(env, exports, "withUmask", with_umask);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
