/* test_obs.c: seeing a run without MPI: the formats, the ETA, the figures
 * gathered from the farm's events, the progress and status texts, the
 * summary, the timeline's bins and picture, and the files replaced whole. */
#include <inttypes.h>
#include <math.h>
#include <sys/stat.h>

#include "tu.h"
#include "obs/obs.h"

#define MS 1000000ull

static void test_durations_and_counts_read_as_people_write_them(void **st) {
  (void)st;
  char b[32];
  mr__obs_fmt_duration(0.0123, b, sizeof b);
  assert_string_equal(b, "12.3ms");
  mr__obs_fmt_duration(0.25, b, sizeof b);
  assert_string_equal(b, "250ms");
  mr__obs_fmt_duration(3.04, b, sizeof b);
  assert_string_equal(b, "3.0s");
  mr__obs_fmt_duration(65, b, sizeof b);
  assert_string_equal(b, "1m05s");
  mr__obs_fmt_duration(7380, b, sizeof b);
  assert_string_equal(b, "2h03m");
  mr__obs_fmt_count(1234567, b, sizeof b);
  assert_string_equal(b, "1,234,567");
  mr__obs_fmt_count(999, b, sizeof b);
  assert_string_equal(b, "999");
}

static void test_eta_is_the_rest_at_the_rate_so_far(void **st) {
  (void)st;
  mr__obs_counts c = {250, 0, 0, 300, 1000};
  assert_true(fabs(mr__obs_eta(&c, 1.0) - 3.0) < 1e-9);
  /* a resume: what was done before is not this run's rate */
  mr__obs_counts r = {100, 0, 500, 700, 1000};
  assert_true(fabs(mr__obs_eta(&r, 1.0) - 4.0) < 1e-9);
  mr__obs_counts u = {100, 0, 0, 200, UINT64_MAX};
  assert_true(mr__obs_eta(&u, 1.0) < 0); /* a pipe: no total, no ETA */
  mr__obs_counts z = {0, 0, 0, 0, 1000};
  assert_true(mr__obs_eta(&z, 1.0) < 0);
}

static mr__obs_counts fixed;
static void fixed_counts(void *ctx, mr__obs_counts *c) {
  (void)ctx;
  *c = fixed;
}

/* An observer of 3 ranks, one thread each, the master computing. */
static void obs_started(mr__obs *o, int tty) {
  mr__obs_cfg cfg;
  memset(&cfg, 0, sizeof cfg);
  cfg.tty = tty;
  cfg.sized = 1;
  cfg.counts = fixed_counts;
  mr_buf why = {0};
  assert_int_equal(mr__obs_open(o, &cfg, &why), 0);
  mr__farm_event e = {0};
  e.kind = MR__EV_START;
  e.ranks = 3;
  e.threads = 1;
  e.master_computes = 1;
  e.wall_ns = 1700000000ull * 1000000000ull;
  mr__obs_event(o, &e);
}

static void chunk(mr__obs *o, int rank, uint64_t line, uint32_t n, uint64_t t0, uint64_t t1,
                  uint64_t busy, uint32_t failed) {
  mr__farm_event e = {0};
  e.kind = MR__EV_CHUNK;
  e.rank = rank;
  e.attempt = -1;
  e.items = n;
  e.failed = failed;
  e.line = line;
  e.last_line = line + n - 1;
  e.t0 = t0;
  e.t1 = t1;
  e.busy_ns = busy;
  e.start_wall_ns = o->wall0_ns + t0;
  mr__obs_event(o, &e);
}

