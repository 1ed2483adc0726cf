/* trace.c: --trace FILE: the run in Chrome's trace-event format (JSON),
 * which Perfetto (ui.perfetto.dev) and chrome://tracing load as it is: a
 * process per rank, a thread per computing thread, a span per chunk with
 * its items and lines, the master's reading and writing, retries and
 * hand-backs. Streamed as the chunks come back; nothing is held. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "obs/obs.h"

#define MASTER_TID 0 /* rank 0's reading and writing */

static FILE *trace_f(mr__obs *o) { return mr__obsfile_stream(o->trace); }

/* The events of the run, a few per chunk, are put together by hand in
 * o->tbuf (fprintf was most of the trace's cost on the master) and go to
 * the file in blocks of TRACE_BLOCK: one write a few thousand events. */
#define TRACE_BLOCK (256u << 10)
#define TRACE_EVENT_MAX 640 /* room for the longest event below (about 470) */

typedef struct tw {
  char *p;
} tw;

static void tw_lit(tw *w, const char *s, size_t n) {
  memcpy(w->p, s, n);
  w->p += n;
}
#define TW_LIT(w, s) tw_lit(w, s, sizeof s - 1)

static void tw_u64(tw *w, uint64_t v) {
  char d[20];
  int n = 0;
  do {
    d[n++] = (char)('0' + v % 10);
    v /= 10;
  } while (v);
  while (n) *w->p++ = d[--n];
}

static void tw_int(tw *w, int v) {
  if (v < 0) {
    *w->p++ = '-';
    tw_u64(w, (uint64_t)-(int64_t)v);
  } else {
    tw_u64(w, (uint64_t)v);
  }
}

/* ns as microseconds with three decimals, from integers (printing a
 * double would cost more than the rest) */
static void tw_us(tw *w, uint64_t ns) {
  tw_u64(w, ns / 1000);
  uint64_t f = ns % 1000;
  w->p[0] = '.';
  w->p[1] = (char)('0' + f / 100);
  w->p[2] = (char)('0' + f / 10 % 10);
  w->p[3] = (char)('0' + f % 10);
  w->p += 4;
}

static void trace_flush(mr__obs *o) {
  if (o->tbuf.len) fwrite(o->tbuf.data, 1, o->tbuf.len, trace_f(o));
  o->tbuf.len = 0;
}

/* Room for one more event; its writer, or a NULL pointer when out of
 * memory (the event is left out, the file stays well-formed). */
static int tw_open(mr__obs *o, tw *w) {
  if (o->tbuf.len >= TRACE_BLOCK) trace_flush(o);
  if (mr_buf_reserve(&o->tbuf, TRACE_EVENT_MAX)) {
    trace_flush(o);
    if (mr_buf_reserve(&o->tbuf, TRACE_EVENT_MAX)) return 0;
  }
  w->p = o->tbuf.data + o->tbuf.len;
  return 1;
}

static void tw_close(mr__obs *o, tw *w) {
  o->tbuf.len = (size_t)(w->p - o->tbuf.data);
  o->trace_events++;
}

void mr__trace_begin(mr__obs *o) {
  FILE *f = trace_f(o);
  fputs("{\"displayTimeUnit\":\"ms\",\"otherData\":{\"program\":\"mapreduce\"},"
        "\"traceEvents\":[\n",
        f);
  /* every later event starts with a comma */
  fputs("{\"ph\":\"M\",\"pid\":0,\"tid\":0,\"name\":\"process_name\","
        "\"args\":{\"name\":\"rank 0 (master)\"}}",
        f);
  o->trace_events = 1;
}

int mr__trace_start(mr__obs *o) {
  o->lane_end = calloc((size_t)o->ranks * (size_t)o->threads, sizeof *o->lane_end);
  o->lanes_used = calloc((size_t)o->ranks, sizeof *o->lanes_used);
  if (!o->lane_end || !o->lanes_used) return MR_ENOMEM;
  FILE *f = trace_f(o);
  for (int r = 0; r < o->ranks; r++) {
    if (r)
      fprintf(f, ",\n{\"ph\":\"M\",\"pid\":%d,\"tid\":0,\"name\":\"process_name\","
                 "\"args\":{\"name\":\"rank %d\"}}", r, r);
    fprintf(f, ",\n{\"ph\":\"M\",\"pid\":%d,\"tid\":0,\"name\":\"process_sort_index\","
               "\"args\":{\"sort_index\":%d}}", r, r);
  }
  fprintf(f, ",\n{\"ph\":\"M\",\"pid\":0,\"tid\":%d,\"name\":\"thread_name\","
             "\"args\":{\"name\":\"master: reading and writing\"}}", MASTER_TID);
  o->trace_events += 2 * (uint64_t)o->ranks + 1;
  return 0;
}

/* The computing thread a chunk ran on, as far as the times tell: the
 * first whose previous chunk had ended (threads take chunks as they free). */
