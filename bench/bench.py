"""bench.py: mapreduce side by side with its peers, on the same input files,
in one run. bench/run.sh builds the serial baseline and calls this; see
bench/README.md for the knobs and for what every column means.

Each workload runs all of its peers once per round, rounds interleaved (and
rotated), and keeps each peer's best time, so a burst of load from elsewhere
hurts one round of every peer rather than all rounds of one. Every command
runs under timeout(1). Nothing here passes or fails on speed: the output is
tables, plus a check that every peer wrote the same bytes as the serial loop.
"""
import datetime
import filecmp
import os
import platform
import re
import resource
import shlex
import shutil
import statistics
import subprocess
import sys
import time

BENCH = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(BENCH)
MR = os.environ.get("BENCH_MAPREDUCE", os.path.join(ROOT, "mapreduce"))
SERIAL = os.environ.get("BENCH_SERIAL", os.path.join(ROOT, "build", "bench",
                                                     "serial"))
PLUGIN = os.path.join(ROOT, "build", "bench", "libprime.so")
PY = os.environ.get("BENCH_PYTHON", "/usr/bin/python3")
PYPEER = os.path.join(BENCH, "pypeer.py")
QUICK = os.environ.get("BENCH_QUICK", "") not in ("", "0")
SCALE = float(os.environ.get("BENCH_SCALE", "0.1" if QUICK else "1"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "1" if QUICK else "3"))
PY_CAP = int(float(os.environ.get("BENCH_PY_ITEMS", "1000000")) * SCALE)
EXEC_ITEMS = int(float(os.environ.get("BENCH_EXEC_ITEMS", "10000")) * SCALE)
EXEC_ROUNDS = int(os.environ.get("BENCH_EXEC_ROUNDS", "1"))
EXEC_BUDGET = float(os.environ.get("BENCH_EXEC_BUDGET",
                                   "15" if QUICK else "60"))  # s per row
TMP = os.environ.get("BENCH_TMP") or ("/dev/shm/mapreduce-bench"
                                      if os.access("/dev/shm", os.W_OK)
                                      else "/tmp/mapreduce-bench")
# only a full run replaces bench/RESULTS.md: a partial one (quick, scaled,
# some workloads only) would drop the tables it did not run
RESULTS = os.environ.get("BENCH_RESULTS") or (
    os.path.join(TMP, "RESULTS.md")
    if QUICK or SCALE != 1 or os.environ.get("BENCH_ONLY")
    else os.path.join(BENCH, "RESULTS.md"))
NPROC = os.cpu_count() or 1
TIMEOUT = int(os.environ.get("BENCH_TIMEOUT", "300"))  # seconds per command

for k, v in (("OMPI_ALLOW_RUN_AS_ROOT", "1"),
             ("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1"),
             ("OMPI_MCA_rmaps_base_oversubscribe", "1")):
    os.environ.setdefault(k, v)

report = []  # the Markdown that goes to RESULTS.md


def say(text=""):
    print(text, flush=True)
    report.append(text)


def note(text):
    """Progress on stderr: not part of the tables."""
    print(f"bench: {text}", file=sys.stderr, flush=True)


def sh(cmd):
    return subprocess.run(cmd, shell=True, capture_output=True, text=True,
                          timeout=60).stdout.strip()

# ----------------------------------------------------------------- peers


class Peer:
    """One contender in a workload: a command, what it computes on, and how
    to read its own timing (the in-run seconds) from its stderr."""

    def __init__(self, label, argv, items, workers, kind, stdout_to_file=False,
                 ref=None, check="bytes", ideal=None, ref_lines=0):
        self.label = label
        self.argv = argv          # {out} is replaced by the output path
        self.items = items
        self.workers = workers    # computing processes/threads
        self.kind = kind          # serial | mapreduce | python | parallel
        self.stdout_to_file = stdout_to_file
        self.ref = ref            # reference output file for the check
        self.ref_lines = ref_lines  # nonzero: compare with its first lines
        self.check = check        # bytes | lines | none
        self.ideal = ideal
        self.inrun = []           # seconds measured inside the run
        self.wall = []            # seconds around the whole command
        self.cpu = []             # user+sys seconds of the whole command
        self.stats = {}
        self.errors = []
        self.output_ok = None

    def run(self, out):
        argv = ["timeout", "-k", "5", str(TIMEOUT)] + [
            a.replace("{out}", out) for a in self.argv]
        if os.path.exists(out):
            os.unlink(out)
        stdout = open(out, "wb") if self.stdout_to_file else subprocess.PIPE
        ru0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        try:
            p = subprocess.run(argv, stdout=stdout, stderr=subprocess.PIPE,
                               timeout=TIMEOUT + 30, cwd=ROOT)
        finally:
            if self.stdout_to_file:
                stdout.close()
        wall = time.perf_counter() - t0
        ru1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (ru1.ru_utime - ru0.ru_utime) + (ru1.ru_stime - ru0.ru_stime)
        err = p.stderr.decode(errors="replace")
        if p.returncode != 0:
            why = "timeout" if p.returncode in (124, 137) else \
                f"exit {p.returncode}"
            self.errors.append(why)
            said = err + (p.stdout.decode(errors="replace")
                          if p.stdout else "")
            note(f"{self.label}: {why}: {shlex.join(argv)}: "
                 f"{said.strip()[-400:]}")
            return
        self.wall.append(wall)
        self.cpu.append(cpu)
        m = re.search(r"\bseconds=([0-9.]+)", err)
        if m:
            self.inrun.append(float(m.group(1)))
        for key in ("computing", "efficiency", "chunks", "given_back"):
            m = re.search(rf"\b{key}=([0-9.]+)", err)
            if m:
                self.stats[key] = float(m.group(1))
        self.verify(out)

    def verify(self, out):
        ok = None
        if self.check == "bytes" and self.ref:
            ref = self.ref
            if self.ref_lines and os.path.exists(ref):
                ref = head_file(ref, self.ref_lines)
            ok = os.path.exists(out) and os.path.exists(ref) and \
                filecmp.cmp(out, ref, shallow=False)
        elif self.check == "lines":
            with open(out, "rb") as f:
                ok = sum(1 for _ in f) == self.items
        if ok is not None:
            self.output_ok = ok if self.output_ok is None else \
                (self.output_ok and ok)
            if not ok:
                note(f"{self.label}: output differs from the reference "
                     f"({shlex.join(self.argv)})")
        if os.path.exists(out) and out != self.ref:
            os.unlink(out)

    def best_inrun(self):
        return min(self.inrun) if self.inrun else None

    def best_wall(self):
        return min(self.wall) if self.wall else None

    def median_inrun(self):
        return statistics.median(self.inrun) if self.inrun else None

    def best_cpu(self):
        return min(self.cpu) if self.cpu else None


