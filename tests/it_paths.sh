#!/bin/bash
# it_paths.sh: files the user did not name are never harmed. -o naming a
# standard descriptor (/dev/fd/1, a symlink to /proc/self/fd/1) writes into
# it; a symlink to a file writes through it, only when the caller or root
# owns it; derived names (FILE.partial, FILE.journal) planted as symlinks or
# by another user are refused; one file never serves two roles; a replaced
# output keeps its mode and group.
# Runs as root for the other-user cases (nobody plants the files); skipped
# there otherwise. Never names /dev/stdout itself: a build that replaced it
# would break the machine, so the tests use links of their own to it.
. "$(dirname "$0")/lib.sh"
cd "$TMP" || exit 2

seq 1 5 > in.txt
for i in 1 2 3 4 5; do printf '%s\t%s\n' $i $((i * i)); done > want
is_root=0
[ "$(id -u)" = 0 ] && id nobody > /dev/null 2>&1 && is_root=1
# fatal NAME STATUS: exit status 255 and one line "mapreduce: ..." on stderr
fatal() {
  check "$1: exit 255" test "$2" -eq 255
  check "$1: one line saying why" test "$(grep -c '^mapreduce: ' err)" -eq 1 -a "$(wc -l < err)" -eq 1
}

echo "it_paths: -o naming a standard descriptor writes into it"
ln -s /proc/self/fd/1 to-stdout
ln -s /dev/stdout to-devstdout
ln -s /dev/stderr to-stderr
for np in 0 3; do
  mpi $np -j square -o /dev/fd/1 in.txt > out 2> err
  check "-np $np: -o /dev/fd/1: exit 0" test $? -eq 0
  same out want "-np $np: -o /dev/fd/1: the results on stdout"
  for l in to-stdout to-devstdout; do
    mpi $np -j square -o $l in.txt > out 2> err
    check "-np $np: -o $l: exit 0" test $? -eq 0
    same out want "-np $np: -o $l with stdout to a file: the results there"
    check "-np $np: -o $l: still a symlink" test -L $l
    check "-np $np: -o $l: no partial file or journal left" test ! -e $l.partial -a ! -e $l.journal
  done
  mpi $np -j square -o to-stderr in.txt > out 2> err
  same err want "-np $np: -o to /dev/stderr: the results on stderr"
  check "-np $np: -o to /dev/stderr: nothing on stdout" test ! -s out
  mpi $np -j square -o to-stdout --resume in.txt > out 2> err
  fatal "-np $np: --resume with -o to stdout is refused" $?
done
exec 7> fd7.txt
mpi 0 -j square -o /proc/self/fd/7 in.txt
exec 7>&-
same fd7.txt want "-o /proc/self/fd/7: the results in what descriptor 7 has open"
mkfifo fifo
timeout 60 cat fifo > out &
mpi 0 -j square -o fifo in.txt
wait
same out want "-o FIFO: written in place"
check "-o FIFO: still a FIFO" test -p fifo

echo "it_paths: -o through a symlink writes the file it points to"
mkdir -p d
for np in 0 3; do
  echo old > d/real.txt
  ln -sf d/real.txt lnk
  mpi $np -j square -o lnk in.txt 2> err
  check "-np $np: -o LINK: exit 0" test $? -eq 0
  same d/real.txt want "-np $np: -o LINK: the results in the file it points to"
  check "-np $np: -o LINK: the link stays a link" test -L lnk
  check "-np $np: -o LINK: nothing left beside the link or the file" test "$(ls d | wc -l)" -eq 1 -a ! -e lnk.partial -a ! -e lnk.journal
done
if [ $is_root = 1 ]; then
  echo old > d/real.txt
  ln -sf d/real.txt theirs
  chown -h nobody theirs
  mpi 0 -j square -o theirs in.txt 2> err
  fatal "-o a symlink another user owns" $?
  check "-o their symlink: not followed" test "$(cat d/real.txt)" = old
  mpi 3 -j square --joblog theirs in.txt > /dev/null 2> err
  fatal "-np 3: --joblog a symlink another user owns" $?
  check "--joblog their symlink: not followed" test "$(cat d/real.txt)" = old
