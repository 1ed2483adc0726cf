#!/bin/bash
# it_deadline.sh: --deadline WHEN. A run that cannot finish in time stops
# by itself (exit 124, "stopped for time"), keeps what finished, and
# --resume completes it byte-identically, alone and under mpirun, for a job
# and for commands; a run that can finish is not disturbed; a deadline
# already past, or auto outside a batch job, refuses to start and creates
# nothing; auto reads the job's end from MAPREDUCE_END_TIME. No timing is
# asserted (bench/deadline.sh measures the precision).
. "$(dirname "$0")/lib.sh"
cd "$TMP" || exit 2
unset SLURM_JOB_ID SLURM_JOB_END_TIME PBS_JOBID MAPREDUCE_END_TIME

# 480 distinct items of about 0.1 s: 48 s of work, 12 s on 4 ranks. A
# relative --deadline counts from the command's start, and a loaded machine
# takes seconds to start the ranks: 10s leaves room for that (3s was past
# before rank 0 began: refused, 255), and the work cannot end before it
awk 'BEGIN { for (i = 1; i <= 480; i++) printf "0.1%03d\n", i }' > work.txt
mpi 0 -j sleep -t 64 -o work.ref work.txt

# stopped_then_resumed NAME NP ARGS...: a run under --deadline 10s stops
# for time; the same command with --resume (and more threads, which
# change nothing in the output) completes it
stopped_then_resumed() {
  local name=$1 np=$2
  shift 2
  rm -f out out.*
  mpi "$np" "$@" --deadline 10s -o out work.txt 2> err
  local rc=$?
  check "$name: stopped for time (124, got $rc)" test $rc -eq 124
  [ $rc -eq 124 ] || tail -3 err
  check "$name: says so, and how to go on" \
    grep -q '^mapreduce: stopped for time (--deadline 10s): [0-9]* items done, .*; results so far in out.partial; continue with --resume$' err
  check "$name: the results so far, with their journal" test -e out.partial -a -s out.journal
  check "$name: no final file yet" test ! -e out
  mpi "$np" "$@" -t 8 --resume -o out work.txt 2> err
  check "$name: the resume completes (0)" test $? -eq 0
  same out work.ref "$name: identical to an uninterrupted run"
  check "$name: no partial or journal left" test ! -e out.partial -a ! -e out.journal
}

echo "it_deadline: a run that cannot finish in time stops, --resume completes it"
stopped_then_resumed "alone" 0 -j sleep -t 2
stopped_then_resumed "-np 4" 4 -j sleep
stopped_then_resumed "-np 4 --exec" 4 -e 'sleep {}; echo {}'
stopped_then_resumed "-np 3 --isolate" 3 -j sleep --isolate

echo "it_deadline: results on stdout, with --joblog"
rm -f log
mpi 4 -j sleep --deadline 10s --joblog log work.txt > out1 2> err
check "stdout: stopped for time (124)" test $? -eq 124
check "stdout: says so" grep -q '^mapreduce: stopped for time (--deadline 10s): .*continue with --resume$' err
mpi 4 -j sleep -t 8 --deadline 1h --joblog log --resume work.txt > out2 2> err
check "stdout, --resume before a far deadline: completes (0)" test $? -eq 0
sort out1 out2 > both
sort work.ref > ref.sorted
same both ref.sorted "stdout: the two runs wrote every item once"

echo "it_deadline: a deadline the run meets changes nothing"
rm -f out out.*
mpi 4 -j sleep -t 16 --deadline 1h -o out work.txt 2> err
check "far deadline: exit 0" test $? -eq 0
same out work.ref "far deadline: the whole output"
check "far deadline: nothing on stderr" test ! -s err

echo "it_deadline: a deadline already past refuses to start"
rm -f out out.*
for when in @1000 0s 1970-01-02T00:00; do
  np=0
  [ "$when" = 0s ] && np=3 # every rank refuses, rank 0 says why
  mpi $np -j sleep --deadline "$when" -o out work.txt 2> err
  check "--deadline $when: refused (255)" test $? -eq 255
  check "--deadline $when: one line saying it is past" \
    test "$(grep -c "^mapreduce: --deadline $when is past: it was .*, it is now .*; nothing would run$" err)" -eq 1 -a "$(wc -l < err)" -eq 1
  check "--deadline $when: no file created" test ! -e out -a ! -e out.partial -a ! -e out.journal
done
mpi 0 --deadline 90 work.txt > out 2> err
check "--deadline 90 (no unit): refused (255)" test $? -eq 255
check "--deadline 90: says what it takes" grep -q "^mapreduce: --deadline wants a time .* not '90' (try 'mapreduce --help')$" err

echo "it_deadline: auto"
mpi 0 -j sleep --deadline auto -o out work.txt 2> err
check "auto outside a batch job: refused (255)" test $? -eq 255
check "auto outside a batch job: says so" grep -q '^mapreduce: --deadline auto: not in a batch job' err
rm -f out out.*
# the job's end is taken here, before mpirun starts the ranks, which takes
# a loaded machine seconds: 10 s ahead, not 3, or the ranks would start
# past it (refused, 255); -np 2 has one rank computing, 48 s of work that
# cannot end before then
export MAPREDUCE_END_TIME=$(($(date +%s) + 10))
mpi 2 -j sleep --master-compute no --deadline auto-0s -o out work.txt 2> err
check "auto from MAPREDUCE_END_TIME: stopped for time (124)" test $? -eq 124
check "auto: says so" grep -q '^mapreduce: stopped for time (--deadline auto-0s): ' err
mpi 4 -j sleep --deadline auto-1h -o out work.txt 2> err
check "auto with a margin past the job's end: refused (255)" test $? -eq 255
check "auto past: says when the job ends" grep -q '^mapreduce: --deadline auto-1h: the job ends at .*within the margin of 3600 s: nothing would run$' err
unset MAPREDUCE_END_TIME
mpi 4 -j sleep -t 8 --resume -o out work.txt 2> err
check "auto, then --resume: completes (0)" test $? -eq 0
same out work.ref "auto, then --resume: identical to an uninterrupted run"

finish
