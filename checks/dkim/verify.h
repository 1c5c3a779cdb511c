/* Message signature verification with libopendkim, its key lookups going through the DNS adapter. */
#ifndef WHY550_DKIM_VERIFY_H
#define WHY550_DKIM_VERIFY_H

#include <stdbool.h>
#include <stddef.h>

#include "checks/dkim/sig.h"
#include "dns/dkim_adapter.h"

/* What the cryptography said. */
enum dkim_crypto {
	DKIM_CRYPTO_NONE = 0,		/* not verified (an error came first) */
	DKIM_CRYPTO_PASS,		/* header signature and body hash verify */
	DKIM_CRYPTO_BAD_SIG,		/* the header signature does not verify */
	DKIM_CRYPTO_BAD_BODY,		/* the body hash does not match bh= */
};

/* libopendkim's error for a signature, converted. */
enum dkim_lib_error {
	DKIM_LIB_OK = 0,
	DKIM_LIB_KEY_MISSING,		/* no key record */
	DKIM_LIB_KEY_DNS,		/* the key lookup failed */
	DKIM_LIB_KEY_REVOKED,
	DKIM_LIB_KEY_INVALID,		/* key record syntax, version, type, hash, service, several records */
	DKIM_LIB_SIG_INVALID,		/* signature syntax, version, algorithm, domain */
	DKIM_LIB_EXPIRED,		/* x= passed, or t= in the future */
	DKIM_LIB_KEY_SMALL,
	DKIM_LIB_OTHER,
};

/* libopendkim's outcome for one DKIM-Signature field. */
struct dkim_verdict {
	bool seen;			/* libopendkim listed this signature */
	enum dkim_crypto crypto;
	enum dkim_lib_error error;
	char why[160];			/* libopendkim's words for the error, "" if none */
	unsigned key_bits;		/* as libopendkim measured it, 0 if unknown */
	char canon[24];			/* "relaxed/simple", "" if unknown */
};

/*
 * Verifies the message (len bytes of text) with libopendkim. Its key
 * queries go through ad, so submit the key names to ad first to have them
 * all in flight at once. out has one entry per signature of msg (parsed
 * from the same text), matched by header order and b=. Returns 0, or -1
 * with why when libopendkim cannot be set up or refuses the message as a
 * whole (entries then stay unseen). May block on DNS.
 */
int dkim_verify_message(struct dkim_adapter *ad, const char *text, size_t len,
    const struct dkim_msg *msg, struct dkim_verdict *out, char *why, size_t whylen);

#endif
