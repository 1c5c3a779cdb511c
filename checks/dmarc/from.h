/* The RFC5322.From of a message, as DMARC reads it (RFC 7489 6.6.1); no DNS. */
#ifndef WHY550_DMARC_FROM_H
#define WHY550_DMARC_FROM_H

#include <stddef.h>

/* Why the From domain of a message could not be found. */
enum dmarc_from_error {
	DMARC_FROM_OK = 0,
	DMARC_FROM_MISSING,		/* no From header field */
	DMARC_FROM_MULTIPLE_FIELDS,	/* more than one From header field */
	DMARC_FROM_MULTIPLE_ADDRESSES,	/* one field, several mailboxes */
	DMARC_FROM_SYNTAX,		/* no usable address in the field */
};

/*
 * Finds the RFC5322.From of the message (len bytes, header section up to
 * the first empty line; folded lines, comments, quoted strings, display
 * names and angle brackets understood). On success returns 0 with *addr (the
 * address, fresh) and *domain (its domain, lower case, no final dot, fresh).
 * On failure returns -1 with *code and a reason in why; *addr and *domain
 * are NULL. *value gets the unfolded field value (fresh, raw bytes) or NULL
 * when there is no From field.
 */
int dmarc_from_parse(const char *msg, size_t len, char **value, char **addr, char **domain,
    enum dmarc_from_error *code, char *why, size_t whylen);

#endif
