"""bench.py: mapreduce side by side with its peers, on the same input files,
in one run. bench/run.sh builds the serial baseline and calls this with its
own arguments; `python3 bench/bench.py --help` lists the options, and
bench/README.md says what every column means.

Each workload runs all of its peers once per round, rounds interleaved (and
rotated), and keeps each peer's best time, so a burst of load from elsewhere
hurts one round of every peer rather than all rounds of one. Every command
runs under timeout(1). Nothing here passes or fails on speed: the output is
tables, plus a check that every peer wrote the same bytes as the serial loop.

The parts: config.py (the settings), inputs.py (the input files),
peers.py (how each peer runs and is timed), workloads.py and memory.py
(the workloads), report.py (tables, RESULTS.md), machine.py (the machine
table).
"""
import argparse
import os
import sys
import time

import config
import machine
import memory
import reduce as reduce_bench
import workloads
from report import (note, say, scaling_table, table, targets,
                    targets_summary, write_results)


def parse_args(argv=None):
    p = argparse.ArgumentParser(
        prog="bench.py",
        description="mapreduce side by side with its peers (the serial C "
        "loop, Python pools, mpi4py, GNU parallel, Math::Prime::Util) on "
        "the same input files; prints Markdown tables. A full run (no "
        "--quick, --scale 1, no --only) writes bench/RESULTS.md; any other "
        "writes TMP/RESULTS.md.",
        epilog="bench/README.md says what every workload and column is.")
    p.add_argument("--quick", action="store_true",
                   help="quick run: --scale 0.1, --rounds 1, "
                   "--exec-budget 15 unless given")
    p.add_argument("--scale", type=float, metavar="X",
                   help="multiplies the item counts (10,000,000 squares, "
                   "1,000,000 primes, 1,000,000 random integers, 2,000,000 "
                   "primes above 2^62, --py-items, --exec-items) "
                   "(default 1; --quick: 0.1)")
    p.add_argument("--rounds", type=int, metavar="N",
                   help="rounds per workload; each peer keeps its best "
                   "(default 3; --quick: 1)")
    p.add_argument("--only", metavar="LIST",
                   help="comma-separated workloads to run, of: "
                   + ", ".join(config.WORKLOADS) + " (default all)")
    p.add_argument("--py-items", type=float, default=1_000_000, metavar="N",
                   help="the Python peers run on at most this many lines "
                   "of the cheap input, a fifth of it for primes; scaled "
                   "(default 1000000)")
    p.add_argument("--exec-items", type=float, default=10_000, metavar="N",
                   help="items for the exec-style workload; scaled "
                   "(default 10000)")
    p.add_argument("--exec-rounds", type=int, default=1, metavar="N",
                   help="rounds for the exec-style workload: GNU parallel "
                   "is slow (default 1)")
    p.add_argument("--observe-rounds", type=int, metavar="N",
                   help="rounds for the observe workload (--progress, "
                   "--stats, --trace ... against the same runs without), "
                   "at least --rounds: its costs are medians of runs "
                   "alternating with and without, as -np 8 on 2 cores "
                   "varies by 10%% and more from run to run (default 7; "
                   "--quick: 3)")
    p.add_argument("--exec-budget", type=float, metavar="S",
                   help="seconds one GNU parallel row may take: 100 items "
                   "are timed first and the item count is cut to fit, with "
                   "a note in the table (default 60; --quick: 15)")
    p.add_argument("--wc-mb", type=float, default=1024, metavar="MIB",
                   help="MiB of Zipf text for the reduce workload's word "
                   "count; scaled (default 1024)")
    p.add_argument("--tmp", metavar="DIR",
                   help="inputs and outputs, kept between runs and "
                   "regenerated when the scale changes (default "
                   "/dev/shm/mapreduce-bench, or /tmp/mapreduce-bench "
                   "when /dev/shm is not writable)")
    p.add_argument("--timeout", type=int, default=300, metavar="S",
                   help="seconds before a single command is killed "
                   "(default 300)")
    p.add_argument("--mapreduce", metavar="PATH",
                   help="the binary under test, e.g. build-address/mapreduce "
                   "(default ./mapreduce)")
    p.add_argument("--python", metavar="PATH",
                   help="the interpreter for the Python peers; the mpi4py "
                   "rows need one that sees python3-mpi4py (default "
                   "/usr/bin/python3, else python3)")
    p.add_argument("--serial", metavar="PATH",
                   help="the serial C baseline (default "
                   "build/bench/serial, which bench/run.sh builds)")
    p.add_argument("--results", metavar="FILE",
                   help="where the tables are written (default "
                   "bench/RESULTS.md for a full run, TMP/RESULTS.md for "
                   "any other)")
    args = p.parse_args(argv)
    unknown = set((args.only or "").split(",")) - set(config.WORKLOADS)
    if args.only and unknown:
        p.error(f"--only: no workload {', '.join(sorted(unknown))} "
                f"(there are {','.join(config.WORKLOADS)})")
    return args


def main():
    args = parse_args()
    config.configure(args)
    os.makedirs(config.TMP, exist_ok=True)
    for need in (config.MR, config.SERIAL):
        if not os.access(need, os.X_OK):
            sys.exit(f"bench: {need} is missing: run `make bench`")
    t0 = time.time()
    say("# mapreduce benchmarks")
    say()
    say("in-run = the time each program measures itself (mapreduce's "
        "`--stats=line` seconds, from its start to its last result written, "
        "without mpirun's start-up; the Python peers from before reading "
        "the input to after writing the output and closing the pool, "
        "without the interpreter's start-up). wall = the whole command as "
        "launched, mpirun or interpreter start-up included. Best of "
        f"{config.ROUNDS} interleaved rounds. ratios: items/s ÷ the serial "
        "C loop's items/s (above 1 is faster). Every mapreduce row is "
        "measured both ways, right after each other in every round: its "
        "own figures with the results sent to `> FILE` (mpirun's standard "
        "output, as users run it), its `-o FILE` columns with `-o FILE`; "
        "`>` ÷ `-o` is the first's seconds ÷ the second's (1.00× is as "
        "fast). Issue 17's three targets get a line each (PASS or MISS), "
        "and are said again at the end.")
    say()
    table(["machine", ""], machine.machine())
    which = config.ONLY
    prime_peers = None
    if "cheap" in which:
        workloads.workload_cheap()
    if "prime" in which:
        prime_peers = workloads.workload_prime()
    if "random" in which:
        workloads.workload_random()
    if "bigprimes" in which:
        workloads.workload_bigprimes()
    if "sustained" in which:
        workloads.workload_sustained(prime_peers)
    if "skewed" in which:
        workloads.workload_skewed()
    if "clustered" in which:
        workloads.workload_clustered()
    if "io" in which:
        workloads.workload_io(40, 0.05, 5, "io")
        # one item per worker: any item queued behind another shows
        workloads.workload_io(8, 0.25, 8, "io8")
    if "exec" in which:
        workloads.workload_exec()
    if "worker" in which:
        workloads.workload_worker()
    if "overhead" in which:
        workloads.workload_overhead()
    if "observe" in which:
        workloads.workload_observe()
    if "reduce" in which:
        reduce_bench.workload_reduce(args.wc_mb)
    if prime_peers:
        scaling_table(prime_peers)
    if "memory" in which:
        memory.memory_table()
    if targets:
        targets_summary()
    say(f"Total benchmark time: {time.time() - t0:.0f} s; load average at "
        f"the end: {machine.load_average()}.")
    write_results(config.RESULTS)
    note(f"tables written to {config.RESULTS}")


if __name__ == "__main__":
    main()
