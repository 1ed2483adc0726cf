#!/bin/bash
# it_reliability.sh: never lose work. Crashing and hanging items under
# --isolate and --timeout, --retries, --halt, --joblog, a drain on SIGTERM,
# SIGKILL of the whole job, and --resume / --resume-failed giving output
# byte-identical to an uninterrupted run; a changed input is refused.
. "$(dirname "$0")/lib.sh"
cd "$TMP" || exit 2

printf 'a\nsegv\nb\nabort\nc\nexit\nd\nfail\ne\nhang\nf\n' > crash.txt
printf 'a\ta\nb\tb\nc\tc\nd\td\ne\te\nf\tf\n' > crash.want

echo "it_reliability: --isolate keeps a crash to its item"
for np in 0 3; do
  mpi $np -j crash --isolate --timeout 1 crash.txt > out 2> err
  check "crash job -np $np: 5 failed items" test $? -eq 5
  same out crash.want "crash job -np $np: every other item written"
  check "segfault reported" grep -q '^crash.txt:2: error: the job crashed: signal 11' err
  check "abort reported" grep -q '^crash.txt:4: error: the job crashed: signal 6' err
  check "exit() reported" grep -q '^crash.txt:6: error: the job called exit(3)$' err
  check "ordinary failure" grep -q '^crash.txt:8: error: failed on purpose$' err
  check "hang timed out" grep -q '^crash.txt:10: error: timed out after 1 s$' err
  check "-np $np: nothing else on stderr (no MPI backtraces)" test "$(wc -l < err)" -eq 5
done
seq 1 3000 | sed 's/^/x/' > many.txt
mpi 2 -j crash --isolate many.txt > out
check "--isolate on 3000 items" test "$(wc -l < out)" -eq 3000
# a chunk over the 4 MiB shared work area goes to the child through the pipe
head -c 6000000 /dev/zero | tr '\0' 'y' > huge.txt
printf '\nsegv\nz\n' >> huge.txt
{ printf '%s\t%s\n' "$(head -1 huge.txt)" "$(head -1 huge.txt)"; printf 'z\tz\n'; } > huge.want
mpi 2 -j crash --isolate --max-line 8000000 -c 3 huge.txt > out 2> err
check "a 6 MB item under --isolate: one failure" test $? -eq 1
same out huge.want "a 6 MB item under --isolate: echoed whole, the item after the crash too"

echo "it_reliability: without --isolate a crash ends the run, naming its item"
mpi 0 -j crash crash.txt > out 2> err
check "alone: a crash ends the run" test $? -ne 0
check "alone: the crash names its item" grep -q "^mapreduce: the job crashed (signal 11) on item 2 'segv'; --isolate makes a crash fail only its item$" err
printf 'a\nsegv\nb\nc\n' > crash1.txt
mpi 2 -j crash -c 1 crash1.txt > out 2> err
check "-np 2: a crash ends the job" test $? -ne 0
check "-np 2: the crash names its rank and item" grep -Eq "^mapreduce: rank [01]: the job crashed \(signal 11\) on item 2 'segv'" err

echo "it_reliability: --timeout as seconds and as % of the median"
# 0.2 s items and a 1000% limit: a loaded machine that makes a 10 ms sleep
# take five times as long would fail a normal item too
printf 'sleep:0.2\nsleep:0.2\nsleep:0.2\nsleep:0.2\nsleep:0.2\nsleep:30\nsleep:0.2\n' > slow.txt
mpi 0 -j crash --timeout 1000% -c 1 slow.txt > out 2> err
check "a 30 s item among 0.2 s ones fails at 1000% of the median" test $? -eq 1
check "timeout message" grep -q '^slow.txt:6: error: timed out after' err
check "the rest are written" test "$(wc -l < out)" -eq 6
# 10 s: a loaded machine starts a shell slowly (at load 45 a 0.01 s sleep
# through sh took over 2 s)
printf '0.01\n300\n0.02\n' > sl.txt
mpi 2 -e 'sleep {}' --timeout 10 sl.txt > out 2> err
check "exec: --timeout kills the command" test $? -eq 1
check "exec: timeout message" grep -q '^sl.txt:2: error: timed out after 10 s$' err

