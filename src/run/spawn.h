/* spawn.h: a command's process, started the one way every mode starts
 * one (--exec, --worker, --reducer): vfork and exec, in a process group of
 * its own (a stop, a time limit or a failure ends what it started too),
 * dying with us (PR_SET_PDEATHSIG), SIGPIPE back to its default. */
#ifndef MR_SPAWN_H
#define MR_SPAWN_H

#include <sys/types.h>

/* Starts path with argv, its stdin on in_fd and its stdout on out_fd;
 * its stderr is ours. The pid, or -1 with errno when vfork failed. When
 * the exec itself fails, the child leaves its errno in *exec_err (vfork:
 * it shares our memory until then) and exits 127. */
pid_t mr__spawn(const char *path, char *const argv[], int in_fd, int out_fd,
                volatile int *exec_err);

/* SIGTERM to pid's group, 200 ms to go quietly, then SIGKILL to what is
 * left of the group; pid is reaped. */
void mr__spawn_kill_group(pid_t pid);

#endif
