/* job.c: the job registry and the plugin loader. */
#include "run/job.h"

#include <dlfcn.h>
#include <string.h>

/* one for the process: the signal that sets it stops every thread's job */
static volatile sig_atomic_t *stop_flag;

void mr__job_watch_stop(volatile sig_atomic_t *stop) { stop_flag = stop; }

int mr_stopping(void) { return stop_flag && *stop_flag; }

const mr_job *mr__job_builtin(const char *name) {
  for (const mr_job *const *j = mr__builtin_jobs; *j; j++)
    if (strcmp((*j)->name, name) == 0) return *j;
  return NULL;
}

static int is_plugin_path(const char *spec) {
  size_t n = strlen(spec);
  return strchr(spec, '/') || (n > 3 && strcmp(spec + n - 3, ".so") == 0);
}

int mr__job_load(const char *spec, const mr_job **job, void **handle, mr_buf *why) {
  *job = NULL;
  *handle = NULL;
  if (!is_plugin_path(spec)) {
    *job = mr__job_builtin(spec);
    if (*job) return 0;
    mr_buf_printf(why, "unknown job '%s' (see --list-jobs; a plugin is a path "
                       "to a .so file)", spec);
    return MR_ENOENT;
  }
  /* "libx.so" means the file here, not a search of the library path */
  mr_buf path = {0};
  if (!strchr(spec, '/')) mr_buf_puts(&path, "./");
  mr_buf_puts(&path, spec);
  dlerror();
  void *h = path.data ? dlopen(path.data, RTLD_NOW | RTLD_LOCAL) : NULL;
  mr_buf_free(&path);
  if (!h) {
    const char *e = dlerror();
    mr_buf_printf(why, "cannot load plugin: %s", e ? e : spec);
    return MR_ENOENT;
  }
  mr_plugin_fn entry;
  void *sym = dlsym(h, MR_PLUGIN_SYMBOL);
  memcpy(&entry, &sym, sizeof entry); /* object to function pointer */
  if (!sym) {
    mr_buf_printf(why, "%s is not a mapreduce plugin: no %s() in it "
                       "(write MR_PLUGIN(your_job) in its source)",
                  spec, MR_PLUGIN_SYMBOL);
    dlclose(h);
    return MR_ENOENT;
  }
  const mr_job *j = entry();
  if (!j) {
    mr_buf_printf(why, "%s: its %s() returned NULL", spec, MR_PLUGIN_SYMBOL);
    dlclose(h);
    return MR_EINVAL;
  }
  if (j->abi != MR_ABI_VERSION) {
    mr_buf_printf(why, "%s was built for plugin ABI %d, this mapreduce has ABI "
                       "%d: rebuild it against this include/mapreduce.h",
                  spec, j->abi, MR_ABI_VERSION);
    dlclose(h);
    return MR_EABI;
  }
  if (!j->run || !j->name) {
    mr_buf_printf(why, "%s: its mr_job has no %s", spec,
                  j->name ? "run function" : "name");
    dlclose(h);
    return MR_EINVAL;
  }
  *job = j;
  *handle = h;
  return 0;
}

static const char *builtin_arg(const mr_job *job) {
  for (size_t i = 0; mr__builtin_jobs[i]; i++)
    if (mr__builtin_jobs[i] == job) return mr__builtin_job_args[i];
  return NULL;
}

int mr__job_check_arg(const mr_job *job, int plugin, const char *arg, mr_buf *why) {
  const char *wants = plugin ? NULL : builtin_arg(job);
  if (!job->init || (!plugin && !wants)) {
    mr_buf_printf(why, "-j %s takes no --arg (got '%s')", job->name, arg);
    return MR_EINVAL;
  }
  void *state = NULL;
  int rc = job->init(&state, arg);
  if (rc == 0) {
    if (job->fini) job->fini(state);
    return 0;
  }
  if (wants)
    mr_buf_printf(why, "-j %s: --arg wants %s, not '%s'", job->name, wants, arg);
  else if (rc == MR_EINVAL)
    mr_buf_printf(why, "-j %s refused --arg '%s'", job->name, arg);
  else /* not the argument, perhaps, but it stops the run all the same */
    mr_buf_printf(why, "-j %s: its init failed with --arg '%s': %s", job->name,
                  arg, mr_strerror(rc < 0 ? rc : MR_EJOB));
  return MR_EINVAL;
}

void mr__job_unload(void *handle) {
  if (handle) dlclose(handle);
}
