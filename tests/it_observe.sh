#!/bin/bash
# it_observe.sh: seeing a run: --progress on a terminal and in a log,
# --stats, --stats-json, --trace, --timeline and --status, the results
# unchanged by any of them, and the report files refused where they would
# clobber another file.
. "$(dirname "$0")/lib.sh"
cd "$TMP" || exit 2

seq 1 20000 > nums.txt
for i in $(seq 1 40); do echo 0.03; done > sleeps.txt
printf '0.01\n0.01\nbad\n0.01\n' > withbad.txt
"$MR" -j square nums.txt > want.sq
"$MR" -j sleep sleeps.txt > want.sl

echo "it_observe: progress on a terminal (mpirun's stderr a pty), one redrawn line"
# script gives the command a pseudo-terminal; the ranks' own stderr is a
# pty in any case under mpirun, so this is mpirun's real destination
timeout 120 script -qec "ASAN_OPTIONS=detect_leaks=0 mpirun -np 2 '$MR' -j sleep --progress sleeps.txt > out.tty 2> /dev/tty" tty.log > /dev/null
check "pty: exit 0" test $? -eq 0
same out.tty want.sl "pty: results unchanged"
check "pty: the line is redrawn (\\r ... ESC[K)" grep -q $'\r''mapreduce: .*items/s.*'$'\033''\[K' tty.log
check "pty: it ends with a finished line" grep -q 'mapreduce: finished: 40 items' tty.log
check "pty: no timestamped log lines" bash -c "! grep -Eq 'mapreduce: [0-9]{4}-[0-9]{2}-[0-9]{2} ' tty.log"
timeout 120 script -qec "'$MR' -j sleep --bar sleeps.txt > out.tty0 2> /dev/tty" tty0.log > /dev/null
same out.tty0 want.sl "pty without mpirun (--bar): results unchanged"
check "pty without mpirun: redrawn line" grep -q $'\r''mapreduce: .*ETA' tty0.log

timeout 120 script -qec "'$MR' -j sleep --progress sleeps.txt" both.log > /dev/null
check "results on the same terminal: plain progress lines, no redrawing" \
  bash -c "grep -Eq 'mapreduce: [0-9]{4}-[0-9]{2}-[0-9]{2} .*finished: 40 items' both.log && ! grep -q \$'\033' both.log"

echo "it_observe: progress in a log file under mpirun (its ranks' pty is not the destination)"
# the same pty above, now with mpirun's stderr a file: plain lines
timeout 120 script -qec "ASAN_OPTIONS=detect_leaks=0 mpirun -np 2 '$MR' -j sleep --progress=0.2 sleeps.txt > out.log 2> err.log" tty1.log > /dev/null
same out.log want.sl "log: results unchanged"
check "log: timestamped progress lines" grep -Eq '^mapreduce: [0-9]{4}-[0-9]{2}-[0-9]{2} [0-9:]{8} [0-9,]+ of ~?[0-9,]+ items \([0-9.]+%\), .* items/s, 0 failed, elapsed .*, ETA ' err.log
check "log: a finished line" grep -q 'finished: 40 items' err.log
check "log: no carriage return, no escape" bash -c "! grep -q \$'[\r\033]' err.log"
check "log: nothing on stdout but results" bash -c "! grep -q mapreduce: out.log"
cat sleeps.txt | mpi 0 -j sleep --progress=0.2 - 2> err.pipe > out.pipe
same out.pipe want.sl "pipe input: results unchanged"
check "pipe input: the total is unknown, said so" grep -q 'total unknown' err.pipe

echo "it_observe: every report at once, results byte for byte"
mpi 3 -j square --progress --stats --stats-json st.json --status status.txt \
  --trace tr.json --timeline tl.svg nums.txt > out.all 2> err.all
check "all: exit 0" test $? -eq 0
same out.all want.sq "all: stdout unchanged"
mpi 3 -j square --progress --stats --trace tr2.json -o out.o nums.txt 2> err.o
same out.o want.sq "all with -o: file unchanged"
check "stats: the serial time and what parallel made of it" grep -Eq 'computing took .* in all \(one item after another\); in parallel ' err.all
check "stats: busy per rank" grep -Eq 'busy \(items\): rank 0 [0-9]+% \([0-9,]+\), rank 1 ' err.all
check "stats: the slowest items by line" grep -Eq 'slowest: lines? [0-9]+' err.all
python3 - st.json tr.json 3 > py.out 2>&1 <<'EOF'
import json, sys
st = json.load(open(sys.argv[1]))
tr = json.load(open(sys.argv[2]))
np = int(sys.argv[3])
for k in ("wall_s", "seconds", "items", "ok", "failed", "items_per_s", "serial_s",
          "saved_s", "speedup", "efficiency", "imbalance", "chunks", "per_rank", "slowest"):
    assert k in st, k
