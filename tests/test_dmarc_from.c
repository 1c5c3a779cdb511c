/* Tests of the RFC5322.From parser of the dmarc check (checks/dmarc_from.c). */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "checks/dmarc/from.h"

/* Parses msg; returns the result code and the domain (fresh, or NULL). */
static enum dmarc_from_error
from(const char *msg, char **domain)
{
	char *value = NULL, *addr = NULL, why[256];
	enum dmarc_from_error code;
	int rc;

	rc = dmarc_from_parse(msg, strlen(msg), &value, &addr, domain, &code, why, sizeof(why));
	cr_assert_eq(rc == 0, code == DMARC_FROM_OK, "return %d and code %d disagree", rc, code);
	if (rc < 0) {
		cr_assert_null(addr);
		cr_assert_null(*domain);
		cr_assert_neq(why[0], '\0');
	} else {
		cr_assert_not_null(addr);
	}
	free(value);
	free(addr);
	return code;
}

static void
expect_domain(const char *msg, const char *want)
{
	char *domain = NULL;

	cr_assert_eq(from(msg, &domain), DMARC_FROM_OK, "no domain found in: %s", msg);
	cr_assert_str_eq(domain, want, "in: %s", msg);
	free(domain);
}

static void
expect_error(const char *msg, enum dmarc_from_error want)
{
	char *domain = NULL;

	cr_assert_eq(from(msg, &domain), want, "in: %s", msg);
}

Test(dmarc_from, plain_address)
{
	expect_domain("From: user@Example.TEST\r\nTo: x@y.test\r\n\r\nbody\r\n", "example.test");
}

Test(dmarc_from, display_name_and_angle_brackets)
{
	expect_domain("Subject: hi\nFrom: \"Shop, Inc. <sales@fake.test>\" <news@shop.test>\n\nx",
	    "shop.test");
	expect_domain("from: Shop <news@shop.test.>\n\n", "shop.test");
}

Test(dmarc_from, folded_field_and_comments)
{
	expect_domain("From: Shop (the one\r\n and only) <news@\r\n\tshop.test> (sales)\r\n\r\n",
	    "shop.test");
	expect_domain("From: news(comment @ other.test)@shop.test\n\n", "shop.test");
}

Test(dmarc_from, quoted_local_part_with_at_sign)
{
	expect_domain("From: \"a@b.test\"@shop.test\n\n", "shop.test");
}

Test(dmarc_from, obsolete_route_is_skipped)
{
	expect_domain("From: <@relay.test:user@shop.test>\n\n", "shop.test");
}

Test(dmarc_from, field_in_the_body_does_not_count)
{
	expect_error("Subject: x\n\nFrom: user@shop.test\n", DMARC_FROM_MISSING);
	expect_error("", DMARC_FROM_MISSING);
	expect_error("From-Address: a@b.test\n\n", DMARC_FROM_MISSING);
}

Test(dmarc_from, several_addresses_are_an_error)
{
	expect_error("From: a@one.test, b@two.test\n\n", DMARC_FROM_MULTIPLE_ADDRESSES);
	expect_error("From: A <a@one.test>,\n B <b@two.test>\n\n", DMARC_FROM_MULTIPLE_ADDRESSES);
}

Test(dmarc_from, comma_in_quoted_name_is_not_a_second_address)
{
	expect_domain("From: \"Doe, John\" <john@doe.test>\n\n", "doe.test");
}

Test(dmarc_from, several_from_fields_are_an_error)
{
	expect_error("From: a@one.test\nFrom: b@two.test\n\n", DMARC_FROM_MULTIPLE_FIELDS);
}

Test(dmarc_from, broken_syntax_is_an_error)
{
	expect_error("From: Shop <news@shop.test\n\n", DMARC_FROM_SYNTAX);
	expect_error("From: \"open quote <a@b.test>\n\n", DMARC_FROM_SYNTAX);
	expect_error("From: (open comment a@b.test\n\n", DMARC_FROM_SYNTAX);
	expect_error("From: nobody\n\n", DMARC_FROM_SYNTAX);
	expect_error("From: a@[192.0.2.1]\n\n", DMARC_FROM_SYNTAX);
	expect_error("From: undisclosed: a@b.test;\n\n", DMARC_FROM_SYNTAX);
	expect_error("From:   \n\n", DMARC_FROM_SYNTAX);
}
