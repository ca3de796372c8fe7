/*
 * fixture.h - reading test fixtures and golden files.
 */
#ifndef PMBOT_FIXTURE_H
#define PMBOT_FIXTURE_H

#include <stddef.h>

/* fixture_load - the file's bytes, NUL-terminated (new: bot_free), with
 * its length in *len (may be NULL); NULL if it cannot be read. */
char *fixture_load(const char *path, size_t *len);

#endif
