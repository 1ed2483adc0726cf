"""The machine table: what the run ran on and with which settings."""
import datetime
import platform
import subprocess

import config
from peers import have_mpi4py


def sh(cmd):
    return subprocess.run(cmd, shell=True, capture_output=True, text=True,
                          timeout=60).stdout.strip()


def load_average():
    return sh("cut -d' ' -f1-3 /proc/loadavg")


def machine():
    cpu = "unknown"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    mem = "unknown"
    try:
        with open("/proc/meminfo") as f:
            kb = int(f.readline().split()[1])
            mem = f"{kb / 1024 / 1024:.1f} GiB"
    except (OSError, ValueError, IndexError):
        pass
    ompi = sh("mpirun --version 2>&1 | head -1")
    par = sh("parallel --version 2>/dev/null | head -1") or "not installed"
    pyv = sh(f"{config.PY} --version 2>&1")
    m4p = sh(f"{config.PY} -c 'import mpi4py; print(mpi4py.__version__)' "
             f"2>&1") if have_mpi4py() else "not installed"
    mrv = sh(f"{config.MR} --version 2>&1 | head -1")
    costs = []
    costs_bin = f"{config.ROOT}/build/bench/machine_costs"
    for line in sh(f"{costs_bin} 2>/dev/null").splitlines():
        name, _, value = line.partition("\t")
        if value:
            costs.append((name, value))
    rev = sh(f"git -C {config.ROOT} rev-parse --short HEAD 2>/dev/null")
    dirty = sh(f"git -C {config.ROOT} status --porcelain -- src jobs include "
               f"2>/dev/null")
    return [
        ("date", datetime.datetime.now().astimezone().strftime(
            "%Y-%m-%d %H:%M %Z")),
        ("nproc", str(config.NPROC)),
        ("CPU", cpu),
        ("memory", mem),
        ("kernel", platform.release()),
        ("Open MPI", ompi),
        ("Python", f"{pyv}, mpi4py {m4p}"),
        ("GNU parallel", par),
        ("mapreduce", f"{mrv} ({rev}{', modified' if dirty else ''})"),
        *costs,
        ("load average at start", load_average()),
        ("settings", f"--scale {config.SCALE:g} --rounds {config.ROUNDS} "
                     f"--py-items {config.PY_CAP:,} (scaled) "
                     f"--exec-items {config.EXEC_ITEMS:,} "
                     f"--exec-rounds {config.EXEC_ROUNDS} "
                     f"--exec-budget {config.EXEC_BUDGET:g}; "
                     f"files in {config.TMP}"),
    ]
