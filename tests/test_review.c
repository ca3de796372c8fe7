/*
 * test_review.c - the blameless review: its words and the verdict rule
 * (pure), and the conversation through the bot on the fake platform, whose
 * threads make the questions a thread under one parent message.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "bot.h"
#include "config.h"
#include "err.h"
#include "fake_platform.h"
#include "mem.h"
#include "report.h"
#include "review.h"
#include "store.h"
#include "strbuf.h"
#include "world.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define T0 1793507880000LL /* 2026-11-01T04:38:00Z */
#define HOUR (3600 * 1000LL)

/* --- the words --- */

static void
words__layer_lists_take_names_and_aliases_in_any_case(void **state)
{
    unsigned m;
    char *bad = NULL;

    (void)state;
    assert_int_equal(review_parse_layers("Unit tests, E2E and code review",
                                         &m, &bad),
                     BOT_OK);
    assert_int_equal(m, 1u << 0 | 1u << 1 | 1u << 4);
    assert_int_equal(review_parse_layers("FORMAL VERIFICATION; bug-bounty",
                                         &m, &bad),
                     BOT_OK);
    assert_int_equal(m, 1u << 3 | 1u << 7);
    assert_int_equal(review_parse_layers("unit testing, end-to-end testing, "
                                         "invariant testing, formal "
                                         "verification, peer review, "
                                         "internal audit, external audit, "
                                         "bug bounty",
                                         &m, &bad),
                     BOT_OK);
    assert_int_equal(m, REVIEW_ALL_LAYERS);
    assert_int_equal(review_parse_layers("none", &m, &bad), BOT_OK);
    assert_int_equal(m, 0);
    assert_int_equal(review_parse_layers("fuzzing, audit", &m, &bad),
                     BOT_OK);
    assert_int_equal(m, 1u << 2 | 1u << 6);
}

static void
words__an_unknown_layer_is_named_and_nothing_taken(void **state)
{
    unsigned m = 7;
    char *bad = NULL;

    (void)state;
    assert_int_equal(review_parse_layers("unit tests, vibes", &m, &bad),
                     BOT_EINVAL);
    assert_string_equal(bad, "vibes");
    assert_int_equal(m, 0);
    bot_free(bad);
    bad = NULL;
    assert_int_equal(review_parse_layers("none, unit tests", &m, &bad),
                     BOT_EINVAL); /* none stands alone */
    assert_null(bad);
    assert_int_equal(review_parse_layers(" , ", &m, &bad), BOT_EINVAL);
    assert_null(bad);
    /* "and" inside a word is not a separator */
    assert_int_equal(review_parse_layers("brand audits", &m, &bad),
                     BOT_EINVAL);
    bot_free(bad);
}

static void
words__found_and_yes_no(void **state)
{
    (void)state;
    assert_int_equal(review_parse_found("Production"), REVIEW_FOUND_PRODUCTION);
    assert_int_equal(review_parse_found("prod."), REVIEW_FOUND_PRODUCTION);
    assert_int_equal(review_parse_found("pre-production"),
                     REVIEW_FOUND_PREPROD);
    assert_int_equal(review_parse_found("staging"), REVIEW_FOUND_PREPROD);
    assert_int_equal(review_parse_found(" earlier "), REVIEW_FOUND_EARLIER);
    assert_int_equal(review_parse_found("in the lab"), REVIEW_FOUND_NONE);
    assert_int_equal(review_parse_yes("Yes"), 1);
    assert_int_equal(review_parse_yes("y!"), 1);
    assert_int_equal(review_parse_yes("no."), 0);
    assert_int_equal(review_parse_yes("maybe"), -1);
    assert_int_equal(review_parse_yes("yes but"), -1);
}

