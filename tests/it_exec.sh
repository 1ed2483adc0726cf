#!/bin/bash
# it_exec.sh: exec mode (--exec, --shell), hostile item text, plugins and
# the mr_map library example.
. "$(dirname "$0")/lib.sh"

cat > "$TMP/hostile.txt" <<'EOF'
plain.txt
dir/sub/file.tar.gz
/abs/path
it's; rm -rf "$HOME/x"
$(touch PWNED_DOLLAR)
`touch PWNED_BACKTICK`
a && touch PWNED_AND
x | touch PWNED_PIPE
line\nwith\nescaped newlines
"double" 'single' \back\slash
*
EOF
cd "$TMP" || exit 2

echo "it_exec: replacement strings, with and without a shell"
"$MR" -e 'echo {} {.} {/} {//} {/.} {#}' hostile.txt > out 2> err
check "direct exec exit 0" test $? -eq 0
"$MR" -e "printf '%s|%s|%s|%s|%s|%s\n' {} {.} {/} {//} {/.} {#}" hostile.txt > out.sh 2> err
check "shell exec exit 0" test $? -eq 0
python3 - <<'EOF'
import os
def noext(p):
    stem, ext = os.path.splitext(os.path.basename(p))
    return p[:len(p) - len(ext)]
with open("want", "w") as w, open("want.spaces", "w") as ws:
    for i, line in enumerate(open("hostile.txt"), 1):
        s = line.strip()
        d, b = os.path.split(s)
        vals = [s, noext(s), b, d or ".", noext(b), str(i)]
        w.write(s + "\t" + "|".join(vals) + "\n")
        ws.write(s + "\t" + " ".join(vals) + "\n")
EOF
same out want.spaces "replacements {} {.} {/} {//} {/.} {#} (direct)"
same out.sh want "replacements {} {.} {/} {//} {/.} {#} (shell)"
check "no file created by item text (direct)" test -z "$(ls | grep PWNED)"

echo "it_exec: shell templates never run item text"
for np in 0 3; do
  mpi $np -e 'echo "[{}]" | tr a-z A-Z; echo x{.}y' hostile.txt > out 2> err
  check "shell template -np $np exit 0" test $? -eq 0
  check "shell template -np $np: one line per item" test "$(wc -l < out)" -eq 11
  check "shell template -np $np: no file created by item text" test -z "$(ls | grep PWNED)"
  check "quotes survive" grep -qF "IT'S; RM -RF \"\$HOME/X\"]" out
  check "a glob item is not expanded" grep -qF "*	[*]\\nx*y" out
done
"$MR" -e "echo '{}'" hostile.txt > out
check "inside single quotes too" grep -qxF "\$(touch PWNED_DOLLAR)	\$(touch PWNED_DOLLAR)" out
check "no file created (single quotes)" test -z "$(ls | grep PWNED)"

echo "it_exec: failures, exit statuses, --shell"
printf 'echo one\nexit 3\nkill -9 $$\necho "a\tb"\n' > cmds.txt
"$MR" --shell cmds.txt > out 2> err
check "--shell: 2 failed items -> exit 2" test $? -eq 2
printf 'echo one\tone\necho "a\tb"\ta\tb\n' > want
same out want "--shell output"
check "exit status reported" grep -q '^cmds.txt:2: error: command exited with status 3$' err
check "signal reported" grep -q '^cmds.txt:3: error: command killed by signal 9' err
"$MR" -e 'nonexistent-command {}' hostile.txt > out 2> err
check "unknown command: exit 255" test $? -eq 255
check "unknown command: one line" test "$(wc -l < err)" -eq 1
seq 1 3 > three.txt
"$MR" -e 'sh -c "exit {}"' three.txt > /dev/null 2> err
check "non-zero exits fail their items" test $? -eq 3

echo "it_exec: multi-line output, --raw, output order at several -np"
seq 1 200 > n.txt
mpi 0 -e 'seq {}' n.txt > first
for np in 2 5; do
  mpi $np -e 'seq {}' -c 3 n.txt > out
  same out first "seq {} -np $np identical"
done
check "multi-line output is one line per item" test "$(wc -l < first)" -eq 200
check "newlines escaped" grep -qx '3	1\\n2\\n3' first
mpi 3 --raw -e 'seq {}' n.txt > raw
check "--raw keeps the command's bytes" test "$(wc -l < raw)" -eq 20100
seq 1 3 | "$MR" --raw -e 'echo item {}' > out
printf 'item 1\nitem 2\nitem 3\n' > want
same out want "--raw: no ITEM prefix"

