"""The reduce workload (issue 19): word count of a generated Zipf text at
-np 2 against `LC_ALL=C tr -s ' ' '\\n' | sort | uniq -c` and Python
Pool.map + Counter, every output checked to hold the same counts; and
-r sum of the squares against the plain map of the same file. Peers run
side by side, rounds interleaved, best wall time kept.
"""
import os
import random
import subprocess
import time

import config
from report import fmt_s, say, table

BENCH = os.path.dirname(os.path.abspath(__file__))


def zipf_text(path, mb):
    """mb MiB of lines of words drawn from a 200,000-word vocabulary with
    Zipf weights (s = 1), single spaces; written once per size."""
    stamp = path + ".ok"
    key = f"{mb}\n"
    if os.path.exists(stamp) and open(stamp).read() == key and os.path.exists(path):
        return path
    rnd = random.Random(19)
    letters = "abcdefghijklmnopqrstuvwxyz"
    vocab = ["".join(rnd.choice(letters) for _ in range(rnd.randint(2, 12)))
             for _ in range(200_000)]
    weights = [1.0 / (i + 1) for i in range(len(vocab))]
    # 64 different blocks of ~1 MiB, written in a random order
    blocks = []
    for _ in range(64):
        words = rnd.choices(vocab, weights, k=170_000)
        lines = [" ".join(words[i:i + 12]) for i in range(0, len(words), 12)]
        blocks.append(("\n".join(lines) + "\n").encode())
    size = mb << 20
    with open(path, "wb") as f:
        written = 0
        while written < size:
            b = rnd.choice(blocks)
            f.write(b)
            written += len(b)
    with open(stamp, "w") as f:
        f.write(key)
    return path


def timed(argv, shell=False):
    t0 = time.time()
    r = subprocess.run(argv, shell=shell, stdout=subprocess.DEVNULL,
                       stderr=subprocess.PIPE, timeout=config.TIMEOUT)
    return time.time() - t0, r.returncode, r.stderr.decode(errors="replace")


def peak_rss_mib(argv):
    """Peak RSS of the largest process of a command, under GNU time
    (mpirun's ranks are its children: -v reports the largest)."""
    if not os.access("/usr/bin/time", os.X_OK):
        return None
    r = subprocess.run(["/usr/bin/time", "-v"] + argv, stdout=subprocess.DEVNULL,
                       stderr=subprocess.PIPE, timeout=config.TIMEOUT)
    for line in r.stderr.decode(errors="replace").splitlines():
        if "Maximum resident set size" in line:
            return int(line.split()[-1]) / 1024
    return None


def counts(path, uniq=False):
    """{word: n} from WORD<TAB>N lines, or from uniq -c's '   N WORD'."""
    d = {}
    with open(path, "rb") as f:
        for line in f:
            if uniq:
                n, w = line.split()
            else:
                w, n = line.rstrip(b"\n").split(b"\t")
            d[w] = int(n)
    return d


def rounds(peers, n):
    best = {}
    for r in range(n):
        for i in range(len(peers)):
            label, argv, shell = peers[(i + r) % len(peers)]
            s, rc, err = timed(argv, shell)
            if rc != 0:
                best.setdefault(label, None)
                say(f"<!-- {label} failed: {err.strip()[:200]} -->")
                continue
            if best.get(label) is None or s < best[label]:
                best[label] = s
    return best


# a Hadoop streaming reducer: the input is sorted, a key's values together
AWK_SUM = ("awk -F'\\t' '$1 != k { if (NR > 1) print k \"\\t\" s; k = $1; s = 0 } "
           "{ s += $2 } END { if (NR) print k \"\\t\" s }'")


def workload_reducer(mb):
    """Word count with a reducer command (-R, every value kept and piped
    through awk) against the built-in -r sum and tr | sort | uniq -c, on an
    eighth of the word count's text (a reducer reads a line per word)."""
    tmp = config.TMP
    text = zipf_text(os.path.join(tmp, "zipf-small.txt"), mb)
    out = lambda name: os.path.join(tmp, name)
    mpirun = ["mpirun", "-q", "-np", "2"]
    say(f"## Word count with a reducer command (-R): {mb:,} MiB of Zipf text, -np 2")
    say()
    peers = [
        ("mapreduce -j wordcount -R 'awk (sum per key)' (-np 2)",
         mpirun + [config.MR, "-j", "wordcount", "-R", AWK_SUM, "--tmpdir", tmp, text,
                   "-o", out("wcr.red")], False),
        ("mapreduce -j wordcount (-r sum, -np 2)",
         mpirun + [config.MR, "-j", "wordcount", text, "-o", out("wcr.mr")], False),
        ("LC_ALL=C tr -s ' ' '\\n' \\| sort \\| uniq -c",
         f"LC_ALL=C tr -s ' ' '\\n' < {text} | LC_ALL=C sort | uniq -c > {out('wcr.uniq')}",
         True),
    ]
    best = rounds(peers, config.ROUNDS)
    same = {}
    try:
        ref = counts(out("wcr.mr"))
        same[peers[0][0]] = counts(out("wcr.red")) == ref
        same[peers[1][0]] = True
        same[peers[2][0]] = counts(out("wcr.uniq"), uniq=True) == ref
    except (OSError, ValueError):
        pass
    red_s = best.get(peers[0][0])
    rows = []
    for label, _, _ in peers:
        s = best.get(label)
        rows.append([label, fmt_s(s), f"{mb / s:.1f}" if s else "FAILED",
                     f"{s / red_s:.2f}×" if s and red_s else "",
                     {True: "same", False: "DIFFERS"}.get(same.get(label), "n/a")])
    table(["peer", "wall s", "MiB/s", "its time ÷ the reducer's", "counts"], rows)


