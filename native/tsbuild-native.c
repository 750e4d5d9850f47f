// The few Linux calls Node has no API for, which tsbuild otherwise gets from child processes
// (getfattr, setfattr, mknod): extended attributes and device nodes; and a child process started
// without forking Node. Node's spawn forks the whole process and waits for the child's exec: 5-20
// ms of the main thread each time, on the critical path of every RUN step (runc). A clone with
// CLONE_VM|CLONE_VFORK (posix_spawn's way) costs a fraction of a millisecond. src/native.ts loads
// this addon when `npm ci` built it and falls back to child processes when it did not.
//
// Paths are byte strings (Buffers): any name the kernel allows, UTF-8 or not.

#define NAPI_VERSION 8
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <node_api.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

extern char **environ;

// ---- a growable byte buffer (the scan's output) ----

typedef struct {
  char *data;
  size_t len, cap;
  int failed;
} buf_t;

static void buf_put(buf_t *b, const void *p, size_t n) {
  if (b->failed) return;
  if (b->len + n > b->cap) {
    size_t cap = b->cap ? b->cap : 4096;
    while (cap < b->len + n) cap *= 2;
    char *d = realloc(b->data, cap);
    if (!d) {
      b->failed = 1;
      return;
    }
    b->data = d;
    b->cap = cap;
  }
  memcpy(b->data + b->len, p, n);
  b->len += n;
}

static void buf_field(buf_t *b, const void *p, uint32_t n) {
  buf_put(b, &n, 4);
  buf_put(b, p, n);
}

// ---- reading xattrs (off the main thread) ----

// One record per attribute: u32 length + relative path, u32 + name, u32 + value (host byte order).
// An entry that vanished, or cannot be read, is skipped, as getfattr skips it.
static void scan_one(buf_t *out, const char *path, const char *rel, size_t rel_len) {
  char stack_names[1024];
  char *names = stack_names;
  ssize_t n = llistxattr(path, names, sizeof stack_names);
  if (n < 0 && errno == ERANGE) {
    n = llistxattr(path, NULL, 0);
    if (n <= 0 || !(names = malloc((size_t)n))) return;
    n = llistxattr(path, names, (size_t)n);
  }
  char stack_value[512];
  for (ssize_t i = 0; n > 0 && i < n; i += (ssize_t)strlen(names + i) + 1) {
    const char *name = names + i;
    char *value = stack_value;
    ssize_t v = lgetxattr(path, name, value, sizeof stack_value);
    if (v < 0 && errno == ERANGE) {
      v = lgetxattr(path, name, NULL, 0);
      if (v < 0 || !(value = malloc(v > 0 ? (size_t)v : 1))) continue;
      v = lgetxattr(path, name, value, (size_t)v);
    }
    if (v >= 0) {
      buf_field(out, rel, (uint32_t)rel_len);
      buf_field(out, name, (uint32_t)strlen(name));
      buf_field(out, value, (uint32_t)v);
    }
    if (value != stack_value) free(value);
  }
  if (names != stack_names) free(names);
}

// The names in a directory, read whole and the stream closed before the walk goes deeper, so each
// level holds one fd (its own, for /proc/self/fd/N/name): a d_type byte then the name, NUL-ended.
static int list_dir(int dirfd, buf_t *names) {
  int fd = dup(dirfd);
  if (fd < 0) return errno;
  DIR *d = fdopendir(fd);
  if (!d) {
    int e = errno;
    close(fd);
    return e;
  }
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
    unsigned char type = e->d_type;
    buf_put(names, &type, 1);
    buf_put(names, e->d_name, strlen(e->d_name) + 1);
  }
  closedir(d);
  return names->failed ? ENOMEM : 0;
}

// Running out of fds or memory fails the scan: a subtree skipped would lose its xattrs (an opaque
// mark, a capability) from the layer without a word. Anything else (an entry gone meanwhile, one
// not readable) is skipped, as getfattr skips it.
static int fatal(int e) {
  return e == EMFILE || e == ENFILE || e == ENOMEM ? e : 0;
}

