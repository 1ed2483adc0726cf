/* options.h: the command line of mapreduce, and its usage text. */
#ifndef MR_OPTIONS_H
#define MR_OPTIONS_H

#include <stddef.h>

#include "mapreduce.h"
#include "cli/deadline.h"
#include "farm/farm.h"
#include "run/exec.h"
#include "text/session.h"
#include "text/textsink.h"
#include "reduce/acc.h"

typedef enum {
  MR__ACTION_RUN, MR__ACTION_HELP, MR__ACTION_VERSION, MR__ACTION_LIST
} mr__action;

typedef struct mr__opts {
  const char *job;
  const char *input;
  const char *output;
  const char *arg;
  const char *exec; /* --exec template, "" for --shell */
  const char *worker; /* --worker command */
  const char *joblog;
  const char *halt_text;
  const char *deadline_text; /* --deadline WHEN as given; NULL: none */
  mr__deadline deadline;
  int job_given;
  int raw;
  size_t chunksize;
  int threads;
  int unordered;
  int stats;        /* --stats: 1 for people, 2 the key=value line */
  const char *stats_json; /* --stats-json FILE (--stats=json FILE) */
  int progress;     /* --progress, --bar */
  double progress_every; /* --progress=SECS: a log's interval; 0 default */
  const char *status;   /* --status FILE */
  const char *trace;    /* --trace FILE */
  const char *timeline; /* --timeline FILE */
  int master_compute;
  int isolate;
  int retries;
  int resume;       /* 1 --resume, 2 --resume-failed */
  mr__op reduce;    /* -r OP; MR__OP_NONE: a plain map */
  int keyed;        /* --keyed, or a keyed built-in job (wordcount, histogram) */
  const char *colsep; /* --colsep REGEX, or NULL */
  const char *reducer; /* -R CMD: keyed, reduced per key by a command */
  size_t memory;    /* --memory: bytes a rank's keys may take before spilling */
  const char *tmpdir; /* --tmpdir, or NULL: $TMPDIR, else /tmp */
  double timeout_s;
  double timeout_pct;
  mr__halt halt;
  size_t max_line;
  mr__action action;
} mr__opts;

/* What --help prints. */
extern const char mr__options_usage[];

/* Fills *o from argv (whose strings it points into). 0: run; 1: done
 * (help, version, list-jobs: see o->action); MR_EINVAL: a usage error,
 * the reason in why. */
int mr__options_parse(int argc, char **argv, mr__opts *o, mr_buf *why);

/* What the options ask of the farm; stop: the flag that stops the run. */
void mr__options_farm_cfg(const mr__opts *o, volatile sig_atomic_t *stop, mr__farm_cfg *cfg);

/* What the options ask of the run's files, for the job or command loaded
 * (session.h); cfg points into o. */
void mr__options_session_cfg(const mr__opts *o, const mr_job *job, const mr__exec *exec,
                             volatile sig_atomic_t *stop, mr__session_cfg *cfg);

#endif
