/* fold.c: the folding kernel, the -r combine and the keyed shuffle
 * (fold.h). */
#include "reduce/fold.h"

#include "base/error.h"
#include "base/idle.h"
#include "run/filter.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SHUFFLE_BATCH (8u << 20) /* bytes a rank packs per Alltoallv round */
#define LINES_BLOCK (1u << 20)   /* bytes of sorted lines per message to rank 0 */
#define TAG_LINES 101            /* after the farm: its tags are done with */
#define LIST_REC 16              /* what a kept value costs beyond its bytes */

typedef struct fold_thread {
  mr__fold *f;
  void *inner;
  int inner_ok;
  mr_buf res;
  mr_buf why;
  mr__acc *cols; /* -r: one partial per column of the results */
  size_t ncols;
  mr__kv *kv;    /* keyed */
  FILE **runs;   /* keyed, over its share of memory: sorted runs */
  size_t nruns;
} fold_thread;

/* ---------------------------------------------------------- spilling */

#define SPILL_IO (1u << 20)

static void fold_fail(mr__fold *f, int rc, const char *what) {
  pthread_mutex_lock(&f->mu);
  if (!f->rc) {
    f->rc = rc;
    if (what) mr_buf_printf(&f->why, "%s", what);
  }
  pthread_mutex_unlock(&f->mu);
}

/* A temporary file in tmpdir, unlinked at once: it goes with the process,
 * however that ends. */
static FILE *spill_open(mr__fold *f) {
  mr_buf path = {0};
  mr_buf_printf(&path, "%s/mapreduce-spill.XXXXXX", f->tmpdir ? f->tmpdir : "/tmp");
  /* close-on-exec: a reducer command (-R) has no business with them */
  int fd = path.data ? mkostemp(path.data, O_CLOEXEC) : -1;
  FILE *fp = NULL;
  if (fd >= 0) {
    unlink(path.data);
    fp = fdopen(fd, "w+b");
    if (!fp) close(fd);
  }
  if (!fp) { /* the run fails, saying why: the item in hand is not to blame */
    mr_buf why = {0};
    int rc = mr__error_file(&why, "write a spill file in", f->tmpdir ? f->tmpdir : "/tmp", errno);
    fold_fail(f, rc, why.data);
    mr_buf_free(&why);
  }
  mr_buf_free(&path);
  return fp;
}

static int pack_pair(mr__op op, const mr__kv_entry *e, mr_buf *out);

/* kv's entries, sorted, into a new run file (rewound); kv is emptied. */
static int spill_kv(mr__fold *f, mr__kv **kv, FILE **run) {
  *run = NULL;
  mr__kv_entry **v = mr__kv_sorted(*kv);
  if (!v) return MR_ENOMEM;
  FILE *fp = spill_open(f);
  int rc = fp ? 0 : MR_EIO;
  mr_buf b = {0};
  size_t n = mr__kv_count(*kv);
  int werr = 0;
  for (size_t i = 0; i < n && !rc; i++) {
    rc = pack_pair(f->op, v[i], &b);
    if (!rc && (b.len >= SPILL_IO || i + 1 == n)) {
      if (fwrite(b.data, 1, b.len, fp) != b.len) werr = errno, rc = MR_EIO;
      b.len = 0;
    }
  }
  if (!rc && (fflush(fp) || fseek(fp, 0, SEEK_SET))) werr = errno, rc = MR_EIO;
  if (rc == MR_EIO && fp) { /* a full disk, most likely: named, and the run fails */
    mr_buf why = {0};
    rc = mr__error_file(&why, "write a spill file in", f->tmpdir ? f->tmpdir : "/tmp", werr);
    fold_fail(f, rc, why.data);
    mr_buf_free(&why);
  }
  mr_buf_free(&b);
  free(v);
  if (rc) {
    if (fp) fclose(fp);
    return rc;
  }
  mr__kv_free(*kv);
  *kv = mr__kv_new();
  if (!*kv) {
    fclose(fp);
    return MR_ENOMEM;
  }
  __atomic_add_fetch(&f->spills, 1, __ATOMIC_RELAXED);
  *run = fp;
  return 0;
}

static int add_run(FILE ***runs, size_t *n, FILE *fp) {
  FILE **r = realloc(*runs, (*n + 1) * sizeof *r);
  if (!r) return MR_ENOMEM;
  r[(*n)++] = fp;
  *runs = r;
  return 0;
}

/* A thread's combiner over its share: to a sorted run. */
static int thread_spill(fold_thread *t) {
  mr__fold *f = t->f;
  /* after a failed spill, the run fails: no use trying at every item */
  if (!f->memory || __atomic_load_n(&f->rc, __ATOMIC_RELAXED)) return 0;
  size_t share = f->memory / 2 / (size_t)(f->threads > 0 ? f->threads : 1);
  if (mr__kv_bytes(t->kv) < share) return 0;
  FILE *fp;
  int rc = spill_kv(f, &t->kv, &fp);
  if (!rc && (rc = add_run(&t->runs, &t->nruns, fp))) fclose(fp);
  return rc;
}

/* The next packed pair of a run into b ([u32 klen][key][u64 len][partial],
 * as pack_pair writes it): 1, 0 at its end, or MR_EIO. */
static int run_read(FILE *fp, mr_buf *b) {
  uint32_t klen;
  uint64_t len;
  b->len = 0;
  size_t got = fread(&klen, 1, sizeof klen, fp);
  if (got == 0) return 0;
  if (got != sizeof klen || mr_buf_reserve(b, sizeof klen + klen + sizeof len)) return MR_EIO;
  memcpy(b->data, &klen, sizeof klen);
  if (fread(b->data + sizeof klen, 1, klen + sizeof len, fp) != klen + sizeof len)
    return MR_EIO;
  memcpy(&len, b->data + sizeof klen + klen, sizeof len);
  size_t head = sizeof klen + klen + sizeof len;
  if (mr_buf_reserve(b, head + len)) return MR_EIO;
  if (fread(b->data + head, 1, len, fp) != len) return MR_EIO;
  b->len = head + len;
  return 1;
}

/* ------------------------------------------------------------ folding */

static void strip_eol(const char *res, size_t *len) {
  while (*len && (res[*len - 1] == '\n' || res[*len - 1] == '\r')) (*len)--;
}

