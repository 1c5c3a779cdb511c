/* The verdict's vocabulary: the cause codes of DESIGN.md and the confidence of a cause, with their names. */
#ifndef WHY550_CAUSE_H
#define WHY550_CAUSE_H

#include <stdbool.h>

/*
 * The cause codes: those of DESIGN.md in its order, then the advice codes
 * and the temporary deferral, then those that only a receiver's own answer
 * shows (its server down, port 25 blocked on the way out, a block at
 * connection: the SMTP probe's). CAUSE_NONE is no
 * cause (a zeroed struct holds none); CAUSE_END is one past the last code
 * and no cause either, so
 *     for (c = CAUSE_NONE + 1; c < CAUSE_END; c++)
 * visits every code and an array of CAUSE_END elements has a slot for each.
 */
enum cause_code {
	CAUSE_NONE = 0,
	CAUSE_IP_BLOCKLISTED,
	CAUSE_DOMAIN_BLOCKLISTED,
	CAUSE_RDNS_MISSING,
	CAUSE_HELO_INVALID,
	CAUSE_SPF_FAIL,
	CAUSE_DKIM_FAIL,
	CAUSE_DMARC_FAIL,
	CAUSE_UNAUTHENTICATED,
	CAUSE_SENDER_DOMAIN_INVALID,
	CAUSE_SENDER_VERIFY_FAILED,
	CAUSE_RECIPIENT_UNKNOWN,
	CAUSE_RECIPIENT_DISABLED,
	CAUSE_MAILBOX_FULL,
	CAUSE_RELAY_DENIED,
	CAUSE_CONTENT_REJECTED,
	CAUSE_MESSAGE_TOO_LARGE,
	CAUSE_RATE_LIMITED,
	CAUSE_GREYLISTED,
	CAUSE_POLICY_OTHER,
	/*
	 * Advice: something works today but is close to a limit or is a form
	 * receivers only tolerate. An advice code never borrows the code of
	 * the failure it might lead to, and is at most of medium confidence.
	 */
	CAUSE_SPF_LOOKUPS_NEAR_LIMIT,	/* SPF passes, with little of its 10 lookups left */
	CAUSE_DKIM_KEY_WEAK,		/* a valid DKIM key below the recommended size */
	CAUSE_RDNS_GENERIC,		/* a PTR that exists but names an end-user address */
	CAUSE_RECORD_STYLE,		/* a record or name in a form receivers tolerate */
	/* a temporary (4xx) refusal that gives no reason: a retry may succeed */
	CAUSE_DEFERRED,
	/* only a receiver's own answer shows these (the SMTP probe, an MTA's report) */
	CAUSE_RECIPIENT_SERVER_DOWN,
	CAUSE_PORT25_BLOCKED,
	CAUSE_CONNECTION_BLOCKED,
	CAUSE_END,
};

/* The code's name ("ip_blocklisted"), static; NULL for CAUSE_NONE, CAUSE_END or out of range. */
const char *cause_name(enum cause_code c);
/* 0 with *out set when s names a cause code; -1 (*out untouched) for anything else, NULL included. */
int cause_parse(const char *s, enum cause_code *out);
/* True for the advice codes above: a cause of theirs is never of high confidence. */
bool cause_is_advice(enum cause_code c);

/* How sure the verdict is of a cause; the order is the order of strength. */
enum confidence {
	CONF_LOW = 0,
	CONF_MEDIUM,
	CONF_HIGH,
};

/* "low", "medium", "high"; "low" for a value out of range. Static. */
const char *confidence_name(enum confidence c);
/* 0 with *out set for "low", "medium" or "high"; -1 (*out untouched) for anything else, NULL included. */
int confidence_parse(const char *s, enum confidence *out);

#endif
