#!/bin/bash
# it_install.sh: make install as an administrator runs it (DESTDIR staging,
# and a plain PREFIX), the installed tool used from elsewhere: the binary
# under mpirun on the installed sample input, the PBS script, the example
# plugin and library program built against the installed header and
# pkg-config file, the man page, the bash completion; then make uninstall
# leaves nothing of ours.
. "$(dirname "$0")/lib.sh"
ROOT=$PWD
# the build under test: build-SAN/mapreduce is make SANITIZER=SAN's
SAN=""
case $MR in */build-*/mapreduce) SAN=${MR%/mapreduce} && SAN=${SAN##*/build-} ;; esac
# the sanitizer's runtime, for programs linked with a sanitized library
SANFLAGS=${SAN:+-fsanitize=$SAN}
# a make of its own, not the jobserver of a make test that started us
mk() { env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -s ${SAN:+SANITIZER=$SAN} "$@"; }
STAGE=$TMP/stage
PFX=/opt/mapreduce-it # under $STAGE only
P=$STAGE$PFX
HOMEP=$TMP/home/mr # a user's own prefix, installed for real
# ranks of the installed binary; an item list in a directory of their own
runmpi() { ASAN_OPTIONS=detect_leaks=0 timeout 120 mpirun -np "$@"; }
mkdir -p "$TMP/work" "$HOMEP"

echo "it_install: make install DESTDIR PREFIX"
if ! mk install DESTDIR="$STAGE" PREFIX="$PFX" > "$TMP/log" 2>&1; then
  cat "$TMP/log"
  bad "make install exit 0"
  finish
  exit 1
fi
for f in bin/mapreduce include/mapreduce.h lib/libmapreduce.a lib/pkgconfig/mapreduce.pc \
  share/man/man1/mapreduce.1 share/bash-completion/completions/mapreduce \
  share/mapreduce/plugin_collatz.c share/mapreduce/map_example.c \
  share/mapreduce/slurm.sbatch share/mapreduce/pbs.sh share/mapreduce/primes.txt; do
  check "installed $f" test -f "$P/$f"
done
check "installed binary is the one under test" cmp -s "$MR" "$P/bin/mapreduce"
check "binary executable" test -x "$P/bin/mapreduce"
check "nothing outside DESTDIR$PFX" test "$(ls "$STAGE")/$(ls "$STAGE/opt")" = opt/mapreduce-it
cat "$TMP/log"
# nothing installed names the checkout (no source path, no jobs/ to find)
if grep -rlF "$ROOT" "$STAGE" > "$TMP/hits"; then bad "installed files name the checkout: $(cat "$TMP/hits")"
else ok; fi
check "pkg-config file names the prefix" grep -qx "prefix=$PFX" "$P/lib/pkgconfig/mapreduce.pc"
check "man page names the installed share/" grep -q "$PFX/share/mapreduce/" "$P/share/man/man1/mapreduce.1"
check "slurm script starts the installed binary" \
  grep -q "^srun --mpi=pmix $PFX/bin/mapreduce " "$P/share/mapreduce/slurm.sbatch"

echo "it_install: the installed binary, from another directory"
cd "$TMP/work" || exit 2
sed 's/^#.*//' "$P/share/mapreduce/primes.txt" | grep -c . > want.n
(cd "$ROOT" && "$MR" jobs/primes.txt) > want 2> /dev/null
runmpi 3 "$P/bin/mapreduce" "$P/share/mapreduce/primes.txt" > out 2> err
check "installed binary under mpirun exit 0" test $? -eq 0
same out want "installed binary: the primes of the sample input"
check "one line per item" test "$(wc -l < out)" -eq "$(cat want.n)"
# the Python helper and the seed beside it, as a persistent worker
seq 1 30 | runmpi 2 "$P/bin/mapreduce" --worker "python3 $P/share/mapreduce/is_prime.py" > out 2> err
check "installed Python worker: exit 0" test $? -eq 0
check "installed Python worker: 10 primes in 1..30" test "$(grep -c 'True$' out)" -eq 10
"$P/bin/mapreduce" --version > v
check "--version" grep -qx "mapreduce [0-9.]*" v

echo "it_install: the example plugin against the installed header (pkg-config)"
export PKG_CONFIG_PATH=$P/lib/pkgconfig PKG_CONFIG_SYSROOT_DIR=$STAGE
cflags=$(pkg-config --cflags mapreduce)
check "pkg-config --cflags: the staged include/" test "$(echo $cflags)" = "-I$P/include"
cc -std=c11 -O2 -shared -fPIC $cflags -o libcollatz.so "$P/share/mapreduce/plugin_collatz.c"
check "plugin builds" test $? -eq 0
printf '1\n6\n27\n' > c.txt
printf '1\t0\n6\t8\n27\t111\n' > c.want
runmpi 2 "$P/bin/mapreduce" -j ./libcollatz.so c.txt > c.out 2> err
check "plugin runs exit 0" test $? -eq 0
same c.out c.want "plugin: collatz steps"

echo "it_install: the library example against libmapreduce.a (pkg-config)"
# shellcheck disable=SC2046
mpicc -std=c11 -O2 -o map_example "$P/share/mapreduce/map_example.c" \
  $(pkg-config --cflags --libs mapreduce) $SANFLAGS 2> err
check "library example links with pkg-config --libs" test $? -eq 0
cat err
runmpi 3 ./map_example > ex.out 2> err
check "library example runs" test $? -eq 0
check "library example: squares" grep -q "^squares (rc 0): 0 0.25 1 2.25 4" ex.out
check "library example: primes" grep -q "^primes below 1000000: 78498 (rc 0)" ex.out
unset PKG_CONFIG_PATH PKG_CONFIG_SYSROOT_DIR

echo "it_install: the man page"
groff -ww -man -Tutf8 -z "$P/share/man/man1/mapreduce.1" > err 2>&1
check "groff -ww: no warnings" test ! -s err
cat err
MANWIDTH=80 man -l "$P/share/man/man1/mapreduce.1" > man.txt 2> err
check "man -l renders" grep -q "EXIT STATUS" man.txt
check "man -l: no warnings" test ! -s err
if command -v mandoc > /dev/null; then
  mandoc -Tlint -Wwarning "$P/share/man/man1/mapreduce.1" > err 2>&1
  check "mandoc -Tlint" test ! -s err
  cat err
else
  echo "  (mandoc absent: its lint skipped)"
fi

echo "it_install: bash completion"
# comp WORDS...: what completing the last word offers
comp() {
  bash -c '. "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
    complete -p mapreduce > /dev/null || exit 3
    _mapreduce; printf "%s\n" "${COMPREPLY[@]}"' \
    comp "$P/share/bash-completion/completions/mapreduce" "$@"
}
check "an option" test "$(comp "$P/bin/mapreduce" --resume-f)" = "--resume-failed"
comp "$P/bin/mapreduce" --res > r
check "options from --help" test "$(sort r | tr '\n' ' ')" = "--resume --resume-failed "
check "a job name" test "$(comp "$P/bin/mapreduce" -j squ)" = "square"
check "a job name after --job=" test "$(comp "$P/bin/mapreduce" --job = cu)" = "cube"
check "a plugin file" test "$(comp "$P/bin/mapreduce" -j ./libcoll)" = "./libcollatz.so"
check "--halt's values" test "$(comp "$P/bin/mapreduce" --halt ne)" = "never"
check "-r's ops" test "$(comp "$P/bin/mapreduce" -r me)" = "mean"
check "INPUT: a file" test "$(comp "$P/bin/mapreduce" c.t)" = "c.txt"
check "-o: a file" test "$(comp "$P/bin/mapreduce" -o ex.o)" = "ex.out"

echo "it_install: make uninstall removes exactly what install put"
cd "$ROOT" || exit 2
echo other > "$P/bin/other-tool" # not ours: stays
mk uninstall DESTDIR="$STAGE" PREFIX="$PFX"
check "make uninstall exit 0" test $? -eq 0
find "$STAGE" -type f > "$TMP/left"
check "only the other file is left" test "$(cat "$TMP/left")" = "$P/bin/other-tool"
check "share/mapreduce/ removed" test ! -e "$P/share/mapreduce"
[ "$(cat "$TMP/left")" = "$P/bin/other-tool" ] || cat "$TMP/left"

echo "it_install: a user's own prefix, no DESTDIR (PBS script, pkg-config as is)"
mk install PREFIX="$HOMEP" > "$TMP/log" 2>&1
check "make install PREFIX exit 0" test $? -eq 0
cd "$TMP/work" || exit 2
printf 'localhost\nlocalhost\n' > nodes
PBS_NODEFILE=$PWD/nodes PBS_O_WORKDIR=$PWD INPUT=$HOMEP/share/mapreduce/primes.txt \
  OUTPUT=pbs.out ASAN_OPTIONS=detect_leaks=0 timeout 120 bash "$HOMEP/share/mapreduce/pbs.sh" 2> err
check "pbs.sh runs the installed binary" test $? -eq 0
same pbs.out want "pbs.sh: the primes"
PKG_CONFIG_PATH=$HOMEP/lib/pkgconfig pkg-config --libs mapreduce > libs
check "pkg-config --libs" test "$(echo $(cat libs))" = "-L$HOMEP/lib -lmapreduce -lgmp -lm -ldl -pthread"
# the environment module's paths, applied as module load would
(
  eval "$(sed -n -e 's/^set prefix \(.*\)/prefix=\1/p' \
    -e 's/^prepend-path \([A-Z_]*\) *\(.*\)/export \1=\2${\1:+:$\1}/p' \
    "$HOMEP/share/mapreduce/modulefile")"
  check "module: PATH finds mapreduce" test "$(command -v mapreduce)" = "$HOMEP/bin/mapreduce"
  check "module: MANPATH finds the man page" \
    test "$(man -w mapreduce)" = "$HOMEP/share/man/man1/mapreduce.1"
  check "module: PKG_CONFIG_PATH finds mapreduce.pc" \
    test "$(pkg-config --modversion mapreduce)" = "$("$MR" --version | cut -d' ' -f2)"
  finish > /dev/null
) && ok || bad "the environment module"
cd "$ROOT" || exit 2
mk uninstall PREFIX="$HOMEP"
check "nothing left in the user's prefix" test -z "$(find "$HOMEP" -type f)"
finish