int mr__fold_result(mr__op op, mr__acc **cols, size_t *ncols, const char *res,
                    size_t len, uint64_t seq, mr_buf *why) {
  strip_eol(res, &len);
  int64_t x;
  if (mr__op_numeric(op) && mr__dec_small(res, len, &x)) { /* one integer: most results */
    if (*ncols == 0) {
      if (!(*cols = calloc(1, sizeof **cols))) return MR_ENOMEM;
      *ncols = 1;
    }
    return mr__acc_add_i64(op, &(*cols)[0], x);
  }
  if (memchr(res, '\n', len)) {
    mr_buf_puts(why, "-r folds one value per item, and the result has several lines");
    return MR_EINVAL;
  }
  size_t n = 1;
  for (size_t i = 0; i < len; i++) n += res[i] == '\t';
  /* all columns checked before any is folded: an item counts whole or not */
  for (size_t i = 0, c0 = 0; i <= len; i++) {
    if (i < len && res[i] != '\t') continue;
    int rc = mr__acc_check(op, res + c0, i - c0, why);
    if (rc) return rc;
    c0 = i + 1;
  }
  if (n > *ncols) {
    mr__acc *c = realloc(*cols, n * sizeof *c);
    if (!c) return MR_ENOMEM;
    memset(c + *ncols, 0, (n - *ncols) * sizeof *c);
    *cols = c;
    *ncols = n;
  }
  uint32_t col = 0;
  for (size_t i = 0, c0 = 0; i <= len; i++) {
    if (i < len && res[i] != '\t') continue;
    int rc = mr__acc_add(op, &(*cols)[col], res + c0, i - c0, (mr__pos){seq, col});
    if (rc) return rc;
    col++;
    c0 = i + 1;
  }
  return 0;
}

/* The next line of res from *at: its bounds without the '\r\n'. 0 at the end. */
static int next_line(const char *res, size_t len, size_t *at, const char **line, size_t *n) {
  if (*at >= len) return 0;
  const char *p = res + *at, *nl = memchr(p, '\n', len - *at);
  size_t l = nl ? (size_t)(nl - p) : len - *at;
  *at += l + (nl != NULL);
  if (l && p[l - 1] == '\r') l--;
  *line = p;
  *n = l;
  return 1;
}

static void split_pair(const char *line, size_t n, size_t *klen, const char **v, size_t *vlen) {
  const char *tab = memchr(line, '\t', n);
  *klen = tab ? (size_t)(tab - line) : n;
  *v = tab ? tab + 1 : line + n; /* no tab: the key alone, an empty value */
  *vlen = tab ? n - *klen - 1 : 0;
}

int mr__fold_pairs(mr__op op, mr__kv *kv, const char *res, size_t len, uint64_t seq,
                   mr_buf *why) {
  const char *line, *v;
  size_t n, klen, vlen, at = 0;
  uint32_t no = 0;
  if (mr__op_numeric(op)) { /* every value checked first: all pairs or none */
    while (next_line(res, len, &at, &line, &n)) {
      no++;
      if (n == 0) continue;
      split_pair(line, n, &klen, &v, &vlen);
      int rc = mr__acc_check(op, v, vlen, why);
      if (rc) {
        if (why->len) mr_buf_printf(why, " (pair %u of the item's output)", no);
        return rc;
      }
    }
  }
  at = 0;
  no = 0;
  while (next_line(res, len, &at, &line, &n)) {
    if (n == 0) continue; /* blank lines between pairs say nothing */
    split_pair(line, n, &klen, &v, &vlen);
    mr__kv_entry *e = mr__kv_get(kv, line, klen, mr__kv_hash(line, klen));
    if (!e) return MR_ENOMEM;
    int rc = mr__acc_add(op, &e->acc, v, vlen, (mr__pos){seq, no++});
    if (rc) return rc;
    if (op == MR__OP_CONCAT) mr__kv_grew(kv, vlen + LIST_REC);
  }
  return 0;
}

static int is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

int mr__fold_words(mr__op op, mr__kv *kv, const char *text, size_t len, uint64_t seq) {
  uint32_t no = 0;
  for (size_t i = 0; i < len;) {
    while (i < len && is_space(text[i])) i++;
    size_t w = i;
    while (i < len && !is_space(text[i])) i++;
    if (i == w) break;
    mr__kv_entry *e = mr__kv_get(kv, text + w, i - w, mr__kv_hash(text + w, i - w));
    if (!e) return MR_ENOMEM;
    if (op == MR__OP_SUM && !e->acc.dec && e->acc.small < INT64_MAX) { /* the common case */
      e->acc.small++;
      e->acc.n++;
      continue;
    }
    int rc = mr__acc_add(op, &e->acc, "1", 1, (mr__pos){seq, no++});
    if (rc) return rc;
    if (op == MR__OP_CONCAT) mr__kv_grew(kv, 1 + LIST_REC);
  }
  return 0;
}

/* ------------------------------------------------------------- kernel */

static int fold_tinit(void *ctx, void **out) {
  mr__fold *f = ctx;
  fold_thread *t = calloc(1, sizeof *t);
  if (!t) return MR_ENOMEM;
  t->f = f;
  if (f->keyed && !(t->kv = mr__kv_new())) {
    free(t);
    return MR_ENOMEM;
  }
  int rc = f->inner->thread_init ? f->inner->thread_init(f->inner->ctx, &t->inner) : 0;
  if (rc) {
    mr__kv_free(t->kv);
    free(t);
    return rc;
  }
  t->inner_ok = 1;
  *out = t;
  return 0;
}

static void thread_free(fold_thread *t) {
  mr_buf_free(&t->res);
  mr_buf_free(&t->why);
  for (size_t i = 0; i < t->ncols; i++) mr__acc_free(&t->cols[i]);
  free(t->cols);
  mr__kv_free(t->kv);
  for (size_t i = 0; i < t->nruns; i++)
    if (t->runs[i]) fclose(t->runs[i]);
  free(t->runs);
  free(t);
}

/* A thread's partial stays for the combine after the farm. */
static void fold_tfini(void *ctx, void *state) {
  mr__fold *f = ctx;
  fold_thread *t = state;
  if (t->inner_ok && f->inner->thread_fini) f->inner->thread_fini(f->inner->ctx, t->inner);
  t->inner_ok = 0;
  mr_buf_free(&t->res);
  mr_buf_free(&t->why);
  pthread_mutex_lock(&f->mu);
  if (f->ndone == f->cap) {
    size_t cap = f->cap ? 2 * f->cap : 8;
    fold_thread **d = realloc(f->done, cap * sizeof *d);
    if (d) {
      f->done = d;
      f->cap = cap;
    }
  }
  if (f->ndone < f->cap) {
    f->done[f->ndone++] = t;
  } else {
    f->rc = MR_ENOMEM; /* its results would be missing: the run fails */
    thread_free(t);
  }
  pthread_mutex_unlock(&f->mu);
}

