#!/bin/sh
# Runs the test suites: tests/run.sh BUILD [unit|integration]
# The suites are independent (each integration script works in a directory
# of its own), so they run side by side, MR_TEST_JOBS at a time (default 4:
# most of a suite's time is mpirun starting and items sleeping, not CPU).
# Each suite's output is printed whole when it ends, then a closing
# "N passed, N failed" line; exits non-zero when anything failed.
BUILD=${1:-build}
WHAT=${2:-all}
cd "$(dirname "$0")/.." || exit 2
JOBS=${MR_TEST_JOBS:-4}
LOGS=$(mktemp -d /tmp/mr-suites.XXXXXX)
export MR_LIB="$BUILD/libmapreduce.a" # for tools/exports.sh
trap 'rm -rf "$LOGS"' EXIT

list=""
if [ "$WHAT" = all ] || [ "$WHAT" = unit ]; then
  for t in "$BUILD"/tests/test_*; do [ -x "$t" ] && list="$list $t"; done
  list="$list tools/layers.sh tools/exports.sh tools/docs.sh"
fi
if [ "$WHAT" = all ] || [ "$WHAT" = integration ]; then
  # the longest first, so the last to start are short ones
  list="$list tests/it_slurm.sh tests/it_reduce.sh tests/it_worker.sh tests/it_core.sh"
  list="$list tests/it_resume.sh tests/it_reliability.sh"
  for s in tests/it_*.sh; do
    case " $list " in *" $s "*) ;; *) list="$list $s" ;; esac
  done
fi
# MR_TEST_SKIP="it_slurm.sh ...": suites left out (CI runs the rigs once,
# with the plain build, not again under each sanitizer)
for s in ${MR_TEST_SKIP:-}; do
  list=$(printf '%s\n' $list | grep -v "/$s\$" | tr '\n' ' ')
done
printf '%s\n' $list | xargs -P "$JOBS" -n 1 sh tests/run_one.sh "$LOGS"

pass=0
fail=0
upass=0
ufail=0
for t in $list; do
  rc=$(cat "$LOGS/${t##*/}.rc" 2> /dev/null || echo 1)
  if [ "$rc" -eq 0 ]; then pass=$((pass + 1)); else fail=$((fail + 1)); fi
  case $t in
  */test_*) if [ "$rc" -eq 0 ]; then upass=$((upass + 1)); else ufail=$((ufail + 1)); fi ;;
  esac
done
[ "$WHAT" = integration ] || echo "unit: $upass passed, $ufail failed"
echo "suites: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
