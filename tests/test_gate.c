/* Tests of src/gate.c: the order of verdicts for --fail-on, the exit status of each verdict under each level. */
#include <criterion/criterion.h>

#include "core/util.h"
#include "src/gate.h"

/* The exit status of each verdict under each level, as the man page and the README state it. */
static const struct {
	enum fail_on level;
	int clean, at_risk, inconclusive, blocked;
} table[] = {
	{ FAIL_ON_AT_RISK, 0, 1, 3, 2 },
	{ FAIL_ON_INCONCLUSIVE, 0, 0, 3, 2 },
	{ FAIL_ON_BLOCKED, 0, 0, 0, 2 },
	{ FAIL_ON_NEVER, 0, 0, 0, 0 },
};

Test(gate, each_level_gives_each_verdict_its_documented_exit_status)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(table); i++) {
		const char *name = gate_fail_on_name(table[i].level);

		cr_expect_eq(gate_exit_code(VERDICT_CLEAN, table[i].level), table[i].clean,
		    "clean under %s", name);
		cr_expect_eq(gate_exit_code(VERDICT_AT_RISK, table[i].level), table[i].at_risk,
		    "at_risk under %s", name);
		cr_expect_eq(gate_exit_code(VERDICT_INCONCLUSIVE, table[i].level),
		    table[i].inconclusive, "inconclusive under %s", name);
		cr_expect_eq(gate_exit_code(VERDICT_BLOCKED_LIKELY, table[i].level),
		    table[i].blocked, "blocked_likely under %s", name);
		cr_expect_eq(gate_fails(VERDICT_AT_RISK, table[i].level), table[i].at_risk != 0,
		    "gate_fails agrees with the exit status under %s", name);
	}
}

Test(gate, the_zero_level_is_the_default_inconclusive)
{
	enum fail_on f = 0;

	cr_expect_str_eq(gate_fail_on_name(f), "inconclusive");
	cr_expect_eq(gate_exit_code(VERDICT_AT_RISK, f), 0, "a risk passes by default");
	cr_expect_eq(gate_exit_code(VERDICT_INCONCLUSIVE, f), 3, "no honest verdict fails");
}

Test(gate, names_parse_back_and_anything_else_is_refused)
{
	static const char *const bad[] = { "", "AT_RISK", "blocked_likely", "clean", "never ",
	    NULL };
	enum fail_on f, all[] = { FAIL_ON_AT_RISK, FAIL_ON_INCONCLUSIVE, FAIL_ON_BLOCKED,
	    FAIL_ON_NEVER };
	size_t i;

	for (i = 0; i < ARRAY_SIZE(all); i++) {
		cr_assert_eq(gate_fail_on_parse(gate_fail_on_name(all[i]), &f), 0);
		cr_expect_eq(f, all[i], "%s", gate_fail_on_name(all[i]));
	}
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		f = FAIL_ON_NEVER;
		cr_expect_eq(gate_fail_on_parse(bad[i], &f), -1, "'%s' accepted",
		    bad[i] != NULL ? bad[i] : "(null)");
		cr_expect_eq(f, FAIL_ON_NEVER, "a refused name leaves the level alone");
	}
}

Test(gate, worst_of_a_batch_ranks_blocked_then_inconclusive_then_at_risk)
{
	static const enum verdict_status order[] = {
		VERDICT_CLEAN, VERDICT_AT_RISK, VERDICT_INCONCLUSIVE, VERDICT_BLOCKED_LIKELY,
	};
	size_t i, j;

	for (i = 0; i < ARRAY_SIZE(order); i++)
		for (j = 0; j < ARRAY_SIZE(order); j++)
			cr_expect_eq(gate_worse(order[i], order[j]), order[i > j ? i : j],
			    "worse of %s and %s", verdict_status_name(order[i]),
			    verdict_status_name(order[j]));
}
