/* tu.h: what the cmocka unit tests share: includes, a scratch directory,
 * and small file helpers. */
#ifndef MR_TU_H
#define MR_TU_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "mapreduce.h"

/* A fresh directory for one test binary, removed at exit. */
static char tu_dir[64];

static void tu_cleanup(void) {
  if (tu_dir[0]) {
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tu_dir);
    if (system(cmd)) {
    }
  }
}

static inline const char *tu_tmpdir(void) {
  if (!tu_dir[0]) {
    strcpy(tu_dir, "/tmp/mr-unit.XXXXXX");
    if (!mkdtemp(tu_dir)) abort();
    atexit(tu_cleanup);
  }
  return tu_dir;
}

/* tu_dir/name, in a static buffer of its own per call site's use. */
static inline char *tu_path(char *buf, size_t cap, const char *name) {
  snprintf(buf, cap, "%s/%s", tu_tmpdir(), name);
  return buf;
}

static inline void tu_write(const char *path, const void *data, size_t len) {
  FILE *f = fopen(path, "wb");
  assert_non_null(f);
  assert_int_equal(fwrite(data, 1, len, f), len);
  assert_int_equal(fclose(f), 0);
}

/* The whole file, NUL-terminated (caller frees); *len its size. */
static inline char *tu_read(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  mr_buf b = {0};
  char chunk[4096];
  size_t n;
  while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) assert_int_equal(mr_buf_append(&b, chunk, n), 0);
  fclose(f);
  if (!b.data) assert_int_equal(mr_buf_reserve(&b, 1), 0);
  if (len) *len = b.len;
  return b.data;
}

static inline int tu_exists(const char *path) { return access(path, F_OK) == 0; }

/* A stop of the run, as the signal handler sets it, 0.1 s from now and
 * from another thread (as a signal may land on any): what mr_stopping
 * reports once mr__job_watch_stop(&tu_stop) is called. Join the thread. */
static volatile sig_atomic_t tu_stop;
static inline void *tu_stop_later_main(void *arg) {
  const char *when = arg;
  struct timespec ts = {0, 10000000};
  if (!when) { /* 0.1 s */
    ts.tv_nsec = 100000000;
    nanosleep(&ts, NULL);
  }
  /* once the file exists (60 s at most) */
  for (int i = 0; when && i < 6000 && access(when, F_OK); i++) nanosleep(&ts, NULL);
  tu_stop = SIGTERM;
  return NULL;
}
static inline pthread_t tu_stop_later(void) {
  pthread_t t;
  tu_stop = 0;
  if (pthread_create(&t, NULL, tu_stop_later_main, NULL)) fail();
  return t;
}
/* The same stop once the file `when` exists: a test whose items before
 * the stop must be finished waits for the item in flight to say it has
 * started (0.1 s is not enough for a loaded machine to start a shell). */
static inline pthread_t tu_stop_once(const char *when) {
  pthread_t t;
  tu_stop = 0;
  if (pthread_create(&t, NULL, tu_stop_later_main, (void *)when)) fail();
  return t;
}

#endif