// Depth-first under the directory `dirfd` whose path relative to the scan's root is `*rel` (a
// growable string the walk extends and restores). Directories are opened without following links;
// entries are named through the open directory's fd (/proc/self/fd/N/name), so no path grows past
// PATH_MAX however deep the tree is. Returns 0 or a fatal errno.
static int scan_tree(buf_t *out, int dirfd, char **rel, size_t *rel_cap, size_t rel_len) {
  buf_t names = {0};
  int rc = fatal(list_dir(dirfd, &names));
  for (size_t at = 0; !rc && at < names.len;) {
    unsigned char type = (unsigned char)names.data[at];
    const char *name = names.data + at + 1;
    size_t name_len = strlen(name);
    at += name_len + 2;
    size_t need = rel_len + 1 + name_len + 1;
    if (need > *rel_cap) {
      size_t cap = *rel_cap * 2 > need ? *rel_cap * 2 : need;
      char *r = realloc(*rel, cap);
      if (!r) {
        rc = ENOMEM;
        break;
      }
      *rel = r;
      *rel_cap = cap;
    }
    size_t len = rel_len;
    if (len) (*rel)[len++] = '/';
    memcpy(*rel + len, name, name_len + 1);
    len += name_len;
    char proc[64 + 256];
    snprintf(proc, sizeof proc, "/proc/self/fd/%d/%s", dirfd, name);
    scan_one(out, proc, *rel, len);
    int is_dir = type == DT_DIR;
    if (type == DT_UNKNOWN) {
      struct stat st;
      is_dir = fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode);
    }
    if (is_dir) {
      int sub = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (sub < 0) {
        rc = fatal(errno);
      } else {
        rc = scan_tree(out, sub, rel, rel_cap, len);
        close(sub);
      }
    }
    (*rel)[rel_len] = '\0';
  }
  free(names.data);
  return rc;
}

typedef struct {
  napi_async_work work;
  napi_deferred deferred;
  char *dir;
  // NULL: the whole tree under dir (dir itself is ""); else `count` paths relative to dir
  char **paths;
  size_t count;
  buf_t out;
  int error;
} scan_t;

static void scan_execute(napi_env env, void *data) {
  (void)env;
  scan_t *s = data;
  if (s->paths) {
    for (size_t i = 0; i < s->count; i++) {
      if (!s->paths[i]) continue;
      size_t dir_len = strlen(s->dir), rel_len = strlen(s->paths[i]);
      char *full = malloc(dir_len + rel_len + 2);
      if (!full) {
        s->out.failed = 1;
        break;
      }
      sprintf(full, "%s/%s", s->dir, s->paths[i]);
      scan_one(&s->out, full, s->paths[i], rel_len);
      free(full);
    }
  } else {
    int fd = open(s->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
      s->error = errno;
      return;
    }
    scan_one(&s->out, s->dir, "", 0);
    size_t cap = 256;
    char *rel = calloc(cap, 1);
    if (!rel) s->out.failed = 1;
    else s->error = scan_tree(&s->out, fd, &rel, &cap, 0);
    free(rel);
    close(fd);
  }
  if (s->out.failed) s->error = ENOMEM;
}

static napi_value errno_error(napi_env env, int code, const char *syscall, const char *path) {
  char msg[512];
  snprintf(msg, sizeof msg, "%s %s: %s", syscall, path ? path : "", strerror(code));
  napi_value m, err, c;
  napi_create_string_utf8(env, msg, NAPI_AUTO_LENGTH, &m);
  napi_create_error(env, NULL, m, &err);
  napi_create_int32(env, code, &c);
  napi_set_named_property(env, err, "errno", c);
  return err;
}

static void scan_complete(napi_env env, napi_status status, void *data) {
  scan_t *s = data;
  if (status != napi_ok || s->error) {
    napi_reject_deferred(env, s->deferred, errno_error(env, s->error ? s->error : EIO, "scan", s->dir));
  } else {
    napi_value result;
    void *copy;
    napi_create_buffer_copy(env, s->out.len, s->out.len ? s->out.data : "", &copy, &result);
    napi_resolve_deferred(env, s->deferred, result);
  }
  napi_delete_async_work(env, s->work);
  for (size_t i = 0; s->paths && i < s->count; i++) free(s->paths[i]);
  free(s->paths);
  free(s->dir);
  free(s->out.data);
  free(s);
}