static void test_events_add_up_per_rank_and_keep_the_slowest(void **st) {
  (void)st;
  mr__obs o;
  obs_started(&o, 0);
  chunk(&o, 1, 1, 10, 0, 100 * MS, 90 * MS, 0);
  chunk(&o, 2, 11, 10, 0, 300 * MS, 290 * MS, 1);
  chunk(&o, 1, 21, 1, 100 * MS, 150 * MS, 40 * MS, 0);
  for (uint64_t k = 0; k < 10; k++) chunk(&o, 0, 100 + k, 1, k * MS, (k + 1) * MS, MS / 2, 0);
  assert_int_equal(o.rank[1].items, 11);
  assert_int_equal(o.rank[1].chunks, 2);
  assert_int_equal(o.rank[1].busy_ns, 130 * MS);
  assert_int_equal(o.rank[2].failed, 1);
  assert_int_equal(o.chunks, 13);
  assert_int_equal(o.nslow, MR__OBS_SLOWEST);
  assert_int_equal(o.slow[0].line, 11); /* the 290 ms chunk */
  assert_int_equal(o.slow[1].line, 1);
  assert_int_equal(o.slow[2].line, 21);
  assert_true(o.slow[3].busy_ns <= o.slow[2].busy_ns);

  mr__farm_stats fs = {0};
  fs.items = 31;
  fs.chunks = 13;
  fs.busy_ns = 425 * MS;
  fs.seconds = 0.3;
  fs.computing = 3;
  mr__obs_counts c = {31, 1, 0, 31, 31};
  mr__obs_summary s;
  mr__obs_summarize(&o, &fs, &c, &s);
  assert_true(fabs(s.serial_s - 0.425) < 1e-9);
  assert_true(fabs(s.speedup - 0.425 / 0.3) < 1e-9);
  assert_true(fabs(s.saved_s - 0.125) < 1e-9);
  /* busiest 290 ms against a mean of (5 + 130 + 290) / 3 */
  assert_true(fabs(s.imbalance - (290.0 / (425.0 / 3) - 1)) < 1e-9);
  mr_buf out = {0};
  mr__obs_stats_text(&o, &s, &out);
  assert_non_null(strstr(out.data, "31 items in 300ms"));
  assert_non_null(strstr(out.data, "1.4x faster, 125ms saved"));
  assert_non_null(strstr(out.data, "rank 2 97% (10)"));
  assert_non_null(strstr(out.data, "slowest: lines 11-20 290ms (10 items, rank 2)"));
  out.len = 0;
  mr__obs_stats_json(&o, &s, &out);
  assert_non_null(strstr(out.data, "\"per_rank\": [\n    {\"rank\": 0,"));
  assert_non_null(strstr(out.data, "{\"rank\": 2, \"threads\": 1, \"items\": 10, \"failed\": 1"));
  assert_non_null(strstr(out.data, "\"slowest\": [\n    {\"first_line\": 11, \"last_line\": 20"));
  assert_int_equal(out.data[out.len - 2], '}');
  out.len = 0;
  mr__obs_stats_line(&s, &out);
  assert_non_null(strstr(out.data, "mapreduce: stats: items=31 ok=30 failed=1 chunks=13 "));
  mr_buf_free(&out);
  mr__obs_free(&o);
}

static void test_progress_says_done_total_rate_and_eta(void **st) {
  (void)st;
  mr__obs o;
  obs_started(&o, 0);
  fixed = (mr__obs_counts){250, 2, 0, 300, 1000};
  mr_buf out = {0};
  mr__obs_progress_text(&o, &fixed, 1000 * MS, NULL, &out);
  /* a log's line: a date first */
  assert_non_null(strstr(out.data, "mapreduce: 20"));
  assert_non_null(strstr(out.data, "250 of ~1,000 items (25.0%), 250 items/s, 2 failed, "
                                   "elapsed 1.0s, ETA 3.0s"));
  out.len = 0;
  o.cfg.tty = 1;
  fixed.total = UINT64_MAX;
  mr__obs_progress_text(&o, &fixed, 1000 * MS, NULL, &out);
  assert_string_equal(out.data, "mapreduce: 250 items, 250 items/s, 2 failed, elapsed 1.0s, "
                                "total not known yet");
  out.len = 0;
  fixed = (mr__obs_counts){500, 0, 500, 1000, 1000};
  mr__obs_progress_text(&o, &fixed, 2000 * MS, "finished", &out);
  assert_string_equal(out.data, "mapreduce: finished: 1,000 items, 250 items/s, 0 failed, "
                                "elapsed 2.0s (500 done before)");
  mr_buf_free(&out);
  mr__obs_free(&o);
}

