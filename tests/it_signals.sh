#!/bin/bash
# it_signals.sh: a stop (SIGTERM, SIGINT, SIGUSR1) ends the run in every
# state it can be waiting in: rank 0 reading a silent pipe or a FIFO
# nobody writes to, skipping an endless line, opening an output FIFO, and
# any rank computing an item that would run for months: in the rank, in an
# --isolate child, in a command, or in code that never looks at the stop.
# Items cut short are not written and not failed; --resume completes the
# run byte-identically. Every run has a KILL guard: 137 means a stop that
# did not end the run.
. "$(dirname "$0")/lib.sh"
cd "$TMP" || exit 2
# seconds a run may take before it counts as hung: its start too, which
# takes seconds under mpirun on a loaded machine (a guard costs time only
# when a stop fails)
GUARD=${GUARD:-120}

# stop_run SIG NP WHEN ARGS...: mapreduce ARGS (NP 0: without mpirun), its
# stdin the caller's, stdout in out, stderr in err; SIG goes to it (or to
# mpirun) once the shell test WHEN holds (60 s at most: a signal sent
# before is a test of something else). Returns its status.
stop_run() {
  local sig=$1 np=$2 when=$3 job
  shift 3
  # <&0: a command started with & would read /dev/null instead
  if [ "$np" = 0 ]; then timeout -s KILL "$GUARD" "$MR" "$@" <&0 > out 2> err &
  else ASAN_OPTIONS=detect_leaks=0 timeout -s KILL "$GUARD" mpirun -np "$np" "$MR" "$@" <&0 > out 2> err & fi
  local pid=$!
  wait_until 60 ready_or_gone
  job=$(pgrep -P $pid)
  [ -n "$job" ] && kill -s "$sig" "$job"
  wait $pid
  local rc=$?
  # mpirun ending the job on a signal exits without waiting for its ranks:
  # rank 0 may still be writing its last words; the run ends with them
  local i
  for i in $(seq 1 110); do
    [ -z "$(ours "^$MR ")" ] && break
    sleep 0.1
  done
  return $rc
}
# stopped NP RC WHAT: the run ended by the stop, not by the guard: 128+N
# alone; under mpirun (which ends the job on SIGTERM) not 0 and not 137
stopped() {
  local np=$1 rc=$2 what=$3 want=${4:-143} fails=$T_FAIL
  if [ "$np" = 0 ]; then check "$what -np $np: exit $want (got $rc)" test "$rc" -eq "$want"
  else check "$what -np $np: ended by the stop (got $rc)" test "$rc" -ne 0 -a "$rc" -ne 137; fi
  check "$what -np $np: says it stopped" grep -q 'stopped' err
  [ "$T_FAIL" = "$fails" ] || tail -3 err
}
ready_or_gone() { eval "$when" || ! kill -0 $pid 2> /dev/null; }
written() { test -s res.txt.partial; }
# hung: the run (stop_run's, without mpirun) is inside the crash job's
# "hang" item, which pause()s for ever
hung() {
  local j
  j=$(pgrep -P $pid) && cat /proc/$j/task/*/wchan 2> /dev/null | grep -q pause
}
# ours PATTERN: the processes whose command line matches PATTERN and that
# run in this suite's directory: other suites, run alongside, start the
# same binary with the same arguments, and a signal is not for them
ours() {
  local pid
  for pid in $(pgrep -f "$1"); do
    [ "/proc/$pid/cwd" -ef . ] && echo "$pid"
  done
}
# signal_named SIG ARGS...: once a mapreduce with exactly the command line
# "$MR ARGS" runs and has its handler for SIG in place (60 s at most: a
# loaded machine starts it late, and a signal before its handler ends it
# without a word), and 0.5 s more, sends it SIG
signal_named() {
  local sig=$1 job pat
  shift
  pat="^$MR $*\$"
  named_up() {
    job=$(ours "$pat")
    [ -n "$job" ] && catches "$job" "$sig"
  }
  wait_until 60 named_up
  sleep 0.5
  [ -n "$job" ] && kill -s "$sig" $job
}

# up NP: NP ranks of this mapreduce run (one process without mpirun) have
# their SIGTERM handler in place, and 0.5 s more for them to wait on their
# input: a signal sent to mpirun earlier (a loaded machine starts ranks
# slowly) would end them before they start, and nothing would say so
up() {
  local want=$(($1 > 0 ? $1 : 1)) n=0 pid mask
  for pid in $(ours "^$MR "); do
    mask=$(awk '/^SigCgt:/ {print $2}' "/proc/$pid/status" 2> /dev/null)
    [ -n "$mask" ] && [ $((0x$mask & 0x4000)) -ne 0 ] && n=$((n + 1))
  done
  [ "$n" -ge "$want" ] && sleep 0.5
}

echo "it_signals: waiting for input"
mkfifo silent.fifo
exec 3<> silent.fifo # a writer that never writes: a silent pipe
for np in 0 3; do
  stop_run TERM $np "up $np" -j square < silent.fifo
  stopped $np $? "SIGTERM on a silent pipe"
done
stop_run INT 0 'up 0' -j square < silent.fifo
stopped 0 $? "SIGINT on a silent pipe" 130
exec 3>&-
# a FIFO as INPUT that no one opens for writing
mkfifo nowriter.fifo
for np in 0 3; do
  stop_run TERM $np "up $np" -j square nowriter.fifo
  stopped $np $? "SIGTERM on a FIFO without a writer"
  check "FIFO without a writer -np $np: no 'Interrupted system call'" \
    test "$(grep -c 'Interrupted' err)" -eq 0
done
# items that came before the silence are kept for --resume
printf '4\n5\n6\n' > three.txt
printf '4\t16\n5\t25\n6\t36\n' > three.want
exec 3<> silent.fifo
printf '4\n' >&3
stop_run TERM 0 'up 0' -j square -o res.txt < silent.fifo
stopped 0 $? "a pipe silent after one item"
exec 3>&-
mpi 0 -j square -o res.txt --resume < three.txt
same res.txt three.want "a pipe silent after one item: --resume completes it"
rm -f res.txt*

# Ctrl-C on a terminal: the first one is enough (script(1) makes the pty)
if command -v script > /dev/null; then
  sleep 10 | timeout -s KILL "$GUARD" script -qec "'$MR' -j square" /dev/null > out 2>&1 &
  signal_named INT -j square
  wait $!
  rc=$?
  check "one SIGINT on a terminal: exit 130 (got $rc)" test $rc -eq 130
  check "one SIGINT on a terminal: says it stopped" grep -q 'stopped by signal 2' out
fi

echo "it_signals: skipping an endless line"
stop_run TERM 0 'up 0' -j square /dev/zero
stopped 0 $? "SIGTERM while skipping /dev/zero's line"
check "/dev/zero: one line too long" grep -q '^/dev/zero:1: error: line too long' err
stop_run TERM 3 'up 3' -j square /dev/zero
stopped 3 $? "SIGTERM while skipping /dev/zero's line"

echo "it_signals: opening an output FIFO no one reads"
mkfifo noreader.fifo
printf '1\n2\n' > two.txt
stop_run TERM 0 'up 0' -j square -o noreader.fifo two.txt
stopped 0 $? "SIGTERM opening -o FIFO"
stop_run TERM 0 'up 0' -j square --joblog noreader.fifo two.txt
stopped 0 $? "SIGTERM opening --joblog FIFO"

echo "it_signals: items that would run for months"
# three short items, four of 1e7 s, three short: the long ones can only
# end by the stop, and must be neither written nor failed
{ printf '0.01\n%.0s' 1 2 3; printf '1e7\n%.0s' 1 2 3 4; printf '0.01\n%.0s' 1 2 3; } > months.txt
# months NP WHAT ARGS...: stops a run of months.txt once it wrote something
months() {
  local np=$1 what=$2
  shift 2
  rm -f res.txt*
  stop_run TERM "$np" written -c 1 -o res.txt "$@" months.txt
  stopped "$np" $? "SIGTERM during 1e7 s items ($what)"
  check "$what -np $np: no item failed" test "$(grep -c 'error' err)" -eq 0
  check "$what -np $np: a long item is not written" test "$(grep -c '^1e7' res.txt.partial)" -eq 0
  check "$what -np $np: the journal is there for --resume" test -s res.txt.journal
}
for np in 0 3; do
  months $np "the sleep job" -j sleep
  months $np "two threads" -j sleep -t 2
  months $np "--isolate" -j sleep --isolate
  months $np "a command" -e 'sleep {}'
  months $np "a shell command" -e 'case {} in 1e7) sleep 1e7;; esac; echo {}'
done
# mpirun passes SIGUSR1 on and does not end the job: the stop alone must
stop_run USR1 3 'up 3' -j sleep --isolate months.txt
stopped 3 $? "SIGUSR1 during 1e7 s items under --isolate" 138
check "SIGUSR1 -np 3: by signal 10" grep -q 'stopped by signal 10' err
rm -f res.txt*

echo "it_signals: code that never looks at the stop"
printf 'a\nb\nhang\nc\n' > hang.txt
for np in 0 3; do
  stop_run TERM $np "up $np" -j crash -o res.txt hang.txt
  stopped $np $? "SIGTERM during a hang in the job's own code"
  rm -f res.txt*
done
# -c 1: cheap chunks, which rank 0 computes in its own loop
{ seq 1 2000; echo hang; } > hang2.txt
# (in the hang, not 0.5 s after the start: a loaded machine may not have
# reached it, and a stop before it is an ordinary drain)
stop_run TERM 0 hung -j crash -c 1 -o res.txt hang2.txt
rc=$?
check "a hang in rank 0's own loop: exit 143 (got $rc)" test $rc -eq 143
check "a hang in rank 0's own loop: says so" grep -q 'did not end within 3 s of the stop' err
rm -f res.txt*
# a write to a pipe no one reads: the same last resort (the reader, a
# sleep, outlives the stop by far: if it ended first, the write would fail
# instead of hanging)
seq 1 2000000 > many.txt
rm -f rc
{ timeout -s KILL "$GUARD" "$MR" -j square many.txt 2> err; echo $? > rc; } | sleep 300 &
reader=$!
signal_named TERM -j square many.txt
wait_until 60 test -s rc
kill $reader 2> /dev/null
check "SIGTERM while stdout is full: exit 143 (got $(cat rc))" test "$(cat rc)" = 143
check "SIGTERM while stdout is full: says so" grep -q 'did not end within 3 s of the stop' err
rm -f res.txt*

echo "it_signals: items cut short, then --resume completes them"
# the long items are long only until the file FAST exists
{ seq 1 5; echo 6L; seq 7 11; echo 12L; seq 13 16; } > cut.txt
awk '{print $1"\t"$1}' cut.txt > cut.want
slow='case {} in *L) [ -e FAST ] || sleep 1e7;; esac; echo {}'
for np in 0 3; do
  rm -f res.txt* FAST
  stop_run TERM $np written -c 1 -e "$slow" -o res.txt cut.txt
  stopped $np $? "SIGTERM during a command"
  touch FAST
  mpi $np -e "$slow" -o res.txt --resume cut.txt 2> err
  check "resume after a command was killed -np $np: exit 0" test $? -eq 0
  same res.txt cut.want "resume after a command was killed -np $np: identical output"
done
# the sleep job in the rank and in --isolate children: a 4 s item cut
# short runs again whole (4 s: the signal must come while it runs, and a
# loaded machine's shell sees the first results late; -c 1: a loaded
# machine's first chunk held the short items and the long one, so the
# first results came only after it, and the run ended before the signal)
{ printf '0.01\n%.0s' 1 2 3 4 5; echo 4; printf '0.02\n%.0s' 1 2 3; } > short.txt
mpi 0 -j sleep -o ref.txt short.txt
for iso in "" --isolate; do
  rm -f res.txt*
  stop_run USR1 0 'written && sleep 0.2' -j sleep $iso -c 1 -o res.txt short.txt
  stopped 0 $? "SIGUSR1 during a sleep $iso" 138
  mpi 3 -j sleep $iso -o res.txt --resume short.txt
  same res.txt ref.txt "resume of a sleep cut short $iso: identical output"
done

finish