def mr_argv(np, args, threads=None):
    """mapreduce under mpirun -np N, or alone when np is 0."""
    tail = [MR] + (["-t", str(threads)] if threads else []) + args + [
        "--stats", "-o", "{out}"]
    return tail if np == 0 else ["mpirun", "-q", "-np", str(np)] + tail


def py_argv(mode, job, inp, procs=0, chunksize=0, arg=None, limit=0):
    argv = [PY, PYPEER, mode, job, inp, "{out}"]
    if mode == "mpi4py":
        argv = ["mpirun", "-q", "-np", str(procs + 1), PY, "-m",
                "mpi4py.futures", PYPEER, mode, job, inp, "{out}"]
    elif procs:
        argv += ["--procs", str(procs)]
    if chunksize:
        argv += ["--chunksize", str(chunksize)]
    if arg is not None:
        argv += ["--arg", str(arg)]
    if limit:
        argv += ["--limit", str(limit)]
    return argv


def have_mpi4py():
    return subprocess.run([PY, "-c", "import mpi4py.futures"],
                          capture_output=True).returncode == 0


HAVE_MPI4PY = have_mpi4py()
HAVE_PARALLEL = shutil.which("parallel") is not None


def mr_help():
    try:
        return subprocess.run([MR, "--help"], capture_output=True, text=True,
                              timeout=30).stdout
    except (OSError, subprocess.SubprocessError):
        return ""

# ---------------------------------------------------------------- inputs


def make_input(name, lines):
    """Writes the lines (an iterable of str) once; later runs reuse it when
    its line count matches."""
    path = os.path.join(TMP, name)
    stamp = path + ".ok"
    want = None
    if os.path.exists(stamp):
        with open(stamp) as f:
            want = f.read()
    key = f"{name}:{SCALE}:{PY_CAP}\n"
    if want != key or not os.path.exists(path):
        with open(path, "w") as f:
            f.writelines(f"{x}\n" for x in lines)
        with open(stamp, "w") as f:
            f.write(key)
    return path


def head_file(path, n):
    """The first n lines of path, as a file (the reference for peers that
    run on a prefix of the input)."""
    out = f"{path}.head{n}"
    if not os.path.exists(out):
        with open(path, "rb") as src, open(out, "wb") as dst:
            for i, line in enumerate(src):
                if i >= n:
                    break
                dst.write(line)
    return out


def count_lines(path):
    with open(path, "rb") as f:
        return sum(1 for _ in f)

# ---------------------------------------------------------------- tables


def fmt_s(x):
    return "–" if x is None else f"{x:.3f}"


def fmt_rate(x):
    if x is None:
        return "–"
    return f"{x:,.0f}"


def fmt_ratio(x):
    if x is None:
        return "–"
    return f"{x:.0f}×" if x >= 10 else f"{x:.2f}×" if x >= 0.1 else \
        f"{x:.2g}×"


def table(header, rows):
    say("| " + " | ".join(header) + " |")
    say("|" + "|".join("---" if i == 0 else "---:"
                       for i in range(len(header))) + "|")
    for r in rows:
        say("| " + " | ".join(str(c) for c in r) + " |")
    say()


def run_rounds(name, peers, rounds):
    """Every peer once per round; round r starts r places further down the
    list, so no peer always runs right after the same neighbour."""
    out = os.path.join(TMP, f"{name}.out")
    for r in range(rounds):
        order = peers if r == 0 else peers[r % len(peers):] + \
            peers[:r % len(peers)]
        for p in order:
            note(f"{name} round {r + 1}/{rounds}: {p.label}")
            p.run(p.ref if (p.kind == "serial" and r == 0) else out)


def workload_table(peers, serial, ideal_col=False):
    s_in, s_wall = serial.best_inrun(), serial.best_wall()
    s_rate_in = serial.items / s_in if s_in else None
    s_rate_wall = serial.items / s_wall if s_wall else None
    header = ["peer", "workers", "items", "in-run s", "in-run items/s",
              "in-run ÷ serial", "wall s", "wall items/s", "wall ÷ serial",
              "CPU s"]
    if ideal_col:
        header += ["ideal s", "in-run ÷ ideal", "wall ÷ ideal"]
    header += ["output"]
    rows = []
    for p in peers:
        b_in, b_wall = p.best_inrun(), p.best_wall()
        rate_in = p.items / b_in if b_in else None
        rate_wall = p.items / b_wall if b_wall else None
        row = [p.label, p.workers, f"{p.items:,}", fmt_s(b_in),
               fmt_rate(rate_in),
               fmt_ratio(rate_in / s_rate_in) if rate_in and s_rate_in
               else "–",
               fmt_s(b_wall), fmt_rate(rate_wall),
               fmt_ratio(rate_wall / s_rate_wall) if rate_wall and s_rate_wall
               else "–", fmt_s(p.best_cpu())]
        if ideal_col:
            row += [fmt_s(p.ideal),
                    fmt_ratio(b_in / p.ideal) if b_in and p.ideal else "–",
                    fmt_ratio(b_wall / p.ideal) if b_wall and p.ideal
                    else "–"]
        if p.errors and not p.wall:
            status = "FAILED: " + ", ".join(sorted(set(p.errors)))
        elif p.output_ok is None:
            status = "n/a"
        else:
            status = "same" if p.output_ok else "DIFFERS"
            if p.errors:
                status += " (" + ", ".join(sorted(set(p.errors))) + ")"
        row.append(status)
        rows.append(row)
    table(header, rows)
    versus_best_peer(peers)


