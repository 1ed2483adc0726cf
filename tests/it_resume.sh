#!/bin/bash
# it_resume.sh: what users already have is never lost. --resume of a
# finished run changes nothing; a grown input is refused with the finished
# output untouched; an input that is a stream (FIFO, /dev/stdin, <(...)) is
# checked as it is read, not used up; every item of a finished chunk is
# checked; a joblog cut mid-line is continued on a line of its own; a start
# that fails leaves nothing behind.
. "$(dirname "$0")/lib.sh"
cd "$TMP" || exit 2

# files_unchanged NAME FILE...: each FILE is as saved by save FILE...
save() { for f in "$@"; do cp "$f" "$f.saved"; done; }
files_unchanged() {
  local name=$1 f
  shift
  for f in "$@"; do same "$f" "$f.saved" "$name: $f unchanged"; done
}
# stopped NP ARGS...: a run with -o res.txt that a bad item halts part-way
# (--halt now): a journal of finished chunks (with gaps when NP > 1)
stopped() {
  local np=$1
  shift
  rm -f res.txt res.txt.*
  mpi "$np" -j square --halt now,fail=1 -c 20 -o res.txt "$@" 2> /dev/null
  check "the halted run left a journal" test -s res.txt.journal
}

seq 1 100 > in.txt
awk '{print $1"\t"$1*$1}' in.txt > ref.txt

echo "it_resume: resuming a finished run changes nothing"
for np in 0 3; do
  rm -f res.txt log.txt
  mpi $np -j square --joblog log.txt -o res.txt in.txt
  same res.txt ref.txt "-np $np: finished run"
  save res.txt log.txt
  for how in --resume --resume-failed; do
    mpi $np -j square --joblog log.txt $how -o res.txt in.txt 2> err
    check "-np $np joblog and -o, $how of a finished run: exit 0" test $? -eq 0
    files_unchanged "-np $np joblog and -o, $how" res.txt log.txt
    check "-np $np $how: no partial or journal left" test ! -e res.txt.partial -a ! -e res.txt.journal
    mpi $np -j square --joblog log.txt $how in.txt > out 2> err
    check "-np $np joblog alone, $how: nothing to do" test $? -eq 0 -a ! -s out
    files_unchanged "-np $np joblog alone, $how" log.txt
    # -o alone: nothing records what a finished FILE holds
    mpi $np -j square $how -o res.txt in.txt 2> err
    check "-np $np -o alone, $how: refused (255)" test $? -eq 255
    check "-np $np -o alone, $how: says why" grep -q "refusing to resume: 'res.txt' has no journal" err
    files_unchanged "-np $np -o alone, $how" res.txt
  done
done
# a finished run with failures keeps its exit status, and its output
( seq 1 50; echo bad; seq 51 100 ) > bad.txt
rm -f res.txt log.txt
mpi 0 -j square --joblog log.txt -o res.txt bad.txt 2> /dev/null
save res.txt log.txt
mpi 3 -j square --joblog log.txt --resume -o res.txt bad.txt 2> err
check "a finished run with a failure, resumed: exit 1 again" test $? -eq 1
files_unchanged "a finished run with a failure, resumed" res.txt log.txt
mpi 3 -j square --joblog log.txt --resume-failed -o res.txt bad.txt 2> err
check "--resume-failed cannot add to a finished file: refused (255)" test $? -eq 255
check "--resume-failed: says why, naming the line" grep -q "^mapreduce: bad.txt:51: refusing to resume: 'res.txt' holds a finished run" err
files_unchanged "--resume-failed, refused" res.txt log.txt

