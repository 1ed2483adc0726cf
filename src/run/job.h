/* job.h: finding a job by name, or loading one from a plugin. */
#ifndef MR_JOB_H
#define MR_JOB_H

#include <signal.h>

#include "mapreduce.h"

extern const mr_job *const mr__builtin_jobs[]; /* NULL-terminated */
/* What each built-in job's --arg wants, NULL when it takes none. */
extern const char *const mr__builtin_job_args[];

/* A built-in job by name, or NULL. */
const mr_job *mr__job_builtin(const char *name);

/* spec is a built-in job's name, or a path to a plugin (it contains a '/'
 * or ends in ".so"). On success *job is set and *handle is the plugin's
 * handle (NULL for a built-in; give it to mr__job_unload). On failure returns a
 * negative mr_error with a one-line reason appended to why. */
int mr__job_load(const char *spec, const mr_job **job, void **handle, mr_buf *why);
void mr__job_unload(void *handle);

/* Checks --arg before anything runs, so a bad one is a usage error rather
 * than a failed run: refused when the job takes none (a built-in without
 * one, a plugin without init), or when the job's init refuses it (a
 * plugin's init is called once here). 0, or MR_EINVAL with why. */
int mr__job_check_arg(const mr_job *job, int plugin, const char *arg, mr_buf *why);

/* What mr_stopping() reports: *stop, set by a signal handler (NULL: never
 * stopping). */
void mr__job_watch_stop(volatile sig_atomic_t *stop);

#endif
