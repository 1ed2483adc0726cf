/* options.c: the command line of mapreduce: its usage text, what every
 * option sets, and the combinations refused before anything starts.
 * An option is in three places: longs[] (and the getopt string), the usage
 * text, and an entry under OPTIONS in doc/mapreduce.1; tools/docs.sh (make
 * test) names any option missing from one of them. */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli/options.h"
#include "base/idle.h"
#include "farm/chunk.h"
#include "text/input.h"

const char mr__options_usage[] =
    "Usage: mapreduce [OPTIONS] [INPUT]\n"
    "Pool.map for a cluster: apply a job to every line of INPUT (a file, or -\n"
    "or nothing for standard input) on all MPI ranks, and write ITEM<TAB>RESULT\n"
    "lines in input order. Run it as it is, or under mpirun/srun.\n"
    "\n"
    "  -j, --job NAME|PLUGIN.so  the computation (default prime; --list-jobs)\n"
    "  -a, --arg TEXT            a parameter for the job\n"
    "  -e, --exec 'CMD {}'       run a command per item (GNU parallel's {} {.}\n"
    "                            {/} {//} {/.} {#}); its output is the result\n"
    "      --shell               each item is a shell command line to run\n"
    "  -w, --worker 'CMD ARGS'   one long-lived CMD per computing thread: items\n"
    "                            go to its stdin one per line, it answers one\n"
    "                            line per item on stdout (a line starting with\n"
    "                            the byte 0x15 fails its item: see the README)\n"
    "      --raw                 write results as produced, without ITEM<TAB>\n"
    "  -o, --output FILE         write results to FILE (atomically), not stdout\n"
    "  -c, --chunksize N         items per message (default: adaptive)\n"
    "  -t, --threads N           computing threads per rank (default 1)\n"
    "  -u, --unordered           write each result as soon as it is ready\n"
    "      --colsep REGEX        split each line into fields {1} {2} ... for\n"
    "                            --exec; jobs get the fields joined by tabs\n"
    "\n"
    "Reductions (one line, or KEY<TAB>VALUE lines sorted by key):\n"
    "  -r, --reduce OP           fold every result into one line: sum, count,\n"
    "                            min, max, mean (exact), first, concat; count\n"
    "                            of true/false results counts the true ones\n"
    "      --keyed               results are KEY<TAB>VALUE lines, any number per\n"
    "                            item: reduce per key with -r OP (default sum)\n"
    "                            and write one line per key, sorted (implied by\n"
    "                            -j wordcount and -j histogram -a WIDTH)\n"
    "      --memory SIZE         keyed: what a rank's keys may take before\n"
    "                            they spill to sorted runs on disk (default\n"
    "                            1G; K, M, G suffixes)\n"
    "      --tmpdir DIR          where spilled runs go (default $TMPDIR, /tmp)\n"
    "  -R, --reducer 'CMD'       keyed, as Hadoop streaming: CMD (run by /bin/sh\n"
    "                            -c, once per rank owning keys) reads its keys'\n"
    "                            KEY<TAB>VALUE lines sorted by key, every value\n"
    "                            in input order, and writes lines; they are\n"
    "                            merged by key (the text before the first tab)\n"
    "\n"
    "Failures and restarts:\n"
    "      --halt WHEN           never (default), soon,fail=N|P%, now,fail=N|P%\n"
    "      --isolate             run the job in child processes: a crash fails\n"
    "                            only its item\n"
    "      --timeout SECS|P%     fail an item running longer (P% of the median\n"
    "                            item time); implies --isolate for jobs; a\n"
    "                            --worker silent that long is restarted\n"
    "      --retries N           run a failed item up to N more times,\n"
    "                            on another host or rank\n"
    "      --joblog FILE         log every item in GNU parallel's format\n"
    "      --resume              continue an unfinished run (-o FILE's journal,\n"
    "                            or --joblog)\n"
    "      --resume-failed       the same, and run its failed items again\n"
    "      --deadline WHEN       end the run by WHEN: HH:MM[:SS], YYYY-MM-DDTHH:MM,\n"
    "                            a duration (55m, 1h30m) or auto (the Slurm job's\n"
    "                            end minus 3 s; auto-2m: minus 2 minutes); sends\n"
    "                            only chunks that end in time, then exits 124\n"
    "                            (continue with --resume)\n"
    "\n"
    "Seeing the run (never on stdout):\n"
    "      --progress[=SECS], --bar  items done and total, percent, items/s,\n"
    "                            ETA, failures: one line redrawn on a terminal,\n"
    "                            else a timestamped line every SECS (default 10)\n"
    "      --stats               at the end: time, rate, the computing time the\n"
    "                            ranks saved, busy share per rank, slowest items\n"
    "      --stats=line          the same figures as one key=value line, and\n"
    "                            where stdout went (stdout=direct: rank 0\n"
    "                            wrote where mpirun's output goes)\n"
    "      --stats-json FILE     the same figures as JSON (or --stats=json FILE)\n"
    "      --status FILE         a status document, replaced whole every 2 s\n"
    "                            (cat or watch it from another shell)\n"
    "      --trace FILE.json     every chunk on every rank, for ui.perfetto.dev\n"
    "      --timeline FILE.svg   a picture: a lane per rank, busy and idle\n"
    "\n"
    "      --max-line BYTES      longest accepted input line (default 1048576)\n"
    "      --master-compute yes|no|auto  whether rank 0 computes too (auto:\n"
    "                            with fewer than 16 workers)\n"
    "      --list-jobs           list the built-in jobs\n"
    "  -h, --help                this help\n"
    "      --version             the version\n"
    "\n"
    "Exit status: 0 all items succeeded; 1-100 that many items failed; 101\n"
    "more than 100 failed; 128+N stopped by signal N (resume with --resume);\n"
    "124 stopped for time by --deadline (resume with --resume);\n"
    "255 a usage or fatal error.\n";

