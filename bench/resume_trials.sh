#!/bin/bash
# resume_trials.sh [TRIALS] [NP]: the "never lose work" check of issue 4,
# measured. Each trial starts a run, sends SIGTERM at a random moment,
# times the drain, resumes with --resume (SIGKILL of the whole job on odd
# trials instead of SIGTERM) and compares the final output with an
# uninterrupted run: lost items, duplicate lines, identical or not.
set -u
cd "$(dirname "$0")/.." || exit 2
TRIALS=${1:-20}
NP=${2:-8}
MR=${MR:-$PWD/mapreduce}
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMPI_MCA_rmaps_base_oversubscribe=1 OMPI_MCA_orte_execute_quiet=1
T=$(mktemp -d /tmp/mr-trials.XXXXXX)
trap 'rm -rf "$T"' EXIT
seq 1 20000 | awk '{printf "%d\n", $1 * 7919}' > "$T/in.txt"
# items of 0-2 ms: a run of about 2.5 s on 8 ranks
"$MR" -j calc -a 0.0005 -o "$T/ref.txt" "$T/in.txt" 2> /dev/null
ok=0; worst_drain=0; lost_total=0; dup_total=0
for i in $(seq 1 "$TRIALS"); do
  rm -f "$T"/res.txt "$T"/res.txt.*
  delay=$(awk -v s="$RANDOM" 'BEGIN { srand(s); printf "%.2f", 0.3 + rand() * 1.5 }')
  sig=TERM; [ $((i % 2)) -eq 0 ] && sig=KILL
  timeout 60 mpirun -np "$NP" "$MR" -j calc -a 0.0005 -o "$T/res.txt" "$T/in.txt" 2> /dev/null &
  pid=$!
  sleep "$delay"
  t0=$(date +%s.%N)
  job=$(pgrep -P $pid) # mpirun, the child of timeout
  if [ $sig = KILL ]; then pkill -KILL -P $job; kill -KILL $job; else kill -TERM $job; fi
  wait $pid 2> /dev/null
  rc=$?
  drain=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.3f", b - a }')
  timeout 120 mpirun -np "$NP" "$MR" -j calc -a 0.0005 -o "$T/res.txt" --resume "$T/in.txt" 2> /dev/null
  rc2=$?
  lost=$(comm -23 <(cut -f1 "$T/ref.txt" | sort) <(cut -f1 "$T/res.txt" | sort) | wc -l)
  dup=$(cut -f1 "$T/res.txt" | sort | uniq -d | wc -l)
  same=no; cmp -s "$T/ref.txt" "$T/res.txt" && same=yes
  [ $same = yes ] && ok=$((ok + 1))
  lost_total=$((lost_total + lost)); dup_total=$((dup_total + dup))
  [ $sig = TERM ] && worst_drain=$(awk -v a="$worst_drain" -v b="$drain" 'BEGIN { print (b > a) ? b : a }')
  printf 'trial %2d: SIG%s after %ss, exit %d, stopped in %ss; resume exit %d; lost %d, duplicates %d, identical %s\n' \
    "$i" "$sig" "$delay" "$rc" "$drain" "$rc2" "$lost" "$dup" "$same"
done
echo "trials: $TRIALS at -np $NP; identical: $ok; lost items: $lost_total; duplicate lines: $dup_total; slowest SIGTERM stop: ${worst_drain}s"
[ "$ok" -eq "$TRIALS" ]