static void
words__steering_words_alone_steer_and_sentences_answer(void **state)
{
    const char *text;
    long n;

    (void)state;
    assert_int_equal(review_parse_steer("next", &n, &text), REVIEW_NEXT);
    assert_int_equal(review_parse_steer("Next.", &n, &text), REVIEW_NEXT);
    assert_int_equal(review_parse_steer("back", &n, &text), REVIEW_BACK);
    assert_int_equal(review_parse_steer("SKIP", &n, &text), REVIEW_SKIP);
    assert_int_equal(review_parse_steer("status", &n, &text), REVIEW_STATUS);
    assert_int_equal(review_parse_steer("stop", &n, &text), REVIEW_STOP);
    assert_int_equal(review_parse_steer("next time, page the DBA first", &n,
                                        &text),
                     REVIEW_ANSWER);
    assert_int_equal(review_parse_steer("stop deploying on Fridays", &n,
                                        &text),
                     REVIEW_ANSWER);
    assert_int_equal(review_parse_steer("backups worked", &n, &text),
                     REVIEW_ANSWER);
    assert_int_equal(review_parse_steer("skip 2", &n, &text), REVIEW_USAGE);
    assert_non_null(strstr(text, "`skip` alone"));
    assert_int_equal(review_parse_steer("stop now", &n, &text), REVIEW_USAGE);
    assert_int_equal(review_parse_steer("edit 2 the canary caught it", &n,
                                        &text),
                     REVIEW_EDIT);
    assert_int_equal(n, 2);
    assert_string_equal(text, "the canary caught it");
    assert_int_equal(review_parse_steer("edit", &n, &text), REVIEW_USAGE);
    assert_int_equal(review_parse_steer("edit 2", &n, &text), REVIEW_USAGE);
    assert_int_equal(review_parse_steer("edit 0 x", &n, &text), REVIEW_USAGE);
    assert_int_equal(review_parse_steer("edit the runbook so it says how",
                                        &n, &text),
                     REVIEW_ANSWER);
}

static void
words__accept_all_some_or_refused(void **state)
{
    unsigned m;

    (void)state;
    assert_int_equal(review_parse_accept("accept", 3, &m), BOT_OK);
    assert_int_equal(m, 7);
    assert_int_equal(review_parse_accept("Accept 1 3", 3, &m), BOT_OK);
    assert_int_equal(m, 5);
    assert_int_equal(review_parse_accept("accept 1, 3", 3, &m), BOT_OK);
    assert_int_equal(m, 5);
    assert_int_equal(review_parse_accept("accept 4", 3, &m), BOT_EINVAL);
    assert_int_equal(review_parse_accept("accept one", 3, &m), BOT_EINVAL);
    assert_int_equal(review_parse_accept("ok", 3, &m), BOT_ENOTFOUND);
}

/* --- the verdict rule --- */

#define UNIT (1u << 0)
#define E2E (1u << 1)
#define FORMAL (1u << 3)
#define PEER (1u << 4)
#define EXTERNAL (1u << 6)

static char *
name_of(struct review_verdict v)
{
    struct strbuf sb;

    strbuf_init(&sb, 0);
    review_verdict_name(&v, &sb);
    return strbuf_steal(&sb);
}

static void
verdict__follows_the_rule_in_all_four_cases(void **state)
{
    struct review_verdict v;
    char *props[REVIEW_MAX_PROPOSALS], *name;
    size_t n;

    (void)state;
    /* an applied layer should have caught it */
    v = review_verdict(UNIT | PEER, PEER);
    assert_int_equal(v.kinds, REVIEW_UNDERPERFORMED);
    name = name_of(v);
    assert_string_equal(name, "Underperformed: peer review");
    bot_free(name);
    assert_int_equal(review_proposals(&v, props, &n), BOT_OK);
    assert_int_equal(n, 1);
    assert_true(!strncmp(props[0], "Strengthen peer review: ", 24));
    review_proposals_free(props, n);

    /* none applied did, one not applied would have */
    v = review_verdict(UNIT | PEER, FORMAL | E2E);
    assert_int_equal(v.kinds, REVIEW_NOT_ENOUGH_LAYERS);
    name = name_of(v);
    assert_string_equal(name, "Not enough layers");
    bot_free(name);
    assert_int_equal(review_proposals(&v, props, &n), BOT_OK);
    assert_int_equal(n, 1);
    assert_string_equal(props[0], "Review how risk and complexity are "
                                  "classified (would have required "
                                  "end-to-end testing and formal "
                                  "verification)");
    review_proposals_free(props, n);

    /* every layer that could was applied and performed */
    v = review_verdict(UNIT | PEER | EXTERNAL, 0);
    assert_int_equal(v.kinds, REVIEW_NOT_DEMANDING);
    name = name_of(v);
    assert_string_equal(name, "Requirements not demanding enough");
    bot_free(name);
    assert_int_equal(review_proposals(&v, props, &n), BOT_OK);
    assert_int_equal(n, 1);
    assert_string_equal(props[0], "Shift the requirements table left for "
                                  "this risk and complexity");
    review_proposals_free(props, n);

    /* both: underperformed first */
    v = review_verdict(UNIT | PEER, UNIT | PEER | FORMAL);
    assert_int_equal(v.kinds,
                     REVIEW_UNDERPERFORMED | REVIEW_NOT_ENOUGH_LAYERS);
    name = name_of(v);
    assert_string_equal(name, "Underperformed: unit testing and peer "
                              "review; Not enough layers");
    bot_free(name);
    assert_int_equal(review_proposals(&v, props, &n), BOT_OK);
    assert_int_equal(n, 3);
    assert_true(!strncmp(props[0], "Strengthen unit testing", 23));
    assert_true(!strncmp(props[1], "Strengthen peer review", 22));
    assert_true(!strncmp(props[2], "Review how risk", 15));
    review_proposals_free(props, n);
}

