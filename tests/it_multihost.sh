#!/bin/bash
# it_multihost.sh: mapreduce on a fake 3-host cluster on this one machine.
# Each "host" is a network namespace with its own host name (a UTS
# namespace), one veth into a bridge that lives in a fourth, "switch"
# namespace, and an address in a private subnet; nothing is added to the root
# namespace. mpirun runs on host 1 (so rank 0 is there) and starts orted on
# hosts 2 and 3 through an rsh agent that does what ssh would: it enters the
# host's namespaces and runs the command with a clean environment. Open MPI's
# out-of-band and TCP traffic is confined to the subnet, so every message
# between hosts crosses the bridge. The directory holding the input and the
# output is hidden on hosts 2 and 3 (a tmpfs over it), so a rank other than 0
# touching them fails.
# Checks: ranks land on their hosts; prime to stdout and -o, and -t 2, byte-
# identical to a run alone; every host computes and --joblog names it;
# --isolate crashes and failed items on remote hosts; SIGTERM to mpirun then
# --resume; host 3 killed (all of it, then its ranks only) mid-run, the job
# ends, --resume on hosts 1 and 2 gives identical output. About 20 s.
# Needs root and network namespaces; skipped otherwise (RIGS_REQUIRED=1
# turns the skip into a failure, for CI).
. "$(dirname "$0")/lib.sh"

skip() { rig_skip "$@"; }
[ "$(id -u)" = 0 ] || skip "needs root for network namespaces"
for tool in ip unshare mount mpirun; do
  command -v $tool > /dev/null || skip "no $tool"
done

# ---- the rig
P=$$
SW=mr$P-sw        # the switch namespace: the bridge
HOSTS=("mr$P-h1" "mr$P-h2" "mr$P-h3") # namespace names, also the host names
NET=""
for n in 77 78 79 87 97; do # a /24 that nothing here uses
  ip -4 addr show | grep -q "inet 10\.$n\.0\." && continue
  ip -4 route show | grep -q "^10\.$n\.0\." && continue
  NET=10.$n.0
  break
done
[ -n "$NET" ] || skip "no free 10.x.0.0/24 subnet"
IPS=("$NET.1" "$NET.2" "$NET.3")
HIDDEN=$TMP/h1only # input and output: visible on host 1 only

teardown() {
  [ "$BASHPID" = "$$" ] || return # not from a subshell (see lib.sh)
  local ns pids
  # shellcheck disable=SC2046
  kill -9 $(jobs -p) 2> /dev/null
  for ns in "${HOSTS[@]}" "$SW"; do
    pids=$(ip netns pids "$ns" 2> /dev/null)
    # shellcheck disable=SC2086
    [ -n "$pids" ] && kill -9 $pids 2> /dev/null
  done
  # the veths and the bridge go with their namespaces
  for ns in "${HOSTS[@]}" "$SW"; do ip netns del "$ns" 2> /dev/null; done
  # shared memory of ranks killed on purpose (vader names it by host name)
  rm -f /dev/shm/vader_segment.mr$P-h[123].*
  rm -rf "$TMP"
}
trap teardown EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

ip netns add "$SW" 2> /dev/null || skip "ip netns unavailable (no CAP_SYS_ADMIN?)"
{
  ip -n "$SW" link set lo up &&
    ip -n "$SW" link add br0 type bridge &&
    ip -n "$SW" link set br0 up
} 2> "$TMP/setup.err" || skip "no bridge: $(head -1 "$TMP/setup.err")"
for i in 0 1 2; do
  ns=${HOSTS[$i]}
  {
    ip netns add "$ns" &&
      ip link add name eth0 netns "$ns" type veth peer name p$i netns "$SW" &&
      ip -n "$SW" link set p$i master br0 &&
      ip -n "$SW" link set p$i up &&
      ip -n "$ns" addr add "${IPS[$i]}/24" dev eth0 &&
      ip -n "$ns" link set eth0 up &&
      ip -n "$ns" link set lo up
  } 2> "$TMP/setup.err" || skip "cannot build the network: $(head -1 "$TMP/setup.err")"
done
mkdir -p "$HIDDEN" "$TMP/ompi"
# what the agent does (ip netns exec gives it a mount namespace of its own,
# so the tmpfs stays there)
ip netns exec "$SW" unshare --uts sh -c "hostname probe && mount -t tmpfs probe '$HIDDEN'" \
  2> "$TMP/setup.err" || skip "cannot set a host name or mount in a namespace: $(head -1 "$TMP/setup.err")"

