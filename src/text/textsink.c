/* textsink.c: finished chunks to output lines, error messages, journal
 * records and joblog lines. */
#include "text/textsink.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "base/idle.h"

void mr__textsink_report(mr__textsink *ts, uint64_t line, int status,
                     const char *msg, size_t len) {
  if (status == MR_ETOOLONG)
    fprintf(ts->errs, "%s:%" PRIu64 ": error: line too long (over %zu bytes)\n",
            ts->mr__input_name, line, ts->max_line);
  else if (len == 0)
    fprintf(ts->errs, "%s:%" PRIu64 ": error: %s\n", ts->mr__input_name, line,
            mr_strerror(status));
  else
    fprintf(ts->errs, "%s:%" PRIu64 ": error: %.*s\n", ts->mr__input_name, line,
            (int)len, msg);
}

int mr__textsink_parse_halt(const char *s, mr__halt *h) {
  memset(h, 0, sizeof *h);
  if (strcmp(s, "never") == 0) return 0;
  const char *comma = strchr(s, ',');
  size_t wl = comma ? (size_t)(comma - s) : strlen(s);
  if (wl == 4 && strncmp(s, "soon", 4) == 0) h->when = MR__HALT_SOON;
  else if (wl == 3 && strncmp(s, "now", 3) == 0) h->when = MR__HALT_NOW;
  else return MR_EINVAL;
  if (!comma) { /* "now" alone: at the first failure, as fail=1 */
    h->fail_n = 1;
    return 0;
  }
  const char *v = comma + 1;
  if (strncmp(v, "fail=", 5) != 0 || !v[5]) return MR_EINVAL;
  v += 5;
  char *end;
  double x = strtod(v, &end);
  if (end == v || x <= 0) return MR_EINVAL;
  if (*end == '%' && end[1] == '\0' && x <= 100) h->fail_pct = x;
  else if (*end == '\0' && x == (double)(uint64_t)x) h->fail_n = (uint64_t)x;
  else return MR_EINVAL;
  return 0;
}

static int halt_check(const mr__textsink *ts) {
  const mr__halt *h = &ts->halt;
  if (!h->when || !ts->failed) return 0;
  if (h->fail_n && ts->failed >= h->fail_n) return h->when;
  uint64_t done = ts->ok + ts->failed;
  /* a percentage means little before a few items have finished */
  if (h->fail_pct > 0 && done >= 3 && (double)ts->failed * 100 >= h->fail_pct * (double)done)
    return h->when;
  return 0;
}

static const char *host_of(const mr__textsink *ts, int rank) {
  return ts->hosts && ts->hosts[rank] ? ts->hosts[rank] : ":";
}

/* One item's joblog line. */
static int log_item(mr__textsink *ts, const mr__done *d, uint32_t i,
                    uint64_t seq, const char *text, size_t len,
                    const mr__rec *rec) {
  const mr__times *t = mr__result_times(d->result);
  mr__times none = {0, 0, 0, 0, 0};
  if (!t) t = &none;
  else t += i;
  int exitval = t->exitval, sig = t->signal;
  if (rec->status == MR_ETIMEDOUT) { /* as GNU parallel logs a timeout */
    exitval = -1;
    if (!sig) sig = 15;
  } else if (rec->status && !exitval && !sig) {
    exitval = 1;
  }
  ts->scratch.len = 0;
  ts->describe(ts->describe_ctx, text, len, seq, &ts->scratch);
  int rank = d->ranks ? d->ranks[i] : d->rank;
  return mr__joblog_add(ts->joblog, seq, host_of(ts, rank), t->start, t->runtime,
                    rec->status ? 0 : rec->len, exitval, sig,
                    ts->scratch.data ? ts->scratch.data : "", ts->scratch.len);
}

#define SYNC_NS 10000000u /* journal and joblog records wait at most 10 ms */

static int ts_sync(mr__textsink *ts, uint64_t now) {
  ts->synced_ns = now;
  if (mr__output_flush(ts->out)) return MR_EIO; /* mr__output_why says why */
  /* a full disk under the journal or joblog is named, not "input/output
   * error" from nowhere: the first failure's message is kept */
  mr_buf *why = ts->failed_why.len ? NULL : &ts->failed_why;
  if (ts->journal && mr__journal_sync(ts->journal, why)) return MR_EIO;
  if (ts->joblog && mr__joblog_sync(ts->joblog, why)) return MR_EIO;
  return 0;
}