static int fold_run(void *state, const char *item, size_t len, uint64_t seq, mr_buf *out,
                    mr__times *times) {
  fold_thread *t = state;
  mr__fold *f = t->f;
  if (f->words) {
    int rc = mr__fold_words(f->op, t->kv, item, len, seq);
    return rc ? rc : f->keyed && thread_spill(t) == MR_ENOMEM ? MR_ENOMEM : 0;
  }
  t->res.len = 0;
  int rc = f->inner->run(t->inner, item, len, seq, &t->res, times);
  if (rc) { /* the message, as the job wrote it */
    if (mr_buf_append(out, t->res.data ? t->res.data : "", t->res.len)) return MR_ENOMEM;
    return rc;
  }
  const char *res = t->res.data ? t->res.data : "";
  t->why.len = 0;
  rc = f->keyed ? mr__fold_pairs(f->op, t->kv, res, t->res.len, seq, &t->why)
                : mr__fold_result(f->op, &t->cols, &t->ncols, res, t->res.len, seq, &t->why);
  if (rc && rc != MR_ENOMEM) {
    if (t->why.len) mr_buf_append(out, t->why.data, t->why.len);
    else mr_buf_puts(out, mr_strerror(rc));
  }
  /* a spill that fails fails the run (fold_fail), not the item */
  if (!rc && f->keyed && thread_spill(t) == MR_ENOMEM) return MR_ENOMEM;
  return rc;
}

/* A kernel that computes whole chunks (--isolate: in a child process):
 * its result message is rewritten with each good result folded away, and
 * a result the fold refuses turned into that item's failure. */
static int fold_chunk(void *state, const mr__work_hdr *h, const char *items, mr_buf *result) {
  fold_thread *t = state;
  mr__fold *f = t->f;
  int rc = f->inner->run_chunk(t->inner, h, items, &t->res);
  if (rc) return rc;
  const char *msg = t->res.data, *data = mr__result_data(msg);
  size_t pre = (size_t)(data - msg);
  mr__result_hdr rh;
  memcpy(&rh, msg, sizeof rh);
  result->len = 0;
  if (mr_buf_append(result, msg, pre)) return MR_ENOMEM;
  for (uint32_t i = 0; i < rh.n; i++) {
    mr__rec rec;
    memcpy(&rec, result->data + sizeof rh + i * sizeof rec, sizeof rec);
    const char *res = data;
    data += rec.len;
    if (rec.status) { /* the message stays */
      if (mr_buf_append(result, res, rec.len)) return MR_ENOMEM;
      continue;
    }
    t->why.len = 0;
    rc = f->keyed ? mr__fold_pairs(f->op, t->kv, res, rec.len, h->seq0 + i, &t->why)
                  : mr__fold_result(f->op, &t->cols, &t->ncols, res, rec.len, h->seq0 + i,
                                    &t->why);
    if (rc == MR_ENOMEM) return rc;
    if (!rc && f->keyed && thread_spill(t) == MR_ENOMEM) return MR_ENOMEM;
    rec.len = 0;
    if (rc) {
      rec.status = rc;
      if (!t->why.len) mr_buf_puts(&t->why, mr_strerror(rc));
      rec.len = (uint32_t)t->why.len;
      if (mr_buf_append(result, t->why.data, t->why.len)) return MR_ENOMEM;
      rh.nfail++;
    }
    memcpy(result->data + sizeof rh + i * sizeof rec, &rec, sizeof rec);
  }
  memcpy(result->data, &rh, sizeof rh);
  return 0;
}

int mr__fold_init(mr__fold *f, const mr__kernel *inner, mr__op op, int keyed) {
  memset(f, 0, sizeof *f);
  f->inner = inner;
  f->op = op;
  f->keyed = keyed;
  return pthread_mutex_init(&f->mu, NULL) ? MR_ENOMEM : 0;
}

void mr__fold_free(mr__fold *f) {
  for (size_t i = 0; i < f->ndone; i++) thread_free(f->done[i]);
  free(f->done);
  f->done = NULL;
  f->ndone = f->cap = 0;
  pthread_mutex_destroy(&f->mu);
  mr_buf_free(&f->why);
}

mr__kernel mr__fold_kernel(mr__fold *f) {
  mr__kernel k = {f, fold_tinit, fold_tfini, fold_run, NULL};
  if (!f->inner->run) { /* the inner kernel computes chunks only */
    k.run = NULL;
    k.run_chunk = fold_chunk;
  }
  return k;
}

/* ------------------------------------------------------------ -r line */

int mr__fold_line(mr__op op, const mr__acc *cols, size_t ncols, mr_buf *out) {
  mr__acc none;
  memset(&none, 0, sizeof none);
  if (ncols == 0) { /* no result at all: one empty column */
    cols = &none;
    ncols = 1;
  }
  for (size_t i = 0; i < ncols; i++) {
    if (i && mr_buf_puts(out, "\t")) return MR_ENOMEM;
    int rc = mr__acc_format(op, &cols[i], 1, out);
    if (rc) return rc;
  }
  return mr_buf_puts(out, "\n");
}

/* Waits for req the way an idle rank waits (idle.h): ranks wait here for
 * each other (rank 0 writing, a slow rank's shuffle), and MPI's own
 * blocking calls would spin a core each meanwhile. */
static void wait_idle(MPI_Request *req) {
  mr__idle idle = {0};
  for (;;) {
    int done = 0;
    MPI_Test(req, &done, MPI_STATUS_IGNORE);
    if (done) return;
    mr__idle_wait(&idle);
  }
}

static void allreduce_idle(int *in, int *out, MPI_Op op, MPI_Comm comm) {
  MPI_Request req;
  MPI_Iallreduce(in, out, 1, MPI_INT, op, comm, &req);
  wait_idle(&req);
}

/* Every rank's rc, the most negative. */
static int agree(MPI_Comm comm, int rc) {
  if (comm == MPI_COMM_NULL) return rc;
  int all = rc;
  allreduce_idle(&rc, &all, MPI_MIN, comm);
  return all;
}