# The rsh agent, as Open MPI calls ssh: agent HOST COMMAND... Like sshd, it
# runs the command under sh with a fresh environment; unlike it, it also
# hides $HIDDEN from the host.
cat > "$TMP/agent" << EOF
#!/bin/sh
host=\$1
shift
case \$host in
  ${IPS[1]}) ns=${HOSTS[1]} ;;
  ${IPS[2]}) ns=${HOSTS[2]} ;;
  *) echo "agent: unknown host \$host" >&2; exit 255 ;;
esac
exec ip netns exec "\$ns" unshare --uts sh -c '
  hostname "\$0" && mount -t tmpfs -o size=1m,mode=0755 hidden "$HIDDEN" || exit 255
  exec env -i PATH=/usr/local/bin:/usr/bin:/bin HOME="\$HOME" sh -c "\$*"' "\$ns" "\$@"
EOF
chmod +x "$TMP/agent"
printf '%s slots=2\n' "${IPS[@]}" > "$TMP/hostfile"

# MPIRUN: mpirun in host 1's namespaces, across the fake hosts, only on the
# bridge's subnet (the caller adds --hostfile or --host). The agent forwards
# no environment: Open MPI passes its OMPI_* variables itself, ASAN_OPTIONS
# needs -x.
# shellcheck disable=SC2016
MPIRUN=(ip netns exec "${HOSTS[0]}" unshare --uts sh -c 'hostname "$0" && exec "$@"' "${HOSTS[0]}"
  mpirun --mca plm_rsh_agent "$TMP/agent"
  --mca oob_tcp_if_include "$NET.0/24" --mca btl_tcp_if_include "$NET.0/24"
  --mca pml ob1 --mca btl "tcp,vader,self" --mca orte_tmpdir_base "$TMP/ompi"
  -x ASAN_OPTIONS=detect_leaks=0)
# mh ARGS...: mapreduce on 3 hosts x 2 ranks, under timeout; cwd $TMP
mh() { (cd "$TMP" && timeout -s KILL 60 "${MPIRUN[@]}" --hostfile "$TMP/hostfile" -np 6 "$MR" "$@"); }
# Open MPI 4.1's rsh launcher calls setpgid on the agent it has just
# forked, which fails now and then when the agent has already exec'd; it
# warns and carries on. Not ours: drop the line from $TMP/err.
mpi_noise() { sed -i '/plm:rsh: Warning: setpgid(.*) failed in parent/d' "$TMP/err"; }
# bridge port counters: bytes host i sent
sent() { ip netns exec "$SW" cat /sys/class/net/p$(($1 - 1))/statistics/rx_bytes; }

# ---- inputs and references (mapreduce alone, without MPI)
python3 - "$HIDDEN" << 'EOF'
import random, sys
r = random.Random(20261201)
with open(sys.argv[1] + "/primes.txt", "w") as f:
    for _ in range(4000):
        f.write(f"{r.getrandbits(r.choice([20, 40, 62, 64, 90]))}\n")
EOF
IN=$HIDDEN/primes.txt
OUT=$HIDDEN/res.txt
"$MR" -o "$TMP/primes.ref" "$IN"
# 30 s of sleeps, 5 s on 6 ranks: the signal and the kill -9 below come
# 0.2 s after the first results, and 1 s of run left a loaded machine's
# shell too little time to come before the end
yes 0.01 | head -n 3000 > "$HIDDEN/work.txt"
"$MR" -j sleep <(printf '0.01\n') > "$TMP/one.ref"
yes "$(cat "$TMP/one.ref")" | head -n 3000 > "$TMP/work.ref"

echo "it_multihost: the rig (3 namespaces on a bridge, mpirun through the agent)"
# shellcheck disable=SC2016
(cd "$TMP" && timeout -s KILL 30 "${MPIRUN[@]}" --hostfile "$TMP/hostfile" -np 6 \
  sh -c 'echo "$OMPI_COMM_WORLD_RANK $(hostname) $(ip -4 -o addr show scope global | awk "{print \$2, \$4}") $(test -e h1only/primes.txt && echo seen || echo hidden)"') \
  2> "$TMP/err" | sort -n > "$TMP/got"
mpi_noise
printf '%s\n' "0 ${HOSTS[0]} eth0 ${IPS[0]}/24 seen" "1 ${HOSTS[0]} eth0 ${IPS[0]}/24 seen" \
  "2 ${HOSTS[1]} eth0 ${IPS[1]}/24 hidden" "3 ${HOSTS[1]} eth0 ${IPS[1]}/24 hidden" \
  "4 ${HOSTS[2]} eth0 ${IPS[2]}/24 hidden" "5 ${HOSTS[2]} eth0 ${IPS[2]}/24 hidden" > "$TMP/want"
same "$TMP/got" "$TMP/want" "ranks 0-1 on host 1, 2-3 on host 2, 4-5 on host 3, each with only its own address; the input seen on host 1 only"
check "the rig's mpirun is quiet" test ! -s "$TMP/err"

