/*
 * blame.h - blameless language: does a text name a person as a cause, or
 * use blaming words? A tagged message (and, with the review, an answer)
 * that does is recorded as written, and its author is told privately to
 * describe conditions and systems instead.
 *
 * The rule: a table of POSIX extended regular expressions, matched
 * case-insensitively (blame.c: builtin): blaming words as whole words
 * (blame, blamed, careless, negligent, negligence, sloppy, incompetent,
 * "human error", "should have known", "dropped the ball"), fault only as
 * someone's ("bob's fault", "his fault", "whose fault", "at fault", "the
 * fault of"), and a person as the subject of a cause ("@bob broke", "<@U1>
 * caused", "caused by @bob", "because of @bob"). So "the deploy faulted",
 * "fault injection", "a segmentation fault" and "the blameless review" are
 * not blame. Users add their own with `[review] blame_patterns`: one
 * extended regular expression, alternatives joined with |.
 *
 * Owns: the compiled tables (one per process). Errors: BOT_EINVAL for a
 * user pattern that does not compile, BOT_ENOMEM.
 */
#ifndef PMBOT_BLAME_H
#define PMBOT_BLAME_H

/* blame_configure - the user's pattern (nullable: none) from now on;
 * BOT_EINVAL (the previous one kept) when it does not compile. */
int blame_configure(const char *extra);

/* blame_found - 1 when text blames (see above), else 0 (also for NULL
 * and when the table cannot be built). */
int blame_found(const char *text);

/* blame_free - the compiled tables (at exit, for leak checkers). */
void blame_free(void);

#endif
