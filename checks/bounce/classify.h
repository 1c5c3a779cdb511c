/*
 * The bounce classifier: a pure function from the text a user pastes (one
 * SMTP reply, a multi-line reply, a whole DSN message, an MTA log line) to
 * the codes, reporting host, named blocklists and the probable cause.
 * What the words mean is data: the [bounce "..."] sections of checks.d.
 */
#ifndef WHY550_BOUNCE_H
#define WHY550_BOUNCE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "core/conf.h"
#include "core/util.h"
#include "src/verdict.h"

/* Bytes of a bounce that are read; the rest is ignored. */
#define BOUNCE_MAX_TEXT		(256 * 1024)
/* Bytes of the reply text kept in the result. */
#define BOUNCE_MAX_REPLY	512
/* Blocklists kept from one text. */
#define BOUNCE_MAX_LISTS	8

/*
 * The patterns of checks.d:
 *   [bounce]                   domain_list = SUFFIX (repeatable): a named
 *                              list under it lists domains, not IPs
 *   [bounce "code X.S.D"]      an enhanced status code (RFC 3463 / IANA
 *   [bounce "code 5.S.D"]      registry): X is any class; "X.7.606-649" is a
 *   [bounce "code X.S.D1-D2"]  range of details; "code 552" a basic reply
 *   [bounce "code NNN"]        code (used only without an enhanced code).
 *                              meaning = ..., cause = ..., strength = strong|weak
 *   [bounce "phrase NAME"]     cause, strength = weak|strong|decisive,
 *                              match = ERE (repeatable,
 *                              case-insensitive, on the reply with whitespace
 *                              folded)
 *   [bounce "list NAME"]       match = ERE (repeatable); name = the list zone
 *                              it means, else the last (group) of the ERE that
 *                              matched is the zone; kind = ip|domain
 *   [bounce "host NAME"]       match = ERE whose last matching (group) is the
 *                              host that rejected; the first section that
 *                              matches wins
 */
struct bounce_rules;

/* Empty rules: only the structure of the codes is known. NULL never. */
struct bounce_rules *bounce_rules_new(void);
void bounce_rules_free(struct bounce_rules *r);
/* Adds the [bounce ...] sections of conf. -1 with err "file:line: ..." on a bad one. */
int bounce_rules_load(struct bounce_rules *r, const struct conf *conf, struct error *err);
/* Counts for --list-checks. */
void bounce_rules_describe(const struct bounce_rules *r, struct strbuf *out);

struct bounce_class {
	int basic_code;			/* 550; 0 when none was found */
	char enhanced[12];		/* "5.7.1"; "" when none was found */
	char *meaning;			/* of the code, from the rules, or NULL */
	char *host;			/* the host that rejected, lower case, or NULL */
	char *recipient;		/* the rejected address, or NULL */
	char *lists[BOUNCE_MAX_LISTS];	/* named blocklist zones, lower case */
	bool list_domain[BOUNCE_MAX_LISTS];	/* that list lists domains */
	size_t nlists;
	const char *cause;		/* a cause code, or NULL: nothing recognised */
	const char *second_cause;	/* another probable cause, or NULL */
	enum confidence confidence;	/* how specific the evidence for cause is */
	bool transient;			/* 4xx: a retry may succeed */
	bool success;			/* a 2xx reply: not a failure at all */
	char **matched;			/* the rules that matched: "code X.1.1", "phrase NAME" */
	size_t nmatched;
	char *reply;			/* the reply text read, folded, at most BOUNCE_MAX_REPLY bytes */
};

/*
 * Classifies len bytes of text (any bytes; at most BOUNCE_MAX_TEXT are
 * read) with rules into out, which the caller releases. Cannot fail, does
 * no I/O, keeps no state: safe from several threads on the same rules.
 */
void bounce_classify(const struct bounce_rules *rules, const char *text, size_t len,
    struct bounce_class *out);
void bounce_class_release(struct bounce_class *c);

/*
 * The finding data of a classification: {basic_code, enhanced_code,
 * code_meaning, host, recipient, lists, cause, second_cause, confidence,
 * transient, matched, reply}. Fresh object.
 */
json_t *bounce_class_json(const struct bounce_class *c);

#endif
