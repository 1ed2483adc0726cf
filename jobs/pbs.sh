#!/bin/bash
# PBS / Torque batch script:
#   qsub -v INPUT=nums.txt,OUTPUT=results.txt jobs/pbs.sh
#   qsub -v INPUT=items.txt,OUTPUT=results.txt,MAPREDUCE_OPTS='-j sleep' jobs/pbs.sh
# The run ends by itself a few seconds before the walltime (--deadline
# auto, from MAPREDUCE_END_TIME set below), keeps what it finished and
# exits 124; this script then submits itself again with --resume and the
# same INPUT, OUTPUT, MAPREDUCE_OPTS and walltime, until the work is done
# or MAPREDUCE_ROUNDS jobs (default 10) have run. Other qsub options belong
# in the #PBS lines below, which every round reads again; the next round
# is MAPREDUCE_SCRIPT (default: jobs/pbs.sh in the submission directory).
# qsub -v splits at commas: MAPREDUCE_OPTS holds none. Not tested on a
# real PBS here (the tests run Slurm's counterpart, jobs/slurm.sbatch).
#PBS -N mapreduce
#PBS -l nodes=4:ppn=16
#PBS -l walltime=01:00:00
#PBS -j oe
set -u
START=$(date +%s) # the job has just started: its end is START + walltime
cd "${PBS_O_WORKDIR:-.}" || exit 255
: "${INPUT:?set INPUT}"
OUTPUT=${OUTPUT:-results.txt}
ROUND=${MAPREDUCE_ROUND:-1}
ROUNDS=${MAPREDUCE_ROUNDS:-10}
SCRIPT=${MAPREDUCE_SCRIPT:-$PWD/jobs/pbs.sh}
# HH:MM:SS (or MM:SS, or SS) as seconds
seconds() { echo "$1" | awk -F: '{ s = 0; for (i = 1; i <= NF; i++) s = s * 60 + $i; print s }'; }
WALL=${PBS_WALLTIME:-} # Torque: seconds
if [ -z "$WALL" ] && [ -n "${PBS_JOBID:-}" ]; then
  W=$(qstat -f "$PBS_JOBID" 2> /dev/null | awk -F' = ' '/Resource_List.walltime/ { print $2; exit }')
  [ -n "$W" ] && WALL=$(seconds "$W")
fi
[ -n "$WALL" ] && export MAPREDUCE_END_TIME=$((START + WALL))
DEADLINE=(--deadline auto)
[ -n "$WALL" ] || DEADLINE=() # no walltime known: no deadline
RESUME=()
[ "$ROUND" -gt 1 ] && RESUME=(--resume)
NP=$(wc -l < "$PBS_NODEFILE")
# shellcheck disable=SC2086 # MAPREDUCE_OPTS is a list of options
mpirun --hostfile "$PBS_NODEFILE" -np "$NP" ./mapreduce "${DEADLINE[@]}" \
  -o "$OUTPUT" ${MAPREDUCE_OPTS:-} "${RESUME[@]}" "$INPUT"
rc=$?
[ "$rc" -eq 124 ] || exit "$rc"
if [ "$ROUND" -ge "$ROUNDS" ]; then
  echo "mapreduce: round $ROUND of $ROUNDS stopped for time; no more rounds" \
    "(MAPREDUCE_ROUNDS): continue with MAPREDUCE_OPTS='... --resume'" >&2
  exit 124
fi
WT=$(printf '%02d:%02d:%02d' $((WALL / 3600)) $((WALL % 3600 / 60)) $((WALL % 60)))
NEXT=$(qsub -l walltime="$WT" \
  -v "INPUT=$INPUT,OUTPUT=$OUTPUT,MAPREDUCE_OPTS=${MAPREDUCE_OPTS:-},MAPREDUCE_ROUND=$((ROUND + 1)),MAPREDUCE_ROUNDS=$ROUNDS,MAPREDUCE_SCRIPT=$SCRIPT" \
  "$SCRIPT")
if [ -z "$NEXT" ]; then
  echo "mapreduce: round $ROUND stopped for time, and submitting round" \
    "$((ROUND + 1)) failed: continue with MAPREDUCE_OPTS='... --resume'" >&2
  exit 124
fi
echo "mapreduce: round $ROUND stopped for time; round $((ROUND + 1)) is job $NEXT" >&2