# From here on the input and the output are in $HIDDEN: every run shows that
# only rank 0 (on host 1) reads the input and writes the output and journal.
echo "it_multihost: results on 3 hosts are byte-identical to a run alone"
b2=$(sent 2) b3=$(sent 3)
mh "$IN" > "$TMP/out" 2> "$TMP/err"
check "prime on 3 hosts: exit 0" test $? -eq 0
mpi_noise
same "$TMP/out" "$TMP/primes.ref" "prime on 3 hosts, stdout"
check "prime on 3 hosts: nothing on stderr" test ! -s "$TMP/err"
# results from hosts 2 and 3 crossed the bridge (37-114 kB each measured;
# starting the daemons alone is 3 kB)
check "host 2 sent its results over the bridge ($(($(sent 2) - b2)) bytes)" test $(($(sent 2) - b2)) -gt 10000
check "host 3 sent its results over the bridge ($(($(sent 3) - b3)) bytes)" test $(($(sent 3) - b3)) -gt 10000
mh -o "$OUT" "$IN" > "$TMP/out" 2> "$TMP/err"
check "-o on 3 hosts: exit 0" test $? -eq 0
mpi_noise
same "$OUT" "$TMP/primes.ref" "-o on 3 hosts"
check "-o on 3 hosts: nothing on stdout or stderr" test ! -s "$TMP/out" -a ! -s "$TMP/err"
check "-o on 3 hosts: no journal or partial file left" test ! -e "$OUT.journal" -a ! -e "$OUT.partial"
rm -f "$OUT"
(cd "$TMP" && timeout -s KILL 60 "${MPIRUN[@]}" --host "${IPS[0]}:1,${IPS[1]}:1,${IPS[2]}:1" \
  -np 3 "$MR" -t 2 "$IN") > "$TMP/out" 2> "$TMP/err"
check "-t 2, one rank per host: exit 0" test $? -eq 0
same "$TMP/out" "$TMP/primes.ref" "-t 2, one rank per host"

echo "it_multihost: every host computes; --joblog names the host"
seq 1 18 > "$HIDDEN/ids.txt"
mh -e ': {}; sleep 0.1; hostname' -c 1 --joblog "$HIDDEN/jl" "$HIDDEN/ids.txt" > "$TMP/out" 2> "$TMP/err"
check "exec on 3 hosts: exit 0" test $? -eq 0
check "exec on 3 hosts: 18 results in order" test "$(cut -f1 "$TMP/out" | tr '\n' ' ')" = "$(seq 1 18 | tr '\n' ' ')"
check "every host ran commands" test "$(cut -f2 "$TMP/out" | sort -u | tr '\n' ' ')" = "${HOSTS[*]} "
# joblog Host: ':' for rank 0's host (as GNU parallel), the host name otherwise
awk -F'\t' -v h1="${HOSTS[0]}" 'NR == FNR { h[$1] = $2; next }
  FNR > 1 { want = (h[$1] == h1) ? ":" : h[$1]; if ($2 != want) bad++; n++ }
  END { exit bad || n != 18 }' "$TMP/out" "$HIDDEN/jl"
check "joblog Host is the host each command ran on" test $? -eq 0

echo "it_multihost: --isolate and failed items on remote hosts"
printf 'a\nsegv\nb\nabort\nc\nexit\nd\nfail\ne\nhang\nf\n' > "$HIDDEN/crash.txt"
printf 'a\ta\nb\tb\nc\tc\nd\td\ne\te\nf\tf\n' > "$TMP/crash.want"
(cd "$HIDDEN" && timeout -s KILL 60 "${MPIRUN[@]}" --hostfile "$TMP/hostfile" -np 6 \
  "$MR" -j crash --isolate --timeout 1 -c 1 crash.txt) > "$TMP/out" 2> "$TMP/err"
check "crash job on 3 hosts: exit 5 (5 failed items)" test $? -eq 5
mpi_noise
same "$TMP/out" "$TMP/crash.want" "crash job on 3 hosts: every other item written"
check "crash job on 3 hosts: segfault reported with its line" grep -q '^crash.txt:2: error: the job crashed: signal 11' "$TMP/err"
check "crash job on 3 hosts: only the 5 error lines on stderr" test "$(wc -l < "$TMP/err")" -eq 5

