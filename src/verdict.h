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
	char *code;		/* one of the DESIGN.md cause codes */
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
 * The cause vocabulary of DESIGN.md: the static spelling of code, or NULL
 * when code is not a cause code. The list is NULL-terminated.
 */
extern const char *const verdict_cause_codes[];
const char *verdict_cause_lookup(const char *code);

/*
 * Rules from checks.d, loaded once and shared (read-only) by every target.
 *
 *   [verdict]                       global settings:
 *     combine_low = N               N distinct low-confidence signals of one
 *                                   cause make it medium (default 2, 0: never)
 *     ignore_error = CHECK          an error of this check does not make the
 *                                   verdict inconclusive (repeatable)
 *   [verdict "CHECK/CODE"]          how a warn or fail finding CODE of CHECK
 *   [verdict "CHECK/CODE/CAUSE"]    counts; the second form applies first to
 *                                   a finding whose data "cause" is CAUSE:
 *     cause = a cause code
 *     confidence = high|medium|low  (a finding's data "confidence" can only
 *                                   lower it)
 *     summary = one sentence        {field} / {field|default} are replaced by
 *     remedy = first step first     the finding's data field, else the target's
 *                                   (ip, helo, mail_from, rcpt_to, mail_domain,
 *                                   rcpt_domain), else the default
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
 * Builds the verdict from the reports of one target with rules (NULL: no
 * rules, every warn/fail finding then maps by check name, fail to a high and
 * warn to a medium cause). Error findings never make a cause; a check that
 * errored lowers the confidence of its own findings and, without a high
 * cause, makes the verdict inconclusive. The bounce check's classification
 * is combined with the dnsbl/dbl lists and the recipient check. Cannot fail;
 * release v with verdict_release().
 */
void verdict_build_rules(struct verdict *v, const struct verdict_rules *rules,
    const struct target *t, struct report *const *reports, size_t nreports);
/* The same without rules. */
void verdict_build(struct verdict *v, const struct target *t,
    struct report *const *reports, size_t nreports);
void verdict_release(struct verdict *v);

/* Exit code for v: 0 clean, 1 at risk (only if fail_on_at_risk), 2 blocked, 3 inconclusive. */
int verdict_exit_code(const struct verdict *v, bool fail_on_at_risk);

#endif
