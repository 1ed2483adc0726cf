#!/bin/bash
# it_core.sh: the core map against independent references (coreutils
# factor for primality, python3 for exact powers) at -np 0 (no mpirun), 1, 2,
# 4 and 8 (oversubscribed), and identical output across chunk sizes.
. "$(dirname "$0")/lib.sh"

# ---- inputs
python3 - "$TMP" <<'EOF'
import random, sys
d = sys.argv[1]
r = random.Random(20261125)
nums = list(range(-3, 300))
nums += [r.getrandbits(64) for _ in range(3000)]
nums += [r.getrandbits(32) for _ in range(1000)]
nums += [r.getrandbits(r.choice([70, 100, 127])) for _ in range(200)]
# strong pseudoprimes to base 2 and to several bases, Carmichael numbers,
# squares of primes, the largest 64-bit prime and its neighbours
nums += [2047, 3215031751, 2152302898747, 3474749660383, 341550071728321,
         3825123056546413051, 318665857834031151167461, 561, 41041, 825265,
         4294967291 ** 2, 18446744073709551557, 18446744073709551615,
         18446744073709551616, 18446744073709551629, 2 ** 61 - 1, 2 ** 89 - 1,
         2 ** 127 - 1, (2 ** 61 - 1) * (2 ** 67 - 1), 4759123141, 1122004669633]
with open(d + "/primes.txt", "w") as f:
    for n in nums:
        f.write(f"{n}\n")
sq = [r.randrange(-10**6, 10**6) for _ in range(2000)] + [0, 1, -1, 2**32, 2**63,
      -(2**63), 2**64 + 1, 6981463658331, 6981463658332, -6981463658332,
      10**40 + 7, -(10**50)]
with open(d + "/nums.txt", "w") as f:
    for n in sq:
        f.write(f"{n}\n")
with open(d + "/squares.ref", "w") as f:
    for n in sq:
        f.write(f"{n}\t{n*n}\n")
with open(d + "/cubes.ref", "w") as f:
    for n in sq:
        f.write(f"{n}\t{n**3}\n")
EOF

# primality reference from coreutils factor: prime iff its only factor is n
while read -r n; do
  case $n in -*|0|1) echo "$n	false" ;; esac
done < "$TMP/primes.txt" > "$TMP/neg.ref"
grep -v -E '^(-|0$|1$)' "$TMP/primes.txt" | factor |
  awk -F': ' '{ print $1 "\t" (($1 == $2) ? "true" : "false") }' > "$TMP/pos.ref"
# put the reference back in input order
python3 - "$TMP" <<'EOF'
import sys
d = sys.argv[1]
ref = {}
for name in ("neg.ref", "pos.ref"):
    for line in open(f"{d}/{name}"):
        k, v = line.rstrip("\n").split("\t")
        ref[k] = v
with open(f"{d}/primes.ref", "w") as out:
    for line in open(f"{d}/primes.txt"):
        n = line.strip()
        out.write(f"{n}\t{ref[n]}\n")
EOF

echo "it_core: prime, square, cube against factor and python3"
for np in 0 1 2 4 8; do
  mpi $np "$TMP/primes.txt" > "$TMP/out" 2> "$TMP/err"
  check "prime -np $np exit 0" test $? -eq 0
  same "$TMP/out" "$TMP/primes.ref" "prime -np $np matches factor"
  check "prime -np $np says nothing on stderr" test ! -s "$TMP/err"
  mpi $np -j square "$TMP/nums.txt" > "$TMP/out"
  same "$TMP/out" "$TMP/squares.ref" "square -np $np matches python3"
  mpi $np -j cube "$TMP/nums.txt" > "$TMP/out"
  same "$TMP/out" "$TMP/cubes.ref" "cube -np $np matches python3"
done

echo "it_core: output is the same for every chunk size, thread count, rank count"
seq 1 20000 > "$TMP/seq.txt"
mpi 0 -j cube "$TMP/seq.txt" > "$TMP/first"
for args in "-c 1" "-c 7" "-c 1000" "-c 100000" "-t 3" "-t 2 -c 5"; do
  for np in 1 3 8; do
    # shellcheck disable=SC2086
    mpi $np -j cube $args "$TMP/seq.txt" > "$TMP/out"
    same "$TMP/out" "$TMP/first" "cube $args -np $np identical"
  done
done

echo "it_core: the seeds' examples"
mpi 0 jobs/primes.txt > "$TMP/out"
printf '%s\n' "112272535095293	true" "112582705942171	true" \
  "112272535095293	true" "115280095190773	true" "115797848077099	true" \
  "1099726899285419	false" > "$TMP/want"
same "$TMP/out" "$TMP/want" "isPrime on the six NUMBERS"
printf '2\n3\n4\n5\n6\n' > "$TMP/arr.txt"
mpi 2 -j square "$TMP/arr.txt" | cut -f2 | tr '\n' ' ' > "$TMP/out"
echo -n "4 9 16 25 36 " > "$TMP/want"
same "$TMP/out" "$TMP/want" "calc_square on arr"
mpi 2 -j cube "$TMP/arr.txt" | cut -f2 | tr '\n' ' ' > "$TMP/out"
echo -n "8 27 64 125 216 " > "$TMP/want"
same "$TMP/out" "$TMP/want" "calc_cube on arr"
# calc_stuff(j * offset) for j in 0..9, offset 2: (p/2, sleep units, p*p)
seq 0 2 18 > "$TMP/calc.txt"
mpi 4 -j calc -a 0 "$TMP/calc.txt" > "$TMP/out"
awk -F'\t' '{ p = $1; if ($2 != sprintf("%.1f", p / 2) || $4 != p * p ||
  $3 < 0 || $3 > 5) bad = 1 } END { exit bad || NR != 10 }' "$TMP/out"
