#!/bin/sh
# Installs the Debian packages mapreduce needs that are not there yet.
#   sh tools/deps.sh           what make, make demo and make test need
#   sh tools/deps.sh --bench   and the peers make bench compares against
#   sh tools/deps.sh --rigs    and Slurm, for tests/it_slurm.sh (CI does this;
#                              on a workstation it skips without them, as
#                              installing slurmd and munge adds services)
set -e
# coreutils' factor and python3 are the tests' references; GNU parallel
# checks that our joblog is one it can read; iproute2 builds the fake hosts
# of tests/it_multihost.sh
PKGS="build-essential openmpi-bin libopenmpi-dev libgmp-dev libcmocka-dev python3 parallel iproute2"
for arg in "$@"; do
  case $arg in
  --bench) PKGS="$PKGS python3-mpi4py time libmath-prime-util-perl" ;;
  --rigs) PKGS="$PKGS slurmctld slurmd slurm-client munge libpmix-dev" ;;
  *) echo "tools/deps.sh: unknown argument '$arg'" >&2; exit 2 ;;
  esac
done
missing=""
for p in $PKGS; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
  echo "installing:$missing"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $missing
fi