enum {
  OPT_STATS = 256, OPT_LIST, OPT_VERSION, OPT_MAXLINE, OPT_MASTER, OPT_SHELL,
  OPT_RAW, OPT_HALT, OPT_ISOLATE, OPT_TIMEOUT, OPT_RETRIES, OPT_JOBLOG,
  OPT_RESUME, OPT_RESUME_FAILED, OPT_DEADLINE, OPT_PROGRESS, OPT_BAR, OPT_STATS_JSON,
  OPT_STATUS, OPT_TRACE, OPT_TIMELINE, OPT_KEYED, OPT_COLSEP, OPT_MEMORY, OPT_TMPDIR
};

#define MEMORY_DEFAULT (1ull << 30)
#define MEMORY_MIN (64ull << 10)

/* 256M, 1G, 65536: bytes, with a binary K, M or G suffix. */
static int parse_memory(const char *s, size_t *out) {
  char *end;
  errno = 0;
  if (!*s || strspn(s, "0123456789") == 0) return -1;
  unsigned long long v = strtoull(s, &end, 10);
  int shift = 0;
  if (*end == 'K' || *end == 'k') shift = 10, end++;
  else if (*end == 'M' || *end == 'm') shift = 20, end++;
  else if (*end == 'G' || *end == 'g') shift = 30, end++;
  if (errno || *end || v > (1ull << 50) >> shift) return -1;
  v <<= shift;
  if (v < MEMORY_MIN) return -1;
  *out = (size_t)v;
  return 0;
}

static int parse_size(const char *s, size_t min, size_t max, size_t *out) {
  if (!s || !*s || strspn(s, "0123456789") != strlen(s)) return MR_EINVAL;
  errno = 0;
  char *end;
  unsigned long long v = strtoull(s, &end, 10);
  if (errno || *end || v < min || v > max) return MR_EINVAL;
  *out = (size_t)v;
  return 0;
}

static int parse_timeout(const char *s, mr__opts *o) {
  char *end;
  errno = 0;
  double v = strtod(s, &end);
  if (end == s || errno || !(v > 0) || v > 1e7 || strspn(s, "0123456789.%") != strlen(s))
    return MR_EINVAL;
  if (*end == '%' && end[1] == '\0') o->timeout_pct = v;
  else if (*end == '\0') o->timeout_s = v;
  else return MR_EINVAL;
  return 0;
}