fi

mkdir -p e
(cd e && mpi 0 -o '' ../in.txt 2> ../err)
fatal "-o ''" $?
check "-o '': no .partial or .journal left in the directory" test -z "$(ls -A e)"

echo "it_paths: one file never serves two roles"
cp in.txt keep.txt
for np in 0 3; do
  mpi $np --joblog in.txt in.txt > /dev/null 2> err
  fatal "-np $np: --joblog the input" $?
  same in.txt keep.txt "-np $np: --joblog the input: the input intact"
  cp keep.txt in.txt
  check "-np $np: --joblog the input: both named" grep -q "INPUT 'in.txt' and --joblog 'in.txt'" err
  rm -f X X.*
  mpi $np --joblog X -o X in.txt 2> err
  fatal "-np $np: --joblog X -o X" $?
  check "-np $np: --joblog X -o X: both named" grep -q -- "-o 'X' and --joblog 'X'" err
  mpi $np --joblog X.journal -o X in.txt 2> err
  fatal "-np $np: --joblog X.journal -o X" $?
  check "-np $np: --joblog X.journal -o X: no output written" test ! -e X
done
ln in.txt hard.txt
mpi 0 --joblog hard.txt in.txt > /dev/null 2> err
fatal "--joblog a hard link of the input (device and inode, not names)" $?
same in.txt keep.txt "--joblog a hard link of the input: the input intact"
cp keep.txt in.txt
mpi 0 -o in.txt in.txt 2> err
fatal "-o the input" $?
mpi 0 in.txt >> in.txt 2> err
fatal "standard output appended to the input" $?
same in.txt keep.txt "standard output appended to the input: the input intact"
cp keep.txt in.txt # for what follows, whatever happened
mpi 0 -o /dev/null --joblog /dev/null in.txt 2> err
check "-o and --joblog both /dev/null: fine (not a file)" test $? -eq 0

echo "it_paths: derived names are never followed, nor another user's"
for np in 0 3; do
  rm -f res res.* victim evil
  echo victim > victim
  ln -s victim res.journal
  mpi $np -o res in.txt 2> err
  fatal "-np $np: res.journal a symlink" $?
  check "-np $np: res.journal a symlink: its target untouched" test "$(cat victim)" = victim
  rm -f res.journal
  ln -s "$TMP/evil" res.partial
  mpi $np -o res in.txt 2> err
  fatal "-np $np: res.partial a dangling symlink" $?
  check "-np $np: res.partial dangling: nothing created where it points" test ! -e evil
  check "-np $np: res.partial dangling: no res" test ! -e res
  mpi $np -o res --resume in.txt 2> err
  fatal "-np $np: --resume, res.partial a dangling symlink" $?
  check "-np $np: --resume, res.partial dangling: nothing created" test ! -e evil
  rm -f res.partial
done
if [ $is_root = 1 ]; then
  rm -f res res.*
  touch res.journal
  chown nobody res.journal
  mpi 0 -o res in.txt 2> err
  fatal "res.journal another user's" $?
  check "res.journal another user's: says so" grep -q "res.journal' belongs to another user" err
  rm -f res.journal
fi
# a stale journal of one's own (no partial file: nothing to resume) is replaced
rm -f res res.*
echo stale > res.journal
mpi 0 -j square -o res in.txt 2> err
check "a stale journal of one's own: replaced, exit 0" test $? -eq 0
same res want "a stale journal of one's own: the results written"
rm -f res res.*
printf 'mapreduce journal 2\njob -j square\n' > res.journal
mpi 0 -j square -o res --resume in.txt 2> err
check "--resume, a journal without its partial file: exit 0" test $? -eq 0
same res want "--resume, a journal without its partial file: everything computed"

