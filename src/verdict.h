/* The verdict: findings of all checks (and the bounce text) mapped to ranked causes. */
#ifndef WHY550_VERDICT_H
#define WHY550_VERDICT_H

#include <jansson.h>
#include <stddef.h>

#include "../checks/check.h"

enum verdict_status {
	VERDICT_CLEAN = 0,
	VERDICT_AT_RISK,
	VERDICT_BLOCKED_LIKELY,
	VERDICT_INCONCLUSIVE,
};

enum confidence {
	CONF_LOW = 0,
	CONF_MEDIUM,
	CONF_HIGH,
};

struct cause {
	char *code;		/* one of the DESIGN.md cause codes */
	enum confidence confidence;
	char *summary;		/* one sentence in plain words */
	json_t *evidence;	/* array of {check, finding, ...data} */
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
/* "low", "medium", "high". */
const char *confidence_name(enum confidence c);

/* Builds the verdict from the reports of one target; cannot fail. */
void verdict_build(struct verdict *v, const struct target *t,
    struct report *const *reports, size_t nreports);
void verdict_release(struct verdict *v);

/* Exit code for v: 0 clean, 1 at risk (only if fail_on_at_risk), 2 blocked, 3 inconclusive. */
int verdict_exit_code(const struct verdict *v, bool fail_on_at_risk);

#endif
