#!/bin/bash
# it_reduce.sh: -r OP (one line) and keyed mode (KEY<TAB>VALUE per key,
# sorted), against references computed apart: python (integers, Fraction,
# collections.Counter), awk, sort | uniq -c; at several -np.
. "$(dirname "$0")/lib.sh"
# a plugin whose result is its item: the values to fold, without a
# process per item (the commands' own runs are below, fewer of them)
echo_plugin || exit 2
cd "$TMP" || exit 2
ECHO=$TMP/libecho.so

echo "it_reduce: -r sum, count, min, max, mean against python"
python3 - <<'PY'
import random
random.seed(19)
with open("ints.txt", "w") as f:
    for i in range(300):
        f.write("%d\n" % random.randint(-10**6, 10**6))
    f.write("%d\n" % (2**127 - 1))          # beyond 64 bits: exact
    f.write("-%d\n" % (2**100))
with open("decs.txt", "w") as f:
    for i in range(200):
        f.write("%d.%02d\n" % (random.randint(-500, 500), random.randint(0, 99)))
PY
# the references: python's own integers and Fractions, formatted as -r does
ref() { # OP FILE [square] -> the line
  python3 - "$@" <<'PY'
import sys
from fractions import Fraction
from decimal import Decimal
op, path = sys.argv[1], sys.argv[2]
square = len(sys.argv) > 3
vals = [l.strip() for l in open(path) if l.strip()]
scale = max((len(v.split(".")[1]) if "." in v else 0) for v in vals)
xs = [Fraction(Decimal(v)) for v in vals]
if square: xs = [x * x for x in xs]; scale *= 2
def fmt(x, s):
    q = round(x * 10**s)
    neg = q < 0; d = str(abs(q)).rjust(s + 1, "0")
    t = d if s == 0 else d[:-s] + "." + d[-s:]
    return ("-" if neg and q else "") + t
if op == "sum": print(fmt(sum(xs), scale))
elif op == "min": print(fmt(min(xs), scale) if not square else str(min(xs)))
elif op == "max": print(fmt(max(xs), scale) if not square else str(max(xs)))
elif op == "count": print(len(xs))
elif op == "mean":
    m = sum(xs) / len(xs)
    s = scale + 20
    t = fmt(m, s)
    if "." in t:
        whole, frac = t.split(".")
        frac = frac[:scale] + frac[scale:].rstrip("0")
        t = whole + ("." + frac if frac else "")
    print(t)
PY
}
for op in sum count min max mean; do
  ref $op ints.txt > want.$op.ints
  ref $op decs.txt > want.$op.decs
done
ref sum ints.txt square > want.sumsq
for np in 0 1 3 8; do
  ops="sum count min max mean"
  [ $np = 1 ] || [ $np = 8 ] && ops=sum # mpirun's start-up is most of the time
  for op in $ops; do
    mpi $np -r $op -j $ECHO ints.txt > out 2> err
    check "-r $op ints -np $np: exit 0" test $? -eq 0
    same out want.$op.ints "-r $op of integers (big ones too) -np $np"
    mpi $np -r $op -j $ECHO decs.txt > out 2> err
    same out want.$op.decs "-r $op of decimals -np $np"
  done
  mpi $np -r sum -j square -c 7 ints.txt > out 2> err
  same out want.sumsq "-r sum -j square -np $np (exact)"
done
for np in 0 3; do
  mpi $np -r sum -e 'echo {}' decs.txt > out 2> err
  same out want.sum.decs "-r sum of a command's output -np $np"
done

echo "it_reduce: booleans: the number of primes, failed items counted"
seq 1 10000 > n.txt
python3 -c "
import sys
n = 10000; s = bytearray([1]) * (n + 1); s[0] = s[1] = 0
for i in range(2, 101):
    if s[i]: s[i*i::i] = bytearray(len(s[i*i::i]))
print(sum(s))" > want.primes
for np in 0 3 8; do
  mpi $np -r count n.txt > out 2> err
  same out want.primes "-r count of prime = the primes -np $np"
  mpi $np -r sum n.txt > out 2> err
  same out want.primes "-r sum of prime's true/false -np $np"
done
printf '2\n3\nx\n4\n12abc\n5\n' > bad.txt
for np in 0 3; do
  mpi $np -r sum -j square bad.txt > out 2> err
  check "bad items -np $np: exit 2" test $? -eq 2
  echo 54 > want
  same out want "bad items excluded from the sum -np $np"
  check "bad items named -np $np" grep -q '^bad.txt:3: error' err
  check "bad items named -np $np (2)" grep -q '^bad.txt:5: error' err
