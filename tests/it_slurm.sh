#!/bin/bash
# it_slurm.sh: mapreduce under a real Slurm. Starts its own single-node
# cluster (munged, slurmctld, slurmd, all under $TMP with their own config,
# key, socket, ports and state; nothing of a system Slurm or munge is read or
# touched), then runs jobs/slurm.sbatch and srun --mpi=pmix jobs against
# references computed by ./mapreduce alone: results to a file and to srun's
# stdout pipe, exit statuses through srun, a drain on scancel --signal=USR1,
# on a plain scancel and on the walltime warning (--time=1
# --signal=USR1@60), each finished with --resume byte-identically; and the
# script's --deadline auto with its resubmission: a chain of 1-minute jobs
# over work that needs several rounds ends complete and identical, the
# number of rounds bounded by MAPREDUCE_ROUNDS. Stops everything it started
# (found by an environment marker), also when it fails or is killed. About
# 3 minutes, most of it waiting for slurmctld's time-limit check and for
# the rounds. KEEP_RIG=1 keeps $TMP (daemon logs in $TMP/s).
# Needs root and the packages slurmctld slurmd slurm-client munge
# libpmix-dev (sh tools/deps.sh --rigs); without them it says it is
# skipped (with RIGS_REQUIRED=1, as on CI, it fails).
. "$(dirname "$0")/lib.sh"
ROOT=$PWD

. "$ROOT/tests/slurm_rig.sh"

echo "it_slurm: sbatch jobs/slurm.sbatch, results to a file"
seq 1000000000001 2 1000000010000 > primes.txt # 5,000 odd candidates
"$MR" -o primes.ref primes.txt
J=$(submit batch1 slurm.sbatch primes.txt primes.out)
expect_job batch1 "$(job_wait "$J" 90)" "COMPLETED 0:0"
same primes.out primes.ref "sbatch: output identical to a run alone"
check "sbatch: nothing on stdout or stderr" test ! -s batch1.log
check "sbatch: no partial file or journal left" test ! -e primes.out.partial -a ! -e primes.out.journal

echo "it_slurm: srun --mpi=pmix with results on stdout, in a batch job"
seq 1 30000 > many.txt
"$MR" many.txt > many.ref
printf '#!/bin/bash\nsrun --mpi=pmix -n 4 ./mapreduce "$@"\n' > stdout.sbatch
J=$(submit batch2 --error="$TMP/batch2.err" stdout.sbatch many.txt)
expect_job batch2 "$(job_wait "$J" 90)" "COMPLETED 0:0"
same batch2.log many.ref "srun stdout: every line arrives, in order"
check "srun stdout: nothing on stderr" test ! -s batch2.err
J=$(submit batch2c --error="$TMP/batch2c.err" stdout.sbatch -c 1 -j square many.txt)
"$MR" -j square many.txt > square.ref
expect_job batch2c "$(job_wait "$J" 90)" "COMPLETED 0:0"
same batch2c.log square.ref "srun stdout, one item per chunk: every line arrives"

echo "it_slurm: --progress and --stats in a batch job's log (srun's stderr is a pipe)"
awk 'BEGIN { for (i = 1; i <= 60; i++) printf "0.05%02d\n", i }' > sleeps.txt
"$MR" -j sleep sleeps.txt > sleeps.ref
J=$(submit batch2p --error="$TMP/batch2p.err" stdout.sbatch -j sleep --progress=0.2 --stats sleeps.txt)
expect_job batch2p "$(job_wait "$J" 90)" "COMPLETED 0:0"
same batch2p.log sleeps.ref "srun --progress: results unchanged on stdout"
check "srun --progress: timestamped lines in the log" grep -Eq '^mapreduce: [0-9]{4}-[0-9]{2}-[0-9]{2} [0-9:]{8} [0-9,]+ of ~?[0-9,]+ items \([0-9.]+%\), .*ETA ' batch2p.err
check "srun --progress: no terminal redrawing in the log" test "$(tr -cd '\r' < batch2p.err | wc -c)" -eq 0
check "srun --stats: the summary, with every rank" grep -q 'rank 3' batch2p.err