def workload_reduce(wc_mb):
    mb = max(1, int(wc_mb * config.SCALE))
    tmp = config.TMP
    text = zipf_text(os.path.join(tmp, "zipf.txt"), mb)
    out = lambda name: os.path.join(tmp, name)
    mpirun = ["mpirun", "-q", "-np", "2"]
    say(f"## Reductions: word count of {mb:,} MiB of Zipf text, -np 2")
    say()
    peers = [
        ("mapreduce -j wordcount (-np 2)",
         mpirun + [config.MR, "-j", "wordcount", text, "-o", out("wc.mr")], False),
        ("LC_ALL=C tr -s ' ' '\\n' \\| sort \\| uniq -c",
         f"LC_ALL=C tr -s ' ' '\\n' < {text} | LC_ALL=C sort | uniq -c > {out('wc.uniq')}",
         True),
        ("Python Pool(2).map + Counter",
         [config.PY, os.path.join(BENCH, "pywc.py"), text, out("wc.py"), "--procs", "2"],
         False),
    ]
    best = rounds(peers, config.ROUNDS)
    same = {}
    try:
        ref = counts(out("wc.mr"))
        same[peers[1][0]] = counts(out("wc.uniq"), uniq=True) == ref
        same[peers[2][0]] = counts(out("wc.py")) == ref
        same[peers[0][0]] = True
    except (OSError, ValueError):
        pass
    mr_s = best.get(peers[0][0])
    rows = []
    for label, _, _ in peers:
        s = best.get(label)
        rows.append([label, fmt_s(s), f"{mb / s:.1f}" if s else "FAILED",
                     f"{s / mr_s:.2f}×" if s and mr_s else "",
                     {True: "same", False: "DIFFERS"}.get(same.get(label), "n/a")])
    table(["peer", "wall s", "MiB/s", "its time ÷ mapreduce's", "counts"], rows)
    rows = []
    for mem in (None, "256M"):
        extra = ["--memory", mem, "--tmpdir", tmp] if mem else []
        argv = mpirun + [config.MR, "-j", "wordcount"] + extra + [text, "-o", out("wc.mem")]
        rss = peak_rss_mib(argv)
        try:
            ok = counts(out("wc.mem")) == counts(out("wc.mr"))
        except (OSError, ValueError):
            ok = None
        rows.append([f"mapreduce -j wordcount {'--memory ' + mem if mem else '(default 1G)'}",
                     f"{rss:.0f}" if rss else "n/a",
                     {True: "same", False: "DIFFERS"}.get(ok, "n/a")])
    table(["peak RSS of the largest process (GNU time -v)", "MiB", "counts"], rows)

    workload_reducer(max(1, mb // 8))

    n = int(10_000_000 * config.SCALE)
    sq = os.path.join(tmp, "squares.txt")
    if not os.path.exists(sq) or sum(1 for _ in open(sq)) != n:
        with open(sq, "w") as f:
            f.writelines(f"{i}\n" for i in range(n))
    say(f"## -r sum of {n:,} squares against the plain map (-np 2)")
    say()
    peers = [
        ("mapreduce -j square (the map, written out)",
         mpirun + [config.MR, "-j", "square", sq, "-o", out("sq.map")], False),
        ("mapreduce -r sum -j square",
         mpirun + [config.MR, "-r", "sum", "-j", "square", sq, "-o", out("sq.sum")], False),
    ]
    best = rounds(peers, config.ROUNDS)
    m, r = best.get(peers[0][0]), best.get(peers[1][0])
    want = sum(i * i for i in range(n))
    try:
        got = int(open(out("sq.sum")).read())
    except (OSError, ValueError):
        got = None
    table(["peer", "wall s", "÷ the map's"],
          [[peers[0][0], fmt_s(m), "1"],
           [peers[1][0], fmt_s(r), f"{r / m:.3f}" if r and m else ""]])
    say(f"The sum is {'exact' if got == want else 'WRONG'} "
        f"({'python: ' + str(want)}).")
    say()
