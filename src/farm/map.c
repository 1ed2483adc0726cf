/* map.c: mr_map and mr_map_reduce, the library face of the farm.
 * Items are fixed-size binary records in the root's memory; the farm carries
 * them as they are (its messages are length-prefixed), fn runs on every
 * rank, and results land at their index, so the farm can hand chunks over in
 * whatever order they finish. */
#include <stdlib.h>
#include <string.h>

#include "farm/farm.h"
#include "mapreduce.h"

typedef struct map_ctx {
  const char *items; /* root only */
  size_t n, next;
  size_t in_size, out_size;
  char *results;     /* root only */
  int *status;       /* root only, optional */
  mr_map_fn fn;
  mr_reduce_fn reduce;
  void *acc;         /* root only */
  void *scratch;     /* root only, with reduce: an aligned partial */
  void *arg;
  uint64_t failed;
} map_ctx;

/* ---- the source: items by index */

static int map_next(void *ctx, mr__item *it) {
  map_ctx *m = ctx;
  if (m->next == m->n) return 0;
  it->text = m->items + m->next * m->in_size;
  it->len = m->in_size;
  it->seq = m->next;
  it->tag = m->next;
  it->bad = 0;
  m->next++;
  return 1;
}

static uint64_t map_remaining(void *ctx) {
  map_ctx *m = ctx;
  return m->n - m->next;
}

/* ---- the kernel */

/* Per computing thread: fn gets its item and its result in aligned memory
 * of its own (in the messages they sit at any byte offset, and fn may well
 * read a double or a struct through them). */
typedef struct map_thread {
  const map_ctx *m;
  void *in, *out;
  void *acc, *tmp; /* with reduce: a chunk's partial and one result */
} map_thread;

static int call_fn(const map_thread *t, const char *item, size_t len, char *out) {
  const map_ctx *m = t->m;
  if (len != m->in_size) return MR_EINVAL;
  if (m->in_size) memcpy(t->in, item, m->in_size);
  int rc = m->fn(t->in, t->out, m->arg);
  if (rc == 0 && m->out_size) memcpy(out, t->out, m->out_size);
  return mr__job_status(rc);
}

static int map_run(void *tstate, const char *item, size_t len, uint64_t seq,
                   mr_buf *out, mr__times *times) {
  (void)seq;
  (void)times;
  const map_thread *t = tstate;
  if (mr_buf_reserve(out, t->m->out_size)) return MR_ENOMEM;
  int rc = call_fn(t, item, len, out->data + out->len);
  if (rc == 0) out->len += t->m->out_size;
  return rc;
}

static void map_tfini(void *ctx, void *tstate) {
  (void)ctx;
  map_thread *t = tstate;
  free(t->in);
  free(t->out);
  free(t->acc);
  free(t->tmp);
  free(t);
}

static int map_tinit(void *ctx, void **tstate) {
  const map_ctx *m = ctx;
  map_thread *t = calloc(1, sizeof *t);
  if (!t) return MR_ENOMEM;
  t->m = m;
  size_t out = m->out_size ? m->out_size : 1;
  t->in = malloc(m->in_size ? m->in_size : 1); /* malloc aligns for any type */
  t->out = calloc(1, out);
  if (m->reduce) {
    t->acc = malloc(out);
    t->tmp = malloc(out);
  }
  if (!t->in || !t->out || (m->reduce && (!t->acc || !t->tmp))) {
    map_tfini(ctx, t);
    return MR_ENOMEM;
  }
  *tstate = t;
  return 0;
}

/* A whole chunk folded into one partial result: one record, holding the
 * partial (status 0) or nothing when every item failed (MR_ENOENT). */
static int reduce_chunk(void *tstate, const mr__work_hdr *h, const char *items,
                        mr_buf *result) {
  const map_thread *t = tstate;
  const map_ctx *m = t->m;
  size_t pre = sizeof(mr__result_hdr) + sizeof(mr__rec);
  /* both in aligned memory of their own, as fn's result is */
  char *acc = t->acc, *tmp = t->tmp;
  if (mr_buf_reserve(result, pre + m->out_size)) return MR_ENOMEM;
  int have = 0;
  uint32_t nfail = 0;
  const char *p = items;
  for (uint32_t i = 0; i < h->n; i++) {
    const char *text;
    size_t len;
    int code = work_next(&p, &text, &len);
    if (code == 0) code = call_fn(t, text, len, have ? tmp : acc);
    if (code) {
      nfail++;
      continue;
    }
    if (have) m->reduce(acc, tmp, m->arg);
    have = 1;
  }
  mr__result_hdr rh = {h->id, 1, nfail, h->slot, 0, 0, 0};
  mr__rec rec = {have ? 0 : MR_ENOENT, have ? (uint32_t)m->out_size : 0};
  memcpy(result->data, &rh, sizeof rh);
  memcpy(result->data + sizeof rh, &rec, sizeof rec);
  if (have) memcpy(result->data + pre, acc, m->out_size);
  result->len = pre + rec.len;
  return 0;
}

