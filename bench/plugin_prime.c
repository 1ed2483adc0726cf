/* plugin_prime.c: the built-in prime job, built again as a plugin, so the
 * bench can compare the two (issue: a plugin runs as fast as built in).
 * bench/run.sh builds it with jobs/prime.c and jobs/num.c into
 * build/bench/libprime.so; -Bsymbolic keeps the plugin on its own copies
 * of the kernels rather than the executable's. */
#include "mapreduce.h"

extern const mr_job mr__job_prime;
MR_PLUGIN(mr__job_prime)
