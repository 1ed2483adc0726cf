/* safefile.h: the files a user names, opened as that user meant and no
 * further, even as root in a directory others can write.
 *
 * A path given to -o or --joblog is one of three things: a standard
 * descriptor by name (/dev/stdout, /dev/stderr, /dev/fd/N, /proc/self/fd/N,
 * or a symlink to one), written as standard output is; a device, FIFO or
 * terminal, written in place; or a regular file (or a name to create),
 * reached through symlinks only when the caller or root owns them, with the
 * kernel's protected_symlinks rule for sticky world-writable directories.
 * Names derived from a file (FILE.partial, FILE.journal, FILE.tmp.PID) are
 * opened relative to its directory, never through a symlink, created
 * exclusively, and refused when they are not regular files of the caller's
 * with no other name.
 * A file's identity (device and inode) tells when two options name one. */
#ifndef MR_SAFEFILE_H
#define MR_SAFEFILE_H

#include <sys/types.h>

#include "mapreduce.h"

enum { SAFEFILE_FD, SAFEFILE_DEVICE, SAFEFILE_FILE };

typedef struct mr__target {
  int kind;   /* SAFEFILE_* */
  int fd;     /* SAFEFILE_FD: the descriptor the name stands for */
  char *path; /* the name with its symlinks followed (mr__safefile_target_free) */
} mr__target;

/* What path names, following its symlinks as far as they may be followed.
 * 0; MR_EINVAL with why (if not NULL) saying which symlink is refused and
 * why, `opt` naming the option; MR_EIO when a symlink cannot be read;
 * MR_ENOMEM. */
int mr__safefile_target(const char *path, const char *opt, mr__target *t, mr_buf *why);
void mr__safefile_target_free(mr__target *t);

/* The directory of path (O_PATH, for the *at calls) and where its last
 * component starts in path. -1 with errno on failure. */
int mr__safefile_dir(const char *path, const char **base);
/* Opens name in dirfd for writing without following a symlink: `fresh`
 * creates it exclusively (MR__FRESH_REPLACE: a stale regular file of the
 * caller's is removed first; MR__FRESH_ONLY: one already there is another
 * run's, starting this moment, and fails with EEXIST), else an existing one
 * is continued (one that is not there is created, exclusively, with
 * `mode`). Refuses (EPERM) a name that is a symlink, not a regular file,
 * another user's or a hard link. -1 with errno. */
enum { MR__FRESH_CONTINUE = 0, MR__FRESH_REPLACE = 1, MR__FRESH_ONLY = 2 };
int mr__safefile_open_derived(int dirfd, const char *name, int fresh, mode_t mode);
/* mr__safefile_open_derived in path's own directory. */
int mr__safefile_open_beside(const char *path, int fresh, mode_t mode);
/* Why the file at path (not followed) may not be continued or replaced as a
 * derived name, or NULL when it may (or does not exist). */
const char *mr__safefile_foreign(const char *path);

/* Gives fd the mode and group of the regular file final_path, if there is
 * one (the group only where the caller may chown to it). Not exact: only
 * narrows fd's permissions, leaving the owner able to reopen it. */
void mr__safefile_copy_mode(int fd, const char *final_path, int exact);

/* What a file is, to tell two names of one file: its device and inode, or
 * for a name not there yet, its directory's and its last component. Only
 * regular files, FIFOs and pipes (read back, what one role writes would be
 * another's input, or wait for a reader that is itself) and names to
 * create have one (a terminal or /dev/null may well serve two options). */
typedef struct mr__fileid {
  int kind; /* 0 none, 1 inode, 2 name in a directory */
  dev_t dev;
  ino_t ino;
  char name[256];
} mr__fileid;

void mr__safefile_id(const char *path, mr__fileid *id);
void mr__safefile_id_fd(int fd, mr__fileid *id);
int mr__safefile_same(const mr__fileid *a, const mr__fileid *b);

#endif
