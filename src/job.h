/* job.h: finding a job by name, or loading one from a plugin. */
#ifndef MR_JOB_H
#define MR_JOB_H

#include <signal.h>

#include "mapreduce.h"

extern const mr_job *const mr__builtin_jobs[]; /* NULL-terminated */

/* A built-in job by name, or NULL. */
const mr_job *job_builtin(const char *name);

/* spec is a built-in job's name, or a path to a plugin (it contains a '/'
 * or ends in ".so"). On success *job is set and *handle is the plugin's
 * handle (NULL for a built-in; give it to job_unload). On failure returns a
 * negative mr_error with a one-line reason appended to why. */
int job_load(const char *spec, const mr_job **job, void **handle, mr_buf *why);
void job_unload(void *handle);

/* What mr_stopping() reports: *stop, set by a signal handler (NULL: never
 * stopping). */
void job_watch_stop(volatile sig_atomic_t *stop);

#endif
