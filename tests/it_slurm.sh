#!/bin/bash
# it_slurm.sh: mapreduce under a real Slurm. Starts its own single-node
# cluster (munged, slurmctld, slurmd, all under $TMP with their own config,
# key, socket, ports and state; nothing of a system Slurm or munge is read or
# touched), then runs jobs/slurm.sbatch and srun --mpi=pmix jobs against
# references computed by ./mapreduce alone: results to a file and to srun's
# stdout pipe, exit statuses through srun, a drain on scancel --signal=USR1,
# on a plain scancel and on the walltime warning (--time=1 with the script's
# --signal=USR1@60), each finished with --resume byte-identically. Stops
# everything it started (found by an environment marker), also when it
# fails or is killed. About 40 s, most of it waiting for slurmctld's
# time-limit check. KEEP_RIG=1 keeps $TMP (daemon logs in $TMP/s).
# Needs root and the packages slurmctld slurmd slurm-client munge
# libpmix-dev (sh tools/deps.sh --rigs); without them it says it is
# skipped (with RIGS_REQUIRED=1, as on CI, it fails).
. "$(dirname "$0")/lib.sh"
ROOT=$PWD

skip() { rig_skip "$@"; }
[ "$(id -u)" = 0 ] || skip "needs root to start slurmctld and slurmd"
for c in munged munge unmunge slurmctld slurmd sbatch srun scontrol scancel sinfo; do
  command -v "$c" > /dev/null ||
    skip "no $c: apt-get install slurmctld slurmd slurm-client munge libpmix-dev"
done

# Nothing from a surrounding Slurm job or the user's defaults leaks in.
for v in $(compgen -e); do
  case $v in SLURM_* | SBATCH_* | SRUN_* | SALLOC_* | SQUEUE_* | SINFO_* | SCONTROL_*) unset "$v" ;; esac
done
R=$TMP/s # the cluster's own directory: config, key, sockets, state, logs
mkdir -p "$R"/state "$R"/spool "$R"/tmp "$R"/key "$R"/sock
# munged wants its socket's directory reachable by all; the key stays private
chmod 711 "$TMP" "$R"
chmod 755 "$R"/sock
chmod 700 "$R"/key
export SLURM_CONF=$R/slurm.conf
# Every process of the cluster (daemons, slurmstepd, job steps, ranks)
# inherits this marker; the clean-up finds them by it, and only them.
export MR_SLURM_RIG=$R
# Jobs run from $TMP, where ./mapreduce is the binary under test.
ln -s "$MR" "$TMP/mapreduce"
cp "$ROOT/jobs/slurm.sbatch" "$TMP/slurm.sbatch"
# as lib.sh's mpi(): no leak check of Open MPI's start-up under sanitizers
export ASAN_OPTIONS="detect_leaks=0${ASAN_OPTIONS:+:$ASAN_OPTIONS}"

rig_pids() {
  env -u MR_SLURM_RIG grep -lzxF "MR_SLURM_RIG=$R" /proc/[0-9]*/environ 2> /dev/null |
    sed 's|^/proc/\([0-9]*\)/environ$|\1|' | grep -vx -e "$$" -e "$BASHPID"
}
rig_down() {
  [ "$BASHPID" = "$$" ] || return 0
  local f p i
  for f in "$R"/slurmd.pid "$R"/slurmctld.pid "$R"/munged.pid; do
    [ -s "$f" ] && kill -TERM "$(cat "$f")" 2> /dev/null
  done
  for i in $(seq 1 30); do # daemons end within 3 s, or are killed below
    [ -z "$(rig_pids)" ] && break
    sleep 0.1
  done
  for p in $(rig_pids); do kill -KILL "$p" 2> /dev/null; done
  [ -n "${KEEP_RIG:-}" ] || rm -rf "$TMP"
}
trap rig_down EXIT
trap 'exit 129' HUP
trap 'exit 130' INT
trap 'exit 143' TERM

