/* The verdict: findings of all checks (and the receivers' replies) mapped to ranked causes. */
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
	enum verdict_status status;	/* blocked_likely: a high cause or a permanent refusal */
	struct cause *causes;	/* ranked: most probable first */
	size_t ncauses;
	char *note;		/* why inconclusive, and the lists not checked; or NULL */
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
 *     plan = WORD                   optional: this remedy sets a plan the
 *                                   others must not contradict ("smarthost":
 *                                   do not send from this address, relay)
 *     remedy_under = WORD TEXT      optional, repeatable: this cause's remedy
 *                                   when another cause's plan WORD is in force
 *   [verdict "reply/refused_unexplained"]  words of a permanent refusal that
 *                                   gives no reason and that no cause of at
 *                                   least medium confidence explains; fields:
 *                                   the reply's, and {missing} / {missing_options}
 *                                   (the inputs the target lacks with the checks
 *                                   that need them: "--ip (rdns, dnsbl, ...)")
 *   [verdict "reply/deferred"]      the rule of a temporary refusal that gives
 *                                   no reason (instead of the finding's own)
 * Advice causes (cause_is_advice()) are at most medium: a rule that makes
 * one high is a configuration error, and nothing raises one above medium.
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
 * A later section with the same label replaces an earlier one, so a local
 * file sorted after the shipped ones overrides them.
 */
struct verdict_rules;

/*
 * Receiver replies: the one fact among the findings. What a receiving
 * server answered enters the verdict as a warn or fail finding, of any
 * check, whose data is a reply classification: the object
 * bounce_class_json() of checks/bounce/classify.h makes, of which the
 * verdict reads
 *   "basic_code"     the SMTP reply code (550), null when the text had none;
 *                    the member must be present: it marks a reply
 *   "transient"      true for a 4xx reply (required, boolean)
 *   "enhanced_code"  "5.7.1" or null: its class counts when there is no basic code
 *   "cause"          the cause code the reply points to, or null
 *   "confidence"     how specific the reply is (lowers the rule's, never raises)
 *   "lists"          the blocklists it names, each looked up in the dnsbl/dbl
 *                    reports ([verdict "bounce/list_confirmed/..."] etc. above)
 *   "host", "reply", "recipient"  for the words of the rules
 *   "source_differs" true when the reply answered another client than the
 *                    sender (a probe not sent from --ip), about that client:
 *                    it is then no fact about the sender (below)
 * The bounce check makes one from --bounce; a check that talks SMTP to the
 * receiver (the smtp probe) makes one for the reply that refused it, with
 * the same classifier, and its rules are [verdict "CHECK/CODE/CAUSE"] like
 * the bounce's; a reply without rules of its own is worded by the bounce's
 * ([verdict "bounce/bounce_classified/CAUSE"]). Every reply is combined with the live checks the same way:
 *   - a permanent (5xx) refusal is a fact: the status is blocked_likely
 *     whatever else is found, and a cause a live check also sees is raised
 *     one level;
 *   - one that gives no reason (cause null or policy_other) ranks after the
 *     causes of at least medium confidence that may explain it, else says
 *     so in the words of reply/refused_unexplained;
 *   - a temporary (4xx) reply is at most medium, is never raised, and one
 *     without a reason is a deferral (reply/deferred).
 */

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
 * and, without a high cause or a permanent refusal, makes the verdict
 * inconclusive. Receiver replies (above) are combined with the dnsbl/dbl
 * lists and the recipient check; the first ranked cause of at least medium
 * confidence with a plan puts the others on it. Cannot fail; release v
 * with verdict_release().
 */
void verdict_build_rules(struct verdict *v, const struct verdict_rules *rules,
    const struct target *t, struct report *const *reports, size_t nreports);
void verdict_release(struct verdict *v);

#endif