// A JS Buffer or string argument as a NUL-terminated copy (NULL if it holds a NUL or is neither).
static char *bytes_arg(napi_env env, napi_value v) {
  bool is_buffer = false;
  napi_is_buffer(env, v, &is_buffer);
  if (is_buffer) {
    void *p;
    size_t n;
    napi_get_buffer_info(env, v, &p, &n);
    if (memchr(p, 0, n)) return NULL;
    char *s = malloc(n + 1);
    if (!s) return NULL;
    memcpy(s, p, n);
    s[n] = '\0';
    return s;
  }
  size_t n;
  if (napi_get_value_string_utf8(env, v, NULL, 0, &n) != napi_ok) return NULL;
  char *s = malloc(n + 1);
  if (!s) return NULL;
  napi_get_value_string_utf8(env, v, s, n + 1, &n);
  if (strlen(s) != n) {
    free(s);
    return NULL;
  }
  return s;
}

static napi_value throw_type(napi_env env, const char *msg) {
  napi_throw_type_error(env, NULL, msg);
  return NULL;
}

// readXattrs(dir, paths?: Buffer[]): Promise<Buffer> (the records scan_one writes)
static napi_value read_xattrs(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 1) return throw_type(env, "readXattrs(dir, paths?)");
  scan_t *s = calloc(1, sizeof *s);
  if (!s || !(s->dir = bytes_arg(env, argv[0]))) {
    free(s);
    return throw_type(env, "readXattrs: dir must be a path");
  }
  bool is_array = false;
  if (argc > 1) napi_is_array(env, argv[1], &is_array);
  if (is_array) {
    uint32_t n;
    napi_get_array_length(env, argv[1], &n);
    s->paths = calloc(n ? n : 1, sizeof(char *));
    s->count = n;
    for (uint32_t i = 0; s->paths && i < n; i++) {
      napi_value el;
      napi_get_element(env, argv[1], i, &el);
      s->paths[i] = bytes_arg(env, el);  // NULL (a NUL byte in it): no such file, skipped
    }
  }
  napi_value promise, name;
  napi_create_promise(env, &s->deferred, &promise);
  napi_create_string_utf8(env, "tsbuild.readXattrs", NAPI_AUTO_LENGTH, &name);
  napi_create_async_work(env, NULL, name, scan_execute, scan_complete, s, &s->work);
  napi_queue_async_work(env, s->work);
  return promise;
}

// setXattr(path: Buffer, name: string, value: Buffer): void, never following a final symlink
static napi_value set_xattr(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 3) return throw_type(env, "setXattr(path, name, value)");
  char *path = bytes_arg(env, argv[0]);
  char *name = bytes_arg(env, argv[1]);
  void *value = NULL;
  size_t len = 0;
  bool is_buffer = false;
  napi_is_buffer(env, argv[2], &is_buffer);
  if (is_buffer) napi_get_buffer_info(env, argv[2], &value, &len);
  napi_value ret = NULL;
  if (!path || !name || !is_buffer) throw_type(env, "setXattr: bad arguments");
  else if (lsetxattr(path, name, len ? value : "", len, 0) != 0)
    napi_throw(env, errno_error(env, errno, "lsetxattr", path));
  free(path);
  free(name);
  return ret;
}

