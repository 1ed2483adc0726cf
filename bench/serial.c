/* serial.c: the benchmarks' baseline. A plain loop over the input in one
 * process, with the same job kernels as mapreduce and the same output text,
 * so every ratio in the tables says what the farm adds or costs over doing
 * the work with no parallelism at all.
 *
 *   serial [-j JOB] [-a ARG] [-o OUTPUT] INPUT
 *
 * Prints "serial: items=N seconds=S items_per_s=R" on stderr: the time from
 * opening the input to closing the output (process start-up excluded). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* getline */
#endif
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "run/job.h"
#include "mapreduce.h"

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static const mr_job *find_job(const char *name) {
  for (const mr_job *const *j = mr__builtin_jobs; *j; j++)
    if (strcmp((*j)->name, name) == 0) return *j;
  return NULL;
}

/* The input rules mapreduce follows: trim spaces, tabs and CR; skip blank
 * lines and # comments. Returns the trimmed length; *start is set. */
static size_t trim(char *line, size_t len, char **start) {
  char *s = line, *e = line + len;
  while (s < e && (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')) s++;
  while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r' ||
                   e[-1] == '\n'))
    e--;
  *e = '\0';
  *start = s;
  return (size_t)(e - s);
}

int main(int argc, char **argv) {
  const char *jobname = "prime", *arg = NULL, *outpath = NULL;
  int c;
  while ((c = getopt(argc, argv, "j:a:o:")) != -1) {
    switch (c) {
    case 'j': jobname = optarg; break;
    case 'a': arg = optarg; break;
    case 'o': outpath = optarg; break;
    default:
      fprintf(stderr, "usage: serial [-j JOB] [-a ARG] [-o OUTPUT] INPUT\n");
      return 255;
    }
  }
  if (optind != argc - 1) {
    fprintf(stderr, "usage: serial [-j JOB] [-a ARG] [-o OUTPUT] INPUT\n");
    return 255;
  }
  const mr_job *job = find_job(jobname);
  if (!job) {
    fprintf(stderr, "serial: no job '%s'\n", jobname);
    return 255;
  }

  double t0 = now_s();
  FILE *in = fopen(argv[optind], "r");
  FILE *out = outpath ? fopen(outpath, "w") : stdout;
  if (!in || !out) {
    perror("serial: open");
    return 255;
  }
  static char obuf[1 << 20];
  setvbuf(out, obuf, _IOFBF, sizeof obuf);

  void *state = NULL;
  if (job->init && job->init(&state, arg)) {
    fprintf(stderr, "serial: job '%s' refused its argument\n", jobname);
    return 255;
  }
  mr_buf res = {0};
  char *line = NULL;
  size_t cap = 0;
  ssize_t n;
  unsigned long long items = 0, failed = 0, lineno = 0;
  while ((n = getline(&line, &cap, in)) >= 0) {
    lineno++;
    char *item;
    size_t len = trim(line, (size_t)n, &item);
    if (len == 0 || item[0] == '#') continue;
    items++;
    res.len = 0;
    if (res.data) res.data[0] = '\0';
    if (job->run(state, item, len, &res) < 0) {
      failed++;
      fprintf(stderr, "%s:%llu: error: %.*s\n", argv[optind], lineno,
              (int)res.len, res.data ? res.data : "");
      continue;
    }
    fwrite(item, 1, len, out);
    fputc('\t', out);
    fwrite(res.data, 1, res.len, out);
    fputc('\n', out);
  }
  if (job->fini) job->fini(state);
  int bad = ferror(in) || ferror(out);
  fclose(in);
  if (fclose(out) != 0) bad = 1;
  double secs = now_s() - t0;
  free(line);
  mr_buf_free(&res);
  if (bad) {
    perror("serial: I/O");
    return 255;
  }
  fprintf(stderr, "serial: items=%llu failed=%llu seconds=%.6f items_per_s=%.0f\n",
          items, failed, secs, secs > 0 ? (double)items / secs : 0.0);
  return failed ? 1 : 0;
}
