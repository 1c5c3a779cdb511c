/* Tests of organisational domains and alignment through libpsl (checks/dmarc_org.c). */
#include <criterion/criterion.h>
#include <stdlib.h>

#include "checks/dmarc/org.h"

static struct dmarc_psl *
psl(void)
{
	char why[256];
	struct dmarc_psl *p = dmarc_psl_new(NULL, why, sizeof(why));

	cr_assert_not_null(p, "%s", why);
	return p;
}

static void
expect_org(const struct dmarc_psl *p, const char *domain, const char *want)
{
	char *org = dmarc_org_domain(p, domain);

	cr_assert_str_eq(org, want, "organisational domain of %s", domain);
	free(org);
}

Test(dmarc_org, listed_suffix_keeps_one_more_label)
{
	struct dmarc_psl *p = psl();

	expect_org(p, "deep.mail.example.co.uk", "example.co.uk");
	expect_org(p, "Mail.Example.COM.", "example.com");
	dmarc_psl_free(p);
}

Test(dmarc_org, unlisted_tld_uses_the_default_rule)
{
	struct dmarc_psl *p = psl();

	/* .test is not in the list: the "*" rule makes the TLD the suffix */
	expect_org(p, "a.b.dmarc.test", "dmarc.test");
	expect_org(p, "dmarc.test", "dmarc.test");
	dmarc_psl_free(p);
}

Test(dmarc_org, public_suffix_is_its_own_org_domain)
{
	struct dmarc_psl *p = psl();

	expect_org(p, "co.uk", "co.uk");
	dmarc_psl_free(p);
}

Test(dmarc_org, relaxed_alignment_shares_the_org_domain)
{
	struct dmarc_psl *p = psl();

	cr_assert(dmarc_aligned(p, "bounce.shop.test", "shop.test", false));
	cr_assert(dmarc_aligned(p, "a.example.co.uk", "b.example.co.uk", false));
	cr_assert_not(dmarc_aligned(p, "example.co.uk", "other.co.uk", false));
	cr_assert_not(dmarc_aligned(p, "shop.test", "shop2.test", false));
	dmarc_psl_free(p);
}

Test(dmarc_org, strict_alignment_needs_the_same_name)
{
	struct dmarc_psl *p = psl();

	cr_assert(dmarc_aligned(p, "Shop.Test.", "shop.test", true));
	cr_assert_not(dmarc_aligned(p, "bounce.shop.test", "shop.test", true));
	dmarc_psl_free(p);
}

Test(dmarc_org, unreadable_list_file_is_an_error)
{
	char why[256] = "";

	cr_assert_null(dmarc_psl_new("/nonexistent/psl.dat", why, sizeof(why)));
	cr_assert(why[0] != '\0');
}
