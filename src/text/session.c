/* session.c: the files of one run on the master (session.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "run/coproc.h"
#include "text/session.h"
#include "base/error.h"
#include "text/source.h"

void mr__session_describe(void *ctx, const char *item, size_t len, uint64_t seq,
                          mr_buf *out) {
  const mr__session_cfg *d = ctx;
  if (d->exec) {
    mr__exec_describe(d->exec, item, len, seq, out);
  } else if (d->worker_text) {
    mr__coproc_describe(d->worker_text, item, len, out);
  } else {
    mr_buf_puts(out, d->job->name);
    mr_buf_append(out, " ", 1);
    mr_buf_append(out, item, len);
  }
  for (size_t i = 0; i < out->len; i++) /* as the joblog writes it */
    if (out->data[i] == '\n') out->data[i] = ' ';
}

/* What a journal must have been written by to be resumed. */
static void job_spec(const mr__session_cfg *o, mr_buf *spec) {
  if (o->worker_text) mr_buf_printf(spec, "--worker %s", o->worker_text);
  else if (!o->exec_text) mr_buf_printf(spec, "-j %s", o->job_name);
  else if (!*o->exec_text) mr_buf_puts(spec, "--shell");
  else mr_buf_printf(spec, "--exec %s", o->exec_text);
  if (o->arg) mr_buf_printf(spec, " -a %s", o->arg);
  if (o->raw) mr_buf_puts(spec, " --raw");
}

/* The output's derived name k: 0 FILE.partial, 1 FILE.journal. */
static void derived_path(const mr__session *f, int k, mr_buf *path) {
  mr_buf_printf(path, "%s.%s", f->out_t.path, k ? "journal" : "partial");
}

/* The identity of what a target leads to (safefile.h). */
static void target_id(const mr__target *t, mr__fileid *id) {
  memset(id, 0, sizeof *id);
  if (t->kind == SAFEFILE_FD) mr__safefile_id_fd(t->fd, id);
  else if (t->path) mr__safefile_id(t->path, id); /* a file, or a FIFO */
}

/* Refuses one file in two roles (input, output and the names derived from
 * it, joblog, the reports of --status, --trace ...), by device and inode,
 * not by name: a joblog on the input truncates it, one on the output or
 * its journal is lost with it. */
static int files_roles(const mr__session_cfg *o, const mr__session *f, mr_buf *why) {
  enum { IN, OUT, PART, JOURNAL, LOG, REPORT, NROLE = REPORT + MR__SESSION_REPORTS };
  mr__fileid id[NROLE];
  mr_buf name[NROLE];
  memset(id, 0, sizeof id); /* none: no file, or no such role */
  memset(name, 0, sizeof name);
  if (!o->input || strcmp(o->input, "-") == 0) {
    mr__safefile_id_fd(0, &id[IN]);
    mr_buf_puts(&name[IN], "standard input");
  } else {
    mr__safefile_id(o->input, &id[IN]);
    mr_buf_printf(&name[IN], "INPUT '%s'", o->input);
  }
  target_id(&f->out_t, &id[OUT]);
  if (f->out_t.path) mr_buf_printf(&name[OUT], "-o '%s'", o->output);
  else mr_buf_puts(&name[OUT], "standard output");
  if (f->out_t.kind == SAFEFILE_FILE) {
    for (int k = 0; k < 2; k++) {
      mr_buf path = {0};
      derived_path(f, k, &path);
      mr__safefile_id(path.data, &id[PART + k]);
      mr_buf_printf(&name[PART + k], "-o '%s' (its '%s')", o->output, path.data);
      mr_buf_free(&path);
    }
  }
  target_id(&f->log_t, &id[LOG]);
  if (o->joblog) mr_buf_printf(&name[LOG], "--joblog '%s'", o->joblog);
  for (int k = 0; k < MR__SESSION_REPORTS; k++) {
    if (!o->report[k]) continue;
    mr__safefile_id(o->report[k], &id[REPORT + k]);
    mr_buf_printf(&name[REPORT + k], "%s '%s'", o->report_opt[k], o->report[k]);
  }
  int rc = 0;
  for (int a = 0; a < NROLE && !rc; a++)
    for (int b = a + 1; b < NROLE && !rc; b++) {
      if (a >= OUT && b <= JOURNAL) continue; /* one role: the output's */
      if (!mr__safefile_same(&id[a], &id[b])) continue;
      mr_buf_printf(why, "%s and %s are one file; give each its own",
                    name[a].data, name[b].data);
      rc = MR_EINVAL;
    }
  /* messages appended to the input (mapreduce in 2>> in) would be read
   * back as items, without end */
  mr__fileid err;
  if (o->err_path) mr__safefile_id(o->err_path, &err);
  else mr__safefile_id_fd(2, &err);
  if (!rc && mr__safefile_same(&id[IN], &err)) {
    mr_buf_printf(why, "%s and standard error are one file; give each its own",
                  name[IN].data);
    rc = MR_EINVAL;
  }
  for (int k = 0; k < NROLE; k++) mr_buf_free(&name[k]);
  return rc;
}

