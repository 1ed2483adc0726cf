#!/bin/bash
# it_worker.sh: --worker, a long-lived command fed items on its stdin.
# The same results as --exec running the same command per item, at
# several -np, --raw, -u and -t; a worker that crashes every 100th item,
# one that hangs (--timeout), one that answers an item with two lines, one
# that writes a banner, one that never starts; the error marker; --halt;
# SIGTERM and --resume byte-identical; --joblog; the Python helper. After
# every run no worker process is left (pgrep).
. "$(dirname "$0")/lib.sh"
PY=$(pwd)/python
cd "$TMP" || exit 2
export PYTHONPATH="$PY"

# w.sh: squares; as --exec runs it (the item an argument) or as a worker
# (items on stdin). MODE (in the environment) makes it misbehave.
cat > w.sh <<'EOF'
#!/bin/sh
f() {
  case "$MODE:$1" in
  crash:*00) kill -9 $$ ;;
  hang:1500) exec sleep 7391 ;; # a number to find it by
  two:50) printf 'a\nb\n'; return ;;
  err:*7) printf '\025bad seven %s\n' "$1"; return ;;
  exit:30) exit 0 ;;
  esac
  echo $(($1 * $1))
}
if [ $# -gt 0 ]; then f "$1"; exit; fi
while read -r x; do f "$x"; done
EOF
chmod +x w.sh
# none_left WHAT: no process of this suite's workers is left behind (in
# this suite's directory: other suites run alongside, with their own).
# A worker killed as the run ends may take a loaded machine a moment to
# go: left behind means still there 10 s later, not 0.2 s later.
ours_left() {
  local pid
  left=$(for pid in $(pgrep -f "$TMP/|w\.sh|sleep 7391|py_worker"); do
    [ "/proc/$pid/cwd" -ef . ] && echo "$pid"
  done | tr '\n' ' ')
  [ -z "$left" ]
}
none_left() {
  local left
  wait_until 10 ours_left
  check "$1: no worker process left ($left)" test -z "$left"
}
# mpi with MODE passed to every rank. The guard is 600 s, not lib.sh's 120:
# 2,000 commands for the --exec reference took over 120 s at load 45, and a
# guard costs time only when a run hangs
mpiw() {
  local np=$1
  shift
  if [ "$np" = 0 ]; then timeout 600 "$MR" "$@"
  else ASAN_OPTIONS=detect_leaks=0 timeout 600 mpirun -x MODE -np "$np" "$MR" "$@"; fi
}
export MODE=none

echo "it_worker: the same results as --exec, at several -np"
SECONDS=0
seq 1 2000 > n.txt
mpiw 3 -e "$TMP/w.sh {}" n.txt > exec.out
check "--exec reference: 2000 lines" test "$(wc -l < exec.out)" -eq 2000
for np in 1 3 8; do
  mpiw $np -w "$TMP/w.sh" n.txt > out 2> err
  check "-np $np: exit 0" test $? -eq 0
  same out exec.out "-np $np: identical to --exec"
done
mpiw 3 -w "$TMP/w.sh" -t 2 -c 7 n.txt > out
same out exec.out "-t 2 -c 7: identical to --exec"
mpiw 3 -w "$TMP/w.sh" -u n.txt | sort -n > out
sort -n exec.out | cmp -s - out
check "-u: the same lines" test $? -eq 0
head -200 n.txt > n200.txt # (a command per item is slow: 200 are enough here)
mpiw 3 -e "$TMP/w.sh {}" --raw n200.txt > exec.raw
mpiw 3 -w "$TMP/w.sh" --raw n200.txt > out
same out exec.raw "--raw: identical to --exec --raw"
mpiw 3 -w "$TMP/w.sh" n.txt -o res.txt
same res.txt exec.out "-o FILE: identical"
# a shell command line, and items that are not numbers
printf 'a b\n$(touch PWNED)\n\n# a comment\nx\ty\n' > text.txt
# (sed -u: a worker writes each line out as it answers, not at its exit)
mpiw 2 -w 'sed -u y/abcdefghijklmnopqrstuvwxyz/ABCDEFGHIJKLMNOPQRSTUVWXYZ/ | cat' text.txt > out
printf 'a b\tA B\n$(touch PWNED)\t$(TOUCH PWNED)\nx\ty\tX\tY\n' > want
same out want "a shell pipeline as the worker; items are data"
check "no file created by item text" test ! -e PWNED
none_left "plain runs"

echo "it_worker: failures cost one item each (${SECONDS}s)"
MODE=crash mpiw 3 -w "$TMP/w.sh" n.txt > out 2> err
check "crash every 100th: exit 20" test $? -eq 20
awk '$1 % 100' exec.out > want
same out want "crash every 100th: every other item, in order"
check "crash: the item and the signal named" grep -q '^n.txt:300: error: the worker was killed by signal 9' err
MODE=crash mpiw 3 -w "$TMP/w.sh" --retries 1 -c 50 n.txt > /dev/null 2> err
check "crash with --retries 1: still 20 failures" test $? -eq 20
MODE=hang mpiw 2 -w "$TMP/w.sh" --timeout 2 n.txt > out 2> err
check "hang: exit 1" test $? -eq 1
awk '$1 != 1500' exec.out > want
same out want "hang: the other items all there"
# (a process's first answer has 30 s more, for its start: by item 1500
# every process has answered, unless the scheduling was odd)
check "hang: timed out" grep -q '^n.txt:1500: error: timed out after' err
none_left "hang with --timeout"
MODE=exit mpiw 0 -w "$TMP/w.sh" n.txt > out 2> err
check "a worker that exits (status 0) with an item unanswered: exit 1" test $? -eq 1
awk '$1 != 30' exec.out > want
same out want "exit 0 mid-batch: the rest of the batch re-run"
check "exit 0 mid-batch: malformed answer named" grep -q '^n.txt:30: error: malformed answer: the worker ended (status 0) without answering' err
MODE=err mpiw 3 -w "$TMP/w.sh" n.txt > out 2> err
check "error marker: 200 failures -> 101" test $? -eq 101
check "error marker: the message" grep -q '^n.txt:17: error: bad seven 17$' err
awk '$1 % 10 != 7' exec.out > want
same out want "error marker: the other items"
MODE=err mpiw 0 -w "$TMP/w.sh" --halt now,fail=1 n.txt > out 2> err
check "--halt now,fail=1: halted" grep -q 'halted' err
head -6 exec.out > want
same out want "--halt now,fail=1: what comes before the failure"
none_left "failures"

echo "it_worker: two lines for one item (${SECONDS}s)"
seq 1 100 > h.txt
MODE=two mpiw 0 -w "$TMP/w.sh" -c 1 h.txt > out 2> err
check "two lines, -c 1: exit 1" test $? -eq 1
check "two lines: named" grep -q '^h.txt:50: error: malformed answer: the worker wrote more than one line' err
head -100 exec.out | awk '$1 != 50' > want
same out want "two lines, -c 1: every other item right"
MODE=two mpiw 3 -w "$TMP/w.sh" n.txt > out 2> err
rc=$?
check "two lines in a batch: not a success ($rc)" test $rc -ne 0
check "two lines in a batch: said" grep -q 'malformed answer\|more than it was given items' err
printf 'echo hello\nexec cat\n' > banner.sh
# (where the banner lands among the answers depends on timing: the run is
# never a success, and says why)
mpiw 0 -w "sh $TMP/banner.sh" h.txt > out 2> err
rc=$?
check "a banner: not a success ($rc)" test $rc -ne 0
check "a banner: said" grep -q 'malformed answer\|more than it was given items\|before it was given an item' err
none_left "two lines"

echo "it_worker: a worker that cannot start (${SECONDS}s)"
for np in 0 3; do
  mpiw $np -w nonexistent-worker-cmd n.txt > out 2> err
  check "-np $np: not found: exit 255" test $? -eq 255
  check "-np $np: not found: one line naming it" test "$(grep -c 'nonexistent-worker-cmd' err)" -eq 1
  mpiw $np -w "python3 $TMP/missing.py" n.txt > out 2> err
  check "-np $np: exits at once: exit 255" test $? -eq 255
  check "-np $np: exits at once: one line naming it" \
    test "$(grep -c '^mapreduce: --worker "python3 .*missing.py"' err)" -eq 1
  check "-np $np: exits at once: no output" test ! -s out
done
chmod -x w.sh
mpiw 0 -w "$TMP/w.sh" n.txt > out 2> err
check "not executable: exit 255" test $? -eq 255
check "not executable: named" grep -q 'w.sh' err
chmod +x w.sh
none_left "cannot start"

echo "it_worker: SIGTERM and --resume, --joblog (${SECONDS}s)"
cat > slow_worker.sh <<'EOF'
#!/bin/sh
while read -r x; do sleep 0.01; echo $((x * x)); done
EOF
chmod +x slow_worker.sh
seq 1 400 > s.txt
head -400 exec.out > s.want
for np in 0 3; do
  rm -f res.txt res.txt.* log.txt
  if [ $np = 0 ]; then timeout -s KILL 60 "$MR" -w "$TMP/slow_worker.sh" -o res.txt --joblog log.txt s.txt 2> err &
  else ASAN_OPTIONS=detect_leaks=0 timeout -s KILL 60 mpirun -np $np "$MR" -w "$TMP/slow_worker.sh" -o res.txt --joblog log.txt s.txt 2> err & fi
  a=$!
  until [ -s res.txt.partial ] || ! kill -0 $a 2> /dev/null; do sleep 0.05; done
  sleep 0.3
  job=$(pgrep -P $a)
  [ -n "$job" ] && kill -TERM $job
  wait $a
  rc=$?
  check "-np $np SIGTERM: stopped ($rc)" test $rc -ne 0 -a $rc -ne 137
  check "-np $np SIGTERM: says so" grep -q 'stopped' err
  check "-np $np SIGTERM: a journal to resume" test -s res.txt.journal
  none_left "-np $np SIGTERM"
  mpiw $np -w "$TMP/slow_worker.sh" -o res.txt --joblog log.txt --resume s.txt 2> err
  check "-np $np --resume: exit 0" test $? -eq 0
  same res.txt s.want "-np $np SIGTERM + --resume: byte-identical"
  check "-np $np joblog: a line per item" test "$(tail -n +2 log.txt | wc -l)" -eq 400
  check "-np $np joblog: the command and the item" grep -q "slow_worker.sh <<< 7$" log.txt
done
none_left "resume"

echo "it_worker: the Python helper (${SECONDS}s)"
cat > py_worker.py <<'EOF'
import math
from mapreduce_worker import serve
def f(n):
    if n == 13:
        raise ValueError("unlucky %d" % n)
    if n == 14:
        return "two\nlines"
    return n * n, math.isqrt(n)
serve(f, int)
EOF
seq 1 1000 > p.txt
awk '{printf "%s\t%d\t%d\n", $1, $1*$1, int(sqrt($1) + 1e-9)}' p.txt | awk '$1 != 13' |
  sed 's/^14\t.*/14\ttwo\\nlines/' > want
for np in 0 3; do
  mpiw $np -w "python3 $TMP/py_worker.py" p.txt > out 2> err
  check "python -np $np: one failure: exit 1" test $? -eq 1
  same out want "python -np $np: results in order, tuples as tabs, newlines escaped"
  check "python -np $np: the exception's message" grep -q "^p.txt:13: error: ValueError: unlucky 13$" err
done
printf '5\nnot a number\n' | mpiw 0 -w "python3 $TMP/py_worker.py" > out 2> err
check "python: a bad item fails alone" grep -q "<stdin>:2: error: ValueError: invalid literal" err
printf '5\t25\t2\n' > want
same out want "python: the good item"
python3 py_worker.py 5 13 > out 2> err
check "python with arguments (as --exec runs it): exit 1" test $? -eq 1
printf '25\t2\n' > want
same out want "python with arguments: the result"
# a pipe that pauses: a result is written without waiting for more input
# (the pause lasts until the test has looked, not 10 s: a loaded machine
# may take that long to start python)
rm -f more
{ echo 4; wait_until 90 test -e more; echo 5; } | timeout 120 "$MR" -w "python3 $TMP/py_worker.py" > out 2> err &
a=$!
wait_until 90 grep -q '^4	16	2$' out
check "python: results written while the input pauses" grep -q '^4	16	2$' out
check "python: ... before the next item came" test "$(wc -l < out)" -eq 1
touch more
wait $a
check "python: the item after the pause too" test "$(wc -l < out)" -eq 2
none_left "python"

# the helper answers a block of lines at a time (inside map, one write per
# block): the same lines as answering item by item (_answer), whatever fn
# returns or raises (StopIteration too, which would end map's loop early),
# consecutive failures, CRLF, bytes that are not UTF-8, and over 64 KiB of
# input (several reads)
cat > py_kinds.py <<'EOF'
from mapreduce_worker import serve
class Odd:
    def __str__(self):
        return "odd\r\nthing"
def parse(s):
    if s.startswith("p"):
        raise KeyError(s)
    return s
def f(s):
    if s.startswith("x"):
        raise ValueError("no %s" % s)
    if s.startswith("s"):
        raise StopIteration
    k = int(s[1:]) % 11 if s[1:].isdigit() else 0
    return [s, 1.5, True, None, "a\tb", "c\rd", "e\nf", (s, None), Odd(), k, -k][k]
if __name__ == "__main__":
    serve(f, parse)
EOF
python3 - > kinds.txt <<'EOF'
import sys
out = sys.stdout.buffer
for i in range(30000):
    out.write(b"i%d\n" % i)
    if i % 97 == 0:
        out.write(b"x%d\np%d\nx%d\ns%d\ni%d\n" % (i, i, i + 1, i, i))
    if i % 1000 == 0:
        out.write(b"i%d\r\n\xff\xfei%d\n\n" % (i, i))
EOF
python3 - > kinds.want <<'EOF'
import py_kinds, mapreduce_worker as mw, sys
for line in open("kinds.txt", "rb").read().split(b"\n")[:-1]:
    item = line.decode("utf-8", "surrogateescape")
    item = item[:-1] if item.endswith("\r") else item
    sys.stdout.buffer.write((mw._answer(py_kinds.f, py_kinds.parse, item) + "\n")
                            .encode("utf-8", "surrogateescape"))
EOF
python3 py_kinds.py < kinds.txt > out
same out kinds.want "python: a block at a time answers as item by item (results of every kind, failures, CRLF)"
check "python: ... an answer per item" test "$(wc -l < out)" -eq "$(wc -l < kinds.txt)"
check "python: ... failures among them" test "$(grep -c $'^\025ValueError: no x' out)" -eq 620

finish
