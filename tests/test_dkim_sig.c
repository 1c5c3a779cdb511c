/* Tests of DKIM-Signature header parsing and checking and of the From: domain (no network). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checks/dkim/sig.h"

#define GOOD "v=1; a=rsa-sha256; c=relaxed/simple; d=mailer.test; s=sel; h=from:to; bh=YWJj; b=ZGVm"

/* Parses a message of one DKIM-Signature with tags, then checks it at time now. */
static int
check_one(const char *tags, int64_t now, bool *expired, char *why, size_t whylen)
{
	struct dkim_msg msg;
	char text[1024];
	int ret;

	snprintf(text, sizeof(text), "DKIM-Signature: %s\r\nFrom: a@mailer.test\r\n\r\nbody\r\n", tags);
	dkim_msg_parse(text, strlen(text), &msg);
	cr_assert_eq(msg.nsig, 1);
	ret = dkim_sig_check(&msg.sig[0], now, expired);
	snprintf(why, whylen, "%s", msg.sig[0].why);
	dkim_msg_release(&msg);
	return ret;
}

Test(dkim_sig, signatures_are_found_in_order_and_unfolded)
{
	static const char text[] =
	    "Received: from x\r\n"
	    "DKIM-Signature: v=1; a=rsa-sha256; d=one.test; s=s1;\r\n"
	    "\th=from; bh=YWJj; b=ZGVm\r\n"
	    "\t ZGVm\r\n"
	    "From: Alice <alice@Mailer.TEST>\r\n"
	    "dkim-signature: v=1; a=ed25519-sha256; d=two.test; s=s2; h=from; bh=YWJj; b=eHl6\r\n"
	    "\r\n"
	    "DKIM-Signature: v=1; d=body.test\r\n";
	struct dkim_msg msg;

	dkim_msg_parse(text, sizeof(text) - 1, &msg);
	cr_assert_eq(msg.nsig, 2, "the line in the body is not a header");
	cr_assert_str_eq(msg.sig[0].d, "one.test");
	cr_assert_str_eq(msg.sig[0].h, "from");
	cr_assert_str_eq(msg.sig[0].b, "ZGVmZGVm", "b= is unfolded and stripped");
	cr_assert_eq(msg.sig[1].index, 1);
	cr_assert_str_eq(msg.sig[1].s, "s2");
	cr_assert(msg.sig[1].ed25519);
	cr_assert_str_eq(msg.from_domain, "mailer.test");
	cr_assert_eq(msg.nfrom, 1);
	dkim_msg_release(&msg);
}

Test(dkim_sig, lf_line_ends_and_several_from_fields)
{
	static const char text[] = "From: a@first.test\nDKIM-Signature: " GOOD "\nFrom: b@second.test\n\nx\n";
	struct dkim_msg msg;

	dkim_msg_parse(text, sizeof(text) - 1, &msg);
	cr_assert_eq(msg.nsig, 1);
	cr_assert_eq(msg.nfrom, 2);
	cr_assert_str_eq(msg.from_domain, "second.test");
	dkim_msg_release(&msg);
}

Test(dkim_sig, unparseable_signature_is_kept_with_a_reason)
{
	static const char text[] = "DKIM-Signature: synerr\r\nFrom: a@b.test\r\n\r\n";
	struct dkim_msg msg;
	bool expired;

	dkim_msg_parse(text, sizeof(text) - 1, &msg);
	cr_assert_eq(msg.nsig, 1);
	cr_assert_not(msg.sig[0].parsed);
	cr_assert_null(msg.sig[0].d);
	cr_assert_eq(dkim_sig_check(&msg.sig[0], 0, &expired), -1);
	cr_assert(strstr(msg.sig[0].why, "synerr") != NULL, "why: %s", msg.sig[0].why);
	dkim_msg_release(&msg);
}

