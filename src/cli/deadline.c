/* deadline.c: --deadline WHEN: parsing it, and the end of the batch job
 * that `auto` stands for. */
#include "cli/deadline.h"
#include "base/error.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>

#define SQUEUE_TIMEOUT_S 20 /* a controller that does not answer */

static const char syntax[] =
    "--deadline wants a time (HH:MM[:SS] today, YYYY-MM-DDTHH:MM[:SS], "
    "@SECONDS since the epoch), a duration (90s, 55m, 1h30m) or "
    "auto[-MARGIN], not '%s'";

/* A duration: one or more NUMBER UNIT (d, h, m, s), e.g. 1h30m, 2.5h,
 * 90s. -1 when s is not one. */
static double parse_duration(const char *s) {
  double total = 0;
  int parts = 0;
  while (*s) {
    if (!isdigit((unsigned char)*s) && *s != '.') return -1;
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || errno || !isfinite(v) || v < 0) return -1;
    double unit = *end == 'd' ? 86400 : *end == 'h' ? 3600 : *end == 'm' ? 60
                : *end == 's' ? 1 : 0;
    if (unit == 0) return -1; /* a bare number: seconds or minutes? */
    total += v * unit;
    s = end + 1;
    parts++;
  }
  return parts && total < 1e9 ? total : -1;
}

/* Digits only, exactly n of them, as a number. */
static int digits(const char *s, int n, int *out) {
  int v = 0;
  for (int i = 0; i < n; i++) {
    if (!isdigit((unsigned char)s[i])) return -1;
    v = v * 10 + (s[i] - '0');
  }
  *out = v;
  return 0;
}

/* HH:MM or HH:MM:SS at s, ending the string. */
static int parse_clock(const char *s, struct tm *tm) {
  size_t n = strlen(s);
  int h, m, sec = 0;
  if (n != 5 && n != 8) return -1;
  if (digits(s, 2, &h) || s[2] != ':' || digits(s + 3, 2, &m)) return -1;
  if (n == 8 && (s[5] != ':' || digits(s + 6, 2, &sec))) return -1;
  if (h > 23 || m > 59 || sec > 60) return -1;
  tm->tm_hour = h;
  tm->tm_min = m;
  tm->tm_sec = sec;
  return 0;
}

/* Local time as seconds since the epoch; -1 when tm is not a real date. */
static double local_time(struct tm tm) {
  struct tm want = tm;
  tm.tm_isdst = -1;
  time_t t = mktime(&tm);
  if (t == (time_t)-1) return -1;
  /* mktime moves 31 February on to March: not a date */
  if (tm.tm_mday != want.tm_mday || tm.tm_mon != want.tm_mon) return -1;
  return (double)t;
}

static double parse_absolute(const char *s, double now) {
  struct tm tm;
  time_t t = (time_t)now;
  if (!localtime_r(&t, &tm)) return -1;
  if (s[0] == '@') { /* @SECONDS */
    if (!s[1] || strspn(s + 1, "0123456789.") != strlen(s + 1)) return -1;
    char *end;
    double v = strtod(s + 1, &end);
    return *end || !isfinite(v) ? -1 : v;
  }
  if (strlen(s) > 10 && (s[10] == 'T' || s[10] == ' ')) { /* a date first */
    int y, mo, d;
    if (digits(s, 4, &y) || s[4] != '-' || digits(s + 5, 2, &mo) || s[7] != '-' ||
        digits(s + 8, 2, &d) || mo < 1 || mo > 12 || d < 1 || d > 31 || y < 1970)
      return -1;
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    s += 11;
  }
  if (parse_clock(s, &tm)) return -1;
  return local_time(tm);
}

int mr__deadline_parse(const char *when, double now, mr__deadline *d, mr_buf *why) {
  memset(d, 0, sizeof *d);
  if (!strncmp(when, "auto", 4)) {
    d->is_auto = 1;
    d->margin = MR__DEADLINE_AUTO_MARGIN_S;
    if (when[4] == '\0') return 0;
    if (when[4] == '-' && (d->margin = parse_duration(when + 5)) >= 0) return 0;
  } else if (isdigit((unsigned char)when[0]) && strchr("dhms", when[strlen(when) - 1])) {
    double s = parse_duration(when);
    if (s >= 0) {
      d->at = now + s;
      return 0;
    }
  } else if (*when) {
    double at = parse_absolute(when, now);
    if (at >= 0) {
      d->at = at;
      return 0;
    }
  }
  mr_buf_printf(why, syntax, when);
  return MR_EINVAL;
}

