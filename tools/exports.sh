#!/bin/sh
# tools/exports.sh [BIN [LIB]]: the mapreduce binary exports to plugins
# exactly the functions include/mapreduce.h declares MR_API, and every
# global symbol of the library is public (mr_) or internal (mr__): a program
# linked with libmapreduce.a, or a plugin, may name its own functions as it
# likes. Prints what is wrong; exits 1 if anything is.
cd "$(dirname "$0")/.." || exit 2
BIN=${1:-${MR:-mapreduce}}
LIB=${2:-${MR_LIB:-build/libmapreduce.a}}
public=$(sed -n 's/^MR_API [^(]*[ *]\(mr_[a-z0-9_]*\)(.*/\1/p' include/mapreduce.h | sort)
bad=0
# the binary's own functions in its dynamic symbol table (data symbols there
# are copies of MPI's and libc's, placed by the linker)
exported=$(nm -D --defined-only "$BIN" | awk '$2 == "T" || $2 == "W" {print $3}' |
  grep -v -e '^_' -e '^data_start$' | sort) # the C run-time's own
extra=$(printf '%s\n' "$exported" | grep -vxF "$public")
missing=$(printf '%s\n' "$public" | grep -vxF "$exported")
[ -n "$extra" ] && { echo "exports: $BIN exports more than the public API:" $extra; bad=1; }
[ -n "$missing" ] && { echo "exports: $BIN does not export:" $missing; bad=1; }
globals=$(nm -g --defined-only "$LIB" 2>/dev/null | awk 'NF == 3 {print $3}' | sort -u)
stray=$(printf '%s\n' "$globals" | grep -v -e '^mr__' -e '^__' | grep -vxF "$public") # __: a sanitizer's
[ -n "$stray" ] && { echo "exports: $LIB has global symbols without mr__:" $stray; bad=1; }
[ "$bad" -eq 0 ] && echo "exports: $BIN and $LIB show only the public API" \
  "($(printf '%s\n' "$public" | wc -l) functions); the rest is mr__"
exit $bad
