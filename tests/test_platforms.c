/*
 * test_platforms.c - unit tests for include/platforms.h.
 *
 * Covers: the choice `pmbot run` makes (SPEC "Running it"): Slack tokens
 * only, none, Slack and a fake second platform through an injected table
 * (both, in table order), the list overriding credentials, a listed platform
 * without credentials and half-set credentials (errors naming the variable,
 * never the value), Matrix's token-or-password rule, alarm_platform (default,
 * explicit, unknown, not connected), the reasons given for the log, and the
 * environment reaching the choice through config_load.
 * Configurations are built on config_defaults; the group setup clears every
 * environment variable config_load reads.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "config.h"
#include "err.h"
#include "mem.h"
#include "platforms.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define APP_TOKEN "xapp-1-A1-2-SECRETAPP"
#define BOT_TOKEN "xoxb-1-2-SECRETBOT"

static const char *const env_vars[] = {
    "PMBOT_PLATFORM",  "PMBOT_ALARM_PLATFORM", "SLACK_APP_TOKEN",
    "SLACK_BOT_TOKEN", "MATRIX_HOMESERVER",    "MATRIX_USER_ID",
    "MATRIX_ACCESS_TOKEN", "MATRIX_PASSWORD",
};

static int
clear_env(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(env_vars) / sizeof(env_vars[0]); i++)
        unsetenv(env_vars[i]);
    return 0;
}

/* a second platform for an injected table: its one credential is this flag */
static int fake_ready;

static void
fake_credentials(const struct config *cfg, struct platform_creds *c)
{
    (void)cfg;
    if (fake_ready)
        c->set[c->nset++] = "FAKE_TOKEN";
    else
        c->missing[c->nmissing++] = "FAKE_TOKEN";
}

static const struct platform_desc *
builtin(const char *name)
{
    for (size_t i = 0; i < platforms_table_len; i++) {
        if (!strcmp(platforms_table[i].name, name))
            return &platforms_table[i];
    }
    fail_msg("no built-in platform %s", name);
    return NULL;
}

static void
setup_cfg(struct config *cfg)
{
    assert_int_equal(config_defaults(cfg), BOT_OK);
    fake_ready = 0;
}

static void
put(char **field, const char *v)
{
    bot_free(*field);
    *field = bot_strdup(v);
    assert_non_null(*field);
}

/* choose_ok - platforms_choose must succeed, choosing want (names joined
 * by commas) */
static void
choose_ok(const struct config *cfg, struct platforms *out, const char *want)
{
    char *why = (char *)"sentinel";
    char got[128] = "";
    size_t len = 0;

    if (platforms_choose(cfg, out, &why))
        fail_msg("refused: %s", why);
    assert_null(why);
    for (int i = 0; i < out->n && len < sizeof(got); i++)
        len += (size_t)snprintf(got + len, sizeof(got) - len, "%s%s",
                                i ? "," : "", out->v[i].name);
    assert_string_equal(got, want);
}

/* choose_err - platforms_choose must refuse with *out zeroed and a reason
 * holding says and no token value */
static void
choose_err(const struct config *cfg, const char *says)
{
    struct platforms out;
    char *why = NULL;

    memset(&out, 0x5a, sizeof(out));
    assert_int_equal(platforms_choose(cfg, &out, &why), BOT_EINVAL);
    assert_null(out.v);
    assert_int_equal(out.n, 0);
    assert_non_null(why);
    if (!strstr(why, says))
        fail_msg("\"%s\" does not say \"%s\"", why, says);
    assert_null(strstr(why, "SECRET"));
    bot_free(why);
}

static void
platforms__slack_tokens_only(void **state)
{
    struct config cfg;
    struct platforms out;

    (void)state;
    setup_cfg(&cfg);
    put(&cfg.slack_app_token, APP_TOKEN);
    put(&cfg.slack_bot_token, BOT_TOKEN);

    choose_ok(&cfg, &out, "slack");

    assert_string_equal(out.v[0].reason,
                        "slack: SLACK_APP_TOKEN and SLACK_BOT_TOKEN are set");
    assert_int_equal(out.alarm, 0);
    platforms_cleanup(&out);
    config_cleanup(&cfg);
}