/* --- the conversation --- */

static int seq;          /* the tests' message ids: u1, u2, ... */
static char thread_of[32]; /* the review's parent message, once found */

static int
setup(void **state)
{
    seq = 0;
    thread_of[0] = '\0';
    *state = world_begin("review", T0, 1);
    return 0;
}

static int
teardown(void **state)
{
    world_end(*state);
    return 0;
}

/* send - a message (in thread, nullable) from user, with its own event id
 * (or the one given, for a redelivery) */
static void
send_ev(struct world *w, const char *user, const char *room,
        const char *thread, const char *text, const char *event_id)
{
    struct chat_event ev = {0};
    char id[32], evid[32];

    snprintf(id, sizeof(id), "u%d", ++seq);
    snprintf(evid, sizeof(evid), "e%d", seq);
    ev.kind = CHAT_EV_MESSAGE;
    ev.platform = w->p;
    ev.room = room;
    ev.user = user;
    ev.msg_id = id;
    ev.thread_id = thread;
    ev.event_id = event_id ? event_id : evid;
    ev.text = text;
    ev.at = bot_now_ms(w->b);
    bot_dispatch(w->b, &ev, NULL, NULL);
}

static void
send(struct world *w, const char *user, const char *room, const char *text)
{
    send_ev(w, user, room, NULL, text, NULL);
}

/* thread - the id of the review's parent message ("m<n>") */
static const char *
thread(struct world *w)
{
    char *id = thread_of;
    struct fake_platform *f = fake_of(w->p);

    if (*id)
        return id; /* found before a restart */
    for (size_t i = 0; i < f->nposts; i++) {
        if (!strncmp(f->posts[i].text, "Blameless review of INC-1 \xc2\xb7",
                     27) ||
            !strncmp(f->posts[i].text, "Security-layer analysis of INC-1",
                     32)) {
            snprintf(id, sizeof(thread_of), "m%zu", i + 1);
            return id;
        }
    }
    fail_msg("no review thread");
    return NULL;
}

static void
reply(struct world *w, const char *user, const char *text)
{
    send_ev(w, user, "C1", thread(w), text, NULL);
}

static const char *
last_post(struct world *w)
{
    struct fake_platform *f = fake_of(w->p);

    assert_true(f->nposts > 0);
    return f->posts[f->nposts - 1].text;
}

static size_t
posts_with(struct world *w, const char *text)
{
    struct fake_platform *f = fake_of(w->p);
    size_t n = 0;

    for (size_t i = 0; i < f->nposts; i++)
        n += strstr(f->posts[i].text, text) != NULL;
    return n;
}

static size_t
answers(struct world *w, const char *q)
{
    struct answer *a;
    size_t n;

    assert_int_equal(store_answer_list(w->b->core.store, 1, q, &a, &n),
                     BOT_OK);
    store_answer_list_free(a, n);
    return n;
}

/* incident - SEV<sev> INC-1 declared by alice in C1 and resolved an hour
 * later */