echo "it_reliability: --retries"
seq 1 30 > r.txt
# fails the first time an item is seen, succeeds the next
flaky='if [ -e m.{} ]; then echo ok; else touch m.{}; exit 1; fi'
mpi 3 -e "$flaky" r.txt > out 2> err
check "without --retries every item fails once" test $? -eq 30
rm -f m.*
mpi 3 -e "$flaky" --retries 1 r.txt > out 2> err
check "--retries 1: all succeed" test $? -eq 0
check "--retries 1: every item written" test "$(grep -c '	ok$' out)" -eq 30
check "--retries 1: no error lines" test ! -s err
rm -f m.*
# an item that fails only on rank 1 succeeds when retried elsewhere
mpi 3 --master-compute yes -e 'sh -c "test \"\$OMPI_COMM_WORLD_RANK\" != 1 && echo ok"' --retries 2 -c 1 r.txt > out 2> err
check "retried on another rank: all succeed" test $? -eq 0
mpi 2 -j crash --retries 3 --timeout 1 crash.txt > out 2> err
check "permanent failures stay failed after retries" test $? -eq 5

echo "it_reliability: --halt"
seq 1 200 | sed 's/^/x/' > fails.txt # every item fails
mpi 2 --halt soon,fail=3 -c 1 fails.txt > out 2> err
rc=$?
check "--halt soon,fail=3: stops early (exit $rc)" test $rc -ge 3 -a $rc -lt 200
check "--halt soon: says it halted" grep -q 'halted (--halt soon,fail=3)' err
( seq 1 50; echo bad; seq 51 100 ) > mixed.txt
mpi 0 -j square --halt now,fail=1 -c 10 mixed.txt > out 2> err
check "--halt now,fail=1: exit 1" test $? -eq 1
check "--halt now: the finished results before it, in order" cmp -s out <(seq 1 "$(wc -l < out)" | awk '{print $1"\t"$1*$1}')
check "--halt now: stopped before the end" test "$(wc -l < out)" -lt 100
# the halt comes from a rank whose items run fast while another sleeps on
# the first item with the next ones queued behind it: those come before
# the failure, so they still run, and the output has no hole
{ echo 0.5; for i in $(seq 2 40); do printf '0.%05d\n' $i; done; echo bad
  for i in $(seq 42 60); do printf '0.%05d\n' $i; done; } > hq.txt
for np in 3 8; do
  mpi $np -j sleep --halt now,fail=1 -c 1 hq.txt > out 2> err
  check "--halt now -np $np, items queued behind a slow one: exit 1" test $? -eq 1
  cut -f1 out > got
  same got <(head -n 40 hq.txt) "--halt now -np $np: every item before the failure, in order"
done
# chunks of its own sizes, which hand back what overran their time: those
# items before the failure go round again, and are written
{ for i in $(seq 1 149); do printf '0.%03d\n' $((i % 30)); done; echo bad
  for i in $(seq 151 300); do printf '0.%03d\n' $((i % 30)); done; } > hb.txt
mpi 8 -j sleep --halt now,fail=1 hb.txt > out 2> err
check "--halt now -np 8, chunks handed back: exit 1" test $? -eq 1
cut -f1 out > got
same got <(head -n 149 hb.txt) "--halt now -np 8, chunks handed back: every item before the failure"
sed -i '20s/.*/bad/' hq.txt # fail=2: the output ends at the second failure
mpi 8 -j sleep --halt now,fail=2 -c 1 hq.txt > out 2> err
check "--halt now,fail=2 -np 8: exit 2" test $? -eq 2
cut -f1 out > got
same got <(head -n 40 hq.txt | grep -v bad) "--halt now,fail=2 -np 8: every item before the second failure"
mpi 0 -j square --halt soon,fail=50% mixed.txt > out 2> err
check "--halt fail=50%: one bad item in 101 does not halt" test $? -eq 1
check "--halt fail=50%: everything else written" test "$(wc -l < out)" -eq 100
fatal_opt() { mpi 0 "$@" r.txt > /dev/null 2> err; check "bad option $*: exit 255" test $? -eq 255; }
fatal_opt --halt sometimes
fatal_opt --halt now,fail=0
fatal_opt --timeout -1
fatal_opt --retries x
fatal_opt --resume

