/* Tests of core/cause.c: the cause codes and confidences, by name and back. */
#include <criterion/criterion.h>
#include <string.h>

#include "core/cause.h"
#include "core/util.h"

Test(cause, names_are_the_published_vocabulary_in_its_order)
{
	/* DESIGN.md, then the SMTP probe's: the JSON schema's users know the causes by these names */
	static const char *const published[] = {
		"ip_blocklisted", "domain_blocklisted", "rdns_missing", "helo_invalid",
		"spf_fail", "dkim_fail", "dmarc_fail", "unauthenticated",
		"sender_domain_invalid", "sender_verify_failed", "recipient_unknown",
		"recipient_disabled", "mailbox_full", "relay_denied", "content_rejected",
		"message_too_large", "rate_limited", "greylisted", "policy_other",
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
