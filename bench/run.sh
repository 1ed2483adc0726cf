#!/bin/sh
# bench/run.sh: `make bench` runs this after building ./mapreduce. Builds the
# serial C baseline against the same job kernels, then runs every workload
# side by side with its peers (bench/bench.py) and prints Markdown tables.
#
#   sh bench/run.sh            full run (~10 minutes), writes bench/RESULTS.md
#   sh bench/run.sh --quick    1/10 of the items, one round (~2 minutes)
#
# Knobs (environment): BENCH_QUICK, BENCH_SCALE, BENCH_ROUNDS, BENCH_ONLY,
# BENCH_PY_ITEMS, BENCH_EXEC_ITEMS, BENCH_EXEC_ROUNDS, BENCH_EXEC_BUDGET,
# BENCH_TMP, BENCH_TIMEOUT, BENCH_MAPREDUCE, BENCH_PYTHON; see
# bench/README.md.
set -eu

cd "$(dirname "$0")/.."

for arg in "$@"; do
  case $arg in
  --quick) BENCH_QUICK=1; export BENCH_QUICK ;;
  -h | --help) sed -n '2,12s/^# \{0,1\}//p' "$0"; exit 0 ;;
  *) echo "bench/run.sh: unknown argument '$arg'" >&2; exit 255 ;;
  esac
done

# Open MPI refuses root and more ranks than cores unless told (as the
# Makefile does for its own targets)
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMPI_MCA_rmaps_base_oversubscribe=1

# the mpi4py peer needs Debian's python3-mpi4py, which only /usr/bin/python3
# sees (a pyenv python3 may come first on PATH)
PY=${BENCH_PYTHON:-/usr/bin/python3}
[ -x "$PY" ] || PY=python3
export BENCH_PYTHON="$PY"

if [ ! -x ./mapreduce ] || [ ! -f build/libmapreduce.a ]; then
  make mapreduce
fi

# the serial baseline: a plain loop over the same kernels (build/libmapreduce.a)
mkdir -p build/bench
if [ ! -x build/bench/serial ] || [ bench/serial.c -nt build/bench/serial ] ||
  [ build/libmapreduce.a -nt build/bench/serial ]; then
  mpicc -std=c11 -O2 -g -Wall -Wextra -D_GNU_SOURCE -Iinclude -Isrc -Ijobs \
    -o build/bench/serial bench/serial.c build/libmapreduce.a \
    -lgmp -lm -ldl -pthread
fi

# the prime job again, as a plugin: the same sources, plain cc as a plugin
# author would build them (-Bsymbolic: its own kernels, not the binary's)
if [ ! -f build/bench/libprime.so ] || [ jobs/prime.c -nt build/bench/libprime.so ] ||
  [ bench/plugin_prime.c -nt build/bench/libprime.so ]; then
  cc -std=c11 -O2 -D_GNU_SOURCE -shared -fPIC -Wl,-Bsymbolic -Iinclude -Ijobs \
    -o build/bench/libprime.so bench/plugin_prime.c jobs/prime.c jobs/num.c -lgmp
fi

# what a fresh page and a wake-up cost here (the machine table prints them)
if [ ! -x build/bench/machine_costs ] || [ bench/machine_costs.c -nt build/bench/machine_costs ]; then
  cc -std=c11 -O2 -Wall -Wextra -o build/bench/machine_costs bench/machine_costs.c
fi

for tool in timeout /usr/bin/time parallel; do
  command -v "$tool" >/dev/null 2>&1 ||
    echo "bench/run.sh: '$tool' not found; the rows that need it are skipped" >&2
done

exec "$PY" bench/bench.py
