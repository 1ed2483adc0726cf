/* wordcount.c: the `wordcount` job: a pair WORD<TAB>1 per word of the
 * item, a word being a maximal run of bytes other than space, tab, CR and
 * LF. Keyed: the counts per word are summed (see --keyed in the README);
 * the CLI counts the words as it splits the item, without these lines. */
#include <string.h>

#include "mapreduce.h"

static int is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

static int wordcount_run(void *state, const char *item, size_t len, mr_buf *out) {
  (void)state;
  for (size_t i = 0; i < len;) {
    while (i < len && is_space(item[i])) i++;
    size_t w = i;
    while (i < len && !is_space(item[i])) i++;
    if (i == w) break;
    if (out->len && mr_buf_append(out, "\n", 1)) return MR_ENOMEM;
    if (mr_buf_append(out, item + w, i - w) || mr_buf_append(out, "\t1", 2)) return MR_ENOMEM;
  }
  return 0;
}

const mr_job mr__job_wordcount = {MR_ABI_VERSION, "wordcount",
                                  "WORD<TAB>1 per word (keyed: counts per word)", NULL,
                                  wordcount_run, NULL};
