/*
 * err.h - the one error enum of pmbot.
 *
 * Owns: the meaning of every error code a pmbot function returns.
 * Invariant: BOT_OK is 0 and every failure is negative, so `if (rc)` tests
 * for failure and `rc < 0` never disagrees with it.
 */
#ifndef PMBOT_ERR_H
#define PMBOT_ERR_H

enum bot_err {
    BOT_OK = 0,
    BOT_ENOMEM = -1,       /* allocation failed */
    BOT_EINVAL = -2,       /* bad argument or bad input from a user */
    BOT_EIO = -3,          /* file or socket error */
    BOT_EPROTO = -4,       /* a peer broke its protocol */
    BOT_ENOTFOUND = -5,    /* no such incident, action, message, room */
    BOT_ETIMEDOUT = -6,    /* a deadline passed */
    BOT_EDB = -7,          /* the database refused or failed */
    BOT_EEXIST = -8,       /* name already taken */
    BOT_ECANCELED = -9,    /* shut down before it completed */
    BOT_ENEWER = -10,      /* database written by a newer pmbot */
    BOT_EUNSUPPORTED = -11 /* the platform cannot do this */
};

/*
 * bot_strerror - a short English text for an error code.
 * Returns a static string; never NULL, even for unknown codes.
 */
const char *bot_strerror(int rc);

#endif