static int pack_cols(mr__op op, const mr__acc *cols, size_t ncols, mr_buf *out) {
  uint32_t n = (uint32_t)ncols;
  if (mr_buf_append(out, &n, sizeof n)) return MR_ENOMEM;
  for (size_t i = 0; i < ncols; i++) {
    size_t at = out->len;
    uint64_t len = 0;
    if (mr_buf_append(out, &len, sizeof len) || mr__acc_pack(op, &cols[i], out))
      return MR_ENOMEM;
    len = out->len - at - sizeof len;
    memcpy(out->data + at, &len, sizeof len);
  }
  return 0;
}

/* Merges the packed columns at p (n bytes) into *cols. */
static int merge_packed(mr__op op, mr__acc **cols, size_t *ncols, const char *p, size_t n) {
  uint32_t k;
  if (n < sizeof k) return MR_EINVAL;
  memcpy(&k, p, sizeof k);
  p += sizeof k;
  n -= sizeof k;
  if (k > *ncols) {
    mr__acc *c = realloc(*cols, k * sizeof *c);
    if (!c) return MR_ENOMEM;
    memset(c + *ncols, 0, (k - *ncols) * sizeof *c);
    *cols = c;
    *ncols = k;
  }
  for (uint32_t i = 0; i < k; i++) {
    uint64_t len;
    if (n < sizeof len) return MR_EINVAL;
    memcpy(&len, p, sizeof len);
    if (len > n - sizeof len) return MR_EINVAL;
    mr__acc a;
    memset(&a, 0, sizeof a);
    int rc = mr__acc_unpack(op, &a, p + sizeof len, len);
    if (!rc) rc = mr__acc_merge(op, &(*cols)[i], &a);
    mr__acc_free(&a);
    if (rc) return rc;
    p += sizeof len + len;
    n -= sizeof len + len;
  }
  return n == 0 ? 0 : MR_EINVAL;
}

int mr__fold_reduce(mr__fold *f, MPI_Comm comm, mr_buf *line) {
  int rank = 0, size = 1;
  if (comm != MPI_COMM_NULL) {
    MPI_Comm_rank(comm, &rank);
    MPI_Comm_size(comm, &size);
  }
  /* the rank's threads first, then the ranks on rank 0 */
  mr__acc *cols = NULL;
  size_t ncols = 0;
  mr_buf packed = {0};
  int rc = f->rc;
  for (size_t i = 0; i < f->ndone && !rc; i++) {
    fold_thread *t = f->done[i];
    packed.len = 0;
    rc = pack_cols(f->op, t->cols, t->ncols, &packed);
    if (!rc) rc = merge_packed(f->op, &cols, &ncols, packed.data, packed.len);
  }
  packed.len = 0;
  if (!rc) rc = pack_cols(f->op, cols, ncols, &packed);
  rc = agree(comm, rc);
  if (!rc && size > 1) {
    int mine = (int)packed.len, *counts = NULL, *displs = NULL;
    char *all = NULL;
    if (rank == 0) {
      counts = calloc((size_t)size, sizeof *counts);
      displs = calloc((size_t)size, sizeof *displs);
    }
    MPI_Gather(&mine, 1, MPI_INT, counts, 1, MPI_INT, 0, comm);
    size_t total = 0;
    if (rank == 0 && counts && displs) {
      for (int r = 0; r < size; r++) {
        displs[r] = (int)total;
        total += (size_t)counts[r];
      }
      all = malloc(total ? total : 1);
    }
    int ok = rank != 0 || all;
    MPI_Bcast(&ok, 1, MPI_INT, 0, comm);
    if (ok) {
      MPI_Gatherv(packed.data, mine, MPI_BYTE, all, counts, displs, MPI_BYTE, 0, comm);
      if (rank == 0) {
        for (size_t i = 0; i < ncols; i++) mr__acc_free(&cols[i]);
        ncols = 0;
        for (int r = 0; r < size && !rc; r++)
          rc = merge_packed(f->op, &cols, &ncols, all + displs[r], (size_t)counts[r]);
      }
    } else {
      rc = MR_ENOMEM;
    }
    free(all);
    free(counts);
    free(displs);
    rc = agree(comm, rc);
  }
  if (!rc && rank == 0) rc = mr__fold_line(f->op, cols, ncols, line);
  rc = agree(comm, rc);
  for (size_t i = 0; i < ncols; i++) mr__acc_free(&cols[i]);
  free(cols);
  mr_buf_free(&packed);
  return rc;
}

/* ------------------------------------------------------------- keyed */

int mr__fold_pair_line(mr__op op, const mr__kv_entry *e, mr_buf *out) {
  if (mr_buf_reserve(out, e->klen + 32)) return MR_ENOMEM;
  mr_buf_append(out, e->key, e->klen);
  mr_buf_append(out, "\t", 1);
  int rc = mr__acc_format(op, &e->acc, 0, out);
  return rc ? rc : mr_buf_append(out, "\n", 1);
}

static int pack_pair(mr__op op, const mr__kv_entry *e, mr_buf *out) {
  uint32_t klen = e->klen;
  if (mr_buf_append(out, &klen, sizeof klen) || mr_buf_append(out, e->key, klen))
    return MR_ENOMEM;
  size_t at = out->len;
  uint64_t len = 0;
  if (mr_buf_append(out, &len, sizeof len) || mr__acc_pack(op, &e->acc, out)) return MR_ENOMEM;
  len = out->len - at - sizeof len;
  memcpy(out->data + at, &len, sizeof len);
  return 0;
}

static int merge_entry(mr__op op, mr__kv *own, const char *key, size_t klen, uint64_t hash,
                       const mr__acc *a) {
  mr__kv_entry *e = mr__kv_get(own, key, klen, hash);
  if (!e) return MR_ENOMEM;
  if (op == MR__OP_CONCAT && a->list) mr__kv_grew(own, a->list->len);
  return mr__acc_merge(op, &e->acc, a);
}

/* Merges the packed pairs at p (n bytes) into own. */
static int unpack_pairs(mr__op op, mr__kv *own, const char *p, size_t n) {
  while (n) {
    uint32_t klen;
    uint64_t len;
    if (n < sizeof klen) return MR_EINVAL;
    memcpy(&klen, p, sizeof klen);
    if (n - sizeof klen < (size_t)klen + sizeof len) return MR_EINVAL;
    const char *key = p + sizeof klen;
    memcpy(&len, key + klen, sizeof len);
    size_t head = sizeof klen + klen + sizeof len;
    if (len > n - head) return MR_EINVAL;
    mr__acc a;
    memset(&a, 0, sizeof a);
    int rc = mr__acc_unpack(op, &a, p + head, len);
    if (!rc) rc = merge_entry(op, own, key, klen, mr__kv_hash(key, klen), &a);
    mr__acc_free(&a);
    if (rc) return rc;
    p += head + len;
    n -= head + len;
  }
  return 0;
}

