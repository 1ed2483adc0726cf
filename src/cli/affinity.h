/* affinity.h: whether a rank's CPU binding held its threads back.
 * mpirun binds each rank to one core at -np 2 or less (to a socket above),
 * and a rank's threads (rank 0's reading and writing too) then share that
 * core while the rest of the node idles: 1,000,000 primes at -np 1 take
 * 0.24 s bound, 0.15 s with --bind-to none. */
#ifndef MR_AFFINITY_H
#define MR_AFFINITY_H

/* Cores the calling thread may run on; 0 when unknown. */
int mr__affinity_cores(void);
/* Cores the parent process (mpirun, orted, slurmstepd: the launcher) may run
 * on: what a rank could have been given; 0 when unknown. A cpuset, taskset
 * or container narrows it as it narrows the launcher. */
int mr__affinity_parent_cores(void);
/* The cores in a Cpus_allowed_list such as "0-3,8,10-11"; MR_EINVAL if
 * malformed. */
int mr__affinity_count_list(const char *list);
/* CPU seconds of this process and its reaped children (commands, --isolate). */
double mr__affinity_cpu_seconds(void);
/* Whether busy_threads on `cores` of the `online` cores a rank could have
 * had (mr__affinity_parent_cores), with node_ranks ranks on the node, were held
 * back by the binding: more threads than cores, cores that no rank was
 * given, and the bound cores busy (cpu_s at least 80% of cores x wall_s;
 * I/O-bound threads leave them idle). */
int mr__affinity_starved(int busy_threads, int cores, long online, int node_ranks,
                     double cpu_s, double wall_s);

#endif
