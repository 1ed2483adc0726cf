#!/bin/bash
# it_stdout.sh: results written to the launcher's standard output reach
# every kind of destination whole and in order (a file with > and >>, a
# shell group's file, a pipe, a terminal, /dev/null), a destination that
# fails (/dev/full, a full disk) is an error, not exit 0 with the results
# lost, and a reader that leaves (| head) ends the run without a word:
# under mpirun, rank 0 writes where mpirun's own output goes
# (src/cli/launcher.h).
. "$(dirname "$0")/lib.sh"
cd "$TMP" || exit 2

seq 1 20000 > in.txt
"$MR" -j square in.txt > want
check "alone: exit 0" test $? -eq 0

seq 1 2000000 > big.txt
printf '1\t1\n2\t4\n' > head.want
echo "it_stdout: every destination gets the bytes of -o, at -np 1, 3 and 8"
for np in 1 3 8; do
  mpi $np -j square -o o.out in.txt
  check "-np $np -o: exit 0" test $? -eq 0
  same o.out want "-np $np -o"
  mpi $np -j square --stats=line in.txt > out 2> err
  check "-np $np > file: exit 0" test $? -eq 0
  same out o.out "-np $np > file"
  check "-np $np > file: written there by rank 0 (--stats=line: stdout=direct)" \
    grep -q ' stdout=direct$' err
  echo before > app
  mpi $np -j square in.txt >> app
  { echo before; cat o.out; } > app.want
  same app app.want "-np $np >> file keeps what was there"
  { echo first; mpi $np -j square in.txt; echo last; } > grp
  { echo first; cat o.out; echo last; } > grp.want
  same grp grp.want "-np $np in a shell group: in order with the group's other output"
  mpi $np -j square in.txt | cat > piped
  same piped o.out "-np $np | cat"
  mpi $np -j square in.txt > /dev/null 2> err
  check "-np $np > /dev/null: exit 0" test $? -eq 0
  check "-np $np > /dev/null: nothing on stderr" test ! -s err
  # mpirun as a user runs it: its notice of a non-zero status not silenced
  OMPI_MCA_orte_execute_quiet=0 mpi $np -j square big.txt 2> err | head -2 > head.out
  check "-np $np | head: exit 0 (a status would bring mpirun's notice)" test "${PIPESTATUS[0]}" -eq 0
  same head.out head.want "-np $np | head: the first lines"
  check "-np $np | head: not a word on stderr, from mpirun or the ranks" test ! -s err
  [ -s err ] && head -3 err
done

# on_tty NAME SETUP: mpirun on a terminal that script(1) gives it (after
# the shell commands SETUP), and what reaches that terminal is the output
on_tty() {
  ASAN_OPTIONS=detect_leaks=0 timeout 60 script -qec \
    "$2 mpirun -np 2 '$MR' -j square in.txt" tty.log > /dev/null 2>&1
  check "-np 2 on a terminal$1: exit 0" test $? -eq 0
  tr -d '\r' < tty.log | grep -v -e '^Script ' -e '^$' > tty.out
  same tty.out want "-np 2 on a terminal$1"
}
if command -v script > /dev/null; then
  on_tty "" ""
  # 'stty tostop': a rank writing to mpirun's terminal from its own process
  # group would be stopped by SIGTTOU
  on_tty " with tostop" "stty tostop;"
fi

echo "it_stdout: mpirun's own rewriting of the stream is left to mpirun"
ASAN_OPTIONS=detect_leaks=0 timeout 120 mpirun --tag-output -np 2 "$MR" -j square in.txt > tagged
# (mpirun tags what it reads at a time, which need not be a whole line)
check "--tag-output: the stream went through mpirun, which tagged it" \
  grep -q '^\[[0-9]*,[0-9]*\]<stdout>:1	1$' tagged
MAPREDUCE_FORWARDED_STDOUT=1 mpi 3 -j square --stats=line in.txt > out 2> err
same out want "MAPREDUCE_FORWARDED_STDOUT=1: through mpirun, the same bytes"
check "MAPREDUCE_FORWARDED_STDOUT=1: --stats=line says stdout=forwarded" \
  grep -q ' stdout=forwarded$' err
"$MR" -j square --stats=line in.txt > out 2> err
check "without mpirun: --stats=line says stdout=own" grep -q ' stdout=own$' err

echo "it_stdout: a destination that fails is an error"
for np in 0 3; do
  mpi $np -j square in.txt > /dev/full 2> err
  check "-np $np > /dev/full: exit 255" test $? -eq 255
  check "-np $np > /dev/full: says why" grep -q "^mapreduce: cannot write '<stdout>': No space left on device" err
done
if [ "$(id -u)" = 0 ] && mkdir small && mount -t tmpfs -o size=64k tmpfs small 2> /dev/null; then
  mpi 3 -j square in.txt > small/out 2> err
  check "-np 3 onto a full disk: exit 255" test $? -eq 255
  check "-np 3 onto a full disk: says why" grep -q "No space left on device" err
  umount small
fi

# a reader gone before the last write (a short input, `| true`): the
# write that finds it gone is the final one, and it ends as quietly
# (the input comes through a FIFO only once the reader has gone)
for np in 0 2; do
  rm -f feed gone rc && mkfifo feed
  { mpi $np -j square feed 2> err; echo $? > rc; } | { exec 0<&-; touch gone; } &
  until [ -e gone ]; do sleep 0.05; done
  seq 1 20 > feed
  wait $!
  want=$((np ? 0 : 141)) # alone, as cat; under mpirun 0, as above
  check "-np $np, reader gone before the end: exit $want" test "$(cat rc)" -eq $want
  check "-np $np, reader gone before the end: no 'cannot write'" test -z "$(grep 'cannot write' err)"
done

echo "it_stdout: a pipe that pauses: what came back is written meanwhile"
# the writer keeps the pipe open, silent, until it sees the five results
# in the output (tail -f | mapreduce): held until the end, it never would
seq 1 5 | "$MR" -j square > five.want
for np in 0 3; do
  rm -f res res.* seen
  { seq 1 5; i=0
    until [ -f res.partial ] && [ "$(wc -l < res.partial)" -eq 5 ]; do
      i=$((i + 1)); [ $i -gt 400 ] && break; sleep 0.05
    done
    [ $i -le 400 ] && touch seen; } | mpi $np -j square -o res -
  check "-np $np: results written while the pipe is silent" test -e seen
  same res five.want "-np $np: a pipe that pauses: the output whole"
done


finish
