/*
 * The bounce classifier's rules: the [bounce ...] sections of checks.d read
 * into tables of codes, phrases, list and host patterns. What the words of
 * a bounce mean is data; checks/bounce/classify.c applies it.
 */
#ifndef WHY550_BOUNCE_RULES_H
#define WHY550_BOUNCE_RULES_H

#include <regex.h>
#include <stdbool.h>
#include <stddef.h>

#include "core/cause.h"
#include "core/conf.h"
#include "core/util.h"

/* Points a match gives its cause: 3 and more is high confidence, 2 medium, 1 low. */
enum bounce_strength {
	BOUNCE_WEAK = 1,
	BOUNCE_STRONG = 2,
	BOUNCE_DECISIVE = 4,	/* wording that overrules a generic or related code */
};

/* What a named list lists. */
enum bounce_list_kind {
	BOUNCE_LIST_AUTO = 0,	/* a domain list when under a [bounce] domain_list */
	BOUNCE_LIST_IP,
	BOUNCE_LIST_DOMAIN,
};

/* A [bounce "code ..."] section. */
struct bounce_code_rule {
	char *label;			/* "code X.7.1" */
	bool basic;			/* "code 552": a basic reply code */
	int cls;			/* 2, 4, 5; 0 for "X" */
	int subject;
	int lo, hi;			/* detail range, or the basic code twice */
	char *meaning;			/* NULL when the section has none */
	enum cause_code cause;		/* CAUSE_NONE: the code only has a meaning */
	enum bounce_strength strength;
	int provider;			/* index in providers whose meaning this is; -1: anyone's */
};

/* A [bounce "phrase ..."], [bounce "list ..."], [bounce "host ..."] or [bounce "provider ..."] section. */
struct bounce_pattern_rule {
	char *label;			/* "phrase user_unknown" */
	enum cause_code cause;		/* phrases */
	enum bounce_strength strength;	/* phrases */
	int provider;			/* phrases: index in providers it is scoped to; -1: none */
	char *name;			/* lists: the fixed zone, or NULL; providers: NAME */
	enum bounce_list_kind kind;	/* lists */
	regex_t *res;			/* POSIX ERE, case ignored; at least one */
	size_t nres;
};

/*
 * The patterns of checks.d, each table in file order (a later section
 * with the same label replaces an earlier one in its place):
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
 *   [bounce "provider NAME"]   match = ERE (repeatable): the text comes from
 *                              this receiver (its host names, its wording);
 *                              several providers may match one text
 *   [bounce "code SPEC NAME"]  a code as above with the meaning provider NAME
 *                              gives it: used only when NAME matched, and
 *                              then before the unscoped rule for the code
 *   phrase ... provider = NAME the phrase counts only when NAME matched
 * A provider must be defined above the sections that name it.
 * Read-only once loaded: the classifier shares one set between threads.
 */
struct bounce_rules {
	struct bounce_code_rule *codes;
	size_t ncodes;
	struct bounce_pattern_rule *phrases;
	size_t nphrases;
	struct bounce_pattern_rule *lists;
	size_t nlists;
	struct bounce_pattern_rule *hosts;
	size_t nhosts;
	struct bounce_pattern_rule *providers;
	size_t nproviders;
	char **domain_lists;		/* lower case suffixes */
	size_t ndomain_lists;
};

/* Providers one set of rules may define. */
#define BOUNCE_MAX_PROVIDERS	64

/* Empty rules: only the structure of the codes is known. NULL never. */
struct bounce_rules *bounce_rules_new(void);
void bounce_rules_free(struct bounce_rules *r);
/*
 * Adds the [bounce ...] sections of conf to r. 0, or -1 with err
 * "file:line: ..." naming the first bad section (r then holds the
 * sections before it; free it).
 */
int bounce_rules_load(struct bounce_rules *r, const struct conf *conf, struct error *err);
/* One line of counts for --list-checks, appended to out. */
void bounce_rules_describe(const struct bounce_rules *r, struct strbuf *out);

#endif