/* One Alltoallv round of what send[] holds (emptied). */
static int exchange(mr__op op, MPI_Comm comm, int size, mr_buf *send, mr__kv *own, int rc) {
  int *sc = calloc((size_t)size * 4, sizeof *sc);
  mr_buf all = {0}, in = {0};
  if (!sc) return MR_ENOMEM; /* the others would wait: only an abort helps */
  int *sd = sc + size, *rcn = sc + 2 * size, *rd = sc + 3 * size;
  for (int r = 0; r < size && !rc; r++) {
    sd[r] = (int)all.len;
    sc[r] = (int)send[r].len;
    if (send[r].len && mr_buf_append(&all, send[r].data, send[r].len)) rc = MR_ENOMEM;
    send[r].len = 0;
  }
  if (rc) memset(sc, 0, (size_t)size * 2 * sizeof *sc); /* take part, send nothing */
  MPI_Request req;
  MPI_Ialltoall(sc, 1, MPI_INT, rcn, 1, MPI_INT, comm, &req);
  wait_idle(&req);
  size_t total = 0;
  for (int r = 0; r < size; r++) {
    rd[r] = (int)total;
    total += (size_t)rcn[r];
  }
  if (mr_buf_reserve(&in, total + 1)) {
    rc = MR_ENOMEM;
    /* still receive, into nothing we keep: a rank cannot leave a round */
    memset(rcn, 0, (size_t)size * sizeof *rcn);
  }
  MPI_Ialltoallv(all.data, sc, sd, MPI_BYTE, in.data, rcn, rd, MPI_BYTE, comm, &req);
  wait_idle(&req);
  if (!rc) rc = unpack_pairs(op, own, in.data, total);
  mr_buf_free(&all);
  mr_buf_free(&in);
  free(sc);
  return rc;
}

/* What rank 0 reads of one rank's sorted lines. */
typedef struct stream {
  mr_buf buf;
  size_t at;   /* the current line */
  size_t klen; /* its key's length */
  int done;
} stream;

struct outsort;

/* A rank's own lines: from its sorted entries, or, when it spilled, from
 * the merge of its sorted runs, equal keys combined. */
typedef struct local_lines {
  mr__op op;
  int lines;   /* a reducer's input: a KEY<TAB>VALUE line per value kept */
  struct outsort *os; /* set: the lines are the reducer's output, sorted */
  mr__kv_entry **v;
  size_t n, next;
  FILE **runs;
  size_t nruns;
  mr_buf *cur; /* per run: its current packed pair (len 0: run over) */
  size_t *heap; /* runs not over, smallest current key first */
  size_t nheap;
  int heap_ready;
} local_lines;

static const char *rec_key(const mr_buf *r, size_t *klen) {
  uint32_t k;
  memcpy(&k, r->data, sizeof k);
  *klen = k;
  return r->data + sizeof k;
}

/* Merges run i's current partial into a and reads its next pair. */
static int run_take(local_lines *l, size_t i, mr__acc *a) {
  size_t klen;
  rec_key(&l->cur[i], &klen);
  size_t head = sizeof(uint32_t) + klen + sizeof(uint64_t);
  mr__acc b;
  memset(&b, 0, sizeof b);
  int rc = mr__acc_unpack(l->op, &b, l->cur[i].data + head, l->cur[i].len - head);
  if (!rc) rc = mr__acc_merge(l->op, a, &b);
  mr__acc_free(&b);
  if (rc) return rc;
  int more = run_read(l->runs[i], &l->cur[i]);
  if (more < 0) return more;
  if (!more) l->cur[i].len = 0;
  return 0;
}

/* The runs by their current key: a binary heap of run indexes, the
 * smallest key on top, so each output key costs log(runs). */
static int run_less(const local_lines *l, size_t a, size_t b) {
  size_t ka, kb;
  const char *pa = rec_key(&l->cur[a], &ka), *pb = rec_key(&l->cur[b], &kb);
  int c = mr__kv_keycmp(pa, ka, pb, kb);
  return c < 0 || (c == 0 && a < b);
}

static void heap_down(local_lines *l, size_t i) {
  for (;;) {
    size_t m = i, c1 = 2 * i + 1, c2 = c1 + 1;
    if (c1 < l->nheap && run_less(l, l->heap[c1], l->heap[m])) m = c1;
    if (c2 < l->nheap && run_less(l, l->heap[c2], l->heap[m])) m = c2;
    if (m == i) return;
    size_t t = l->heap[i];
    l->heap[i] = l->heap[m];
    l->heap[m] = t;
    i = m;
  }
}

static int heap_build(local_lines *l) {
  l->heap = malloc((l->nruns ? l->nruns : 1) * sizeof *l->heap);
  if (!l->heap) return MR_ENOMEM;
  for (size_t i = 0; i < l->nruns; i++)
    if (l->cur[i].len) l->heap[l->nheap++] = i;
  for (size_t i = l->nheap; i-- > 0;) heap_down(l, i);
  l->heap_ready = 1;
  return 0;
}

/* Takes the top run's pair into a; the run goes back into the heap at its
 * next key, or leaves it at its end. */
static int heap_take(local_lines *l, mr__acc *a) {
  size_t i = l->heap[0];
  int rc = run_take(l, i, a);
  if (rc) return rc;
  if (!l->cur[i].len) l->heap[0] = l->heap[--l->nheap];
  if (l->nheap) heap_down(l, 0);
  return 0;
}

/* A key's line (KEY<TAB>RESULT), or for a reducer a line per value. */
static int put_entry(const local_lines *l, const mr__kv_entry *e, mr_buf *b) {
  if (l->lines) return mr__acc_format_lines(&e->acc, e->key, e->klen, b);
  return mr__fold_pair_line(l->op, e, b);
}

