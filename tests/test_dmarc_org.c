/* Tests of DMARC identifier alignment through the Public Suffix List (checks/dmarc/org.c). */
#include <criterion/criterion.h>
#include <stdlib.h>

#include "checks/dmarc/org.h"

/* The default list (no [psl] setting). */
static struct psl_service *
psl(void)
{
	struct conf *conf = conf_new();
	struct error err = { "" };
	struct psl_service *p = psl_service_new(conf, &err);

	cr_assert_not_null(p, "%s", err.msg);
	conf_free(conf);
	return p;
}

Test(dmarc_org, relaxed_alignment_shares_the_org_domain)
{
	struct psl_service *p = psl();

	cr_assert(dmarc_aligned(p, "bounce.shop.test", "shop.test", false));
	cr_assert(dmarc_aligned(p, "a.example.co.uk", "b.example.co.uk", false));
	cr_assert(dmarc_aligned(p, "Bounce.Shop.Test.", "shop.test", false));
	cr_assert_not(dmarc_aligned(p, "example.co.uk", "other.co.uk", false));
	cr_assert_not(dmarc_aligned(p, "shop.test", "shop2.test", false));
	psl_service_free(p);
}

Test(dmarc_org, strict_alignment_needs_the_same_name)
{
	struct psl_service *p = psl();

	cr_assert(dmarc_aligned(p, "Shop.Test.", "shop.test", true));
	cr_assert(dmarc_aligned(p, "shop.test", "SHOP.TEST.", true));
	cr_assert_not(dmarc_aligned(p, "bounce.shop.test", "shop.test", true));
	cr_assert_not(dmarc_aligned(p, "shop.tes", "shop.test", true));
	psl_service_free(p);
}