static void
incident(struct world *w, int sev)
{
    char cmd[80];

    snprintf(cmd, sizeof(cmd), "/incident start sev%d Vault drained", sev);
    send(w, "alice", "general", cmd);
    send(w, "bob", "C1", "withdrawals spiking");
    w->b->core.fixed_now = T0 + HOUR;
    send(w, "alice", "C1", "/incident resolve");
}

static char *
document(struct world *w)
{
    struct strbuf sb;

    strbuf_init(&sb, 0);
    assert_int_equal(report_render(w->b->core.store, 1, REPORT_MD,
                                   w->b->core.fixed_now, &sb),
                     BOT_OK);
    return strbuf_steal(&sb);
}

static void
review__questions_are_a_thread_and_only_its_replies_answer(void **state)
{
    struct world *w = *state;
    struct fake_platform *f = fake_of(w->p);
    int started;

    incident(w, 2);
    send(w, "alice", "C1", "/pm start");
    assert_string_equal(f->posts[f->nposts - 1].thread, thread(w));
    assert_non_null(strstr(last_post(w), "Question 1 of 5"));
    assert_non_null(strstr(last_post(w), "Silences longer than review_gap "
                                         "while it was open: 04:38"));
    assert_int_equal(store_review_started(w->b->core.store, 1, &started),
                     BOT_OK);
    assert_true(started); /* the review clock stops reminding */
    reply(w, "bob", "next");
    reply(w, "bob", "The withdraw path read the balance before it was "
                    "updated");
    assert_non_null(strstr(last_post(w), "Question 3 of 5"));
    /* chatter in the channel is not an answer */
    send(w, "carol", "C1", "lunch?");
    reply(w, "bob", "the pause guardian worked");
    reply(w, "carol", "outflow alerts fired");
    /* a redelivered answer is recorded once */
    send_ev(w, "carol", "C1", thread(w), "outflow alerts fired", "e-dup");
    send_ev(w, "carol", "C1", thread(w), "outflow alerts fired", "e-dup");
    assert_int_equal(answers(w, "worked_well"), 3);
    assert_true(f->nreacts >= 4); /* ✅ on each */
}

static void
review__a_parent_that_failed_leaves_the_questions_in_the_channel(void **state)
{
    struct world *w = *state;
    struct fake_platform *f = fake_of(w->p);

    incident(w, 2);
    f->fail_posts = 1; /* the parent: refused for good */
    f->fail_rc = BOT_EINVAL;
    send(w, "alice", "C1", "/pm start");
    assert_non_null(strstr(last_post(w), "Question 1 of 5"));
    assert_null(f->posts[f->nposts - 1].thread);
    send(w, "bob", "C1", "next");
    assert_non_null(strstr(last_post(w), "Question 2 of 5"));
    assert_null(f->posts[f->nposts - 1].thread);
}

static void
review__resumes_after_a_restart_and_after_stop(void **state)
{
    struct world *w = *state;
    char *doc;

    incident(w, 2);
    send(w, "alice", "C1", "/pm start");
    reply(w, "bob", "next");
    reply(w, "bob", "A missing check on the withdraw path");
    reply(w, "bob", "the pause worked");
    /* a restart: the state is in the database */
    bot_destroy(w->b);
    world_open(w, 1);
    reply(w, "carol", "alerts fired");
    assert_int_equal(answers(w, "worked_well"), 2);
    reply(w, "carol", "status");
    assert_non_null(strstr(last_post(w), "question 3 of 5 (Worked well)"));
    reply(w, "carol", "stop");
    assert_non_null(strstr(last_post(w), "paused at Worked well"));
    reply(w, "carol", "ignored while paused");
    assert_int_equal(answers(w, "worked_well"), 2);
    send(w, "alice", "C1", "/pm start");
    assert_non_null(strstr(last_post(w), "Question 3 of 5 \xc2\xb7 Worked "
                                         "well"));
    assert_non_null(strstr(last_post(w), "2. alerts fired"));
    /* a second /pm start says where it stands */
    send(w, "alice", "C1", "/pm start");
    assert_non_null(strstr(last_post(w), "is running, at Worked well"));
    reply(w, "carol", "edit 2 outflow alerts fired in a minute");
    reply(w, "carol", "back");
    assert_non_null(strstr(last_post(w), "Root cause"));
    reply(w, "carol", "next");
    reply(w, "carol", "next");
    reply(w, "carol", "skip");
    assert_non_null(strstr(last_post(w), "Follow-up actions"));
    doc = document(w);
    assert_non_null(strstr(doc, "- outflow alerts fired in a minute\n"));
    assert_non_null(strstr(doc, "## 4. Could Be Better\n\n_Skipped at the "
                                "review._"));
    assert_non_null(strstr(doc, "still missing: Could Be Better, "
                                "Follow-Up Actions."));
    bot_free(doc);
    reply(w, "carol", "next");
    /* SEV2: no layers asked, and the document says why */
    assert_non_null(strstr(last_post(w), "is complete. The security-layer "
                                         "analysis is for SEV1 or worse"));
    doc = document(w);
    assert_non_null(strstr(doc, "Not assessed: the analysis applies to SEV1 "
                                "or worse, and this was SEV2"));
    assert_null(strstr(doc, "still missing"));
    bot_free(doc);
}