/* ---- the sink */

static int map_put(void *ctx, const mr__done *d) {
  map_ctx *m = ctx;
  const mr__result_hdr *h = d->result;
  const mr__rec *rec = result_recs(d->result);
  const char *data = mr__result_data(d->result);
  if (m->reduce) {
    if (rec[0].status == 0) {
      /* the partial sits at any offset in the message: give reduce an
       * aligned copy, as on the ranks */
      if (!m->scratch) return MR_ENOMEM; /* stops the run on every rank */
      memcpy(m->scratch, data, m->out_size);
      m->reduce(m->acc, m->scratch, m->arg);
    }
    m->failed += h->nfail;
    return 0;
  }
  for (uint32_t i = 0; i < h->n; i++) {
    uint64_t idx = d->tags[i];
    int status = mr__unfinished(rec[i].status) ? MR_ESKIPPED : rec[i].status;
    if (status == 0) memcpy(m->results + idx * m->out_size, data, m->out_size);
    else m->failed++;
    if (m->status) m->status[idx] = status;
    data += rec[i].len;
  }
  return 0;
}

static int map_common(MPI_Comm comm, map_ctx *m, const mr_map_options *opt) {
  int inited = 0;
  MPI_Initialized(&inited);
  if (!inited || comm == MPI_COMM_NULL) return MR_EMPI;
  if (m->in_size > UINT32_MAX / 2 || m->out_size > UINT32_MAX / 2) return MR_ERANGE;
  int level = MPI_THREAD_SINGLE;
  MPI_Query_thread(&level);
  MPI_Comm dup;
  if (MPI_Comm_dup(comm, &dup) != MPI_SUCCESS) return MR_EMPI;
  int rank;
  MPI_Comm_rank(dup, &rank);
  mr__farm_cfg cfg;
  memset(&cfg, 0, sizeof cfg);
  cfg.chunksize = opt ? opt->chunksize : 0;
  cfg.threads = opt && opt->threads > 0 ? opt->threads : 1;
  cfg.unordered = 1; /* results go to their index: order does not matter */
  cfg.master_compute = -1;
  if (level < MPI_THREAD_FUNNELED) { /* threads beside MPI are not allowed */
    cfg.threads = 1;
    cfg.master_compute = 0;
  }
  mr__kernel k = {m, map_tinit, map_tfini, map_run, m->reduce ? reduce_chunk : NULL};
  mr__source src = {map_next, map_remaining, m};
  mr__sink sink = {map_put, NULL, m};
  if (rank == 0 && m->reduce) m->scratch = malloc(m->out_size ? m->out_size : 1);
  int rc = mr__farm_run(dup, &cfg, &k, rank == 0 ? &src : NULL,
                        rank == 0 ? &sink : NULL, NULL);
  free(m->scratch);
  long long res = rc ? rc : (long long)(m->failed > 0x7fffffff ? 0x7fffffff : m->failed);
  MPI_Bcast(&res, 1, MPI_LONG_LONG, 0, dup);
  MPI_Comm_free(&dup);
  return (int)res;
}

int mr_map(MPI_Comm comm, const void *items, size_t n, size_t in_size,
           void *results, size_t out_size, mr_map_fn fn, void *arg,
           int *status, const mr_map_options *opt) {
  if (!fn) return MR_EINVAL;
  map_ctx m = {items, n, 0, in_size, out_size, results, status, fn, NULL,
               NULL, NULL, arg, 0};
  return map_common(comm, &m, opt);
}

int mr_map_reduce(MPI_Comm comm, const void *items, size_t n, size_t in_size,
                  size_t out_size, mr_map_fn fn, mr_reduce_fn reduce,
                  void *acc, void *arg, const mr_map_options *opt) {
  if (!fn || !reduce) return MR_EINVAL;
  map_ctx m = {items, n, 0, in_size, out_size, NULL, NULL, fn, reduce,
               acc, NULL, arg, 0};
  return map_common(comm, &m, opt);
}
