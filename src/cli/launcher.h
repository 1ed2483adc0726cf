/* launcher.h: reaching the destination of the launcher's own standard
 * output. Under mpirun a rank's standard output is a pseudo-terminal that
 * mpirun reads and copies to wherever its own output goes: 25 times slower
 * than writing there directly, blind to errors (a full disk or /dev/full
 * loses the results while the rank sees every write succeed), and the
 * reason mpirun aborts when a reader such as head closes the pipe. */
#ifndef MR_LAUNCHER_H
#define MR_LAUNCHER_H

/* When this process was started by an Open MPI mpirun on this host (its
 * parent), which left its output stream alone (no --tag-output,
 * --timestamp-output, --output-filename, --xml), and
 * MAPREDUCE_FORWARDED_STDOUT is not set: a new descriptor for the very
 * stream mpirun writes its descriptor target (1 or 2) to (the same open file, so the
 * same offset and O_APPEND; for a pipe, a terminal or a device, the same
 * object). Otherwise, or when the kernel does not let us have it, -1:
 * "none", an answer and not a failure (mapreduce.h's convention), and the
 * caller keeps its standard output. Caller closes. */
int mr__launcher_stream(int target);

/* The pid of the Open MPI mpirun that started this process on this host
 * (its parent), or -1. */
long mr__launcher_mpirun(void);

/* Makes standard output that stream (mr__launcher_stream), or leaves it
 * as it is: rank 0 writes the results there rather than through mpirun's
 * copying, at the speed of -o, and a full disk or a closed pipe is seen
 * here, as without mpirun. Standard error likewise: rank 0's messages
 * (above all the last, saying a run stopped) reach it even when mpirun
 * ends the job at once. Returns 1 when standard output is now that
 * stream (--stats says stdout=direct), 0 when it was left as it is;
 * neither is a failure. */
int mr__launcher_stdout_direct(void);

/* Whether rank 0's standard error ends on a terminal (--progress). Under
 * mpirun a rank's stderr is a pseudo-terminal whatever mpirun's own is, so
 * the question goes to mpirun's: its stream is taken as standard error
 * (as for stdout; a redrawn line is then not held back by the forwarding),
 * or else its /proc entry says what it is. Without mpirun: isatty(2). */
int mr__launcher_stderr_tty(void);

/* On rank 0 under Open MPI 4 (mpirun, or orted on another host): notes
 * which process is the daemon that started this one (its parent, or above
 * a wrapper script) for mr__launcher_hurry_exit. Reads /proc; call once,
 * after MPI_Init. Elsewhere (other ranks, alone, srun) there is none. */
void mr__launcher_find_daemon(int rank);

/* Called just before this process exits with status: when that is not 0
 * and there is a daemon, leaves a helper behind (once) that keeps the
 * daemon's end of the job from sleeping 2 s before it passes the status
 * on (launcher.c says why). Async-signal-safe. */
void mr__launcher_hurry_exit(int status);

#endif
