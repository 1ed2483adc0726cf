#!/bin/sh
# prime_kernel.sh: mr_is_prime_u64 against Math::Prime::Util's is_prime on
# one core, on the same numbers, alternating runs; prints the median rate
# of each and their ratio.  (apt-get install libmath-prime-util-perl)
#   sh bench/prime_kernel.sh        N=1000000 REPS=7 by default
# Workloads: (a) random integers near 2^62, (b) primes near 2^62.  Times
# are CPU seconds of the timed loop only (the machine is shared).  MPU's
# figure includes Perl's per-call cost; "MPU floor" (is_prime(4)) shows it.
set -e
cd "$(dirname "$0")/.."
N=${N:-1000000}
REPS=${REPS:-7}
OUT=build/bench
mkdir -p "$OUT"
make -s build/libmapreduce.a
mpicc -std=c11 -O2 -g -Iinclude -Isrc -Ijobs -o "$OUT/prime_kernel" \
  bench/prime_kernel.c build/libmapreduce.a -lgmp -lm -ldl -pthread
K="$OUT/prime_kernel"
[ -s "$OUT/random-$N.txt" ] || "$K" gen random "$N" 1 > "$OUT/random-$N.txt"
[ -s "$OUT/primes-$N.txt" ] || "$K" gen primes "$N" 2 > "$OUT/primes-$N.txt"

mpu() { # FILE [floor]: items seconds rate primes, like prime_kernel time
  perl -MMath::Prime::Util=is_prime -MTime::HiRes=clock_gettime,CLOCK_PROCESS_CPUTIME_ID \
    -e 'open my $f, "<", $ARGV[0] or die; my @v = map { 0 + $_ } <$f>;
        my $floor = @ARGV > 1; my $c = 0;
        my $t0 = clock_gettime(CLOCK_PROCESS_CPUTIME_ID);
        if ($floor) { $c += is_prime(4) for @v } else { $c += !!is_prime($_) for @v }
        my $t = clock_gettime(CLOCK_PROCESS_CPUTIME_ID) - $t0;
        printf "%d %.6f %.0f %d\n", scalar @v, $t, @v / $t, $c' "$@"
}

median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

for w in random primes; do
  f="$OUT/$w-$N.txt"
  : > "$OUT/$w.ours"; : > "$OUT/$w.mpu"
  i=0
  while [ $i -lt "$REPS" ]; do
    if [ $((i % 2)) -eq 0 ]; then
      "$K" time "$f" >> "$OUT/$w.ours"; mpu "$f" >> "$OUT/$w.mpu"
    else
      mpu "$f" >> "$OUT/$w.mpu"; "$K" time "$f" >> "$OUT/$w.ours"
    fi
    i=$((i + 1))
  done
  ours=$(cut -d' ' -f3 "$OUT/$w.ours" | median)
  theirs=$(cut -d' ' -f3 "$OUT/$w.mpu" | median)
  p1=$(cut -d' ' -f4 "$OUT/$w.ours" | sort -u | tr '\n' ' ')
  p2=$(cut -d' ' -f4 "$OUT/$w.mpu" | sort -u | tr '\n' ' ')
  [ "$p1" = "$p2" ] || { echo "prime counts differ: $p1 vs $p2" >&2; exit 1; }
  floor=$(mpu "$f" floor | cut -d' ' -f3)
  awk -v w="$w" -v a="$ours" -v b="$theirs" -v fl="$floor" -v p="$p1" 'BEGIN {
    printf "%-7s ours %6.2f M/s   MPU %6.2f M/s   ours/MPU %.2f   (primes %s; MPU floor %.1f M/s)\n",
           w, a / 1e6, b / 1e6, a / b, p, fl / 1e6 }'
done
