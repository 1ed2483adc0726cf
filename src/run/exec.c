/* exec.c: one command per item, without a shell when none is needed.
 *
 * Under a shell, item text is never pasted into the script: the replacement
 * strings become references to positional parameters ("${1}" is {}, "${2}"
 * {.} and so on, quoted to suit where they stand), and the values are passed
 * as arguments: sh -c SCRIPT sh ITEM NOEXT BASE DIR BASENOEXT SEQ. Whatever
 * the item holds, the shell expands it as data and never parses it.
 *
 * Children are started with vfork (cheap even from a large MPI process), in
 * a process group of their own (so a time limit kills a whole pipeline) and
 * with PR_SET_PDEATHSIG (so they die with their rank if MPI tears it down). */
#include "run/exec.h"
#include "run/spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define OUTPUT_MAX (64u << 20) /* bytes of output one item may produce */
/* how often a running command looks at the stop (mr_stopping): the signal
 * that sets it may interrupt another thread's wait, not this one's */
#define STOP_LOOK_MS 50
#define REAP_WAIT_MAX_NS 50000000L

enum { P_LIT, P_BREAK, P_ITEM, P_NOEXT, P_BASE, P_DIR, P_BASENOEXT, P_SEQ };

typedef struct part {
  int kind;
  size_t off, len; /* literal text in tpl */
  long field;      /* --colsep: {N}, {N.} ... apply to field N; 0 the item */
  int param;       /* shell mode: the positional parameter of a field's value */
} part;

struct mr__exec {
  char *tpl;
  part *parts;
  size_t nparts;
  int shell;      /* run under /bin/sh -c */
  int lines;      /* the item itself is the command line (--shell) */
  char *prog;     /* direct mode: argv[0] resolved on this host, or NULL */
  char *script;   /* shell mode: the template with parameter references */
  const mr__colsep *cols; /* --colsep, or NULL */
  int nfields;    /* parts that name a field (each has a parameter) */
};

#define NPARAMS 6 /* positional parameters: one per kind of replacement */

static const struct {
  const char *text;
  int kind;
} repls[] = {{"{}", P_ITEM},  {"{.}", P_NOEXT},      {"{/}", P_BASE},
             {"{//}", P_DIR}, {"{/.}", P_BASENOEXT}, {"{#}", P_SEQ}};

/* The replacement string at s: its kind, length in *n; -1 when none. GNU
 * parallel's positional forms ({1} {1.} {1/} {1//} {1/.}, and {-1}) name
 * an input source; mapreduce has one, so only source 1 (also -1, the
 * last) exists, and *pos says which was named (1 for the plain forms). */
static int match_repl(const char *s, size_t *n, long *pos) {
  size_t i = 1;
  *pos = 1;
  if (s[0] != '{') return -1;
  if (s[i] == '-' || (s[i] >= '0' && s[i] <= '9')) {
    char *end;
    *pos = strtol(s + 1, &end, 10);
    if (end == s + 1 || (s[1] == '-' && end == s + 2)) return -1;
    i = (size_t)(end - s);
  }
  for (size_t k = 0; k < sizeof repls / sizeof repls[0]; k++) {
    size_t len = strlen(repls[k].text + 1);
    if (strncmp(s + i, repls[k].text + 1, len) == 0) {
      if (i > 1 && repls[k].kind == P_SEQ) return -1; /* {1#} is no such thing */
      *n = i + len;
      return repls[k].kind;
    }
  }
  return -1;
}

static int add_part(mr__exec *x, size_t *cap, int kind, size_t off, size_t len) {
  if (x->nparts == *cap) {
    size_t n = *cap ? 2 * *cap : 16;
    part *p = realloc(x->parts, n * sizeof *p);
    if (!p) return MR_ENOMEM;
    x->parts = p;
    *cap = n;
  }
  /* merge adjacent literals */
  if (kind == P_LIT && x->nparts && x->parts[x->nparts - 1].kind == P_LIT) {
    x->parts[x->nparts - 1].len += len;
    return 0;
  }
  x->parts[x->nparts++] = (part){kind, off, len, 0, 0};
  return 0;
}

/* The characters that make a template shell syntax rather than plain words. */
static int is_shell_char(char c) {
  return c && strchr("|&;<>()$`\\\"'*?[]#~={}!\n", c) != NULL;
}

