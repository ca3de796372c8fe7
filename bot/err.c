/*
 * err.c - texts for enum bot_err.
 */
#include "err.h"

const char *
bot_strerror(int rc)
{
    switch (rc) {
    case BOT_OK:
        return "success";
    case BOT_ENOMEM:
        return "out of memory";
    case BOT_EINVAL:
        return "invalid argument";
    case BOT_EIO:
        return "input/output error";
    case BOT_EPROTO:
        return "protocol error";
    case BOT_ENOTFOUND:
        return "not found";
    case BOT_ETIMEDOUT:
        return "timed out";
    case BOT_EDB:
        return "database error";
    case BOT_EEXIST:
        return "already exists";
    case BOT_ECANCELED:
        return "canceled";
    case BOT_ENEWER:
        return "written by a newer pmbot";
    case BOT_EUNSUPPORTED:
        return "not supported";
    }
    return "unknown error";
}