static void
review__refusals_say_why_and_change_nothing(void **state)
{
    struct world *w = *state;
    struct action *acts;
    size_t n;

    send(w, "alice", "general", "/incident start sev1 Vault drained");
    send(w, "alice", "C1", "/pm start");
    assert_non_null(strstr(last_post(w), "resolve it first"));
    send(w, "alice", "general", "/pm start");
    assert_non_null(strstr(last_post(w), "incident channel"));
    w->b->core.fixed_now = T0 + HOUR;
    send(w, "alice", "C1", "/incident resolve");
    send(w, "alice", "C1", "/pm start");
    reply(w, "bob", "next");
    reply(w, "bob", "unknown");
    /* `unknown` is an action for the commander, in 7 days */
    assert_non_null(strstr(last_post(w), "Question 3 of 6"));
    assert_int_equal(posts_with(w, "Identify and document the root cause "
                                   "\xe2\x80\x94 @alice, by 2026-11-08."),
                     1);
    reply(w, "bob", "next");
    reply(w, "bob", "next");
    reply(w, "bob", "Add an invariant test 2026-11-20");
    assert_non_null(strstr(last_post(w), "Not added: an action needs an "
                                         "assignee"));
    reply(w, "bob", "Add an invariant test @bob 2026-10-20");
    assert_non_null(strstr(last_post(w), "Not added: the target date is "
                                         "already past"));
    reply(w, "bob", "Add an invariant test @bob 2026-02-30");
    assert_non_null(strstr(last_post(w), "not a real calendar date"));
    reply(w, "bob", "Add an invariant test @bob 2026-11-20");
    assert_non_null(strstr(last_post(w), "ACT-2 added: Add an invariant "
                                         "test"));
    assert_int_equal(store_action_list(w->b->core.store, 1, 0, &acts, &n),
                     BOT_OK);
    assert_int_equal(n, 2);
    store_action_list_free(acts, n);
    reply(w, "bob", "next");
    reply(w, "bob", "on mars");
    assert_non_null(strstr(last_post(w), "`production`, `pre-production`"));
    reply(w, "bob", "production");
    reply(w, "bob", "unit tests, vibes");
    assert_non_null(strstr(last_post(w), "\xe2\x80\x9cvibes\xe2\x80\x9d is "
                                         "not a layer. The eight are: unit "
                                         "testing, end-to-end testing"));
    reply(w, "bob", "edit 1 x");
    assert_non_null(strstr(last_post(w), "answer again"));
    reply(w, "bob", "skip 3");
    assert_non_null(strstr(last_post(w), "`skip` alone"));
}

/* layers - answer the layer questions: applied list, then eight yes/no */
static void
layers(struct world *w, const char *found, const char *applied,
       const char *yes8)
{
    reply(w, "bob", found);
    if (!applied)
        return;
    reply(w, "bob", applied);
    for (int i = 0; i < 8; i++)
        reply(w, "bob", yes8[i] == 'y' ? "yes" : "no");
}

