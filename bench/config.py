"""The settings of one benchmark run: paths, item counts, rounds, timeouts.
bench.py sets them once from its command line (configure) before any
workload runs; the other modules read them as config.NAME when they run.
"""
import os

BENCH = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(BENCH)
PLUGIN = os.path.join(ROOT, "build", "bench", "libprime.so")
PYPEER = os.path.join(BENCH, "pypeer.py")
NPROC = os.cpu_count() or 1
WORKLOADS = ("cheap", "prime", "random", "bigprimes", "sustained", "skewed",
             "clustered", "io", "exec", "worker", "overhead", "observe", "memory",
             "reduce")

# set by configure(); the defaults here are those of a full run
MR = os.path.join(ROOT, "mapreduce")
SERIAL = os.path.join(ROOT, "build", "bench", "serial")
PY = "/usr/bin/python3"
QUICK = False
SCALE = 1.0
ROUNDS = 3
PY_CAP = 1_000_000
EXEC_ITEMS = 10_000
EXEC_ROUNDS = 1
OBSERVE_ROUNDS = 7  # the observe workload's rounds: its costs are medians
EXEC_BUDGET = 60.0  # seconds one GNU parallel row may take
TMP = "/dev/shm/mapreduce-bench"
RESULTS = os.path.join(BENCH, "RESULTS.md")
TIMEOUT = 300  # seconds per command
ONLY = set(WORKLOADS)


def default_python():
    """The mpi4py peer needs Debian's python3-mpi4py, which only
    /usr/bin/python3 sees (a pyenv python3 may come first on PATH)."""
    py = "/usr/bin/python3"
    return py if os.access(py, os.X_OK) else "python3"


def default_tmp():
    return ("/dev/shm/mapreduce-bench" if os.access("/dev/shm", os.W_OK)
            else "/tmp/mapreduce-bench")


def configure(args):
    """Takes bench.py's parsed options; None means the default, which for
    --scale, --rounds and --exec-budget depends on --quick."""
    global MR, SERIAL, PY, QUICK, SCALE, ROUNDS, PY_CAP, EXEC_ITEMS, \
        EXEC_ROUNDS, EXEC_BUDGET, TMP, RESULTS, TIMEOUT, ONLY, OBSERVE_ROUNDS
    QUICK = args.quick
    SCALE = args.scale if args.scale is not None else \
        0.1 if QUICK else 1.0
    ROUNDS = args.rounds if args.rounds is not None else \
        1 if QUICK else 3
    PY_CAP = int(args.py_items * SCALE)
    EXEC_ITEMS = int(args.exec_items * SCALE)
    EXEC_ROUNDS = args.exec_rounds
    OBSERVE_ROUNDS = args.observe_rounds if args.observe_rounds is not None \
        else 3 if QUICK else 7
    EXEC_BUDGET = args.exec_budget if args.exec_budget is not None else \
        15.0 if QUICK else 60.0
    TMP = args.tmp or default_tmp()
    TIMEOUT = args.timeout
    MR = args.mapreduce or os.path.join(ROOT, "mapreduce")
    SERIAL = args.serial or os.path.join(ROOT, "build", "bench", "serial")
    PY = args.python or default_python()
    ONLY = set(args.only.split(",")) if args.only else set(WORKLOADS)
    # only a full run replaces bench/RESULTS.md: a partial one (quick,
    # scaled, some workloads only) would drop the tables it did not run
    RESULTS = args.results or (
        os.path.join(TMP, "RESULTS.md")
        if QUICK or SCALE != 1 or args.only
        else os.path.join(BENCH, "RESULTS.md"))
    for k, v in (("OMPI_ALLOW_RUN_AS_ROOT", "1"),
                 ("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1"),
                 ("OMPI_MCA_rmaps_base_oversubscribe", "1")):
        os.environ.setdefault(k, v)