/* PATH search for name; NULL when not found (caller frees). */
static char *resolve(const char *name) {
  if (strchr(name, '/')) return access(name, X_OK) == 0 ? strdup(name) : NULL;
  const char *path = getenv("PATH");
  if (!path) path = "/usr/local/bin:/usr/bin:/bin";
  size_t nlen = strlen(name);
  while (*path) {
    const char *colon = strchr(path, ':');
    size_t dlen = colon ? (size_t)(colon - path) : strlen(path);
    char *full = malloc(dlen + nlen + 3);
    if (!full) return NULL;
    if (dlen) memcpy(full, path, dlen);
    else full[dlen++] = '.';
    full[dlen] = '/';
    memcpy(full + dlen + 1, name, nlen + 1);
    if (access(full, X_OK) == 0) return full;
    free(full);
    path = colon ? colon + 1 : path + strlen(path);
  }
  return NULL;
}

char *mr__exec_resolve(const char *name) { return resolve(name); }

int mr__exec_is_shell_char(char c) { return is_shell_char(c); }

/* --- where a replacement stands in a shell script --------------------
 *
 * A small reader of sh syntax, enough to know the quoting in force at each
 * replacement string: command text (top level, $( ), ` `), '...', "...",
 * $(( )), ${ } and here-document bodies. Each context wants its own form of
 * reference; a context where no form is safe is refused, never guessed. */

enum { C_CMD, C_SQ, C_DQ, C_BQ, C_SUB, C_ARITH, C_PARAM, C_DOC };
#define SH_DEPTH 32

typedef struct shframe {
  unsigned char kind;
  unsigned char dq;    /* C_PARAM: inside "..." */
  unsigned char murky; /* C_BQ: backslashes, so nesting we do not follow */
  unsigned char dash;  /* C_DOC: <<- strips leading tabs */
  int depth;           /* C_SUB, C_ARITH: open parentheses */
  int cases;           /* C_SUB: open case statements, whose a) closes nothing */
  size_t dlen;
  char delim[64];      /* C_DOC: the terminator line, quotes removed */
} shframe;

typedef struct shreader {
  const char *t;
  shframe st[SH_DEPTH];
  int top;
  int escaped, comment, bol;
  char prev;          /* the last character read, for word starts */
  shframe doc;        /* a here-document waiting for its line's end */
  int doc_pending, doc_quoted;
  const char *why;    /* why the template is refused */
} shreader;

static int sh_push(shreader *r, int kind) {
  if (r->top + 1 >= SH_DEPTH) {
    r->why = "shell syntax nested too deeply to quote the replacement strings in";
    return MR_EINVAL;
  }
  memset(&r->st[++r->top], 0, sizeof r->st[0]);
  r->st[r->top].kind = (unsigned char)kind;
  return 0;
}

/* Reads a here-document's delimiter word at t[i..lim); returns its end. */
static size_t sh_heredoc(shreader *r, size_t i, size_t lim) {
  const char *t = r->t;
  shframe *d = &r->doc;
  memset(d, 0, sizeof *d);
  d->kind = C_DOC;
  if (i < lim && t[i] == '-') d->dash = 1, i++;
  while (i < lim && (t[i] == ' ' || t[i] == '\t')) i++;
  size_t w = i;
  while (i < lim && !strchr(" \t\n;&|<>()", t[i])) i++;
  if (i == lim && t[lim] && !strchr(" \t\n;&|<>()", t[lim])) {
    r->why = "a here-document delimiter made of a replacement string";
    return i;
  }
  if (i == w) return i; /* no word: the shell says what is wrong */
  if (r->doc_pending || i - w >= sizeof d->delim) {
    r->why = r->doc_pending ? "two here-documents on one line"
                            : "a here-document with so long a delimiter";
    return i;
  }
  /* any quote in the word makes the body literal; the terminator is the
   * word without them */
  r->doc_quoted = 0;
  for (size_t k = w; k < i; k++) {
    if (strchr("'\"\\", t[k])) r->doc_quoted = 1;
    else d->delim[d->dlen++] = t[k];
  }
  r->doc_pending = 1;
  return i;
}

/* The length of the line at t[i] when it ends the here-document on top,
 * else 0. */
