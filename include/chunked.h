/*
 * chunked.h - decoding an HTTP/1.1 chunked request body as it arrives.
 *
 * libwebsockets (4.1) hands a server a chunked body raw, framing and all;
 * this decodes it with http_parser (Node's, from Debian), so no chunk
 * grammar of our own: sizes, extensions, the last chunk and trailers are
 * the library's.
 * Owns: the parser state (one allocation). The decoded bytes go to the
 * caller's strbuf, whose cap bounds the body.
 * Errors: chunked_feed returns CHUNKED_MORE or CHUNKED_DONE, else
 * BOT_EINVAL (bad framing, or bytes after the last chunk: *why, static,
 * says which) or the strbuf's error (BOT_EINVAL over its cap, with *why
 * "too big"; BOT_ENOMEM). After an error the decoder takes nothing more.
 */
#ifndef PMBOT_CHUNKED_H
#define PMBOT_CHUNKED_H

#include <stddef.h>

struct chunked;
struct strbuf;

enum { CHUNKED_MORE = 0, CHUNKED_DONE = 1 };

/* chunked_new - a decoder for one body; BOT_ENOMEM. */
int chunked_new(struct chunked **out);
void chunked_free(struct chunked *c);

/* chunked_feed - the next raw bytes of the body (len may be 0). */
int chunked_feed(struct chunked *c, const char *in, size_t len,
                 struct strbuf *out, const char **why);

#endif