echo "it_resume: a grown input is refused, the finished output untouched"
rm -f res.txt log.txt
mpi 0 -j square --joblog log.txt -o res.txt in.txt
save res.txt log.txt
{ cat in.txt; echo 101; } > grown.txt
# (mpirun does not pass a <(...) on to the ranks: a FIFO at -np 3)
mkfifo fifo
for np in 0 3; do
  for input in grown.txt stream; do
    if [ $input = grown.txt ]; then mpi $np -j square --joblog log.txt --resume -o res.txt grown.txt 2> err
    elif [ $np = 0 ]; then mpi 0 -j square --joblog log.txt --resume -o res.txt <(cat grown.txt) 2> err
    else
      cat grown.txt > fifo &
      mpi $np -j square --joblog log.txt --resume -o res.txt fifo 2> err
    fi
    check "-np $np grown $input: refused (255)" test $? -eq 255
    check "-np $np grown $input: names the first new line" grep -q ":101: refusing to resume: 'res.txt' holds a finished run" err
    files_unchanged "-np $np grown $input" res.txt log.txt
    check "-np $np grown $input: no partial or journal left" test ! -e res.txt.partial -a ! -e res.txt.journal
    wait
  done
done
# a shrunk input is refused too
head -50 in.txt > shrunk.txt
mpi 0 -j square --joblog log.txt --resume -o res.txt shrunk.txt 2> err
check "shrunk input: refused (255)" test $? -eq 255
check "shrunk input: says so" grep -q 'the input is shorter' err
files_unchanged "shrunk input" res.txt log.txt
# what the refusal offers: another -o FILE gets only the rest
mpi 0 -j square --joblog log.txt --resume -o rest.txt grown.txt
check "another -o FILE: only the new item" test "$(cat rest.txt)" = "$(printf '101\t10201')"
# -o alone resumed with a grown or a shrunk input: refused, untouched
for input in grown.txt shrunk.txt; do
  mpi 3 -j square --resume -o res.txt $input 2> err
  check "-o alone, $input: refused (255)" test $? -eq 255
  files_unchanged "-o alone, $input" res.txt
done

echo "it_resume: an input that is a stream is checked as it is read"
seq 1 300 > big.txt
awk '{print $1"\t"$1*$1}' big.txt > big.ref
# item 200 fails: the reference has no line for it
sed -i '200s/.*/bad/' big.txt
sed -i '200d' big.ref
stopped 0 big.txt
mpi 0 -j square -o res.txt --resume <(cat big.txt) 2> err
check "<(...): exit 1 (the bad item)" test $? -eq 1
same res.txt big.ref "<(...): complete output"
for np in 0 3; do
  stopped $np big.txt
  cat big.txt > fifo &
  mpi $np -j square -o res.txt --resume fifo 2> err
  check "-np $np FIFO: exit 1 (the bad item)" test $? -eq 1
  same res.txt big.ref "-np $np FIFO: complete output"
  wait
  stopped $np big.txt
  mpi $np -j square -o res.txt --resume /dev/stdin < <(cat big.txt) 2> err
  check "-np $np /dev/stdin: exit 1" test $? -eq 1
  same res.txt big.ref "-np $np /dev/stdin: complete output"
  stopped $np big.txt
  mpi $np -j square -o res.txt --resume - < big.txt 2> err
  same res.txt big.ref "-np $np -: complete output"
done
# a stream shorter than the records is refused
stopped 0 big.txt
save res.txt.partial res.txt.journal
mpi 0 -j square -o res.txt --resume <(head -50 big.txt) 2> err
check "a shorter stream: refused (255)" test $? -eq 255
check "a shorter stream: says so" grep -q 'the input is shorter' err
files_unchanged "a shorter stream" res.txt.partial res.txt.journal

echo "it_resume: every item of a finished chunk counts"
sed '10s/.*/1000/' big.txt > edited.txt
sed '5{h;d};6G' big.txt > swapped.txt
for np in 0 3; do
  stopped $np big.txt
  save res.txt.partial res.txt.journal
  for input in edited.txt swapped.txt; do
    mpi $np -j square -o res.txt --resume $input > /dev/null 2> err
    check "-np $np $input: refused (255)" test $? -eq 255
    check "-np $np $input: says the input differs" grep -q "^mapreduce: $input:[0-9]*: this is not the input" err
    cat $input > fifo &
    mpi $np -j square -o res.txt --resume fifo > /dev/null 2> err
    check "-np $np $input as a stream: refused (255)" test $? -eq 255
    wait
    files_unchanged "-np $np $input refused" res.txt.partial res.txt.journal
  done
  mpi $np -j square -o res.txt --resume big.txt 2> /dev/null
  same res.txt big.ref "-np $np: the right input still resumes"