static size_t sh_doc_end(const shreader *r, size_t i) {
  const shframe *f = &r->st[r->top];
  const char *t = r->t;
  size_t j = i;
  if (f->dash)
    while (t[j] == '\t') j++;
  if (strncmp(t + j, f->delim, f->dlen) != 0) return 0;
  j += f->dlen;
  return t[j] == '\n' || t[j] == '\0' ? j - i : 0;
}

/* Is the word at s (rest bytes) the keyword kw? */
static int sh_keyword(const char *s, size_t rest, const char *kw) {
  size_t n = strlen(kw);
  return rest >= n && strncmp(s, kw, n) == 0 &&
         (rest == n || strchr(" \t\n;&|()<>", s[n]));
}

/* Reads the token at t[i] (never past lim, where a replacement starts) and
 * appends it to b; returns the index after it. r->why set: refused. */
static size_t sh_read(shreader *r, size_t i, size_t lim, mr_buf *b) {
  const char *t = r->t;
  shframe *f = &r->st[r->top];
  size_t n = 1;
  char c = t[i];
  int bol = r->bol;
  r->bol = 0;
  if (r->escaped) {
    r->escaped = 0;
  } else if (r->comment && c != '\n') {
  } else if (c == '\n') {
    r->comment = 0;
    r->bol = 1;
    if (r->doc_pending && f->kind != C_SQ && f->kind != C_DQ) {
      r->doc_pending = 0;
      if (sh_push(r, C_DOC)) return i;
      r->doc.murky = (unsigned char)r->doc_quoted;
      r->st[r->top] = r->doc;
    }
  } else if (f->kind == C_SQ) {
    if (c == '\'') r->top--;
  } else if (f->kind == C_DOC && bol && (n = sh_doc_end(r, i)) > 0) {
    r->top--;
  } else if (f->kind == C_DOC && f->murky) { /* a quoted body: all literal */
    n = 1;
  } else if (c == '\\') {
    n = 1;
    r->escaped = 1;
    for (int k = 0; k <= r->top; k++)
      if (r->st[k].kind == C_BQ) r->st[k].murky = 1;
  } else if (c == '`') {
    n = 1;
    if (f->kind == C_BQ) r->top--;
    else if (sh_push(r, C_BQ)) return i;
  } else if (c == '$' && i + 2 < lim && t[i + 1] == '(' && t[i + 2] == '(') {
    n = 3;
    if (sh_push(r, C_ARITH)) return i;
  } else if (c == '$' && i + 1 < lim && (t[i + 1] == '(' || t[i + 1] == '{')) {
    n = 2;
    int dq = f->kind == C_DQ || f->kind == C_DOC || (f->kind == C_PARAM && f->dq);
    if (sh_push(r, t[i + 1] == '(' ? C_SUB : C_PARAM)) return i;
    r->st[r->top].dq = (unsigned char)dq;
  } else if (f->kind == C_DQ) {
    n = 1;
    if (c == '"') r->top--;
  } else if (f->kind == C_ARITH) {
    n = 1;
    if (c == '(') f->depth++;
    else if (c == ')' && f->depth) f->depth--;
    else if (c == ')' && i + 1 < lim && t[i + 1] == ')') n = 2, r->top--;
  } else if (f->kind == C_DOC) {
    n = 1;
  } else if (c == '"' || (c == '\'' && !(f->kind == C_PARAM && f->dq))) {
    n = 1;
    if (sh_push(r, c == '"' ? C_DQ : C_SQ)) return i;
  } else if (f->kind == C_PARAM) {
    n = 1;
    if (c == '}') r->top--;
  } else { /* command text */
    n = 1;
    int word = !r->prev || strchr(" \t\n;&|()<>`", r->prev);
    if (c == '#' && word) r->comment = 1;
    else if (word && sh_keyword(t + i, lim - i, "case")) n = 4, f->cases++;
    else if (word && sh_keyword(t + i, lim - i, "esac") && f->cases) n = 4, f->cases--;
    else if (c == '(' && f->kind == C_SUB) f->depth++;
    else if (c == ')' && f->kind == C_SUB && f->depth) f->depth--;
    else if (c == ')' && f->kind == C_SUB && !f->cases) r->top--;
    else if (c == '<' && i + 1 < lim && t[i + 1] == '<' && !(i + 2 < lim && t[i + 2] == '<')) {
      size_t e = sh_heredoc(r, i + 2, lim);
      n = e - i;
    }
  }
  mr_buf_append(b, t + i, n);
  r->prev = t[i + n - 1];
  return i + n;
}

