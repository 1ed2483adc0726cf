#!/bin/bash
# it_messages.sh: what users are told and what they get, as a user tries it
# (issue 15): item text quoted in every shell context, what a command with
# no replacement string gets appended, calc printing parameter / 2 as
# Python does, messages that name the real cause, --halt now stopping at
# the failing item.
. "$(dirname "$0")/lib.sh"
cd "$TMP" || exit 2
touch a1 b2 # what a glob of the item '*' would find

echo "it_messages: --exec quotes the item wherever the template puts it"
printf '*\n' > star.txt
for np in 0 3; do
  mpi $np -e 'echo "`echo {}`"' star.txt > out 2> err
  check "-np $np: {} in backticks in double quotes is not globbed" test "$(cat out)" = "*	*"
  mpi $np -e 'echo "$(echo {})" "${x:-{}}"' star.txt > out 2> err
  check "-np $np: {} in \$( ) and \${ } is not globbed" test "$(cat out)" = "*	* *"
done
printf 'cat <<EOF\n[{}]\nEOF\n' > doc.tpl
"$MR" -e "$(cat doc.tpl)" star.txt > out 2> err
check "a here-document body gets the item unquoted" test "$(cat out)" = "*	[*]"
"$MR" -e "cat <<'EOF'
{}
EOF" star.txt > out 2> err
check "a quoted here-document is refused (exit 255)" test $? -eq 255
check "... saying why" grep -q "^mapreduce: --exec: cannot quote a replacement string in a here-document with a quoted delimiter" err
check "... before anything runs" test ! -s out

echo "it_messages: --exec without a replacement string, and {1}"
printf 'es1.fastq.gz\n' > f.txt
for np in 0 3; do
  mpi $np -e "echo 'size of'" f.txt > out 2> err
  check "-np $np: ' {}' appended as GNU parallel does" test "$(cat out)" = "es1.fastq.gz	size of es1.fastq.gz"
done
printf 'a b\n' > ab.txt
mpi 0 -e 'echo {1}' ab.txt > out 2> err
check "{1} is the item" test "$(cat out)" = "a b	a b"
mpi 0 -e 'echo {2}' ab.txt > out 2> err
check "{2} is refused (exit 255)" test $? -eq 255
check "... naming the one input source" grep -q '^mapreduce: --exec: {2} names input source 2' err

echo "it_messages: calc prints parameter / 2 as Python 3 does"
python3 - <<'PY'
import random
random.seed(15)
vals = [0, -1, 7, 2**53 + 1, 2**53 + 3, 10**16, 10**17, 10**22, 10**308,
        10**400, -10**400, 2**1025 - 2**971, 2**1025 - 2**971 - 1]
vals += [random.getrandbits(b) * random.choice([1, -1]) for b in range(1, 1100, 3)]
with open("calc.txt", "w") as f, open("calc.want", "w") as w, open("calc.err", "w") as e:
    for i, v in enumerate(vals, 1):
        f.write(f"{v}\n")
        try:
            w.write(f"{v}\t{v / 2}\n")
        except OverflowError as x:
            e.write(f"calc.txt:{i}: error: {x}\n")
PY
for np in 0 3; do
  mpi $np -j calc -a 0 calc.txt 2> err | cut -f1,2 > out
  check "-np $np: calc fails the items Python cannot divide" test "${PIPESTATUS[0]}" -eq "$(wc -l < calc.err)"
  same out calc.want "-np $np: calc's parameter / 2 is Python's, digit for digit"
  same err calc.err "-np $np: Python's OverflowError message, per item"
done

echo "it_messages: --halt now stops at the failing item"
seq 1 40 > h.txt
# fails items 5 and 9; leaves a mark for every item it computed
tpl='touch m.{}; test {} != 5 && test {} != 9'
computed_after() { ls | sed -n 's/^m\.//p' | awk -v n="$1" '$1 > n' | wc -l; }
for c in "" "-c 1" "-c 7"; do
  rm -f m.*
  mpi 0 $c --halt now,fail=1 -e "$tpl" h.txt > out 2> err
  check "-np 0 $c: fail=1 exits 1" test $? -eq 1
  check "-np 0 $c: fail=1 writes the items before the failure only" test "$(cut -f1 out | tr '\n' ' ')" = "1 2 3 4 "
  check "-np 0 $c: fail=1 computes nothing after item 5" test "$(computed_after 5)" -eq 0
  check "-np 0 $c: 'after 1 failed item'" grep -qx 'mapreduce: halted (--halt now,fail=1) after 1 failed item' err
  rm -f m.*
  mpi 0 $c --halt now,fail=2 -e "$tpl" h.txt > out 2> err
  check "-np 0 $c: fail=2 writes up to the second failure" test "$(cut -f1 out | tr '\n' ' ')" = "1 2 3 4 6 7 8 "
  check "-np 0 $c: fail=2 computes nothing after item 9" test "$(computed_after 9)" -eq 0
  check "-np 0 $c: 'after 2 failed items'" grep -qx 'mapreduce: halted (--halt now,fail=2) after 2 failed items' err
