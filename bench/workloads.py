"""The workloads: each writes its input file, lines up its peers, runs the
rounds and prints its table (bench/README.md, "Workloads").
"""
import os
import random
import subprocess
import sys
import time

import config
from inputs import make_input
from peers import (HAVE_PARALLEL, Peer, have_mpu, mpu_peer, mr_argv, mr_help, mr_peer,
                   mr_peers, py_argv, python_peers, run_rounds, serial_peer,
                   sweep_chunksize)
from report import (fmt_rate, fmt_ratio, fmt_s, say, status, table,
                    target, twin_cols, workload_table)


def workload_cheap():
    n = int(10_000_000 * config.SCALE)
    inp = make_input("squares.txt", map(str, range(n)))
    ref = os.path.join(config.TMP, "squares.ref")
    say(f"## Cheap items: `-j square` on 0..{n - 1:,}")
    say()
    cap = min(n, config.PY_CAP)
    best = sweep_chunksize("cheap", "square", inp, max(cap // 5, 1000),
                           config.NPROC, [0, 1000, 10000, 100000])
    serial = serial_peer(["-j", "square"], inp, n, ref)
    peers = [serial] + mr_peers(["-j", "square"], inp, n, ref) + \
        python_peers("square", inp, n, ref, config.NPROC, best, cap,
                     int(10_000 * max(config.SCALE, 0.1)))
    pure = Peer("Python Pool.map(f, range(N)), no file (reference)",
                py_argv("pure", "square", inp, config.NPROC, 0, None, cap),
                cap, config.NPROC, "python", check="none")
    peers.append(pure)
    # issue 17's yardstick: Pool.map as the seeds call it, on the whole
    # file and writing the same output
    whole = peers[[p.label for p in peers].index(
        "Python Pool.map, default chunksize")]
    if cap < n:
        whole = Peer(f"Python Pool.map, default chunksize, all {n:,} lines",
                     py_argv("pool", "square", inp, config.NPROC), n,
                     config.NPROC, "python", ref=ref)
        peers.append(whole)
    run_rounds("cheap", peers, config.ROUNDS)
    workload_table(peers, serial)
    if cap < n:
        say(f"Python peers run on the first {cap:,} lines of the same file "
            f"(`--py-items`), executor peers with chunksize=1 on fewer, "
            f"except the one row on all {n:,} lines for the target below: "
            f"at their speed the whole file would take minutes.")
        say()
    np3 = find(peers, "mapreduce -np 3")
    t, t_o = wall(np3), wall(np3.twin if np3 else None)
    target("squares > file ÷ -o file", t / t_o if t and t_o else None,
           1.15, f"`mpirun -np 3 ./mapreduce -j square` on {n:,} lines, wall "
           f"s: `> FILE` {fmt_s(t)}, `-o FILE` {fmt_s(t_o)}.", ceiling=True)
    tp = wall(whole)
    inr, inr_p = np3.best_inrun() if np3 else None, whole.best_inrun()
    target("squares > file against Pool.map", tp / t if t and tp else None,
           10, f"wall s: `Pool.map` (default chunksize, "
           f"{config.NPROC} processes, the same {n:,} lines, the same output "
           f"file) {fmt_s(tp)} ÷ `mpirun -np 3 ./mapreduce -j square` "
           f"`> FILE` {fmt_s(t)}; in-run: "
           f"{fmt_ratio(inr_p / inr) if inr and inr_p else '–'}.")
    return peers


def find(peers, prefix):
    """The first row whose label starts with prefix, or None."""
    return next((p for p in peers if p.label.startswith(prefix)), None)


def wall(p):
    """A row's best wall seconds; None when it did not run (or is None)."""
    return p.best_wall() if p else None


def workload_random():
    """Issue 17's second target: what -np 3 gains over -np 1 on integers
    as they come (most are composite and found so by trial division, 1 in
    44 is prime), writing to > FILE."""
    n = int(1_000_000 * config.SCALE)
    rng = random.Random(17)  # the same file on every machine
    inp = make_input("random63.txt",
                     (str(rng.getrandbits(63)) for _ in range(n)))
    ref = os.path.join(config.TMP, "random63.ref")
    say(f"## Random items: `-j prime` on {n:,} random integers below 2^63")
    say()
    serial = serial_peer(["-j", "prime"], inp, n, ref)
    peers = [serial] + mr_peers(["-j", "prime"], inp, n, ref, nps=(1, 2, 3))
    mpu = mpu_peer(inp, n, ref)
    if mpu:
        peers.append(mpu)
    run_rounds("random", peers, config.ROUNDS)
    workload_table(peers, serial)
    one, three = find(peers, "mapreduce -np 1"), find(peers, "mapreduce -np 3")
    t1, t3 = (p.best_inrun() if p else None for p in (one, three))
    w1, w3 = wall(one), wall(three)
    target("random integers, -np 3 against -np 1", t1 / t3 if t1 and t3
           else None, 1.8,
           f"`mpirun ./mapreduce -j prime` on {n:,} random integers below "
           f"2^63 to `> FILE`, in-run s (`--stats=line`, as the issue measured "
           f"it): `-np 1` {fmt_s(t1)}, `-np 3` {fmt_s(t3)}; wall s, "
           f"mpirun's start-up included: {fmt_s(w1)} and {fmt_s(w3)} "
           f"({fmt_ratio(w1 / w3) if w1 and w3 else '–'}).")


# Math::Prime::Util as a user would run it from the shell: the issue's
# one-liner, the same output text as `-j prime`
MPU_ONELINER = 'print "$_\\t", is_prime($_) ? "true" : "false"'


def primes_above(start, n):
    """The first n primes above start (Math::Prime::Util's next_prime: a
    few seconds for 2,000,000)."""
    with subprocess.Popen(
            ["perl", "-MMath::Prime::Util=next_prime", "-le",
             "my ($p, $n) = @ARGV; for (1 .. $n) "
             "{ $p = next_prime($p); print $p }", str(start), str(n)],
            stdout=subprocess.PIPE, text=True) as gen:
        for line in gen.stdout:
            yield line.strip()
    if gen.returncode != 0:
        raise RuntimeError(f"next_prime: exit {gen.returncode}")


def workload_bigprimes():
    """Issue 17's third target: primes are the dearest items for a
    primality test (every round of it runs), so this is where a core's
    speed shows; mapreduce -np 3 to > FILE against the one-liner."""
    n = int(2_000_000 * config.SCALE)
    say(f"## Primes: `-j prime` on the first {n:,} primes above 2^62")
    say()
    if not have_mpu():
        say("Skipped: Math::Prime::Util is not installed (`sh tools/deps.sh "
            "--bench`); it writes the input and is the peer of the target.")
        say()
        target("primes against a Math::Prime::Util one-liner", None, 1.8,
               "Math::Prime::Util is not installed.")
        return
    inp = make_input("primes62.txt", primes_above(2 ** 62, n))
    ref = os.path.join(config.TMP, "primes62.ref")
    serial = serial_peer(["-j", "prime"], inp, n, ref)
    peers = [serial] + mr_peers(["-j", "prime"], inp, n, ref, nps=(2, 3),
                                alone=False)
    one = Peer("Math::Prime::Util one-liner `perl -MMath::Prime::Util="
               "is_prime -lne ... > FILE` (one core)",
               ["perl", "-MMath::Prime::Util=is_prime", "-lne",
                MPU_ONELINER, inp], n, 1, "perl", stdout_to_file=True,
               ref=ref)
    peers.append(one)
    run_rounds("bigprimes", peers, config.ROUNDS)
    workload_table(peers, serial)
    say(f"The one-liner: `perl -MMath::Prime::Util=is_prime -lne "
        f"'{MPU_ONELINER}' primes.txt > FILE`.")
    say()
    three = find(peers, "mapreduce -np 3")
    t3, tm = wall(three), wall(one)
    target("primes against a Math::Prime::Util one-liner",
           tm / t3 if t3 and tm else None, 1.8,
           f"{n:,} primes above 2^62, wall s: the one-liner {fmt_s(tm)} ÷ "
           f"`mpirun -np 3 ./mapreduce -j prime` `> FILE` {fmt_s(t3)} "
           f"(mpirun's start-up included).")


def workload_prime():
    n = int(1_000_000 * config.SCALE)
    base = 2 ** 62 + 1
    inp = make_input("primes.txt", (str(base + 2 * i) for i in range(n)))
    ref = os.path.join(config.TMP, "primes.ref")
    say(f"## CPU-heavy items: `-j prime` on {n:,} odd numbers from 2^62+1")
    say()
    cap = min(n, config.PY_CAP // 5)
    best = sweep_chunksize("prime", "prime", inp, max(cap // 4, 1000),
                           config.NPROC, [0, 100, 1000, 10000])
    serial = serial_peer(["-j", "prime"], inp, n, ref)
    # every -np from 1 to 8: the scaling table's rows
    peers = [serial] + mr_peers(["-j", "prime"], inp, n, ref,
                                nps=range(1, 9))
    # what crash containment costs, and a plugin against the built-in job
    for np in (0, 2):
        label = "no mpirun" if np == 0 else f"-np {np}"
        peers.append(mr_peer(f"mapreduce --isolate ({label})", np,
                             ["-j", "prime", "--isolate", inp], n,
                             max(np, 1), ref=ref))
        if os.path.exists(config.PLUGIN):
            peers.append(mr_peer(
                f"mapreduce -j libprime.so, a plugin ({label})", np,
                ["-j", config.PLUGIN, inp], n, max(np, 1), ref=ref))
    peers += python_peers("prime", inp, n, ref, config.NPROC, best, cap,
                          int(10_000 * max(config.SCALE, 0.1)))
    mpu = mpu_peer(inp, n, ref)
    if mpu:
        peers.append(mpu)
    run_rounds("prime", peers, config.ROUNDS)
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
    n = int(4_000_000 * config.SCALE)
    base = 2 ** 62 + 1
    inp = make_input("primes4.txt", (str(base + 2 * i) for i in range(n)))
    ref = os.path.join(config.TMP, "primes4.ref")
    rounds = max(config.ROUNDS, 5)
    say(f"## Sustained throughput: `-j prime` on {n:,} odd numbers from "
        f"2^62+1")
    say()
    serial = serial_peer(["-j", "prime"], inp, n, ref)
    # the labels of the CPU-heavy table's rows, to find them there
    peers = [serial] + mr_peers(["-j", "prime"], inp, n, ref, nps=(2, 8),
                                alone=False)
    peers.append(mr_peer("mapreduce --isolate (-np 2)", 2,
                         ["-j", "prime", "--isolate", inp], n, 2, ref=ref))
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
        rows.append([p.label, f"{n:,}", fmt_s(p.best_inrun()), fmt_s(med),
                     fmt_rate(n / med if med else None),
                     f"{first_med / med:.0%}" if med and first_med else "–",
                     fmt_s(q.median_inrun() if q else None), fmt_rate(marg),
                     f"{marg / first_marg:.0%}" if marg and first_marg
                     else "–", fmt_s(p.twin.median_inrun() if p.twin
                                     else None), status(p)])
    table(["peer", "items", "best in-run s", "median in-run s",
           "items/s (median)", "÷ -np 2",
           f"median s on {short_items(short.get(first.label))}",
           "marginal items/s", "marginal ÷ -np 2", "median in-run s, -o FILE",
           "output"], rows)
    say(f"Median of {rounds} interleaved rounds. marginal items/s = the "
        f"extra items ÷ the extra median seconds against the same row of "
        f"the CPU-heavy table: the rate once running, without what a run "
        f"pays once.")
    say()


def short_items(p):
    """How many items the CPU-heavy table's row p ran on."""
    return f"{p.items:,}" if p else "the short input"


def calc_units(item):
    sys.path.insert(0, config.BENCH)
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
    n = max(int(120 * config.SCALE), 40)
    unit = 0.005
    items = [str(2 * i) for i in range(n)]  # the seed's range(0, 10*off, off)
    inp = make_input("calc.txt", items)
    ref = os.path.join(config.TMP, "calc.ref")
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
    serial = serial_peer(args, inp, n, ref)
    peers = [serial] + mr_peers(args, inp, n, ref)
    # adaptive chunking against every fixed chunk size, on the same 4 ranks
    for cs in (1, 2, 4, 8):
        peers.append(mr_peer(f"mapreduce -np 4 -c {cs} (fixed)", 4,
                             args + ["-c", str(cs), inp], n, 4, ref=ref))
    peers += python_peers("calc", inp, n, ref, procs, best, n, 0, arg=unit)
    run_rounds("skewed", peers, config.ROUNDS)
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
    n = int(1_000_000 * config.SCALE)
    slow = max(int(100 * config.SCALE), 10)
    base, mid = 2 ** 62 + 1, n // 2
    big = str(2 ** 1279 - 1)  # a Mersenne prime: about 6 ms to test
    inp = make_input("clustered.txt", (
        big if mid <= i < mid + slow else str(base + 2 * i) for i in range(n)))
    ref = os.path.join(config.TMP, "clustered.ref")
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
    serial = serial_peer(args, inp, n, ref)
    peers = [serial]
    for np in (2, 8):
        peers.append(mr_peer(f"mapreduce -np {np} (adaptive)", np,
                             args + [inp], n, np, ref=ref))
    for cs in (16, 256, 4096):
        peers.append(mr_peer(f"mapreduce -np 2 -c {cs} (fixed)", 2,
                             args + ["-c", str(cs), inp], n, 2, ref=ref))
    run_rounds("clustered", peers, config.ROUNDS)
    total = serial.best_inrun()
    for p in peers:
        p.ideal = total / min(p.workers, config.NPROC) if total else None
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
    ref = os.path.join(config.TMP, f"{name}.ref")
    total = n * secs
    say(f"## I/O-bound items: `-j sleep` on {n} items of {secs} s "
        f"({total:g} s of sleep), {width} workers")
    say()
    say(f"ideal = {total:g} s ÷ computing workers; {width} workers: "
        f"{total / width:.3f} s.")
    say()
    best = sweep_chunksize(name, "sleep", inp, n, width, [0, 1, 2])
    serial = serial_peer(["-j", "sleep"], inp, n, ref)
    peers = [serial]
    peers.append(mr_peer(f"mapreduce -np {width}", width,
                         ["-j", "sleep", inp], n, width, ref=ref))
    if width != 8:
        peers.append(mr_peer("mapreduce -np 8 (oversubscribed)", 8,
                             ["-j", "sleep", inp], n, 8, ref=ref))
    peers.append(mr_peer(f"mapreduce -t {width} (no mpirun, threads)", 0,
                         ["-j", "sleep", inp], n, width, threads=width,
                         ref=ref))
    peers.append(mr_peer(f"mapreduce -np 1 -t {width} (threads)", 1,
                         ["-j", "sleep", inp], n, width, threads=width,
                         ref=ref))
    peers += python_peers("sleep", inp, n, ref, width, best, n, 0)
    if HAVE_PARALLEL:
        peers.append(Peer(f"GNU parallel -k -j{width} 'sleep {{}}; printf ...'",
                          ["parallel", "-k", f"-j{width}",
                           "sleep {}; printf '%s\\t%s\\n' {} {}", "::::",
                           inp], n, width, "parallel", stdout_to_file=True,
                          ref=ref))
    run_rounds(name, peers, config.ROUNDS)
    for p in peers:
        w = int(p.stats.get("computing", p.workers))
        p.workers = w
        p.ideal = total / w
    workload_table(peers, serial, ideal_col=True)


def exec_items_affordable(n):
    """GNU parallel starts a command in a few ms on most machines but in
    tens of ms on some VMs; there 10,000 items would take many minutes per
    row. Time 100 items first and shrink n to fit --exec-budget."""
    if not HAVE_PARALLEL or n <= 200:
        return n, None
    probe = make_input("exec-probe.txt", map(str, range(1, 101)))
    t0 = time.perf_counter()
    subprocess.run(["timeout", "-k", "5", "120", "parallel", "-k", "true {}",
                    "::::", probe], stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    per_item = (time.perf_counter() - t0) / 100
    fits = int(config.EXEC_BUDGET / per_item) if per_item > 0 else n
    if fits >= n:
        return n, per_item
    return max(200, fits), per_item


def workload_exec():
    if "--exec" not in mr_help():
        say(f"## Exec-style items: a command per item, "
            f"{config.EXEC_ITEMS:,} items")
        say()
        say("Skipped: `./mapreduce --help` does not mention `--exec` yet "
            "(exec mode is being written). When it does, this workload "
            "compares `mapreduce --exec 'echo {}'` and `--exec 'true {}'` "
            "with GNU parallel on the same items.")
        say()
        return
    n, per_item = exec_items_affordable(max(config.EXEC_ITEMS, 10))
    say(f"## Exec-style items: a command per item, {n:,} items")
    say()
    if n < config.EXEC_ITEMS:
        say(f"GNU parallel took {per_item * 1000:.0f} ms per item here, so "
            f"{config.EXEC_ITEMS:,} items would take "
            f"~{config.EXEC_ITEMS * per_item:.0f} s "
            f"per row: cut to {n:,} to stay within `--exec-budget` "
            f"({config.EXEC_BUDGET:g} s).")
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
            group.append(Peer(f"GNU parallel -k '{cmd}' (-j{config.NPROC})",
                              ["parallel", "-k", cmd, "::::", inp], n,
                              config.NPROC, "parallel", stdout_to_file=True,
                              check=check))
        for np in (0, 2, 4):
            label = "no mpirun" if np == 0 else f"-np {np}"
            group.append(mr_peer(f"mapreduce --exec '{cmd}' ({label})", np,
                                 ["--exec", cmd, inp], n, max(np, 1),
                                 check=check))
        groups.append(group)
    run_rounds("exec", [p for g in groups for p in g], config.EXEC_ROUNDS)
    header = ["peer", "workers", "items", "in-run s", "in-run items/s",
              "wall s", "wall items/s", "wall ÷ parallel", "CPU s",
              "wall s, -o FILE", "`>` ÷ `-o` wall", "output lines"]
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
                         else "–", fmt_s(p.best_cpu())] + twin_cols(p, "wall")
                        + ["FAILED: " + ",".join(sorted(set(p.errors)))
                         if p.errors and not p.wall else
                         "n/a" if p.output_ok is None else
                         "one per item" if p.output_ok else "WRONG COUNT"])
    table(header, rows)
    say("Only the number of output lines of `echo {}` is checked: "
        "mapreduce's exec output format is its own.")
    say()


def workload_overhead():
    """The cost of handing out one item: chunk size 1, trivial work."""
    n = max(int(20_000 * max(config.SCALE, 0.1)), 2000)
    inp = make_input(f"overhead{n}.txt", map(str, range(n)))
    ref = os.path.join(config.TMP, f"overhead{n}.ref")
    say(f"## Per-item overhead: `-j square` on {n:,} items, one item per "
        f"chunk")
    say()
    say("per item = in-run seconds ÷ items: the whole round trip of one "
        "item (read, send, compute, receive, write), as the seeds' "
        "`executor.map(..., chunksize=1)` pays it.")
    say()
    serial = serial_peer(["-j", "square"], inp, n, ref)
    peers = [serial]
    for np, extra in ((2, ["--master-compute", "no"]), (2, []), (3, []),
                      (8, [])):
        what = " --master-compute no" if extra else ""
        peers.append(mr_peer(f"mapreduce -np {np} -c 1{what}", np,
                             ["-j", "square", "-c", "1"] + extra + [inp], n,
                             np, ref=ref))
    peers.append(Peer("Python Pool.map, chunksize=1",
                      py_argv("pool", "square", inp, config.NPROC, 1), n,
                      config.NPROC, "python", ref=ref))
    peers.append(Peer("Python ProcessPoolExecutor.map, chunksize=1",
                      py_argv("ppe", "square", inp, config.NPROC, 1), n,
                      config.NPROC, "python", ref=ref))
    run_rounds("overhead", peers, config.ROUNDS)
    rows = []
    for p in peers:
        b = p.best_inrun()
        b_o = p.twin.best_inrun() if p.twin else None
        rows.append([p.label, f"{n:,}", fmt_s(b),
                     f"{b / n * 1e6:.1f} us" if b else "–", fmt_s(b_o),
                     f"{b_o / n * 1e6:.1f} us" if b_o else "–", status(p)])
    table(["peer", "items", "in-run s", "per item", "in-run s, -o FILE",
           "per item, -o FILE", "output"], rows)


def _seconds(text):
    """A duration as --progress prints it: 12.3ms, 4.5s, 1m05s, 2h03m."""
    import re
    m = re.fullmatch(r"([0-9.]+)ms", text)
    if m:
        return float(m.group(1)) / 1000
    m = re.fullmatch(r"([0-9.]+)s", text)
    if m:
        return float(m.group(1))
    m = re.fullmatch(r"(\d+)m(\d+)s", text)
    if m:
        return int(m.group(1)) * 60 + int(m.group(2))
    m = re.fullmatch(r"(\d+)h(\d+)m", text)
    return int(m.group(1)) * 3600 + int(m.group(2)) * 60 if m else None


def eta_trial(inp, np):
    """One run with a progress line every 50 ms into a pipe: the ETA of the
    first line at 25% or more against the time the run then still took.
    Returns (percent, eta, actual) or None."""
    import re
    argv = ["timeout", "-k", "5", str(config.TIMEOUT), "mpirun", "-q", "-np",
            str(np), config.MR, "-j", "sleep", "--progress=0.1", inp]
    p = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                       cwd=config.ROOT)
    at = end = None
    for line in p.stderr.decode(errors="replace").splitlines():
        m = re.search(r"\(([0-9.]+)%\), .* elapsed (\S+), ETA (\S+)", line)
        if m and at is None and float(m.group(1)) >= 25:
            at = (float(m.group(1)), _seconds(m.group(2).rstrip(",")),
                  _seconds(m.group(3)))
        m = re.search(r"finished: .* elapsed (\S+)", line)
        if m:
            end = _seconds(m.group(1))
    if p.returncode or not at or end is None:
        return None
    return at[0], at[2], end - at[1]


def obs_cost(chunks, ranks, seconds):
    """The observer fed alone the events of a run of `chunks` chunks on
    `ranks` ranks over `seconds` (bench/obs_cost.c): {name: ns a chunk}.
    CPU time, so the machine's load does not move it much."""
    exe = os.path.join(config.ROOT, "build", "bench", "obs_cost")
    if not os.access(exe, os.X_OK):
        return {}
    try:
        out = subprocess.run([exe, config.TMP, str(int(chunks)), str(ranks),
                              f"{seconds:.6f}"], capture_output=True, text=True,
                             timeout=120).stdout
    except (OSError, subprocess.TimeoutExpired):
        return {}
    got = {}
    for line in out.splitlines():
        f = line.split("\t")
        if len(f) == 3:
            got[f[0]] = (float(f[1]), float(f[2]))
    return got


def workload_observe():
    """What seeing a run costs (--progress, --stats, --status; --trace and
    --timeline), side by side with the same runs without, and how close
    the ETA at 25% comes to the time the run then took.

    The runs write to `> FILE` as users run them. -np 8 on 2 cores varies
    by 10% and more from one run to the next (eight ranks taking turns on
    two cores), more than what is measured: so the runs with and without
    alternate for --observe-rounds rounds, the cost is median against
    median, and the observer's own CPU time per chunk (bench/obs_cost.c,
    which the load barely moves) bounds it from below the noise."""
    import random
    import statistics
    n = int(10_000_000 * config.SCALE)
    inp = make_input("squares.txt", map(str, range(n)))
    ref = os.path.join(config.TMP, "squares.ref")
    np_ = int(1_000_000 * config.SCALE)
    rng = random.Random(17)  # the random workload's file: the same items
    pinp = make_input("random63.txt",
                      (str(rng.getrandbits(63)) for _ in range(np_)))
    pref = os.path.join(config.TMP, "random63.ref")
    status = os.path.join(config.TMP, "observe.status")
    trace = os.path.join(config.TMP, "observe.trace.json")
    svg = os.path.join(config.TMP, "observe.svg")
    sjson = os.path.join(config.TMP, "observe.stats.json")
    rounds = max(config.ROUNDS, config.OBSERVE_ROUNDS)
    say(f"## Seeing a run: `--progress --stats --status` and `--trace "
        f"--timeline` on {n:,} squares and {np_:,} random integers below 2^63")
    say()
    for s in (serial_peer(["-j", "square"], inp, n, ref),
              serial_peer(["-j", "prime"], pinp, np_, pref)):
        s.run(s.ref)  # the references the outputs are checked against
    looks = ["--progress", "--stats", "--status", status]
    pictures = ["--trace", trace, "--timeline", svg]
    peers, groups = [], []
    for job, data, items, r in (("square", inp, n, ref),
                                ("prime", pinp, np_, pref)):
        for np in (2, 8):
            g = []
            for what, extra in (("", None),
                                (" --progress --stats --status F", looks),
                                (" --trace F --timeline F", pictures)):
                if job == "prime" and extra is pictures:
                    continue
                label = f"mapreduce -j {job} -np {np}{what}"
                if extra is None:  # the plain run: --stats=line, no observer
                    p = Peer(label, mr_argv(np, ["-j", job, data], to=">"), items,
                             np, "mapreduce", stdout_to_file=True, ref=r)
                else:  # its in-run seconds from --stats-json (written at the end)
                    argv = ["mpirun", "-q", "-np", str(np), config.MR, "-j", job] + \
                        extra + ["--stats-json", sjson, data]
                    p = Peer(label, argv, items, np, "mapreduce", stdout_to_file=True,
                             ref=r, inrun_json=sjson)
                g.append(p)
            peers += g
            groups.append(g)
    run_rounds("observe", peers, rounds)
    rows, costs = [], {}
    for g in groups:
        plain = g[0].median_inrun()
        for p in g:
            m = p.median_inrun()
            cost = (m / plain - 1) * 100 if m and plain and p is not g[0] else None
            costs[p.label] = cost
            spread = f"{min(p.inrun):.3f}-{max(p.inrun):.3f}" if p.inrun else "–"
            rows.append([p.label, fmt_s(m), spread, fmt_rate(p.items / m) if m else "–",
                         "–" if cost is None else f"{cost:+.1f}%",
                         "same" if p.output_ok else "differs"])
    table(["peer (`> FILE`)", f"in-run s, median of {rounds}", "min-max",
           "items/s", "cost (median vs median)", "output"], rows)
    sizes = {}
    for f in (trace, svg):
        if os.path.exists(f):
            sizes[f] = os.path.getsize(f) / 1e6
    if sizes:
        say(f"Files of the last `-np 8` squares run: " + ", ".join(
            f"{os.path.basename(f)} {mb:.2f} MB" for f, mb in sizes.items()) + ".")
        say()
    # the observer alone, per chunk: the cost without the noise
    sq8 = groups[1][0]
    chunks, secs = sq8.stats.get("chunks"), sq8.median_inrun()
    alone = obs_cost(chunks, 8, secs) if chunks and secs else {}
    if alone:
        base = alone.get("none", (0, 0))[0]
        parts = []
        for name, what in (("looks", "`--progress --stats --status`"),
                           ("pictures", "`--trace --timeline`")):
            if name in alone:
                ns, end_ms = alone[name]
                share = (ns - base) * chunks / (secs * 1e9) * 100
                parts.append(f"{what} {ns - base:,.0f} ns a chunk, {share:.2f}% of the "
                             f"run, and {end_ms:.1f} ms at its end")
        say(f"The observer alone (`bench/obs_cost.c`: the master's events of the "
            f"`-np 8` squares run, {int(chunks):,} chunks in {secs:.3f} s, fed to it "
            f"directly; CPU time, which the load barely moves): " + "; ".join(parts) +
            ". Above that, a run's figures are the machine's noise.")
        say()
    for label, limit, what in (
            ("mapreduce -j square -np 2 --progress --stats --status F", 2, "looks"),
            ("mapreduce -j square -np 8 --progress --stats --status F", 2, "looks"),
            ("mapreduce -j prime -np 2 --progress --stats --status F", 2, "looks"),
            ("mapreduce -j prime -np 8 --progress --stats --status F", 2, "looks"),
            ("mapreduce -j square -np 2 --trace F --timeline F", 10, "pictures"),
            ("mapreduce -j square -np 8 --trace F --timeline F", 10, "pictures")):
        c = costs.get(label)
        if c is None:
            continue
        say(f"* **Target (issue 18): `{label}`: {c:+.1f}%** (target: under "
            f"{limit}%, median of {rounds} against the same runs without): "
            f"**{'PASS' if c < limit else 'MISS'}**.")
    if sizes:
        mb_svg, mb_trace = sizes.get(svg), sizes.get(trace)
        ok = (mb_svg is None or mb_svg < 2) and (mb_trace is None or mb_trace < 100)
        say(f"* **Target (issue 18): files of the -np 8 squares run: SVG "
            f"{mb_svg or 0:.2f} MB (under 2), trace {mb_trace or 0:.2f} MB (under 100)"
            f"**: **{'PASS' if ok else 'MISS'}**.")
    say()
    # the ETA: 1,000 sleeps of uniform 0-20 ms at -np 4
    rnd = random.Random(18)
    sl = make_input("observe-sleeps.txt",
                    (f"{rnd.uniform(0, 0.02):.4f}" for _ in range(1000)))
    trials = [eta_trial(sl, 4) for _ in range(max(config.ROUNDS, 3))]
    trials = [t for t in trials if t]
    if trials:
        errs = [abs(e - a) / a * 100 for _, e, a in trials if a > 0]
        say("ETA of `--progress` at 25% of 1,000 sleeps of uniform 0-20 ms "
            "at `-np 4` against the time the run then took: " +
            "; ".join(f"at {p:.1f}%: ETA {e:.2f} s, took {a:.2f} s"
                      for p, e, a in trials) +
            f". Error: median {statistics.median(errs):.1f}%, "
            f"worst {max(errs):.1f}% (target: within 15%).")
        say()
    return peers


def workload_worker():
    """--worker (issue 20): the seeds' Python isPrime as a long-lived
    worker against the same function in one Python process and in
    Pool.map at its best chunk size; and the per-item cost of the protocol
    with a trivial worker (cat) against --exec 'echo {}'."""
    if "--worker" not in mr_help():
        say("## Persistent workers: skipped (`./mapreduce --help` has no "
            "`--worker`)")
        say()
        return
    import random
    n = int(1_000_000 * config.SCALE)
    rng = random.Random(20)
    inp = make_input(f"pyprimes{n}.txt",
                     (str(rng.randrange(1 << 24)) for _ in range(n)))
    ref = os.path.join(config.TMP, f"pyprimes{n}.ref")
    worker = os.path.join(config.ROOT, "python", "is_prime.py")
    peer_py = os.path.join(config.BENCH, "pyworker.py")
    say(f"## Persistent workers: the seeds' Python `isPrime` on {n:,} "
        f"random integers below 2^24")
    say()
    # kind "serial": its first round writes the reference the others meet
    single = Peer("one Python process (a plain loop)",
                  [config.PY, peer_py, "single", inp, "{out}"], n, 1, "serial",
                  ref=ref)
    peers = [single]
    for np in (0, 2):
        label = "no mpirun" if np == 0 else f"-np {np}"
        peers.append(mr_peer(f"mapreduce --worker 'python3 is_prime.py' ({label})",
                             np, ["--worker", f"{config.PY} {worker}", inp],
                             n, max(np, 1), ref=ref))
    for c in (0, 1000, 10000, 100000):
        what = "default" if c == 0 else str(c)
        peers.append(Peer(f"Python Pool({config.NPROC}).map, chunksize {what}",
                          [config.PY, peer_py, "pool", inp, "{out}", "--procs",
                           str(config.NPROC), "--chunksize", str(c)], n,
                          config.NPROC, "python", ref=ref))
    run_rounds("worker", peers, config.ROUNDS)
    s_rate = n / single.best_inrun() if single.best_inrun() else None
    pools = [p for p in peers if p.label.startswith("Python Pool") and p.best_inrun()]
    best_pool = min(pools, key=lambda p: p.best_inrun()) if pools else None
    rows = []
    for p in peers:
        b = p.best_inrun()
        rate = n / b if b else None
        rows.append([p.label + (" (best Pool)" if p is best_pool else ""),
                     f"{n:,}", fmt_s(b), fmt_rate(rate),
                     fmt_ratio(rate / s_rate) if rate and s_rate else "–",
                     fmt_ratio(rate * best_pool.best_inrun() / n)
                     if rate and best_pool else "–",
                     fmt_s(p.best_wall()),
                     "same" if p.output_ok or p is single else
                     "FAILED" if p.errors and not p.wall else "differs"])
    table(["peer", "items", "in-run s", "items/s", "÷ one process",
           "÷ best Pool.map", "wall s", "output"], rows)
    say("Targets (issue 20): `--worker` at `-np 2` at least 1.7x one Python "
        "process, and faster than `Pool.map` at its best chunk size.")
    say()

    # the protocol's own cost: an echo worker, default chunk sizes
    m = int(1_000_000 * config.SCALE)
    e = max(int(2_000 * config.SCALE), 200)
    inp_m = make_input(f"echo{m}.txt", map(str, range(m)))
    inp_e = make_input(f"echo{e}.txt", map(str, range(e)))
    say(f"## Persistent workers: per-item cost of the protocol ({m:,} items "
        f"through `cat`; `--exec 'echo {{}}'` on {e:,})")
    say()
    echo_py = f"{config.PY} " + os.path.join(config.ROOT, "python",
                                             "mapreduce_worker.py")
    peers = [mr_peer("mapreduce -j square (no worker: the farm alone)", 0,
                     ["-j", "square", inp_m], m, 1, check="lines"),
             mr_peer("mapreduce --worker cat (no mpirun)", 0,
                     ["--worker", "cat", inp_m], m, 1, check="lines"),
             mr_peer("mapreduce --worker cat (-np 2)", 2,
                     ["--worker", "cat", inp_m], m, 2, check="lines"),
             mr_peer("mapreduce --worker 'python3 mapreduce_worker.py' (echo, "
                     "no mpirun)", 0, ["--worker", echo_py, inp_m], m, 1,
                     check="lines"),
             mr_peer("mapreduce --exec 'echo {}' (no mpirun)", 0,
                     ["--exec", "echo {}", inp_e], e, 1, check="lines")]
    run_rounds("worker-echo", peers, config.ROUNDS)
    exec_us = None
    if peers[-1].best_inrun():
        exec_us = peers[-1].best_inrun() / e * 1e6
    rows = []
    for p in peers:
        b = p.best_inrun()
        us = b / p.items * 1e6 if b else None
        rows.append([p.label, f"{p.items:,}", fmt_s(b),
                     f"{us:.2f} us" if us else "–",
                     fmt_ratio(exec_us / us) if us and exec_us else "–",
                     "one per item" if p.output_ok else
                     "FAILED" if p.errors and not p.wall else "WRONG COUNT"])
    table(["peer", "items", "in-run s", "per item", "÷ --exec", "output"], rows)
    say("per item = in-run seconds ÷ items, everything included (reading, "
        "the farm, the pipe both ways, writing). Targets (issue 20): `cat` "
        "under 3 us per item, at least 200x `--exec 'echo {}'`.")
    say()
