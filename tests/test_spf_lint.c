/* Tests of the SPF lint and of the nearest-miss analysis, on records given as strings and on hand-made outcomes. */
#include <criterion/criterion.h>
#include <string.h>
#include <sys/socket.h>

#include "checks/check.h"
#include "checks/spf/lint.h"
#include "core/util.h"

static const struct check_ops fake = { .name = "spf" };

static struct report *
lint_one(const char *record)
{
	struct report *rep = report_new(&fake);
	const char *strings[1] = { record };
	size_t lens[1] = { strlen(record) };

	spf_lint_record(rep, "lint.test", strings, lens, 1);
	return rep;
}

static void
expect_only(const char *record, const char *code)
{
	struct report *rep = lint_one(record);

	if (code == NULL)
		cr_expect_eq(report_nfindings(rep), 0, "'%s' gave %zu findings, first %s", record,
		    report_nfindings(rep),
		    report_nfindings(rep) > 0 ? report_finding(rep, 0)->code : "");
	else
		cr_expect_not_null(report_find(rep, code), "'%s' did not give %s", record, code);
	report_free(rep);
}

Test(spf_lint, punished_records_give_their_finding)
{
	expect_only("v=spf1 ip4:192.0.2.0/24 -all", NULL);
	expect_only("v=spf1 +all", "spf_all_pass");
	expect_only("v=spf1 all", "spf_all_pass");
	expect_only("v=spf1 a ?all", "spf_all_neutral");
	expect_only("v=spf1 ptr -all", "spf_ptr_used");
	expect_only("v=spf1 -all redirect=other.example", "spf_redirect_with_all");
	expect_only("v=spf1 ip4:192.0.2.0/24 bad -all", "spf_syntax_error");
}

Test(spf_lint, syntax_error_carries_its_position)
{
	struct report *rep = lint_one("v=spf1 ip4:192.0.2.0/24 bad -all");
	const struct finding *f = report_find(rep, "spf_syntax_error");

	cr_assert_not_null(f);
	cr_expect_eq(json_integer_value(json_object_get(f->data, "position")), 24);
	cr_expect(strstr(f->message, "offset 24") != NULL, "%s", f->message);
	cr_expect_eq(f->severity, SEV_FAIL);
	report_free(rep);
}

Test(spf_lint, long_strings_and_records_are_flagged)
{
	struct report *rep = report_new(&fake);
	char big[300], rest[300];
	const char *strings[2] = { big, rest };
	size_t lens[2];

	memset(big, 'x', sizeof(big));
	memcpy(big, "v=spf1 ", 7);
	memset(big + 7, ' ', 293);
	lens[0] = 300;
	memset(rest, ' ', sizeof(rest));
	memcpy(rest + 290, "-all", 4);
	lens[1] = 294;
	spf_lint_record(rep, "lint.test", strings, lens, 2);
	cr_expect_not_null(report_find(rep, "spf_string_too_long"));
	cr_expect_not_null(report_find(rep, "spf_record_too_long"));
	cr_expect_null(report_find(rep, "spf_syntax_error"));
	report_free(rep);
}

Test(spf_lint, outcome_limits_and_dead_includes)
{
	struct report *rep = report_new(&fake);
	struct spf_outcome out;
	struct spf_node top, kid, *kids[1] = { &kid };

	memset(&out, 0, sizeof(out));
	memset(&top, 0, sizeof(top));
	memset(&kid, 0, sizeof(kid));
	top.domain = (char *)(uintptr_t)"lint.test";
	top.kids = kids;
	top.nkids = 1;
	kid.domain = (char *)(uintptr_t)"gone.example";
	kid.via = (char *)(uintptr_t)"include:gone.example";
	kid.result = SPF_R_NONE;
	out.domain = top.domain;
	out.tree = &top;
	out.lookups = 9;
	out.nrecords = 2;
	spf_lint_outcome(rep, &out, 10, 8);
	cr_expect_not_null(report_find(rep, "spf_lookups_near_limit"));
	cr_expect_null(report_find(rep, "spf_lookups_over_limit"));
	cr_expect_not_null(report_find(rep, "spf_multiple_records"));
	cr_expect_not_null(report_find(rep, "spf_include_no_record"));
	report_free(rep);
	rep = report_new(&fake);
	out.lookups = 11;
	out.nrecords = 1;
	out.tree = NULL;
	spf_lint_outcome(rep, &out, 10, 8);
	cr_expect_not_null(report_find(rep, "spf_lookups_over_limit"));
	cr_expect_null(report_find(rep, "spf_lookups_near_limit"));
	report_free(rep);
}

Test(spf_lint, nearest_miss_is_the_network_sharing_most_bits)
{
	struct spf_outcome out;
	struct spf_net nets[3];
	unsigned char ip[4] = { 192, 0, 2, 200 };
	json_t *data = NULL;
	char *why;

	memset(&out, 0, sizeof(out));
	memset(nets, 0, sizeof(nets));
	nets[0] = (struct spf_net){ AF_INET, { 198, 51, 100, 0 }, 24,
	    (char *)(uintptr_t)"ip4:198.51.100.0/24", (char *)(uintptr_t)"" };
	nets[1] = (struct spf_net){ AF_INET, { 192, 0, 2, 0 }, 25,
	    (char *)(uintptr_t)"ip4:192.0.2.0/25",
	    (char *)(uintptr_t)"include:_spf.example.net" };
	nets[2] = (struct spf_net){ AF_INET6, { 0x20, 0x01, 0x0d, 0xb8 }, 32,
	    (char *)(uintptr_t)"ip6:2001:db8::/32", (char *)(uintptr_t)"" };
	out.domain = (char *)(uintptr_t)"example.org";
	out.matched = (char *)(uintptr_t)"-all";
	out.nets = nets;
	out.nnets = 3;
	why = spf_explain_miss(&out, AF_INET, ip, &data);
	cr_expect(strstr(why, "192.0.2.200 is in none of") != NULL, "%s", why);
	cr_expect(strstr(why, "include:_spf.example.net \u2192 ip4:192.0.2.0/25") != NULL, "%s", why);
	cr_expect(strstr(why, "nearest: include:_spf.example.net \u2192 ip4:192.0.2.0/25, which "
	    "shares 24 leading bits") != NULL, "%s", why);
	cr_expect_eq(json_array_size(json_object_get(data, "networks")), 3);
	cr_expect_eq(json_integer_value(json_object_get(json_object_get(data, "nearest"),
	    "shared_bits")), 24);
	free(why);
	json_decref(data);
}
