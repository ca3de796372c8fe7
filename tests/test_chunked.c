/*
 * test_chunked.c - chunked request bodies decoded as they arrive, in any
 * split, within the strbuf's cap; bad framing refused.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "chunked.h"
#include "err.h"
#include "strbuf.h"

#include <string.h>

/* decode - feed s in pieces of `step` bytes; the last result, *out holds
 * what was decoded */
static int
decode(const char *s, size_t step, size_t cap, struct strbuf *out,
       const char **why)
{
    struct chunked *c = NULL;
    size_t len = strlen(s);
    int rc = CHUNKED_MORE;

    strbuf_init(out, cap);
    assert_int_equal(chunked_new(&c), BOT_OK);
    for (size_t off = 0; off < len && rc == CHUNKED_MORE; off += step) {
        size_t n = len - off < step ? len - off : step;

        rc = chunked_feed(c, s + off, n, out, why);
    }
    chunked_free(c);
    return rc;
}

static void
chunked__any_split_gives_the_same_body(void **state)
{
    const char *body = "5\r\n{\"tit\r\n11;ext=1\r\nle\":\"chunky two\"}\r\n"
                       "0\r\nX-Trailer: y\r\n\r\n";
    const char *why = NULL;
    struct strbuf out;

    (void)state;
    for (size_t step = 1; step <= strlen(body); step++) {
        assert_int_equal(decode(body, step, 0, &out, &why), CHUNKED_DONE);
        assert_string_equal(strbuf_str(&out), "{\"title\":\"chunky two\"}");
        strbuf_cleanup(&out);
    }
}

static void
chunked__bad_framing_is_refused(void **state)
{
    static const char *const bad[] = {
        "zz\r\nab\r\n0\r\n\r\n",          /* not a size */
        "2\r\nabc\r\n0\r\n\r\n",          /* more data than the size */
        "ffffffffffffffffff\r\n",         /* a size past 64 bits */
        "0\r\n\r\nPOST / HTTP/1.1\r\n\r\n", /* bytes after the last chunk */
    };
    const char *why = NULL;
    struct strbuf out;

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        why = NULL;
        assert_int_equal(decode(bad[i], 64, 0, &out, &why), BOT_EINVAL);
        assert_non_null(why);
        strbuf_cleanup(&out);
    }
}

static void
chunked__over_the_cap_is_too_big(void **state)
{
    const char *why = NULL;
    struct strbuf out;

    (void)state;
    assert_int_equal(decode("a\r\n0123456789\r\n0\r\n\r\n", 3, 9, &out, &why),
                     BOT_EINVAL);
    assert_string_equal(why, "too big");
    strbuf_cleanup(&out);
    assert_int_equal(decode("a\r\n0123456789\r\n0\r\n\r\n", 3, 10, &out, &why),
                     CHUNKED_DONE);
    strbuf_cleanup(&out);
}

static void
chunked__incomplete_asks_for_more(void **state)
{
    const char *why = NULL;
    struct strbuf out;

    (void)state;
    assert_int_equal(decode("5\r\nab", 2, 0, &out, &why), CHUNKED_MORE);
    assert_string_equal(strbuf_str(&out), "ab");
    strbuf_cleanup(&out);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(chunked__any_split_gives_the_same_body),
        cmocka_unit_test(chunked__bad_framing_is_refused),
        cmocka_unit_test(chunked__over_the_cap_is_too_big),
        cmocka_unit_test(chunked__incomplete_asks_for_more),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