// mknod(path: Buffer, type: 'c' | 'b' | 'p', major: number, minor: number): void (mode 0666 less
// the umask, as mknod(1) and mkfifo(1) make them)
static napi_value make_node(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 4) return throw_type(env, "mknod(path, type, major, minor)");
  char *path = bytes_arg(env, argv[0]);
  char *type = bytes_arg(env, argv[1]);
  uint32_t major = 0, minor = 0;
  napi_get_value_uint32(env, argv[2], &major);
  napi_get_value_uint32(env, argv[3], &minor);
  mode_t kind = !type ? 0 : !strcmp(type, "c") ? S_IFCHR : !strcmp(type, "b") ? S_IFBLK : !strcmp(type, "p") ? S_IFIFO : 0;
  if (!path || !kind) throw_type(env, "mknod: bad arguments");
  else if (mknod(path, kind | 0666, kind == S_IFIFO ? 0 : makedev(major, minor)) != 0)
    napi_throw(env, errno_error(env, errno, "mknod", path));
  free(path);
  free(type);
  return NULL;
}

// chattr +T (FS_TOPDIR_FL) without a chattr child: see src/store/top-dir.ts. Throws where the
// filesystem has no such flags (the caller ignores it: placement stays the default).
static napi_value set_top_dir(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  char *path = argc < 1 ? NULL : bytes_arg(env, argv[0]);
  if (!path) return throw_type(env, "setTopDir(path)");
  int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
  int flags = 0, err = 0;
  if (fd < 0 || ioctl(fd, FS_IOC_GETFLAGS, &flags) != 0 ||
      (!(flags & FS_TOPDIR_FL) && (flags |= FS_TOPDIR_FL, ioctl(fd, FS_IOC_SETFLAGS, &flags) != 0)))
    err = errno;
  if (fd >= 0) close(fd);
  if (err) napi_throw(env, errno_error(env, err, "setTopDir", path));
  free(path);
  return NULL;
}

// ---- spawning without a fork of this process ----

typedef struct {
  pid_t pid;
  napi_threadsafe_function on_exit;
  int status;
} child_t;

// Reaps the child, then calls the JS onExit(code, signal) (signal 0 when it exited). On the main
// thread: until then the pid stays a zombie, so a kill() the JS side sends before it hears of the
// exit can never reach another process that took the pid.
static void call_exit(napi_env env, napi_value js_cb, void *context, void *data) {
  child_t *c = data;
  while (waitpid(c->pid, &c->status, 0) < 0 && errno == EINTR) {
  }
  if (env && js_cb) {
    napi_value args[2], undefined;
    int code = WIFEXITED(c->status) ? WEXITSTATUS(c->status) : -1;
    int sig = WIFSIGNALED(c->status) ? WTERMSIG(c->status) : 0;
    napi_create_int32(env, code, &args[0]);
    napi_create_int32(env, sig, &args[1]);
    napi_get_undefined(env, &undefined);
    napi_call_function(env, undefined, js_cb, 2, args, NULL);
  }
  free(c);
}

// One thread per child waits for its exit without reaping it (WNOWAIT; call_exit reaps). libuv
// reaps only the children it started (it waits for each of its own pids), never this one.
static void *wait_child(void *arg) {
  child_t *c = arg;
  siginfo_t info;
  while (waitid(P_PID, (id_t)c->pid, &info, WEXITED | WNOWAIT) < 0 && errno == EINTR) {
  }
  napi_threadsafe_function fn = c->on_exit;
  napi_call_threadsafe_function(fn, c, napi_tsfn_blocking);
  napi_release_threadsafe_function(fn, napi_tsfn_release);
  return NULL;
}

static void close_pair(int p[2]) {
  if (p[0] >= 0) close(p[0]);
  if (p[1] >= 0) close(p[1]);
}

// What the child of clone(CLONE_VM|CLONE_VFORK) gets: it runs on its own stack in this process's
// memory until it execs, so it only makes system calls.
typedef struct {
  const char *file;
  char **argv;
  int in, out, err, report;
  int new_session;
} exec_args_t;

// `from` as fd `to`, open across the exec (dup2 onto itself would leave close-on-exec set).
static int move_fd(int from, int to) {
  return from == to ? fcntl(to, F_SETFD, 0) : dup2(from, to);
}