def versus_best_peer(peers):
    """One line: mapreduce's fastest row against the fastest other peer, in
    in-run items/s (wall for peers that measure no in-run time)."""
    def rate(p):
        t = p.best_inrun() or p.best_wall()
        return p.items / t if t and p.output_ok is not False else None
    mine = [(rate(p), p.label) for p in peers
            if p.kind == "mapreduce" and rate(p)]
    others = [(rate(p), p.label) for p in peers
              if p.kind not in ("mapreduce", "serial") and rate(p)]
    if not mine or not others:
        return
    (m, ml), (o, ol) = max(mine), max(others)
    say(f"Best mapreduce row ÷ best peer: **{fmt_ratio(m / o)}** "
        f"({ml}, {fmt_rate(m)} items/s, against {ol}, {fmt_rate(o)} "
        f"items/s).")
    say()


def sweep_chunksize(name, job, inp, limit, procs, candidates, arg=None):
    """One run of Pool.map per candidate chunk size on the first `limit`
    items: good enough to pick the Pool's best; printed so it can be seen."""
    out = os.path.join(TMP, f"{name}.sweep.out")
    results = []
    for cs in candidates:
        p = Peer(f"Pool.map chunksize={cs or 'default'}",
                 py_argv("pool", job, inp, procs, cs, arg, limit), limit,
                 procs, "python", check="none")
        note(f"{name} sweep: {p.label}")
        p.run(out)
        results.append((cs, p.best_inrun()))
    # the best explicit size: the default has its own row, and the
    # executors need a number
    timed = [(t, cs) for cs, t in results if t and cs]
    best = min(timed)[1] if timed else 1
    say(f"Chunk size sweep for `Pool.map` ({procs} processes, first "
        f"{limit:,} items, one run each; 'default' is Pool's "
        f"len/(4×processes)):")
    say()
    table(["chunksize", "in-run s", "items/s"],
          [[cs or "default", fmt_s(t), fmt_rate(limit / t if t else None)]
           for cs, t in results])
    return best


def mr_peers(job_args, inp, items, ref, nps=(1, 2, 3, 4, 8), alone=True):
    peers = []
    if alone:
        peers.append(Peer("mapreduce (no mpirun)", mr_argv(0, job_args + [inp]),
                          items, 1, "mapreduce", ref=ref))
    for np in nps:
        extra = " (oversubscribed)" if np > NPROC else ""
        peers.append(Peer(f"mapreduce -np {np}{extra}",
                          mr_argv(np, job_args + [inp]), items, np,
                          "mapreduce", ref=ref))
    return peers


# Math::Prime::Util's is_prime over the same lines, writing the same output:
# the yardstick for a core (apt-get install libmath-prime-util-perl)
MPU_SCRIPT = r"""
use Math::Prime::Util qw(is_prime);
use Time::HiRes qw(time);
open my $in, "<", $ARGV[0] or die "$ARGV[0]: $!";
open my $out, ">", $ARGV[1] or die "$ARGV[1]: $!";
my $t0 = time;
while (my $n = <$in>) {
  chomp $n;
  print $out $n, is_prime($n) ? "\ttrue\n" : "\tfalse\n";
}
close $out or die "$ARGV[1]: $!";
printf STDERR "seconds=%.6f\n", time - $t0;
"""


def mpu_peer(inp, items, ref):
    """Math::Prime::Util on one core, or None when it is not installed."""
    ok = subprocess.run(["perl", "-MMath::Prime::Util", "-e", "1"],
                        capture_output=True).returncode == 0
    if not ok:
        note("no Math::Prime::Util (sh tools/deps.sh --bench installs it): "
             "its row is left out")
        return None
    return Peer("Math::Prime::Util is_prime (Perl, one core)",
                ["perl", "-e", MPU_SCRIPT, inp, "{out}"], items, 1, "perl",
                ref=ref)


def python_peers(job, inp, items, ref, procs, best_cs, cap, small_cap,
                 arg=None):
    """Pool.map (default and best chunk size), ProcessPoolExecutor.map and
    MPIPoolExecutor.map (their default chunksize=1 on a small prefix, and
    the Pool's best chunk size on the capped input)."""
    n = min(items, cap)
    lim = n if n < items else 0
    peers = [
        Peer("Python Pool.map, default chunksize",
             py_argv("pool", job, inp, procs, 0, arg, lim), n, procs,
             "python", ref=ref, ref_lines=lim),
        Peer(f"Python Pool.map, chunksize={best_cs}",
             py_argv("pool", job, inp, procs, best_cs, arg, lim), n, procs,
             "python", ref=ref, ref_lines=lim),
    ]
    m = min(items, small_cap)
    lim_small = m if m < items else 0
    execs = [("ppe", "Python ProcessPoolExecutor.map")]
    if HAVE_MPI4PY:
        execs.append(("mpi4py", f"mpi4py MPIPoolExecutor.map (-np {procs + 1})"))
    for mode, label in execs:
        if small_cap:
            peers.append(Peer(f"{label}, chunksize=1 (default)",
                              py_argv(mode, job, inp, procs, 1, arg,
                                      lim_small), m, procs, "python",
                              ref=ref, ref_lines=lim_small))
        if best_cs != 1 or not small_cap:
            peers.append(Peer(f"{label}, chunksize={best_cs}",
                              py_argv(mode, job, inp, procs, best_cs, arg,
                                      lim), n, procs, "python", ref=ref,
                              ref_lines=lim))
    return peers


