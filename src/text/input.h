/* input.h: the streaming line reader the master takes items from. */
#ifndef MR_INPUT_H
#define MR_INPUT_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include "mapreduce.h"

#define MR_LINE_MAX_DEFAULT (1u << 20) /* bytes in one input line, at most */

typedef struct mr__input mr__input;

typedef struct mr__line {
  const char *text; /* trimmed item text, valid until the next mr__input_next */
  size_t len;
  uint64_t lineno;  /* the file's own line number, 1-based */
  int bad;          /* 0, or MR_ETOOLONG / MR_ENUL: the line is not an item */
} mr__line;

/* Opens path ("-" or NULL: standard input) into *out: 0, or the code of
 * the failure (mr__error_from_errno: MR_ENOENT, MR_EACCES, MR_EIO for a
 * directory, MR_ENOMEM...) with why (if not NULL) saying "cannot read
 * 'PATH': <reason>". max_line 0 means MR_LINE_MAX_DEFAULT. */
int mr__input_open(const char *path, size_t max_line, mr__input **out, mr_buf *why);
/* Reads from an open descriptor, which the reader does not close. NULL
 * only when out of memory. */
mr__input *mr__input_from_fd(int fd, const char *name, size_t max_line);
void mr__input_free(mr__input *in);

/* Makes mr__input_next give up with MR_EINTR, within 0.1 s, once *stop is
 * nonzero (set by a signal handler), also while a pipe is silent. */
void mr__input_watch(mr__input *in, volatile sig_atomic_t *stop);

/* Makes mr__input_next return MR__INPUT_AGAIN when a pipe, terminal or
 * FIFO has said nothing for ms milliseconds (a file never waits), so the
 * caller can write what it has meanwhile (tail -f | mapreduce) and ask
 * again; the line read so far is kept. */
#define MR__INPUT_AGAIN 2
void mr__input_nowait(mr__input *in, int ms);

/* Next item: 1 with *line filled, 0 at the end, MR_EIO on a read error
 * (why, if not NULL, then says "cannot read 'NAME': <reason>"), MR_EINTR
 * when stopped (mr__input_watch),
 * MR__INPUT_AGAIN (mr__input_nowait). Blank lines
 * and '#' comments are skipped. */
int mr__input_next(mr__input *in, mr__line *line, mr_buf *why);

const char *mr__input_name(const mr__input *in); /* "<stdin>" for stdin */
/* Bytes consumed so far and the file's size (0 when unknown, e.g. a pipe). */
uint64_t mr__input_offset(const mr__input *in);
uint64_t mr__input_size(const mr__input *in);

#endif