Test(dkim_sig, valid_signature_passes_the_checks)
{
	char why[256];
	bool expired;

	cr_assert_eq(check_one(GOOD, 1700000000, &expired, why, sizeof(why)), 0, "%s", why);
	cr_assert_eq(check_one(GOOD "; i=@sub.mailer.test; q=dns/txt; l=10; t=1; x=2000000000",
	    1700000000, &expired, why, sizeof(why)), 0, "%s", why);
}

Test(dkim_sig, each_rfc6376_violation_is_a_reason)
{
	static const struct {
		const char *tags;
		const char *needle;
	} cases[] = {
		{ "a=rsa-sha256; d=x.test; s=s; h=from; bh=YWJj; b=ZGVm", "v= is missing" },
		{ "v=0.5; a=rsa-sha256; d=x.test; s=s; h=from; bh=YWJj; b=ZGVm", "v=0.5" },
		{ "v=1; a=rsa-md5; d=x.test; s=s; h=from; bh=YWJj; b=ZGVm", "a=rsa-md5" },
		{ "v=1; a=rsa-sha256; c=foobar; d=x.test; s=s; h=from; bh=YWJj; b=ZGVm", "c=foobar" },
		{ "v=1; a=rsa-sha256; c=simple/future; d=x.test; s=s; h=from; bh=YWJj; b=ZGVm", "c=" },
		{ "v=1; a=rsa-sha256; q=http; d=x.test; s=s; h=from; bh=YWJj; b=ZGVm", "q=http" },
		{ "v=1; a=rsa-sha256; d=x.test; s=s; h=to:subject; bh=YWJj; b=ZGVm", "From" },
		{ "v=1; a=rsa-sha256; d=x.test; i=a@other.test; s=s; h=from; bh=YWJj; b=ZGVm", "within d=" },
		{ "v=1; a=rsa-sha256; d=x.test; s=s; h=from; bh=YWJj; b=ZGVm; t=20; x=10", "before t=" },
		{ "v=1; a=rsa-sha256; d=x.test; s=s; h=from; bh=YWJj; b=", "b= is empty" },
		{ "v=1; a=rsa-sha256; d=x.test; s=s; h=from; b=ZGVm", "bh= is missing" },
		{ "v=1; a=rsa-sha256; d=x..test; s=s; h=from; bh=YWJj; b=ZGVm", "not a domain name" },
		{ "v=1; a=rsa-sha256; d=x.test; s=a/b; h=from; bh=YWJj; b=ZGVm", "not a selector" },
	};
	char why[256];
	bool expired;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		cr_assert_eq(check_one(cases[i].tags, 0, &expired, why, sizeof(why)), -1,
		    "case %zu (%s) passed", i, cases[i].tags);
		cr_assert(strstr(why, cases[i].needle) != NULL, "case %zu: why '%s' lacks '%s'",
		    i, why, cases[i].needle);
		cr_assert_not(expired, "case %zu", i);
	}
}

Test(dkim_sig, expiry_is_told_apart)
{
	char why[256];
	bool expired;

	cr_assert_eq(check_one(GOOD "; x=1000", 2000, &expired, why, sizeof(why)), -1);
	cr_assert(expired);
	cr_assert_eq(check_one(GOOD "; x=3000", 2000, &expired, why, sizeof(why)), 0);
	cr_assert_not(expired);
}

Test(dkim_sig, i_is_quoted_printable_decoded)
{
	char why[256];
	bool expired;

	cr_assert_eq(check_one(GOOD "; i=jlong=40mailer=2Etest", 0, &expired, why, sizeof(why)), 0,
	    "%s", why);
}

Test(dkim_sig, from_domain_of_common_forms)
{
	char *d;

	d = dkim_from_domain(" \"Alice, Inc\" <alice@Example.TEST> ");
	cr_assert_str_eq(d, "example.test");
	free(d);
	d = dkim_from_domain(" bob@shop.test (Bob)");
	cr_assert_str_eq(d, "shop.test");
	free(d);
	cr_assert_null(dkim_from_domain(" undisclosed-recipients:;"));
	cr_assert_null(dkim_from_domain("<>"));
}
