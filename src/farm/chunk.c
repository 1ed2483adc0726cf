/* chunk.c: encoding work and results, and the per-item compute loop. */
#include "farm/chunk.h"

#include <stdatomic.h>
#include <string.h>

#include "base/idle.h"

void mr__work_begin(mr_buf *b, uint64_t id, uint64_t seq0, uint32_t flags,
                uint32_t slot, double timeout_s) {
  mr__work_hdr h = {.id = id, .seq0 = seq0, .flags = flags, .slot = slot, .timeout_s = timeout_s};
  b->len = 0;
  mr_buf_append(b, &h, sizeof h); /* cannot fail after the first chunk */
}

int mr__work_check(const void *msg, size_t len) {
  if (len < sizeof(mr__work_hdr)) return MR_EINVAL;
  mr__work_hdr h;
  memcpy(&h, msg, sizeof h);
  if (h.bytes != len - sizeof h) return MR_EINVAL;
  const char *p = work_items(msg), *end = p + h.bytes;
  uint32_t n = 0, last = 0;
  while (p < end) {
    uint32_t len32;
    last = (uint32_t)(p - work_items(msg));
    if ((size_t)(end - p) < MR__ITEM_OVERHEAD) return MR_EINVAL;
    memcpy(&len32, p + 1, sizeof len32);
    if ((size_t)(end - p) - MR__ITEM_OVERHEAD < len32) return MR_EINVAL;
    p += MR__ITEM_OVERHEAD + len32;
    if (p[-1] != '\0') return MR_EINVAL;
    n++;
  }
  return n == h.n && last == h.last ? 0 : MR_EINVAL;
}

static size_t result_prefix(uint32_t n, uint32_t flags) {
  size_t s = sizeof(mr__result_hdr) + (size_t)n * sizeof(mr__rec);
  if (flags & MR__WORK_TIMES) s += (size_t)n * sizeof(mr__times);
  return s;
}

const mr__times *mr__result_times(const void *msg) {
  const mr__result_hdr *h = msg;
  if (!(h->flags & MR__WORK_TIMES)) return NULL;
  return (const mr__times *)(const void *)((const char *)msg +
                                           sizeof(mr__result_hdr) +
                                           (size_t)h->n * sizeof(mr__rec));
}

const char *mr__result_data(const void *msg) {
  const mr__result_hdr *h = msg;
  return (const char *)msg + result_prefix(h->n, h->flags);
}

int mr__result_check(const void *msg, size_t len) {
  if (len < sizeof(mr__result_hdr)) return MR_EINVAL;
  const mr__result_hdr *h = msg;
  size_t pre = result_prefix(h->n, h->flags);
  if (len < pre) return MR_EINVAL;
  size_t total = 0;
  const mr__rec *r = result_recs(msg);
  for (uint32_t i = 0; i < h->n; i++) total += r[i].len;
  return total == len - pre ? 0 : MR_EINVAL;
}

_Thread_local volatile mr__current mr__now_computing;
_Atomic uint64_t mr__halt_seq = MR__NO_HALT;

/* Stores item i's record, and its times when the work asked for them
 * (result->data may move between items: index, do not keep pointers). */
static void rec_store(mr_buf *result, const mr__work_hdr *wh, uint32_t i,
                      const mr__rec *rec, const mr__times *t) {
  char *recs = result->data + sizeof(mr__result_hdr);
  memcpy(recs + i * sizeof *rec, rec, sizeof *rec);
  if (wh->flags & MR__WORK_TIMES)
    memcpy(recs + (size_t)wh->n * sizeof(mr__rec) + i * sizeof *t, t, sizeof *t);
}

/* Marks items from..n-1 unrun (their records follow the ones computed;
 * they add no output bytes). Returns how many. */