echo "it_exec: plugins"
cd - > /dev/null || exit 2
printf '1\n27\n97\n0\n' > "$TMP/c.txt"
for np in 0 3; do
  mpi $np -j jobs/libcollatz.so "$TMP/c.txt" > "$TMP/out" 2> "$TMP/err"
  check "plugin -np $np: exit 1 (one bad item)" test $? -eq 1
  printf '1\t0\n27\t111\n97\t118\n' > "$TMP/want"
  same "$TMP/out" "$TMP/want" "collatz plugin -np $np"
done
mkdir -p "$TMP/plug"
cat > "$TMP/plug/oldabi.c" <<'EOF'
#include "mapreduce.h"
static int run(void *s, const char *i, size_t n, mr_buf *o) { (void)s; (void)i; (void)n; (void)o; return 0; }
static const mr_job j = {MR_ABI_VERSION + 1, "old", "", 0, run, 0};
MR_PLUGIN(j)
EOF
cat > "$TMP/plug/nosym.c" <<'EOF'
int not_a_plugin(void);
int not_a_plugin(void) { return 1; }
EOF
cc -shared -fPIC -Iinclude -o "$TMP/plug/libold.so" "$TMP/plug/oldabi.c"
cc -shared -fPIC -Iinclude -o "$TMP/plug/libnosym.so" "$TMP/plug/nosym.c"
echo "garbage" > "$TMP/plug/libjunk.so"
plugin_fails() { # NAME PATTERN SO
  mpi "$4" -j "$3" "$TMP/c.txt" > "$TMP/out" 2> "$TMP/err"
  local rc=$?
  check "$1: exit 255" test $rc -eq 255
  check "$1: one line" test "$(wc -l < "$TMP/err")" -eq 1
  check "$1: says '$2'" grep -q -- "$2" "$TMP/err"
}
plugin_fails "wrong ABI" "built for plugin ABI 2, this mapreduce has ABI 1" "$TMP/plug/libold.so" 0
plugin_fails "wrong ABI -np 2" "plugin ABI" "$TMP/plug/libold.so" 2
plugin_fails "no entry symbol" "not a mapreduce plugin" "$TMP/plug/libnosym.so" 0
plugin_fails "not a shared object" "cannot load plugin" "$TMP/plug/libjunk.so" 0
plugin_fails "missing plugin -np 3" "cannot load plugin" "$TMP/plug/libnone.so" 3

# a plugin's own functions are its own, whatever they are named: the
# binary exports only the public API, so a plugin's input_size() or
# pool_new() is not bound to ours
cat > "$TMP/plug/own.c" <<'EOF'
#include <stdio.h>
#include "mapreduce.h"
size_t input_size(const char *s, size_t n);
int pool_new(int x);
int output_write(void);
size_t input_size(const char *s, size_t n) { (void)s; return n * 10; }
int pool_new(int x) { return x + 1; }
int output_write(void) { return 7; }
static int run(void *st, const char *item, size_t len, mr_buf *out) {
  (void)st;
  return mr_buf_printf(out, "%zu %d %d", input_size(item, len), pool_new(41),
                       output_write()) < 0 ? MR_ENOMEM : 0;
}
static const mr_job j = {MR_ABI_VERSION, "own", "", 0, run, 0};
MR_PLUGIN(j)
EOF
cc -shared -fPIC -Iinclude -o "$TMP/plug/libown.so" "$TMP/plug/own.c"
printf 'ab\nabcd\n' > "$TMP/own.txt"
printf 'ab\t20 42 7\nabcd\t40 42 7\n' > "$TMP/own.want"
for np in 0 2; do
  mpi $np -j "$TMP/plug/libown.so" "$TMP/own.txt" > "$TMP/out" 2> "$TMP/err"
  check "plugin with input_size, pool_new, output_write of its own -np $np: exit 0" test $? -eq 0
  same "$TMP/out" "$TMP/own.want" "plugin's own input_size, pool_new, output_write -np $np"
done

echo "it_exec: the library example"
for np in 1 3; do
  ASAN_OPTIONS=detect_leaks=0 timeout 120 mpirun -np $np "${MR_EXAMPLE:-examples/map_example}" > "$TMP/out"
  check "map_example -np $np exit 0" test $? -eq 0
  check "map_example -np $np squares" grep -qx 'squares (rc 0): 0 0.25 1 2.25 4 6.25 9 12.25 16 20.25' "$TMP/out"
  check "map_example -np $np primes" grep -qx 'primes below 1000000: 78498 (rc 0)' "$TMP/out"
done

finish
