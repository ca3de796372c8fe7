/*
 * metrics.h - counters for GET /metrics (Prometheus text format).
 *
 * Owns: a small table of counters, each a metric name plus a fixed label
 * set. Names and label values come from pmbot's code (method names,
 * endpoints, statuses), never from users, so they need no escaping beyond
 * what metrics_add applies defensively.
 * Errors: metrics_add drops the sample when the table is full (it is sized
 * for pmbot's own label sets) and returns BOT_ENOMEM.
 */
#ifndef PMBOT_METRICS_H
#define PMBOT_METRICS_H

#include <stdint.h>

struct strbuf;

#define METRICS_MAX 160

struct metric {
    const char *name; /* static */
    char labels[96];  /* 'method="chat.postMessage",outcome="ok"' */
    uint64_t value;
};

struct metrics {
    struct metric m[METRICS_MAX];
    int n;
};

/* metrics_add - add v to name{labels} (labels may be "" ). */
int metrics_add(struct metrics *ms, const char *name, const char *labels,
                uint64_t v);

/* metrics_render - every counter with its # TYPE line, to out. */
int metrics_render(const struct metrics *ms, struct strbuf *out);

#endif