static int child_main(void *p) {
  exec_args_t *a = p;
  // Every signal at its default, as libuv's own spawn leaves a child: Node ignores SIGPIPE, and
  // posix_spawn would leave glibc's internal signals (32, 33) ignored, which the RUN's processes
  // would inherit (BuildKit's have them at default). An all-zero kernel sigaction is SIG_DFL with
  // no flags and an empty mask on every architecture's layout. Raw calls: glibc refuses 32 and 33.
  long zero[4] = {0, 0, 0, 0};
  for (int sig = 1; sig < 65; sig++)
    if (sig != SIGKILL && sig != SIGSTOP) syscall(SYS_rt_sigaction, sig, zero, NULL, 8);
  uint64_t none = 0;
  syscall(SYS_rt_sigprocmask, SIG_SETMASK, &none, NULL, 8);
  // Node's `detached: true`: a session (and process group) of its own.
  if (a->new_session && setsid() < 0) goto failed;
  if (move_fd(a->in, 0) < 0 || move_fd(a->out, 1) < 0 || move_fd(a->err, 2) < 0) goto failed;
  execve(a->file, a->argv, environ);
failed:;
  int e = errno;
  if (write(a->report, &e, sizeof e) < 0) {
  }
  _exit(127);
}

// Starts `file` without forking this process: clone with CLONE_VM|CLONE_VFORK (what glibc's
// posix_spawn does), all signals blocked in this thread meanwhile so that no handler of this process
// runs on the child's side. Returns the pid, or -errno.
static pid_t start_child(exec_args_t *a) {
  int report[2];
  if (pipe2(report, O_CLOEXEC) != 0) return -errno;
  a->report = report[1];
  size_t size = 256 * 1024;
  void *stack = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
  if (stack == MAP_FAILED) {
    close_pair(report);
    return -ENOMEM;
  }
  uint64_t all = ~(uint64_t)0, old = 0;
  syscall(SYS_rt_sigprocmask, SIG_SETMASK, &all, &old, 8);
  pid_t pid = clone(child_main, (char *)stack + size, CLONE_VM | CLONE_VFORK | SIGCHLD, a);
  int clone_errno = errno;
  syscall(SYS_rt_sigprocmask, SIG_SETMASK, &old, NULL, 8);
  munmap(stack, size);
  close(report[1]);
  if (pid < 0) {
    close(report[0]);
    return -clone_errno;
  }
  // The child has exec'd (the pipe closed with it) or exited after writing why it could not.
  int e = 0;
  ssize_t got = read(report[0], &e, sizeof e);
  close(report[0]);
  if (got == (ssize_t)sizeof e) {
    waitpid(pid, NULL, 0);
    return -e;
  }
  return pid;
}

