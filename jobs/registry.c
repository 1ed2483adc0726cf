/* registry.c: the table of built-in jobs, from registry.def. */
#include <stddef.h>

#include "mapreduce.h"

#define MR_JOB(name, arg) extern const mr_job mr__job_##name;
#include "registry.def"
#undef MR_JOB

const mr_job *const mr__builtin_jobs[] = {
#define MR_JOB(name, arg) &mr__job_##name,
#include "registry.def"
#undef MR_JOB
    NULL};

const char *const mr__builtin_job_args[] = {
#define MR_JOB(name, arg) arg,
#include "registry.def"
#undef MR_JOB
    NULL};