echo "it_multihost: --retries sends an item that failed on one host to another"
# every command fails on host 2 (a tool missing there, say): with one retry
# each item must land on another host, not on host 2's other rank
seq 1 60 > "$HIDDEN/r.txt"
mh -e "test \"\$(hostname)\" != ${HOSTS[1]} && echo ok {}" --retries 1 -c 1 --joblog "$HIDDEN/rjl" "$HIDDEN/r.txt" > "$TMP/out" 2> "$TMP/err"
check "--retries 1 with host 2 failing everything: exit 0" test $? -eq 0
mpi_noise
check "--retries 1 with host 2 failing everything: 60 results" test "$(grep -c '	ok ' "$TMP/out")" -eq 60
check "--retries 1 with host 2 failing everything: nothing on stderr" test ! -s "$TMP/err"
# the joblog names the host that gave each item's answer: never host 2
check "--retries 1: the joblog has a line per item" test "$(tail -n +2 "$HIDDEN/rjl" | wc -l)" -eq 60
check "--retries 1: the joblog names the host of the answer, not of the failure" \
  test "$(cut -f2 "$HIDDEN/rjl" | grep -c -x "${HOSTS[1]}")" -eq 0

# midway FILE CMD...: runs CMD in the background (its pid in $job_pid) and
# returns once FILE has content
midway() {
  local file=$1 i=0
  shift
  "$@" &
  job_pid=$!
  while [ ! -s "$file" ] && [ $i -lt 400 ] && kill -0 $job_pid 2> /dev/null; do
    sleep 0.05
    i=$((i + 1))
  done
}
# mpirun's pid: the process named mpirun on host 1
mpirun_pid() { ps -o pid=,comm= -p "$(ip netns pids "${HOSTS[0]}" | paste -sd,)" | awk '$2 == "mpirun" { print $1 }'; }

echo "it_multihost: SIGTERM to mpirun drains every host, --resume completes"
rm -f "$OUT" "$OUT".*
midway "$OUT.partial" mh -j sleep -o "$OUT" "$HIDDEN/work.txt" 2> "$TMP/err"
sleep 0.2
kill -TERM "$(mpirun_pid)"
wait $job_pid
rc=$?
# mpirun ending the job exits without waiting for its ranks: rank 0 (on
# host 1) may still be writing its last words
for i in $(seq 1 110); do
  ps -o comm= -p "$(ip netns pids "${HOSTS[0]}" | paste -sd,)" 2> /dev/null | grep -qx mapreduce || break
  sleep 0.1
done
check "SIGTERM: mpirun's status is 1" test $rc -eq 1
check "SIGTERM: the ranks drained" grep -q 'stopped: mpirun is ending the job' "$TMP/err"
check "SIGTERM: journal and partial output left" test -s "$OUT.journal" -a -e "$OUT.partial" -a ! -e "$OUT"
mh -j sleep -o "$OUT" --resume "$HIDDEN/work.txt" 2> "$TMP/err"
check "resume after SIGTERM: exit 0" test $? -eq 0
same "$OUT" "$TMP/work.ref" "resume after SIGTERM: identical output"

echo "it_multihost: host 3 dies (kill -9 of everything there, then of its ranks only); --resume on the other two"
for what in host ranks; do
  rm -f "$OUT" "$OUT".*
  midway "$OUT.partial" mh -j sleep -o "$OUT" "$HIDDEN/work.txt" 2> "$TMP/err"
  sleep 0.2
  pids=$(ip netns pids "${HOSTS[2]}")
  # host: orted and the ranks; ranks: the two mapreduce processes only
  # shellcheck disable=SC2086
  [ $what = ranks ] && pids=$(ps -o pid=,comm= -p "$(echo $pids | tr ' ' ,)" | awk -v me="$(basename "$MR" | cut -c1-15)" '$2 == me { print $1 }')
  # shellcheck disable=SC2086
  kill -9 $pids
  t0=$(date +%s%N)
  wait $job_pid
  rc=$? secs=$((($(date +%s%N) - t0) / 1000000000))
  check "$what killed: the job ends with a failure status (got $rc)" test $rc -ne 0
  # not hung (the guard kills at 60 s); 10 s was a timing a loaded machine misses
  check "$what killed: the job ends within 30 s (took ${secs} s)" test $secs -lt 30
  check "$what killed: journal left, no final file" test -s "$OUT.journal" -a ! -e "$OUT"
  check "$what killed: nothing left on host 3" test -z "$(ip netns pids "${HOSTS[2]}")"
  (cd "$TMP" && timeout -s KILL 60 "${MPIRUN[@]}" --host "${IPS[0]}:2,${IPS[1]}:2" -np 4 \
    "$MR" -j sleep -o "$OUT" --resume "$HIDDEN/work.txt") 2> "$TMP/err"
  check "$what killed: --resume on hosts 1 and 2, exit 0" test $? -eq 0
  same "$OUT" "$TMP/work.ref" "$what killed: resumed output identical (no gap, no duplicate)"
  check "$what killed: resume cleans up" test ! -e "$OUT.partial" -a ! -e "$OUT.journal"
done

finish
