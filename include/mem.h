/*
 * mem.h - every allocation of pmbot goes through here.
 *
 * Owns: the allocator wrappers and, in test builds, a switch that makes the
 * Nth allocation fail so tests can walk every out-of-memory path.
 * Does not own: memory allocated inside libraries (sqlite, jansson, libuv).
 * Contract: bot_free(NULL) is a no-op; every allocator returns NULL on
 * failure and never aborts.
 */
#ifndef PMBOT_MEM_H
#define PMBOT_MEM_H

#include <stddef.h>

void *bot_malloc(size_t n);
void *bot_calloc(size_t nmemb, size_t size);
void *bot_realloc(void *p, size_t n);
void bot_free(void *p);

/* bot_strdup - new copy of s (NULL in, NULL out); NULL on failure. */
char *bot_strdup(const char *s);

/* bot_strndup - new copy of at most n bytes of s, NUL-terminated. */
char *bot_strndup(const char *s, size_t n);

/*
 * mem_fail_after - make the allocation after n more succeed fail (n = 0:
 * the next one), and every one after it while `sticky` is set.
 * n < 0 turns failure injection off. Meant for tests only.
 */
void mem_fail_after(long n, int sticky);

#endif