echo "it_slurm: srun's exit status is mapreduce's"
(seq 1 100; echo bad1; seq 101 200; echo 12abc; echo x) > mixed.txt
timeout 30 srun --mpi=pmix -n 3 --overcommit ./mapreduce -j square mixed.txt > out 2> err
check "srun: 3 failed items give exit 3" test $? -eq 3
"$MR" -j square mixed.txt > mixed.ref 2> /dev/null
same out mixed.ref "srun: every other item written"
check "srun: one error line per bad item" test "$(grep -c '^mixed.txt:[0-9]*: error:' err)" -eq 3
timeout 30 srun -n 2 --overcommit ./mapreduce -j square mixed.txt > out 2> err
check "srun without --mpi=pmix: refused (255)" test $? -eq 255
check "srun without --mpi=pmix: says to use it" grep -q "run 'srun --mpi=pmix" err
check "srun without --mpi=pmix: no output" test ! -s out

echo "it_slurm: scancel --signal=USR1 drains, sbatch ... --resume completes"
# 6,000 distinct items of about 5 ms: 7.5 s on 4 ranks (3 s was little
# more than a loaded machine takes from the first results to scancel's
# signal reaching the step: the job could end first, COMPLETED)
awk 'BEGIN { for (i = 1; i <= 6000; i++) printf "0.005%04d\n", i }' > work.txt
"$MR" -j sleep -t 16 -o work.ref work.txt # threads: the same output, sooner
J=$(submit drain1 slurm.sbatch work.txt work.out -j sleep)
check "scancel: results were being written" partial_wait work.out.partial
sleep 0.3
timeout 10 scancel --signal=USR1 "$J"
expect_job drain1 "$(job_wait "$J" 90)" "FAILED 138:0"
check "scancel: mapreduce drained on SIGUSR1" grep -q '^mapreduce: stopped by signal 10: .*continue with --resume$' drain1.log
check "scancel: a partial file and its journal" test -s work.out.partial -a -s work.out.journal
check "scancel: a signal is not a stop for time, no next round" test -z "$(grep 'is job' drain1.log)"
check "scancel: no final file yet" test ! -e work.out
J=$(submit drain2 slurm.sbatch work.txt work.out -j sleep --resume)
expect_job drain2 "$(job_wait "$J" 90)" "COMPLETED 0:0"
same work.out work.ref "scancel then --resume: identical to an uninterrupted run"
check "scancel then --resume: no duplicates" test -z "$(sort work.out | uniq -d)"
check "scancel then --resume: journal removed" test ! -e work.out.partial -a ! -e work.out.journal
# a plain scancel (as the hard time limit): SIGTERM to the steps and the
# batch script, SIGKILL KillWait (5 s) later
rm -f work.out
J=$(submit cancel1 slurm.sbatch work.txt work.out -j sleep)
check "plain scancel: results were being written" partial_wait work.out.partial
sleep 0.3
timeout 10 scancel "$J"
expect_job cancel1 "$(job_wait "$J" 90)" "CANCELLED 0:15"
check "plain scancel: mapreduce drained on SIGTERM" grep -q '^mapreduce: stopped by signal 15: .*continue with --resume$' cancel1.log
J=$(submit cancel2 slurm.sbatch work.txt work.out -j sleep --resume)
expect_job cancel2 "$(job_wait "$J" 90)" "COMPLETED 0:0"
same work.out work.ref "plain scancel then --resume: identical to an uninterrupted run"