static void test_status_is_a_whole_document_with_every_rank(void **st) {
  (void)st;
  mr__obs o;
  obs_started(&o, 0);
  chunk(&o, 1, 1, 10, 0, 100 * MS, 90 * MS, 0);
  fixed = (mr__obs_counts){10, 0, 0, 20, 40};
  mr_buf out = {0};
  mr__obs_status_text(&o, &fixed, 200 * MS, "running", &out);
  assert_true(strncmp(out.data, "mapreduce status", 16) == 0);
  assert_non_null(strstr(out.data, "\nstate: running\n"));
  assert_non_null(strstr(out.data, "\ndone: 10 of ~40 items (25.0%)\n"));
  assert_non_null(strstr(out.data, "\neta: 600ms (about "));
  assert_non_null(strstr(out.data, "\nrank 0: 0 items, busy 0%, no result yet\n"));
  assert_non_null(strstr(out.data, "\nrank 1: 10 items, busy 45%, last result 100ms ago\n"));
  assert_non_null(strstr(out.data, "\nrank 2: "));
  assert_true(out.len > 4 && strcmp(out.data + out.len - 4, "end\n") == 0);
  mr_buf_free(&out);
  mr__obs_free(&o);
}

static uint64_t lane_sum(const mr__timeline *t, int r) {
  uint64_t s = 0;
  for (int i = 0; i < t->nbins; i++) s += t->busy[(size_t)r * (size_t)t->nbins + i];
  return s;
}

static void test_timeline_bins_widen_and_keep_every_busy_ns(void **st) {
  (void)st;
  mr__timeline t;
  assert_int_equal(mr__timeline_init(&t, 2, 10, 1000), 0);
  mr__timeline_add(&t, 0, 500, 2500, 0); /* over three bins */
  assert_int_equal(t.busy[0], 500);
  assert_int_equal(t.busy[1], 1000);
  assert_int_equal(t.busy[2], 500);
  mr__timeline_add(&t, 1, 0, 45000, 3); /* past the 10 bins: widen thrice */
  assert_int_equal(t.bin_ns, 8000);
  assert_int_equal(lane_sum(&t, 0), 2000);
  assert_int_equal(lane_sum(&t, 1), 45000);
  assert_int_equal(t.busy[0], 2000); /* 0..8000 */
  assert_int_equal(t.failed[1 * 10 + 5], 3); /* where it ended: 40000..48000 */
  mr__obs_rank ranks[2] = {{0}, {0}};
  ranks[0].threads = ranks[1].threads = 1;
  ranks[1].busy_ns = 45000;
  mr_buf out = {0};
  mr__timeline_svg(&t, ranks, "a <title> & more", "sub", &out);
  int lanes = 0;
  for (const char *p = out.data; (p = strstr(p, "class=\"lane\"")); p++) lanes++;
  assert_int_equal(lanes, 2);
  assert_non_null(strstr(out.data, "a &lt;title&gt; &amp; more"));
  assert_non_null(strstr(out.data, "<title>3 failed</title>"));
  assert_non_null(strstr(out.data, "</svg>\n"));
  mr_buf_free(&out);
  mr__timeline_free(&t);
}

static void test_files_replace_whole_and_never_through_a_symlink(void **st) {
  (void)st;
  char path[256], link[256], other[256];
  tu_path(path, sizeof path, "status.txt");
  tu_path(link, sizeof link, "link.txt");
  tu_path(other, sizeof other, "other.txt");
  mr_buf why = {0};
  assert_int_equal(mr__obsfile_write(path, "one\n", 4, &why), 0);
  assert_int_equal(mr__obsfile_write(path, "two\n", 4, &why), 0);
  size_t len;
  char *got = tu_read(path, &len);
  assert_string_equal(got, "two\n");
  free(got);
  assert_int_equal(symlink(other, link), 0);
  assert_int_equal(mr__obsfile_check(link, "--status", &why), MR_EINVAL);
  assert_non_null(strstr(why.data, "is a symlink"));
  why.len = 0;
  assert_int_equal(mr__obsfile_check(tu_tmpdir(), "--trace", &why), MR_EINVAL);
  assert_non_null(strstr(why.data, "not a regular file"));
  assert_int_equal(mr__obsfile_check(other, "--trace", &why), 0); /* to create */
  /* an abandoned one leaves nothing behind */
  mr__obsfile *f;
  assert_int_equal(mr__obsfile_open(other, &f, &why), 0);
  assert_non_null(f);
  fputs("half", mr__obsfile_stream(f));
  mr__obsfile_abort(f);
  assert_false(tu_exists(other));
  why.len = 0; /* a directory that is not there: its code and the message */
  char missing[256];
  tu_path(missing, sizeof missing, "nodir/x.json");
  assert_int_equal(mr__obsfile_write(missing, "x", 1, &why), MR_ENOENT);
  assert_non_null(strstr(why.data, "cannot write '"));
  char cmd[300];
  snprintf(cmd, sizeof cmd, "ls -A '%s' | grep -c tmp > /dev/null", tu_tmpdir());
  assert_int_not_equal(system(cmd), 0);
  mr_buf_free(&why);
}

