"""pypeer.py: the Python peers of the benchmarks, doing mapreduce's work the
way the seeds do it: read the input file, map a function over the items with
a process pool, write ITEM<TAB>RESULT lines in input order to a file.

    pypeer.py MODE JOB INPUT OUTPUT [--procs P] [--chunksize C] [--arg A]
                                    [--limit K]

MODE  pool    multiprocessing.Pool(P).map
      ppe     concurrent.futures.ProcessPoolExecutor(P).map
      mpi4py  mpi4py.futures.MPIPoolExecutor().map; run it as
              mpirun -np N /usr/bin/python3 -m mpi4py.futures pypeer.py ...
      pure    Pool(P).map(f, range(K)) with f(n) = n*n, no file at all: the
              rate Pool.map reaches with nothing but its own overhead
JOB   square | prime | calc | sleep, with the same output text as mapreduce
      (prime: the same exact 64-bit Miller-Rabin; calc: the same hashed sleep)

--chunksize 0 (the default) means the pool's own default chunk size.
Prints "pypeer: items=N seconds=S ..." on stderr, S timed from before
reading the input to after closing the output and the pool (interpreter
start-up and imports excluded).
"""
import argparse
import sys
import time

# ------------------------------------------------------------------- jobs


def square(item):
    n = int(item)
    return str(n * n)


_SMALL = (3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47, 53, 59, 61,
          67, 71, 73, 79, 83, 89, 97, 101, 103, 107, 109, 113, 127, 131, 137,
          139, 149, 151, 157, 163, 167, 173, 179, 181, 191, 193, 197, 199,
          211, 223, 227, 229, 233, 239, 241, 251)
_BASES32 = (2, 7, 61)
_BASES64 = (2, 325, 9375, 28178, 450775, 9780504, 1795265022)


def is_prime(n):
    """Exact for n < 2^64: the same trial division and Miller-Rabin bases as
    jobs/prime.c (larger n: the same bases, no longer proven)."""
    if n < 2:
        return False
    if n < 64:
        return (0x28208a20a08a28ac >> n) & 1 == 1
    if n & 1 == 0:
        return False
    for p in _SMALL:
        if n % p == 0:
            return n == p
    if n < 257 * 257:
        return True
    d = n - 1
    s = (d & -d).bit_length() - 1
    d >>= s
    for a in (_BASES32 if n < 4759123141 else _BASES64):
        a %= n
        if a == 0:
            continue
        x = pow(a, d, n)
        if x == 1 or x == n - 1:
            continue
        for _ in range(s - 1):
            x = x * x % n
            if x == n - 1:
                break
        else:
            return False
    return True


def prime(item):
    return "true" if is_prime(int(item)) else "false"


def sleep_units(item):
    """jobs/calc.c's FNV-1a over the digits (sign and leading zeros off)."""
    neg = item.startswith("-")
    digits = item.lstrip("+-").lstrip("0") or "0"
    h = 2166136261
    for ch in digits.encode():
        h = ((h ^ ch) * 16777619) & 0xFFFFFFFF
    h = ((h ^ (1 if neg and digits != "0" else 0)) * 16777619) & 0xFFFFFFFF
    return h % 6


_UNIT = 0.01  # seconds per calc sleep unit; --arg sets it in every worker


def _set_unit(unit):
    global _UNIT
    _UNIT = unit


def calc(item):
    """The seeds' calc_stuff(parameter), with mapreduce's hashed sleep."""
    parameter = int(item)
    sleep_time = sleep_units(item)
    if sleep_time and _UNIT > 0:
        time.sleep(sleep_time * _UNIT)
    return f"{parameter / 2}\t{sleep_time}\t{parameter * parameter}"


def sleep(item):
    time.sleep(float(item))
    return item


def pure(n):
    return n * n


JOBS = {"square": square, "prime": prime, "calc": calc, "sleep": sleep}

# ------------------------------------------------------------------- peers


def read_items(path, limit):
    items = []
    with open(path) as f:
        for line in f:
            item = line.strip()
            if item and not item.startswith("#"):
                items.append(item)
                if limit and len(items) >= limit:
                    break
    return items


def write_results(path, items, results):
    with open(path, "w") as out:
        out.writelines(f"{i}\t{r}\n" for i, r in zip(items, results))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=("pool", "ppe", "mpi4py", "pure"))
    ap.add_argument("job", choices=sorted(JOBS))
    ap.add_argument("input")
    ap.add_argument("output")
    ap.add_argument("--procs", type=int, default=0, help="0: os.cpu_count()")
    ap.add_argument("--chunksize", type=int, default=0, help="0: default")
    ap.add_argument("--arg", type=float, default=None)
    ap.add_argument("--limit", type=int, default=0)
    o = ap.parse_args()
    fn = JOBS[o.job]
    procs = o.procs or None
    unit = o.arg if o.arg is not None else _UNIT
    t0 = time.perf_counter()

    if o.mode == "pure":
        import multiprocessing
        n = o.limit
        with multiprocessing.Pool(procs) as pool:
            items = pool.map(pure, range(n), o.chunksize or None)
    else:
        items = read_items(o.input, o.limit)
        if o.mode == "pool":
            import multiprocessing
            with multiprocessing.Pool(procs, _set_unit, (unit,)) as pool:
                results = pool.map(fn, items, o.chunksize or None)
        elif o.mode == "ppe":
            from concurrent.futures import ProcessPoolExecutor
            with ProcessPoolExecutor(procs, initializer=_set_unit,
                                     initargs=(unit,)) as ex:
                results = list(ex.map(fn, items, chunksize=o.chunksize or 1))
        else:
            from mpi4py.futures import MPIPoolExecutor
            with MPIPoolExecutor(initializer=_set_unit,
                                 initargs=(unit,)) as ex:
                results = list(ex.map(fn, items, chunksize=o.chunksize or 1))
        write_results(o.output, items, results)

    secs = time.perf_counter() - t0
    print(f"pypeer: mode={o.mode} job={o.job} items={len(items)} "
          f"chunksize={o.chunksize or 'default'} seconds={secs:.6f} "
          f"items_per_s={len(items) / secs if secs > 0 else 0:.0f}",
          file=sys.stderr)


if __name__ == "__main__":
    main()