// spawnPiped(file, argv, onExit, watcher?): [pid, stdoutFd, stderrFd]. stdin is /dev/null;
// stdout and stderr are pipes whose read ends (close-on-exec) the caller owns; onExit(code,
// signal) comes once the child has been reaped. In this process's group, with its environment;
// `file` is a path (no $PATH search). With `watcher`: [pid, stdinFd] instead, stdin a pipe whose
// write end the caller owns, stdout and stderr /dev/null, in a session of its own, and nothing
// waits for it (onExit is never called): it outlives this process, whose exit closes the pipe it
// watches, and a thread waiting for it would call into N-API while Node tears its environment
// down (seen: abort() in napi_call_threadsafe_function, its mutex already destroyed). init reaps
// it once this process is gone.
static napi_value spawn_piped(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  uint32_t n = 0;
  bool is_array = false;
  if (argc >= 3) napi_is_array(env, argv[1], &is_array);
  if (!is_array) return throw_type(env, "spawnPiped(file, argv, onExit)");
  napi_get_array_length(env, argv[1], &n);
  char *file = bytes_arg(env, argv[0]);
  char **args = calloc(n + 1, sizeof(char *));
  int ok = file && args;
  for (uint32_t i = 0; ok && i < n; i++) {
    napi_value el;
    napi_get_element(env, argv[1], i, &el);
    ok = (args[i] = bytes_arg(env, el)) != NULL;
  }
  bool watcher = false;
  if (argc >= 4) napi_get_value_bool(env, argv[3], &watcher);
  napi_value result = NULL;
  // watcher: `out` is the stdin pipe (read end to the child, write end returned), `err` unused
  int out[2] = {-1, -1}, err[2] = {-1, -1}, devnull = -1;
  if (!ok) {
    throw_type(env, "spawnPiped: bad arguments");
    goto done;
  }
  if (pipe2(out, O_CLOEXEC) != 0 || (!watcher && pipe2(err, O_CLOEXEC) != 0) ||
      // As libuv opens it for an ignored stdio: read-only as stdin, read-write as stdout/stderr.
      (devnull = open("/dev/null", (watcher ? O_RDWR : O_RDONLY) | O_CLOEXEC)) < 0) {
    napi_throw(env, errno_error(env, errno, "pipe2", file));
    goto done;
  }
  exec_args_t a = watcher ? (exec_args_t){file, args, out[0], devnull, devnull, -1, 1}
                          : (exec_args_t){file, args, devnull, out[1], err[1], -1, 0};
  pid_t pid = start_child(&a);
  // The child's ends: closed here once it has them (or failed).
  int *theirs = watcher ? &out[0] : &out[1];
  close(*theirs);
  *theirs = -1;
  if (err[1] >= 0) close(err[1]);
  err[1] = -1;
  if (pid < 0) {
    napi_value e = errno_error(env, -pid, "spawn", file);
    napi_value code;
    napi_create_string_utf8(env, pid == -ENOENT ? "ENOENT" : pid == -EACCES ? "EACCES" : "ESPAWN",
                            NAPI_AUTO_LENGTH, &code);
    napi_set_named_property(env, e, "code", code);
    napi_throw(env, e);
    goto done;
  }
  if (watcher) goto made;
  child_t *c = calloc(1, sizeof *c);
  napi_value name;
  napi_create_string_utf8(env, "tsbuild.spawnPiped", NAPI_AUTO_LENGTH, &name);
  int watching = c && napi_create_threadsafe_function(env, argv[2], NULL, name, 0, 1, NULL, NULL, NULL,
                                                      call_exit, &c->on_exit) == napi_ok;
  int started = -1;
  if (watching) {
    c->pid = pid;
    pthread_t t;
    pthread_attr_t ta;
    pthread_attr_init(&ta);
    pthread_attr_setdetachstate(&ta, PTHREAD_CREATE_DETACHED);
    pthread_attr_setstacksize(&ta, 64 * 1024);
    started = pthread_create(&t, &ta, wait_child, c);
    pthread_attr_destroy(&ta);
  }
  if (started != 0) {
    // Cannot watch it: end it rather than leave a child nobody reaps.
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    if (watching) napi_release_threadsafe_function(c->on_exit, napi_tsfn_abort);
    free(c);
    napi_throw(env, errno_error(env, watching ? EAGAIN : ENOMEM, "spawnPiped", file));
    goto done;
  }
made:;
  napi_value values[3];
  uint32_t count = watcher ? 2 : 3;
  napi_create_int32(env, pid, &values[0]);
  napi_create_int32(env, watcher ? out[1] : out[0], &values[1]);
  napi_create_int32(env, err[0], &values[2]);
  out[0] = out[1] = err[0] = -1;
  napi_create_array_with_length(env, count, &result);
  for (uint32_t i = 0; i < count; i++) napi_set_element(env, result, i, values[i]);
done:
  close_pair(out);
  close_pair(err);
  if (devnull >= 0) close(devnull);
  for (uint32_t i = 0; args && i < n; i++) free(args[i]);
  free(args);
  free(file);
  return result;
}

NAPI_MODULE_INIT() {
  napi_property_descriptor props[] = {
      {"readXattrs", NULL, read_xattrs, NULL, NULL, NULL, napi_default, NULL},
      {"setXattr", NULL, set_xattr, NULL, NULL, NULL, napi_default, NULL},
      {"mknod", NULL, make_node, NULL, NULL, NULL, napi_default, NULL},
      {"spawnPiped", NULL, spawn_piped, NULL, NULL, NULL, napi_default, NULL},
      {"setTopDir", NULL, set_top_dir, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_define_properties(env, exports, sizeof props / sizeof *props, props);
  return exports;
}