static void
platforms__no_credentials_is_the_terminal(void **state)
{
    struct config cfg;
    struct platforms out;

    (void)state;
    setup_cfg(&cfg);

    choose_ok(&cfg, &out, "terminal");

    assert_string_equal(out.v[0].reason,
                        "terminal: no platform credentials are set");
    assert_int_equal(out.alarm, 0);
    platforms_cleanup(&out);
    platforms_cleanup(&out); /* safe twice */
    assert_null(out.v);
    config_cleanup(&cfg);
}

/* the environment reaches the choice through config_load */
static void
platforms__from_the_environment(void **state)
{
    struct config cfg;
    struct platforms out;
    char *why = NULL;

    (void)state;
    assert_int_equal(setenv("SLACK_APP_TOKEN", APP_TOKEN, 1), 0);
    assert_int_equal(setenv("SLACK_BOT_TOKEN", BOT_TOKEN, 1), 0);
    assert_int_equal(config_load(&cfg, NULL, &why), BOT_OK);
    assert_int_equal(config_validate(&cfg, &why), BOT_OK);

    choose_ok(&cfg, &out, "slack");
    platforms_cleanup(&out);
    config_cleanup(&cfg);

    /* and PMBOT_PLATFORM overrides the tokens */
    assert_int_equal(setenv("PMBOT_PLATFORM", "terminal", 1), 0);
    assert_int_equal(config_load(&cfg, NULL, &why), BOT_OK);
    clear_env(NULL);

    choose_ok(&cfg, &out, "terminal");
    assert_string_equal(out.v[0].reason,
                        "terminal: listed in [pmbot] platforms");
    platforms_cleanup(&out);
    config_cleanup(&cfg);
}

static void
platforms__matrix_token_or_password(void **state)
{
    struct config cfg;
    struct platforms out;

    (void)state;
    setup_cfg(&cfg);
    put(&cfg.matrix_homeserver, "https://matrix.example.org");
    put(&cfg.matrix_access_token, "syt_SECRET");

    choose_ok(&cfg, &out, "matrix");
    assert_string_equal(
        out.v[0].reason,
        "matrix: MATRIX_HOMESERVER and MATRIX_ACCESS_TOKEN are set");
    platforms_cleanup(&out);

    /* a password logs in, so it needs the user id */
    bot_free(cfg.matrix_access_token);
    cfg.matrix_access_token = NULL;
    put(&cfg.matrix_password, "SECRETPW");
    choose_err(&cfg, "MATRIX_HOMESERVER and MATRIX_PASSWORD are set but "
                     "MATRIX_USER_ID is not");
    put(&cfg.matrix_user_id, "@pmbot:example.org");
    choose_ok(&cfg, &out, "matrix");
    platforms_cleanup(&out);

    /* with Slack too: both, Slack first (the table's order) */
    put(&cfg.slack_app_token, APP_TOKEN);
    put(&cfg.slack_bot_token, BOT_TOKEN);
    choose_ok(&cfg, &out, "slack,matrix");
    platforms_cleanup(&out);
    config_cleanup(&cfg);
}

