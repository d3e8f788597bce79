/*
 * reason.c - the table of reasons; see reason.h.
 */
#include <stddef.h>

#include "proxyd/reason.h"

static const struct {
	const char *word;
	enum event_decider decider;
} reasons[REASON_COUNT] = {
    [REASON_DEFAULT] = {"default", DECIDER_DEFAULT},
    [REASON_RULE] = {"rule", DECIDER_RULE},
    [REASON_PEEK_INVALID] = {"peek-invalid", DECIDER_PEEK},
    [REASON_PEEK_TIMEOUT] = {"peek-timeout", DECIDER_PEEK},
    [REASON_LOOP] = {"loop", DECIDER_LOOP},
    [REASON_NO_DST] = {"no-original-dst", DECIDER_NO_DST},
    [REASON_OVERLOAD] = {"overload", DECIDER_OVERLOAD},
    [REASON_PROMPT] = {"prompt", DECIDER_PROMPT},
    [REASON_PROMPT_TIMEOUT] = {"prompt-timeout", DECIDER_TIMEOUT},
    [REASON_NO_AGENT] = {"no-agent", DECIDER_NO_AGENT},
    [REASON_PROMPT_FULL] = {"prompt-full", DECIDER_PROMPT_FULL},
    [REASON_NAME_MISMATCH] = {"name-mismatch", DECIDER_MISMATCH},
    [REASON_NO_ROUTE] = {"no-route", DECIDER_NO_ROUTE},
    [REASON_FAKEIP_UNMAPPED] = {"fakeip-unmapped", DECIDER_FAKEIP},
    [REASON_UDP_NOT_PROXIED] = {"udp-not-proxied", DECIDER_UDP},
    [REASON_ENCRYPTED_DNS] = {"encrypted-dns", DECIDER_ENCDNS},
    [REASON_OVERLOAD_USER] = {"overload-user", DECIDER_OVERLOAD},
    [REASON_SHARED_SOCKET] = {"shared-socket", DECIDER_SHARED},
    [REASON_ABANDONED] = {"abandoned", DECIDER_ABANDONED},
    [REASON_SHUTDOWN] = {"shutdown", DECIDER_SHUTDOWN},
};

const char *
reason_word(enum reason r)
{
	if ((unsigned)r >= REASON_COUNT || reasons[r].word == NULL)
		return "?";
	return reasons[r].word;
}

enum event_decider
reason_decider(enum reason r)
{
	if ((unsigned)r >= REASON_COUNT || reasons[r].word == NULL)
		return DECIDER_DEFAULT;
	return reasons[r].decider;
}
