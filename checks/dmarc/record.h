/* The DMARC record parser (RFC 7489 6.3/6.4) and the policy a receiver applies; no DNS. */
#ifndef WHY550_DMARC_RECORD_H
#define WHY550_DMARC_RECORD_H

#include <stdbool.h>
#include <stddef.h>

enum dmarc_policy {
	DMARC_POLICY_ABSENT = 0,	/* the tag is not in the record */
	DMARC_POLICY_NONE,
	DMARC_POLICY_QUARANTINE,
	DMARC_POLICY_REJECT,
	DMARC_POLICY_INVALID,		/* the tag is there with a bad value */
};

/* "none", "quarantine", "reject"; NULL for ABSENT and INVALID. */
const char *dmarc_policy_name(enum dmarc_policy p);

/* One report URI of rua= or ruf=, valid by RFC 7489 6.4. */
struct dmarc_uri {
	char *uri;		/* as written, with its "!size" suffix */
	char *mailto_domain;	/* lower case domain of a mailto: URI, else NULL */
};

/* One problem of the record: the tag it is about ("p", "rua", "v"...) and what is wrong. */
struct dmarc_error {
	char *tag;
	char *message;
};

struct dmarc_record {
	enum dmarc_policy p;
	enum dmarc_policy sp;
	long pct;		/* 100 when absent or invalid */
	bool adkim_strict;
	bool aspf_strict;
	char *fo;		/* "0" by default */
	char *rf;		/* "afrf" by default */
	long ri;		/* 86400 by default */
	struct dmarc_uri *rua;
	size_t nrua;
	struct dmarc_uri *ruf;
	size_t nruf;
	char **unknown;		/* names of unknown tags (ignored, RFC 7489 6.3) */
	size_t nunknown;
	struct dmarc_error *errors;
	size_t nerrors;
};

/*
 * True if the len bytes of a TXT record start with the DMARC version tag
 * "v=DMARC1" (WSP allowed around '='), the test of RFC 7489 6.6.3 step 2.
 */
bool dmarc_record_is_dmarc(const char *text, size_t len);

/*
 * True if a TXT record that is not DMARC (dmarc_record_is_dmarc false) holds
 * "v=DMARC1" as a later tag: a DMARC record with its version misplaced.
 */
bool dmarc_record_version_misplaced(const char *text, size_t len);

/*
 * Parses a DMARC record of len bytes (any bytes) into rec, which needs no
 * init. Every problem becomes an entry of rec->errors; invalid URIs are left
 * out of rua/ruf, an invalid pct/adkim/aspf/fo/rf/ri keeps its default.
 * Returns 0, or -1 (rec empty, no release needed) when the text is not a
 * DMARC record at all.
 */
int dmarc_record_parse(struct dmarc_record *rec, const char *text, size_t len);
void dmarc_record_release(struct dmarc_record *rec);

/* Adds an error to rec (tag and printf message copied). */
void dmarc_record_add_error(struct dmarc_record *rec, const char *tag, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/*
 * RFC 7489 6.6.3 step 6: when p is missing or invalid, or sp invalid, a
 * record with at least one valid rua URI counts as p=none; without one the
 * record is unusable. Sets *p and *sp to the policies a receiver applies
 * (sp defaults to p) and returns true, or returns false for an unusable record.
 */
bool dmarc_record_effective(const struct dmarc_record *rec, enum dmarc_policy *p,
    enum dmarc_policy *sp);

#endif