/* Appends the reference to parameter k for the context r is in. */
static void sh_ref(shreader *r, int k, mr_buf *b) {
  const shframe *f = &r->st[r->top];
  if (r->escaped) {
    r->why = "a replacement string after a backslash";
    return;
  }
  for (int i = 0; i <= r->top; i++)
    if (r->st[i].kind == C_BQ && r->st[i].murky) {
      r->why = "a replacement string inside `...` that holds backslashes (write $(...) instead)";
      return;
    }
  if (f->kind == C_DOC && f->murky) {
    r->why = "a replacement string in a here-document with a quoted delimiter "
             "(its body is never expanded)";
    return;
  }
  r->prev = '}';
  if (r->comment) return;
  if (f->kind == C_SQ) mr_buf_printf(b, "'\"${%d}\"'", k);
  else if (f->kind == C_DQ || f->kind == C_ARITH || f->kind == C_DOC ||
           (f->kind == C_PARAM && f->dq))
    mr_buf_printf(b, "${%d}", k);
  else mr_buf_printf(b, "\"${%d}\"", k);
}

/* Builds x->script: the template as written, each replacement a reference
 * to its positional parameter, quoted for the context it stands in. */
static int shell_script(mr__exec *x, int appended, mr_buf *why) {
  mr_buf b = {0};
  shreader r = {0};
  r.t = x->tpl;
  r.bol = 1;
  size_t n = strlen(x->tpl), i = 0;
  for (size_t p = 0; p <= x->nparts && !r.why; p++) {
    const part *q = p < x->nparts ? &x->parts[p] : NULL;
    if (q && (q->kind == P_LIT || q->kind == P_BREAK)) continue;
    size_t lim = q && !(appended && p + 1 == x->nparts) ? q->off : n;
    while (i < lim && !r.why) i = sh_read(&r, i, lim, &b);
    if (!q || r.why) continue;
    if (appended) mr_buf_append(&b, " ", 1); /* as GNU parallel: " {}" */
    /* P_ITEM..P_SEQ -> $1..$6, fields after them */
    sh_ref(&r, q->field ? q->param : q->kind - P_ITEM + 1, &b);
    i += q->len;
  }
  if (r.why) {
    mr_buf_printf(why, "--exec: cannot quote %s", r.why);
    mr_buf_free(&b);
    return MR_EINVAL;
  }
  if (mr_buf_reserve(&b, 0)) {
    mr_buf_free(&b);
    return MR_ENOMEM;
  }
  x->script = b.data;
  return 0;
}

int mr__exec_compile(const char *template_text, mr__exec **out, mr_buf *why) {
  return mr__exec_compile_cols(template_text, NULL, out, why);
}