echo "it_paths: a replaced output keeps its mode and group"
for np in 0 3; do
  for extra in "" "-u"; do
    rm -f res res.*
    echo old > res
    chmod 640 res
    [ $is_root = 1 ] && chgrp mail res 2> /dev/null
    group=$(stat -c %G res)
    mpi $np -j square $extra -o res in.txt
    check "-np $np $extra: mode 0640 kept" test "$(stat -c %a res)" = 640
    check "-np $np $extra: group $group kept" test "$(stat -c %G res)" = "$group"
    sort res > got
    same got want "-np $np $extra: replaced whole"
  done
done
if [ $is_root = 1 ]; then
  # a user outside the file's group: the group cannot be kept, so it gets
  # no more than others (as vim does), rather than the user's own group
  chmod 711 "$TMP" # nobody may pass through to u/
  mkdir -m 777 u
  cp in.txt u/in.txt
  echo old > u/res
  chown nobody:mail u/res
  chmod 640 u/res
  runuser -u nobody -- "$MR" -o u/res u/in.txt
  check "another group, not the caller's: exit 0" test $? -eq 0
  check "another group, not the caller's: no group access" test "$(stat -c %a u/res)" = 600
  # root's partial file in a shared directory is not the user's to continue
  echo x > u/res2.partial
  runuser -u nobody -- "$MR" -o u/res2 --resume u/in.txt 2> err
  fatal "a partial file of root's, resumed by another user" $?
  check "a partial file of root's: says whose" grep -q "res2.partial' belongs to another user" err
fi
rm -f res res.*
(umask 077 && mpi 0 -o res in.txt)
check "a new file gets the umask's mode" test "$(stat -c %a res)" = 600


# one FIFO as INPUT and -o (or --joblog): it would wait for a reader that
# is itself
mkfifo same.fifo
timeout 10 "$MR" -j square -o same.fifo same.fifo 2> err
check "one FIFO as INPUT and -o: refused, 255" test $? -eq 255
check "one FIFO as INPUT and -o: says so" grep -q "INPUT 'same.fifo' and -o 'same.fifo' are one file" err
timeout 10 "$MR" -j square --joblog same.fifo same.fifo 2> err
check "one FIFO as INPUT and --joblog: refused, 255" test $? -eq 255

# a low `ulimit -n`: the run is refused at its start, leaving nothing, or
# completes; never refused at the end with everything computed
seq 1 5 > few.txt
fd_bad=0
for n in 6 7 8 9 10 11 12 13 14; do
  rm -f fd.res fd.res.* fd.log
  (ulimit -n $n && exec timeout 10 "$MR" -j square --joblog fd.log -o fd.res few.txt) 2> err
  rc=$?
  if [ $rc -eq 0 ]; then [ "$(wc -l < fd.res)" -eq 5 ] || fd_bad=$((fd_bad + 1))
  elif [ $rc -ne 255 ] || [ -n "$(ls fd.res* fd.log 2> /dev/null)" ]; then
    fd_bad=$((fd_bad + 1))
    echo "ulimit -n $n: exit $rc, left $(ls fd.res* fd.log 2> /dev/null)"
  fi
done
check "ulimit -n 6-14: each run completes, or is refused leaving nothing" test $fd_bad -eq 0
rm -f fd.res fd.res.* fd.log

# the input as standard error: messages would be read back as items
printf 'x\n1\n' > selfin.txt
cp selfin.txt selfin.want
timeout 10 "$MR" -j square selfin.txt 2>> selfin.txt
check "INPUT 2>> INPUT: refused, 255" test $? -eq 255
check "INPUT 2>> INPUT: the input grew by one line only" test "$(wc -l < selfin.txt)" -eq 3
# under mpirun a rank's standard error is mpirun's copy: the file is mpirun's
cp selfin.want selfin.txt
ASAN_OPTIONS=detect_leaks=0 timeout 30 mpirun -np 2 "$MR" -j square selfin.txt 2>> selfin.txt
check "mpirun ... 2>> INPUT: refused" test $? -ne 0
check "mpirun ... 2>> INPUT: says why" grep -q "and standard error are one file" selfin.txt
check "mpirun ... 2>> INPUT: no item read back" test "$(grep -c 'error: ' selfin.txt)" -eq 0

finish
