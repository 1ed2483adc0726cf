#!/bin/sh
# tools/docs.sh: the options the parser knows (src/cli/options.c: the
# longs[] table and the getopt_long string), those --help shows (the usage
# text, mr__options_usage, in the same file) and those the man page
# documents (doc/mapreduce.1, section OPTIONS: the tag line after each .TP)
# are the same; and the man page's version is MR_VERSION. Prints each
# option missing somewhere, with where to add it; exits 1 if any.
cd "$(dirname "$0")/.." || exit 2
SRC=src/cli/options.c
MAN=doc/mapreduce.1
T=$(mktemp -d /tmp/mr-docs.XXXXXX)
trap 'rm -rf "$T"' EXIT

# the parser: {"name", no_argument, NULL, 'x'} and getopt_long(..., ":j:a:uh", ...)
sed -n 's/^[[:space:]]*{"\([a-z0-9-]*\)",[[:space:]]*[a-z_]*argument.*/--\1/p' "$SRC" > "$T/p"
sed -n 's/.*getopt_long([^"]*"\([^"]*\)".*/\1/p' "$SRC" | tr -d ':+' | fold -w1 |
  sed 's/^/-/' >> "$T/p"
# the usage text: lines "  -x, --long ARG  what" and "      --long  what"
# (also "--long[=ARG], --alias  what" and "--long=VALUE  what")
sed -n '/mr__options_usage\[\] *=/,/;$/p' "$SRC" |
  sed -n 's/^[[:space:]]*" \{2,6\}\(-.*\)/\1/p' | sed 's/  .*//' | tr ', ' '\n\n' |
  grep '^--\{0,1\}[a-zA-Z0-9]' | sed -e 's/\[.*//' -e 's/=.*//' > "$T/u"
# the man page: the tag lines of OPTIONS, \fB\-x\fR, \fB\-\-long\fR \fIARG\fR
sed -n '/^\.SH OPTIONS/,/^\.SH /p' "$MAN" | sed -n '/^\.TP/{n;p;}' |
  grep -o '\\fB\(\\-\)\{1,2\}[a-zA-Z0-9][a-z0-9\\-]*\\fR' |
  sed -e 's/^\\fB//' -e 's/\\fR$//' -e 's/\\-/-/g' > "$T/m"

for f in p u m; do sort -u "$T/$f" -o "$T/$f"; done
bad=0
missing() { # missing IN_SET NOT_IN_SET MESSAGE
  for o in $(comm -23 "$T/$1" "$T/$2"); do
    echo "docs: option $o $3"
    bad=1
  done
}
missing p u "is parsed in $SRC but missing from its usage text (mr__options_usage, what --help prints)"
missing p m "is parsed in $SRC but missing from $MAN: add a .TP entry under .SH OPTIONS"
missing u p "is in the usage text of $SRC but the parser (longs[] / getopt_long) does not know it"
missing m p "is documented in $MAN (OPTIONS) but $SRC does not parse it"
[ -s "$T/p" ] || { echo "docs: found no options in $SRC"; bad=1; }

want=$(sed -n 's/^#define MR_VERSION "\(.*\)"/\1/p' include/mapreduce.h)
grep -q "^\.TH MAPREDUCE 1 [^ ]* \"mapreduce $want\"" "$MAN" ||
  { echo "docs: $MAN's .TH line does not say \"mapreduce $want\" (MR_VERSION)"; bad=1; }

[ "$bad" -eq 0 ] && echo "docs: the $(wc -l < "$T/p") options of $SRC are in --help and $MAN"
exit $bad