static int runs_fill(local_lines *l, mr_buf *b) {
  if (!l->heap_ready && heap_build(l)) return MR_ENOMEM;
  mr_buf key = {0};
  int rc = 0;
  while (!rc && l->nheap && b->len < LINES_BLOCK) {
    size_t k;
    const char *p = rec_key(&l->cur[l->heap[0]], &k);
    key.len = 0;
    if (mr_buf_append(&key, p, k) || mr_buf_reserve(&key, 1)) {
      rc = MR_ENOMEM;
      break;
    }
    mr__kv_entry e;
    memset(&e, 0, sizeof e);
    e.key = key.data;
    e.klen = (uint32_t)k;
    rc = heap_take(l, &e.acc);
    while (!rc && l->nheap) { /* the same key in other runs */
      size_t k2;
      const char *p2 = rec_key(&l->cur[l->heap[0]], &k2);
      if (k2 != k || memcmp(p2, key.data, k) != 0) break;
      rc = heap_take(l, &e.acc);
    }
    if (!rc) rc = put_entry(l, &e, b);
    mr__acc_free(&e.acc);
  }
  mr_buf_free(&key);
  return rc;
}

static int outsort_fill(struct outsort *os, mr_buf *b);

static int local_fill(local_lines *l, mr_buf *b) {
  b->len = 0;
  if (l->os) return outsort_fill(l->os, b);
  if (l->runs) return runs_fill(l, b);
  while (l->next < l->n && b->len < LINES_BLOCK) {
    int rc = put_entry(l, l->v[l->next++], b);
    if (rc) return rc;
  }
  return 0;
}

/* Makes s's current line valid (fetching its next block); done at the end. */
static int stream_ready(stream *s, int r, MPI_Comm comm, local_lines *l) {
  if (s->done) return 0;
  if (s->at >= s->buf.len) {
    s->at = 0;
    if (r == 0) {
      int rc = local_fill(l, &s->buf);
      if (rc) return rc;
    } else {
      MPI_Status st;
      int count = 0;
      mr__idle idle = {0};
      for (int got = 0;;) { /* that rank may still be sorting */
        MPI_Iprobe(r, TAG_LINES, comm, &got, &st);
        if (got) break;
        mr__idle_wait(&idle);
      }
      MPI_Get_count(&st, MPI_BYTE, &count);
      s->buf.len = 0;
      if (mr_buf_reserve(&s->buf, (size_t)count + 1)) return MR_ENOMEM;
      MPI_Recv(s->buf.data, count, MPI_BYTE, r, TAG_LINES, comm, MPI_STATUS_IGNORE);
      s->buf.len = (size_t)count;
    }
    if (s->buf.len == 0) {
      s->done = 1;
      return 0;
    }
  }
  /* the key: the bytes before the line's first tab, or the whole line */
  const char *p = s->buf.data + s->at;
  const char *nl = memchr(p, '\n', s->buf.len - s->at);
  size_t n = nl ? (size_t)(nl - p) : s->buf.len - s->at;
  const char *tab = memchr(p, '\t', n);
  s->klen = tab ? (size_t)(tab - p) : n;
  return 0;
}

static size_t line_len(const stream *s) {
  const char *p = s->buf.data + s->at;
  const char *nl = memchr(p, '\n', s->buf.len - s->at);
  return nl ? (size_t)(nl - p) + 1 : s->buf.len - s->at;
}

/* Rank 0: the k-way merge of every rank's sorted lines into write. */
static int merge_out(local_lines *lp, MPI_Comm comm, int size, mr__fold_write_fn write,
                     void *ctx) {
  stream *s = calloc((size_t)size, sizeof *s);
  if (!s) return MR_ENOMEM;
  mr_buf out = {0};
  int rc = 0, wrc = 0;
  for (int r = 0; r < size && !rc; r++) rc = stream_ready(&s[r], r, comm, lp);
  while (!rc) {
    int best = -1;
    for (int r = 0; r < size; r++) {
      if (s[r].done) continue;
      if (best < 0 || mr__kv_keycmp(s[r].buf.data + s[r].at, s[r].klen,
                                    s[best].buf.data + s[best].at, s[best].klen) < 0)
        best = r;
    }
    if (best < 0) break;
    size_t ll = line_len(&s[best]);
    if (!wrc && mr_buf_append(&out, s[best].buf.data + s[best].at, ll)) rc = MR_ENOMEM;
    s[best].at += ll;
    if (!rc) rc = stream_ready(&s[best], best, comm, lp);
    if (!wrc && out.len >= LINES_BLOCK) {
      wrc = write(ctx, out.data, out.len); /* a failed write: drain the ranks */
      out.len = 0;
    }
  }
  if (!rc && !wrc && out.len) wrc = write(ctx, out.data, out.len);
  /* ranks still sending (after an error here): take their blocks */
  for (int r = 1; r < size; r++) {
    while (!s[r].done) {
      s[r].at = s[r].buf.len;
      if (stream_ready(&s[r], r, comm, lp)) { /* out of memory: receive nothing */
        MPI_Recv(NULL, 0, MPI_BYTE, r, TAG_LINES, comm, MPI_STATUS_IGNORE);
      }
    }
  }
  for (int r = 0; r < size; r++) mr_buf_free(&s[r].buf);
  free(s);
  mr_buf_free(&out);
  return rc ? rc : wrc;
}

/* A rank other than 0: its sorted lines to rank 0, block by block, then an
 * empty block. */
static int send_lines(local_lines *l, MPI_Comm comm) {
  mr_buf b = {0};
  int rc = 0;
  for (;;) {
    if (!rc) rc = local_fill(l, &b);
    if (rc) b.len = 0; /* ends the stream; the rc is agreed on after */
    MPI_Request req; /* rank 0 takes it when its merge needs it */
    MPI_Isend(b.data, (int)b.len, MPI_BYTE, 0, TAG_LINES, comm, &req);
    wait_idle(&req);
    if (b.len == 0) break;
  }
  mr_buf_free(&b);
  return rc;
}

/* own over its half of the memory: to a sorted run of the rank's own keys */
static int own_spill(mr__fold *f, mr__kv **own, FILE ***runs, size_t *nruns, int force) {
  if (!force && (!f->memory || mr__kv_bytes(*own) < f->memory / 2)) return 0;
  if (mr__kv_count(*own) == 0) return 0;
  FILE *fp;
  int rc = spill_kv(f, own, &fp);
  if (!rc && (rc = add_run(runs, nruns, fp))) fclose(fp);
  return rc;
}

