"""pywc.py: the Python peer of the word count: multiprocessing.Pool.map of
collections.Counter over blocks of lines, the counters summed, written as
WORD<TAB>N sorted by the word's bytes (what `mapreduce -j wordcount`
writes).  python3 pywc.py INPUT OUTPUT [--procs N]"""
import collections
import multiprocessing
import sys
import time

BLOCK = 4 << 20  # bytes of lines per task


def count(block):
    c = collections.Counter()
    for line in block.split(b"\n"):
        c.update(line.split())
    return c


def blocks(path):
    with open(path, "rb") as f:
        while True:
            b = f.read(BLOCK)
            if not b:
                return
            b += f.readline()  # whole lines only
            yield b


def main():
    inp, out = sys.argv[1], sys.argv[2]
    procs = int(sys.argv[4]) if len(sys.argv) > 4 else 2
    t0 = time.time()
    total = collections.Counter()
    with multiprocessing.Pool(procs) as pool:
        for c in pool.imap_unordered(count, blocks(inp)):
            total.update(c)
    with open(out, "wb") as f:
        for k in sorted(total):
            f.write(k + b"\t" + str(total[k]).encode() + b"\n")
    print(f"seconds={time.time() - t0:.6f}", file=sys.stderr)


if __name__ == "__main__":
    main()