echo "it_reliability: --joblog in GNU parallel's format"
mpi 2 -j crash --isolate --timeout 1 --joblog jl.txt crash.txt > /dev/null 2>&1
check "joblog header" test "$(head -1 jl.txt)" = "$(printf 'Seq\tHost\tStarttime\tJobRuntime\tSend\tReceive\tExitval\tSignal\tCommand')"
check "joblog: one line per item" test "$(wc -l < jl.txt)" -eq 12
awk -F'\t' 'NR > 1 && (NF != 9 || $1 !~ /^[0-9]+$/ || $3 !~ /^[0-9]+\.[0-9][0-9][0-9]$/) { bad = 1 } END { exit bad }' jl.txt
check "joblog: 9 columns, numeric Seq and Starttime" test $? -eq 0
check "joblog: segv has Signal 11" grep -qP '^2\t.*\t0\t11\tcrash segv$' jl.txt
check "joblog: exit(3) has Exitval 3" grep -qP '^6\t.*\t3\t0\tcrash exit$' jl.txt
check "joblog: timeout has Exitval -1" grep -qP '^10\t.*\t-1\t9\tcrash hang$' jl.txt
check "joblog: success has Exitval 0 and the bytes received" grep -qP '^1\t:\t[0-9.]+\t +[0-9.]+\t0\t4\t0\t0\tcrash a$' jl.txt
if command -v parallel > /dev/null; then
  mpi 0 -e 'echo {}' --joblog pj.txt r.txt > /dev/null
  parallel --joblog pj.txt --resume echo ::: $(seq 1 30) > pout 2> /dev/null
  check "GNU parallel --resume reads our joblog (nothing left to run)" test ! -s pout
fi

# signal_midway SIG DELAY NP ARGS...: starts mapreduce ARGS (NP 0: without
# mpirun) under timeout, waits until new results reach res.txt.partial (a
# resume's file has some already: a signal before the ranks are up is
# lost by mpirun, or kills a rank), waits DELAY more seconds, then sends SIG to the job (KILL: to every process of
# it). Returns the job's exit status. No watchdog subshell: killing one that
# has just been forked can run this shell's EXIT trap, which removes $TMP.
signal_midway() {
  local sig=$1 delay=$2 np=$3 i=0 job
  local had=$(stat -c %s res.txt.partial 2> /dev/null || echo 0)
  shift 3
  if [ "$np" = 0 ]; then timeout -s KILL 60 "$MR" "$@" 2> err &
  else ASAN_OPTIONS=detect_leaks=0 timeout -s KILL 60 mpirun -np "$np" "$MR" "$@" 2> err & fi
  local pid=$!
  while [ "$(stat -c %s res.txt.partial 2> /dev/null || echo 0)" -le "$had" ] &&
    [ $i -lt 600 ] && kill -0 $pid 2> /dev/null; do
    sleep 0.05
    i=$((i + 1))
  done
  sleep "$delay"
  job=$(pgrep -P $pid) # mpirun, or mapreduce itself
  if [ -n "$job" ]; then
    if [ "$sig" = KILL ]; then pkill -KILL -P "$job"; fi
    kill -s "$sig" "$job" 2> /dev/null
  fi
  wait $pid 2> /dev/null # no "Killed" notice from the shell
}