int mr__exec_compile_cols(const char *template_text, const mr__colsep *cols, mr__exec **out,
                          mr_buf *why) {
  *out = NULL;
  mr__exec *x = calloc(1, sizeof *x);
  if (!x || !(x->tpl = strdup(template_text))) {
    free(x);
    return MR_ENOMEM;
  }
  x->cols = cols;
  size_t cap = 0;
  const char *t = x->tpl;
  int has_repl = 0, rc = 0;
  if (strcmp(t, "") == 0) { /* --shell: the item is the command line */
    x->lines = 1;
    x->shell = 1;
    *out = x;
    return 0;
  }
  for (size_t i = 0; t[i] && !rc;) {
    size_t n;
    long pos;
    int kind = match_repl(t + i, &n, &pos);
    int numbered = kind >= 0 && t[i + 1] != '}' && strchr("-0123456789", t[i + 1]);
    if (kind >= 0 && cols && numbered) { /* a field of the item */
      if (pos == 0) {
        mr_buf_printf(why, "--exec: %.*s: fields count from 1 (or -1, the last)", (int)n, t + i);
        rc = MR_EINVAL;
        break;
      }
      rc = add_part(x, &cap, kind, i, n);
      if (!rc) {
        x->parts[x->nparts - 1].field = pos;
        x->parts[x->nparts - 1].param = NPARAMS + 1 + x->nfields++;
      }
      has_repl = 1;
      i += n;
      continue;
    }
    if (kind >= 0 && pos != 1 && pos != -1) {
      mr_buf_printf(why, "--exec: %.*s names input source %ld, and mapreduce "
                         "reads one: {} (or {1}) is the item (--colsep makes "
                         "{1} {2} ... the fields of a line)", (int)n, t + i, pos);
      rc = MR_EINVAL;
      break;
    }
    if (kind >= 0) {
      rc = add_part(x, &cap, kind, i, n);
      has_repl = 1;
      i += n;
      continue;
    }
    if (t[i] == ' ' || t[i] == '\t') {
      if (x->nparts && x->parts[x->nparts - 1].kind != P_BREAK)
        rc = add_part(x, &cap, P_BREAK, i, 1);
      i++;
      continue;
    }
    if (is_shell_char(t[i])) x->shell = 1;
    rc = add_part(x, &cap, P_LIT, i, 1);
    i++;
  }
  if (!rc && x->nparts && x->parts[x->nparts - 1].kind == P_BREAK) x->nparts--;
  if (!rc && x->nparts == 0) {
    mr_buf_puts(why, "--exec needs a command");
    rc = MR_EINVAL;
  }
  if (!rc && !has_repl) { /* as GNU parallel: the item goes at the end */
    rc = add_part(x, &cap, P_BREAK, 0, 0);
    if (!rc) rc = add_part(x, &cap, P_ITEM, 0, 0);
  }
  if (!rc && x->shell) rc = shell_script(x, !has_repl, why);
  if (!rc && !x->shell && x->parts[0].kind == P_LIT) {
    /* the program is fixed: find it once (it may differ between hosts, and
     * every rank compiles its own) */
    size_t n = x->parts[0].len;
    if (x->nparts > 1 && x->parts[1].kind != P_BREAK) n = 0; /* e.g. cmd{} */
    if (n) {
      char *name = strndup(t + x->parts[0].off, n);
      x->prog = name ? resolve(name) : NULL;
      if (!x->prog) {
        mr_buf_printf(why, "--exec: command not found: %s", name ? name : "?");
        rc = MR_ENOENT;
      }
      free(name);
    }
  }
  if (rc) {
    mr__exec_free(x);
    return rc;
  }
  *out = x;
  return 0;
}

void mr__exec_free(mr__exec *x) {
  if (!x) return;
  free(x->tpl);
  free(x->parts);
  free(x->prog);
  free(x->script);
  free(x);
}

int mr__exec_uses_shell(const mr__exec *x) { return x->shell; }

/* Appends the value of one replacement string. */
static void put_repl(mr_buf *b, int kind, const char *item, size_t len,
                     uint64_t seq) {
  const char *slash = memrchr(item, '/', len);
  const char *base = slash ? slash + 1 : item;
  size_t blen = len - (size_t)(base - item);
  switch (kind) {
  case P_ITEM: mr_buf_append(b, item, len); break;
  case P_SEQ: mr_buf_printf(b, "%llu", (unsigned long long)seq + 1); break;
  case P_BASE: mr_buf_append(b, base, blen); break;
  case P_DIR:
    if (!slash) mr_buf_append(b, ".", 1);
    else if (slash == item) mr_buf_append(b, "/", 1);
    else mr_buf_append(b, item, (size_t)(slash - item));
    break;
  case P_NOEXT:
  case P_BASENOEXT: {
    const char *from = kind == P_NOEXT ? item : base;
    const char *dot = memrchr(base, '.', blen);
    size_t n = (dot && dot > base ? (size_t)(dot - from) : len - (size_t)(from - item));
    mr_buf_append(b, from, n);
    break;
  }
  }
}

/* Appends the value of a part: a replacement of the item, or of a field. */
static void put_part(mr_buf *b, const mr__exec *x, const part *p, const char *item, size_t len,
                     uint64_t seq) {
  if (p->field && x->cols) {
    const char *f;
    size_t n = mr__colsep_field(x->cols, item, len, p->field, &f);
    put_repl(b, p->kind, f, n, seq);
  } else {
    put_repl(b, p->kind, item, len, seq);
  }
}

static int needs_quotes(const char *s, size_t n) {
  if (n == 0) return 1;
  for (size_t i = 0; i < n; i++)
    if (is_shell_char(s[i]) || s[i] == ' ' || s[i] == '\t') return 1;
  return 0;
}