done
# on several ranks the failures count as they come back: the halting one
# may be item 9 while item 5 never started (not written; --resume runs it)
last_failure() { sed -n 's/^h.txt:\([0-9]*\): error.*/\1/p' err | tail -1; }
for c in "" "-c 1" "-c 3"; do
  for n in 1 2; do
    mpi 3 $c --halt now,fail=$n -e "$tpl" h.txt > out 2> err
    check "-np 3 $c: fail=$n exits $n" test $? -eq $n
    check "-np 3 $c: fail=$n reports $n failures" test "$(grep -c '^h.txt:[59]: error' err)" -eq $n
    check "-np 3 $c: fail=$n writes nothing after the halting failure" \
      test "$(cut -f1 out | awk -v f="$(last_failure)" '$1 > f' | wc -l)" -eq 0
  done
done
rm -f o.txt*
seq 1 40 | grep -vx -e 5 -e 9 | sed 's/.*/&\t&/' > h.want
mpi 3 -c 2 --halt now,fail=2 -e 'test {} != 5 && test {} != 9 && echo {}' -o o.txt h.txt 2> err
mpi 3 --resume -e 'test {} != 5 && test {} != 9 && echo {}' -o o.txt h.txt 2> err
same o.txt h.want "-np 3: --resume after --halt now completes the output"

echo "it_messages: messages name the real cause"
printf '7\n' > seven.txt
for np in 0 3; do
  mpi $np -j prime -a 3 seven.txt > out 2> err
  check "-np $np: -a to a job that takes none: exit 255" test $? -eq 255
  check "-np $np: ... one line saying so" test "$(cat err)" = "mapreduce: -j prime takes no --arg (got '3')"
  mpi $np -j calc -a abc seven.txt > out 2> err
  check "-np $np: -j calc -a abc: exit 255" test $? -eq 255
  check "-np $np: ... saying what -a wants" grep -qx "mapreduce: -j calc: --arg wants seconds per sleep unit, a decimal from 0 to 10000000 (default 0.01), not 'abc'" err
  check "-np $np: ... before anything runs" test ! -s out
done
mpi 0 -e 'echo {}' -a 3 seven.txt > out 2> err
check "--exec with -a: exit 255" test $? -eq 255
check "... saying --arg is for jobs" grep -q "^mapreduce: --arg is for jobs" err
printf '1e8\n-1\nsoon\n0\n' > sl.txt
for np in 0 3; do
  mpi $np -j sleep sl.txt > out 2> err
  check "-np $np: three bad sleeps: exit 3" test $? -eq 3
  check "-np $np: 1e8 is out of range" grep -qx "sl.txt:1: error: seconds out of range (0 to 10000000): '1e8'" err
  check "-np $np: -1 is out of range" grep -qx "sl.txt:2: error: seconds out of range (0 to 10000000): '-1'" err
  check "-np $np: soon is not a number" grep -qx "sl.txt:3: error: not a number of seconds: 'soon'" err
done
python3 -c 'print("x" * 140000); print("y")' > big.txt
for np in 0 3; do
  mpi $np --max-line 200000 -e 'echo {}' big.txt > out 2> err
  check "-np $np: an item over 128 KiB fails alone" test $? -eq 1
  check "-np $np: ... as too long for a command line" grep -q "^big.txt:1: error: item too long for a command line (140000 bytes" err
  check "-np $np: ... and the next item runs" test "$(cat out)" = "y	y"
done
# a full disk under the joblog or the journal names the file
mkdir full
seq 1 3000 > n.txt
if unshare -m true 2> /dev/null; then
  for np in 0 3; do
    unshare -m bash -c "mount -t tmpfs -o size=16k tmpfs full || exit 77
      $(declare -f mpi); MR='$MR'; mpi $np -c 1 --joblog full/log n.txt" > /dev/null 2> err
    rc=$?
    if [ $rc = 77 ]; then echo "  (no tmpfs: full-disk checks skipped)"; break; fi
    check "-np $np: a full joblog disk: exit 255" test $rc -eq 255
    check "-np $np: ... naming the joblog" grep -qx "mapreduce: cannot write 'full/log': No space left on device" err
    unshare -m bash -c "mount -t tmpfs -o size=16k tmpfs full || exit 77
      $(declare -f mpi); MR='$MR'; mpi $np -c 1 -o full/o.txt n.txt" > /dev/null 2> err
    check "-np $np: a full disk under -o: exit 255" test $? -eq 255
    check "-np $np: ... naming the file" grep -Eqx "mapreduce: cannot write 'full/o.txt(.journal)?': No space left on device" err
  done
else
  echo "  (no mount namespace: full-disk checks skipped)"
fi

finish