# ------------------------------------------------------------- workloads


def workload_cheap():
    n = int(10_000_000 * SCALE)
    inp = make_input("squares.txt", map(str, range(n)))
    ref = os.path.join(TMP, "squares.ref")
    say(f"## Cheap items: `-j square` on 0..{n - 1:,}")
    say()
    cap = min(n, PY_CAP)
    best = sweep_chunksize("cheap", "square", inp, max(cap // 5, 1000), NPROC,
                           [0, 1000, 10000, 100000])
    serial = Peer("serial C loop", [SERIAL, "-j", "square", "-o", "{out}", inp],
                  n, 1, "serial", ref=ref)
    peers = [serial] + mr_peers(["-j", "square"], inp, n, ref) + \
        python_peers("square", inp, n, ref, NPROC, best, cap,
                     int(10_000 * max(SCALE, 0.1)))
    pure = Peer("Python Pool.map(f, range(N)), no file (reference)",
                py_argv("pure", "square", inp, NPROC, 0, None, cap), cap,
                NPROC, "python", check="none")
    peers.append(pure)
    run_rounds("cheap", peers, ROUNDS)
    workload_table(peers, serial)
    if cap < n:
        say(f"Python peers run on the first {cap:,} lines of the same file "
            f"(`BENCH_PY_ITEMS`), executor peers with chunksize=1 on fewer: "
            f"at their speed the whole file would take minutes.")
        say()
    return peers


def workload_prime():
    n = int(1_000_000 * SCALE)
    base = 2 ** 62 + 1
    inp = make_input("primes.txt", (str(base + 2 * i) for i in range(n)))
    ref = os.path.join(TMP, "primes.ref")
    say(f"## CPU-heavy items: `-j prime` on {n:,} odd numbers from 2^62+1")
    say()
    cap = min(n, PY_CAP // 5)
    best = sweep_chunksize("prime", "prime", inp, max(cap // 4, 1000), NPROC,
                           [0, 100, 1000, 10000])
    serial = Peer("serial C loop", [SERIAL, "-j", "prime", "-o", "{out}", inp],
                  n, 1, "serial", ref=ref)
    # every -np from 1 to 8: the scaling table's rows
    peers = [serial] + mr_peers(["-j", "prime"], inp, n, ref,
                                nps=range(1, 9))
    # what crash containment costs, and a plugin against the built-in job
    for np in (0, 2):
        label = "no mpirun" if np == 0 else f"-np {np}"
        peers.append(Peer(f"mapreduce --isolate ({label})",
                          mr_argv(np, ["-j", "prime", "--isolate", inp]), n,
                          max(np, 1), "mapreduce", ref=ref))
        if os.path.exists(PLUGIN):
            peers.append(Peer(f"mapreduce -j libprime.so, a plugin ({label})",
                              mr_argv(np, ["-j", PLUGIN, inp]), n,
                              max(np, 1), "mapreduce", ref=ref))
    peers += python_peers("prime", inp, n, ref, NPROC, best, cap,
                          int(10_000 * max(SCALE, 0.1)))
    mpu = mpu_peer(inp, n, ref)
    if mpu:
        peers.append(mpu)
    run_rounds("prime", peers, ROUNDS)
    workload_table(peers, serial)
    if cap < n:
        say(f"Python peers run on the first {cap:,} numbers (pure-Python "
            f"Miller-Rabin with the same bases is ~50× slower than C).")
        say()
    return peers


def workload_sustained(prime_peers):
    """-np 8 against -np 2, and --isolate against without, as throughput:
    the prime job on four times the CPU-heavy input, and the extra items ÷
    the extra seconds between the two sizes, which cancels what a run pays
    once (start-up, first touches of fresh memory)."""
    n = int(4_000_000 * SCALE)
    base = 2 ** 62 + 1
    inp = make_input("primes4.txt", (str(base + 2 * i) for i in range(n)))
    ref = os.path.join(TMP, "primes4.ref")
    rounds = max(ROUNDS, 5)
    say(f"## Sustained throughput: `-j prime` on {n:,} odd numbers from "
        f"2^62+1")
    say()
    serial = Peer("serial C loop", [SERIAL, "-j", "prime", "-o", "{out}", inp],
                  n, 1, "serial", ref=ref)
    # the labels of the CPU-heavy table's rows, to find them there
    peers = [serial] + mr_peers(["-j", "prime"], inp, n, ref, nps=(2, 8),
                                alone=False)
    peers.append(Peer("mapreduce --isolate (-np 2)",
                      mr_argv(2, ["-j", "prime", "--isolate", inp]), n, 2,
                      "mapreduce", ref=ref))
    run_rounds("sustained", peers, rounds)
    short = {p.label: p for p in prime_peers or []}

    def marginal(p):
        """(items here - items there) / (median s here - median s there)"""
        q = short.get(p.label)
        t, tq = p.median_inrun(), q.median_inrun() if q else None
        return (p.items - q.items) / (t - tq) if t and tq and t > tq else None

    first = peers[1]
    first_med, first_marg = first.median_inrun(), marginal(first)
    rows = []
    for p in peers[1:]:
        med, marg = p.median_inrun(), marginal(p)
        q = short.get(p.label)
        status = "same" if p.output_ok else (
            "DIFFERS" if p.output_ok is False else "n/a")
        rows.append([p.label, f"{n:,}", fmt_s(p.best_inrun()), fmt_s(med),
                     fmt_rate(n / med if med else None),
                     f"{first_med / med:.0%}" if med and first_med else "–",
                     fmt_s(q.median_inrun() if q else None), fmt_rate(marg),
                     f"{marg / first_marg:.0%}" if marg and first_marg
                     else "–", status])
    table(["peer", "items", "best in-run s", "median in-run s",
           "items/s (median)", "÷ -np 2",
           f"median s on {short_items(short.get(first.label))}",
           "marginal items/s", "marginal ÷ -np 2", "output"], rows)
    say(f"Median of {rounds} interleaved rounds. marginal items/s = the "
        f"extra items ÷ the extra median seconds against the same row of "
        f"the CPU-heavy table: the rate once running, without what a run "
        f"pays once.")
    say()


def short_items(p):
    """How many items the CPU-heavy table's row p ran on."""
    return f"{p.items:,}" if p else "the short input"


def calc_units(item):
    sys.path.insert(0, BENCH)
    import pypeer
    return pypeer.sleep_units(item)


def list_schedule(units, ranks):
    """Makespan, in units, when each item goes to the rank that is free
    first, in input order: what one-item chunks do, with no overhead."""
    free = [0] * ranks
    for u in units:
        i = free.index(min(free))
        free[i] += u
    return max(free)


def workload_skewed():
    n = max(int(120 * SCALE), 40)
    unit = 0.005
    items = [str(2 * i) for i in range(n)]  # the seed's range(0, 10*off, off)
    inp = make_input("calc.txt", items)
    ref = os.path.join(TMP, "calc.ref")
    total = sum(calc_units(x) for x in items) * unit
    say(f"## Skewed items: `-j calc -a {unit}` (the seeds' calc_stuff) on "
        f"{n} parameters 0, 2, 4, ...")
    say()
    say(f"Each item sleeps 0-5 units of {unit * 1000:g} ms chosen by a hash "
        f"of the parameter: {total:.2f} s of sleep in all. ideal = total "
        f"sleep ÷ computing workers.")
    say()
    procs = 4
    best = sweep_chunksize("skewed", "calc", inp, n, procs, [0, 1, 2, 4],
                           arg=unit)
    args = ["-j", "calc", "-a", str(unit)]
    serial = Peer("serial C loop", [SERIAL] + args + ["-o", "{out}", inp], n,
                  1, "serial", ref=ref)
    peers = [serial] + mr_peers(args, inp, n, ref)
    # adaptive chunking against every fixed chunk size, on the same 4 ranks
    for cs in (1, 2, 4, 8):
        peers.append(Peer(f"mapreduce -np 4 -c {cs} (fixed)",
                          mr_argv(4, args + ["-c", str(cs), inp]), n, 4,
                          "mapreduce", ref=ref))
    peers += python_peers("calc", inp, n, ref, procs, best, n, 0, arg=unit)
    run_rounds("skewed", peers, ROUNDS)
    for p in peers:
        w = int(p.stats.get("computing", p.workers))
        p.workers = w
        p.ideal = total / w
    workload_table(peers, serial, ideal_col=True)
    units = [calc_units(x) for x in items]
    floor = -(-sum(units) // procs)  # whole units: ceil(total / ranks)
    floor = max(floor, max(units))
    greedy = list_schedule(units, procs)
    lpt = list_schedule(sorted(units, reverse=True), procs)
    say(f"No schedule on {procs} ranks can finish before {floor * unit:.3f} s "
        f"(the sleeps come in whole units: some rank sleeps at least {floor}). "
        f"Each item in input order to the rank free first (one-item chunks, "
        f"with no overhead) finishes at {greedy * unit:.3f} s; longest first, "
        f"which needs the durations in advance, at {lpt * unit:.3f} s." + (
            " Input order reaches the bound, so no chunking, fixed or "
            "adaptive, can finish before one-item chunks: adaptive sizing "
            "matches `-c 1` here and beats every larger size."
            if greedy == floor else ""))
    say()
    say(f"Python peers use {procs} processes (MPIPoolExecutor: {procs} "
        f"workers + the master), as mapreduce -np 4 computes on 4 ranks.")
    say()


def workload_clustered():
    """A run of slow items right after many fast ones: chunk sizes learnt on
    the fast ones put the whole run in one chunk, unless a chunk that
    overruns hands its unstarted items back."""
    n = int(1_000_000 * SCALE)
    slow = max(int(100 * SCALE), 10)
    base, mid = 2 ** 62 + 1, n // 2
    big = str(2 ** 1279 - 1)  # a Mersenne prime: about 6 ms to test
    inp = make_input("clustered.txt", (
        big if mid <= i < mid + slow else str(base + 2 * i) for i in range(n)))
    ref = os.path.join(TMP, "clustered.ref")
    say(f"## Clustered items: `-j prime` on {n:,} odd numbers from 2^62+1, "
        f"items {mid + 1:,}-{mid + slow:,} replaced by the prime 2^1279-1")
    say()
    say("The slow items are 1/10,000 of the lines and most of the work. "
        "ideal = the serial C loop's time ÷ the cores the ranks run on. "
        "Fixed chunk sizes either pay a message per few fast items or put "
        "the slow run in one chunk; the adaptive rows hand back what an "
        "overrunning chunk has not started.")
    say()
    args = ["-j", "prime"]
    serial = Peer("serial C loop", [SERIAL] + args + ["-o", "{out}", inp], n,
                  1, "serial", ref=ref)
    peers = [serial]
    for np in (2, 8):
        peers.append(Peer(f"mapreduce -np {np} (adaptive)",
                          mr_argv(np, args + [inp]), n, np,
                          "mapreduce", ref=ref))
    for cs in (16, 256, 4096):
        peers.append(Peer(f"mapreduce -np 2 -c {cs} (fixed)",
                          mr_argv(2, args + ["-c", str(cs), inp]), n, 2,
                          "mapreduce", ref=ref))
    run_rounds("clustered", peers, ROUNDS)
    total = serial.best_inrun()
    for p in peers:
        p.ideal = total / min(p.workers, NPROC) if total else None
    workload_table(peers, serial, ideal_col=True)
    for p in peers:
        if "given_back" in p.stats:
            say(f"{p.label}: given back {int(p.stats['given_back']):,} items "
                f"(last round).")
    say()


def workload_io(n, secs, width, name):
    """Sleeping items: what matters is keeping every worker busy to the
    end, so each row is compared with total sleep ÷ workers."""
    inp = make_input(f"{name}.txt", [str(secs)] * n)
    ref = os.path.join(TMP, f"{name}.ref")
    total = n * secs
    say(f"## I/O-bound items: `-j sleep` on {n} items of {secs} s "
        f"({total:g} s of sleep), {width} workers")
    say()
    say(f"ideal = {total:g} s ÷ computing workers; {width} workers: "
        f"{total / width:.3f} s.")
    say()
    best = sweep_chunksize(name, "sleep", inp, n, width, [0, 1, 2])
    serial = Peer("serial C loop", [SERIAL, "-j", "sleep", "-o", "{out}", inp],
                  n, 1, "serial", ref=ref)
    peers = [serial]
    peers.append(Peer(f"mapreduce -np {width}",
                      mr_argv(width, ["-j", "sleep", inp]), n, width,
                      "mapreduce", ref=ref))
    if width != 8:
        peers.append(Peer("mapreduce -np 8 (oversubscribed)",
                          mr_argv(8, ["-j", "sleep", inp]), n, 8, "mapreduce",
                          ref=ref))
    peers.append(Peer(f"mapreduce -t {width} (no mpirun, threads)",
                      mr_argv(0, ["-j", "sleep", inp], threads=width), n,
                      width, "mapreduce", ref=ref))
    peers.append(Peer(f"mapreduce -np 1 -t {width} (threads)",
                      mr_argv(1, ["-j", "sleep", inp], threads=width), n,
                      width, "mapreduce", ref=ref))
    peers += python_peers("sleep", inp, n, ref, width, best, n, 0)
    if HAVE_PARALLEL:
        peers.append(Peer(f"GNU parallel -k -j{width} 'sleep {{}}; printf ...'",
                          ["parallel", "-k", f"-j{width}",
                           "sleep {}; printf '%s\\t%s\\n' {} {}", "::::",
                           inp], n, width, "parallel", stdout_to_file=True,
                          ref=ref))
    run_rounds(name, peers, ROUNDS)
    for p in peers:
        w = int(p.stats.get("computing", p.workers))
        p.workers = w
        p.ideal = total / w
    workload_table(peers, serial, ideal_col=True)


def exec_items_affordable(n):
    """GNU parallel starts a command in a few ms on most machines but in
    tens of ms on some VMs; there 10,000 items would take many minutes per
    row. Time 100 items first and shrink n to fit BENCH_EXEC_BUDGET."""
    if not HAVE_PARALLEL or n <= 200:
        return n, None
    probe = make_input("exec-probe.txt", map(str, range(1, 101)))
    t0 = time.perf_counter()
    subprocess.run(["timeout", "-k", "5", "120", "parallel", "-k", "true {}",
                    "::::", probe], stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    per_item = (time.perf_counter() - t0) / 100
    fits = int(EXEC_BUDGET / per_item) if per_item > 0 else n
    if fits >= n:
        return n, per_item
    return max(200, fits), per_item


def workload_exec():
    if "--exec" not in mr_help():
        say(f"## Exec-style items: a command per item, {EXEC_ITEMS:,} items")
        say()
        say("Skipped: `./mapreduce --help` does not mention `--exec` yet "
            "(exec mode is being written). When it does, this workload "
            "compares `mapreduce --exec 'echo {}'` and `--exec 'true {}'` "
            "with GNU parallel on the same items.")
        say()
        return
    n, per_item = exec_items_affordable(max(EXEC_ITEMS, 10))
    say(f"## Exec-style items: a command per item, {n:,} items")
    say()
    if n < EXEC_ITEMS:
        say(f"GNU parallel took {per_item * 1000:.0f} ms per item here, so "
            f"{EXEC_ITEMS:,} items would take ~{EXEC_ITEMS * per_item:.0f} s "
            f"per row: cut to {n:,} to stay within `BENCH_EXEC_BUDGET` "
            f"({EXEC_BUDGET:g} s).")
        say()
    if not HAVE_PARALLEL:
        say("GNU parallel is not installed: only mapreduce runs.")
        say()
    inp = make_input(f"exec{n}.txt", map(str, range(1, n + 1)))
    groups = []
    for cmd in ("echo {}", "true {}"):
        # true prints nothing: what mapreduce writes for it is its own
        # business, so only echo's lines are counted
        check = "lines" if cmd.startswith("echo") else "none"
        group = []
        if HAVE_PARALLEL:
            group.append(Peer(f"GNU parallel -k '{cmd}' (-j{NPROC})",
                              ["parallel", "-k", cmd, "::::", inp], n, NPROC,
                              "parallel", stdout_to_file=True, check=check))
        for np in (0, 2, 4):
            label = "no mpirun" if np == 0 else f"-np {np}"
            group.append(Peer(f"mapreduce --exec '{cmd}' ({label})",
                              mr_argv(np, ["--exec", cmd, inp]), n,
                              max(np, 1), "mapreduce", check=check))
        groups.append(group)
    run_rounds("exec", [p for g in groups for p in g], EXEC_ROUNDS)
    header = ["peer", "workers", "items", "in-run s", "in-run items/s",
              "wall s", "wall items/s", "wall ÷ parallel", "CPU s",
              "output lines"]
    rows = []
    for group in groups:
        par = group[0] if group[0].kind == "parallel" else None
        par_rate = n / par.best_wall() if par and par.best_wall() else None
        for p in group:
            b_in, b_wall = p.best_inrun(), p.best_wall()
            rate = n / b_wall if b_wall else None
            rows.append([p.label, int(p.stats.get("computing", p.workers)),
                         f"{n:,}", fmt_s(b_in),
                         fmt_rate(n / b_in if b_in else None), fmt_s(b_wall),
                         fmt_rate(rate),
                         fmt_ratio(rate / par_rate) if rate and par_rate
                         else "–", fmt_s(p.best_cpu()),
                         "FAILED: " + ",".join(sorted(set(p.errors)))
                         if p.errors and not p.wall else
                         "n/a" if p.output_ok is None else
                         "one per item" if p.output_ok else "WRONG COUNT"])
    table(header, rows)
    say("Only the number of output lines of `echo {}` is checked: "
        "mapreduce's exec output format is its own.")
    say()


def workload_overhead():
    """The cost of handing out one item: chunk size 1, trivial work."""
    n = max(int(20_000 * max(SCALE, 0.1)), 2000)
    inp = make_input(f"overhead{n}.txt", map(str, range(n)))
    ref = os.path.join(TMP, f"overhead{n}.ref")
    say(f"## Per-item overhead: `-j square` on {n:,} items, one item per "
        f"chunk")
    say()
    say("per item = in-run seconds ÷ items: the whole round trip of one "
        "item (read, send, compute, receive, write), as the seeds' "
        "`executor.map(..., chunksize=1)` pays it.")
    say()
    serial = Peer("serial C loop", [SERIAL, "-j", "square", "-o", "{out}",
                                    inp], n, 1, "serial", ref=ref)
    peers = [serial]
    for np, extra in ((2, ["--master-compute", "no"]), (2, []), (3, []),
                      (8, [])):
        what = " --master-compute no" if extra else ""
        peers.append(Peer(f"mapreduce -np {np} -c 1{what}",
                          mr_argv(np, ["-j", "square", "-c", "1"] + extra +
                                  [inp]), n, np, "mapreduce", ref=ref))
    peers.append(Peer("Python Pool.map, chunksize=1",
                      py_argv("pool", "square", inp, NPROC, 1), n, NPROC,
                      "python", ref=ref))
    peers.append(Peer("Python ProcessPoolExecutor.map, chunksize=1",
                      py_argv("ppe", "square", inp, NPROC, 1), n, NPROC,
                      "python", ref=ref))
    run_rounds("overhead", peers, ROUNDS)
    rows = []
    for p in peers:
        b = p.best_inrun()
        rows.append([p.label, f"{n:,}", fmt_s(b),
                     f"{b / n * 1e6:.1f} us" if b else "–",
                     "same" if p.output_ok else
                     "FAILED" if p.errors and not p.wall else "differs"])
    table(["peer", "items", "in-run s", "per item", "output"], rows)


# --------------------------------------------------------------- scaling


def scaling_table(prime_peers):
    say("## Scaling: `-j prime` (from the CPU-heavy table)")
    say()
    say(f"speedup = in-run items/s ÷ that of `-np 1`; efficiency = speedup ÷ "
        f"np; per core = speedup ÷ min(np, {NPROC} cores); ÷ serial per core "
        f"= in-run items/s ÷ (the serial C loop's × min(np, {NPROC})), the "
        f"efficiency against the best one-core program; busy = the share "
        f"of the run the computing ranks spent computing (mapreduce's "
        f"`--stats` efficiency). `mpirun` binds `-np 1` (and `-np 2`) to "
        f"one core a rank, so at `-np 1` rank 0's reading and writing share "
        f"the computing thread's core, which makes `-np 1` a slow base.")
    say()
    mr = {p.label: p for p in prime_peers if p.kind == "mapreduce"}
    base = mr.get("mapreduce -np 1")
    base_rate = base.items / base.best_inrun() if base and base.best_inrun() \
        else None
    ser = next((p for p in prime_peers if p.kind == "serial"), None)
    ser_rate = ser.items / ser.best_inrun() if ser and ser.best_inrun() \
        else None
    rows = []
    for np in range(1, 9):
        p = next((q for q in mr.values()
                  if q.label.startswith(f"mapreduce -np {np}")), None)
        if not p or not p.best_inrun():
            rows.append([np, "–", "–", "–", "–", "–", "–", "–"])
            continue
        rate = p.items / p.best_inrun()
        sp = rate / base_rate if base_rate else None
        rows.append([np, int(p.stats.get("computing", np)), fmt_rate(rate),
                     f"{sp:.2f}" if sp else "–",
                     f"{sp / np:.0%}" if sp else "–",
                     f"{sp / min(np, NPROC):.0%}" if sp else "–",
                     f"{rate / (ser_rate * min(np, NPROC)):.0%}"
                     if ser_rate else "–",
                     f"{p.stats['efficiency']:.0%}"
                     if "efficiency" in p.stats else "–"])
    table(["np", "computing ranks", "in-run items/s", "speedup",
           "efficiency", "per core", "÷ serial per core", "busy"], rows)

# ---------------------------------------------------------------- memory


def rss_run(argv, rss_dir, timeout=TIMEOUT):
    """Runs argv with GNU time writing each rank's peak RSS to rss_dir/RANK.
    Returns {rank: KiB} or None."""
    shutil.rmtree(rss_dir, ignore_errors=True)
    os.makedirs(rss_dir)
    p = subprocess.run(["timeout", "-k", "5", str(timeout)] + argv,
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                       cwd=ROOT)
    if p.returncode != 0:
        note(f"memory: {shlex.join(argv)}: exit {p.returncode}: "
             f"{p.stderr.decode(errors='replace')[-300:]}")
        return None
    out = {}
    for f in os.listdir(rss_dir):
        with open(os.path.join(rss_dir, f)) as fh:
            m = re.search(r"(\d+)", fh.read())
            if m:
                out[int(f)] = int(m.group(1))
    return out


def memory_table():
    gtime = "/usr/bin/time"
    say("## Peak resident memory per rank: `-j square`")
    say()
    if not os.path.exists(gtime):
        say("Skipped: GNU time is not installed (`apt-get install time`).")
        say()
        return
    big = int(10_000_000 * SCALE)
    small = int(1_000_000 * SCALE)
    sq = make_input("squares.txt", map(str, range(big)))
    sq_small = head_file(sq, small)
    rss_dir = os.path.join(TMP, "rss")
    out = os.path.join(TMP, "mem.out")
    rows = []
    for lines, inp in ((big, sq), (small, sq_small)):
        for np in (0, 1, 2, 4, 8):
            tail = [MR, "-j", "square", "-o", out, inp]
            if np == 0:
                argv = [gtime, "-f", "%M", "-o", os.path.join(rss_dir, "0")] \
                    + tail
                label = "mapreduce (no mpirun)"
            else:
                argv = ["mpirun", "-q", "-np", str(np), "sh", "-c",
                        f'exec {gtime} -f %M -o "{rss_dir}/'
                        f'$OMPI_COMM_WORLD_RANK" "$@"', "sh"] + tail
                label = f"mapreduce -np {np}"
            note(f"memory: {label} on {lines:,} lines")
            rss = rss_run(argv, rss_dir)
            if rss is None:
                rows.append([label, f"{lines:,}", "failed", "", ""])
                continue
            mib = {r: v / 1024 for r, v in sorted(rss.items())}
            others = ", ".join(f"{v:.1f}" for r, v in mib.items() if r != 0)
            rows.append([label, f"{lines:,}", f"{mib.get(0, 0):.1f}",
                         others or "–", f"{sum(mib.values()):.1f}"])
        # the Python peer holds every item and result in memory at once
        if lines <= PY_CAP:
            argv = [gtime, "-f", "%M", "-o", os.path.join(rss_dir, "0")] + \
                [a.replace("{out}", out)
                 for a in py_argv("pool", "square", inp, NPROC, 10000)]
            note(f"memory: Python Pool.map on {lines:,} lines")
            rss = rss_run(argv, rss_dir)
            if rss:
                rows.append([f"Python Pool.map (parent only, {NPROC} "
                             f"workers not counted)", f"{lines:,}",
                             f"{rss[0] / 1024:.1f}", "–", "–"])
    if os.path.exists(out):
        os.unlink(out)
    table(["run", "input lines", "rank 0 MiB", "other ranks MiB (each)",
           "total MiB"], rows)

# --------------------------------------------------------------- machine


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
    pyv = sh(f"{PY} --version 2>&1")
    m4p = sh(f"{PY} -c 'import mpi4py; print(mpi4py.__version__)' 2>&1") \
        if HAVE_MPI4PY else "not installed"
    mrv = sh(f"{MR} --version 2>&1 | head -1")
    costs = []
    for line in sh(f"{ROOT}/build/bench/machine_costs 2>/dev/null").splitlines():
        name, _, value = line.partition("\t")
        if value:
            costs.append((name, value))
    rev = sh(f"git -C {ROOT} rev-parse --short HEAD 2>/dev/null")
    dirty = sh(f"git -C {ROOT} status --porcelain -- src jobs include "
               f"2>/dev/null")
    return [
        ("date", datetime.datetime.now().astimezone().strftime(
            "%Y-%m-%d %H:%M %Z")),
        ("nproc", str(NPROC)),
        ("CPU", cpu),
        ("memory", mem),
        ("kernel", platform.release()),
        ("Open MPI", ompi),
        ("Python", f"{pyv}, mpi4py {m4p}"),
        ("GNU parallel", par),
        ("mapreduce", f"{mrv} ({rev}{', modified' if dirty else ''})"),
        *costs,
        ("load average at start", sh("cut -d' ' -f1-3 /proc/loadavg")),
        ("settings", f"BENCH_SCALE={SCALE:g} BENCH_ROUNDS={ROUNDS} "
                     f"BENCH_PY_ITEMS={PY_CAP:,} (scaled) "
                     f"BENCH_EXEC_ITEMS={EXEC_ITEMS:,} "
                     f"BENCH_EXEC_ROUNDS={EXEC_ROUNDS} "
                     f"BENCH_EXEC_BUDGET={EXEC_BUDGET:g}; files in {TMP}"),
    ]


def main():
    os.makedirs(TMP, exist_ok=True)
    for need in (MR, SERIAL):
        if not os.access(need, os.X_OK):
            sys.exit(f"bench: {need} is missing: run `make bench`")
    t0 = time.time()
    say("# mapreduce benchmarks")
    say()
    say("in-run = the time each program measures itself (mapreduce's "
        "`--stats` seconds, from its start to its last result written, "
        "without mpirun's start-up; the Python peers from before reading "
        "the input to after writing the output and closing the pool, "
        "without the interpreter's start-up). wall = the whole command as "
        "launched, mpirun or interpreter start-up included. Best of "
        f"{ROUNDS} interleaved rounds. ratios: items/s ÷ the serial C "
        "loop's items/s (above 1 is faster).")
    say()
    info = machine()
    table(["machine", ""], info)
    which = os.environ.get("BENCH_ONLY",
                           "cheap,prime,sustained,skewed,clustered,io,exec,"
                           "overhead,memory")
    which = set(which.split(","))
    prime_peers = None
    if "cheap" in which:
        workload_cheap()
    if "prime" in which:
        prime_peers = workload_prime()
    if "sustained" in which:
        workload_sustained(prime_peers)
    if "skewed" in which:
        workload_skewed()
    if "clustered" in which:
        workload_clustered()
    if "io" in which:
        workload_io(40, 0.05, 5, "io")
        # one item per worker: any item queued behind another shows
        workload_io(8, 0.25, 8, "io8")
    if "exec" in which:
        workload_exec()
    if "overhead" in which:
        workload_overhead()
    if prime_peers:
        scaling_table(prime_peers)
    if "memory" in which:
        memory_table()
    load = sh("cut -d' ' -f1-3 /proc/loadavg")
    say(f"Total benchmark time: {time.time() - t0:.0f} s; load average at "
        f"the end: {load}.")
    with open(RESULTS, "w") as f:
        f.write("\n".join(report) + "\n")
    note(f"tables written to {RESULTS}")


if __name__ == "__main__":
    main()
