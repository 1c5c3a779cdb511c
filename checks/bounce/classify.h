/*
 * The bounce classifier: a pure function from the text a user pastes (one
 * SMTP reply, a multi-line reply, a whole DSN message, an MTA log line) to
 * the codes, reporting host, named blocklists and the probable cause.
 * What the words mean is data: the rules of checks/bounce/rules.h.
 */
#ifndef WHY550_BOUNCE_CLASSIFY_H
#define WHY550_BOUNCE_CLASSIFY_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "checks/bounce/rules.h"
#include "core/cause.h"
#include "core/util.h"

/* Bytes of a bounce that are read; the rest is ignored. */
#define BOUNCE_MAX_TEXT		(256 * 1024)
/* Bytes of the reply text kept in the result. */
#define BOUNCE_MAX_REPLY	512
/* Blocklists kept from one text. */
#define BOUNCE_MAX_LISTS	8

/* One recipient of a delivery status report and what its diagnostic says. */
struct bounce_rcpt {
	char *recipient;		/* Final-Recipient, or NULL */
	char *action;			/* "failed", "delayed", ..., or NULL */
	char *status;			/* the Status field, or NULL */
	char *remote_mta;		/* or NULL */
	char *diagnostic;		/* the Diagnostic-Code, at most BOUNCE_MAX_REPLY bytes, or NULL */
	enum cause_code cause;		/* CAUSE_NONE: nothing recognised */
	enum confidence confidence;
};

struct bounce_class {
	int basic_code;			/* 550; 0 when none was found */
	char enhanced[12];		/* "5.7.1"; "" when none was found */
	char *meaning;			/* of the code, from the rules, or NULL */
	char *host;			/* the host that rejected, lower case, or NULL */
	char *recipient;		/* the rejected address, or NULL */
	char *lists[BOUNCE_MAX_LISTS];	/* named blocklist zones, lower case */
	bool list_domain[BOUNCE_MAX_LISTS];	/* that list lists domains */
	size_t nlists;
	enum cause_code cause;		/* CAUSE_NONE: nothing recognised */
	enum cause_code second_cause;	/* another probable cause, or CAUSE_NONE */
	enum confidence confidence;	/* how specific the evidence for cause is */
	bool transient;			/* 4xx: a retry may succeed */
	bool success;			/* a 2xx reply: not a failure at all */
	char **matched;			/* the rules that matched: "code X.1.1", "phrase NAME" */
	size_t nmatched;
	char *reply;			/* the reply text read, folded, at most BOUNCE_MAX_REPLY bytes */
	char *reporting_mta;		/* of a delivery status report, or NULL */
	struct bounce_rcpt *rcpts;	/* its recipients, in report order */
	size_t nrcpts;
	size_t primary;			/* the recipient this classification is of (nrcpts > 0) */
};

/*
 * Classifies len bytes of text (any bytes, NUL included) with rules into
 * out, which the caller releases. A whole mail message is read as MIME
 * first (checks/bounce/dsn.h): a delivery status report is classified per
 * recipient, and out is the classification of the recipient that failed
 * with the most specific diagnostic; its human-readable text counts when a
 * diagnostic says too little. At most BOUNCE_MAX_TEXT bytes of text are
 * classified. Cannot fail, does no I/O, keeps no state: safe from several
 * threads on the same rules.
 */
void bounce_classify(const struct bounce_rules *rules, const char *text, size_t len,
    struct bounce_class *out);
void bounce_class_release(struct bounce_class *c);

/*
 * The finding data of a classification: {basic_code, enhanced_code,
 * code_meaning, host, recipient, lists, cause, second_cause, confidence,
 * transient, matched, reply, reporting_mta, recipients: [{recipient,
 * action, status, remote_mta, diagnostic_code, cause, confidence,
 * primary}]}. Fresh object.
 */
json_t *bounce_class_json(const struct bounce_class *c);

#endif