/* Seconds since the epoch in text (digits, blanks around), or -1. */
static double epoch_of(const char *text) {
  while (isspace((unsigned char)*text)) text++;
  char *end;
  errno = 0;
  double v = strtod(text, &end);
  if (end == text || errno || !isdigit((unsigned char)*text)) return -1;
  while (isspace((unsigned char)*end)) end++;
  return *end ? -1 : v;
}

/* The end time squeue gives for job id, as seconds since the epoch
 * (SLURM_TIME_FORMAT=%s). */
static int squeue_end(const char *id, double *end, mr_buf *why) {
  if (!*id || strspn(id, "0123456789_") != strlen(id) || strlen(id) > 40) {
    mr_buf_printf(why, "--deadline auto: SLURM_JOB_ID '%s' is not a job id", id);
    return MR_EINVAL;
  }
  char cmd[160];
  snprintf(cmd, sizeof cmd,
           "SLURM_TIME_FORMAT=%%s timeout %d squeue -h -j %s -o %%e 2>&1",
           SQUEUE_TIMEOUT_S, id);
  FILE *p = popen(cmd, "r");
  if (!p) {
    int err = errno;
    mr_buf_printf(why, "--deadline auto: cannot run squeue: %s", strerror(err));
    return mr__error_from_errno(err);
  }
  char line[256] = "";
  size_t n = fread(line, 1, sizeof line - 1, p);
  line[n] = '\0';
  int st = pclose(p);
  double v = st == 0 ? epoch_of(line) : -1;
  char word[16] = "";
  if (st == 0 && v < 0 && sscanf(line, " %15s", word) == 1 &&
      (!strcmp(word, "Unknown") || !strcmp(word, "N/A") || !strcmp(word, "NONE"))) {
    *end = HUGE_VAL; /* a job without a time limit */
    return 0;
  }
  if (v <= 0) {
    line[strcspn(line, "\n")] = '\0';
    char how[40] = "";
    if (WIFSIGNALED(st)) snprintf(how, sizeof how, ", killed by signal %d", WTERMSIG(st));
    else if (!WIFEXITED(st) || WEXITSTATUS(st)) snprintf(how, sizeof how, ", status %d",
                                                         WIFEXITED(st) ? WEXITSTATUS(st) : -1);
    mr_buf_printf(why, "--deadline auto: 'squeue -h -j %s -o %%e' did not give the "
                       "job's end time (%s%s)",
                  id, *line ? line : "no output", how);
    return MR_EIO;
  }
  *end = v;
  return 0;
}

int mr__deadline_job_end(double *end, mr_buf *why) {
  static const char *const given[] = {"MAPREDUCE_END_TIME", "SLURM_JOB_END_TIME", NULL};
  for (const char *const *v = given; *v; v++) {
    const char *s = getenv(*v);
    if (!s || !*s) continue;
    double e = epoch_of(s);
    if (e <= 0) {
      mr_buf_printf(why, "--deadline auto: %s='%s' is not seconds since the epoch", *v, s);
      return MR_EINVAL;
    }
    *end = e;
    return 0;
  }
  const char *id = getenv("SLURM_JOB_ID");
  if (id) return squeue_end(id, end, why);
  if (getenv("PBS_JOBID"))
    mr_buf_puts(why, "--deadline auto: a PBS job's end time is not known here: set "
                     "MAPREDUCE_END_TIME (seconds since the epoch), as jobs/pbs.sh does");
  else
    mr_buf_puts(why, "--deadline auto: not in a batch job (no SLURM_JOB_ID, "
                     "PBS_JOBID or MAPREDUCE_END_TIME)");
  return MR_EINVAL;
}

static void clock_text(double t, char *b, size_t cap) {
  time_t s = (time_t)t;
  struct tm tm;
  if (!localtime_r(&s, &tm) || !strftime(b, cap, "%Y-%m-%d %H:%M:%S", &tm))
    snprintf(b, cap, "@%.0f", t);
}

int mr__deadline_resolve(const mr__deadline *d, const char *when, double now,
                         double *at, mr_buf *why) {
  double end = 0, t = d->at;
  if (d->is_auto) {
    int rc = mr__deadline_job_end(&end, why);
    if (rc) return rc;
    t = end - d->margin;
  }
  if (t > now) {
    *at = t;
    return 0;
  }
  char was[40], is[40];
  clock_text(now, is, sizeof is);
  if (d->is_auto) {
    clock_text(end, was, sizeof was);
    mr_buf_printf(why, "--deadline %s: the job ends at %s, %.0f s from now (%s), "
                       "within the margin of %.0f s: nothing would run",
                  when, was, end - now, is, d->margin);
  } else {
    clock_text(t, was, sizeof was);
    mr_buf_printf(why, "--deadline %s is past: it was %s, it is now %s; nothing "
                       "would run",
                  when, was, is);
  }
  return MR_EINVAL;
}
