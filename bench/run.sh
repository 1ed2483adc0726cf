#!/bin/sh
# bench/run.sh: `make bench` runs this after building ./mapreduce. Builds the
# serial C baseline against the same job kernels, then runs every workload
# side by side with its peers (bench/bench.py) and prints Markdown tables.
# Every argument goes to bench/bench.py; `--help` lists them all.
#
#   sh bench/run.sh                     full run (~15 minutes), writes bench/RESULTS.md
#   sh bench/run.sh --quick             1/10 of the items, one round (~3 minutes)
#   sh bench/run.sh --quick --only io   some workloads only
#   make bench ARGS='--quick --only io' the same through make
set -eu

cd "$(dirname "$0")/.."

# ---- the serial baseline's compile line, the one place it is spelt out:
# bench/serial.c links the library's job kernels, so its -I paths follow
# the layout of src/ (adjust them here when src/ moves into subfolders)
build_serial() {
  mpicc -std=c11 -O2 -g -Wall -Wextra -D_GNU_SOURCE -Iinclude -Isrc -Ijobs \
    -o build/bench/serial bench/serial.c build/libmapreduce.a \
    -lgmp -lm -ldl -pthread
}
# ----

# the harness runs under the interpreter bench.py gives the Python peers by
# default (Debian's, which sees python3-mpi4py; see --python)
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3

for arg in "$@"; do
  case $arg in
  -h | --help)
    sed -n '2,10s/^# \{0,1\}//p' "$0"
    echo
    exec "$PY" bench/bench.py --help
    ;;
  esac
done

# the knobs were environment variables before they were options: one left
# set means a run other than the one asked for, so stop and name the option
for var in $(env | sed -n 's/^\(BENCH_[A-Z_]*\)=.*/\1/p'); do
  opt=$(echo "${var#BENCH_}" | tr 'A-Z_' 'a-z-')
  echo "bench/run.sh: $var is no longer read: pass --$opt" \
    "(sh bench/run.sh --help; make bench ARGS='--$opt ...')" >&2
  exit 2
done

# Open MPI refuses root and more ranks than cores unless told (as the
# Makefile does for its own targets)
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMPI_MCA_rmaps_base_oversubscribe=1

if [ ! -x ./mapreduce ] || [ ! -f build/libmapreduce.a ]; then
  make mapreduce
fi

# the serial baseline: a plain loop over the same kernels (build/libmapreduce.a)
mkdir -p build/bench
if [ ! -x build/bench/serial ] || [ bench/serial.c -nt build/bench/serial ] ||
  [ build/libmapreduce.a -nt build/bench/serial ]; then
  build_serial
fi

# the prime job again, as a plugin: the same sources, plain cc as a plugin
# author would build them (-Bsymbolic: its own kernels, not the binary's)
if [ ! -f build/bench/libprime.so ] || [ jobs/prime.c -nt build/bench/libprime.so ] ||
  [ bench/plugin_prime.c -nt build/bench/libprime.so ]; then
  cc -std=c11 -O2 -D_GNU_SOURCE -shared -fPIC -Wl,-Bsymbolic -Iinclude -Ijobs \
    -o build/bench/libprime.so bench/plugin_prime.c jobs/prime.c jobs/num.c -lgmp
fi

# the observer fed alone (the observe workload: what --progress, --trace ...
# cost the master per chunk, in CPU time); links the library's src/obs
if [ ! -x build/bench/obs_cost ] || [ bench/obs_cost.c -nt build/bench/obs_cost ] ||
  [ build/libmapreduce.a -nt build/bench/obs_cost ]; then
  mpicc -std=c11 -O2 -g -Wall -Wextra -D_GNU_SOURCE -Iinclude -Isrc \
    -o build/bench/obs_cost bench/obs_cost.c build/libmapreduce.a -lgmp -lm -ldl -pthread
fi

# what a fresh page and a wake-up cost here (the machine table prints them)
if [ ! -x build/bench/machine_costs ] || [ bench/machine_costs.c -nt build/bench/machine_costs ]; then
  cc -std=c11 -O2 -Wall -Wextra -o build/bench/machine_costs bench/machine_costs.c
fi

for tool in timeout /usr/bin/time parallel; do
  command -v "$tool" >/dev/null 2>&1 ||
    echo "bench/run.sh: '$tool' not found; the rows that need it are skipped" >&2
done

exec "$PY" bench/bench.py "$@"
