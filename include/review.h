/*
 * review.h - the blameless review as a conversation (SPEC.md "The
 * blameless review, as a conversation") and its security-layer verdict.
 *
 * The review asks one question at a time in the incident's channel: on a
 * platform with threads, in a thread under one parent message ("Blameless
 * review of INC-n"), whose replies are the answers; elsewhere in the
 * channel, where every message that is not a command is an answer. Its
 * state is a row of table `reviews` (storage), changed in the unit of work
 * of the message that answered, so a restart resumes at the same question
 * with the answers so far, and a redelivered answer (its event id already
 * claimed) is recorded once.
 *
 * Steps, in order (enum review_step): the timeline (its silences longer
 * than [review] review_gap named), the root cause (one answer; `unknown`
 * makes the action "Identify and document the root cause" for the
 * commander, due in 7 days), worked well and could be better (one item per
 * reply), follow-up actions (one "<text> @user YYYY-MM-DD" per reply,
 * validated as /pm action is), then the security layers when the incident
 * is SEV1 or worse or the review was started with /pm layers: where the bug
 * was found, which layers were applied, one yes/no question per layer, the
 * verdict and its proposed actions (`accept`, `accept <n...>`, `next`).
 *
 * A reply that is a steering word steers instead of answering; a steering
 * word needs to be the whole reply (so "next time, page the DBA" is an
 * answer), and one followed by a single word ("skip 2", "stop now") gets
 * its usage.
 *
 * Owns: the parsers and the verdict rule below (pure, no state), and the
 * conversation (review.c). Does not own: SQL (store.h), delivery
 * (outbox.h), transactions (unit.h).
 * Errors: BOT_EINVAL (with a reason where it says so), BOT_ENOTFOUND,
 * BOT_EDB, BOT_ENOMEM.
 */
#ifndef PMBOT_REVIEW_H
#define PMBOT_REVIEW_H

#include "chat.h"

#include <stddef.h>
#include <stdint.h>

struct asker;
struct incidents;
struct incident;
struct review_row;
struct strbuf;

/* --- the eight layers --- */

#define REVIEW_NLAYERS 8
#define REVIEW_ALL_LAYERS ((1u << REVIEW_NLAYERS) - 1)

/* review_layer_name - "unit testing" ... "bug bounty" (i in 0..7), in the
 * order SPEC.md lists them; NULL out of range. */
const char *review_layer_name(int i);

/*
 * review_parse_layers - a comma-separated list of layer names ("and" and
 * ';' separate too) into *mask (bit i: layer i). Names are matched
 * case-insensitively, ignoring blanks and hyphens, with common aliases
 * ("unit tests", "e2e", "fuzzing", "code review", "audit", "bounty", ...);
 * "none" alone is 0 (with other names, BOT_EINVAL and *bad NULL). BOT_EINVAL with *bad (nullable) a new copy of the
 * first unknown name, at most 64 bytes (free with bot_free), or NULL for an
 * empty list; *mask is 0 on error.
 */
int review_parse_layers(const char *text, unsigned *mask, char **bad);

/* Where the bug was found. */
enum review_found {
    REVIEW_FOUND_NONE = -1, /* not answered */
    REVIEW_FOUND_PRODUCTION = 0,
    REVIEW_FOUND_PREPROD,
    REVIEW_FOUND_EARLIER
};

/* review_parse_found - "production" (prod), "pre-production" (preprod,
 * staging), "earlier"; REVIEW_FOUND_NONE for anything else. */
int review_parse_found(const char *text);

/* review_parse_yes - 1 for yes/y, 0 for no/n (any case, a trailing '.' or
 * '!'), -1 otherwise. */
int review_parse_yes(const char *text);

/* --- the verdict rule (SPEC.md) --- */

enum review_verdict_kind {
    REVIEW_VERDICT_NONE = 0,      /* found earlier, or not assessed */
    REVIEW_UNDERPERFORMED = 1,    /* an applied layer should have caught it */
    REVIEW_NOT_ENOUGH_LAYERS = 2, /* a layer not applied would have */
    REVIEW_NOT_DEMANDING = 4      /* every layer that could, performed */
};

struct review_verdict {
    int kinds;          /* REVIEW_UNDERPERFORMED | REVIEW_NOT_ENOUGH_LAYERS,
                           or one of the others alone */
    unsigned under;     /* applied layers that should have caught it */
    unsigned missing;   /* layers not applied that would have caught it */
};

