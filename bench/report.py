"""What a run prints and writes: the Markdown lines (say), progress on
stderr (note), number formats, the tables every workload shares, and
RESULTS.md.
"""
import sys

import config

report = []  # the Markdown that goes to RESULTS.md
targets = []  # issue 17's target lines, said again at the end


def say(text=""):
    print(text, flush=True)
    report.append(text)


def note(text):
    """Progress on stderr: not part of the tables."""
    print(f"bench: {text}", file=sys.stderr, flush=True)


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


def twin_cols(p, measure):
    """A mapreduce row's -o columns: its twin's seconds (measure: "wall" or
    "inrun"), and the row's (`> FILE`) seconds ÷ the twin's."""
    if not p.twin:
        return ["–", "–"]
    get = (lambda q: q.best_wall()) if measure == "wall" else \
        (lambda q: q.best_inrun())
    mine, o = get(p), get(p.twin)
    return [fmt_s(o), fmt_ratio(mine / o) if mine and o else "–"]


def status(p):
    """The output column: the check against the serial loop's output, of
    the row and of its -o twin."""
    if p.errors and not p.wall:
        text = "FAILED: " + ", ".join(sorted(set(p.errors)))
    elif p.output_ok is None:
        text = "n/a"
    else:
        text = "same" if p.output_ok else "DIFFERS"
        if p.errors:
            text += " (" + ", ".join(sorted(set(p.errors))) + ")"
    # a > FILE row under mpirun that went through mpirun's copying
    # measured the slow path, not what users get: say so
    if p.twin and "forwarded" in p.stdout_modes:
        text += " (stdout forwarded by mpirun)"
    q = p.twin
    if q and (q.errors or q.output_ok is False):
        text += " (-o: " + ("DIFFERS" if q.output_ok is False else
                            "FAILED: " + ", ".join(sorted(set(q.errors)))) \
            + ")"
    return text


def target(name, ratio, goal, how, ceiling=False):
    """One clearly labelled line for a target of issue 17: the ratio and
    PASS or MISS: at least goal, or at most goal when it is a ceiling.
    ratio None: the rows it needs did not run."""
    if ratio is None:
        verdict = "not measured"
        shown = "–"
    else:
        verdict = "PASS" if (ratio <= goal if ceiling else ratio >= goal) \
            else "MISS"
        shown = fmt_ratio(ratio) if ratio >= 10 else f"{ratio:.2f}×"
    line = (f"**Target (issue 17): {name}: {shown}** "
            f"(target {'≤' if ceiling else '≥'} {goal:g}×): "
            f"**{verdict}**. {how}")
    say(line)
    say()
    targets.append(line)


def targets_summary():
    say("## Issue 17's targets, in one place")
    say()
    say("Each measured side by side in one run, in the workload above it; "
        "mapreduce writing to `> FILE` through mpirun's standard output. "
        "At a --scale other than 1 the item counts are scaled too, so the "
        "figures are indicative only.")
    say()
    for line in targets:
        say(f"* {line}")
    say()


def workload_table(peers, serial, ideal_col=False):
    s_in, s_wall = serial.best_inrun(), serial.best_wall()
    s_rate_in = serial.items / s_in if s_in else None
    s_rate_wall = serial.items / s_wall if s_wall else None
    header = ["peer", "workers", "items", "in-run s", "in-run items/s",
              "in-run ÷ serial", "wall s", "wall items/s", "wall ÷ serial",
              "CPU s", "wall s, -o FILE", "`>` ÷ `-o` wall"]
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
               else "–", fmt_s(p.best_cpu())] + twin_cols(p, "wall")
        if ideal_col:
            row += [fmt_s(p.ideal),
                    fmt_ratio(b_in / p.ideal) if b_in and p.ideal else "–",
                    fmt_ratio(b_wall / p.ideal) if b_wall and p.ideal
                    else "–"]
        row.append(status(p))
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


def scaling_table(prime_peers):
    cores = config.NPROC
    say("## Scaling: `-j prime` (from the CPU-heavy table, `> FILE`)")
    say()
    say(f"speedup = in-run items/s ÷ that of `-np 1`; efficiency = speedup ÷ "
        f"np; per core = speedup ÷ min(np, {cores} cores); ÷ serial per core "
        f"= in-run items/s ÷ (the serial C loop's × min(np, {cores})), the "
        f"efficiency against the best one-core program; busy = the share "
        f"of the run the computing ranks spent computing (mapreduce's "
        f"`--stats=line` efficiency). `mpirun` binds `-np 1` (and `-np 2`) to "
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
                     f"{sp / min(np, cores):.0%}" if sp else "–",
                     f"{rate / (ser_rate * min(np, cores)):.0%}"
                     if ser_rate else "–",
                     f"{p.stats['efficiency']:.0%}"
                     if "efficiency" in p.stats else "–"])
    table(["np", "computing ranks", "in-run items/s", "speedup",
           "efficiency", "per core", "÷ serial per core", "busy"], rows)


def write_results(path):
    with open(path, "w") as f:
        f.write("\n".join(report) + "\n")