done
# refused part-way through a stream: what the refused run did is undone.
# Without the journal's first record, the items it held run again, before
# the edit (line 41, a chunk's first) is found further on.
sed '41s/.*/1000/' big.txt > edited.txt
stopped 0 big.txt
sed -i '3d' res.txt.journal
save res.txt.partial res.txt.journal
rm -f log.txt
printf 'Seq\tHost\tStarttime\tJobRuntime\tSend\tReceive\tExitval\tSignal\tCommand\n' > log.txt
save log.txt
mpi 0 -j square -o res.txt --joblog log.txt --resume <(cat edited.txt) > /dev/null 2> err
check "refused part-way through a stream (255)" test $? -eq 255
files_unchanged "refused part-way through a stream" res.txt.partial res.txt.journal log.txt
# a line that is not an item (a NUL byte) inside a finished chunk
{ seq 1 30; printf 'a\0b\n'; seq 32 60; echo bad; seq 62 100; } > nul.txt
rm -f res.txt res.txt.*
mpi 0 -j square --halt now,fail=2 -c 100 -o res.txt nul.txt 2> /dev/null
mpi 0 -j square -o res.txt --resume nul.txt 2> err
check "a NUL line in a finished chunk: resumes (2 failed)" test $? -eq 2
check "a NUL line in a finished chunk: complete output" test "$(wc -l < res.txt)" -eq 98

echo "it_resume: a joblog cut mid-line is continued on a line of its own"
rm -f log.txt
mpi 0 -j square --joblog log.txt in.txt > /dev/null
head -c -7 log.txt > cut.txt && mv cut.txt log.txt # a full disk did this
mpi 0 -j square --joblog log.txt --resume in.txt > out 2> err
check "cut joblog: resumed, exit 0" test $? -eq 0
check "cut joblog: the cut item ran again" test "$(cat out)" = "$(printf '100\t10000')"
awk -F'\t' 'NR > 1 && (NF != 9 || $1 !~ /^[0-9]+$/) { bad = 1 } END { exit bad }' log.txt
check "cut joblog: every line a whole record" test $? -eq 0
check "cut joblog: one line per item" test "$(wc -l < log.txt)" -eq 101
mpi 3 -j square --joblog log.txt --resume in.txt > out 2> err
check "cut joblog: a later --resume accepts it, nothing to do" test $? -eq 0 -a ! -s out

echo "it_resume: a start that fails leaves nothing behind"
rm -f res.txt res.txt.*
mpi 0 -j square --joblog no/such/dir/log -o res.txt in.txt 2> err
check "joblog unopenable: 255" test $? -eq 255
check "joblog unopenable: no partial or journal" test ! -e res.txt.partial -a ! -e res.txt.journal
# too few descriptors for one file or another: complete, or nothing
for n in 4 5 6 7; do
  rm -f res.txt log.txt
  (ulimit -n $n; "$MR" -j square --joblog log.txt -o res.txt in.txt 2> err)
  rc=$?
  check "ulimit -n $n: complete (0) or failed (255), exit $rc" test $rc -eq 0 -o $rc -eq 255
  check "ulimit -n $n: no partial or journal" test ! -e res.txt.partial -a ! -e res.txt.journal
done
mpi 0 -j square -o res.txt in.txt
same res.txt ref.txt "the next plain run works"
# a resume whose start fails keeps what it continues
stopped 0 big.txt
save res.txt.partial res.txt.journal
mpi 0 -j square --joblog no/such/dir/log -o res.txt --resume big.txt 2> err
check "resume, joblog unopenable: 255" test $? -eq 255
files_unchanged "resume, joblog unopenable" res.txt.partial res.txt.journal


