/* affinity.h: whether a rank's CPU binding held its threads back.
 * mpirun binds each rank to one core at -np 2 or less (to a socket above),
 * and a rank's threads (rank 0's reading and writing too) then share that
 * core while the rest of the node idles: 1,000,000 primes at -np 1 take
 * 0.24 s bound, 0.15 s with --bind-to none. */
#ifndef MR_AFFINITY_H
#define MR_AFFINITY_H

/* Cores the calling thread may run on; 0 when unknown. */
int affinity_cores(void);
/* CPU seconds of this process and its reaped children (commands, --isolate). */
double affinity_cpu_seconds(void);
/* Whether busy_threads on `cores` of a node's `online` cores, with
 * node_ranks ranks there, were held back by the binding: more threads than
 * cores, cores that no rank was given, and the bound cores busy (cpu_s at
 * least 80% of cores x wall_s; I/O-bound threads leave them idle). */
int affinity_starved(int busy_threads, int cores, long online, int node_ranks,
                     double cpu_s, double wall_s);

#endif