done
printf '1\nabc\n2\n' > notnum.txt
mpi 3 -r sum -e 'echo {}' notnum.txt > out 2> err
check "non-number result: exit 1" test $? -eq 1
check "non-number result: named" grep -q "^notnum.txt:2: error: sum needs a number, not 'abc'" err
echo 3 > want
same out want "non-number result excluded"
mpi 0 -r sum -j square /dev/null > out
echo 0 > want
same out want "sum of nothing is 0"
mpi 0 -r max -j square /dev/null > out
echo > want
same out want "max of nothing: an empty line"
mpi 2 -r sum --stats=line -j square n.txt > out 2> err
check "--stats=line still works" grep -q 'stats: items=10000 ok=10000 failed=0' err
check "one output line with --stats" test "$(wc -l < out)" -eq 1
mpi 0 -r sum -j calc -a 0 n.txt > out
python3 -c "
print('\t'.join([str(sum(i/2 for i in range(1,10001))) , '', str(sum(i*i for i in range(1,10001)))]))" > /dev/null
check "-r sum of calc: three columns" test "$(awk -F'\t' '{print NF}' out)" -eq 3
check "-r sum of calc: column 3 exact" test "$(cut -f3 out)" = "$(python3 -c 'print(sum(i*i for i in range(1,10001)))')"

echo "it_reduce: -o FILE, and what is refused"
mpi 3 -r sum -j square -o res.txt n.txt
check "-o FILE gets the line" test "$(cat res.txt)" = "$(python3 -c 'print(sum(i*i for i in range(1,10001)))')"
check "no journal or partial beside it" test -z "$(ls | grep -E 'res.txt.(journal|partial)')"
mpi 0 -r sum -o res.txt --resume n.txt 2> err
check "--resume with -r: exit 255" test $? -eq 255
check "--resume with -r: says why" grep -q 'resume does not apply to -r' err
mpi 0 -j wordcount -o res.txt --resume n.txt 2> err
check "--resume keyed: refused" grep -q 'resume does not apply to a keyed run' err
mpi 0 -r median n.txt 2> err
check "unknown op: exit 255" test $? -eq 255
check "unknown op: named" grep -q "not 'median'" err

echo "it_reduce: wordcount against sort | uniq -c and Counter"
python3 - <<'PY'
import random
random.seed(7)
words = ["w%d" % i for i in range(5000)] + ["naïve", "日本語", "café", "x-y", "a.b"]
weights = [1.0 / (i + 1) for i in range(len(words))]
with open("text.txt", "w", encoding="utf-8") as f:
    for i in range(4000):
        n = random.randint(0, 30)
        seps = [" ", "  ", "\t", " \t "]
        f.write(random.choice(["", " "]) + "".join(w + random.choice(seps) for w in random.choices(words, weights, k=n)).rstrip() + "\n")
PY
# the input's own trimming and # comments aside, the text's words:
grep -v '^[[:space:]]*#' text.txt | LC_ALL=C tr -s ' \t\r' '\n\n\n' | grep -v '^$' | LC_ALL=C sort | uniq -c |
  awk '{print $2 "\t" $1}' > want.wc
python3 - <<'PY' > want.counter
import collections, re
c = collections.Counter()
for line in open("text.txt", "rb"):
    s = line.strip(b" \t\r\n")
    if not s or s.startswith(b"#"): continue
    c.update(w for w in re.split(rb"[ \t\r\n]+", s) if w)
import sys
for k in sorted(c): sys.stdout.buffer.write(k + b"\t" + str(c[k]).encode() + b"\n")
PY
same want.wc want.counter "the two references agree"
for np in 0 1 2 3 8; do
  mpi $np -j wordcount text.txt > out 2> err
  check "wordcount -np $np: exit 0" test $? -eq 0
  same out want.counter "wordcount -np $np = Counter, sorted by key"
done
mpi 3 -j wordcount -c 1 -t 2 text.txt > out
same out want.counter "wordcount -c 1 -t 2"
mpi 3 -j wordcount --isolate text.txt > out
same out want.counter "wordcount through its pairs (--isolate)"

