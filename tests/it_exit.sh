#!/bin/bash
# it_exit.sh: a non-zero exit status reaches the shell without waiting out
# mpirun's end of the job. Open MPI 4's daemon ends a job whose rank exited
# non-zero with SIGCONT, a sleep of odls_base_sigkill_timeout, SIGTERM, the
# same sleep again and SIGKILL; rank 0, when it exits non-zero, leaves a
# helper that cuts those sleeps short (src/cli/launcher.c). Here the sleeps
# are made 40 s each: the runs must end under timeout 70 (room for a
# loaded machine's start-up of 8 ranks) with their own status (1 failed
# item, 124 stopped for time, 143 stopped by SIGTERM, 255 fatal) and their
# output, also when the rank is a shell script's child and when rank 0
# exits from a signal handler; the helper must not outlive mpirun, and a
# status of 0 leaves none. No timing is asserted beyond "before the 80 s
# of the kill sequence" (bench/deadline.sh measures how soon).
. "$(dirname "$0")/lib.sh"
cd "$TMP" || exit 2
unset SLURM_JOB_ID SLURM_JOB_END_TIME PBS_JOBID MAPREDUCE_END_TIME

# slow NP ARGS...: mapreduce under mpirun whose kill sequence sleeps 2 x 40 s
slow() {
  local np=$1
  shift
  ASAN_OPTIONS=detect_leaks=0 timeout -s KILL 70 mpirun --mca odls_base_sigkill_timeout 40 \
    -np "$np" "$@"
}
# helpers_gone PATTERN: no process whose command line matches PATTERN is
# left (the helper ends with mpirun; 11 s at most, it gives up after 10)
helpers_gone() {
  local i
  for i in $(seq 1 110); do
    pgrep -f "$1" > /dev/null || return 0
    sleep 0.1
  done
  return 1
}

{ seq 1 99; echo 12abc; } > bad.txt
seq 1 100 | awk '{ print $1 "\t" $1 * $1 }' > good.ref
grep -v abc bad.txt | awk '{ print $1 "\t" $1 * $1 }' > bad.ref

echo "it_exit: 1 failed item: status 1 under mpirun, at once"
for np in 1 2 8; do
  slow $np "$MR" -j square bad.txt > out 2> err
  check "-np $np: exit 1 before mpirun's kill sequence ends (got $?)" test $? -eq 1
  same out bad.ref "-np $np: every good item written"
  check "-np $np: the bad item named" grep -q '^bad.txt:100: error: ' err
done

echo "it_exit: the rank is a shell script's child"
cat > wrap.sh << 'EOF'
#!/bin/sh
"$@"
EOF
chmod +x wrap.sh
slow 4 ./wrap.sh "$MR" -j square bad.txt > out 2> err
check "wrapped -np 4: exit 1 before mpirun's kill sequence ends (got $?)" test $? -eq 1
same out bad.ref "wrapped -np 4: every good item written"

echo "it_exit: stopped for time: 124"
awk 'BEGIN { for (i = 1; i <= 600; i++) printf "0.2%03d\n", i }' > work.txt
slow 4 "$MR" -j sleep --deadline 15s -o res.txt work.txt 2> err
check "--deadline -np 4: exit 124 before mpirun's kill sequence ends (got $?)" test $? -eq 124
check "--deadline -np 4: says so" grep -q '^mapreduce: stopped for time' err
check "--deadline -np 4: the results so far kept" test -s res.txt.partial

echo "it_exit: SIGTERM to mpirun and its ranks, as scancel sends it: 143"
# ours PATTERN: the processes of this suite's directory whose command
# line matches PATTERN (other suites run the same commands alongside)
ours() {
  local pid
  for pid in $(pgrep -f "$1"); do
    [ "/proc/$pid/cwd" -ef . ] && echo "$pid"
  done
}
# up N PATTERN: N of ours catch SIGTERM (the ranks are ready for the stop)
up() {
  local n=0 pid mask
  for pid in $(ours "$2"); do
    mask=$(awk '/^SigCgt:/ {print $2}' "/proc/$pid/status" 2> /dev/null)
    [ -n "$mask" ] && [ $((0x$mask & 0x4000)) -ne 0 ] && n=$((n + 1))
  done
  [ "$n" -ge "$1" ]
}
rm -f res.txt*
slow 4 "$MR" -j sleep -o res.txt work.txt 2> err &
guard=$!
for i in $(seq 1 800); do up 4 "^$MR -j sleep -o res.txt work.txt\$" && break; sleep 0.05; done
# and some results written (a loaded machine is slow to the first chunk)
for i in $(seq 1 1200); do [ -s res.txt.partial ] && break; sleep 0.05; done
# the ranks too: a SIGCONT from mpirun alone starts their drain only when
# they tell it from a resume, which a loaded machine can blur, and the
# sleep of 40 s would then come first
kill -TERM "$(pgrep -P $guard)" $(ours "^$MR -j sleep -o res.txt work.txt\$")
wait $guard
rc=$?
# mpirun, ending the job on its own SIGTERM, exits without waiting for
# its ranks: rank 0 finishes its drain and its message tens of ms later
# (a user's next command, a --resume, starts after that). The run is over
# when the ranks are.
for i in $(seq 1 110); do
  [ -z "$(ours "^$MR -j sleep -o res.txt work.txt\$")" ] && break
  sleep 0.1
done
check "SIGTERM -np 4: the ranks end too" test -z "$(ours "^$MR -j sleep -o res.txt work.txt\$")"
# mpirun's status: not 0 (a rank's 143, or its own); with the 40 s sleeps,
# rank 0's helper cuts them short (its MPI_Finalize waits on mpirun,
# asleep: it exits from a timer, in a signal handler)
check "SIGTERM -np 4: ended before mpirun's kill sequence (got $rc)" \
  test "$rc" -ne 0 -a "$rc" -ne 137
check "SIGTERM -np 4: says it stopped" grep -q '^mapreduce: stopped' err
check "SIGTERM -np 4: the results so far kept" test -s res.txt.partial

echo "it_exit: fatal: 255"
slow 8 "$MR" -j square missing.txt > out 2> err
check "missing input -np 8: exit 255 before mpirun's kill sequence ends (got $?)" test $? -eq 255
check "missing input -np 8: one line names the file" grep -q "missing.txt" err
slow 2 "$MR" --no-such-option > out 2> err
check "usage error -np 2: exit 255 before mpirun's kill sequence ends (got $?)" test $? -eq 255

echo "it_exit: the results through a pipe, the status through mpirun"
slow 8 "$MR" -j square bad.txt 2> err | cat > out
check "| cat -np 8: mpirun's status 1 (got ${PIPESTATUS[0]})" test "${PIPESTATUS[0]}" -eq 1
same out bad.ref "| cat -np 8: every good item written"

echo "it_exit: the helper ends with mpirun; none for a status of 0"
cp bad.txt gone-bad.txt
slow 4 "$MR" -j square gone-bad.txt > /dev/null 2>&1
check "helper: gone once mpirun has ended" helpers_gone "^$MR -j square gone-bad.txt\$"
seq 1 100 > good.txt
slow 4 "$MR" -j square good.txt > out 2> err
check "exit 0 -np 4: 0 (got $?)" test $? -eq 0
same out good.ref "exit 0 -np 4: the whole output"
check "exit 0 -np 4: no helper" test -z "$(pgrep -f "^$MR -j square good.txt\$")"

finish