int mr__options_parse(int argc, char **argv, mr__opts *o, mr_buf *why) {
  static const struct option longs[] = {
      {"job", required_argument, NULL, 'j'},
      {"arg", required_argument, NULL, 'a'},
      {"exec", required_argument, NULL, 'e'},
      {"shell", no_argument, NULL, OPT_SHELL},
      {"worker", required_argument, NULL, 'w'},
      {"raw", no_argument, NULL, OPT_RAW},
      {"output", required_argument, NULL, 'o'},
      {"chunksize", required_argument, NULL, 'c'},
      {"threads", required_argument, NULL, 't'},
      {"unordered", no_argument, NULL, 'u'},
      {"halt", required_argument, NULL, OPT_HALT},
      {"isolate", no_argument, NULL, OPT_ISOLATE},
      {"timeout", required_argument, NULL, OPT_TIMEOUT},
      {"retries", required_argument, NULL, OPT_RETRIES},
      {"joblog", required_argument, NULL, OPT_JOBLOG},
      {"resume", no_argument, NULL, OPT_RESUME},
      {"resume-failed", no_argument, NULL, OPT_RESUME_FAILED},
      {"deadline", required_argument, NULL, OPT_DEADLINE},
      {"max-line", required_argument, NULL, OPT_MAXLINE},
      {"stats", optional_argument, NULL, OPT_STATS},
      {"stats-json", required_argument, NULL, OPT_STATS_JSON},
      {"progress", optional_argument, NULL, OPT_PROGRESS},
      {"bar", no_argument, NULL, OPT_BAR},
      {"status", required_argument, NULL, OPT_STATUS},
      {"trace", required_argument, NULL, OPT_TRACE},
      {"timeline", required_argument, NULL, OPT_TIMELINE},
      {"reduce", required_argument, NULL, 'r'},
      {"keyed", no_argument, NULL, OPT_KEYED},
      {"reducer", required_argument, NULL, 'R'},
      {"colsep", required_argument, NULL, OPT_COLSEP},
      {"memory", required_argument, NULL, OPT_MEMORY},
      {"tmpdir", required_argument, NULL, OPT_TMPDIR},
      {"list-jobs", no_argument, NULL, OPT_LIST},
      {"master-compute", required_argument, NULL, OPT_MASTER},
      {"help", no_argument, NULL, 'h'},
      {"version", no_argument, NULL, OPT_VERSION},
      {NULL, 0, NULL, 0}};
  memset(o, 0, sizeof *o);
  o->job = "prime";
  o->threads = 1;
  o->master_compute = -1;
  o->max_line = MR_LINE_MAX_DEFAULT;
  o->reduce = MR__OP_NONE;
  o->memory = MEMORY_DEFAULT;
  opterr = 0;
  optind = 1;
  int c;
  size_t v;
  while ((c = getopt_long(argc, argv, ":j:a:e:w:o:c:t:r:R:uh", longs, NULL)) != -1) {
    switch (c) {
    case 'j':
      o->job = optarg;
      o->job_given = 1;
      break;
    case 'a': o->arg = optarg; break;
    case 'e':
      if (!*optarg) {
        mr_buf_puts(why, "--exec needs a command");
        return MR_EINVAL;
      }
      o->exec = optarg;
      break;
    case OPT_SHELL: o->exec = ""; break;
    case 'w':
      if (!optarg[strspn(optarg, " \t")]) {
        mr_buf_puts(why, "--worker needs a command");
        return MR_EINVAL;
      }
      o->worker = optarg;
      break;
    case OPT_RAW: o->raw = 1; break;
    case 'o':
    case OPT_JOBLOG:
      if (!*optarg) { /* else ".partial" and ".journal" in the directory */
        mr_buf_printf(why, "%s needs a file name", c == 'o' ? "-o" : "--joblog");
        return MR_EINVAL;
      }
      *(c == 'o' ? &o->output : &o->joblog) = optarg;
      break;
    case 'c':
      if (parse_size(optarg, 1, 1u << 24, &o->chunksize)) {
        mr_buf_printf(why, "--chunksize wants a whole number from 1 to 16777216, not '%s'", optarg);
        return MR_EINVAL;
      }
      break;
    case 't':
      if (parse_size(optarg, 1, 1024, &v)) {
        mr_buf_printf(why, "--threads wants a whole number from 1 to 1024, not '%s'", optarg);
        return MR_EINVAL;
      }
      o->threads = (int)v;
      break;
    case 'u': o->unordered = 1; break;
    case OPT_HALT:
      if (mr__textsink_parse_halt(optarg, &o->halt)) {
        mr_buf_printf(why, "--halt wants never, soon,fail=N, now,fail=N or a "
                           "percentage like now,fail=10%%, not '%s'", optarg);
        return MR_EINVAL;
      }
      o->halt_text = optarg;
      break;
    case OPT_ISOLATE: o->isolate = 1; break;
    case OPT_TIMEOUT:
      if (parse_timeout(optarg, o)) {
        mr_buf_printf(why, "--timeout wants seconds (2.5) or a percentage of the "
                           "median item time (200%%), not '%s'", optarg);
        return MR_EINVAL;
      }
      break;
    case OPT_RETRIES:
      if (parse_size(optarg, 0, 1000, &v)) {
        mr_buf_printf(why, "--retries wants a whole number from 0 to 1000, not '%s'", optarg);
        return MR_EINVAL;
      }
      o->retries = (int)v;
      break;
    case OPT_RESUME: o->resume = o->resume ? o->resume : 1; break;
    case OPT_RESUME_FAILED: o->resume = 2; break;
    case OPT_DEADLINE:
      if (mr__deadline_parse(optarg, mr__wall_time(), &o->deadline, why)) return MR_EINVAL;
      o->deadline_text = optarg;
      break;
    case OPT_MAXLINE:
      if (parse_size(optarg, 16, 1u << 30, &o->max_line)) {
        mr_buf_printf(why, "--max-line wants a number of bytes from 16 to 1073741824, not '%s'", optarg);
        return MR_EINVAL;
      }
      break;
    case OPT_STATS:
      if (!optarg) {
        o->stats = o->stats ? o->stats : 1;
      } else if (!strcmp(optarg, "line")) {
        o->stats = 2;
      } else if (!strcmp(optarg, "json")) { /* --stats=json FILE */
        if (optind >= argc || !*argv[optind]) {
          mr_buf_puts(why, "--stats=json needs a FILE (--stats=json FILE)");
          return MR_EINVAL;
        }
        o->stats_json = argv[optind++];
      } else {
        mr_buf_printf(why, "--stats wants nothing, =line or =json FILE, not '%s'", optarg);
        return MR_EINVAL;
      }
      break;
    case OPT_STATS_JSON:
    case OPT_STATUS:
    case OPT_TRACE:
    case OPT_TIMELINE: {
      static const char *const names[] = {"--stats-json", "--status", "--trace", "--timeline"};
      int k = c - OPT_STATS_JSON;
      if (!*optarg) {
        mr_buf_printf(why, "%s needs a file name", names[k]);
        return MR_EINVAL;
      }
      const char **dst[] = {&o->stats_json, &o->status, &o->trace, &o->timeline};
      *dst[k] = optarg;
      break;
    }
    case OPT_BAR: o->progress = 1; break;
    case OPT_PROGRESS:
      o->progress = 1;
      if (optarg) {
        char *end;
        errno = 0;
        double secs = strtod(optarg, &end);
        if (end == optarg || *end || errno || !(secs >= 0.1) || secs > 86400) {
          mr_buf_printf(why, "--progress wants seconds between lines in a log, from 0.1 "
                             "to 86400, not '%s'", optarg);
          return MR_EINVAL;
        }
        o->progress_every = secs;
      }
      break;
    case 'r':
      if ((o->reduce = mr__op_parse(optarg)) == MR__OP_NONE) {
        mr_buf_printf(why, "-r wants sum, count, min, max, mean, first or concat, not '%s'",
                      optarg);
        return MR_EINVAL;
      }
      break;
    case OPT_KEYED: o->keyed = 1; break;
    case 'R':
      if (!optarg[strspn(optarg, " \t")]) {
        mr_buf_puts(why, "--reducer needs a command");
        return MR_EINVAL;
      }
      o->reducer = optarg;
      break;
    case OPT_MEMORY:
      if (parse_memory(optarg, &o->memory)) {
        mr_buf_printf(why, "--memory wants a size of at least 64K, like 256M or 2G, "
                           "not '%s'", optarg);
        return MR_EINVAL;
      }
      break;
    case OPT_TMPDIR:
      if (!*optarg) {
        mr_buf_puts(why, "--tmpdir needs a directory");
        return MR_EINVAL;
      }
      o->tmpdir = optarg;
      break;
    case OPT_COLSEP:
      if (!*optarg) {
        mr_buf_puts(why, "--colsep needs a regular expression");
        return MR_EINVAL;
      }
      o->colsep = optarg;
      break;
    case OPT_LIST: o->action = MR__ACTION_LIST; return 1;
    case OPT_MASTER:
      if (!strcmp(optarg, "yes")) o->master_compute = 1;
      else if (!strcmp(optarg, "no")) o->master_compute = 0;
      else if (!strcmp(optarg, "auto")) o->master_compute = -1;
      else {
        mr_buf_printf(why, "--master-compute wants yes, no or auto, not '%s'", optarg);
        return MR_EINVAL;
      }
      break;
    case 'h': o->action = MR__ACTION_HELP; return 1;
    case OPT_VERSION: o->action = MR__ACTION_VERSION; return 1;
    case ':':
      mr_buf_printf(why, "option '%s' needs a value", argv[optind - 1]);
      return MR_EINVAL;
    default:
      if (optopt) mr_buf_printf(why, "unknown option '-%c'", optopt);
      else mr_buf_printf(why, "unknown option '%s'", argv[optind - 1]);
      return MR_EINVAL;
    }
  }
  if (argc - optind > 1) {
    mr_buf_printf(why, "one INPUT at most (got '%s' and '%s')", argv[optind],
                  argv[optind + 1]);
    return MR_EINVAL;
  }
  o->input = optind < argc ? argv[optind] : NULL;
  if (o->exec && o->job_given) {
    mr_buf_puts(why, "--job and --exec/--shell exclude each other");
    return MR_EINVAL;
  }
  if (o->reducer && o->reduce != MR__OP_NONE) {
    mr_buf_printf(why, "--reducer and -r %s exclude each other: the command reduces "
                       "each key's values itself", mr__op_name(o->reduce));
    return MR_EINVAL;
  }
  if (o->worker && (o->exec || o->job_given || o->arg || o->isolate || o->keyed ||
                    o->reduce != MR__OP_NONE || o->colsep || o->reducer)) {
    /* -r, --keyed, --colsep: not yet for a worker (a fold reads items one
     * by one; a worker answers chunks) */
    mr_buf_printf(why, "--worker and %s exclude each other",
                  o->exec ? (*o->exec ? "--exec" : "--shell")
                  : o->job_given ? "--job" : o->arg ? "--arg" : o->isolate ? "--isolate"
                  : o->keyed ? "--keyed" : o->colsep ? "--colsep"
                  : o->reducer ? "--reducer" : "-r");
    return MR_EINVAL;
  }
  if (o->exec && o->arg) {
    mr_buf_puts(why, "--arg is for jobs (-j); a command takes its parameters "
                     "in its template");
    return MR_EINVAL;
  }
  if (!o->exec && (!strcmp(o->job, "wordcount") || !strcmp(o->job, "histogram")))
    o->keyed = 1; /* the built-ins that emit pairs */
  if (o->reducer) o->keyed = 1;
  if ((o->keyed || o->reduce != MR__OP_NONE) && o->resume) {
    /* a reduction's partial results live in the ranks' memory, and the
     * output is written only at the end: nothing is left to resume */
    mr_buf_printf(why, "--resume does not apply to %s: its partial results are "
                       "not kept; run it again without --resume",
                  o->reducer ? "--reducer" : o->keyed ? "a keyed run" : "-r");
    return MR_EINVAL;
  }
  int to_file = o->output && strcmp(o->output, "-") != 0;
  if (o->resume && !to_file && !o->joblog) {
    mr_buf_puts(why, "--resume needs -o FILE (its journal) or --joblog FILE");
    return MR_EINVAL;
  }
  if ((o->timeout_s > 0 || o->timeout_pct > 0) && !o->exec && !o->worker) o->isolate = 1;
  return 0;
}

