"""mapreduce_worker: a plain Python function as a mapreduce --worker.

    # primes.py
    import math
    from mapreduce_worker import serve

    def is_prime(n):
        ...

    if __name__ == "__main__":
        serve(is_prime, int)      # int: how an item's text becomes the argument

    $ mpirun -np 8 ./mapreduce --worker 'python3 primes.py' numbers.txt

mapreduce starts one such process per computing thread and keeps it for the
whole run: it writes items to the process's standard input, one per line,
and reads one result line per item, in order. serve() is that loop:

- the result is str(fn(item)); a tuple or a list becomes its elements
  separated by tabs (as the built-in calc job writes several outputs), None
  an empty result; newlines and carriage returns in it are escaped as \\n
  and \\r, so a result is always one line;
- an exception fails that item alone: serve() writes the error marker (the
  byte 0x15) and "ExceptionType: message", which mapreduce reports as
  INPUT:LINE: error: ExceptionType: message; the process goes on;
- a block of lines (what one read brings) is answered inside map, and its
  results joined into one string: an item costs the call of fn and little
  else;
- results are written in batches: while more input is already waiting,
  results are held (one write for many items), and as soon as none is,
  everything computed is written, so no result waits for input that may
  not come.

The same script also works one item per process, with the items as its
arguments (--exec 'python3 primes.py {}', or by hand: python3 primes.py 7):
then each result is printed on its own line, a failure's message goes to
standard error and the process exits with status 1 after the last one.

Standard library only; Python 3.6 or later.
"""
import os
import select
import sys

__all__ = ["serve", "format_result", "ERROR_MARKER"]

ERROR_MARKER = "\x15"  # a result line starting with it fails its item

_FLUSH_BYTES = 1 << 16  # hold at most this much output while input waits
_READ_BYTES = 1 << 16


def _one_line(text):
    if "\n" in text or "\r" in text:
        text = text.replace("\n", "\\n").replace("\r", "\\r")
    return text


def format_result(value):
    """The result line (without its newline) for what fn returned."""
    if value is None:
        return ""
    if isinstance(value, (tuple, list)):
        return _one_line("\t".join("" if v is None else str(v) for v in value))
    return _one_line(str(value))


def _error_line(exc):
    text = "%s: %s" % (type(exc).__name__, exc) if str(exc) else type(exc).__name__
    return ERROR_MARKER + _one_line(text)


def _answer(fn, parse, item):
    try:
        return format_result(fn(parse(item)))
    except Exception as exc:  # the item fails, the process goes on
        return _error_line(exc)


def _ready(fd):
    """Is more input waiting now (without blocking)?"""
    try:
        r, _, _ = select.select([fd], [], [], 0)
    except (OSError, ValueError):
        return False
    return bool(r)


def _write_all(fd, data):
    view = memoryview(data)
    while view:
        n = os.write(fd, view)
        view = view[n:]


def _serve_args(fn, parse, args):
    """One item per argument, as --exec runs it."""
    failed = 0
    for item in args:
        line = _answer(fn, parse, item)
        if line.startswith(ERROR_MARKER):
            sys.stderr.write(line[1:] + "\n")
            failed = 1
        else:
            sys.stdout.write(line + "\n")
    sys.stdout.flush()
    return failed


class _Failed(object):
    """An item's exception, in the results in its stead."""
    __slots__ = ("line",)

    def __init__(self, exc):
        self.line = _error_line(exc)

    def __str__(self):
        return self.line


# results of these types are str(value), never hold a newline (str may:
# checked on the block) and need no other care
_PLAIN = frozenset((bool, int, float))
_PLAIN_STR = frozenset((bool, int, float, str))


def _results(fn, parse, items):
    """fn's answers to items (a list of str), a _Failed for each item
    whose parse or fn raised. The loop over the items runs inside map and
    list.extend, not in bytecode: an item costs the call of fn and little
    else. An exception leaves the items before it in the list, and map goes
    on with the item after it."""
    it = map(fn, items) if parse is str else map(fn, map(parse, items))
    out = []
    while True:
        try:
            out.extend(it)
        except Exception as exc:  # the item fails, the process goes on
            out.append(_Failed(exc))
            continue
        if len(out) == len(items):
            return out
        # fn or parse raised StopIteration, which extend takes for the end
        # of the items (its message is lost with it)
        out.append(_Failed(StopIteration()))


def _block(results):
    """The result lines of a block, newline-terminated."""
    kinds = set(map(type, results))
    if kinds <= _PLAIN_STR:
        text = "\n".join(map(str, results))
        # a str holding a line break takes the slow way
        if kinds <= _PLAIN or ("\r" not in text and text.count("\n") == len(results) - 1):
            return text + "\n"
    return "\n".join([r.line if type(r) is _Failed else format_result(r)
                      for r in results]) + "\n"


def serve(fn, parse=str, args=None, infd=None, outfd=None):
    """Answers items with fn until the input ends (or, with arguments on
    the command line, answers those and returns). parse turns an item's
    text into fn's argument (str: the text itself; int; float; json.loads;
    ...). With arguments, a failed item makes the process exit with 1
    after the others are answered.
    """
    if args is None and infd is None:
        args = sys.argv[1:]
    if args:
        if _serve_args(fn, parse, args):
            sys.exit(1)
        return 0
    infd = sys.stdin.fileno() if infd is None else infd
    outfd = sys.stdout.fileno() if outfd is None else outfd
    pending = b""  # a partial line
    out = []  # blocks of result lines not yet written
    held = 0
    while True:
        if out and not _ready(infd):  # nothing more waiting: write it all
            _write_all(outfd, "".join(out).encode("utf-8", "surrogateescape"))
            out = []
            held = 0
        data = os.read(infd, _READ_BYTES)
        if not data:  # end of input: a last line without its newline counts
            if pending:
                out.append(_answer(fn, parse, pending.decode("utf-8", "surrogateescape")) + "\n")
            if out:
                _write_all(outfd, "".join(out).encode("utf-8", "surrogateescape"))
            return 0
        if pending:
            data = pending + data
        end = data.rfind(b"\n")
        if end < 0:
            pending = data
            continue
        pending = data[end + 1:]
        # a block of whole lines decodes as its lines would one by one: a
        # newline byte is never part of a longer UTF-8 sequence
        text = data[:end].decode("utf-8", "surrogateescape")
        items = text.split("\n")
        if "\r" in text:
            items = [i[:-1] if i.endswith("\r") else i for i in items]
        block = _block(_results(fn, parse, items))
        out.append(block)
        held += len(block)
        if held >= _FLUSH_BYTES:
            _write_all(outfd, "".join(out).encode("utf-8", "surrogateescape"))
            out = []
            held = 0


if __name__ == "__main__":
    # python3 mapreduce_worker.py: an echo worker (each item is its result),
    # for trying the protocol and measuring its overhead
    serve(lambda item: item)
