/* The gate: the order of verdicts for --fail-on, and the exit status of a verdict. */
#include "src/gate.h"

#include "core/util.h"

static const char *const fail_on_names[] = {
	[FAIL_ON_INCONCLUSIVE] = "inconclusive",
	[FAIL_ON_AT_RISK] = "at_risk",
	[FAIL_ON_BLOCKED] = "blocked",
	[FAIL_ON_NEVER] = "never",
};

const char *
gate_fail_on_name(enum fail_on f)
{
	if ((unsigned)f >= ARRAY_SIZE(fail_on_names))
		return fail_on_names[FAIL_ON_INCONCLUSIVE];
	return fail_on_names[f];
}

int
gate_fail_on_parse(const char *s, enum fail_on *out)
{
	int i = name_index(fail_on_names, ARRAY_SIZE(fail_on_names), s);

	if (i < 0)
		return -1;
	*out = (enum fail_on)i;
	return 0;
}

/* The gate's order; an unknown status ranks as inconclusive: no honest verdict. */
static int
rank(enum verdict_status st)
{
	switch (st) {
	case VERDICT_CLEAN:
		return 0;
	case VERDICT_AT_RISK:
		return 1;
	case VERDICT_INCONCLUSIVE:
		return 2;
	case VERDICT_BLOCKED_LIKELY:
		return 3;
	}
	return 2;
}

/* The lowest rank that fails under f; above every rank for never. */
static int
threshold(enum fail_on f)
{
	switch (f) {
	case FAIL_ON_AT_RISK:
		return 1;
	case FAIL_ON_INCONCLUSIVE:
		return 2;
	case FAIL_ON_BLOCKED:
		return 3;
	case FAIL_ON_NEVER:
		return 4;
	}
	return 2;
}

bool
gate_fails(enum verdict_status st, enum fail_on f)
{
	return rank(st) >= threshold(f);
}

int
gate_exit_code(enum verdict_status st, enum fail_on f)
{
	if (!gate_fails(st, f))
		return 0;
	switch (st) {
	case VERDICT_CLEAN:
		return 0;
	case VERDICT_AT_RISK:
		return 1;
	case VERDICT_BLOCKED_LIKELY:
		return 2;
	case VERDICT_INCONCLUSIVE:
		return 3;
	}
	return 3;
}

enum verdict_status
gate_worse(enum verdict_status a, enum verdict_status b)
{
	return rank(b) > rank(a) ? b : a;
}