static int trace_lane(mr__obs *o, int rank, uint64_t s, uint64_t e) {
  uint64_t *end = o->lane_end + (size_t)rank * (size_t)o->threads;
  int best = 0;
  for (int i = 0; i < o->threads; i++) {
    if (end[i] <= s) {
      best = i;
      break;
    }
    if (end[i] < end[best]) best = i;
  }
  end[best] = e;
  if (best + 1 > o->lanes_used[rank]) o->lanes_used[rank] = best + 1;
  return best + 1;
}

void mr__trace_chunk(mr__obs *o, const mr__farm_event *e, uint64_t start) {
  int tid = trace_lane(o, e->rank, start, start + e->busy_ns);
  tw w;
  if (!tw_open(o, &w)) return;
  TW_LIT(&w, ",\n{\"ph\":\"X\",\"pid\":");
  tw_int(&w, e->rank);
  TW_LIT(&w, ",\"tid\":");
  tw_int(&w, tid);
  TW_LIT(&w, ",\"ts\":");
  tw_us(&w, start);
  TW_LIT(&w, ",\"dur\":");
  tw_us(&w, e->busy_ns);
  if (e->attempt < 0) TW_LIT(&w, ",\"cat\":\"chunk\",\"name\":\"chunk ");
  else if (e->attempt == 0) TW_LIT(&w, ",\"cat\":\"handback\",\"name\":\"chunk ");
  else TW_LIT(&w, ",\"cat\":\"retry\",\"name\":\"chunk ");
  tw_u64(&w, e->chunk);
  if (e->attempt == 0) {
    TW_LIT(&w, ": handed-back items");
  } else if (e->attempt > 0) {
    TW_LIT(&w, ": retry ");
    tw_int(&w, e->attempt);
  }
  TW_LIT(&w, "\",\"args\":{\"chunk\":");
  tw_u64(&w, e->chunk);
  TW_LIT(&w, ",\"items\":");
  tw_u64(&w, e->items);
  TW_LIT(&w, ",\"first_line\":");
  tw_u64(&w, e->line);
  TW_LIT(&w, ",\"last_line\":");
  tw_u64(&w, e->last_line);
  TW_LIT(&w, ",\"failed\":");
  tw_u64(&w, e->failed);
  TW_LIT(&w, ",\"handed_back\":");
  tw_u64(&w, e->unrun);
  TW_LIT(&w, ",\"sent_us\":");
  tw_us(&w, e->t0);
  TW_LIT(&w, ",\"received_us\":");
  tw_us(&w, e->t1);
  TW_LIT(&w, "}}");
  tw_close(o, &w);
  if (e->unrun && tw_open(o, &w)) {
    TW_LIT(&w, ",\n{\"ph\":\"i\",\"s\":\"t\",\"pid\":");
    tw_int(&w, e->rank);
    TW_LIT(&w, ",\"tid\":");
    tw_int(&w, tid);
    TW_LIT(&w, ",\"ts\":");
    tw_us(&w, start + e->busy_ns);
    TW_LIT(&w, ",\"cat\":\"handback\",\"name\":\"handed back ");
    tw_u64(&w, e->unrun);
    TW_LIT(&w, " items of chunk ");
    tw_u64(&w, e->chunk);
    TW_LIT(&w, "\"}");
    tw_close(o, &w);
  }
}

void mr__trace_span(mr__obs *o, const mr__farm_event *e) {
  tw w;
  if (!tw_open(o, &w)) return;
  TW_LIT(&w, ",\n{\"ph\":\"X\",\"pid\":0,\"tid\":");
  tw_int(&w, MASTER_TID);
  TW_LIT(&w, ",\"ts\":");
  tw_us(&w, e->t0);
  TW_LIT(&w, ",\"dur\":");
  tw_us(&w, e->t1 - e->t0);
  if (e->kind == MR__EV_READ) TW_LIT(&w, ",\"cat\":\"master\",\"name\":\"read\",\"args\":{\"chunk\":");
  else TW_LIT(&w, ",\"cat\":\"master\",\"name\":\"write\",\"args\":{\"chunk\":");
  tw_u64(&w, e->chunk);
  TW_LIT(&w, ",\"items\":");
  tw_u64(&w, e->items);
  TW_LIT(&w, "}}");
  tw_close(o, &w);
}

int mr__trace_end(mr__obs *o, mr_buf *why) {
  trace_flush(o);
  mr_buf_free(&o->tbuf);
  FILE *f = trace_f(o);
  for (int r = 0; r < o->ranks && o->lanes_used; r++)
    for (int t = 1; t <= o->lanes_used[r]; t++)
      fprintf(f, ",\n{\"ph\":\"M\",\"pid\":%d,\"tid\":%d,\"name\":\"thread_name\","
                 "\"args\":{\"name\":\"computing thread %d\"}}", r, t, t);
  fputs("\n]}\n", f);
  return mr__obsfile_commit(o->trace, why);
}
