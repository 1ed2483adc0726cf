#!/bin/bash
# deadline_slurm.sh [MINUTES]: on the private Slurm rig (tests/slurm_rig.sh;
# root, sh tools/deps.sh --rigs), the share of the time a job was granted
# that went into computing items that were kept (written and journaled:
# not lost to the end of the job, not computed again by the next round),
# for items of 10-100 ms, side by side:
#   deadline  jobs/slurm.sbatch as it is (--deadline auto), one round
#   usr1_60   the same job with --signal=USR1@60 alone (the script's
#             deadline replaced by one far away), one round
# Each job: 4 tasks (--overcommit, the sleep job needs no core), a limit of
# MINUTES (default 2), over more work than fits. Kept share = the seconds
# of the items in OUTPUT.partial / (4 x the limit). About 2 x MINUTES.
. "$(dirname "$0")/../tests/lib.sh"
ROOT=$PWD
T_NAME=deadline_slurm
MIN=${1:-2}
. "$ROOT/tests/slurm_rig.sh"

# items of 10-100 ms, distinct: 4 tasks for the whole limit need 4 * 60 *
# MIN / 0.055 of them; 1.5 times that
n=$(awk -v m="$MIN" 'BEGIN { printf "%d", 1.5 * 4 * 60 * m / 0.055 }')
awk -v n="$n" 'BEGIN { srand(21); for (i = 1; i <= n; i++) printf "%.3f%05d\n", 0.01 + 0.09 * rand(), i }' > items.txt
echo "deadline_slurm: $n items of 10-100 ms, jobs of 4 tasks and $MIN min; load: $(uptime | sed 's/.*load/load/')"
printf '%-10s %-16s %-8s %-10s %-12s %-10s %s\n' how job_end ran_s kept_s granted_s kept_share items_kept
# one NAME SBATCH-ARGS... -- MAPREDUCE-ARGS...
one() {
  local name=$1 sb=() j got kept ran
  shift
  while [ "$1" != -- ]; do sb+=("$1"); shift; done
  shift
  rm -f "$name.out" "$name.out".*
  j=$(MAPREDUCE_ROUNDS=1 submit "$name" --time="$MIN" "${sb[@]}" slurm.sbatch items.txt "$name.out" -j sleep "$@")
  got=$(job_wait "$j" $((MIN * 60 + 120)))
  ran=$(timeout 5 scontrol -o show job "$j" | grep -o ' RunTime=[0-9:-]*' | cut -d= -f2 |
    awk -F: '{ s = 0; for (i = 1; i <= NF; i++) s = s * 60 + $i; print s }')
  kept=$(awk -F'\t' '{ s += $1 } END { printf "%.1f", s }' "$name.out.partial" 2> /dev/null)
  printf '%-10s %-16s %-8s %-10s %-12s %-10s %s\n' "$name" "${got// /_}" "${ran:-?}" "${kept:-0}" $((4 * 60 * MIN)) \
    "$(awk -v k="${kept:-0}" -v g=$((4 * 60 * MIN)) 'BEGIN { printf "%.1f%%", 100 * k / g }')" \
    "$(wc -l < "$name.out.partial" 2> /dev/null || echo 0)"
  grep '^mapreduce:' "$name.log" | sed 's/^/           /'
}
one deadline --
one usr1_60 --signal=USR1@60 -- --deadline 1d
finish