/*
 * review_verdict - the rule over applied (mask of layers applied) and
 * caught (mask of layers answered yes: "should it reasonably have caught
 * this bug" for an applied one, "would it" for one not applied). Some
 * applied layer caught → underperformed (and, when a layer not applied
 * would have caught it too, not enough layers as well: the "both" case);
 * else a layer not applied → not enough layers; else → not demanding.
 */
struct review_verdict review_verdict(unsigned applied, unsigned caught);

/* review_layer_list - append mask's layer names, "a, b and c", to out. */
void review_layer_list(unsigned mask, struct strbuf *out);

/* review_verdict_name - append "Underperformed: peer review, bug bounty",
 * "Not enough layers" or "Requirements not demanding enough" (both kinds:
 * the first, then "; " and the second) to out. */
void review_verdict_name(const struct review_verdict *v, struct strbuf *out);

/* review_row_verdict - 1 and *v when the review of r has a verdict (the
 * bug found in production or pre-production, the applied layers and all
 * eight yes/no questions answered);
 * 0 otherwise. */
int review_row_verdict(const struct review_row *r, struct review_verdict *v);

/* review_proposals - the follow-up actions a verdict proposes, in order:
 * "Strengthen <layer>: ..." per underperforming layer, then "Review how
 * risk and complexity are classified (would have required <layers>)", or
 * "Shift the requirements table left for this risk and complexity". Each
 * appended to out as a new string (*n of them, at most REVIEW_NLAYERS + 1);
 * free with review_proposals_free. */
#define REVIEW_MAX_PROPOSALS (REVIEW_NLAYERS + 1)
int review_proposals(const struct review_verdict *v, char **out, size_t *n);
void review_proposals_free(char **p, size_t n);

/* review_parse_accept - `accept` (all of n) or `accept 1 3` into *mask
 * (bit i: proposal i+1). BOT_EINVAL when a number is not in 1..n or a word
 * is not a number; BOT_ENOTFOUND when text is not an accept at all. */
int review_parse_accept(const char *text, size_t n, unsigned *mask);

/* --- steering --- */

enum review_steer {
    REVIEW_ANSWER = 0, /* not a steering word: an answer */
    REVIEW_NEXT,
    REVIEW_BACK,
    REVIEW_SKIP,
    REVIEW_STATUS,
    REVIEW_STOP,
    REVIEW_EDIT,
    REVIEW_USAGE /* a steering word with the wrong arguments */
};

/*
 * review_parse_steer - what a reply is. For REVIEW_EDIT, *n is the answer's
 * number (1-based) and *text points into reply at the new text (non-empty);
 * for REVIEW_USAGE, *text is a static usage line. "edit" followed by a word
 * that is not a number is an answer ("edit the runbook ...").
 */
int review_parse_steer(const char *reply, long *n, const char **text);

/* --- the conversation (review.c), in tx --- */

/* Review steps; the security layers are REVIEW_FOUND_Q.. REVIEW_VERDICT_Q,
 * one step per layer question. */
enum review_step {
    REVIEW_TIMELINE = 0,
    REVIEW_ROOT,
    REVIEW_WELL,
    REVIEW_BETTER,
    REVIEW_ACTIONS,
    REVIEW_FOUND_Q,
    REVIEW_APPLIED_Q,
    REVIEW_LAYER_Q, /* + i for layer i */
    REVIEW_VERDICT_Q = REVIEW_LAYER_Q + REVIEW_NLAYERS,
    REVIEW_END
};

/* The review's state (table reviews). */
enum review_state { REVIEW_RUNNING = 0, REVIEW_STOPPED, REVIEW_DONE };

/*
 * review_start - /pm start (layers 0) or /pm layers (1) in inc's channel,
 * asked by a: starts the review, resumes a stopped one where it stopped,
 * or says where a running or finished one stands (a second /pm start never
 * starts over). BOT_EINVAL with *why a static reason when the incident is
 * not resolved yet; the reply goes through incident_reply.
 */
int review_start(struct incidents *in, const struct asker *a,
                 const struct incident *inc, int layers, const char **why);

/*
 * review_hear - in tx: a message of incident_id's channel (ev, clean text,
 * not a command). When a review runs there and the message is one of its
 * answers (a reply in its thread; on a platform without threads, any
 * message), record it or steer; otherwise nothing. *heard (nullable) 1
 * when it was the review's.
 */
int review_hear(struct incidents *in, struct chat_platform *p,
                const struct chat_event *ev, int64_t incident_id,
                int *heard);

/* review_summary - for /pm report: incident_summary's lines, then the
 * commander, root cause, counts of timeline entries, worked well and could
 * be better, the verdict and the open actions with owners and dates. */
int review_summary(struct incidents *in, const struct incident *inc,
                   struct chat_msg *m);

#endif