# free_port [NOT]: a TCP port that no socket uses (listening or connected),
# outside the ephemeral range, and not NOT
free_port() {
  local p h used=
  for h in $(awk 'FNR > 1 { split($2, a, ":"); split($3, b, ":"); print a[2]; print b[2] }' \
    /proc/net/tcp /proc/net/tcp6 2> /dev/null | sort -u); do
    used="$used$((16#$h))
"
  done
  for _ in $(seq 1 100); do
    p=$((20000 + RANDOM % 12000))
    echo "$used" | grep -qx "$p" || [ "$p" = "${1:-}" ] || { echo "$p"; return; }
  done
  return 1
}
# setup_failed WHY: ends the suite with the daemons' last words
setup_failed() {
  bad "$1"
  tail -n 20 "$R"/*.log "$R"/*.out 2> /dev/null
  finish
  exit 1
}

echo "it_slurm: starting munged, slurmctld and slurmd in $R"
NODE=$(hostname -s)
CTLD_PORT=$(free_port)
SLURMD_PORT=$(free_port "$CTLD_PORT")
head -c 1024 /dev/urandom > "$R"/key/munge.key
chmod 600 "$R"/key/munge.key
munged -F --socket="$R"/sock/munge --key-file="$R"/key/munge.key \
  --pid-file="$R"/munged.pid --seed-file="$R"/key/seed --log-file="$R"/munged.log \
  > "$R"/munged.out 2>&1 &
for i in $(seq 1 100); do
  munge -n --socket="$R"/sock/munge 2> /dev/null | unmunge --socket="$R"/sock/munge > /dev/null 2>&1 && break
  sleep 0.1
done
[ "$i" -lt 100 ] || setup_failed "munged did not start"

cat > "$SLURM_CONF" << EOF
ClusterName=mrtest
SlurmctldHost=$NODE(127.0.0.1)
SlurmctldPort=$CTLD_PORT
SlurmdPort=$SLURMD_PORT
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$R/sock/munge
StateSaveLocation=$R/state
SlurmdSpoolDir=$R/spool
TmpFS=$R/tmp
SlurmctldPidFile=$R/slurmctld.pid
SlurmdPidFile=$R/slurmd.pid
SlurmctldLogFile=$R/slurmctld.log
SlurmdLogFile=$R/slurmd.log
# debug3: the log shows when the time-limit checks run (see the walltime test)
SlurmctldDebug=debug3
SlurmdDebug=info
MailProg=/bin/true
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SchedulerType=sched/builtin
# start a submitted job at the next tick of slurmctld's 1 s loop, not 3 s on
SchedulerParameters=batch_sched_delay=0
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
MpiDefault=none
ReturnToService=2
KillWait=5
MinJobAge=600
NodeName=$NODE NodeAddr=127.0.0.1 CPUs=$(nproc) State=UNKNOWN
PartitionName=test Nodes=$NODE Default=YES MaxTime=INFINITE State=UP
EOF
slurmctld -D -i > "$R"/slurmctld.out 2>&1 &
slurmd -D -N "$NODE" > "$R"/slurmd.out 2>&1 &
state=
for i in $(seq 1 150); do # 30 s
  state=$(timeout 5 sinfo -h -n "$NODE" -o %T 2> /dev/null)
  [ "$state" = idle ] && break
  sleep 0.2
done
[ "$state" = idle ] || setup_failed "node $NODE not idle after 30 s (state '$state')"
timeout 10 srun --mpi=list 2>&1 | grep -qw pmix ||
  skip "srun --mpi=list has no pmix (apt-get install slurm-wlm-basic-plugins libpmix-dev)"

cd "$TMP" || exit 2

# submit NAME SBATCH-ARGS...: submits from $TMP with the log in NAME.log,
# prints the job id
submit() {
  local name=$1
  shift
  timeout 20 sbatch --parsable --chdir="$TMP" --job-name="$name" --time=5 \
    --ntasks=4 --overcommit --output="$TMP/$name.log" "$@"
}
# job_wait JOB SECS: waits until the job has ended; prints "STATE EXITCODE"
job_wait() {
  local j=$1 n=$(($2 * 5)) line st ec
  [ -n "$j" ] || { echo "NOT-SUBMITTED"; return; }
  for _ in $(seq 1 "$n"); do
    line=$(timeout 5 scontrol -o show job "$j" 2> /dev/null)
    st=$(echo "$line" | grep -o 'JobState=[A-Z_]*' | cut -d= -f2)
    ec=$(echo "$line" | grep -o ' ExitCode=[0-9:]*' | cut -d= -f2)
    case $st in
      PENDING | RUNNING | CONFIGURING | COMPLETING | SUSPENDED | SIGNALING | STAGE_OUT | '') ;; # not final yet
      *) echo "$st $ec"; return ;;
    esac
    sleep 0.2
  done
  echo "TIMEOUT-OF-TEST $st"
  timeout 10 scancel "$j"
}
# expect_job NAME GOT WANT: the job's "STATE EXITCODE", its log on failure
expect_job() {
  if [ "$2" = "$3" ]; then ok; else
    bad "$1: job ended '$2', wanted '$3'"
    tail -n 5 "$1.log"
  fi
}
# partial_wait FILE: until mapreduce has written results to FILE (20 s)
partial_wait() {
  for _ in $(seq 1 200); do
    [ -s "$1" ] && return 0
    sleep 0.1
  done
  return 1
}

echo "it_slurm: sbatch jobs/slurm.sbatch, results to a file"
seq 1000000000001 2 1000000010000 > primes.txt # 5,000 odd candidates
"$MR" -o primes.ref primes.txt
J=$(submit batch1 slurm.sbatch primes.txt primes.out)
expect_job batch1 "$(job_wait "$J" 30)" "COMPLETED 0:0"
same primes.out primes.ref "sbatch: output identical to a run alone"
check "sbatch: nothing on stdout or stderr" test ! -s batch1.log
check "sbatch: no partial file or journal left" test ! -e primes.out.partial -a ! -e primes.out.journal

echo "it_slurm: srun --mpi=pmix with results on stdout, in a batch job"
seq 1 30000 > many.txt
"$MR" many.txt > many.ref
printf '#!/bin/bash\nsrun --mpi=pmix -n 4 ./mapreduce "$@"\n' > stdout.sbatch
J=$(submit batch2 --error="$TMP/batch2.err" stdout.sbatch many.txt)
expect_job batch2 "$(job_wait "$J" 30)" "COMPLETED 0:0"
same batch2.log many.ref "srun stdout: every line arrives, in order"
check "srun stdout: nothing on stderr" test ! -s batch2.err
J=$(submit batch2c --error="$TMP/batch2c.err" stdout.sbatch -c 1 -j square many.txt)
"$MR" -j square many.txt > square.ref
expect_job batch2c "$(job_wait "$J" 30)" "COMPLETED 0:0"
same batch2c.log square.ref "srun stdout, one item per chunk: every line arrives"

echo "it_slurm: srun's exit status is mapreduce's"
(seq 1 100; echo bad1; seq 101 200; echo 12abc; echo x) > mixed.txt
timeout 30 srun --mpi=pmix -n 3 --overcommit ./mapreduce -j square mixed.txt > out 2> err
check "srun: 3 failed items give exit 3" test $? -eq 3
"$MR" -j square mixed.txt > mixed.ref 2> /dev/null
same out mixed.ref "srun: every other item written"
check "srun: one error line per bad item" test "$(grep -c '^mixed.txt:[0-9]*: error:' err)" -eq 3
timeout 30 srun -n 2 --overcommit ./mapreduce -j square mixed.txt > out 2> err
check "srun without --mpi=pmix: refused (255)" test $? -eq 255
check "srun without --mpi=pmix: says to use it" grep -q "run 'srun --mpi=pmix" err
check "srun without --mpi=pmix: no output" test ! -s out

echo "it_slurm: scancel --signal=USR1 drains, sbatch ... --resume completes"
# 6,000 distinct items of about 2 ms: 3 s on 4 ranks
awk 'BEGIN { for (i = 1; i <= 6000; i++) printf "0.002%04d\n", i }' > work.txt
"$MR" -j sleep -t 16 -o work.ref work.txt # threads: the same output, sooner
J=$(submit drain1 slurm.sbatch work.txt work.out -j sleep)
check "scancel: results were being written" partial_wait work.out.partial
sleep 0.3
timeout 10 scancel --signal=USR1 "$J"
expect_job drain1 "$(job_wait "$J" 30)" "FAILED 138:0"
check "scancel: mapreduce drained on SIGUSR1" grep -q '^mapreduce: stopped by signal 10: .*continue with --resume$' drain1.log
check "scancel: a partial file and its journal" test -s work.out.partial -a -s work.out.journal
check "scancel: no final file yet" test ! -e work.out
J=$(submit drain2 slurm.sbatch work.txt work.out -j sleep --resume)
expect_job drain2 "$(job_wait "$J" 30)" "COMPLETED 0:0"
same work.out work.ref "scancel then --resume: identical to an uninterrupted run"
check "scancel then --resume: no duplicates" test -z "$(sort work.out | uniq -d)"
check "scancel then --resume: journal removed" test ! -e work.out.partial -a ! -e work.out.journal
# a plain scancel (as the hard time limit): SIGTERM to the steps and the
# batch script, SIGKILL KillWait (5 s) later
rm -f work.out
J=$(submit cancel1 slurm.sbatch work.txt work.out -j sleep)
check "plain scancel: results were being written" partial_wait work.out.partial
sleep 0.3
timeout 10 scancel "$J"
expect_job cancel1 "$(job_wait "$J" 30)" "CANCELLED 0:15"
check "plain scancel: mapreduce drained on SIGTERM" grep -q '^mapreduce: stopped by signal 15: .*continue with --resume$' cancel1.log
J=$(submit cancel2 slurm.sbatch work.txt work.out -j sleep --resume)
expect_job cancel2 "$(job_wait "$J" 30)" "COMPLETED 0:0"
same work.out work.ref "plain scancel then --resume: identical to an uninterrupted run"

echo "it_slurm: the walltime warning (--time=1, the script's --signal=USR1@60)"
# slurmctld checks time limits every 30 s (PERIODIC_TIMEOUT, counted from
# its background thread's start) and sends a warning due within the next
# 30 s at once: with --time=1 and USR1@60, at the first check after the
# job starts. Only steps get it, so a check before srun starts loses it.
# The test submits 4-5 s before a check (a job starts within about 1.5 s),
# with 47 s of work, so a step that starts late still gets the warning at
# the next check; the resume runs 16 threads a rank and takes about 3 s.
ts_of() { # the epoch of a slurmctld log line's [2026-01-01T00:00:00.000]
  local t=${1#\[}
  date -d "${t%%]*}" +%s.%N
}
next_check() {
  local line
  line=$(grep -E 'Testing job time limits|_slurmctld_background pid' "$R"/slurmctld.log | tail -n 1)
  [ -n "$line" ] && awk -v t="$(ts_of "$line")" 'BEGIN { printf "%.3f\n", t + 30 }'
}
awk 'BEGIN { for (i = 1; i <= 3600; i++) printf "0.05%04d\n", i }' > wall.txt
"$MR" -j sleep -t 64 -o wall.ref wall.txt
left=
for _ in $(seq 1 200); do # at most 40 s
  nc=$(next_check) || break
  left=$(awk -v a="$nc" -v b="$(date +%s.%N)" 'BEGIN { printf "%.3f\n", a - b }')
  # 4-5 s ahead; under that the check is too close, wait for the next one
  awk -v l="$left" 'BEGIN { exit !(l >= 4 && l <= 5) }' && break
  left=
  sleep 0.2
done
if [ -z "$left" ]; then
  bad "walltime: could not time the submission (slurmctld.log: $(grep -c 'Testing job time' "$R"/slurmctld.log) checks)"
else
  J=$(submit wall1 --time=1 slurm.sbatch wall.txt wall.out -j sleep)
  expect_job wall1 "$(job_wait "$J" 80)" "FAILED 138:0"
  check "walltime: slurmctld sent the warning" grep -q "warning signal 10 to JobId=$J\$" "$R"/slurmctld.log
  check "walltime: mapreduce drained on SIGUSR1" grep -q '^mapreduce: stopped by signal 10: .*continue with --resume$' wall1.log
  check "walltime: some results were written" test -s wall.out.partial
  J=$(submit wall2 slurm.sbatch wall.txt wall.out -j sleep -t 16 --resume)
  expect_job wall2 "$(job_wait "$J" 30)" "COMPLETED 0:0"
  same wall.out wall.ref "walltime then --resume: identical to an uninterrupted run"
fi

finish
