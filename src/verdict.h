/* The verdict: findings of all checks (and the bounce text) mapped to ranked causes. */
#ifndef WHY550_VERDICT_H
#define WHY550_VERDICT_H

#include <jansson.h>
#include <stddef.h>

#include "checks/check.h"
#include "core/cause.h"
#include "core/conf.h"

enum verdict_status {
	VERDICT_CLEAN = 0,
	VERDICT_AT_RISK,
	VERDICT_BLOCKED_LIKELY,
	VERDICT_INCONCLUSIVE,
};

struct cause {
	enum cause_code code;	/* never CAUSE_NONE */
	enum confidence confidence;
	char *summary;		/* one sentence in plain words */
	json_t *evidence;	/* array of {check, finding, message, data[, note]} */
	char *remedy;		/* first step first */
};

struct verdict {
	enum verdict_status status;
	struct cause *causes;	/* ranked: most probable first */
	size_t ncauses;
	char *note;		/* why inconclusive, or NULL */
};

/* "clean", "at_risk", "blocked_likely", "inconclusive". */
const char *verdict_status_name(enum verdict_status st);

/*
 * Rules from checks.d, loaded once and shared (read-only) by every target.
 * Every check ships the rules for its findings in its own file, so adding
 * a check needs no change here.
 *
 *   [verdict]                       global settings:
 *     combine_low = N               N distinct low-confidence signals of one
 *                                   cause make it medium (default 2, 0: never)
 *     ignore_error = CHECK          an error of this check does not make the
 *                                   verdict inconclusive (repeatable)
 *     precedence = CAUSE            among causes of equal confidence that the
 *                                   bounce named (or did not name) alike,
 *                                   these rank first, in the order given
 *                                   (repeatable; later sections add to the
 *                                   list); the others follow, more evidence
 *                                   first, then in report order
 *   [verdict "CHECK/CODE/CAUSE"]    how a warn or fail finding CODE of CHECK
 *   [verdict "CHECK/CODE"]          counts; the first form applies first, to
 *                                   a finding whose data "cause" is CAUSE
 *   [verdict "CHECK"]               how a fail finding of CHECK that no rule
 *                                   above names counts
 *   [verdict "*"]                   the same, for a check without its own
 *                                   [verdict "CHECK"]
 *     cause = a cause code
 *     confidence = high|medium|low  (a finding's data "confidence" can only
 *                                   lower it)
 *     summary = one sentence        optional: without it the finding's own
 *                                   message is the summary
 *     remedy = first step first
 * In summary and remedy {field} / {field|default} are replaced by the
 * finding's data field (an array joined with ", "), else the target's (ip,
 * helo, mail_from, rcpt_to, mail_domain, rcpt_domain), else the default,
 * which may hold {field}s of its own; else by "(unknown)". A warning that
 * no rule names is no cause.
 *
 * The bounce is also checked against the live lists (dnsbl, dbl) under
 * rules of the bounce check that are not findings of its own, CAUSE being
 * the kind of listing (ip_blocklisted, domain_blocklisted):
 *   [verdict "bounce/list_confirmed/CAUSE"]         a list the bounce named
 *   [verdict "bounce/policy_list_confirmed/CAUSE"]  lists the subject now
 *                                   (by a policy code only: the second form,
 *                                   else the first): its cause, confidence
 *                                   and words replace the cause's; fields:
 *                                   the list's entry (checks/dnsbl/dnsbl.h)
 *                                   and {named}, the list the receiver named
 *   [verdict "bounce/lists_clear/CAUSE"]  every list the bounce named was
 *                                   asked and none lists the subject now: the
 *                                   words replace the bounce's, the confidence
 *                                   is the most it keeps, the cause stays
 *                                   the bounce's; field: {lists}
 * The answer of the SMTP probe (smtp/probe_rejected, smtp/probe_deferred,
 * whose data is the bounce classifier's) is a receiver's reply too: without
 * rules of its own it takes the bounce's (bounce/bounce_classified/CAUSE),
 * counts as the receiver's words, and is checked against the live lists
 * and the recipient check as the bounce is.
 * A later section with the same label replaces an earlier one, so a local
 * file sorted after the shipped ones overrides them.
 */
struct verdict_rules;

/* Reads the [verdict] sections of conf. NULL with err "file:line: ..." on bad ones. */
struct verdict_rules *verdict_rules_load(const struct conf *conf, struct error *err);
void verdict_rules_free(struct verdict_rules *rules);
/* How many [verdict "..."] rules were loaded. */
size_t verdict_rules_count(const struct verdict_rules *rules);

/*
 * Builds the verdict from the reports of one target (t may be NULL) with
 * rules (NULL: none, so every fail finding is a high policy_other cause in
 * its own words, and no warning is a cause). Error findings never make a
 * cause; a check that errored lowers the confidence of its own findings
 * and, without a high cause, makes the verdict inconclusive. The bounce
 * check's classification and the SMTP probe's answer are combined with the
 * dnsbl/dbl lists and the recipient check. Cannot fail; release v with
 * verdict_release().
 */
void verdict_build_rules(struct verdict *v, const struct verdict_rules *rules,
    const struct target *t, struct report *const *reports, size_t nreports);
void verdict_release(struct verdict *v);

/* Exit code for v: 0 clean, 1 at risk (only if fail_on_at_risk), 2 blocked, 3 inconclusive. */
int verdict_exit_code(const struct verdict *v, bool fail_on_at_risk);

#endif