void mr__options_farm_cfg(const mr__opts *o, volatile sig_atomic_t *stop, mr__farm_cfg *cfg) {
  memset(cfg, 0, sizeof *cfg);
  cfg->chunksize = o->chunksize;
  cfg->threads = o->threads;
  cfg->unordered = o->unordered;
  cfg->master_compute = o->master_compute;
  cfg->work_flags = o->joblog || o->timeout_pct > 0 ? MR__WORK_TIMES : 0;
  if (o->halt.when == MR__HALT_NOW) { /* stop at the failing item */
    cfg->work_flags |= MR__WORK_STOP_AT_FAIL;
    cfg->halt_now_fail_n = o->halt.fail_n;
  }
  cfg->stop = stop;
  cfg->retries = o->retries;
  cfg->timeout_s = o->timeout_s;
  cfg->timeout_pct = o->timeout_pct;
}

void mr__options_session_cfg(const mr__opts *o, const mr_job *job, const mr__exec *exec,
                             volatile sig_atomic_t *stop, mr__session_cfg *cfg) {
  memset(cfg, 0, sizeof *cfg);
  cfg->input = o->input;
  cfg->output = o->output;
  cfg->joblog = o->joblog;
  cfg->max_line = o->max_line;
  cfg->resume = o->resume;
  cfg->unordered = o->unordered;
  cfg->job_name = o->job;
  cfg->job = job;
  cfg->exec_text = o->exec;
  cfg->worker_text = o->worker;
  cfg->exec = exec;
  cfg->arg = o->arg;
  cfg->raw = o->raw;
  cfg->no_journal = o->keyed || o->reduce != MR__OP_NONE;
  cfg->stop = stop;
  const char *reports[] = {o->status, o->trace, o->timeline, o->stats_json};
  const char *names[] = {"--status", "--trace", "--timeline", "--stats-json"};
  for (int k = 0; k < MR__SESSION_REPORTS; k++) {
    cfg->report[k] = reports[k];
    cfg->report_opt[k] = names[k];
  }
}
