#!/usr/bin/env python3
"""scale.py: how far one master goes, in simulation.

A discrete-event model of mapreduce's farm: one master, P workers. The
master is a single server: handing out a chunk of n items costs it
TC + n*TI seconds (read, pack, send; gather, write), measured on this
machine (bench/SCALING.md). A worker computes a chunk in n*W seconds and
holds at most DEPTH chunks. Chunk sizes follow the sizer's rule: n aims at
TARGET seconds of work, at most CAP items. The output is the items/s the
farm reaches and its efficiency (items/s over P/W, what P workers could do
if the master were free).

    python3 bench/scale.py [--tc 5e-6] [--ti 1e-7]

prints one table for the old rule (4 ms chunks whatever P) and one for the
rule now in src/sizer.c (chunks of at least P * 10 us).
"""
import argparse
import heapq


def simulate(P, W, TC, TI, target, cap, depth, items=None):
    """Returns items/s of the farm. Runs until every worker has done
    about 50 chunks (or `items` items)."""
    n = max(1, min(cap, int(target / W)))
    total = items or P * depth * 50 * n
    t_master = 0.0          # when the master is free again
    done = 0
    handed = 0
    # worker state: time its queue runs dry, chunks held
    events = []             # (time a chunk finishes, worker)
    free_at = [0.0] * P     # when each worker finishes what it holds
    held = [0] * P
    # the master first fills every worker, round robin, as the farm does
    for _ in range(depth):
        for w in range(P):
            if handed >= total:
                break
            k = min(n, total - handed)
            t_master += TC + k * TI
            start = max(t_master, free_at[w])
            free_at[w] = start + k * W
            held[w] += 1
            handed += k
            heapq.heappush(events, (free_at[w], w, k))
    end = 0.0
    while events:
        t, w, k = heapq.heappop(events)
        held[w] -= 1
        # the master gathers the result and hands out the next chunk
        t_master = max(t_master, t) + TC / 2 + k * TI / 2
        done += k
        end = max(end, t_master)
        if handed < total:
            k2 = min(n, total - handed)
            t_master += TC / 2 + k2 * TI / 2
            start = max(t_master, free_at[w])
            free_at[w] = start + k2 * W
            held[w] += 1
            handed += k2
            heapq.heappush(events, (free_at[w], w, k2))
    return done / end, n


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tc", type=float, default=5e-6,
                    help="master seconds per chunk (measured: 5 us)")
    ap.add_argument("--ti", type=float, default=5e-8,
                    help="master seconds per item (measured: 50 ns, squares)")
    a = ap.parse_args()
    ranks = [8, 64, 1000, 10000]
    works = [("1 us (squares)", 1e-6), ("0.2 ms", 2e-4), ("10 ms", 1e-2)]
    rules = [("old rule: 4 ms chunks, at most 8192 items", lambda P: 4e-3, 8192),
             ("new rule: chunks of max(4 ms, P x 10 us), at most 65536 items",
              lambda P: max(4e-3, P * 1e-5), 65536)]
    print(f"master: {a.tc * 1e6:.1f} us per chunk + {a.ti * 1e9:.0f} ns per item;"
          f" one master's ceiling: {1 / a.ti / 1e6:.1f} M items/s\n")
    for name, target, cap in rules:
        print(f"### {name}\n")
        print("| item cost | " + " | ".join(f"P = {P:,}" for P in ranks) + " |")
        print("|---|" + "---:|" * len(ranks))
        for wname, W in works:
            cells = []
            for P in ranks:
                ips, n = simulate(P, W, a.tc, a.ti, target(P), cap, 2)
                eff = ips / (P / W)
                cells.append(f"{ips:,.0f}/s, {eff:.0%} (n={n:,})")
            print(f"| {wname} | " + " | ".join(cells) + " |")
        print()


if __name__ == "__main__":
    main()
