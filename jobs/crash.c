/* crash.c: the `crash` job, for testing failure handling. The item says
 * what to do: "segv", "abort", "exit" (exit(3)), "hang" (never returns),
 * "fail" (an ordinary failed item), "sleep:SECONDS"; any other item is
 * echoed back. Without --isolate a crash takes the whole run down, which is
 * what the tests of --isolate need to see prevented. */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "num.h"

static int is(const char *item, size_t len, const char *word) {
  return len == strlen(word) && memcmp(item, word, len) == 0;
}

static int crash_run(void *state, const char *item, size_t len, mr_buf *out) {
  (void)state;
  if (is(item, len, "segv")) {
    raise(SIGSEGV);
  } else if (is(item, len, "abort")) {
    abort();
  } else if (is(item, len, "exit")) {
    exit(3);
  } else if (is(item, len, "hang")) {
    for (;;) pause();
  } else if (is(item, len, "fail")) {
    mr_buf_puts(out, "failed on purpose");
    return MR_EJOB;
  } else if (len > 6 && memcmp(item, "sleep:", 6) == 0) {
    double s;
    if (mr__num_parse_seconds(item + 6, len - 6, &s) == 0 && mr__num_sleep_seconds(s))
      return MR_EINTR; /* stopped: left for --resume */
  }
  return mr_buf_append(out, item, len);
}

const mr_job mr__job_crash = {
    MR_ABI_VERSION, "crash",
    "for tests: items segv, abort, exit, hang, fail, sleep:S; others echo",
    NULL, crash_run, NULL};
