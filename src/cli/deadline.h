/* deadline.h: --deadline WHEN, the time by which a run must have ended:
 * an absolute time, a duration from the start, or `auto`, the end of the
 * batch job it runs in (Slurm, PBS) minus a margin. */
#ifndef MR_DEADLINE_H
#define MR_DEADLINE_H

#include "mapreduce.h"

/* auto's margin when none is given (auto-DURATION): what a batch script
 * needs after the run to submit its next round before the job's end (an
 * sbatch takes well under a second; Slurm ends a job at its first 30-s
 * time-limit check after the limit). Every second of it is lost to every
 * rank: on the rig, of a 2-minute job's time, items of 10-100 ms kept
 * 89.0-89.6% with 5 s (load 12-15), 92.4% with 3 s (load 7-10;
 * bench/deadline_slurm.sh). */
#define MR__DEADLINE_AUTO_MARGIN_S 3.0

typedef struct mr__deadline {
  int is_auto;   /* the batch job's end, known only once resolved */
  double at;     /* seconds since the epoch (not auto) */
  double margin; /* auto: seconds before the job's end */
} mr__deadline;

/* Parses WHEN as given at `now` (seconds since the epoch): HH:MM[:SS]
 * (today, local time), YYYY-MM-DDTHH:MM[:SS] (local time), @SECONDS (since
 * the epoch), a duration from now (90s, 55m, 2h, 1h30m, 1d; decimals
 * allowed, every number with its unit), auto or auto-DURATION. 0, or
 * MR_EINVAL with the reason in why. Says nothing of the past: see
 * mr__deadline_resolve. */
int mr__deadline_parse(const char *when, double now, mr__deadline *d, mr_buf *why);

/* The end of the batch job this process runs in, in seconds since the
 * epoch: MAPREDUCE_END_TIME (seconds since the epoch, as jobs/pbs.sh sets
 * it), Slurm's SLURM_JOB_END_TIME (Slurm 23.02 on), else `squeue` of
 * SLURM_JOB_ID (HUGE_VAL when it has none: no time limit). 0, or a
 * negative MR_E code with the reason in why (not in a batch job, squeue
 * failing). */
int mr__deadline_job_end(double *end, mr_buf *why);

/* When the run must have ended, in seconds since the epoch, for d parsed
 * from `when`: for auto, the job's end minus the margin (HUGE_VAL for a
 * job without a time limit: no deadline). Refused
 * (MR_EINVAL, the reason in why) when that is not after `now`. */
int mr__deadline_resolve(const mr__deadline *d, const char *when, double now,
                         double *at, mr_buf *why);

#endif