static void put_quoted(mr_buf *b, const char *s, size_t n) {
  mr_buf_append(b, "'", 1);
  for (size_t i = 0; i < n; i++) {
    if (s[i] == '\'') mr_buf_append(b, "'\\''", 4);
    else mr_buf_append(b, &s[i], 1);
  }
  mr_buf_append(b, "'", 1);
}

void mr__exec_describe(const mr__exec *x, const char *item, size_t len,
                   uint64_t seq, mr_buf *out) {
  if (x->lines) {
    mr_buf_append(out, item, len);
    return;
  }
  mr_buf v = {0};
  for (size_t i = 0; i < x->nparts; i++) {
    const part *p = &x->parts[i];
    if (p->kind == P_LIT) {
      mr_buf_append(out, x->tpl + p->off, p->len);
    } else if (p->kind == P_BREAK) {
      mr_buf_append(out, " ", 1);
    } else {
      v.len = 0;
      put_part(&v, x, p, item, len, seq);
      const char *t = v.data ? v.data : "";
      if (needs_quotes(t, v.len)) put_quoted(out, t, v.len);
      else mr_buf_append(out, t, v.len);
    }
  }
  mr_buf_free(&v);
}

int mr__exec_expand(const mr__exec *x, const char *item, size_t len, uint64_t seq,
                char ***argv_out, mr_buf *store) {
  store->len = 0;
  size_t nwords = 1;
  char **argv;
  if (x->lines) { /* --shell: the item is the script */
    if (mr_buf_append(store, item, len)) return MR_ENOMEM;
    argv = malloc(4 * sizeof *argv);
    if (!argv) return MR_ENOMEM;
    argv[0] = (char *)"/bin/sh";
    argv[1] = (char *)"-c";
    argv[2] = store->data;
    argv[3] = NULL;
    *argv_out = argv;
    return 0;
  }
  if (x->shell) {
    /* the values, NUL-separated, become $1..$6 */
    for (int k = P_ITEM; k <= P_SEQ; k++) {
      put_repl(store, k, item, len, seq);
      mr_buf_append(store, "", 1);
    }
    for (size_t i = 0; i < x->nparts; i++) { /* then the fields' values */
      if (!x->parts[i].field) continue;
      put_part(store, x, &x->parts[i], item, len, seq);
      mr_buf_append(store, "", 1);
    }
    if (!store->data) return MR_ENOMEM;
    int nparams = NPARAMS + x->nfields;
    argv = malloc((5 + (size_t)nparams) * sizeof *argv);
    if (!argv) return MR_ENOMEM;
    argv[0] = (char *)"/bin/sh";
    argv[1] = (char *)"-c";
    argv[2] = x->script;
    argv[3] = (char *)"sh";
    char *v = store->data;
    for (int k = 0; k < nparams; k++) {
      argv[4 + k] = v;
      v += strlen(v) + 1;
    }
    argv[4 + nparams] = NULL;
    *argv_out = argv;
    return 0;
  }
  /* direct: words separated by NULs in store, then pointers into it */
  for (size_t i = 0; i < x->nparts; i++) {
    const part *p = &x->parts[i];
    if (p->kind == P_LIT) mr_buf_append(store, x->tpl + p->off, p->len);
    else if (p->kind == P_BREAK) {
      mr_buf_append(store, "", 1);
      nwords++;
    } else put_part(store, x, p, item, len, seq);
  }
  if (mr_buf_append(store, "", 1)) return MR_ENOMEM;
  argv = malloc((nwords + 1) * sizeof *argv);
  if (!argv) return MR_ENOMEM;
  char *s = store->data;
  for (size_t w = 0; w < nwords; w++) {
    argv[w] = s;
    s += strlen(s) + 1;
  }
  argv[nwords] = NULL;
  *argv_out = argv;
  return 0;
}

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

