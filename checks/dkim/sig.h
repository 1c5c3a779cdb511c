/* DKIM-Signature header fields of a message (RFC 6376 3.5): finding, parsing and checking them without libopendkim. */
#ifndef WHY550_DKIM_SIG_H
#define WHY550_DKIM_SIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "checks/dkim/tags.h"

struct dkim_sig {
	size_t index;			/* 0-based, in header order */
	bool parsed;			/* the tag-list parsed */
	char why[200];			/* the syntax or semantic problem, "" if none */
	struct dkim_tags tags;
	/* borrowed from tags (i from i_decoded); NULL when absent */
	const char *v, *a, *c, *d, *s, *h, *i, *l, *q, *t, *x;
	char *b;			/* b= without whitespace, or NULL */
	char *i_decoded;		/* i= with its quoted-printable decoded (i points here) */
	bool rsa_sha1;			/* a=rsa-sha1 */
	bool hash_sha1;			/* the hash of a= is sha1 (else sha256) */
	bool ed25519;			/* a=ed25519-sha256 */
	int64_t expires;		/* x=, -1 if absent */
	int64_t signed_at;		/* t=, -1 if absent */
};

/*
 * Signatures kept and checked of one message. RFC 6376 6.1: verifiers may
 * limit how many signatures they try; a message with thousands would
 * otherwise cost thousands of key lookups and verifications.
 */
#define DKIM_MAX_SIGNATURES 50

/* The header section of a message, unfolded. */
struct dkim_msg {
	struct dkim_sig *sig;
	size_t nsig;			/* kept: the first DKIM_MAX_SIGNATURES */
	size_t nsig_total;		/* DKIM-Signature fields in the message */
	char *from_domain;		/* domain of the (last) From: address, lower case, or NULL */
	size_t nfrom;			/* how many From: fields */
};

/*
 * Reads the header section of a message (CRLF or LF line ends), collects
 * the first DKIM_MAX_SIGNATURES DKIM-Signature fields in order (counting
 * them all) and parses their tag-lists, and finds the From: domain. Never fails: a bad signature is kept with parsed false
 * or why set. msg is released with dkim_msg_release().
 */
void dkim_msg_parse(const char *text, size_t len, struct dkim_msg *msg);
void dkim_msg_release(struct dkim_msg *msg);

/*
 * Checks one signature's tags against RFC 6376 3.5 and 6.1.1 (required
 * tags, v=1, known a= and c=, q=dns/txt, From signed, i= within d=, x=
 * after t=, expiry against now, a Unix time). Returns 0 when usable, -1
 * with sig->why set, and *expired true when the only problem is x=.
 */
int dkim_sig_check(struct dkim_sig *sig, int64_t now, bool *expired);

/* Does the signature's h= tag name the header field name (case-insensitive, RFC 6376 3.5)? */
bool dkim_sig_signs(const struct dkim_sig *sig, const char *name);

/* The domain of an address in a From: value ("Name <a@b.example>"), lower case, or NULL. */
char *dkim_from_domain(const char *value);

#endif
