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

/* Microseconds with three decimals, from integers: printing a double is
 * most of a trace's cost. US(ns) gives the two arguments of US_FMT. */
#define US_FMT "%" PRIu64 ".%03" PRIu64
#define US(ns) (uint64_t)(ns) / 1000, (uint64_t)(ns) % 1000

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
  FILE *f = trace_f(o);
  int tid = trace_lane(o, e->rank, start, start + e->busy_ns);
  const char *cat = e->attempt < 0 ? "chunk" : e->attempt == 0 ? "handback" : "retry";
  fprintf(f, ",\n{\"ph\":\"X\",\"pid\":%d,\"tid\":%d,\"ts\":" US_FMT ",\"dur\":" US_FMT
             ",\"cat\":\"%s\",\"name\":\"chunk %" PRIu64,
          e->rank, tid, US(start), US(e->busy_ns), cat, e->chunk);
  if (e->attempt == 0) fputs(": handed-back items", f);
  else if (e->attempt > 0) fprintf(f, ": retry %d", e->attempt);
  fprintf(f, "\",\"args\":{\"chunk\":%" PRIu64 ",\"items\":%" PRIu32 ",\"first_line\":%" PRIu64
             ",\"last_line\":%" PRIu64 ",\"failed\":%" PRIu32 ",\"handed_back\":%" PRIu32
             ",\"sent_us\":" US_FMT ",\"received_us\":" US_FMT "}}",
          e->chunk, e->items, e->line, e->last_line, e->failed, e->unrun, US(e->t0), US(e->t1));
  o->trace_events++;
  if (e->unrun) {
    fprintf(f, ",\n{\"ph\":\"i\",\"s\":\"t\",\"pid\":%d,\"tid\":%d,\"ts\":" US_FMT ",\"cat\":\"handback\","
               "\"name\":\"handed back %" PRIu32 " items of chunk %" PRIu64 "\"}",
            e->rank, tid, US(start + e->busy_ns), e->unrun, e->chunk);
    o->trace_events++;
  }
}

void mr__trace_span(mr__obs *o, const mr__farm_event *e) {
  fprintf(trace_f(o), ",\n{\"ph\":\"X\",\"pid\":0,\"tid\":%d,\"ts\":" US_FMT ",\"dur\":" US_FMT ","
                      "\"cat\":\"master\",\"name\":\"%s\",\"args\":{\"chunk\":%" PRIu64
                      ",\"items\":%" PRIu32 "}}",
          MASTER_TID, US(e->t0), US(e->t1 - e->t0), e->kind == MR__EV_READ ? "read" : "write",
          e->chunk, e->items);
  o->trace_events++;
}

int mr__trace_end(mr__obs *o, mr_buf *why) {
  FILE *f = trace_f(o);
  for (int r = 0; r < o->ranks && o->lanes_used; r++)
    for (int t = 1; t <= o->lanes_used[r]; t++)
      fprintf(f, ",\n{\"ph\":\"M\",\"pid\":%d,\"tid\":%d,\"name\":\"thread_name\","
                 "\"args\":{\"name\":\"computing thread %d\"}}", r, t, t);
  fputs("\n]}\n", f);
  return mr__obsfile_commit(o->trace, why);
}
