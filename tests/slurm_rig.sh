# tests/slurm_rig.sh: a private single-node Slurm for tests/it_slurm.sh and
# bench/deadline_slurm.sh (source it after tests/lib.sh, with ROOT set to
# the repository). Starts munged, slurmctld and slurmd under $TMP/s with
# their own config, key, socket, ports and state (nothing of a system
# Slurm or munge is read or touched), stops everything it started (found
# by an environment marker) when the script ends, also when it fails or is
# killed, and leaves the script in $TMP, where ./mapreduce is $MR and
# ./slurm.sbatch is jobs/slurm.sbatch. Defines submit, job_wait,
# expect_job and partial_wait. KEEP_RIG=1 keeps $TMP (daemon logs in
# $TMP/s). Skips (rig_skip) without root or the packages.
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

echo "$T_NAME: starting munged, slurmctld and slurmd in $R"
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

