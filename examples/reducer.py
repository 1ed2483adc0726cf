#!/usr/bin/env python3
"""A Hadoop streaming reducer for mapreduce -R: sums each key's values.

    mpirun -np 4 ./mapreduce -j wordcount -R 'python3 examples/reducer.py' book.txt

Its standard input is KEY<TAB>VALUE lines sorted by key, every value of a
key, so itertools.groupby sees each key once; it prints KEY<TAB>RESULT.
"""
import sys
from itertools import groupby

pairs = (line.rstrip("\n").split("\t", 1) for line in sys.stdin)
for key, group in groupby(pairs, key=lambda kv: kv[0]):
    print(f"{key}\t{sum(int(v) for _, v in group)}")
