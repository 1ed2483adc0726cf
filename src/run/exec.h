/* exec.h: exec mode, a command per item as GNU parallel runs it.
 *
 * The template takes GNU parallel's replacement strings: {} the item, {.}
 * without its extension, {/} its basename, {//} its directory, {/.} the
 * basename without extension, {#} the item's sequence number (1-based);
 * {1}, {1.}... (and {-1}...) are the same, source 1 being the only one.
 * A template without any gets " {}" appended.
 *
 * Item text never becomes shell syntax: a template with no shell syntax of
 * its own is split into words and run directly, without a shell; otherwise
 * it runs under /bin/sh -c with the replacements passed as positional
 * parameters, so the shell never parses them, each quoted for the shell
 * context it stands in; a template where no quoting is safe is refused. */
#ifndef MR_EXEC_H
#define MR_EXEC_H

#include <stdint.h>

#include "mapreduce.h"
#include "run/colsep.h"

typedef struct mr__exec mr__exec;

/* Parses template. Returns 0, or MR_EINVAL with the reason in why. */
int mr__exec_compile(const char *template_text, mr__exec **out, mr_buf *why);
/* The same with --colsep: {1} {2} ... {-1} (and {2.} {2/} ...) are fields
 * of the item, {} the whole item. cols must outlive the command. */
int mr__exec_compile_cols(const char *template_text, const mr__colsep *cols, mr__exec **out,
                          mr_buf *why);
void mr__exec_free(mr__exec *x);

/* 1 when the command runs under /bin/sh -c, 0 when it runs directly. */
int mr__exec_uses_shell(const mr__exec *x);

/* The command line for one item: under the shell, "/bin/sh" "-c" SCRIPT
 * "sh" and the six replacement values; otherwise the words. The strings
 * live in *store (and x); *argv is malloc'ed (caller frees). */
int mr__exec_expand(const mr__exec *x, const char *item, size_t len, uint64_t seq,
                char ***argv, mr_buf *store);

/* The command line for an item as a person would type it (for --joblog):
 * the words, or the template with its replacements single-quoted. */
void mr__exec_describe(const mr__exec *x, const char *item, size_t len,
                   uint64_t seq, mr_buf *out);

/* Runs the command for one item, appending its standard output to out.
 * timeout_s > 0 kills it (its whole process group) after that long.
 * Returns 0 when it exited 0; MR_EEXIT (exit status in *exitval), MR_ESIGNAL
 * (signal in *sig), MR_ETIMEDOUT, MR_EINTR when the run is stopping
 * (mr_stopping: the process group is killed within 0.3 s), or MR_EEXIT with
 * *exitval 127 when it could not be started; out then holds a one-line
 * message instead. */
int mr__exec_run(const mr__exec *x, const char *item, size_t len, uint64_t seq,
             double timeout_s, mr_buf *out, int *exitval, int *sig);

/* PATH search for an executable name (as the shell does); NULL when none
 * (caller frees). */
char *mr__exec_resolve(const char *name);
/* Whether c makes a command line shell syntax rather than plain words. */
int mr__exec_is_shell_char(char c);

#endif