/* Where -o and --joblog lead, and whether the names derived from the
 * output are ours to continue or replace. */
static int files_resolve(const mr__session_cfg *o, mr__session *f, mr_buf *why) {
  f->out_t.kind = SAFEFILE_FD; /* standard output, unless -o says */
  f->out_t.fd = 1;
  f->log_t.kind = SAFEFILE_DEVICE; /* none: no identity */
  int rc = 0;
  if (o->output && strcmp(o->output, "-") != 0)
    rc = mr__safefile_target(o->output, "-o", &f->out_t, why);
  if (!rc && o->joblog) rc = mr__safefile_target(o->joblog, "--joblog", &f->log_t, why);
  if (rc) {
    if (!why->len) mr_buf_puts(why, mr_strerror(rc)); /* out of memory */
    return rc;
  }
  if (o->resume && f->out_t.kind != SAFEFILE_FILE && !o->joblog) {
    mr_buf_printf(why, "--resume needs -o FILE (its journal) or --joblog FILE; "
                       "'%s' is not a regular file", o->output);
    return MR_EINVAL;
  }
  if (f->out_t.kind == SAFEFILE_FILE) {
    for (int k = 0; k < 2; k++) {
      mr_buf path = {0};
      derived_path(f, k, &path);
      const char *bad = mr__safefile_foreign(path.data);
      if (bad) mr_buf_printf(why, "'%s' %s: not ours to continue or replace; "
                                  "remove it to run", path.data, bad);
      mr_buf_free(&path);
      if (bad) return MR_EINVAL;
    }
  }
  return files_roles(o, f, why);
}

static uint64_t file_size(const char *path) {
  struct stat st;
  return stat(path, &st) == 0 ? (uint64_t)st.st_size : 0;
}

