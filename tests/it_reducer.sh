#!/bin/bash
# it_reducer.sh: -R/--reducer CMD, a Hadoop streaming reducer per rank,
# against references computed apart (the built-in -r sum, sort | uniq -c,
# python), at several -np; spills, failures, a reducer that never reads or
# that writes far more than it reads, and a signal while it runs.
. "$(dirname "$0")/lib.sh"
# a plugin whose result is its item: KEY<TAB>VALUE lines as given
echo_plugin || exit 2
REPO=$PWD
cd "$TMP" || exit 2
ECHO=$TMP/libecho.so
TAB=$(printf '\t')

python3 - <<'PY'
import random
random.seed(23)
words = ["the", "a", "of", "naïve", "東京", "x"] + ["w%d" % i for i in range(400)]
with open("text.txt", "w") as f:
    for i in range(3000):
        f.write(" ".join(random.choice(words) for _ in range(random.randint(0, 9))) + "\n")
# pairs: keys with spaces and UTF-8, empty values, numbers
with open("pairs.txt", "w") as f:
    keys = ["new york", "são paulo", "k", "k k", "z", "東京"]
    for i in range(2000):
        k = random.choice(keys)
        v = random.choice(["", str(random.randint(-50, 50)), "v %d" % i])
        f.write("%s\t%s\n" % (k, v))
PY
# a streaming reducer (its input is sorted: a key's values are together)
SUM='awk -F"\t" '\''$1 != k { if (NR > 1) print k "\t" s; k = $1; s = 0 } { s += $2 } END { if (NR) print k "\t" s }'\'
# one that does not care about order, and prints in its hash's order
HASH='awk -F"\t" '\''{ s[$1] += $2 } END { for (k in s) print k "\t" s[k] }'\'
LC_ALL=C tr -s ' \t' '\n\n' < text.txt | grep -v '^$' | LC_ALL=C sort | uniq -c |
  awk '{ print $2 "\t" $1 }' > want.wc

echo "it_reducer: word count by a reducer = -r sum = sort | uniq -c"
for np in 0 1 2 3; do
  mpi $np -j wordcount text.txt > sum.out 2> err
  same sum.out want.wc "-j wordcount -np $np = sort | uniq -c"
  mpi $np -j wordcount -R "$SUM" text.txt > out 2> err
  check "streaming awk reducer -np $np: exit 0" test $? -eq 0
  same out want.wc "streaming awk reducer -np $np"
  mpi $np -j wordcount --reducer "$HASH" text.txt > out 2> err
  same out want.wc "unordered awk reducer, output sorted by key -np $np"
done
# the README's example (examples/reducer.py), as Hadoop streaming users write it
for np in 0 3; do
  mpi $np -j wordcount -R "python3 $REPO/examples/reducer.py" text.txt > out 2> err
  same out want.wc "python itertools.groupby reducer -np $np"
done

echo "it_reducer: every value, in input order, keys with spaces, UTF-8, empty values"
# cat as the reducer: the pairs sorted by key (bytes), each key's values in
# input order (a stable sort), whatever -np
LC_ALL=C sort -s -t "$TAB" -k1,1 pairs.txt > want.cat
for np in 0 2 3; do
  mpi $np --keyed -j $ECHO -R cat -c 7 pairs.txt > out 2> err
  same out want.cat "identity reducer: sorted, values in input order -np $np"
done
# what each key's reducer input is, counted by the reducer itself
python3 - pairs.txt > want.n <<'PY'
import sys, collections
c = collections.Counter(l.rstrip("\n").split("\t", 1)[0] for l in open(sys.argv[1], "rb").read().decode().splitlines(True))
for k in sorted(c, key=lambda s: s.encode()): print("%s\t%d" % (k, c[k]))
PY
for np in 0 3; do
  mpi $np --keyed -j $ECHO -R 'awk -F"\t" "{ n[\$1]++ } END { for (k in n) print k \"\t\" n[k] }"' pairs.txt > out
  same out want.n "values counted per key by the reducer -np $np"
done

echo "it_reducer: a spill forced by a small --memory gives the same output"
mkdir spill
# 30,000 lines: about 5 MB of kept values, over 4M's halves (a smaller
# --memory spills at every item: the map's first 1 MiB block is counted whole)
python3 - <<'PY'
import random
random.seed(29)
words = ["the", "naïve", "東京"] + ["w%d" % i for i in range(4000)]
with open("big.txt", "w") as f:
    for i in range(30000):
        f.write(" ".join(random.choice(words) for _ in range(random.randint(0, 9))) + "\n")
PY
LC_ALL=C tr -s ' \t' '\n\n' < big.txt | grep -v '^$' | LC_ALL=C sort | uniq -c |
  awk '{ print $2 "\t" $1 }' > want.bigwc
