#!/bin/bash
# PBS / Torque batch script: qsub -v INPUT=nums.txt,OUTPUT=results.txt jobs/pbs.sh
#PBS -N mapreduce
#PBS -l nodes=4:ppn=16
#PBS -l walltime=01:00:00
#PBS -j oe
set -eu
cd "${PBS_O_WORKDIR:-.}"
NP=$(wc -l < "$PBS_NODEFILE")
mpirun --hostfile "$PBS_NODEFILE" -np "$NP" ./mapreduce -o "${OUTPUT:-results.txt}" "${INPUT:?set INPUT}"