echo "it_reduce: keyed commands: keys with spaces, UTF-8, empty values, ops"
python3 - <<'PY'
import random
random.seed(3)
keys = ["k %d" % i for i in range(300)] + ["ключ", "key with  two spaces", "", "ü"]
with open("pairs.txt", "w", encoding="utf-8") as f:
    for i in range(600):
        f.write("%s\t%d\n" % (random.choice(keys), random.randint(-99, 99)))
PY
# each item prints its pair; awk is the reference
for op in sum count min max; do
  awk -F'\t' -v op=$op '{k=$1; v=$2+0; n[k]++; if(!(k in s)){s[k]=0; mi[k]=v; ma[k]=v}
     s[k]+=v; if(v<mi[k])mi[k]=v; if(v>ma[k])ma[k]=v}
     END{for(k in n){r= op=="sum"?s[k]: op=="count"?n[k]: op=="min"?mi[k]:ma[k]; print k "\t" r}}' pairs.txt |
    LC_ALL=C sort -t "$(printf '\t')" -k1,1 > want.$op
done
python3 - <<'PY'
import collections
first = {}; cat = collections.defaultdict(list)
for line in open("pairs.txt", "rb"):
    line = line.rstrip(b"\n")
    s = line.strip(b" \t\r")
    k, v = line.split(b"\t")
    # the item is trimmed: a pair with an empty key is "\tV" trimmed to "V"
    if k == b"": k, v = v, b""
    first.setdefault(k, v); cat[k].append(v)
with open("want.first", "wb") as f:
    for k in sorted(first): f.write(k + b"\t" + first[k] + b"\n")
with open("want.concat", "wb") as f:
    for k in sorted(cat): f.write(k + b"\t" + b",".join(cat[k]) + b"\n")
PY
for np in 0 3; do
  for op in first concat; do
    mpi $np --keyed -r $op -j $ECHO pairs.txt > out 2> err
    check "keyed $op -np $np: exit 0" test $? -eq 0
    same out want.$op "keyed -r $op -np $np (input order, empty values)"
  done
done
# numeric ops: the pairs of an empty key are trimmed into a key alone,
# with an empty value, which is not a number: leave them out
grep -v $'^\t' pairs.txt > pairs2.txt
for op in sum count min max; do
  awk -F'\t' '$1!=""' want.$op > want2.$op
done
for np in 0 2 3 8; do
  ops="sum count min max"
  [ $np = 2 ] || [ $np = 8 ] && ops=sum
  for op in $ops; do
    mpi $np --keyed -r $op -j $ECHO pairs2.txt > out 2> err
    same out want2.$op "keyed -r $op -np $np against awk"
  done
done
mpi 3 --keyed -j $ECHO pairs2.txt > out
same out want2.sum "keyed: sum by default"
mpi 3 --keyed -e 'printf "%s\n" {}' pairs2.txt > out
same out want2.sum "keyed: a command's pairs"
printf 'a\t1\nb\tx\nc\t2\n' > badpair.txt
mpi 3 --keyed -e 'printf "%s\n" {}' badpair.txt > out 2> err
check "a bad value fails its item" test $? -eq 1
printf 'a\t1\nc\t2\n' > want
same out want "the bad item's pairs are left out"
check "the bad pair named" grep -q "^badpair.txt:2: error: sum needs a number, not 'x'" err
# many pairs per item, mean exact
seq 1 30 > fifty.txt
mpi 3 --keyed -r mean -e "awk -v n={} 'BEGIN { for (i = 1; i <= n; i++) printf \"k%d\\t%d\\n\", i, n }'" fifty.txt > out
python3 -c "
from fractions import Fraction
import collections
c = collections.defaultdict(list)
for n in range(1, 31):
    for i in range(1, n + 1): c['k%d' % i].append(n)
for k in sorted(c):
    m = Fraction(sum(c[k]), len(c[k]))
    print(k + '\t' + (str(m.numerator) if m.denominator == 1 else '%d.5' % int(m)))" > want
same out want "keyed mean, many pairs per item"

echo "it_reduce: histogram, one huge key, a million distinct keys"
seq -50 0.25 50 > h.txt
awk '{b = int(($1 + 1000) / 10) * 10 - 1000; c[b]++} END {for (b in c) print b "\t" c[b]}' h.txt |
  LC_ALL=C sort -t "$(printf '\t')" -k1,1 > want
for np in 0 3; do
  mpi $np -j histogram -a 10 h.txt > out
  same out want "histogram width 10 -np $np"