/* A packed pair from a thread's run: to its owner. */
static int place_packed(mr__fold *f, const mr_buf *r, int rank, int size, mr__kv *own,
                        mr_buf *send, size_t *packed) {
  size_t klen;
  const char *key = rec_key(r, &klen);
  uint64_t h = mr__kv_hash(key, klen);
  int dest = (int)(h % (uint64_t)size);
  if (dest != rank) {
    *packed += r->len;
    return mr_buf_append(&send[dest], r->data, r->len);
  }
  return unpack_pairs(f->op, own, r->data, r->len);
}

/* ------------------------------------------------- a reducer command */

/* A line of the reducer's output: where it is in the batch, its length
 * without the newline, and its key's (the bytes before its first tab, or
 * the whole line). */
typedef struct outline {
  size_t off;
  size_t len, klen;
} outline;

/* The output of a rank's reducer, sorted by key, ties in the order the
 * reducer wrote them (a stable sort): in memory while it fits in half the
 * rank's --memory, else in sorted runs (text lines) merged as they are
 * read back, an earlier run first among equal keys. */
typedef struct outsort {
  mr__fold *f;
  mr_buf data;   /* the lines not in a run yet; the last may be unfinished */
  size_t done;   /* bytes of data in finished lines */
  outline *v;
  size_t n, cap;
  FILE **runs;
  size_t nruns;
  size_t next;   /* from memory: the next line to give */
  char **cur;    /* from runs: each run's current line, or NULL at its end */
  size_t *curcap;
  size_t *curlen;
} outsort;

static size_t key_len(const char *p, size_t n) {
  const char *tab = memchr(p, '\t', n);
  return tab ? (size_t)(tab - p) : n;
}

static const char *sort_base; /* qsort has no context: set around each sort */

static int outline_cmp(const void *x, const void *y) {
  const outline *a = x, *b = y;
  int c = mr__kv_keycmp(sort_base + a->off, a->klen, sort_base + b->off, b->klen);
  if (c) return c;
  return a->off < b->off ? -1 : a->off > b->off; /* stable: as written */
}

static pthread_mutex_t sort_mu = PTHREAD_MUTEX_INITIALIZER;

static void outsort_sort(outsort *os) {
  if (os->n < 2) return;
  pthread_mutex_lock(&sort_mu);
  sort_base = os->data.data;
  qsort(os->v, os->n, sizeof *os->v, outline_cmp);
  pthread_mutex_unlock(&sort_mu);
}

static int outsort_line(outsort *os, size_t end) {
  if (os->n == os->cap) {
    size_t cap = os->cap ? 2 * os->cap : 1024;
    outline *v = realloc(os->v, cap * sizeof *v);
    if (!v) return MR_ENOMEM;
    os->v = v;
    os->cap = cap;
  }
  size_t len = end - os->done;
  os->v[os->n++] = (outline){os->done, len, key_len(os->data.data + os->done, len)};
  os->done = end + 1;
  return 0;
}

/* The finished lines, sorted, into a new run; the unfinished one stays. */
static int outsort_spill(outsort *os) {
  mr__fold *f = os->f;
  outsort_sort(os);
  FILE *fp = spill_open(f);
  if (!fp) return MR_EIO;
  int werr = 0;
  for (size_t i = 0; i < os->n && !werr; i++)
    if (fwrite(os->data.data + os->v[i].off, 1, os->v[i].len + 1, fp) != os->v[i].len + 1)
      werr = errno ? errno : EIO;
  if (!werr && (fflush(fp) || fseek(fp, 0, SEEK_SET))) werr = errno ? errno : EIO;
  if (werr) {
    mr_buf why = {0};
    int rc = mr__error_file(&why, "write a spill file in", f->tmpdir ? f->tmpdir : "/tmp", werr);
    fold_fail(f, rc, why.data);
    mr_buf_free(&why);
    fclose(fp);
    return rc;
  }
  int rc = add_run(&os->runs, &os->nruns, fp);
  if (rc) {
    fclose(fp);
    return rc;
  }
  __atomic_add_fetch(&f->spills, 1, __ATOMIC_RELAXED);
  memmove(os->data.data, os->data.data + os->done, os->data.len - os->done);
  os->data.len -= os->done;
  os->done = 0;
  os->n = 0;
  return 0;
}

/* n more bytes of the reducer's output. */
static int outsort_add(void *ctx, const char *p, size_t n) {
  outsort *os = ctx;
  size_t from = os->data.len;
  if (mr_buf_append(&os->data, p, n)) return MR_ENOMEM;
  for (const char *q = os->data.data + from, *end = os->data.data + os->data.len;
       (q = memchr(q, '\n', (size_t)(end - q))) != NULL; q++) {
    int rc = outsort_line(os, (size_t)(q - os->data.data));
    if (rc) return rc;
  }
  size_t held = os->data.len + os->n * sizeof *os->v;
  if (os->f->memory && held >= os->f->memory / 2 && os->n) return outsort_spill(os);
  return 0;
}

/* The run i's next line into cur[i] (NULL at its end). */
static int outsort_next(outsort *os, size_t i) {
  errno = 0;
  ssize_t got = getline(&os->cur[i], &os->curcap[i], os->runs[i]);
  if (got < 0) {
    if (ferror(os->runs[i])) return MR_EIO;
    free(os->cur[i]);
    os->cur[i] = NULL;
    return 0;
  }
  os->curlen[i] = (size_t)got;
  return 0;
}

/* The reducer's output is all in: ready to be read back sorted. */
static int outsort_end(outsort *os) {
  if (os->data.len > os->done) { /* a last line without its newline gets one */
    if (mr_buf_append(&os->data, "\n", 1)) return MR_ENOMEM;
    int rc = outsort_line(os, os->data.len - 1);
    if (rc) return rc;
  }
  if (!os->nruns) {
    outsort_sort(os);
    return 0;
  }
  if (os->n) {
    int rc = outsort_spill(os);
    if (rc) return rc;
  }
  os->cur = calloc(os->nruns, sizeof *os->cur);
  os->curcap = calloc(os->nruns, sizeof *os->curcap);
  os->curlen = calloc(os->nruns, sizeof *os->curlen);
  if (!os->cur || !os->curcap || !os->curlen) return MR_ENOMEM;
  for (size_t i = 0; i < os->nruns; i++) {
    int rc = outsort_next(os, i);
    if (rc) return rc;
  }
  return 0;
}

