/* timeline.c: --timeline FILE.svg: a Gantt picture of the run, a lane per
 * rank. The busy time of each rank is kept in a fixed number of bins that
 * double in width as the run grows, so 100,000 chunks cost what 100 do;
 * each bin is drawn as shaded as its rank was busy in it (idle is the
 * lane's grey), and equal neighbours are drawn as one rectangle. */
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "obs/obs.h"

int mr__timeline_init(mr__timeline *t, int ranks, int nbins, uint64_t bin_ns) {
  memset(t, 0, sizeof *t);
  t->ranks = ranks;
  t->nbins = nbins;
  t->bin_ns = bin_ns ? bin_ns : 1;
  t->busy = calloc((size_t)ranks * (size_t)nbins, sizeof *t->busy);
  t->failed = calloc((size_t)ranks * (size_t)nbins, sizeof *t->failed);
  if (!t->busy || !t->failed) {
    mr__timeline_free(t);
    return MR_ENOMEM;
  }
  return 0;
}

void mr__timeline_free(mr__timeline *t) {
  free(t->busy);
  free(t->failed);
  t->busy = NULL;
  t->failed = NULL;
}

/* Bins twice as wide: pairs merged into the first half. */
static void timeline_widen(mr__timeline *t) {
  int half = t->nbins / 2;
  for (int r = 0; r < t->ranks; r++) {
    uint64_t *b = t->busy + (size_t)r * (size_t)t->nbins;
    uint32_t *f = t->failed + (size_t)r * (size_t)t->nbins;
    for (int i = 0; i < half; i++) {
      b[i] = b[2 * i] + b[2 * i + 1];
      f[i] = f[2 * i] + f[2 * i + 1];
    }
    memset(b + half, 0, (size_t)(t->nbins - half) * sizeof *b);
    memset(f + half, 0, (size_t)(t->nbins - half) * sizeof *f);
  }
  t->bin_ns *= 2;
}

void mr__timeline_add(mr__timeline *t, int rank, uint64_t t0, uint64_t t1, uint32_t failed) {
  if (!t->busy || rank < 0 || rank >= t->ranks || t1 < t0) return;
  while (t1 > t->bin_ns * (uint64_t)t->nbins) timeline_widen(t);
  if (t1 > t->end_ns) t->end_ns = t1;
  uint64_t *b = t->busy + (size_t)rank * (size_t)t->nbins;
  uint64_t i = t0 / t->bin_ns;
  for (uint64_t at = t0; at < t1 && i < (uint64_t)t->nbins; i++) {
    uint64_t edge = (i + 1) * t->bin_ns, to = t1 < edge ? t1 : edge;
    b[i] += to - at;
    at = to;
  }
  if (failed) {
    uint64_t j = (t1 ? t1 - 1 : 0) / t->bin_ns;
    if (j >= (uint64_t)t->nbins) j = (uint64_t)t->nbins - 1;
    t->failed[(size_t)rank * (size_t)t->nbins + j] += failed;
  }
}

/* ---------------------------------------------------------------- SVG */

#define W 1100
#define LEFT 120
#define RIGHT 60
#define TOP 64
#define LEVELS 4 /* shades of busy */

static void xml_text(mr_buf *out, const char *s) {
  for (; *s; s++) {
    if (*s == '&') mr_buf_puts(out, "&amp;");
    else if (*s == '<') mr_buf_puts(out, "&lt;");
    else if (*s == '>') mr_buf_puts(out, "&gt;");
    else mr_buf_append(out, s, 1);
  }
}

/* A round step for about `want` ticks over span seconds. */
static double tick_step(double span, int want) {
  double raw = span / want, p = pow(10, floor(log10(raw)));
  double m = raw / p;
  return (m < 1.5 ? 1 : m < 3.5 ? 2 : m < 7.5 ? 5 : 10) * p;
}

static void tick_label(double s, double step, char *buf, size_t n) {
  if (step >= 60 && s >= 60) {
    if (s >= 3600) snprintf(buf, n, "%dh%02dm", (int)(s / 3600), (int)(s / 60) % 60);
    else snprintf(buf, n, "%dm%02ds", (int)(s / 60), (int)s % 60);
  } else if (step >= 1) {
    snprintf(buf, n, "%.0f s", s);
  } else {
    int dec = step >= 0.1 ? 1 : step >= 0.01 ? 2 : 3;
    snprintf(buf, n, "%.*f s", dec, s);
  }
}

/* How busy a bin was, 0 (idle: under 2%) to LEVELS; a short chunk in a
 * bin is not idle, but 1% of a bin is not worth a shade. */
static int busy_level(uint64_t busy, double cap) {
  double f = (double)busy / cap;
  if (f < 0.02) return 0;
  int lv = (int)lround(f * LEVELS);
  return lv < 1 ? 1 : lv > LEVELS ? LEVELS : lv;
}