static void
to_layers(struct world *w)
{
    incident(w, 1);
    send(w, "alice", "C1", "/pm start");
    reply(w, "bob", "next");
    reply(w, "bob", "A missing reentrancy guard");
    reply(w, "bob", "next");
    reply(w, "bob", "next");
    reply(w, "bob", "next");
}

static void
review__underperformed_and_accepting_some_proposals(void **state)
{
    struct world *w = *state;
    struct action *acts;
    size_t n;
    char *doc;

    to_layers(w);
    /* applied: unit, peer, external; should have: peer; would: formal */
    layers(w, "production", "unit tests, code review, external audit",
           "nnnyynnn");
    /* formal verification (not applied) would: the "both" case */
    assert_non_null(strstr(last_post(w), "Verdict: Underperformed: peer "
                                         "review; Not enough layers"));
    reply(w, "bob", "accept 9");
    assert_non_null(strstr(last_post(w), "numbers from 1 to 2"));
    reply(w, "bob", "accept 1");
    assert_non_null(strstr(last_post(w), "is complete"));
    assert_int_equal(store_action_list(w->b->core.store, 1, 0, &acts, &n),
                     BOT_OK);
    assert_int_equal(n, 1);
    assert_string_equal(acts[0].assignee, "alice"); /* the commander */
    assert_string_equal(acts[0].due_date, "2026-11-15");
    assert_true(!strncmp(acts[0].text, "Strengthen peer review", 22));
    store_action_list_free(acts, n);
    doc = document(w);
    assert_non_null(strstr(doc, "**Verdict: Underperformed: peer review**"));
    assert_non_null(strstr(doc, "**And: Not enough layers**"));
    assert_true(strstr(doc, "Underperformed") < strstr(doc, "And: Not"));
    assert_non_null(strstr(doc, "| peer review | yes | yes |"));
    assert_non_null(strstr(doc, "| formal verification | no | yes |"));
    assert_non_null(strstr(doc, "(not taken)"));
    assert_non_null(strstr(doc, "(accepted: a follow-up action)"));
    bot_free(doc);
}

static void
review__not_enough_layers_not_demanding_and_found_earlier(void **state)
{
    struct world *w = *state;
    char *doc;

    to_layers(w);
    layers(w, "pre-production", "unit tests, peer review", "nynnnnnn");
    assert_non_null(strstr(last_post(w), "Verdict: Not enough layers"));
    assert_non_null(strstr(last_post(w), "would have required end-to-end "
                                         "testing"));
    reply(w, "bob", "back");
    assert_non_null(strstr(last_post(w), "Layer 8 of 8"));
    reply(w, "bob", "next");
    reply(w, "bob", "next"); /* none taken */
    doc = document(w);
    assert_non_null(strstr(doc, "**Verdict: Not enough layers**"));
    assert_null(strstr(doc, "And: Not enough"));
    bot_free(doc);

    /* the same incident's layers again cannot start over */
    send(w, "alice", "C1", "/pm layers");
    assert_non_null(strstr(last_post(w), "is complete"));
}

static void
review__back_through_the_layers_asks_each_again(void **state)
{
    struct world *w = *state;

    to_layers(w);
    layers(w, "production", "unit tests", "nnnnnnnn");
    assert_non_null(strstr(last_post(w), "Verdict:"));
    for (int i = 0; i < 9; i++)
        reply(w, "bob", "back");
    assert_non_null(strstr(last_post(w), "Which layers were applied?"));
    reply(w, "bob", "back");
    assert_non_null(strstr(last_post(w), "Where was the bug found?"));
    /* a secret pasted as a layer name is not repeated */
    reply(w, "bob", "next");
    reply(w, "bob", "unit tests, AKIAIOSFODNN7EXAMPLE");
    assert_non_null(strstr(last_post(w), "\xe2\x80\x9c[redacted]\xe2\x80\x9d "
                                         "is not a layer"));
    assert_null(strstr(last_post(w), "AKIA"));
}

static void
review__every_layer_performed_is_not_demanding(void **state)
{
    struct world *w = *state;
    char *doc;

    to_layers(w);
    layers(w, "production", "unit tests, peer review, external audit",
           "nnnnnnnn");
    assert_non_null(strstr(last_post(w), "Requirements not demanding "
                                         "enough"));
    reply(w, "bob", "accept");
    doc = document(w);
    assert_non_null(strstr(doc, "**Verdict: Requirements not demanding "
                                "enough**"));
    assert_non_null(strstr(doc, "Shift the requirements table left"));
    bot_free(doc);
}