int mr__exec_run(const mr__exec *x, const char *item, size_t len, uint64_t seq,
             double timeout_s, mr_buf *out, int *exitval, int *sig) {
  *exitval = 0;
  *sig = 0;
  mr_buf store = {0};
  char **argv = NULL;
  int rc = mr__exec_expand(x, item, len, seq, &argv, &store);
  if (rc) {
    mr_buf_free(&store);
    return rc;
  }
  char *path = x->shell ? strdup("/bin/sh") : x->prog ? strdup(x->prog) : resolve(argv[0]);
  if (!path) {
    mr_buf_printf(out, "command not found: %s", argv[0]);
    *exitval = 127;
    free(argv);
    mr_buf_free(&store);
    return MR_EEXIT;
  }
  int pfd[2];
  int null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (null_fd < 0 || pipe2(pfd, O_CLOEXEC) != 0) {
    mr_buf_printf(out, "cannot start command: %s", strerror(errno));
    if (null_fd >= 0) close(null_fd);
    free(path);
    free(argv);
    mr_buf_free(&store);
    *exitval = 127;
    return MR_EEXIT;
  }
  size_t start = out->len;
  volatile int exec_err = 0;
  pid_t pid = mr__spawn(path, argv, null_fd, pfd[1], &exec_err);
  int spawn_err = errno; /* taken where vfork failed, before the closes */
  close(pfd[1]);
  close(null_fd);
  free(path);
  free(argv);
  mr_buf_free(&store);
  if (pid < 0) {
    close(pfd[0]);
    mr_buf_printf(out, "cannot start command: %s", strerror(spawn_err));
    *exitval = 127;
    return MR_EEXIT;
  }
  double deadline = timeout_s > 0 ? now_s() + timeout_s : 0;
  int timed_out = 0, too_big = 0, stopped = 0;
  for (;;) {
    int wait_ms = STOP_LOOK_MS;
    if (mr_stopping()) {
      stopped = 1;
      break;
    }
    if (deadline) {
      double left = deadline - now_s();
      if (left <= 0) {
        timed_out = 1;
        break;
      }
      if (left * 1000 < wait_ms) wait_ms = (int)(left * 1000) + 1;
    }
    struct pollfd p = {pfd[0], POLLIN, 0};
    int n = poll(&p, 1, wait_ms);
    if (n < 0 && errno == EINTR) continue;
    if (n == 0) continue; /* the deadline check above ends it */
    if (mr_buf_reserve(out, 65536)) {
      too_big = 1;
      break;
    }
    ssize_t r = read(pfd[0], out->data + out->len, out->cap - out->len - 1);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
    out->len += (size_t)r;
    if (out->len - start > OUTPUT_MAX) {
      too_big = 1;
      break;
    }
  }
  close(pfd[0]);
  int status = 0;
  /* a command may close its output and go on: it is still under the
   * time limit and the stop. Most exit as their output ends: a few yields
   * find them gone; the naps grow for the rest. */
  for (long k = 0, nap = 100000; !timed_out && !too_big && !stopped; k++) {
    pid_t w = waitpid(pid, &status, WNOHANG);
    if (w == pid || (w < 0 && errno != EINTR)) break;
    if (mr_stopping()) stopped = 1;
    else if (deadline && now_s() > deadline) timed_out = 1;
    else if (k < 16) sched_yield();
    else {
      struct timespec ts = {0, nap};
      nanosleep(&ts, NULL);
      if (nap < REAP_WAIT_MAX_NS) nap *= 2;
    }
  }
  if (timed_out || too_big || stopped) {
    mr__spawn_kill_group(pid);
    out->len = start;
    if (stopped) { /* not the item's failure: --resume runs it again */
      mr_buf_puts(out, "stopped by a signal");
      return MR_EINTR;
    }
    if (timed_out) {
      mr_buf_printf(out, "timed out after %g s", timeout_s);
      return MR_ETIMEDOUT;
    }
    mr_buf_printf(out, "output over %u bytes", OUTPUT_MAX);
    return MR_EEXIT;
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
    out->data[out->len] = '\0';
    return 0;
  }
  out->len = start;
  if (WIFSIGNALED(status)) {
    *sig = WTERMSIG(status);
    mr_buf_printf(out, "command killed by signal %d (%s)", *sig, strsignal(*sig));
    return MR_ESIGNAL;
  }
  *exitval = WEXITSTATUS(status);
  if (*exitval == 127 && exec_err == E2BIG)
    mr_buf_printf(out, "item too long for a command line (%zu bytes; Linux "
                       "takes 128 KiB per argument at most)", len);
  else if (*exitval == 127 && exec_err)
    mr_buf_printf(out, "cannot run the command: %s", strerror(exec_err));
  else if (*exitval == 127) mr_buf_puts(out, "command not found or not executable (exit status 127)");
  else mr_buf_printf(out, "command exited with status %d", *exitval);
  return MR_EEXIT;
}