echo "it_reliability: SIGTERM drains, --resume completes byte-identically"
for i in $(seq 1 6000); do echo "0.002"; done > work.txt # ~3 s on 4 ranks
mpi 0 -j sleep -o ref.txt work.txt
for t in 0 0.3 0.7; do
  rm -f res.txt res.txt.*
  signal_midway TERM $t 4 -j sleep -o res.txt work.txt
  check "SIGTERM +$t s leaves a partial file and its journal" test -s res.txt.journal -a -e res.txt.partial
  check "SIGTERM +$t s: no final file yet" test ! -e res.txt
  check "SIGTERM +$t s: says how to continue" grep -q 'continue with --resume' err
  check "SIGTERM +$t s: the ranks drained on mpirun's SIGCONT, a second early" grep -q 'stopped: mpirun is ending the job' err
  mpi 4 -j sleep -o res.txt --resume work.txt 2> err
  check "resume after SIGTERM +$t s: exit 0" test $? -eq 0
  same res.txt ref.txt "resume after SIGTERM +$t s: identical output"
  check "resume cleans up" test ! -e res.txt.partial -a ! -e res.txt.journal
done
rm -f res.txt res.txt.*
signal_midway TERM 0.2 0 -j sleep -o res.txt work.txt
check "without mpirun: exit 143 after SIGTERM" test $? -eq 143
signal_midway INT 0.2 0 -j sleep -o res.txt --resume work.txt
check "SIGINT during a resume: exit 130" test $? -eq 130
signal_midway USR1 0.2 2 -j sleep -o res.txt --resume work.txt
check "SIGUSR1 (Slurm's warning) drains too" grep -q 'stopped by signal 10' err
# timeout(1) signals the child and then its whole process group: one
# SIGTERM, delivered twice. It does so on a SIGTERM of its own too, which
# the test sends once the run has its handler and wrote new results (a
# 0.5 s time limit would signal a run a loaded machine has not started)
had=$(stat -c %s res.txt.partial)
timeout -s TERM --preserve-status 60 "$MR" -j sleep -o res.txt --resume work.txt 2> err &
pid=$!
grew() { [ "$(stat -c %s res.txt.partial)" -gt "$had" ] || ! kill -0 $pid 2> /dev/null; }
wait_until 60 grew
kill -TERM $pid
wait $pid
check "timeout(1)'s doubled SIGTERM: exit 143" test $? -eq 143
check "timeout(1)'s doubled SIGTERM is one request: a drain" grep -q 'stopped by signal 15' err
"$MR" -j sleep -o res.txt --resume work.txt
same res.txt ref.txt "resumed four times: identical output"

# Slurm signals every process of a step, so the commands of --exec die of
# the same signal as the ranks: they were dropped in flight, not failed,
# and --resume (not only --resume-failed) runs them again
seq 1 12 > st.txt
for i in $(seq 1 12); do printf '%s\t%s\n' "$i" "$i"; done > st.want
rm -f st.out st.out.*
# items 1-3 are quick, the others take 30 s until the file FAST exists:
# once 1-3 are written and three long ones run, the stop finds them in
# flight whatever the load
rm -f FAST
cmd='case {} in [1-3]) ;; *) [ -e FAST ] || sleep 30 ;; esac; echo {}'
"$MR" -e "$cmd" -t 3 -o st.out st.txt 2> err &
pid=$!
in_flight() { [ -s st.out.partial ] && [ "$(pgrep -P $pid | wc -l)" -ge 3 ]; }
wait_until 60 in_flight
# the commands (each in a process group of its own), then the rank, in one
# kill as slurmstepd does: a gap of a loaded shell between them would be
# the rank hearing of its stop long after its commands died of it
kill -s TERM -- $(pgrep -P $pid | sed 's/^/-/') $pid
wait $pid
check "exec, commands signalled too: exit 143" test $? -eq 143
check "exec, commands signalled too: no item reported failed" test "$(grep -c 'error' err)" -eq 0
touch FAST
mpi 0 -e "$cmd" -t 3 -o st.out --resume st.txt 2> err
check "exec, commands signalled too: --resume runs them again" test $? -eq 0
same st.out st.want "exec, commands signalled too: every item once after --resume"