static void
review__found_earlier_ends_the_analysis(void **state)
{
    struct world *w = *state;
    char *doc;

    to_layers(w);
    layers(w, "earlier", NULL, NULL);
    assert_non_null(strstr(last_post(w), "the layers did their job"));
    doc = document(w);
    assert_non_null(strstr(doc, "Found before the last pre-production "
                                "layer: the layers did their job."));
    assert_null(strstr(doc, "Verdict"));
    bot_free(doc);
}

static void
review__layers_alone_on_a_sev2(void **state)
{
    struct world *w = *state;
    char *doc;

    incident(w, 2);
    send(w, "alice", "C1", "/pm layers");
    assert_non_null(strstr(last_post(w), "Where was the bug found?"));
    reply(w, "bob", "back");
    assert_non_null(strstr(last_post(w), "This is the first question."));
    layers(w, "production", "none", "ynnnnnnn");
    assert_non_null(strstr(last_post(w), "Verdict: Not enough layers"));
    reply(w, "bob", "accept");
    assert_non_null(strstr(last_post(w), "The security-layer analysis of "
                                         "INC-1 is complete"));
    doc = document(w);
    assert_non_null(strstr(doc, "| unit testing | no | yes |"));
    /* the questions it did not ask are still missing */
    assert_non_null(strstr(doc, "still missing: Root Cause, Worked Well"));
    bot_free(doc);
}

static void
review__layers_first_then_the_rest_and_no_skipped_layer(void **state)
{
    struct world *w = *state;
    char *doc;

    incident(w, 2);
    send(w, "alice", "C1", "/pm layers");
    reply(w, "bob", "production");
    reply(w, "bob", "back");
    reply(w, "bob", "on mars"); /* refused: the answer given stays */
    reply(w, "bob", "next");
    assert_non_null(strstr(last_post(w), "Which layers were applied?"));
    reply(w, "bob", "unit tests");
    reply(w, "bob", "skip");
    assert_non_null(strstr(last_post(w), "needs every layer's"));
    for (int i = 0; i < 8; i++)
        reply(w, "bob", i == 0 ? "yes" : "no");
    reply(w, "bob", "accept");
    /* the questionnaire still runs, without asking the layers again */
    send(w, "alice", "C1", "/pm start");
    assert_non_null(strstr(last_post(w), "Question 1 of 5"));
    reply(w, "bob", "next");
    reply(w, "bob", "an expired certificate");
    reply(w, "bob", "next");
    reply(w, "bob", "next");
    reply(w, "bob", "next");
    assert_non_null(strstr(last_post(w), "The blameless review of INC-1 is "
                                         "complete"));
    doc = document(w);
    assert_null(strstr(doc, "still missing"));
    assert_non_null(strstr(doc, "**Verdict: Underperformed: unit testing**"));
    bot_free(doc);
}

/* uploads_done_in - documents sent to room (outbox rows done) */
static int
uploads_done_in(struct world *w, const char *room)
{
    sqlite3 *db;
    sqlite3_stmt *st;
    int n = -1;

    assert_int_equal(sqlite3_open(w->path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, "SELECT count(*) FROM outbox "
                                            "WHERE kind = 1 AND state = 1 "
                                            "AND room = ?1",
                                        -1, &st, NULL),
                     SQLITE_OK);
    sqlite3_bind_text(st, 1, room, -1, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW)
        n = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return n;
}

