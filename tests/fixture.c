/*
 * fixture.c - reading test fixtures and golden files.
 */
#include "fixture.h"

#include "mem.h"
#include "strbuf.h"

#include <stdio.h>

char *
fixture_load(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    struct strbuf sb;
    char buf[4096];
    size_t n;

    if (!f)
        return NULL;
    strbuf_init(&sb, 0);
    while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
        strbuf_append(&sb, buf, n);
    fclose(f);
    if (strbuf_error(&sb)) {
        strbuf_cleanup(&sb);
        return NULL;
    }
    if (len)
        *len = sb.len;
    return strbuf_steal(&sb);
}