echo "it_slurm: the walltime warning (--time=1 --signal=USR1@60)"
# slurmctld checks time limits every 30 s (PERIODIC_TIMEOUT, counted from
# its background thread's start) and sends a warning due within the next
# 30 s at once: with --time=1 and USR1@60, at the first check after the
# job starts. Only steps get it, so a check before srun starts loses it.
# The test submits 8-9 s before a check (a job starts within about 1.5 s,
# and a step under a sanitizer on a loaded machine needs seconds more to
# write its first results), with 47 s of work, so a step that starts late
# still gets the warning at the next check; the resume runs 16 threads a
# rank and takes about 3 s.
ts_of() { # the epoch of a slurmctld log line's [2026-01-01T00:00:00.000]
  local t=${1#\[}
  date -d "${t%%]*}" +%s.%N
}
next_check() {
  local line
  line=$(grep -E 'Testing job time limits|_slurmctld_background pid' "$R"/slurmctld.log | tail -n 1)
  [ -n "$line" ] && awk -v t="$(ts_of "$line")" 'BEGIN { printf "%.3f\n", t + 30 }'
}
awk 'BEGIN { for (i = 1; i <= 3600; i++) printf "0.05%04d\n", i }' > wall.txt
"$MR" -j sleep -t 64 -o wall.ref wall.txt
left=
for _ in $(seq 1 200); do # at most 40 s
  nc=$(next_check) || break
  left=$(awk -v a="$nc" -v b="$(date +%s.%N)" 'BEGIN { printf "%.3f\n", a - b }')
  # 8-9 s ahead; under that the check is too close, wait for the next one
  awk -v l="$left" 'BEGIN { exit !(l >= 8 && l <= 9) }' && break
  left=
  sleep 0.2
done
if [ -z "$left" ]; then
  bad "walltime: could not time the submission (slurmctld.log: $(grep -c 'Testing job time' "$R"/slurmctld.log) checks)"
else
  # --deadline 1d: the warning alone (auto's squeue at the start widens
  # the moment where a warning stops the run before it began)
  J=$(submit wall1 --time=1 --signal=USR1@60 slurm.sbatch wall.txt wall.out -j sleep --deadline 1d)
  expect_job wall1 "$(job_wait "$J" 80)" "FAILED 138:0"
  check "walltime: slurmctld sent the warning" grep -q "warning signal 10 to JobId=$J\$" "$R"/slurmctld.log
  check "walltime: mapreduce drained on SIGUSR1" grep -q '^mapreduce: stopped by signal 10: .*continue with --resume$' wall1.log
  check "walltime: some results were written" test -s wall.out.partial
  J=$(submit wall2 slurm.sbatch wall.txt wall.out -j sleep -t 16 --resume)
  expect_job wall2 "$(job_wait "$J" 90)" "COMPLETED 0:0"
  same wall.out wall.ref "walltime then --resume: identical to an uninterrupted run"
fi

echo "it_slurm: --deadline auto: a job out of time submits the next round itself"
# 2,700 distinct items of 10-100 ms: 150 s of work, 37 s on 4 ranks. The
# rounds end 45 s before their 1-minute limit (auto-45s: a short test, and
# squeue's end time all the same), about 12 s of computing each: 3-4
# rounds, the first one alone (MAPREDUCE_ROUNDS=1), the others a chain.
awk 'BEGIN { srand(21); for (i = 1; i <= 2700; i++) printf "%.3f%04d\n", 0.01 + 0.09 * rand(), i }' > chain.txt
"$MR" -j sleep -t 64 -o chain.ref chain.txt
# follow_chain NAME JOB: waits for JOB and the rounds it submitted (their
# ids in NAME.log, which every round appends to); prints "ROUNDS STATE
# EXITCODE" of the last
follow_chain() {
  local name=$1 j=$2 n=0 got next
  while :; do
    n=$((n + 1))
    got=$(job_wait "$j" 90)
    next=$(grep -o "round $n stopped for time; round $((n + 1)) is job [0-9]*\$" "$name.log" | grep -o '[0-9]*$')
    [ -n "$next" ] || break
    j=$next
  done
  echo "$n $got"
}
J=$(MAPREDUCE_ROUNDS=1 submit chain1 --time=1 slurm.sbatch chain.txt chain.out -j sleep --deadline auto-45s)
expect_job chain1 "$(job_wait "$J" 90)" "FAILED 124:0"
check "one round: mapreduce stopped for time" grep -q '^mapreduce: stopped for time (--deadline auto-45s): .*continue with --resume$' chain1.log
check "one round: no more (MAPREDUCE_ROUNDS=1)" grep -q '^mapreduce: round 1 of 1 stopped for time; no more rounds' chain1.log
check "one round: a partial file and its journal" test -s chain.out.partial -a -s chain.out.journal
J=$(submit chain2 --time=1 slurm.sbatch chain.txt chain.out -j sleep --deadline auto-45s --resume)
got=$(follow_chain chain2 "$J")
expect_job chain2 "${got#* }" "COMPLETED 0:0"
check "chain: several rounds (got ${got%% *})" test "${got%% *}" -ge 2
check "chain: every round but the last stopped for time" \
  test "$(grep -c '^mapreduce: stopped for time (--deadline auto-45s): ' chain2.log)" -eq $((${got%% *} - 1))
same chain.out chain.ref "chain: identical to a single long run"
check "chain: no item lost or duplicated" test "$(sort -u chain.out | wc -l)" -eq "$(wc -l < chain.txt)"
check "chain: no partial or journal left" test ! -e chain.out.partial -a ! -e chain.out.journal

finish
