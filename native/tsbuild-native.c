// The few Linux calls Node has no API for, which tsbuild otherwise gets from child processes
// (getfattr, setfattr, mknod): extended attributes and device nodes. A child process costs the
// builder 5-20 ms of its main thread (fork of the whole Node process, then the wait for its exec);
// these calls cost microseconds. src/store/layer/native.ts loads this addon when `npm ci` built it
// and falls back to the child processes when it did not.
//
// Paths are byte strings (Buffers): any name the kernel allows, UTF-8 or not.

#define NAPI_VERSION 8
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <node_api.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

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

// Depth-first under `path` (a growable string the walk extends and restores). Directories are
// opened without following links; their entries are named through the open directory's fd
// (/proc/self/fd/N/name), so no path grows past PATH_MAX however deep the tree is.
static void scan_tree(buf_t *out, int dirfd, char **rel, size_t *rel_cap, size_t rel_len) {
  int fd = dup(dirfd);
  if (fd < 0) return;
  DIR *d = fdopendir(fd);
  if (!d) {
    close(fd);
    return;
  }
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
    size_t name_len = strlen(e->d_name);
    size_t need = rel_len + 1 + name_len + 1;
    if (need > *rel_cap) {
      size_t cap = *rel_cap * 2 > need ? *rel_cap * 2 : need;
      char *r = realloc(*rel, cap);
      if (!r) {
        out->failed = 1;
        break;
      }
      *rel = r;
      *rel_cap = cap;
    }
    size_t len = rel_len;
    if (len) (*rel)[len++] = '/';
    memcpy(*rel + len, e->d_name, name_len + 1);
    len += name_len;
    char proc[64 + 256];
    snprintf(proc, sizeof proc, "/proc/self/fd/%d/%s", dirfd, e->d_name);
    scan_one(out, proc, *rel, len);
    int is_dir = e->d_type == DT_DIR;
    if (e->d_type == DT_UNKNOWN) {
      struct stat st;
      is_dir = fstatat(dirfd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode);
    }
    if (is_dir) {
      int sub = openat(dirfd, e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (sub >= 0) {
        scan_tree(out, sub, rel, rel_cap, len);
        close(sub);
      }
    }
    (*rel)[rel_len] = '\0';
  }
  closedir(d);
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
    else scan_tree(&s->out, fd, &rel, &cap, 0);
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

NAPI_MODULE_INIT() {
  napi_property_descriptor props[] = {
      {"readXattrs", NULL, read_xattrs, NULL, NULL, NULL, napi_default, NULL},
      {"setXattr", NULL, set_xattr, NULL, NULL, NULL, napi_default, NULL},
      {"mknod", NULL, make_node, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_define_properties(env, exports, sizeof props / sizeof *props, props);
  return exports;
}