static int ts_put(void *ctx, const mr__done *d) {
  mr__textsink *ts = ctx;
  const mr__result_hdr *h = d->result;
  const mr__work_hdr *wh = d->work;
  const char *data = mr__result_data(d->result);
  const mr__rec *rec = result_recs(d->result);
  const char *wp = work_items(d->work);
  int rc = 0;
  if (h->nfail == 0 && !ts->joblog) { /* the common case: one piece */
    if (mr__output_write(ts->out, data, d->result_len - (size_t)(data - (const char *)d->result)))
      return MR_EIO;
    ts->ok += h->n;
    if (ts->journal) {
      /* every item counts: a resume checks each against the chain */
      uint64_t first = 0, chain = 0;
      for (uint32_t i = 0; i < h->n; i++) {
        const char *text;
        size_t len;
        work_next(&wp, &text, &len);
        uint64_t hash = mr__doneset_hash(text, len);
        if (i == 0) first = hash;
        chain = mr__doneset_chain(chain, hash);
      }
      rc = mr__journal_result(ts->journal, wh->seq0, wh->seq0 + h->n, mr__output_size(ts->out),
                          first, chain);
    }
  } else {
    uint64_t run_first = 0, run_hash = 0, run_chain = 0;
    int in_run = 0;
    for (uint32_t i = 0; i < h->n && !rc; i++) {
      const char *text;
      size_t len;
      work_next(&wp, &text, &len);
      uint64_t seq = wh->seq0 + i;
      int ok = rec[i].status == 0;
      /* the run stopped before it ran: not written, not journaled, not
       * logged, so --resume runs it */
      int unfinished = mr__unfinished(rec[i].status);
      if (ok) {
        if (mr__output_write(ts->out, data, rec[i].len)) return MR_EIO;
        ts->ok++;
      } else if (!unfinished) {
        mr__textsink_report(ts, d->tags[i], rec[i].status, data, rec[i].len);
        ts->failed++;
      }
      if (ts->journal) {
        uint64_t hash = mr__doneset_hash(text, len);
        if (ok) {
          if (!in_run) run_first = seq, run_hash = hash, run_chain = 0, in_run = 1;
          run_chain = mr__doneset_chain(run_chain, hash);
        }
        if (!ok || i + 1 == h->n) { /* a run of results ends here */
          if (in_run)
            rc = mr__journal_result(ts->journal, run_first, ok ? seq + 1 : seq,
                                mr__output_size(ts->out), run_hash, run_chain);
          in_run = 0;
          if (!ok && !unfinished && !rc)
            rc = mr__journal_failure(ts->journal, seq, rec[i].status, hash);
        }
      }
      if (ts->joblog && !unfinished && !rc) rc = log_item(ts, d, i, seq, text, len, &rec[i]);
      data += rec[i].len;
      /* --halt now: nothing after the failure that halts is written (nor
       * journaled, so --resume runs it), even when it was computed */
      if (!ok && !unfinished && ts->halt.when == MR__HALT_NOW && halt_check(ts)) break;
    }
  }
  if (!rc && (ts->journal || ts->joblog)) {
    /* three writes a chunk cost more than the chunk at -c 1: the records
     * go out every SYNC_NS (a SIGKILL loses at most that much finished
     * work, which --resume redoes) and whenever the master waits */
    uint64_t now = mr__now_ns();
    if (now - ts->synced_ns >= SYNC_NS) rc = ts_sync(ts, now);
  }
  if (rc) return rc;
  return halt_check(ts);
}

int mr__textsink_sync(mr__textsink *ts) { return ts_sync(ts, mr__now_ns()); }

static void ts_idle(void *ctx) {
  mr__textsink_sync(ctx); /* a failure shows at the next put */
}

mr__sink mr__textsink_sink(mr__textsink *ts) {
  mr__sink s = {ts_put, ts_idle, ts};
  return s;
}

void mr__textsink_free(mr__textsink *ts) {
  mr_buf_free(&ts->scratch);
  mr_buf_free(&ts->failed_why);
}
