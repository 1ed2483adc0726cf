"""The seeds' isPrime as a mapreduce --worker (README: "Python functions").

    mpirun -np 8 ./mapreduce --worker 'python3 python/is_prime.py' numbers.txt

Pool.map's version of the same:  Pool().map(isPrime, NUMBERS)
"""
import math

from mapreduce_worker import serve


def isPrime(n):
    if n < 2:
        return False
    if n == 2:
        return True
    if n % 2 == 0:
        return False
    sqrt_n = int(math.floor(math.sqrt(n)))
    for i in range(3, sqrt_n + 1, 2):
        if n % i == 0:
            return False
    return True


if __name__ == "__main__":
    serve(isPrime, int)
