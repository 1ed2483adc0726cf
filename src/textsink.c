/* textsink.c: finished chunks to output lines and error messages. */
#include "textsink.h"

#include <inttypes.h>

void textsink_report(mr__textsink *ts, uint64_t line, int status,
                     const char *msg, size_t len) {
  if (status == MR_ETOOLONG)
    fprintf(ts->errs, "%s:%" PRIu64 ": error: line too long (over %zu bytes)\n",
            ts->input_name, line, ts->max_line);
  else if (len == 0)
    fprintf(ts->errs, "%s:%" PRIu64 ": error: %s\n", ts->input_name, line,
            mr_strerror(status));
  else
    fprintf(ts->errs, "%s:%" PRIu64 ": error: %.*s\n", ts->input_name, line,
            (int)len, msg);
}

static int ts_put(void *ctx, const mr__done *d) {
  mr__textsink *ts = ctx;
  const mr__result_hdr *h = d->result;
  const char *data = result_data(d->result);
  const mr__rec *rec = result_recs(d->result);
  if (h->nfail == 0) { /* the common case: one copy of the whole chunk */
    ts->ok += h->n;
    return output_write(ts->out, data, d->result_len - (size_t)(data - (const char *)d->result));
  }
  for (uint32_t i = 0; i < h->n; i++) {
    if (rec[i].status == 0) {
      if (output_write(ts->out, data, rec[i].len)) return MR_EIO;
      ts->ok++;
    } else {
      textsink_report(ts, d->tags[i], rec[i].status, data, rec[i].len);
      ts->failed++;
    }
    data += rec[i].len;
  }
  return 0;
}

static void ts_idle(void *ctx) {
  mr__textsink *ts = ctx;
  output_flush(ts->out); /* a failure shows at the next write */
}

mr__sink textsink_sink(mr__textsink *ts) {
  mr__sink s = {ts_put, ts_idle, ts};
  return s;
}
