/* Tests of core/cause.c: the cause codes and confidences, by name and back. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/cause.h"
#include "core/util.h"
#include "support.h"

Test(cause, names_are_the_published_vocabulary_in_its_order)
{
	/* DESIGN.md, the man page and the JSON schema's users know the causes by these names */
	static const char *const published[] = {
		"ip_blocklisted", "domain_blocklisted", "rdns_missing", "helo_invalid",
		"spf_fail", "dkim_fail", "dmarc_fail", "unauthenticated",
		"sender_domain_invalid", "sender_verify_failed", "recipient_unknown",
		"recipient_disabled", "mailbox_full", "relay_denied", "content_rejected",
		"message_too_large", "rate_limited", "greylisted", "policy_other",
		/* then advice, and the temporary deferral */
		"spf_lookups_near_limit", "dkim_key_weak", "rdns_generic", "record_style",
		"deferred",
		/* then what only a receiver's own answer shows */
		"recipient_server_down", "port25_blocked", "connection_blocked",
	};
	size_t i;

	cr_assert_eq(CAUSE_END - 1, (int)ARRAY_SIZE(published), "one code per published name");
	for (i = 0; i < ARRAY_SIZE(published); i++) {
		const char *name = cause_name((enum cause_code)(CAUSE_NONE + 1 + i));

		cr_assert_not_null(name, "code %zu has no name", i + 1);
		cr_expect_str_eq(name, published[i]);
	}
}

Test(cause, every_name_parses_back_to_its_code)
{
	enum cause_code got;
	int c;

	for (c = CAUSE_NONE + 1; c < CAUSE_END; c++) {
		got = CAUSE_NONE;
		cr_expect_eq(cause_parse(cause_name((enum cause_code)c), &got), 0, "%d", c);
		cr_expect_eq(got, c, "%s", cause_name((enum cause_code)c));
	}
}

Test(cause, none_and_strangers_are_no_cause)
{
	enum cause_code got = CAUSE_SPF_FAIL;

	cr_expect_null(cause_name(CAUSE_NONE));
	cr_expect_null(cause_name(CAUSE_END));
	cr_expect_eq(cause_parse(NULL, &got), -1);
	cr_expect_eq(cause_parse("", &got), -1);
	cr_expect_eq(cause_parse("SPF_FAIL", &got), -1, "names are lower case");
	cr_expect_eq(cause_parse("spf_fail ", &got), -1);
	cr_expect_eq(got, CAUSE_SPF_FAIL, "a failed parse leaves *out alone");
}

Test(cause, confidences_are_ordered_and_named_both_ways)
{
	static const struct {
		enum confidence c;
		const char *name;
	} each[] = {
		{ CONF_LOW, "low" },
		{ CONF_MEDIUM, "medium" },
		{ CONF_HIGH, "high" },
	};
	enum confidence got;
	size_t i;

	cr_expect(CONF_LOW < CONF_MEDIUM && CONF_MEDIUM < CONF_HIGH, "stronger is greater");
	for (i = 0; i < ARRAY_SIZE(each); i++) {
		cr_expect_str_eq(confidence_name(each[i].c), each[i].name);
		cr_expect_eq(confidence_parse(each[i].name, &got), 0);
		cr_expect_eq(got, each[i].c, "%s", each[i].name);
	}
	cr_expect_eq(confidence_parse("sure", &got), -1);
	cr_expect_eq(confidence_parse(NULL, &got), -1);
}

Test(cause, advice_is_exactly_the_four_advice_codes)
{
	static const char *const advice[] = {
		"spf_lookups_near_limit", "dkim_key_weak", "rdns_generic", "record_style",
	};
	int c;
	size_t i;

	for (c = CAUSE_NONE + 1; c < CAUSE_END; c++) {
		bool listed = false;

		for (i = 0; i < ARRAY_SIZE(advice); i++)
			if (strcmp(advice[i], cause_name((enum cause_code)c)) == 0)
				listed = true;
		cr_expect_eq(cause_is_advice((enum cause_code)c), listed, "%s",
		    cause_name((enum cause_code)c));
	}
	cr_expect_not(cause_is_advice(CAUSE_NONE));
	cr_expect_not(cause_is_advice(CAUSE_END));
}

/* The whole text of a file of the source tree. */
static char *
read_doc(const char *rel)
{
	char *path = test_path(rel), *text;
	FILE *fp = fopen(path, "rb");
	long n;

	cr_assert_not_null(fp, "cannot read %s", path);
	fseek(fp, 0, SEEK_END);
	n = ftell(fp);
	rewind(fp);
	text = xcalloc(1, (size_t)n + 1);
	cr_assert_eq(fread(text, 1, (size_t)n, fp), (size_t)n);
	fclose(fp);
	free(path);
	return text;
}

Test(cause, every_code_is_explained_in_the_man_page_and_the_schema)
{
	char *man = read_doc("docs/why550.1"), *schema = read_doc("docs/why550.schema.json");
	char want[128];
	int c;

	for (c = CAUSE_NONE + 1; c < CAUSE_END; c++) {
		const char *name = cause_name((enum cause_code)c);

		/* a tagged paragraph of its own in CAUSE CODES */
		snprintf(want, sizeof(want), ".TP\n.B %s\n", name);
		cr_expect_not_null(strstr(man, want), "why550(1) does not explain %s", name);
		/* in the enum, and with its meaning in the description */
		snprintf(want, sizeof(want), "\"%s\"", name);
		cr_expect_not_null(strstr(schema, want), "the schema's enum lacks %s", name);
		snprintf(want, sizeof(want), " %s: ", name);
		cr_expect_not_null(strstr(schema, want), "the schema does not explain %s", name);
	}
	free(man);
	free(schema);
}