/* Slack and a fake second platform, injected: both, in table order */
static void
platforms__slack_and_a_second_platform(void **state)
{
    const struct platform_desc table[] = {
        *builtin("slack"),
        {"fake", fake_credentials},
        *builtin("terminal"),
    };
    const struct platform_desc reversed[] = {table[1], table[0], table[2]};
    struct config cfg;
    struct platforms out;
    char *why = (char *)"sentinel";

    (void)state;
    setup_cfg(&cfg);
    put(&cfg.slack_app_token, APP_TOKEN);
    put(&cfg.slack_bot_token, BOT_TOKEN);
    fake_ready = 1;

    assert_int_equal(platforms_choose_from(table, 3, &cfg, &out, &why),
                     BOT_OK);

    assert_null(why);
    assert_int_equal(out.n, 2);
    assert_string_equal(out.v[0].name, "slack");
    assert_string_equal(out.v[1].name, "fake");
    assert_string_equal(out.v[1].reason, "fake: FAKE_TOKEN is set");
    assert_int_equal(out.alarm, 0);
    platforms_cleanup(&out);

    assert_int_equal(platforms_choose_from(reversed, 3, &cfg, &out, &why),
                     BOT_OK);
    assert_int_equal(out.n, 2);
    assert_string_equal(out.v[0].name, "fake");
    assert_string_equal(out.v[1].name, "slack");
    platforms_cleanup(&out);

    /* the fake's alone, and a list the built-in table would refuse */
    fake_ready = 0;
    put(&cfg.platforms, "terminal, fake");
    assert_int_equal(platforms_choose_from(table, 3, &cfg, &out, &why),
                     BOT_EINVAL);
    assert_non_null(strstr(why, "fake is listed in [pmbot] platforms but "
                                "FAKE_TOKEN is not set"));
    bot_free(why);
    fake_ready = 1;
    assert_int_equal(platforms_choose_from(table, 3, &cfg, &out, &why),
                     BOT_OK);
    assert_int_equal(out.n, 2);
    assert_string_equal(out.v[0].name, "terminal");
    assert_string_equal(out.v[1].name, "fake");
    platforms_cleanup(&out);
    choose_err(&cfg, "'fake' is not slack, matrix or terminal");
    config_cleanup(&cfg);
}

/* a table with nothing that needs no credentials cannot fall back */
static void
platforms__no_fallback_in_table(void **state)
{
    const struct platform_desc table[] = {{"fake", fake_credentials}};
    struct config cfg;
    struct platforms out;
    char *why = NULL;

    (void)state;
    setup_cfg(&cfg);

    assert_int_equal(platforms_choose_from(table, 1, &cfg, &out, &why),
                     BOT_EINVAL);
    assert_null(out.v);
    assert_non_null(strstr(why, "no platform credentials are set"));
    bot_free(why);
    config_cleanup(&cfg);
}

/* the list wins over credentials, in its own order */
static void
platforms__list_overrides_credentials(void **state)
{
    struct config cfg;
    struct platforms out;

    (void)state;
    setup_cfg(&cfg);
    put(&cfg.slack_app_token, APP_TOKEN);
    put(&cfg.slack_bot_token, BOT_TOKEN);

    put(&cfg.platforms, "terminal");
    choose_ok(&cfg, &out, "terminal");
    platforms_cleanup(&out);

    put(&cfg.platforms, "terminal,slack");
    choose_ok(&cfg, &out, "terminal,slack");
    assert_string_equal(out.v[1].reason, "slack: listed in [pmbot] platforms");
    platforms_cleanup(&out);

    /* listed, half-set Matrix does not matter when it is not listed */
    put(&cfg.matrix_user_id, "@pmbot:example.org");
    put(&cfg.platforms, " slack ");
    choose_ok(&cfg, &out, "slack");
    platforms_cleanup(&out);
    config_cleanup(&cfg);
}

static void
platforms__listed_without_credentials(void **state)
{
    struct config cfg;

    (void)state;
    setup_cfg(&cfg);
    put(&cfg.platforms, "slack");
    choose_err(&cfg, "slack is listed in [pmbot] platforms but "
                     "SLACK_APP_TOKEN and SLACK_BOT_TOKEN are not set");

    put(&cfg.slack_app_token, APP_TOKEN);
    choose_err(&cfg, "slack is listed in [pmbot] platforms but "
                     "SLACK_BOT_TOKEN is not set");

    put(&cfg.platforms, "slack,matrix");
    put(&cfg.slack_bot_token, BOT_TOKEN);
    choose_err(&cfg, "matrix is listed in [pmbot] platforms but "
                     "MATRIX_HOMESERVER and MATRIX_ACCESS_TOKEN (or "
                     "MATRIX_PASSWORD) are not set");

    put(&cfg.platforms, "slack,irc");
    choose_err(&cfg, "'irc' is not slack, matrix or terminal");
    put(&cfg.platforms, "slack,slack");
    choose_err(&cfg, "slack is listed twice");
    config_cleanup(&cfg);
}

