#!/bin/bash
# it_messages.sh: what users are told and what they get, as a user tries it
# (issue 15): item text quoted in every shell context, what a command with
# no replacement string gets appended, calc printing parameter / 2 as
# Python does, messages that name the real cause, --halt now stopping at
# the failing item.
. "$(dirname "$0")/lib.sh"
cd "$TMP" || exit 2
touch a1 b2 # what a glob of the item '*' would find

echo "it_messages: --exec quotes the item wherever the template puts it"
printf '*\n' > star.txt
for np in 0 3; do
  mpi $np -e 'echo "`echo {}`"' star.txt > out 2> err
  check "-np $np: {} in backticks in double quotes is not globbed" test "$(cat out)" = "*	*"
  mpi $np -e 'echo "$(echo {})" "${x:-{}}"' star.txt > out 2> err
  check "-np $np: {} in \$( ) and \${ } is not globbed" test "$(cat out)" = "*	* *"
done
printf 'cat <<EOF\n[{}]\nEOF\n' > doc.tpl
"$MR" -e "$(cat doc.tpl)" star.txt > out 2> err
check "a here-document body gets the item unquoted" test "$(cat out)" = "*	[*]"
"$MR" -e "cat <<'EOF'
{}
EOF" star.txt > out 2> err
check "a quoted here-document is refused (exit 255)" test $? -eq 255
check "... saying why" grep -q "^mapreduce: --exec: cannot quote a replacement string in a here-document with a quoted delimiter" err
check "... before anything runs" test ! -s out

echo "it_messages: --exec without a replacement string, and {1}"
printf 'es1.fastq.gz\n' > f.txt
for np in 0 3; do
  mpi $np -e "echo 'size of'" f.txt > out 2> err
  check "-np $np: ' {}' appended as GNU parallel does" test "$(cat out)" = "es1.fastq.gz	size of es1.fastq.gz"
done
printf 'a b\n' > ab.txt
mpi 0 -e 'echo {1}' ab.txt > out 2> err
check "{1} is the item" test "$(cat out)" = "a b	a b"
mpi 0 -e 'echo {2}' ab.txt > out 2> err
check "{2} is refused (exit 255)" test $? -eq 255
check "... naming the one input source" grep -q '^mapreduce: --exec: {2} names input source 2' err

finish