awk '{ for (i = 0; i < 200; i++) print }' want.cat | LC_ALL=C sort -s -t "$TAB" -k1,1 > want.big
for np in 0 3; do
  mpi $np -j wordcount -R "$HASH" --memory 4M --tmpdir spill --stats big.txt > out 2> err
  same out want.bigwc "spilled at 4M -np $np"
  check "it spilled -np $np" grep -q 'spilled [0-9]* sorted runs to spill' err
  # output far larger than the memory: the reducer's own output spills
  mpi $np --keyed -j $ECHO -R 'awk "{ for (i = 0; i < 200; i++) print }"' --memory 4M \
    --tmpdir spill --stats pairs.txt > out 2> err
  same out want.big "reducer output 200x its input, spilled -np $np"
  check "its output spilled -np $np" grep -q 'spilled [0-9]* sorted runs to spill' err
done
check "no spill file left behind" test -z "$(ls spill)"

echo "it_reducer: a reducer that never reads, or writes before it reads"
mpi 0 -j wordcount -R 'echo only' text.txt > out 2> err
check "never reads its input: exit 0" test $? -eq 0
printf 'only\n' > want
same out want "never reads its input: its output"
# 2 MB before it reads a byte: a pipe holds 64 KiB, so both must flow at once
for np in 0 2; do
  mpi $np -j wordcount -R 'seq 1 300000 | sed "s/^/~~\t/"; cat > /dev/null' text.txt > out 2> err
  check "writes 2 MB before reading -np $np: exit 0" test $? -eq 0
  check "writes 2 MB before reading -np $np: every line" test "$(grep -c '^~~' out)" -eq $((np ? 300000 * np : 300000))
done
# a rank that owns no key runs no reducer: one key, 3 ranks, one line
printf 'only\t1\nonly\t2\n' > one.txt
mpi 3 --keyed -j $ECHO -R 'echo ran' one.txt > out 2> err
printf 'ran\n' > want
same out want "a rank without keys runs no reducer"

echo "it_reducer: a failing reducer ends the run, and leaves nothing"
for np in 0 3; do
  mpi $np -j wordcount -R 'cat > /dev/null; exit 3' -o fail.txt text.txt > out 2> err
  check "exit 3 -np $np: exit 255" test $? -eq 255
  check "exit 3 -np $np: one line naming it" \
    test "$(grep -c "reducer 'cat > /dev/null; exit 3' exited with status 3" err)" -eq 1
  check "exit 3 -np $np: nothing under -o's name" test -z "$(ls | grep '^fail.txt')"
done
mpi 2 -j wordcount -R 'kill -9 $$' text.txt > out 2> err
check "killed: exit 255" test $? -eq 255
check "killed: says the signal" grep -q "reducer 'kill -9 \$\$' was killed by signal 9" err
check "killed: nothing on stdout" test ! -s out
mpi 0 -j wordcount -R 'no-such-reducer-cmd' text.txt > out 2> err
check "not found: exit 255" test $? -eq 255
check "not found: says so" grep -q "no-such-reducer-cmd' exited with status 127" err

echo "it_reducer: options"
for bad in "-r sum" "--resume -o x" "--worker cat"; do
  # shellcheck disable=SC2086
  mpi 0 -j wordcount -R cat $bad text.txt > out 2> err
  check "-R with $bad: usage error" test $? -eq 255
done
mpi 0 -j wordcount -R cat -r sum text.txt 2> err > /dev/null
check "-R with -r: says why" grep -q -- '--reducer and -r sum exclude each other' err
mpi 0 -j wordcount -R ' ' text.txt 2> err > /dev/null
check "-R without a command: refused" grep -q -- '--reducer needs a command' err

echo "it_reducer: a signal while the reducer runs stops it"
for np in 0 2; do
  rm -f started.*
  if [ $np = 0 ]; then
    "$MR" -j wordcount -R 'touch started.$$; exec sleep 60' -o sig.txt text.txt 2> err &
  else
    ASAN_OPTIONS=detect_leaks=0 timeout 120 mpirun -np 2 "$MR" -j wordcount \
      -R 'touch started.$$; exec sleep 60' -o sig.txt text.txt 2> err &
  fi
  pid=$!
  for _ in $(seq 200); do [ "$(ls started.* 2> /dev/null | wc -l)" -ge $((np ? np : 1)) ] && break; sleep 0.05; done
  if [ $np = 0 ]; then kill -TERM $pid
  else
    # the ranks themselves, as srun or scancel signals them (mpirun's own
    # way of ending a job is it_signals' subject): each reducer's parent
    for f in started.*; do kill -TERM "$(ps -o ppid= -p "${f#started.}")"; done
  fi
  wait $pid
  st=$?
  if [ $np = 0 ]; then check "stopped -np 0: exit 143" test $st -eq 143
  else check "stopped -np $np: not 0, not killed" test $st -ne 0 -a $st -ne 137; fi
  check "stopped -np $np: nothing under -o's name" test -z "$(ls | grep '^sig.txt')"
  sleep 0.3
  left=0
  for f in started.*; do [ -e "$f" ] && kill -0 "${f#started.}" 2> /dev/null && left=1; done
  check "stopped -np $np: the reducer is gone" test $left -eq 0
done

finish
