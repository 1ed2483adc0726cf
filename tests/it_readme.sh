#!/bin/bash
# it_readme.sh: the README's first screen works as written. Its set-up is
# the two commands .ci/run starts with, and its "First results" run as
# shown, as root and as an unprivileged user (nobody), with ./mapreduce the
# build under test.
. "$(dirname "$0")/lib.sh"
ROOT=$PWD
# block HEADING: the first ``` block after the line "## HEADING"
block() {
  awk -v h="## $1" '$0 == h { on = 1; next } on && /^```/ { if (in_) exit; in_ = 1; next }
    in_ { print }' README.md
}

echo "it_readme: the set-up is .ci/run's"
block "Set up (Debian, as root; two commands)" | sed 's/ *#.*//' > "$TMP/setup"
printf 'sh tools/deps.sh && make demo\nmake test\n' > "$TMP/setup.want"
same "$TMP/setup" "$TMP/setup.want" "README set-up: the two commands"
check ".ci/run runs the first as written" grep -qx 'sh tools/deps.sh && make demo' .ci/run
check ".ci/run runs make test" grep -qx 'make test' .ci/run

echo "it_readme: First results, as root"
block "First results" > "$TMP/first"
check "three examples and the export" test "$(grep -c '^mpirun\|| mpirun' "$TMP/first")" -eq 3
grep -q '^export OMPI_ALLOW_RUN_AS_ROOT=1' "$TMP/first"
check "the export comes first" test $? -eq 0
# the build under test for ./mapreduce, every mpirun under timeout
sed -e "s|\./mapreduce|$MR|g" -e 's|mpirun|timeout 120 mpirun|g' "$TMP/first" > "$TMP/first.sh"
# lib.sh exported the consent; the block must give it itself
run_first() {
  env -u OMPI_ALLOW_RUN_AS_ROOT -u OMPI_ALLOW_RUN_AS_ROOT_CONFIRM \
    -u OMPI_MCA_rmaps_base_oversubscribe ASAN_OPTIONS=detect_leaks=0 "$@" \
    bash -e "$TMP/first.sh"
}
run_first > "$TMP/out" 2> "$TMP/err"
check "runs as root, exit 0" test $? -eq 0
check "no message" test ! -s "$TMP/err"
cat "$TMP/err"
check "primes" grep -qx "$(printf '1099726899285419\tfalse')" "$TMP/out"
check "squares" grep -qx "$(printf '9\t81')" "$TMP/out"
check "a command per item" grep -qx "$(printf 'jobs/primes.txt\t%s' "$(wc -l < jobs/primes.txt)")" "$TMP/out"

echo "it_readme: First results, as a user"
if [ "$(id -u)" -ne 0 ] || ! command -v runuser > /dev/null; then
  echo "  (not root: ran as $(id -un) above)"
elif ! runuser -u nobody -- test -r "$ROOT/jobs/primes.txt" -a -x "$MR"; then
  echo "  (nobody cannot read the checkout: skipped)"
else
  chmod 755 "$TMP"
  run_first runuser -u nobody -- env HOME="$TMP" > "$TMP/out.user" 2> "$TMP/err"
  check "runs as nobody, exit 0" test $? -eq 0
  cat "$TMP/err"
  same "$TMP/out.user" "$TMP/out" "as nobody: the same output"
fi
finish