assert st["items"] == 20000 and st["ok"] == 20000, st
assert [r["rank"] for r in st["per_rank"]] == list(range(np))
assert sum(r["items"] for r in st["per_rank"]) == 20000
ev = tr["traceEvents"]
chunks = [e for e in ev if e.get("ph") == "X" and e.get("cat") == "chunk"]
assert len(chunks) == st["chunks"], (len(chunks), st["chunks"])
assert sum(e["args"]["items"] for e in chunks) == 20000
assert {e["pid"] for e in chunks} == set(range(np)), {e["pid"] for e in chunks}
names = {e["pid"] for e in ev if e.get("name") == "process_name"}
assert names == set(range(np)), names
assert any(e.get("name") == "read" for e in ev) and any(e.get("name") == "write" for e in ev)
print("json ok")
EOF
check "stats-json and trace: parse, a span per chunk, every rank" grep -q 'json ok' py.out
cat py.out | grep -v 'json ok' | head -5
python3 - tl.svg 3 > svg.out 2>&1 <<'EOF'
import sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
ns = "{http://www.w3.org/2000/svg}"
lanes = [g for g in root.iter(ns + "g") if g.get("class") == "lane"]
assert len(lanes) == int(sys.argv[2]), len(lanes)
assert any("items in" in (t.text or "") for t in root.iter(ns + "text"))
print("svg ok")
EOF
check "timeline: well-formed SVG, a lane per rank" grep -q 'svg ok' svg.out
check "status: finished, whole" bash -c "head -1 status.txt | grep -q '^mapreduce status' && grep -q '^state: finished' status.txt && tail -1 status.txt | grep -qx end"
check "status: a line per rank" test "$(grep -c '^rank [0-9]*: ' status.txt)" -eq 3
check "no temporary file left" bash -c "! ls -A | grep -q '\.tmp\.'"

echo "it_observe: the status file is a whole document whenever it is read"
# 2 s of sleeps on 2 ranks: a loaded machine reads the file slowly (a cat
# and a subshell a time), and 0.8 s gave it few chances for 5 reads
for i in $(seq 1 80); do echo 0.05; done > long.txt
MAPREDUCE_STATUS_INTERVAL=0.02 ASAN_OPTIONS=detect_leaks=0 timeout 120 \
  mpirun -np 2 "$MR" -j sleep --status live.txt long.txt > /dev/null 2> err.live &
pid=$!
reads=0 broken=0
while kill -0 "$pid" 2> /dev/null; do
  if [ -e live.txt ]; then
    doc=$(cat live.txt; echo x) # the x keeps the final newline
    reads=$((reads + 1))
    case "$doc" in
    "mapreduce status"*$'\nend\nx') ;;
    *) broken=$((broken + 1)) ;;
    esac
  fi
done
wait "$pid"
check "status: run exit 0" test $? -eq 0
check "status: read during the run ($reads reads)" test "$reads" -ge 5
check "status: never a partial document ($broken broken)" test "$broken" -eq 0
check "status: running was seen, finished at the end" grep -q '^state: finished' live.txt

echo "it_observe: failures and a resume are counted"
mpi 2 -j sleep --progress=0.1 --stats --halt now,fail=1 -o res.out withbad.txt > /dev/null 2> err.halt
mpi 2 -j sleep --progress=0.1 --stats --resume -o res.out withbad.txt > /dev/null 2> err.res
check "resume: the items done before are counted" grep -Eq 'finished: 4 items.*\([0-9]+ done before\)' err.res
mpi 2 -j sleep --progress=0.1 --stats=line withbad.txt > /dev/null 2> err.bad
check "failures: counted in the last line" grep -q 'finished: 4 items, .* 1 failed' err.bad
check "--stats=line: the one key=value line" grep -q '^mapreduce: stats: items=4 ok=3 failed=1 ' err.bad

echo "it_observe: report files that would clobber another are refused"
mpi 2 -j square --status nums.txt nums.txt > /dev/null 2> err.r1
check "--status on the input: refused" grep -q "INPUT 'nums.txt' and --status 'nums.txt' are one file" err.r1
check "--status on the input: input intact" test "$(wc -l < nums.txt)" -eq 20000
mpi 0 -j square -o o.txt --trace o.txt nums.txt > /dev/null 2> err.r2
check "--trace on -o: refused" grep -q "one file" err.r2
ln -s elsewhere.json link.json
mpi 2 -j square --timeline link.json nums.txt > /dev/null 2> err.r3
check "--timeline through a symlink: refused" grep -q "is a symlink" err.r3
check "--timeline through a symlink: nothing made" test ! -e elsewhere.json
mpi 2 -j square --status nodir/s.txt -o made.txt nums.txt > /dev/null 2> err.r7
check "--status in a missing directory: exit 255" test $? -eq 255
check "--status in a missing directory: said" grep -q "cannot write 'nodir/s.txt'" err.r7
check "--status in a missing directory: no output made" test ! -e made.txt
mpi 0 -j square --stats=json < /dev/null > /dev/null 2> err.r5
check "--stats=json without FILE: a usage error" grep -q 'needs a FILE' err.r5
mpi 0 -j square --stats-json st0.json --stats=line nums.txt > /dev/null 2> err.r6
check "--stats-json FILE without MPI" python3 -c "import json; assert json.load(open('st0.json'))['items'] == 20000"

finish
