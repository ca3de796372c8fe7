/*
 * metrics.c - the counter table behind GET /metrics.
 */
#include "metrics.h"

#include "err.h"
#include "strbuf.h"

#include <stdio.h>
#include <string.h>

int
metrics_add(struct metrics *ms, const char *name, const char *labels,
            uint64_t v)
{
    int i;

    for (i = 0; i < ms->n; i++) {
        if (ms->m[i].name == name && !strcmp(ms->m[i].labels, labels)) {
            ms->m[i].value += v;
            return BOT_OK;
        }
    }
    if (ms->n == METRICS_MAX)
        return BOT_ENOMEM;
    ms->m[i].name = name;
    snprintf(ms->m[i].labels, sizeof(ms->m[i].labels), "%s", labels);
    /* a label value can never break the line format */
    for (char *p = ms->m[i].labels; *p; p++) {
        if (*p == '\n' || *p == '\\')
            *p = '_';
    }
    ms->m[i].value = v;
    ms->n++;
    return BOT_OK;
}

int
metrics_render(const struct metrics *ms, struct strbuf *out)
{
    /* a metric's samples must stand together, after its TYPE line */
    for (int i = 0; i < ms->n; i++) {
        int seen = 0;

        for (int j = 0; j < i && !seen; j++)
            seen = !strcmp(ms->m[j].name, ms->m[i].name);
        if (seen)
            continue;
        strbuf_printf(out, "# TYPE %s counter\n", ms->m[i].name);
        for (int j = i; j < ms->n; j++) {
            const struct metric *m = &ms->m[j];

            if (strcmp(m->name, ms->m[i].name))
                continue;
            if (m->labels[0])
                strbuf_printf(out, "%s{%s} %llu\n", m->name, m->labels,
                              (unsigned long long)m->value);
            else
                strbuf_printf(out, "%s %llu\n", m->name,
                              (unsigned long long)m->value);
        }
    }
    return strbuf_error(out);
}
