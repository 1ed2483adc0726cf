#!/bin/bash
# it_badinput.sh: bad items, bad files and bad options, as PRODUCT.md says:
# one "FILE:LINE: error:" line per bad item, every good item still written,
# GNU parallel exit statuses, 255 with one line for fatal errors.
. "$(dirname "$0")/lib.sh"

printf '7\r\n12abc\n1e3\n0x10\n+\n\n# a comment\n  11  \n-5\n' > "$TMP/bad.txt"
printf '\0bad\n13\0x\n' >> "$TMP/bad.txt"
head -c 10485760 /dev/zero | tr '\0' '9' >> "$TMP/bad.txt" # a 10 MB line
printf '\n17\n\t19' >> "$TMP/bad.txt"                       # no final newline
cat > "$TMP/bad.want" <<'EOF'
7	true
11	true
-5	false
17	true
19	true
EOF
B="$TMP/bad.txt"
cat > "$TMP/bad.errs" <<EOF
$B:2: error: not an integer: '12abc'
$B:3: error: not an integer: '1e3'
$B:4: error: not an integer: '0x10'
$B:5: error: not an integer: '+'
$B:10: error: NUL byte in line
$B:11: error: NUL byte in line
$B:12: error: line too long (over 1048576 bytes)
EOF

echo "it_badinput: bad items are reported and skipped, good ones written"
for np in 0 1 3 8; do
  for c in "" "-c 1" "-c 3"; do
    # shellcheck disable=SC2086
    mpi $np $c "$B" > "$TMP/out" 2> "$TMP/err"
    rc=$?
    check "bad items -np $np $c: exit 7 (7 failed items)" test $rc -eq 7
    same "$TMP/out" "$TMP/bad.want" "good items -np $np $c"
    same "$TMP/err" "$TMP/bad.errs" "error lines, in input order, -np $np $c"
  done
done

echo "it_badinput: CRLF input gives the same output as LF"
seq 1 500 > "$TMP/lf.txt"
sed 's/$/\r/' "$TMP/lf.txt" > "$TMP/crlf.txt"
mpi 2 -j square "$TMP/lf.txt" > "$TMP/lf.out"
mpi 2 -j square "$TMP/crlf.txt" > "$TMP/crlf.out"
same "$TMP/crlf.out" "$TMP/lf.out" "CRLF = LF"
printf '\xef\xbb\xbf5\n6\n' > "$TMP/bom.txt"
mpi 0 -j square "$TMP/bom.txt" > "$TMP/out"
printf '5\t25\n6\t36\n' > "$TMP/want"
same "$TMP/out" "$TMP/want" "a UTF-8 byte order mark is not part of the first item"

echo "it_badinput: empty and comment-only files"
: > "$TMP/empty.txt"
printf '# nothing\n\n   \n' > "$TMP/comments.txt"
for f in empty comments; do
  for np in 0 2; do
    mpi $np "$TMP/$f.txt" > "$TMP/out" 2> "$TMP/err"
    check "$f -np $np exit 0" test $? -eq 0
    check "$f -np $np no output" test ! -s "$TMP/out"
    check "$f -np $np no messages" test ! -s "$TMP/err"
  done
done

echo "it_badinput: exit status counts failures, 101 past 100"
for i in $(seq 1 150); do echo x; done > "$TMP/x150.txt"
head -100 "$TMP/x150.txt" > "$TMP/x100.txt"
mpi 2 "$TMP/x150.txt" > /dev/null 2>&1
check "150 failures: exit 101" test $? -eq 101
mpi 2 "$TMP/x100.txt" > /dev/null 2>&1
check "100 failures: exit 100" test $? -eq 100

echo "it_badinput: fatal errors are one line and exit 255"
fatal() { # fatal NAME PATTERN ARGS...
  local name=$1 pat=$2
  shift 2
  "$@" > "$TMP/out" 2> "$TMP/err"
  local rc=$?
  check "$name: exit 255" test $rc -eq 255
  check "$name: one line on stderr" test "$(wc -l < "$TMP/err")" -eq 1
  check "$name: says '$pat'" grep -q -- "$pat" "$TMP/err"
  check "$name: nothing on stdout" test ! -s "$TMP/out"
}
fatal "missing file" "cannot read '$TMP/nope': No such file" mpi 0 "$TMP/nope"
fatal "missing file -np 3" "cannot read '$TMP/nope'" mpi 3 "$TMP/nope"
fatal "a directory" "Is a directory" mpi 0 "$TMP"
fatal "unwritable output" "cannot write '/nonexistent/x'" mpi 0 -o /nonexistent/x "$TMP/lf.txt"
fatal "unwritable output -np 2" "cannot write" mpi 2 -o /nonexistent/x "$TMP/lf.txt"
fatal "unknown option" "unknown option '--frobnicate'" mpi 0 --frobnicate
fatal "unknown option -np 2" "unknown option '-z'" mpi 2 -z
fatal "unknown job" "unknown job 'nope'" mpi 0 -j nope "$TMP/lf.txt"
fatal "bad chunk size" "--chunksize wants" mpi 0 -c 0 "$TMP/lf.txt"
fatal "two inputs" "one INPUT at most" mpi 0 a b
if [ -e /dev/full ]; then
  fatal "a full disk" "No space left on device" mpi 0 -j square "$TMP/lf.txt" -o /dev/full
fi
chmod 000 "$TMP/lf.txt"
if ! [ -r "$TMP/lf.txt" ]; then # root reads anyway
  fatal "unreadable file" "Permission denied" mpi 0 "$TMP/lf.txt"
fi
chmod 644 "$TMP/lf.txt"

echo "it_badinput: a failed -o run leaves the old file and no temporary"
echo "old" > "$TMP/keep.txt"
mpi 0 -j nope -o "$TMP/keep.txt" "$TMP/lf.txt" 2> /dev/null
check "old output kept" grep -qx old "$TMP/keep.txt"
check "no temporary left" test -z "$(ls "$TMP" | grep 'keep.txt.tmp')"

echo "it_badinput: help and version"
mpi 0 --help > "$TMP/out"
check "--help exit 0" test $? -eq 0
check "--help shows usage" grep -q '^Usage: mapreduce' "$TMP/out"
mpi 2 --version > "$TMP/out"
check "--version under mpirun prints once" test "$(wc -l < "$TMP/out")" -eq 1

echo "it_badinput: a closed pipe ends the run quietly"
seq 1 2000000 > "$TMP/big.txt"
(timeout 60 "$MR" -j square "$TMP/big.txt" 2> "$TMP/err"; echo $? > "$TMP/rc") | head -1 > "$TMP/out"
check "| head -1 gets the first line" grep -qx '1	1' "$TMP/out"
check "| head -1 leaves stderr empty" test ! -s "$TMP/err"
check "| head -1 ends by SIGPIPE" test "$(cat "$TMP/rc")" -eq 141

echo "it_badinput: --max-line holds for short lines read whole"
printf '12345678901234567890\n5\n' > "$TMP/ml.txt"
mpi 0 -j square --max-line 16 "$TMP/ml.txt" > "$TMP/out" 2> "$TMP/err"
check "a 20-byte line over --max-line 16 fails (exit 1)" test $? -eq 1
check "it is reported with its line" grep -q "^$TMP/ml.txt:1: error: line too long (over 16 bytes)\$" "$TMP/err"
check "the good line is still written" test "$(cat "$TMP/out")" = "$(printf '5\t25')"

finish
