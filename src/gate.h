/* The gate: which verdicts fail a run (--fail-on), and the exit status a verdict gives. */
#ifndef WHY550_GATE_H
#define WHY550_GATE_H

#include <stdbool.h>

#include "src/verdict.h"

/*
 * For the gate the verdicts are ordered clean < at_risk < inconclusive <
 * blocked_likely: an inconclusive run may hide a block, so it ranks above a
 * risk, and below a block that was seen. --fail-on LEVEL fails the run for
 * LEVEL and every verdict above it:
 *   at_risk       at_risk, inconclusive and blocked_likely fail
 *   inconclusive  inconclusive and blocked_likely fail (the default)
 *   blocked       only blocked_likely fails: a run that could not tell passes
 *   never         no verdict fails (usage and configuration errors still do)
 * The zero value is the default.
 */
enum fail_on {
	FAIL_ON_INCONCLUSIVE = 0,
	FAIL_ON_AT_RISK,
	FAIL_ON_BLOCKED,
	FAIL_ON_NEVER,
};

/* "inconclusive", "at_risk", "blocked", "never"; "inconclusive" out of range. Static. */
const char *gate_fail_on_name(enum fail_on f);
/* 0 with *out set when s names a level; -1 (*out untouched) for anything else, NULL included. */
int gate_fail_on_parse(const char *s, enum fail_on *out);

/* True when a run with verdict st fails the gate f. */
bool gate_fails(enum verdict_status st, enum fail_on f);

/*
 * The exit status of a run with verdict st under f: 0 when it passes the
 * gate, else the verdict's own code (1 at risk, 2 blocked likely, 3
 * inconclusive).
 */
int gate_exit_code(enum verdict_status st, enum fail_on f);

/* The worse of two verdicts in the gate's order (for the worst over a batch). */
enum verdict_status gate_worse(enum verdict_status a, enum verdict_status b);

#endif