static int is_regular_file(const char *path) {
  struct stat st;
  return path && stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

void mr__session_rollback(mr__session *f) {
  if (f->journal && f->out) mr__journal_rollback(f->journal, mr__output_temp(f->out));
}

int mr__session_open(mr__session *f, const mr__session_cfg *o, mr_buf *why) {
  f->cfg = o;
  int rc = mr__input_open(o->input, o->max_line, &f->in, why);
  if (rc) return rc;
  mr__input_watch(f->in, o->stop);
  /* a pipe that pauses (tail -f | mapreduce): what came back meanwhile is
   * written and journaled, not held until the next line or the end */
  mr__input_nowait(f->in, 50);
  if ((rc = files_resolve(o, f, why)) != 0) return rc;
  mr_buf spec = {0};
  job_spec(o, &spec);
  int journaled = f->out_t.kind == SAFEFILE_FILE && !o->no_journal;
  const char *target = f->out_t.path; /* the file itself, past its symlinks */
  const char *joblog = f->log_t.path ? f->log_t.path : o->joblog;
  uint64_t keep = UINT64_MAX;
  if (journaled) {
    mr_buf part = {0};
    mr_buf_printf(&part, "%s.partial", target);
    struct stat st;
    if (o->resume) {
      rc = mr__journal_load(target, spec.data, file_size(part.data), &f->journal, why);
      if (f->journal) keep = mr__journal_out_size(f->journal);
      /* a run creates FILE.partial, then its journal: a partial file alone
       * is a run starting this moment (or one killed in between), and
       * starting over here would remove it under that run */
      else if (!rc && lstat(part.data, &st) == 0) {
        mr_buf_printf(why, "%s exists without %s.journal: another run is "
                           "starting on it, or one was killed before its "
                           "journal; remove %s to run",
                      part.data, target, part.data);
        rc = MR_EINVAL;
      }
    } else if (lstat(part.data, &st) == 0) {
      mr_buf_printf(why, "%s holds an unfinished run: add --resume to continue "
                         "it, or remove %s and %s.journal to start over",
                    part.data, part.data, target);
      rc = MR_EINVAL;
    }
    mr_buf_free(&part);
  }
  if (!rc && o->joblog && o->resume && !f->journal) {
    size_t n = 0;
    rc = mr__joblog_load(joblog, &f->joblog_recs, &n, why);
    if (!rc && n) {
      rc = mr__doneset_build(&f->joblog_done, f->joblog_recs, n);
      f->done = &f->joblog_done;
      f->done_by_command = 1;
    }
  }
  if (!rc && f->journal) f->done = mr__journal_done(f->journal);
  if (!rc && f->done && o->resume == 1) f->failed_before = mr__doneset_failed(f->done);
  /* the joblog says what ran, but -o FILE has no journal: the run finished
   * and renamed its results into place, and whatever the joblog lacks
   * cannot be added to them in order */
  f->finished = f->done && !f->journal && journaled && is_regular_file(o->output);
  if (!rc && o->resume && journaled && !f->journal && !f->done &&
      is_regular_file(target)) {
    /* no journal and no joblog records: nothing says what FILE holds, and
     * computing everything again could shorten or change a finished run */
    mr_buf_printf(why, "refusing to resume: '%s' has no journal (a finished "
                       "run's output, or another file) and nothing records "
                       "what it holds; run without --resume to compute "
                       "everything again (with --joblog, a finished run can be "
                       "resumed)", o->output);
    rc = MR_EINVAL;
  }
  if (!rc && f->done && is_regular_file(o->input)) {
    /* a file can be checked whole before anything runs (a stream is
     * checked as it is read: reading it here would use it up) */
    mr__src check = {0};
    rc = mr__input_open(o->input, o->max_line, &check.in, &check.why);
    if (check.in) mr__input_watch(check.in, o->stop);
    check.done = f->done;
    check.check_text = f->done_by_command ? mr__session_describe : NULL;
    check.check_ctx = (void *)o;
    check.finished_output = f->finished ? o->output : NULL;
    if (!rc) rc = mr__src_verify(&check);
    if (rc) mr_buf_append(why, check.why.data ? check.why.data : "", check.why.len);
    mr__input_free(check.in);
    mr__src_free(&check);
  }
  /* putting FILE together at the end opens up to three more descriptors:
   * held now, a low `ulimit -n` refuses the run before it computes
   * anything, not after */
  while (!rc && journaled && f->nspare < 3) {
    int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      rc = mr__error_file(why, "write", o->output, errno);
      break;
    }
    f->spare[f->nspare++] = fd;
  }
  if (!rc) rc = mr__output_open(journaled ? target : o->output, journaled, keep, &f->out, why);
  if (!rc && journaled) {
    rc = f->journal ? mr__journal_resume(f->journal, why)
                    : mr__journal_start(target, spec.data, &f->journal, why);
    if (rc && !f->journal) unlink(mr__output_temp(f->out)); /* made just now, empty */
  }
  if (!rc && o->joblog) rc = mr__joblog_open(joblog, o->resume != 0, &f->joblog, why);
  if (rc) mr__session_rollback(f); /* a failed start leaves nothing to refuse the next */
  mr_buf_free(&spec);
  return rc;
}

static void spares_free(mr__session *f) {
  while (f->nspare > 0) close(f->spare[--f->nspare]);
}

void mr__session_close(mr__session *f) {
  spares_free(f);
  mr__input_free(f->in);
  mr__output_free(f->out);
  mr__journal_free(f->journal);
  mr__joblog_free(f->joblog);
  mr__doneset_free(&f->joblog_done);
  free(f->joblog_recs);
  mr__safefile_target_free(&f->out_t);
  mr__safefile_target_free(&f->log_t);
}

int mr__session_complete(mr__session *f, mr_buf *why) {
  if (!f->journal) {
    int rc = mr__output_commit(f->out);
    if (rc && why) mr_buf_puts(why, mr__output_why(f->out));
    return rc;
  }
  if (f->finished) { /* nothing ran: the finished FILE stays as it is */
    mr__output_keep(f->out);
    mr__session_rollback(f);
    return 0;
  }
  if (mr__output_keep(f->out)) {
    if (why) mr_buf_puts(why, mr__output_why(f->out));
    return MR_EIO;
  }
  spares_free(f);
  return mr__journal_complete(f->journal, mr__output_temp(f->out), f->out_t.path,
                              f->cfg->unordered, why);
}

void mr__session_src(const mr__session *f, mr__src *sc) {
  memset(sc, 0, sizeof *sc);
  sc->in = f->in;
  sc->done = f->done;
  sc->rerun_failed = f->cfg->resume == 2;
  sc->check_text = f->done_by_command ? mr__session_describe : NULL;
  sc->check_ctx = (void *)f->cfg;
  sc->finished_output = f->finished ? f->cfg->output : NULL;
}

void mr__session_textsink(const mr__session *f, mr__textsink *ts) {
  memset(ts, 0, sizeof *ts);
  ts->out = f->out;
  ts->mr__input_name = f->in ? mr__input_name(f->in) : "-";
  ts->max_line = f->cfg->max_line;
  ts->journal = f->journal;
  ts->joblog = f->joblog;
  ts->describe = mr__session_describe;
  ts->describe_ctx = (void *)f->cfg;
}
