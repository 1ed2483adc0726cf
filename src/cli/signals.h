/* signals.h: how a run is stopped (SIGTERM, SIGINT, SIGUSR1, mpirun's
 * SIGCONT), the last resort when a stop does not end it, and the one line
 * a crash of the job leaves before the process ends. */
#ifndef MR_SIGNALS_H
#define MR_SIGNALS_H

#include <signal.h>

/* Installs the stop handlers (and ignores SIGPIPE: a closed pipe shows as
 * EPIPE). Under mpirun, also watches for its SIGCONT. Before MPI_Init. */
void mr__signals_setup(void);

/* The number of the signal that stopped the run, 0 while none did: what
 * the farm, the input and the jobs look at. */
volatile sig_atomic_t *mr__signals_stop_flag(void);

/* Whether the stop was mpirun ending the job (its SIGCONT), not a signal
 * sent to us. */
int mr__signals_stopped_by_launcher(void);

/* After a stop, MPI_Finalize may block until mpirun's SIGKILL: ends the
 * process with status (128 + the signal when 0) 0.3 s from now, whatever
 * it waits on then. */
void mr__signals_exit_soon(int status);

/* A crash of the job says first which item did it, naming rank (-1:
 * alone, no rank to name). After MPI_Init, whose handlers these go
 * before. */
void mr__crash_notes_setup(int rank);

#endif