static int outsort_fill(outsort *os, mr_buf *b) {
  if (!os->nruns) {
    while (os->next < os->n && b->len < LINES_BLOCK) {
      const outline *o = &os->v[os->next++];
      if (mr_buf_append(b, os->data.data + o->off, o->len + 1)) return MR_ENOMEM;
    }
    return 0;
  }
  while (b->len < LINES_BLOCK) { /* the runs are few: the smallest by a scan */
    size_t best = os->nruns, bk = 0;
    for (size_t i = 0; i < os->nruns; i++) {
      if (!os->cur[i]) continue;
      size_t k = key_len(os->cur[i], os->curlen[i] - 1);
      if (best == os->nruns || mr__kv_keycmp(os->cur[i], k, os->cur[best], bk) < 0) {
        best = i;
        bk = k;
      }
    }
    if (best == os->nruns) break;
    if (mr_buf_append(b, os->cur[best], os->curlen[best])) return MR_ENOMEM;
    int rc = outsort_next(os, best);
    if (rc) return rc;
  }
  return 0;
}

static void outsort_free(outsort *os) {
  mr_buf_free(&os->data);
  free(os->v);
  for (size_t i = 0; i < os->nruns; i++) {
    if (os->cur) free(os->cur[i]);
    fclose(os->runs[i]);
  }
  free(os->runs);
  free(os->cur);
  free(os->curcap);
  free(os->curlen);
}

static int reducer_feed(void *ctx, mr_buf *out) { return local_fill(ctx, out); }

/* The rank's reducer: its owned pairs, a line per value, sorted by key, on
 * its stdin; its stdout into os. A rank that owns no key runs none. */
static int reduce_command(mr__fold *f, local_lines *l, outsort *os) {
  if (!l->runs && l->n == 0) return 0;
  l->lines = 1;
  mr_buf why = {0};
  int rc = mr__filter_run(f->reducer, reducer_feed, l, outsort_add, os, &why);
  if (!rc) rc = outsort_end(os);
  else if (rc != MR_EINTR && why.len) {
    mr_buf msg = {0};
    mr_buf_printf(&msg, "--reducer %s", why.data);
    fold_fail(f, rc, msg.data);
    mr_buf_free(&msg);
  }
  mr_buf_free(&why);
  return rc;
}

int mr__fold_keyed(mr__fold *f, MPI_Comm comm, mr__fold_write_fn write, void *ctx) {
  int rank = 0, size = 1;
  if (comm != MPI_COMM_NULL) {
    MPI_Comm_rank(comm, &rank);
    MPI_Comm_size(comm, &size);
  }
  mr__kv *own = mr__kv_new();
  mr_buf *send = calloc((size_t)size, sizeof *send);
  FILE **owned = NULL;
  size_t nowned = 0;
  mr_buf rec = {0};
  int rc = f->rc ? f->rc : own && send ? 0 : MR_ENOMEM;
  rc = agree(comm, rc);
  if (rc) {
    mr__kv_free(own);
    free(send);
    return rc;
  }
  /* the shuffle: rounds of at most SHUFFLE_BATCH bytes a rank, until no
   * rank has pairs left to send; a thread's pairs are its combiner's and
   * then those of its runs */
  size_t ti = 0, at = 0, ri = 0;
  for (;;) {
    size_t packed = 0;
    while (!rc && ti < f->ndone && packed < SHUFFLE_BATCH) {
      fold_thread *t = f->done[ti];
      mr__kv_entry *e = t->kv ? mr__kv_next(t->kv, &at) : NULL;
      if (e) {
        int dest = (int)(e->hash % (uint64_t)size);
        if (dest == rank) {
          rc = merge_entry(f->op, own, e->key, e->klen, e->hash, &e->acc);
        } else {
          size_t before = send[dest].len;
          rc = pack_pair(f->op, e, &send[dest]);
          packed += send[dest].len - before;
        }
      } else if (t->kv) { /* the combiner is placed: free it */
        mr__kv_free(t->kv);
        t->kv = NULL;
      } else if (ri < t->nruns) {
        int more = run_read(t->runs[ri], &rec);
        if (more < 0) rc = more;
        else if (more) rc = place_packed(f, &rec, rank, size, own, send, &packed);
        else {
          fclose(t->runs[ri]);
          t->runs[ri++] = NULL;
        }
      } else { /* the next thread */
        ti++;
        at = ri = 0;
      }
      if (!rc) rc = own_spill(f, &own, &owned, &nowned, 0);
    }
    int more = !rc && ti < f->ndone;
    if (size == 1) {
      if (!more) break;
      continue;
    }
    rc = exchange(f->op, comm, size, send, own, rc);
    if (!rc) rc = own_spill(f, &own, &owned, &nowned, 0);
    int any = more;
    allreduce_idle(&more, &any, MPI_MAX, comm);
    if (!any) break;
  }
  for (int r = 0; r < size; r++) mr_buf_free(&send[r]);
  free(send);
  mr_buf_free(&rec);
  /* spilled: the rest joins the runs, and the lines come from their merge */
  if (!rc && nowned) rc = own_spill(f, &own, &owned, &nowned, 1);
  rc = agree(comm, rc);
  local_lines l;
  memset(&l, 0, sizeof l);
  l.op = f->op;
  if (!rc && nowned) {
    l.runs = owned;
    l.nruns = nowned;
    l.cur = calloc(nowned, sizeof *l.cur);
    if (!l.cur) rc = MR_ENOMEM;
    for (size_t i = 0; i < nowned && !rc; i++) {
      int more = run_read(owned[i], &l.cur[i]);
      if (more < 0) rc = more;
      else if (!more) l.cur[i].len = 0;
    }
  } else if (!rc) {
    l.v = mr__kv_sorted(own);
    l.n = mr__kv_count(own);
    if (!l.v) rc = MR_ENOMEM;
  }
  rc = agree(comm, rc);
  outsort os;
  memset(&os, 0, sizeof os);
  os.f = f;
  if (!rc && f->reducer) { /* every rank's reducer ends before any line is written */
    rc = reduce_command(f, &l, &os);
    l.os = &os;
    rc = agree(comm, rc);
  }
  if (!rc) {
    if (rank == 0) rc = merge_out(&l, comm, size, write, ctx);
    else rc = send_lines(&l, comm);
  }
  rc = agree(comm, rc);
  outsort_free(&os);
  free(l.v);
  free(l.heap);
  for (size_t i = 0; l.cur && i < nowned; i++) mr_buf_free(&l.cur[i]);
  free(l.cur);
  for (size_t i = 0; i < nowned; i++) fclose(owned[i]);
  free(owned);
  mr__kv_free(own);
  return rc;
}
