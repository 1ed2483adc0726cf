/*
 * mapreduce.h: the public contract of mapreduce.
 *
 * Two audiences read this header:
 *   - job plugin authors: the mr_buf and mr_job parts need nothing but the C
 *     library (no MPI); build a plugin with `cc -shared -fPIC -I include`.
 *   - programs that call the map themselves (the Pool.map of C): the mr_map
 *     part is declared when <mpi.h> is on the include path (build with mpicc).
 *
 * Public names start with mr_ / MR_. Functions that can fail return 0 or a
 * negative enum mr_error; mr_strerror() turns one into text.
 *
 * The error convention, for this header and every internal function in src/
 * (base, farm, run, text, cli) alike:
 *   - A function that can fail returns >= 0 on success (0, or a count) and a
 *     negative MR_E... code on failure; mr_strerror() gives the code's text.
 *     Never a bare -1, never "look at errno afterwards".
 *   - A system call's errno is turned into a code right where the call
 *     failed (mr__error_from_errno in src/base/error.c); errno is not left
 *     for a caller to read, and no caller reads it after the fact. The
 *     codes are those a caller tells apart (MR_ENOENT, MR_EACCES,
 *     MR_ENOSPC, MR_EEXIST, MR_EINTR, MR_EAGAIN, MR_EPIPE, MR_ENOMEM...);
 *     where a caller only needs "reading or writing failed" the code is
 *     MR_EIO and the reason is in the message.
 *   - The message for a human (naming the file, and the line where there is
 *     one) is written where the failure is understood, into an `mr_buf *why`
 *     the caller passes (NULL where none is wanted); the caller adds nothing
 *     but prints it ("cannot read/write 'FILE': <reason>" comes from
 *     mr__error_file). A failure with no why text is told by
 *     mr_strerror(code).
 *   - An object that fails later in its life, far from who made it (the
 *     output writer), keeps its first failure: its calls then return
 *     MR_EIO, and accessors give the code and the message
 *     (mr__output_error, mr__output_why).
 *   - A thin wrapper of a system call (mr__write_all,
 *     mr__safefile_open_derived, mr__safefile_dir...) fails as the call it
 *     wraps does, -1 or MR_EIO with errno set, so that its caller is the
 *     place where the call failed and turns errno into a code there.
 *   - A constructor may return NULL only when its sole failure is running
 *     out of memory (MR_ENOMEM is implied); one that can fail otherwise
 *     returns a code and hands the object back through an out-parameter.
 *   - A lookup that answers "which one" may return -1 for "none" (an index,
 *     a descriptor): that is an answer, not a failure, and it says so in
 *     its comment. A parser that refuses its input returns MR_EINVAL.
 *   - Only src/cli/ prints and chooses exit statuses; library code never
 *     exits.
 */
#ifndef MAPREDUCE_H
#define MAPREDUCE_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define MR_VERSION "1.0.0"

/* What the library and the mapreduce binary export: the functions declared
 * here, nothing else (they are built with -fvisibility=hidden). */
#if defined(__GNUC__)
#define MR_API __attribute__((visibility("default")))
#else
#define MR_API
#endif

/* Bumped whenever struct mr_job or mr_buf changes layout or meaning. A plugin
 * built against another version is refused when it is loaded. */
#define MR_ABI_VERSION 1

enum mr_error {
  MR_OK = 0,
  MR_EINVAL = -1,   /* the item (or an argument) is not valid */
  MR_ENOMEM = -2,   /* out of memory */
  MR_EIO = -3,      /* reading or writing failed */
  MR_ERANGE = -4,   /* a value is out of the supported range */
  MR_ETIMEDOUT = -5,/* the item ran past its time limit */
  MR_ECRASH = -6,   /* the job crashed on the item (isolated runs) */
  MR_EJOB = -7,     /* the job reported a failure of its own */
  MR_EMPI = -8,     /* an MPI call failed */
  MR_ENOENT = -9,   /* no such file, job or symbol */
  MR_EABI = -10,    /* a plugin built for another ABI version */
  MR_ETOOLONG = -11,/* an input line over the length limit */
  MR_ENUL = -12,    /* an input line with a NUL byte */
  MR_EINTR = -13,   /* stopped by a signal before finishing */
  MR_EEXIT = -14,   /* a command exited non-zero (exec mode) */
  MR_ESIGNAL = -15, /* a command was killed by a signal (exec mode) */
  MR_ESKIPPED = -16,/* never run: the run was halted before the item */
  MR_EACCES = -17,  /* permission denied (EACCES, EPERM, EROFS) */
  MR_ENOSPC = -18,  /* no room left on the device (ENOSPC, EDQUOT, EFBIG) */
  MR_EEXIST = -19,  /* already exists */
  MR_EAGAIN = -20,  /* busy or would block: try again (EAGAIN, a held lock) */
  MR_EPIPE = -21    /* the reader went away (EPIPE) */
};

/* Text of an mr_error code; never NULL. */
MR_API const char *mr_strerror(int err);

/* ---------------------------------------------------------------- buffers */

/* A growable byte buffer. data is always NUL-terminated past len (when
 * cap > 0), so a result can be read as a C string. Zero-initialise it. */
typedef struct mr_buf {
  char *data;
  size_t len;
  size_t cap;
} mr_buf;