void mr__timeline_svg(const mr__timeline *t, const mr__obs_rank *ranks, const char *title,
                      const char *subtitle, mr_buf *out) {
  int n = t->ranks;
  int lane = 560 / (n ? n : 1);
  if (lane > 28) lane = 28;
  if (lane < 6) lane = 6;
  int gap = lane >= 12 ? 4 : 1, pitch = lane + gap;
  int plot_w = W - LEFT - RIGHT;
  int lanes_h = n * pitch;
  int axis_y = TOP + lanes_h + 2, height = axis_y + 70;
  uint64_t used = t->end_ns ? (t->end_ns + t->bin_ns - 1) / t->bin_ns : 1;
  if (used > (uint64_t)t->nbins) used = (uint64_t)t->nbins;
  double span_s = (double)(used * t->bin_ns) * 1e-9;
  double px = (double)plot_w / (double)used; /* per bin */
  int font = lane < 11 ? lane : 11;
  int label_every = lane >= 9 ? 1 : (9 + lane - 1) / lane;

  mr_buf_printf(out,
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
                "viewBox=\"0 0 %d %d\" font-family=\"sans-serif\">\n"
                "<style>.b1{fill:#c6dbef}.b2{fill:#6baed6}.b3{fill:#2171b5}.b4{fill:#08306b}"
                ".idle{fill:#eeeeee}.f{fill:#d62728}.lbl{font-size:%dpx;fill:#333}"
                ".ax{font-size:11px;fill:#333}.grid{stroke:#bbb;stroke-width:0.5}</style>\n"
                "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n",
                W, height, W, height, font);
  mr_buf_puts(out, "<text x=\"10\" y=\"22\" font-size=\"15\" font-weight=\"bold\">");
  xml_text(out, title);
  mr_buf_puts(out, "</text>\n<text x=\"10\" y=\"42\" font-size=\"12\" fill=\"#333\">");
  xml_text(out, subtitle);
  mr_buf_puts(out, "</text>\n");

  for (int r = 0; r < n; r++) {
    int y = TOP + r * pitch;
    const uint64_t *b = t->busy + (size_t)r * (size_t)t->nbins;
    const uint32_t *f = t->failed + (size_t)r * (size_t)t->nbins;
    int threads = ranks ? ranks[r].threads : 1;
    mr_buf_printf(out, "<g class=\"lane\" data-rank=\"%d\">\n", r);
    if (r % label_every == 0 || r == n - 1)
      mr_buf_printf(out, "<text class=\"lbl\" x=\"%d\" y=\"%d\" text-anchor=\"end\">rank %d%s</text>\n",
                    LEFT - 6, y + lane / 2 + font / 2 - 1, r, r == 0 ? " (master)" : "");
    mr_buf_printf(out, "<rect class=\"idle\" x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\"/>\n",
                  LEFT, y, plot_w, lane);
    if (!threads)
      mr_buf_printf(out, "<text class=\"lbl\" x=\"%d\" y=\"%d\">dispatching only: it reads "
                         "and writes</text>\n", LEFT + 6, y + lane / 2 + font / 2 - 1);
    double cap = (double)t->bin_ns * (threads ? threads : 1);
    uint64_t i = 0;
    while (i < used) {
      int lv = busy_level(b[i], cap);
      uint64_t j = i + 1;
      while (j < used && busy_level(b[j], cap) == lv) j++;
      if (lv)
        mr_buf_printf(out, "<rect class=\"b%d\" x=\"%.1f\" y=\"%d\" width=\"%.1f\" height=\"%d\"/>\n",
                      lv, LEFT + (double)i * px, y, (double)(j - i) * px, lane);
      i = j;
    }
    for (i = 0; i < used; i++)
      if (f[i])
        mr_buf_printf(out, "<rect class=\"f\" x=\"%.1f\" y=\"%d\" width=\"%.1f\" height=\"%d\">"
                           "<title>%" PRIu32 " failed</title></rect>\n",
                      LEFT + (double)i * px, y, px < 2 ? 2 : px, lane > 8 ? lane / 3 : lane, f[i]);
    if (ranks && threads) {
      double end_s = (double)t->end_ns * 1e-9;
      double busy = end_s > 0 ? (double)ranks[r].busy_ns * 1e-9 / (end_s * threads) : 0;
      if (r % label_every == 0 || r == n - 1)
        mr_buf_printf(out, "<text class=\"lbl\" x=\"%d\" y=\"%d\">%.0f%%</text>\n", W - RIGHT + 6,
                      y + lane / 2 + font / 2 - 1, 100 * busy);
    }
    mr_buf_puts(out, "</g>\n");
  }
  /* the time axis */
  double step = tick_step(span_s > 0 ? span_s : 1, 10);
  mr_buf_printf(out, "<line class=\"grid\" x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\"/>\n", LEFT,
                axis_y, LEFT + plot_w, axis_y);
  for (double s = 0; s <= span_s * 1.0001; s += step) {
    double x = LEFT + s / span_s * plot_w;
    char lbl[32];
    tick_label(s, step, lbl, sizeof lbl);
    mr_buf_printf(out, "<line class=\"grid\" x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\"/>"
                       "<text class=\"ax\" x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%s</text>\n",
                  x, TOP - 2, x, axis_y + 4, x, axis_y + 16, lbl);
  }
  mr_buf_printf(out, "<text class=\"ax\" x=\"%d\" y=\"%d\" text-anchor=\"end\">time since the "
                     "run began</text>\n", LEFT + plot_w, axis_y + 32);
  /* the legend */
  static const char *const names[] = {"idle", "busy under 37%", "under 62%", "under 87%", "busy",
                                      "failed items"};
  static const char *const cls[] = {"idle", "b1", "b2", "b3", "b4", "f"};
  int x = LEFT, y = axis_y + 46;
  for (int k = 0; k < 6; k++) {
    mr_buf_printf(out, "<rect class=\"%s\" x=\"%d\" y=\"%d\" width=\"14\" height=\"12\"/>"
                       "<text class=\"ax\" x=\"%d\" y=\"%d\">%s</text>\n",
                  cls[k], x, y, x + 18, y + 10, names[k]);
    x += 18 + 8 * (int)strlen(names[k]) + 14;
  }
  mr_buf_printf(out, "<text class=\"ax\" x=\"%d\" y=\"%d\" text-anchor=\"end\">busy %% of "
                     "each rank</text>\n", W - 4, TOP - 8);
  mr_buf_puts(out, "</svg>\n");
}