static uint32_t hand_back(mr_buf *result, const mr__work_hdr *wh,
                          uint32_t from) {
  mr__rec rec = {MR__NOTRUN, 0};
  mr__times t = {0, 0, 0, 0, wh->timeout_s};
  for (uint32_t i = from; i < wh->n; i++) rec_store(result, wh, i, &rec, &t);
  return wh->n - from;
}

int mr__chunk_compute(const mr__kernel *k, void *tstate, const void *work,
                  mr_buf *result) {
  mr__work_hdr wh;
  memcpy(&wh, work, sizeof wh);
  uint64_t t0 = mr__now_ns();
  uint64_t began = mr__wall_ns(); /* once a chunk: --trace places it */
  result->len = 0;
  if (k->run_chunk && !mr__halted(wh.seq0)) {
    int rc = k->run_chunk(tstate, &wh, work_items(work), result);
    if (rc) return rc;
    mr__result_hdr *rh = (mr__result_hdr *)(void *)result->data;
    rh->busy_ns = mr__now_ns() - t0;
    rh->start_ns = began;
    return 0;
  }
  size_t pre = result_prefix(wh.n, wh.flags);
  if (mr_buf_reserve(result, pre + wh.bytes * 2)) return MR_ENOMEM;
  result->len = pre;
  const char *p = work_items(work);
  uint32_t nfail = 0;
  int times = (wh.flags & MR__WORK_TIMES) != 0;
  uint64_t budget_ns = (uint64_t)wh.budget_us * 1000;
  uint32_t every = wh.check_every ? wh.check_every : 1;
  if (every > wh.n / 4) every = wh.n / 4 ? wh.n / 4 : 1; /* a short piece looks too */
  uint32_t countdown = every;
  for (uint32_t i = 0; i < wh.n; i++) {
    if (mr__halted(wh.seq0 + i)) { /* the run halts before it: never to start */
      nfail += hand_back(result, &wh, i);
      break;
    }
    const char *text;
    size_t len;
    int code = work_next(&p, &text, &len);
    size_t before = result->len;
    mr__times t = {0, 0, 0, 0, wh.timeout_s};
    double start = times ? mr__wall_time() : 0;
    uint64_t s0 = times ? mr__now_ns() : 0;
    if (code == 0) {
      mr__now_computing.seq = wh.seq0 + i;
      mr__now_computing.len = len;
      mr__now_computing.text = text;
      code = k->run(tstate, text, len, wh.seq0 + i, result, &t);
      mr__now_computing.text = NULL;
    }
    if (code == MR_ENOMEM) return MR_ENOMEM;
    if (code) nfail++;
    mr__rec rec = {code, (uint32_t)(result->len - before)};
    if (times) {
      t.start = start;
      t.runtime = (double)(mr__now_ns() - s0) * 1e-9;
    }
    rec_store(result, &wh, i, &rec, &t);
    if (code == MR__DROPPED) { /* the run is stopping: start no more */
      nfail += hand_back(result, &wh, i + 1);
      break;
    }
    if (code && !mr__unfinished(code) && (wh.flags & MR__WORK_STOP_AT_FAIL)) {
      mr__halt_failed(&wh, wh.seq0 + i);
      nfail += hand_back(result, &wh, i + 1);
      break;
    }
    if (budget_ns && i + 1 < wh.n && --countdown == 0) {
      countdown = every;
      if (mr__now_ns() - t0 > budget_ns) {
        nfail += hand_back(result, &wh, i + 1);
        break;
      }
    }
  }
  mr__result_hdr rh = {wh.id, wh.n, nfail, wh.slot, wh.flags,
                       mr__now_ns() - t0, began};
  memcpy(result->data, &rh, sizeof rh);
  return 0;
}

uint32_t mr__result_unrun(const void *msg) {
  const mr__result_hdr *h = msg;
  if (h->nfail == 0) return 0;
  const mr__rec *r = result_recs(msg);
  uint32_t n = 0;
  for (uint32_t i = 0; i < h->n; i++) n += r[i].status == MR__NOTRUN;
  return n;
}
