#!/bin/sh
# tools/layers.sh: the folders of src/ are layers, and a file may include
# only headers of its own layer and of the layers below it:
#   base  <  farm  <  run  <  text  <  reduce  <  obs  <  cli
# (base: buffers, errors, idling, I/O helpers; farm: the master/worker farm;
# run: how a job computes an item; text: the text-file side; reduce:
# reductions and the keyed shuffle; obs: seeing a run (progress, status,
# stats, trace, timeline); cli: the command). Prints every include that
# goes up or sideways; exits 1 if any.
cd "$(dirname "$0")/.." || exit 2
order="base farm run text reduce obs cli"
rank() { i=0; for l in $order; do [ "$l" = "$1" ] && { echo $i; return; }; i=$((i + 1)); done; echo 99; }
bad=0
for f in src/*/*.c src/*/*.h; do
  from=$(basename "$(dirname "$f")")
  rf=$(rank "$from")
  for inc in $(sed -n 's/^#include "\([a-z]*\)\/[^"]*"/\1/p' "$f"); do
    if [ "$(rank "$inc")" -gt "$rf" ]; then
      echo "$f: includes from $inc/, a layer above $from/"
      bad=1
    fi
  done
done
[ "$bad" -eq 0 ] && echo "layers: every include goes down (base < farm < run < text < reduce < obs < cli)"
exit $bad
