"""The peers: how each contender (the serial C loop, mapreduce, the Python
pools, mpi4py, GNU parallel, Math::Prime::Util) is launched, timed and
checked, and the rounds that run them side by side.
"""
import filecmp
import functools
import json
import os
import re
import resource
import shlex
import shutil
import statistics
import subprocess
import time

import config
from inputs import head_file
from report import fmt_rate, fmt_s, note, say, table

HAVE_PARALLEL = shutil.which("parallel") is not None


class Peer:
    """One contender in a workload: a command, what it computes on, and how
    to read its own timing (the in-run seconds) from its stderr."""

    def __init__(self, label, argv, items, workers, kind, stdout_to_file=False,
                 ref=None, check="bytes", ideal=None, ref_lines=0, inrun_json=None):
        self.label = label
        # mapreduce with --stats (the text for people) cannot print the
        # seconds= of --stats=line too: its --stats-json FILE gives them
        self.inrun_json = inrun_json
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
        self.twin = None          # mapreduce rows: the same run with -o
        self.stdout_modes = set()  # mapreduce's --stats=line stdout=, each run

    def run(self, out):
        argv = ["timeout", "-k", "5", str(config.TIMEOUT)] + [
            a.replace("{out}", out) for a in self.argv]
        if os.path.exists(out):
            os.unlink(out)
        if self.inrun_json and os.path.exists(self.inrun_json):
            os.unlink(self.inrun_json)
        stdout = open(out, "wb") if self.stdout_to_file else subprocess.PIPE
        ru0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        try:
            p = subprocess.run(argv, stdout=stdout, stderr=subprocess.PIPE,
                               timeout=config.TIMEOUT + 30, cwd=config.ROOT)
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
        elif self.inrun_json and os.path.exists(self.inrun_json):
            with open(self.inrun_json) as f:
                self.inrun.append(float(json.load(f)["seconds"]))
        m = re.search(r"\bstdout=(\w+)", err)
        if m:
            self.stdout_modes.add(m.group(1))
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


def mr_argv(np, args, threads=None, to="-o"):
    """mapreduce under mpirun -np N, or alone when np is 0, writing to
    -o {out}; to=">": to its standard output, which the harness points at
    {out} as the shell's `> FILE` does (Peer stdout_to_file)."""
    tail = [config.MR] + (["-t", str(threads)] if threads else []) + args + [
        "--stats=line"] + (["-o", "{out}"] if to == "-o" else [])
    return tail if np == 0 else ["mpirun", "-q", "-np", str(np)] + tail


def mr_peer(label, np, args, items, workers, threads=None, **kw):
    """A mapreduce row, measured both ways: with its results sent to
    `> FILE` (mpirun's standard output, as users run it: the row's own
    figures) and to `-o FILE` (its twin: the row's -o columns)."""
    p = Peer(label, mr_argv(np, args, threads, to=">"), items, workers,
             "mapreduce", stdout_to_file=True, **kw)
    p.twin = Peer(f"{label}, -o FILE", mr_argv(np, args, threads), items,
                  workers, "mapreduce", **kw)
    return p


def py_argv(mode, job, inp, procs=0, chunksize=0, arg=None, limit=0):
    argv = [config.PY, config.PYPEER, mode, job, inp, "{out}"]
    if mode == "mpi4py":
        argv = ["mpirun", "-q", "-np", str(procs + 1), config.PY, "-m",
                "mpi4py.futures", config.PYPEER, mode, job, inp, "{out}"]
    elif procs:
        argv += ["--procs", str(procs)]
    if chunksize:
        argv += ["--chunksize", str(chunksize)]
    if arg is not None:
        argv += ["--arg", str(arg)]
    if limit:
        argv += ["--limit", str(limit)]
    return argv


@functools.lru_cache(maxsize=None)
def have_mpi4py():
    """Whether config.PY can run the mpi4py peer (asked once)."""
    return subprocess.run([config.PY, "-c", "import mpi4py.futures"],
                          capture_output=True).returncode == 0


def mr_help():
    try:
        return subprocess.run([config.MR, "--help"], capture_output=True,
                              text=True, timeout=30).stdout
    except (OSError, subprocess.SubprocessError):
        return ""


def run_rounds(name, peers, rounds):
    """Every peer once per round; round r starts r places further down the
    list, so no peer always runs right after the same neighbour."""
    out = os.path.join(config.TMP, f"{name}.out")
    for r in range(rounds):
        order = peers if r == 0 else peers[r % len(peers):] + \
            peers[:r % len(peers)]
        for p in order:
            # a mapreduce row and its -o twin back to back, first one then
            # the other, so neither always runs on the other's warm cache
            pair = [p] if not p.twin else \
                [p, p.twin] if r % 2 == 0 else [p.twin, p]
            for q in pair:
                note(f"{name} round {r + 1}/{rounds}: {q.label}"
                     f"{' > FILE' if q.twin else ''}")
                q.run(q.ref if (q.kind == "serial" and r == 0) else out)


def sweep_chunksize(name, job, inp, limit, procs, candidates, arg=None):
    """One run of Pool.map per candidate chunk size on the first `limit`
    items: good enough to pick the Pool's best; printed so it can be seen."""
    out = os.path.join(config.TMP, f"{name}.sweep.out")
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


def serial_peer(job_args, inp, items, ref):
    """The serial C loop: writes the reference output the others are
    checked against."""
    return Peer("serial C loop",
                [config.SERIAL] + job_args + ["-o", "{out}", inp], items, 1,
                "serial", ref=ref)


def mr_peers(job_args, inp, items, ref, nps=(1, 2, 3, 4, 8), alone=True):
    peers = []
    if alone:
        peers.append(mr_peer("mapreduce (no mpirun)", 0, job_args + [inp],
                             items, 1, ref=ref))
    for np in nps:
        extra = " (oversubscribed)" if np > config.NPROC else ""
        peers.append(mr_peer(f"mapreduce -np {np}{extra}", np,
                             job_args + [inp], items, np, ref=ref))
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


@functools.lru_cache(maxsize=None)
def have_mpu():
    """Whether perl has Math::Prime::Util (asked once)."""
    return subprocess.run(["perl", "-MMath::Prime::Util", "-e", "1"],
                          capture_output=True).returncode == 0


def mpu_peer(inp, items, ref):
    """Math::Prime::Util on one core, or None when it is not installed."""
    if not have_mpu():
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
    if have_mpi4py():
        execs.append(("mpi4py",
                      f"mpi4py MPIPoolExecutor.map (-np {procs + 1})"))
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