static void
review__report_posts_the_summary_and_publishes_twice(void **state)
{
    struct world *w = *state;
    struct fake_platform *f = fake_of(w->p);

    w->cfg.publish_channel = bot_strdup("CPUB");
    incident(w, 2);
    send(w, "alice", "C1", "/pm start");
    reply(w, "bob", "next");
    reply(w, "bob", "A cache with no jitter on expiry");
    reply(w, "bob", "next");
    reply(w, "bob", "next");
    reply(w, "bob", "Add jitter @bob 2026-11-20");
    reply(w, "bob", "next");
    send(w, "alice", "C1", "/pm report");
    assert_int_equal(f->nuploads, 2);
    assert_int_equal(uploads_done_in(w, "CPUB"), 1);
    assert_int_equal(uploads_done_in(w, "C1"), 1);
    assert_non_null(strstr(f->last_upload, "## 2. Root Cause\n\nA cache with "
                                           "no jitter on expiry"));
    assert_true(posts_with(w, "Root cause: A cache with no jitter on "
                              "expiry") >= 1);
    assert_true(posts_with(w, "Security layers: not required for SEV2") >=
                1);
    assert_true(posts_with(w, "ACT-1 Add jitter \xe2\x80\x94 @bob, by "
                              "2026-11-20") >= 1);
}

static size_t
nudges_to(struct world *w, const char *user)
{
    return fake_platform_private(w->p, user, "blameless review describes");
}

static void
review__blaming_answers_are_recorded_and_answered_privately(void **state)
{
    struct world *w = *state;
    struct incident inc;

    incident(w, 2);
    send(w, "alice", "C1", "/pm start");
    reply(w, "bob", "next");
    reply(w, "bob", "human error: carol was careless with the key");
    assert_int_equal(nudges_to(w, "bob"), 1);
    assert_int_equal(store_incident_get(w->b->core.store, 1, &inc), BOT_OK);
    assert_string_equal(inc.root_cause, "human error: carol was careless "
                                        "with the key");
    store_incident_clear(&inc);
    reply(w, "carol", "the deploy faulted but the rollback worked");
    reply(w, "carol", "fault injection tests caught the retry bug");
    assert_int_equal(nudges_to(w, "carol"), 0);
    reply(w, "dave", "it was dave's fault");
    assert_int_equal(nudges_to(w, "dave"), 1);
    assert_int_equal(answers(w, "worked_well"), 3);
}

static void
review__hostile_answers_are_stored_verbatim_and_inert(void **state)
{
    struct world *w = *state;
    char big[5000], *doc;

    incident(w, 2);
    send(w, "alice", "C1", "/pm start");
    reply(w, "bob", "next");
    reply(w, "bob", "root");
    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    reply(w, "bob", big);
    reply(w, "bob", "<!channel> @room | pipes | <script>x</script>");
    reply(w, "bob", "bad \xff\xfe bytes");
    assert_int_equal(answers(w, "worked_well"), 3);
    /* asked again, the question repeats the long answer cut short */
    reply(w, "bob", "back");
    reply(w, "bob", "next");
    assert_non_null(strstr(last_post(w), "1. xxx"));
    assert_non_null(strstr(last_post(w), "x\xe2\x80\xa6\n2. "));
    assert_true(strlen(last_post(w)) < 1000);
    doc = document(w);
    assert_non_null(strstr(doc, "\\<\\!channel\\> @room \\| pipes \\|"));
    assert_null(strstr(doc, "<script>"));
    bot_free(doc);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(words__layer_lists_take_names_and_aliases_in_any_case),
        cmocka_unit_test(words__an_unknown_layer_is_named_and_nothing_taken),
        cmocka_unit_test(words__found_and_yes_no),
        cmocka_unit_test(
            words__steering_words_alone_steer_and_sentences_answer),
        cmocka_unit_test(words__accept_all_some_or_refused),
        cmocka_unit_test(verdict__follows_the_rule_in_all_four_cases),
        T(review__questions_are_a_thread_and_only_its_replies_answer),
        T(review__a_parent_that_failed_leaves_the_questions_in_the_channel),
        T(review__resumes_after_a_restart_and_after_stop),
        T(review__refusals_say_why_and_change_nothing),
        T(review__underperformed_and_accepting_some_proposals),
        T(review__not_enough_layers_not_demanding_and_found_earlier),
        T(review__back_through_the_layers_asks_each_again),
        T(review__every_layer_performed_is_not_demanding),
        T(review__found_earlier_ends_the_analysis),
        T(review__layers_alone_on_a_sev2),
        T(review__layers_first_then_the_rest_and_no_skipped_layer),
        T(review__blaming_answers_are_recorded_and_answered_privately),
        T(review__hostile_answers_are_stored_verbatim_and_inert),
        T(review__report_posts_the_summary_and_publishes_twice),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
