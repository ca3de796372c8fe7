/*
 * test_strbuf.c - unit tests for include/strbuf.h.
 *
 * Covers: empty appends (a body of zero bytes arrives as NULL, 0), the cap,
 * the sticky error and steal/reset.
 * Does not cover: allocation failures beyond one injected realloc.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "err.h"
#include "mem.h"
#include "strbuf.h"

#include <string.h>

/* Found by fuzzing: libwebsockets hands an empty HTTP body chunk as
 * (NULL, 0), and memcpy from NULL is undefined even for 0 bytes (UBSan
 * stops the test here without the fix). */
static void
strbuf_append__null_and_zero_is_an_empty_append(void **state)
{
    struct strbuf sb;

    (void)state;
    strbuf_init(&sb, 0);
    assert_int_equal(strbuf_append(&sb, NULL, 0), BOT_OK);
    assert_int_equal(sb.len, 0);
    assert_string_equal(strbuf_str(&sb), "");
    assert_int_equal(strbuf_puts(&sb, "ab"), BOT_OK);
    assert_int_equal(strbuf_append(&sb, NULL, 0), BOT_OK);
    assert_string_equal(strbuf_str(&sb), "ab");
    assert_int_equal(strbuf_error(&sb), BOT_OK);
    strbuf_cleanup(&sb);
}

static void
strbuf_append__past_the_cap_is_einval_and_sticky(void **state)
{
    struct strbuf sb;

    (void)state;
    strbuf_init(&sb, 4);
    assert_int_equal(strbuf_puts(&sb, "abcd"), BOT_OK);
    assert_int_equal(strbuf_putc(&sb, 'e'), BOT_EINVAL);
    assert_string_equal(strbuf_str(&sb), "abcd");
    assert_int_equal(strbuf_append(&sb, NULL, 0), BOT_EINVAL);
    assert_int_equal(strbuf_error(&sb), BOT_EINVAL);
    strbuf_reset(&sb);
    assert_int_equal(strbuf_error(&sb), BOT_OK);
    assert_int_equal(strbuf_printf(&sb, "%d", 42), BOT_OK);
    assert_string_equal(strbuf_str(&sb), "42");
    strbuf_cleanup(&sb);
}

static void
strbuf_append__failed_growth_keeps_the_contents(void **state)
{
    struct strbuf sb;
    char big[100];

    (void)state;
    memset(big, 'x', sizeof(big));
    strbuf_init(&sb, 0);
    assert_int_equal(strbuf_puts(&sb, "kept"), BOT_OK);
    mem_fail_after(0, 0);
    assert_int_equal(strbuf_append(&sb, big, sizeof(big)), BOT_ENOMEM);
    assert_string_equal(strbuf_str(&sb), "kept");
    assert_int_equal(strbuf_error(&sb), BOT_ENOMEM);
    strbuf_cleanup(&sb);
}

static void
strbuf_steal__empty_is_a_new_empty_string(void **state)
{
    struct strbuf sb;
    char *s;

    (void)state;
    strbuf_init(&sb, 0);
    s = strbuf_steal(&sb);
    assert_non_null(s);
    assert_string_equal(s, "");
    bot_free(s);
    assert_int_equal(strbuf_puts(&sb, "x"), BOT_OK);
    s = strbuf_steal(&sb);
    assert_string_equal(s, "x");
    assert_null(sb.buf);
    bot_free(s);
    strbuf_cleanup(&sb);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(strbuf_append__null_and_zero_is_an_empty_append),
        cmocka_unit_test(strbuf_append__past_the_cap_is_einval_and_sticky),
        cmocka_unit_test(strbuf_append__failed_growth_keeps_the_contents),
        cmocka_unit_test(strbuf_steal__empty_is_a_new_empty_string),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
