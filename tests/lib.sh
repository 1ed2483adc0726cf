# tests/lib.sh: shared by the integration scripts (source it).
# Every mpirun runs under timeout, so a hang fails instead of waiting.
set -u
cd "$(dirname "$0")/.." || exit 2
MR=${MR:-./mapreduce}
MR=$(cd "$(dirname "$MR")" && pwd)/$(basename "$MR") # tests may cd
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMPI_MCA_rmaps_base_oversubscribe=1
export OMPI_MCA_orte_execute_quiet=1 # no notice when the exit status is not 0
TMP=$(mktemp -d /tmp/mr-test.XXXXXX)
# only this shell cleans up: a subshell killed right after its fork still
# holds the trap, and must not remove the directory under the test
trap '[ "$BASHPID" = "$$" ] && rm -rf "$TMP"' EXIT
T_PASS=0
T_FAIL=0
T_NAME=${T_NAME:-$(basename "$0" .sh)}

ok() { T_PASS=$((T_PASS + 1)); }
bad() { T_FAIL=$((T_FAIL + 1)); echo "  FAIL: $*"; }
# check NAME COMMAND...: passes when the command succeeds
check() {
  local name=$1
  shift
  if "$@"; then ok; else bad "$name"; fi
}
# same FILE1 FILE2 NAME
same() {
  if cmp -s "$1" "$2"; then ok; else
    bad "$3"
    diff "$1" "$2" | head -5
  fi
}
# mpi NP ARGS...: mapreduce on NP ranks (NP 0: without mpirun)
mpi() {
  local np=$1
  shift
  # Open MPI's own start-up allocations look like leaks to LeakSanitizer;
  # under mpirun only memory errors are checked (runs without it check all)
  if [ "$np" = 0 ]; then timeout 120 "$MR" "$@"
  else ASAN_OPTIONS=detect_leaks=0 timeout 120 mpirun -np "$np" "$MR" "$@"; fi
}
# wait_until SECONDS COMMAND...: polls COMMAND every 0.05 s until it
# succeeds (0) or SECONDS pass (1). A test waits for the event it needs,
# never a fixed sleep: a CI machine at load 15 on 2 cores starts a process,
# or lets one run, seconds late.
wait_until() {
  local end=$((SECONDS + $1))
  shift
  until "$@"; do
    [ "$SECONDS" -ge "$end" ] && return 1
    sleep 0.05
  done
}
# catches PID SIG: process PID has its handler for SIG in place (SigCgt in
# /proc): a signal sent before that would end it the default way, and no
# handler of ours would say it stopped
catches() {
  local mask sig=$2
  case $sig in *[!0-9]*) sig=$(kill -l "${sig#SIG}") || return 1 ;; esac
  mask=$(awk '/^SigCgt:/ {print $2}' "/proc/$1/status" 2> /dev/null)
  [ -n "$mask" ] && [ $((0x$mask >> (sig - 1) & 1)) -eq 1 ]
}
# rig_skip WHY: this machine cannot run the suite (no root, no network
# namespaces, no Slurm): skipped, except under RIGS_REQUIRED=1 (CI), where
# a suite that cannot run fails
# echo_plugin: builds $TMP/libecho.so, a plugin whose result is its item
# (values to fold, or KEY<TAB>VALUE pairs, without a process per item);
# run from the repository's root
echo_plugin() {
  cat > "$TMP/echo.c" << 'C'
#include "mapreduce.h"
static int run(void *s, const char *i, size_t n, mr_buf *o) { (void)s; return mr_buf_append(o, i, n); }
static const mr_job j = {MR_ABI_VERSION, "echo", "the item", 0, run, 0};
MR_PLUGIN(j)
C
  cc -shared -fPIC -Iinclude -o "$TMP/libecho.so" "$TMP/echo.c"
}
rig_skip() {
  if [ "${RIGS_REQUIRED:-0}" = 1 ]; then
    echo "$T_NAME: cannot run ($*), and RIGS_REQUIRED=1"
    exit 1
  fi
  echo "$T_NAME: skipped ($*)"
  exit 0
}
finish() {
  echo "$T_NAME: $T_PASS passed, $T_FAIL failed"
  [ "$T_FAIL" -eq 0 ]
}
