/*
 * test_blame.c - blaming words and people as causes are found; a dozen
 * harmless sentences (technical uses of the same words) are not.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "blame.h"
#include "err.h"

static void
blame__found(void **state)
{
    static const char *const blaming[] = {
        "Bob is to blame for the outage",
        "they blamed the on-call",
        "a careless deploy on Friday",
        "that was negligent",
        "sloppy review of the migration",
        "incompetent handling of the page",
        "classic human error",
        "she should have known the flag was on",
        "someone dropped the ball on the cert",
        "it's bob's fault",
        "whose fault was it?",
        "the team at fault",
        "@bob broke prod",
        "<@U0BOB> caused the outage",
        "outage caused by @carol",
        "we lost an hour because of @dave",
    };

    (void)state;
    for (size_t i = 0; i < sizeof(blaming) / sizeof(blaming[0]); i++) {
        if (!blame_found(blaming[i]))
            fail_msg("not found: %s", blaming[i]);
    }
}

static void
blame__harmless_is_not(void **state)
{
    static const char *const harmless[] = {
        "the deploy faulted at 04:20",
        "fault injection found it in staging",
        "segmentation fault in the worker",
        "no faults found on the disk",
        "the blameless review is tomorrow",
        "the careful rollback worked",
        "error budget burned in an hour",
        "the human on call acknowledged at 04:21",
        "we should have alerts on the queue depth",
        "@bob rolled back the deploy",
        "caused by a missing index on payments",
        "because of the retry storm the queue grew",
        "Blameworthy is not a word we use",
    };

    (void)state;
    for (size_t i = 0; i < sizeof(harmless) / sizeof(harmless[0]); i++) {
        if (blame_found(harmless[i]))
            fail_msg("found in harmless text: %s", harmless[i]);
    }
}

static void
blame__the_users_pattern(void **state)
{
    (void)state;
    assert_false(blame_found("a cowboy change"));
    assert_int_equal(blame_configure("cowboy|yolo"), BOT_OK);
    assert_true(blame_found("a COWBOY change"));
    assert_int_equal(blame_configure("(open"), BOT_EINVAL);
    assert_true(blame_found("yolo deploy")); /* the old one kept */
    /* what would take glibc gigabytes or forever to compile is refused */
    assert_int_equal(blame_configure("nn++++++++++++++++++++++++egligent"),
                     BOT_EINVAL);
    assert_int_equal(blame_configure("N*++++++++++y"), BOT_EINVAL);
    assert_int_equal(blame_configure("((a{99}){99}){99}"), BOT_EINVAL);
    assert_int_equal(blame_configure("x{99999999999999999999}"), BOT_EINVAL);
    assert_int_equal(blame_configure("(.*)(.*)(.*)\\3\\2\\1x"), BOT_EINVAL);
    assert_int_equal(blame_configure("(a{0,20000})"), BOT_EINVAL);
    assert_true(blame_found("yolo deploy"));
    /* what is only unusual is taken */
    assert_int_equal(blame_configure("(a{0,1000})|[{]|\\{|a{,3}|x{2,5}"),
                     BOT_OK);
    assert_int_equal(blame_configure("ACME-[0-9A-F]{32}|acme_live_[a-z0-9]+"),
                     BOT_OK);
    assert_int_equal(blame_configure("cowboy|yo(lo){1,3}|[+*]{2}"), BOT_OK);
    assert_true(blame_found("yololo"));
    assert_int_equal(blame_configure(NULL), BOT_OK);
    assert_false(blame_found("yolo deploy"));
    blame_free();
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(blame__found),
        cmocka_unit_test(blame__harmless_is_not),
        cmocka_unit_test(blame__the_users_pattern),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
