"""pyworker.py: the peers of --worker's Python row, with the seeds'
isPrime itself (imported from python/is_prime.py, the script mapreduce
runs as its worker), reading the same file and writing the same
"ITEM<TAB>True|False" lines.

    pyworker.py single INPUT OUTPUT              one plain Python loop
    pyworker.py pool INPUT OUTPUT [--procs P] [--chunksize C]
                                                 multiprocessing.Pool.map
                                                 (C 0: Pool's own default)

Prints "pyworker: items=N seconds=S" on stderr, S from before reading the
input to after writing the output (and closing the pool).
"""
import argparse
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "python"))
from is_prime import isPrime  # noqa: E402


def main():
    p = argparse.ArgumentParser()
    p.add_argument("mode", choices=("single", "pool"))
    p.add_argument("input")
    p.add_argument("output")
    p.add_argument("--procs", type=int, default=0)
    p.add_argument("--chunksize", type=int, default=0)
    a = p.parse_args()
    t0 = time.perf_counter()
    with open(a.input) as f:
        items = [line.strip() for line in f if line.strip()]
    nums = [int(s) for s in items]
    if a.mode == "single":
        results = [isPrime(n) for n in nums]
    else:
        import multiprocessing
        with multiprocessing.Pool(a.procs or None) as pool:
            results = pool.map(isPrime, nums, a.chunksize or None)
    with open(a.output, "w") as out:
        out.writelines(f"{s}\t{r}\n" for s, r in zip(items, results))
    secs = time.perf_counter() - t0
    print(f"pyworker: items={len(items)} seconds={secs:.6f}", file=sys.stderr)


if __name__ == "__main__":
    main()
