/* session.h: the files of one run on the master: the input, the output
 * (atomic, and with -o FILE journaled), the joblog, and what a resume
 * continues from them. Opening checks that a resume is of the same run and
 * input and that no file has two roles; completing puts the output in
 * place; a rollback leaves the files as the run found them. */
#ifndef MR_SESSION_H
#define MR_SESSION_H

#include <signal.h>
#include <stdint.h>

#include "mapreduce.h"
#include "run/exec.h"
#include "text/doneset.h"
#include "text/input.h"
#include "text/joblog.h"
#include "text/journal.h"
#include "text/output.h"
#include "text/safefile.h"
#include "text/source.h"
#include "text/textsink.h"

/* What the session needs of the command line (the caller keeps it). */
typedef struct mr__session_cfg {
  const char *input;  /* NULL or "-": standard input */
  const char *output; /* -o; NULL or "-": standard output */
  const char *joblog; /* --joblog, or NULL */
  size_t max_line;
  int resume;         /* 0; 1 --resume; 2 --resume-failed */
  int unordered;
  /* what runs, as the joblog and the journal name it: a job (-j, its name
   * as given, and the loaded job) or a command (exec_text, "" for
   * --shell, and the compiled one) */
  const char *job_name;
  const mr_job *job;
  const char *exec_text;
  const mr__exec *exec;
  const char *worker_text; /* --worker's command, or NULL */
  const char *arg;
  int raw;
  int no_journal;     /* the run cannot resume (a reduction): -o FILE is
                         written beside it and renamed, with no journal */
  volatile sig_atomic_t *stop; /* a stop ends reading the input */
  /* files that report on the run (--status, --trace ...; NULL: none) and
   * their options' names: each must be a file of its own */
  const char *report[4];
  const char *report_opt[4];
  /* where messages really go when standard error is a launcher's copy
   * (under mpirun, "/proc/PID/fd/2" of mpirun), or NULL: standard error */
  const char *err_path;
} mr__session_cfg;
#define MR__SESSION_REPORTS 4

typedef struct mr__session {
  const mr__session_cfg *cfg;
  mr__input *in;
  mr__output *out;
  mr__journal *journal;
  mr__joblog *joblog;
  mr__jrec *joblog_recs;
  mr__doneset joblog_done;
  mr__doneset *done;      /* what to skip, from the journal or the joblog */
  int done_by_command;    /* joblog: checked by command, not item text */
  int finished;           /* -o FILE is a finished run's: leave it be */
  uint64_t failed_before; /* failures an earlier run left in force */
  mr__target out_t, log_t; /* where -o and --joblog lead */
  int spare[3], nspare;    /* descriptors held for putting FILE together */
} mr__session;

/* Opens the input, the output and whatever a resume continues; on failure
 * the files are as they were, the reason in why. s must be zeroed; close
 * it in either case. */
int mr__session_open(mr__session *s, const mr__session_cfg *cfg, mr_buf *why);

/* Puts the output in place after a run that did everything: 0, or the
 * failure's code with why saying "cannot write 'FILE': <reason>". */
int mr__session_complete(mr__session *s, mr_buf *why);

/* Leaves the output's partial file and journal as the run found them
 * (removed when it made them). */
void mr__session_rollback(mr__session *s);

/* Frees what open made; a zeroed session is fine. */
void mr__session_close(mr__session *s);

/* The farm's source of items from the opened session: its input minus
 * what a resume skips, checked against what the earlier run recorded. */
void mr__session_src(const mr__session *s, mr__src *src);

/* The text sink's files from the opened session: output, journal, joblog
 * (the caller adds errs, hosts and halt). */
void mr__session_textsink(const mr__session *s, mr__textsink *ts);

/* The joblog Command of an item, and what a resume checks it against;
 * ctx is the mr__session_cfg (a mr__describe_fn). */
void mr__session_describe(void *ctx, const char *item, size_t len, uint64_t seq,
                          mr_buf *out);

#endif
