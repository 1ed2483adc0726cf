/* map_example.c: mapreduce as a library, the Pool.map of C.
 *
 *   make examples/map_example      (or: mpicc -Iinclude examples/map_example.c \
 *       build/libmapreduce.a -lgmp -lm -ldl -pthread -o map_example)
 *   mpirun -np 4 examples/map_example
 * or, against an installed mapreduce (make install; this file is then in
 * PREFIX/share/mapreduce/):
 *   mpicc -o map_example map_example.c $(pkg-config --cflags --libs mapreduce)
 *
 * It squares ten doubles (pool.map(square, xs)), then counts the primes
 * below 1,000,000 with a map and a sum reduction. */
#include <mpi.h>
#include <stdio.h>

#include "mapreduce.h"

static int square(const void *in, void *out, void *arg) {
  (void)arg;
  double x = *(const double *)in;
  *(double *)out = x * x;
  return 0;
}

static int is_prime(const void *in, void *out, void *arg) {
  (void)arg;
  long n = *(const long *)in, p = n >= 2;
  for (long d = 2; p && d * d <= n; d++) p = n % d != 0;
  *(long *)out = p;
  return 0;
}

static void add(void *acc, const void *value, void *arg) {
  (void)arg;
  *(long *)acc += *(const long *)value;
}

int main(int argc, char **argv) {
  int provided, rank;
  /* FUNNELED lets the root compute in a thread while it dispatches */
  MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided);
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);

  double xs[10], ys[10];
  for (int i = 0; i < 10; i++) xs[i] = i * 0.5;
  int rc = mr_map(MPI_COMM_WORLD, xs, 10, sizeof xs[0], ys, sizeof ys[0],
                  square, NULL, NULL, NULL);
  if (rank == 0) {
    printf("squares (rc %d):", rc);
    for (int i = 0; i < 10; i++) printf(" %g", ys[i]);
    printf("\n");
  }

  enum { N = 1000000 };
  static long nums[N];
  for (long i = 0; i < N; i++) nums[i] = i;
  long count = 0;
  rc = mr_map_reduce(MPI_COMM_WORLD, nums, rank == 0 ? N : 0, sizeof nums[0],
                     sizeof count, is_prime, add, &count, NULL, NULL);
  if (rank == 0) printf("primes below %d: %ld (rc %d)\n", N, count, rc);

  MPI_Finalize();
  return rc < 0;
}
