#!/bin/sh
# tests/run_one.sh LOGDIR SUITE: runs one suite (a cmocka binary or an
# integration script) for tests/run.sh, its output to LOGDIR/NAME.log and
# its status to LOGDIR/NAME.rc, and prints the log whole when it ends (under
# a lock, so suites running side by side do not interleave).
LOGS=$1
suite=$2
name=${suite##*/}
case $suite in
*.sh) bash "$suite" > "$LOGS/$name.log" 2>&1 ;;
*)
  # Open MPI unloads its components at MPI_Finalize, so their leaks cannot
  # be told from ours: the one unit test that starts MPI skips the check
  leaks=1
  [ "$name" = test_map ] && leaks=0
  ASAN_OPTIONS="detect_leaks=$leaks${ASAN_OPTIONS:+:$ASAN_OPTIONS}" timeout 300 "$suite" \
    > "$LOGS/$name.log" 2>&1
  ;;
esac
rc=$?
echo "$rc" > "$LOGS/$name.rc"
[ "$rc" -eq 0 ] || echo "FAILED: $suite" >> "$LOGS/$name.log"
flock "$LOGS" cat "$LOGS/$name.log"