check "calc gives p/2, a sleep unit 0-5 and p*p for the seed's 10 params" test $? -eq 0
mpi 0 -j calc -a 0 "$TMP/calc.txt" > "$TMP/out2"
same "$TMP/out" "$TMP/out2" "calc is the same on every run and rank count"
printf -- '-3\n-1\n7\n' | mpi 0 -j calc -a 0 | cut -f2 | tr '\n' ' ' > "$TMP/out"
echo -n "-1.5 -0.5 3.5 " > "$TMP/want"
same "$TMP/out" "$TMP/want" "calc halves negative and odd numbers as Python does"

echo "it_core: sleep, more ranks than items, standard input"
for i in $(seq 1 40); do echo 0.05; done > "$TMP/sleep.txt"
mpi 5 -j sleep "$TMP/sleep.txt" > "$TMP/out"
check "40 sleeps at -np 5 all answered" test "$(grep -c '^0.05	0.05$' "$TMP/out")" -eq 40
printf '2\n3\n' > "$TMP/two.txt"
mpi 8 "$TMP/two.txt" > "$TMP/out"
printf '2\ttrue\n3\ttrue\n' > "$TMP/want"
same "$TMP/out" "$TMP/want" "2 items on 8 ranks"
mpi 0 -j square < "$TMP/nums.txt" > "$TMP/out"
same "$TMP/out" "$TMP/squares.ref" "stdin when no INPUT is given"
mpi 3 -j square - < "$TMP/nums.txt" > "$TMP/out"
same "$TMP/out" "$TMP/squares.ref" "stdin as '-' under mpirun"
mpi 2 -j square -u "$TMP/nums.txt" | sort > "$TMP/out"
sort "$TMP/squares.ref" > "$TMP/want"
same "$TMP/out" "$TMP/want" "--unordered writes every result once"

echo "it_core: a chunk that meets a run of slow items hands the rest back"
# 3,000 fast items, 6 of 0.1 s, 3,000 fast: chunks sized on the fast ones
# hold hundreds of items, and the one that meets the slow run overruns
{ seq 3000 | sed 's/.*/0/'; seq 6 | sed 's/.*/0.1/'; seq 3000 | sed 's/.*/0/'; } > "$TMP/burst.txt"
mpi 0 -j sleep "$TMP/burst.txt" > "$TMP/burst.ref"
mpi 3 -j sleep --stats=line --joblog "$TMP/burst.log" "$TMP/burst.txt" > "$TMP/out" 2> "$TMP/err"
same "$TMP/out" "$TMP/burst.ref" "handed-back items: output in order, each once"
check "--stats=line counts handed-back items" grep -Eq 'given_back=[1-9][0-9]* lost=0' "$TMP/err"
check "the joblog has every item once" test "$(tail -n +2 "$TMP/burst.log" | cut -f1 | sort -u | wc -l)" -eq 6006 -a "$(wc -l < "$TMP/burst.log")" -eq 6007
mpi 2 -j sleep -u "$TMP/burst.txt" | sort > "$TMP/out"
sort "$TMP/burst.ref" > "$TMP/want"
same "$TMP/out" "$TMP/want" "handed-back items, --unordered: every result once"

echo "it_core: short chunks: workers hold up to 4 more of them"
# 1,000-digit numbers: 64 KiB chunks of ~65 items and ~0.1 ms, so a worker
# is sent chunks until 2 ms are queued (at most 7 at -t 1, 9 at -t 2; a
# count showed 6 and 7 in flight). A worker with task records for fewer
# (the depth + 2) fails here; the records before 239c7ff (2 x depth + 2)
# were enough but for the timing of completed sends.
python3 - "$TMP" <<'EOF2'
import random, sys
d, r = sys.argv[1], random.Random(7)
nums = [r.getrandbits(3300) for _ in range(3000)]
with open(d + "/big.txt", "w") as f, open(d + "/big.ref", "w") as g:
    for n in nums:
        f.write(f"{n}\n")
        g.write(f"{n}\t{n * n}\n")
EOF2
for args in "2" "3 --master-compute no" "3 -t 2"; do
  # shellcheck disable=SC2086
  mpi $args -j square "$TMP/big.txt" > "$TMP/out"
  check "short chunks, -np $args: exit 0" test $? -eq 0
  same "$TMP/out" "$TMP/big.ref" "short chunks, -np $args: output"
done

echo "it_core: -o writes atomically"
mpi 4 -j square -o "$TMP/res.txt" "$TMP/nums.txt"
check "-o exit 0" test $? -eq 0
same "$TMP/res.txt" "$TMP/squares.ref" "-o file content"
check "-o leaves no temporary" test -z "$(ls "$TMP" | grep 'res.txt.tmp')"
mpi 0 -j square -o /dev/null "$TMP/nums.txt"
check "-o /dev/null is written in place, not replaced" test -c /dev/null

finish