/* The trace's events are put together by hand (no printf on the master's
 * path): each must read as printf would write it, with the largest numbers
 * too, and every event must reach the file across the blocks it is
 * written in. */
static void test_trace_events_read_as_printf_writes_them(void **st) {
  (void)st;
  char path[256];
  tu_path(path, sizeof path, "trace.json");
  mr__obs o;
  mr__obs_cfg cfg;
  memset(&cfg, 0, sizeof cfg);
  cfg.trace = path;
  mr_buf why = {0};
  assert_int_equal(mr__obs_open(&o, &cfg, &why), 0);
  mr__farm_event e = {0};
  e.kind = MR__EV_START;
  e.ranks = 3;
  e.threads = 2;
  e.master_computes = 1;
  e.wall_ns = 1700000000ull * 1000000000ull;
  mr__obs_event(&o, &e);
  const uint64_t big = UINT64_MAX / 4; /* kept between t0 and t1 */
  struct {
    int rank, attempt;
    uint64_t chunk, line, last, t0, t1, busy;
    uint32_t items, failed, unrun;
  } ev[] = {
      {1, -1, 0, 1, 10, 0, 1000, 999, 10, 0, 0},
      {2, 3, 7, 11, 12, 5, 2000007, 1000000, 2, 1, 0},      /* a retry */
      {0, 0, 9, 4000000000ull, 4000000009ull, 1000, 91000, 90000, 10, 0, 4}, /* handed back */
      {2, -1, UINT64_MAX, UINT64_MAX - 1, UINT64_MAX, big, big + 1001, 1000, UINT32_MAX,
       UINT32_MAX, 0},
  };
  mr_buf want = {0};
  for (size_t i = 0; i < sizeof ev / sizeof ev[0]; i++) {
    memset(&e, 0, sizeof e);
    e.kind = MR__EV_CHUNK;
    e.rank = ev[i].rank;
    e.attempt = ev[i].attempt;
    e.chunk = ev[i].chunk;
    e.items = ev[i].items;
    e.failed = ev[i].failed;
    e.unrun = ev[i].unrun;
    e.line = ev[i].line;
    e.last_line = ev[i].last;
    e.t0 = ev[i].t0;
    e.t1 = ev[i].t1;
    e.busy_ns = ev[i].busy;
    e.start_wall_ns = o.wall0_ns + e.t0;
    mr__obs_event(&o, &e);
  }
  memset(&e, 0, sizeof e);
  e.kind = MR__EV_WRITE;
  e.chunk = 12;
  e.items = 345;
  e.t0 = 1000;
  e.t1 = 3001;
  mr__obs_event(&o, &e);
  /* what printf makes of the same (the lanes: each rank's first thread) */
#define US(ns) (uint64_t)(ns) / 1000, (uint64_t)(ns) % 1000
  mr_buf_printf(&want, ",\n{\"ph\":\"X\",\"pid\":1,\"tid\":1,\"ts\":%" PRIu64 ".%03" PRIu64
                ",\"dur\":0.999,\"cat\":\"chunk\",\"name\":\"chunk 0\",\"args\":{\"chunk\":0,"
                "\"items\":10,\"first_line\":1,\"last_line\":10,\"failed\":0,\"handed_back\":0,"
                "\"sent_us\":0.000,\"received_us\":1.000}}",
                US(0));
  assert_non_null(strstr(o.tbuf.data, want.data));
  want.len = 0;
  mr_buf_printf(&want, ",\n{\"ph\":\"X\",\"pid\":2,\"tid\":1,\"ts\":%" PRIu64 ".%03" PRIu64
                ",\"dur\":1000.000,\"cat\":\"retry\",\"name\":\"chunk 7: retry 3\",\"args\":"
                "{\"chunk\":7,\"items\":2,\"first_line\":11,\"last_line\":12,\"failed\":1,"
                "\"handed_back\":0,\"sent_us\":0.005,\"received_us\":2000.007}}",
                US(5));
  assert_non_null(strstr(o.tbuf.data, want.data));
  want.len = 0;
  mr_buf_printf(&want, ",\n{\"ph\":\"X\",\"pid\":0,\"tid\":1,\"ts\":1.000,\"dur\":90.000,"
                "\"cat\":\"handback\",\"name\":\"chunk 9: handed-back items\",\"args\":"
                "{\"chunk\":9,\"items\":10,\"first_line\":4000000000,\"last_line\":4000000009,"
                "\"failed\":0,\"handed_back\":4,\"sent_us\":1.000,\"received_us\":91.000}},\n"
                "{\"ph\":\"i\",\"s\":\"t\",\"pid\":0,\"tid\":1,\"ts\":91.000,\"cat\":\"handback\","
                "\"name\":\"handed back 4 items of chunk 9\"}");
  assert_non_null(strstr(o.tbuf.data, want.data));
  want.len = 0;
  mr_buf_printf(&want, ",\n{\"ph\":\"X\",\"pid\":2,\"tid\":%d,\"ts\":%" PRIu64 ".%03" PRIu64
                ",\"dur\":1.000,\"cat\":\"chunk\",\"name\":\"chunk %" PRIu64 "\",\"args\":"
                "{\"chunk\":%" PRIu64 ",\"items\":%" PRIu32 ",\"first_line\":%" PRIu64
                ",\"last_line\":%" PRIu64 ",\"failed\":%" PRIu32 ",\"handed_back\":0,"
                "\"sent_us\":%" PRIu64 ".%03" PRIu64 ",\"received_us\":%" PRIu64 ".%03" PRIu64
                "}}",
                1, US(big), UINT64_MAX, UINT64_MAX, UINT32_MAX, UINT64_MAX - 1, UINT64_MAX,
                UINT32_MAX, US(big), US(big + 1001));
  assert_non_null(strstr(o.tbuf.data, want.data));
  want.len = 0;
  mr_buf_printf(&want, ",\n{\"ph\":\"X\",\"pid\":0,\"tid\":0,\"ts\":1.000,\"dur\":2.001,"
                "\"cat\":\"master\",\"name\":\"write\",\"args\":{\"chunk\":12,\"items\":345}}");
  assert_non_null(strstr(o.tbuf.data, want.data));
#undef US
  /* many more: blocks go to the file as they fill, and all arrive */
  for (uint64_t k = 0; k < 20000; k++) {
    memset(&e, 0, sizeof e);
    e.kind = MR__EV_READ;
    e.chunk = 100 + k;
    e.items = 1;
    e.t0 = k * 1000;
    e.t1 = k * 1000 + 10;
    mr__obs_event(&o, &e);
  }
  uint64_t events = o.trace_events;
  mr__farm_stats fs = {0};
  fs.seconds = 0.1;
  mr__obs_counts c = {0, 0, 0, 0, UINT64_MAX};
  assert_int_equal(mr__obs_finish(&o, "finished", &fs, &c), 0);
  size_t len = 0;
  char *got = tu_read(path, &len);
  assert_non_null(got);
  assert_true(len > 4);
  size_t opens = 0;
  for (size_t i = 0; i < len; i++) opens += got[i] == '\n' && got[i + 1] == '{';
  /* one event a line after the first; the threads' names come at the end */
  assert_true(opens >= events - 1);
  assert_non_null(strstr(got, "\"name\":\"read\",\"args\":{\"chunk\":20099,\"items\":1}}"));
  assert_non_null(strstr(got, "\"name\":\"chunk 7: retry 3\""));
  assert_string_equal(got + len - 4, "\n]}\n");
  free(got);
  mr_buf_free(&want);
  mr_buf_free(&why);
  mr__obs_free(&o);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_durations_and_counts_read_as_people_write_them),
      cmocka_unit_test(test_eta_is_the_rest_at_the_rate_so_far),
      cmocka_unit_test(test_events_add_up_per_rank_and_keep_the_slowest),
      cmocka_unit_test(test_progress_says_done_total_rate_and_eta),
      cmocka_unit_test(test_status_is_a_whole_document_with_every_rank),
      cmocka_unit_test(test_timeline_bins_widen_and_keep_every_busy_ns),
      cmocka_unit_test(test_files_replace_whole_and_never_through_a_symlink),
      cmocka_unit_test(test_trace_events_read_as_printf_writes_them),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
