/* signals.h: how a run is stopped (SIGTERM, SIGINT, SIGUSR1, mpirun's
 * SIGCONT), the last resort when a stop does not end it, and the one line
 * a crash of the job leaves before the process ends. */
#ifndef MR_SIGNALS_H
#define MR_SIGNALS_H

#include <signal.h>
#include <stdint.h>

/* The stop flag when --deadline stopped the run: no signal's number. */
#define MR__STOP_TIME (-1)
/* The exit status of a run stopped for time (--deadline), resumable with
 * --resume: not a count of failures (0-101), a signal's 128+N or a fatal
 * 255; timeout(1) says "timed out" with it too. */
#define MR__EXIT_TIME 124

/* Installs the stop handlers (and ignores SIGPIPE: a closed pipe shows as
 * EPIPE). Under mpirun, also watches for its SIGCONT. Before MPI_Init. */
void mr__signals_setup(void);

/* The number of the signal that stopped the run, 0 while none did: what
 * the farm, the input and the jobs look at. */
volatile sig_atomic_t *mr__signals_stop_flag(void);

/* The exit status of the stop: 128 + its signal, or MR__EXIT_TIME. */
int mr__signals_stop_status(void);

/* --deadline: stops the run at at_ns (mr__now_ns's clock) as a signal
 * would, with MR__STOP_TIME, unless cancelled first. 0, or the code of
 * the thread's failed start (MR_EAGAIN, MR_ENOMEM). */
int mr__signals_stop_at(uint64_t at_ns);
void mr__signals_stop_at_cancel(void);
/* Whether that stop happened. */
int mr__signals_stopped_for_time(void);

/* Whether the stop was mpirun ending the job (its SIGCONT, or its
 * SIGTERM), not a signal sent to us. */
int mr__signals_stopped_by_launcher(void);

/* Rank 0 under mpirun: the line (without its newline) said on stderr the
 * moment mpirun starts ending the job, as mpirun may kill the rank before
 * its drain is over; and whether it was said. */
void mr__signals_launcher_line(const char *line);
int mr__signals_launcher_line_said(void);

/* After a stop, MPI_Finalize may block until mpirun's SIGKILL: ends the
 * process with status (the stop's status when 0) 0.3 s from now, whatever
 * it waits on then. */
void mr__signals_exit_soon(int status);

/* A crash of the job says first which item did it, naming rank (-1:
 * alone, no rank to name). After MPI_Init, whose handlers these go
 * before. */
void mr__crash_notes_setup(int rank);

#endif
