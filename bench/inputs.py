"""The input files: written once into config.TMP and reused by later runs
at the same scale.
"""
import os

import config

def make_input(name, lines):
    """Writes the lines (an iterable of str) once; later runs reuse it when
    its line count matches."""
    path = os.path.join(config.TMP, name)
    stamp = path + ".ok"
    want = None
    if os.path.exists(stamp):
        with open(stamp) as f:
            want = f.read()
    key = f"{name}:{config.SCALE}:{config.PY_CAP}\n"
    if want != key or not os.path.exists(path):
        with open(path, "w") as f:
            f.writelines(f"{x}\n" for x in lines)
        with open(stamp, "w") as f:
            f.write(key)
    return path


def head_file(path, n):
    """The first n lines of path, as a file (the reference for peers that
    run on a prefix of the input)."""
    out = f"{path}.head{n}"
    if not os.path.exists(out):
        with open(path, "rb") as src, open(out, "wb") as dst:
            for i, line in enumerate(src):
                if i >= n:
                    break
                dst.write(line)
    return out
