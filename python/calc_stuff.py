"""The seeds' calc_stuff as a mapreduce --worker (README: "Python functions").

    seq 0 9 | mpirun -np 4 ./mapreduce --worker 'python3 python/calc_stuff.py'

writes "J<TAB>OUT1<TAB>OUT2<TAB>OUT3" per item j, in order, as
executor.map(procedure, range(0, 10)) returns them. MR_CALC_MAX_SLEEP
(seconds, default 5) bounds the random sleep, for trying it quickly.
"""
import os
import random
import time

from mapreduce_worker import serve

offset = 2
MAX_SLEEP = int(os.environ.get("MR_CALC_MAX_SLEEP", "5"))


def calc_stuff(parameter=None):
    sleep_time = random.choice(range(0, MAX_SLEEP + 1))
    time.sleep(sleep_time)
    return parameter / 2, sleep_time, parameter * parameter


def procedure(j):
    parameter = j * offset
    return calc_stuff(parameter=parameter)


if __name__ == "__main__":
    serve(procedure, int)