echo "it_resume: one -o FILE, two runs at once (a batch job submitted twice)"
# item 20 waits for the file GO (60 s at most): a run is in progress for
# as long as the test needs, not for as long as a loaded machine lets it
# run (a --resume that starts after it ended would rightly not be refused)
seq 1 40 > slow.txt
awk '{print $1"\t"$1}' slow.txt > ref2.txt
gate='[ {} != 20 ] || for i in $(seq 600); do [ -e GO ] && break; sleep 0.1; done; echo {}'
# either NAME...: true once one of the named background runs has ended
either() {
  local p
  for p in "$@"; do kill -0 "$p" 2> /dev/null || return 0; done
  return 1
}
for np in 0 3; do
  rm -f res.txt res.txt.* GO
  # a run in progress: a --resume started meanwhile is refused, the run ends whole
  mpi $np -e "$gate" -o res.txt slow.txt 2> errA &
  a=$!
  journal_or_gone() { [ -s res.txt.journal ] || either $a; }
  wait_until 60 journal_or_gone
  mpi $np -e "$gate" -o res.txt --resume slow.txt 2> errB
  check "-np $np: a --resume while the run is in progress: 255" test $? -eq 255
  check "-np $np: says the run is in progress" grep -q "belongs to a run still in progress" errB
  touch GO
  wait $a
  check "-np $np: the first run: exit 0" test $? -eq 0
  same res.txt ref2.txt "-np $np: the first run's output whole"
  # a stopped run, resumed twice at once: one resumes, the other is refused
  rm -f res.txt res.txt.* GO
  timeout 120 "$MR" -e "$gate" -c 1 -o res.txt slow.txt 2> /dev/null &
  a=$! # timeout passes the TERM on
  partial_or_gone() { [ -s res.txt.partial ] || either $a; }
  wait_until 60 partial_or_gone
  kill -TERM $a
  wait $a
  mpi $np -e "$gate" -o res.txt --resume slow.txt 2> errA &
  a=$!
  sleep 0.3
  mpi $np -e "$gate" -o res.txt --resume slow.txt 2> errB &
  b=$!
  wait_until 60 either $a $b # the refused one; the other waits at item 20
  touch GO
  wait $a
  ra=$?
  wait $b
  rb=$?
  check "-np $np: two resumes at once: one succeeds, one is refused ($ra, $rb)" \
    test "$ra$rb" = 0255 -o "$ra$rb" = 2550
  same res.txt ref2.txt "-np $np: two resumes at once: the output whole"
done


# a partial file without its journal: a run starting this moment (it makes
# the partial first): --resume leaves it alone
rm -f res.txt res.txt.*
: > res.txt.partial
mpi 0 -j square -o res.txt --resume in.txt 2> err
check "a partial file alone, --resume: refused (255)" test $? -eq 255
check "a partial file alone: says why" grep -q "res.txt.partial exists without res.txt.journal" err
check "a partial file alone: left as it was" test -e res.txt.partial -a ! -s res.txt.partial
rm -f res.txt.partial

echo "it_resume: fresh starts at the same instant on one -o FILE"
# six starts at once, five times: each either runs whole or is refused
# saying another run has the file; none removes another's FILE.partial
seq 1 30 | sed 's/.*/0.002/' > race.txt
awk '{print $1"\t"$1}' race.txt > race.want
bad_starts=0
for round in 1 2 3 4 5; do
  rm -f res.txt res.txt.*
  for k in 1 2 3 4 5 6; do
    (timeout 60 "$MR" -j sleep -c 1 -o res.txt race.txt 2> race.err.$k; echo $? > race.rc.$k) &
  done
  wait
  cmp -s res.txt race.want || bad_starts=$((bad_starts + 1))
  [ -z "$(ls res.txt.* 2> /dev/null)" ] || bad_starts=$((bad_starts + 1))
  for k in 1 2 3 4 5 6; do
    [ "$(cat race.rc.$k)" = 0 ] ||
      grep -q "another run is starting\|still in progress\|holds an unfinished run" race.err.$k ||
      { bad_starts=$((bad_starts + 1)); cat race.err.$k; }
  done
done
check "six starts at once: results whole, nothing left, refusals say why" test $bad_starts -eq 0

finish