/* half-set credentials are an error, not a quiet fall back to the terminal */
static void
platforms__half_set_refused(void **state)
{
    struct config cfg;

    (void)state;
    setup_cfg(&cfg);
    put(&cfg.slack_bot_token, BOT_TOKEN);
    choose_err(&cfg, "slack: SLACK_BOT_TOKEN is set but SLACK_APP_TOKEN is "
                     "not; set it too, or name the platforms in [pmbot] "
                     "platforms");
    bot_free(cfg.slack_bot_token);
    cfg.slack_bot_token = NULL;
    put(&cfg.slack_app_token, APP_TOKEN);
    choose_err(&cfg, "SLACK_APP_TOKEN is set but SLACK_BOT_TOKEN is not");

    /* complete Slack does not hide a half-set Matrix */
    put(&cfg.slack_bot_token, BOT_TOKEN);
    put(&cfg.matrix_user_id, "@pmbot:example.org");
    choose_err(&cfg, "matrix: MATRIX_USER_ID is set but MATRIX_HOMESERVER "
                     "and MATRIX_ACCESS_TOKEN (or MATRIX_PASSWORD) are not; "
                     "set them too");
    config_cleanup(&cfg);
}

static void
platforms__alarm_platform(void **state)
{
    struct config cfg;
    struct platforms out;

    (void)state;
    setup_cfg(&cfg);
    put(&cfg.slack_app_token, APP_TOKEN);
    put(&cfg.slack_bot_token, BOT_TOKEN);
    put(&cfg.platforms, "terminal,slack");

    /* default: the first */
    choose_ok(&cfg, &out, "terminal,slack");
    assert_int_equal(out.alarm, 0);
    platforms_cleanup(&out);

    put(&cfg.alarm_platform, "slack");
    choose_ok(&cfg, &out, "terminal,slack");
    assert_int_equal(out.alarm, 1);
    platforms_cleanup(&out);

    put(&cfg.alarm_platform, "matrix");
    choose_err(&cfg, "[pmbot] alarm_platform is matrix, which pmbot does "
                     "not connect (it connects terminal and slack)");

    put(&cfg.alarm_platform, "pager");
    choose_err(&cfg, "[pmbot] alarm_platform: 'pager' is not slack, matrix "
                     "or terminal");

    /* chosen by credentials too */
    bot_free(cfg.platforms);
    cfg.platforms = NULL;
    put(&cfg.alarm_platform, "terminal");
    choose_err(&cfg, "alarm_platform is terminal, which pmbot does not "
                     "connect (it connects slack)");
    put(&cfg.alarm_platform, "slack");
    choose_ok(&cfg, &out, "slack");
    assert_int_equal(out.alarm, 0);
    platforms_cleanup(&out);
    config_cleanup(&cfg);
}

/* platforms_check: names only, never credentials */
static void
platforms_check__names_only(void **state)
{
    struct config cfg;
    char *why = (char *)"sentinel";

    (void)state;
    setup_cfg(&cfg);
    put(&cfg.platforms, "slack,matrix");
    put(&cfg.alarm_platform, "matrix");
    assert_int_equal(platforms_check(&cfg, &why), BOT_OK);
    assert_null(why);

    put(&cfg.platforms, "slack,pager");
    assert_int_equal(platforms_check(&cfg, &why), BOT_EINVAL);
    assert_non_null(strstr(why, "'pager'"));
    bot_free(why);
    config_cleanup(&cfg);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(platforms__slack_tokens_only),
        cmocka_unit_test(platforms__no_credentials_is_the_terminal),
        cmocka_unit_test(platforms__from_the_environment),
        cmocka_unit_test(platforms__matrix_token_or_password),
        cmocka_unit_test(platforms__slack_and_a_second_platform),
        cmocka_unit_test(platforms__no_fallback_in_table),
        cmocka_unit_test(platforms__list_overrides_credentials),
        cmocka_unit_test(platforms__listed_without_credentials),
        cmocka_unit_test(platforms__half_set_refused),
        cmocka_unit_test(platforms__alarm_platform),
        cmocka_unit_test(platforms_check__names_only),
    };

    return cmocka_run_group_tests(tests, clear_env, NULL);
}
