"""Peak resident memory of every rank (GNU time around each), and of the
Python parent.
"""
import os
import re
import shlex
import shutil
import subprocess

import config
from inputs import head_file, make_input
from peers import py_argv
from report import note, say, table


def rss_run(argv, rss_dir):
    """Runs argv with GNU time writing each rank's peak RSS to rss_dir/RANK.
    Returns {rank: KiB} or None."""
    shutil.rmtree(rss_dir, ignore_errors=True)
    os.makedirs(rss_dir)
    p = subprocess.run(["timeout", "-k", "5", str(config.TIMEOUT)] + argv,
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                       cwd=config.ROOT)
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
    big = int(10_000_000 * config.SCALE)
    small = int(1_000_000 * config.SCALE)
    sq = make_input("squares.txt", map(str, range(big)))
    sq_small = head_file(sq, small)
    rss_dir = os.path.join(config.TMP, "rss")
    out = os.path.join(config.TMP, "mem.out")
    rows = []
    for lines, inp in ((big, sq), (small, sq_small)):
        for np in (0, 1, 2, 4, 8):
            tail = [config.MR, "-j", "square", "-o", out, inp]
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
        if lines <= config.PY_CAP:
            argv = [gtime, "-f", "%M", "-o", os.path.join(rss_dir, "0")] + \
                [a.replace("{out}", out)
                 for a in py_argv("pool", "square", inp, config.NPROC, 10000)]
            note(f"memory: Python Pool.map on {lines:,} lines")
            rss = rss_run(argv, rss_dir)
            if rss:
                rows.append([f"Python Pool.map (parent only, {config.NPROC} "
                             f"workers not counted)", f"{lines:,}",
                             f"{rss[0] / 1024:.1f}", "–", "–"])
    if os.path.exists(out):
        os.unlink(out)
    table(["run", "input lines", "rank 0 MiB", "other ranks MiB (each)",
           "total MiB"], rows)