/* Make room for `extra` more bytes. */
MR_API int mr_buf_reserve(mr_buf *b, size_t extra);
MR_API int mr_buf_append(mr_buf *b, const void *p, size_t n);
MR_API int mr_buf_puts(mr_buf *b, const char *s);
MR_API int mr_buf_printf(mr_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
MR_API int mr_buf_vprintf(mr_buf *b, const char *fmt, va_list ap);
/* Frees the storage; the buffer is empty and reusable afterwards. */
MR_API void mr_buf_free(mr_buf *b);

/* ------------------------------------------------------------------- jobs */

/*
 * A job: the computation applied to every item. One mr_job describes it; the
 * run function is called once per item, on whichever rank or thread holds it,
 * possibly on many threads at once (each thread has its own state).
 */
typedef struct mr_job {
  int abi;             /* MR_ABI_VERSION: checked when a plugin is loaded */
  const char *name;    /* what -j selects, e.g. "prime" */
  const char *summary; /* one line for --help */

  /* Optional. Called once per computing thread before its first item; arg is
   * the text given with --arg (NULL when none). *state is passed to run.
   * Return 0 or a negative mr_error (the run then stops with that error). */
  int (*init)(void **state, const char *arg);

  /* Required. item is the trimmed input text, NUL-terminated, len bytes,
   * never containing '\n' or NUL. On success append the result text to out
   * (no newline; tabs separate several outputs) and return 0. On failure
   * append a short one-line message (e.g. "not an integer") and return a
   * negative mr_error: the item is reported as failed and the run goes on. */
  int (*run)(void *state, const char *item, size_t len, mr_buf *out);

  /* Optional. Called once per thread after its last item. */
  void (*fini)(void *state);
} mr_job;

/* Nonzero once the run was asked to stop (SIGTERM, SIGINT, SIGUSR1). A job
 * whose items run long may look at it now and then and return MR_EINTR:
 * the item is then neither written nor counted as failed, and --resume
 * runs it again. A job that never looks is waited for only a bounded
 * time (see the README). */
MR_API int mr_stopping(void);

/* A plugin is a shared object exporting this one function; MR_PLUGIN(job)
 * writes it. The loader calls it and checks job->abi. */
#define MR_PLUGIN_SYMBOL "mr_plugin_job"
typedef const mr_job *(*mr_plugin_fn)(void);
#define MR_PLUGIN(job)                                                        \
  const mr_job *mr_plugin_job(void);                                          \
  __attribute__((visibility("default"))) const mr_job *mr_plugin_job(void) {  \
    return &(job);                                                            \
  }

/* -------------------------------------------------------- the map library */
/* Declared when <mpi.h> is reachable (compile with mpicc). */
#if defined(__has_include)
#if __has_include(<mpi.h>)
#include <mpi.h>
#define MR_HAVE_MPI_API 1
#endif
#endif

#ifdef MR_HAVE_MPI_API

/* Options for mr_map and mr_map_reduce; NULL or zero-initialised for the
 * defaults. */
typedef struct mr_map_options {
  size_t chunksize; /* items per message; 0 = adaptive */
  int threads;      /* computing threads per rank; 0 = 1. More than one, and
                       the root computing besides dispatching, need MPI
                       initialised with at least MPI_THREAD_FUNNELED */
} mr_map_options;

/* fn computes one result: in points at in_size bytes of item, out at
 * out_size bytes to fill. Return 0, or a negative mr_error to fail the item. */
typedef int (*mr_map_fn)(const void *in, void *out, void *arg);

/*
 * Pool.map for C. Collective over comm: every rank calls it with the same
 * fn, sizes and options (arg may differ: each rank passes its own); only the
 * root's items, n, results and status are read or written (other ranks may
 * pass NULL and 0). The root (rank 0 of comm) gets results[i] = fn(items[i])
 * for every i, computed on all ranks. status, when not NULL, receives each
 * item's return code (n ints); a failed item's result is left untouched.
 * Returns 0 when every item succeeded, the number of failed items (> 0), or
 * a negative mr_error; every rank gets the same return value. The library
 * duplicates comm, so its messages never meet the caller's.
 */
MR_API int mr_map(MPI_Comm comm, const void *items, size_t n, size_t in_size,
                  void *results, size_t out_size, mr_map_fn fn, void *arg,
                  int *status, const mr_map_options *opt);

/* reduce folds one result into the accumulator: acc = acc (+) value. It must
 * be associative and commutative; acc starts as the root's *acc. Like fn, it
 * may run on several threads at once (each with an accumulator of its own),
 * so what it does with arg must be thread-safe. */
typedef void (*mr_reduce_fn)(void *acc, const void *value, void *arg);

/*
 * map then reduce: on the root, *acc ends as the fold of every successful
 * fn(items[i]) (results of out_size bytes) into the initial *acc. Partial
 * reductions happen on the ranks that computed them, so only one
 * accumulator per chunk crosses the network. Return as for mr_map.
 */
MR_API int mr_map_reduce(MPI_Comm comm, const void *items, size_t n,
                         size_t in_size, size_t out_size, mr_map_fn fn,
                         mr_reduce_fn reduce, void *acc, void *arg,
                         const mr_map_options *opt);

#endif /* MR_HAVE_MPI_API */

#ifdef __cplusplus
}
#endif
#endif /* MAPREDUCE_H */