done
mpi 0 -j histogram -a -1 h.txt 2> err
check "histogram: a bad width is a usage error" test $? -eq 255
python3 -c "print('K' * 900000 + ' a b K')" > huge.txt
python3 -c "print('K' * 900000 + ' a b K')" >> huge.txt
mpi 3 -j wordcount huge.txt > out
printf 'K\t2\n%s\t2\na\t2\nb\t2\n' "$(python3 -c "print('K' * 900000)")" > want
same out want "a key of 900,000 bytes"
python3 -c "
for i in range(100000): print(' '.join('u%07d' % (i * 10 + j) for j in range(10)))" > million.txt
python3 -c "
import sys
sys.stdout.writelines('u%07d\t1\n' % i for i in range(1000000))" > want.million
mpi 3 -j wordcount million.txt > out
same out want.million "a million distinct keys -np 3"

echo "it_reduce: spills forced by a small --memory give the same output"
mkdir spill
for np in 0 3; do
  mpi $np -j wordcount --memory 4M --tmpdir spill --stats million.txt > out 2> err
  same out want.million "a million keys spilled -np $np"
  check "it spilled -np $np" grep -q 'spilled [0-9]* sorted runs to spill' err
done
for op in concat first sum; do
  f=pairs.txt; [ $op = sum ] && f=pairs2.txt
  mpi 0 --keyed -r $op -j $ECHO $f > want
  mpi 3 --keyed -r $op -j $ECHO --memory 64K --tmpdir spill -c 5 $f > out
  same out want "keyed $op spilled at 64K -np 3"
done
check "no spill file left behind" test -z "$(ls spill)"
mpi 0 -j wordcount --tmpdir "$TMP/nowhere" million.txt 2> err > /dev/null
check "--tmpdir that cannot be written: exit 255" test $? -eq 255
check "--tmpdir: says where" grep -q "cannot write spill files in '$TMP/nowhere'" err
mpi 0 -j wordcount --memory 12 million.txt 2> err > /dev/null
check "--memory too small: usage error" grep -q 'memory wants a size' err

echo "it_reduce: --colsep: fields for commands and jobs"
printf 'a.txt,b c,3\nx,,y\nonly\n' > c.csv
printf 'a.txt,b c,3\tb c-a.txt-3-a\nx,,y\t-x-y-x\nonly\t-only-only-only\n' > want
for np in 0 3; do
  mpi $np --colsep , -e 'echo {2}-{1}-{-1}-{1.}' c.csv > out
  same out want "--colsep fields, direct -np $np"
done
mpi 0 --colsep ' *, *' -e 'printf "[%s]" {2} "$(echo {3})"' c.csv > out
printf 'a.txt,b c,3\t[b c][3]\nx,,y\t[][y]\nonly\t[][]\n' > want
same out want "--colsep fields under a shell, never parsed by it"
printf '3 4\n5   6\n' > prod.txt
mpi 3 --colsep ' +' -r sum -e 'expr {1} \* {2}' prod.txt > out
echo 42 > want
same out want "--colsep with -r: the sum of products"
mpi 0 --colsep , -j wordcount c.csv > out
printf '3\t1\na.txt\t1\nb\t1\nc\t1\nonly\t1\nx\t1\ny\t1\n' > want
same out want "--colsep: a job gets the fields joined by tabs"
mpi 0 --colsep '(' -e 'echo {1}' c.csv 2> err
check "--colsep: a bad regex is a usage error" test $? -eq 255
check "--colsep: the bad regex named" grep -q "colsep: '(' is not a regular expression" err
mpi 0 -e 'echo {2}' c.csv 2> err
check "{2} without --colsep: refused" grep -q 'colsep makes' err

echo "it_reduce: a signal leaves nothing under -o FILE's name"
seq 1 2000 > slow.txt
"$MR" -r sum -e 'sh -c "sleep 0.02; echo {}"' -o sig.txt slow.txt 2> err &
pid=$!
# once its handler is in place, not after "1 s": a loaded machine may not
# have started it, and a SIGTERM before would end it without a word
wait_until 60 catches $pid TERM
sleep 0.5 # and some items are summed
kill -TERM $pid
wait $pid
check "stopped: exit 143" test $? -eq 143
check "nothing under the output's name" test ! -e sig.txt
check "no temporary left beside it" test -z "$(ls | grep '^sig.txt')"
check "the stop is reported" grep -q 'stopped by signal 15' err

finish