echo "it_reliability: Ctrl-Z and fg of mpirun do not end the run"
rm -f res.txt res.txt.*
# (no leak check under mpirun, as in mpi)
ASAN_OPTIONS=detect_leaks=0 timeout 60 mpirun -np 3 "$MR" -j sleep -o res.txt work.txt 2> err &
pid=$!
for i in $(seq 1 200); do [ -s res.txt.partial ] && break; sleep 0.05; done
job=$(pgrep -P $pid)
kill -TSTP "$job" # mpirun stops the ranks
sleep 1
kill -CONT "$job" # and resumes them with a SIGCONT of its own
wait $pid
rc=$?
check "stopped and continued: exit 0" test $rc -eq 0
[ $rc -eq 0 ] || tail -5 err
same res.txt ref.txt "stopped and continued: complete output"

echo "it_reliability: SIGKILL of the whole job, then --resume"
for t in 0 0.5; do
  rm -f res.txt res.txt.*
  signal_midway KILL $t 3 -j sleep -o res.txt work.txt
  check "SIGKILL +$t s leaves the journal" test -e res.txt.journal
  mpi 3 -j sleep -o res.txt --resume work.txt
  same res.txt ref.txt "resume after SIGKILL +$t s: identical output"
done

echo "it_reliability: --resume refuses what it must"
rm -f res.txt res.txt.*
signal_midway TERM 0 0 -j sleep -o res.txt work.txt
sed '5s/.*/0.003/' work.txt > changed.txt
mpi 0 -j sleep -o res.txt --resume changed.txt > /dev/null 2> err
check "a changed input is refused (255)" test $? -eq 255
check "says the input differs" grep -q 'changed.txt:5: this is not the input' err
mpi 2 -j square -o res.txt --resume work.txt > /dev/null 2> err
check "another job is refused" grep -q 'belongs to another job' err
mpi 0 -j sleep -o res.txt work.txt > /dev/null 2> err
check "an unfinished run is not overwritten without --resume" grep -q 'holds an unfinished run' err
mpi 0 -j sleep -o res.txt --resume work.txt
same res.txt ref.txt "and it still resumes after all that"
rm -f res.txt
mpi 0 -j sleep -o res.txt --resume work.txt
same res.txt ref.txt "--resume with nothing to resume runs everything"

echo "it_reliability: --resume-failed runs the failures again"
rm -f res.txt res.txt.* m.*
seq 1 40 > r40.txt
flaky2='if [ -e m.{} ] || [ $(({} % 3)) -ne 0 ]; then echo ok {}; else touch m.{}; exit 1; fi'
mpi 3 -e "$flaky2" -o res.txt r40.txt 2> /dev/null
check "a finished run with failures: exit 13" test $? -eq 13
check "its output holds what succeeded" test "$(wc -l < res.txt)" -eq 27
# an unfinished run with failures: stopped part-way, then --resume-failed
rm -f res.txt res.txt.* m.*
seq 1 400 > r400.txt
# multiples of 7 fail while the file FIRST exists
flaky3='sleep 0.005; if [ -e FIRST ] && [ $(({} % 7)) -eq 0 ]; then exit 1; fi; echo ok {}'
touch FIRST
signal_midway TERM 0.5 3 -e "$flaky3" -o res.txt r400.txt
check "the stopped run recorded failures" grep -q '^F ' res.txt.journal
rm FIRST
mpi 3 -e "$flaky3" -o res.txt --resume-failed r400.txt 2> err
check "--resume-failed: every item succeeds in the end" test $? -eq 0
seq 1 400 | awk '{print $1"\tok "$1}' > want400
same res.txt want400 "--resume-failed: identical to a run without failures"

echo "it_reliability: --joblog alone resumes output to stdout"
rm -f jl2.txt
timeout 60 "$MR" -j sleep --joblog jl2.txt work.txt > part1 2> /dev/null &
pid=$! # timeout passes the TERM on
wait_until 60 test -s part1 # not "1 s": a loaded machine may have written nothing
kill -TERM $pid
wait $pid
"$MR" -j sleep --joblog jl2.txt --resume work.txt > part2
check "first part non-empty" test -s part1
cat part1 part2 | sort > both
sort ref.txt > ref.sorted
same both ref.sorted "stdout parts together: every item exactly once"
check "joblog has every item once" test "$(tail -n +2 jl2.txt | cut -f1 | sort -u | wc -l)" -eq 6000

finish
