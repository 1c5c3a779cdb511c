/* Tests of the SPF record parser: every kind of syntax error, with its position, and what valid records parse to. */
#include <criterion/criterion.h>
#include <string.h>

#include "checks/spf/parse.h"
#include "checks/spf/macro.h"

struct bad_case {
	const char *record;
	size_t pos;		/* expected offset of the error */
	const char *words;	/* expected in the message */
};

static const struct bad_case bad_cases[] = {
	{ "v=spf1 foo:bar -all", 7, "unknown mechanism 'foo'" },
	{ "v=spf1 -all moo", 12, "unknown mechanism 'moo'" },
	{ "v=spf1 ip4:1.2.3.4/33", 18, "invalid IPv4 prefix length '33'" },
	{ "v=spf1 ip4:1.2.3.4/024", 18, "invalid IPv4 prefix length '024'" },
	{ "v=spf1 ip4:1.2.3", 11, "'1.2.3' is not an IPv4 address" },
	{ "v=spf1 ip4:1.2.3.256", 11, "is not an IPv4 address" },
	{ "v=spf1 ip4:01.2.3.4", 11, "is not an IPv4 address" },
	{ "v=spf1 ip6:2001:db8::/129", 21, "invalid IPv6 prefix length '129'" },
	{ "v=spf1 ip6:2001:db8:::1", 11, "is not an IPv6 address" },
	{ "v=spf1 ip4", 10, "needs ':address'" },
	{ "v=spf1 a:example.com/33", 20, "invalid IPv4 prefix length '33'" },
	{ "v=spf1 mx//129", 9, "invalid IPv6 prefix length '129'" },
	{ "v=spf1 a:museum", 9, "top label" },
	{ "v=spf1 a:1.2.3.4", 15, "top label" },
	{ "v=spf1 include:", 14, "needs ':domain'" },
	{ "v=spf1 exists", 13, "needs ':domain'" },
	{ "v=spf1 ptr:", 10, "takes only ':domain'" },
	{ "v=spf1 all:foo", 10, "'all' takes no argument" },
	{ "v=spf1 -redirect=a.example", 7, "cannot take a qualifier" },
	{ "v=spf1 redirect=a.example redirect=b.example", 26, "'redirect' appears more than once" },
	{ "v=spf1 exp=a.example exp=b.example", 21, "'exp' appears more than once" },
	{ "v=spf1 redirect=", 16, "empty domain" },
	{ "v=spf1 include:%{x}.example", 17, "invalid macro letter 'x'" },
	{ "v=spf1 include:%{d0}.example", 18, "digit must not be zero" },
	{ "v=spf1 include:%{d.example", 15, "unterminated" },
	{ "v=spf1 exists:%{c}.example", 16, "invalid macro letter 'c'" },
	{ "v=spf1 foo=%", 11, "at the end" },
	{ "v=spf1 foo=%x", 11, "must be followed by" },
	{ "v=spf1 1foo=bar", 7, "does not start with a mechanism or modifier name" },
	{ "v=spf1 ~", 7, "does not start with a mechanism" },
	{ "v=spf1 a:exa\001mple.com", 12, "outside printable ASCII" },
	{ "v=spf10 -all", 0, "does not start with 'v=spf1'" },
};

Test(spf_parse, every_syntax_error_is_reported_with_its_position)
{
	size_t i;

	for (i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
		const struct bad_case *c = &bad_cases[i];
		struct spf_record rec;
		struct spf_syntax err;
		int rc = spf_record_parse(&rec, c->record, strlen(c->record), &err);

		cr_expect_eq(rc, -1, "'%s' should not parse", c->record);
		if (rc != -1) {
			spf_record_release(&rec);
			continue;
		}
		cr_expect_eq(err.pos, c->pos, "'%s': error at %zu, want %zu (%s)", c->record,
		    err.pos, c->pos, err.msg);
		cr_expect(strstr(err.msg, c->words) != NULL, "'%s': message '%s' lacks '%s'",
		    c->record, err.msg, c->words);
	}
}

Test(spf_parse, nul_byte_in_a_record_is_an_error)
{
	static const char rec_text[] = "v=spf1 a\0 -all";
	struct spf_record rec;
	struct spf_syntax err;

	cr_assert_eq(spf_record_parse(&rec, rec_text, sizeof(rec_text) - 1, &err), -1);
	cr_assert_eq(err.pos, 8);
}

Test(spf_parse, terms_get_kind_qualifier_spec_and_prefixes)
{
	const char *text = "v=spf1  +a ~mx:mail.example.com/24//64 ip4:192.0.2.0/25 "
	    "ip6:2001:db8::/32 ?include:_spf.example.net exists:%{i}.bl.example "
	    "ptr -all redirect=other.example exp=exp.example Foo=bar  ";
	struct spf_record rec;
	struct spf_syntax err;

	cr_assert_eq(spf_record_parse(&rec, text, strlen(text), &err), 0, "%s", err.msg);
	cr_assert_eq(rec.nterms, 11);
	cr_expect_eq(rec.terms[0].kind, SPF_K_A);
	cr_expect_eq(rec.terms[0].qual, '+');
	cr_expect_null(rec.terms[0].spec);
	cr_expect_eq(rec.terms[0].cidr4, 32);
	cr_expect_eq(rec.terms[1].kind, SPF_K_MX);
	cr_expect_eq(rec.terms[1].qual, '~');
	cr_expect_str_eq(rec.terms[1].spec, "mail.example.com");
	cr_expect_eq(rec.terms[1].cidr4, 24);
	cr_expect_eq(rec.terms[1].cidr6, 64);
	cr_expect_eq(rec.terms[2].kind, SPF_K_IP4);
	cr_expect_eq(rec.terms[2].net[0], 192);
	cr_expect_eq(rec.terms[2].cidr4, 25);
	cr_expect_eq(rec.terms[3].kind, SPF_K_IP6);
	cr_expect_eq(rec.terms[3].net[1], 0x01);
	cr_expect_eq(rec.terms[3].cidr6, 32);
	cr_expect_eq(rec.terms[4].kind, SPF_K_INCLUDE);
	cr_expect_eq(rec.terms[4].qual, '?');
	cr_expect_eq(rec.terms[5].kind, SPF_K_EXISTS);
	cr_expect_str_eq(rec.terms[5].spec, "%{i}.bl.example");
	cr_expect_eq(rec.terms[6].kind, SPF_K_PTR);
	cr_expect_eq(rec.terms[7].kind, SPF_K_ALL);
	cr_expect_eq(rec.terms[7].qual, '-');
	cr_expect_eq(rec.terms[8].kind, SPF_K_REDIRECT);
	cr_expect_eq(rec.terms[9].kind, SPF_K_EXP);
	cr_expect_eq(rec.terms[10].kind, SPF_K_MODIFIER);
	cr_expect_str_eq(rec.terms[10].name, "Foo");
	cr_expect_eq(rec.redirect, 8);
	cr_expect_eq(rec.exp, 9);
	cr_expect(rec.has_all);
	/* a mx include exists ptr redirect */
	cr_expect_eq(rec.ndns, 6);
	cr_expect_eq(rec.terms[1].pos, 11);
	spf_record_release(&rec);
}

Test(spf_parse, zero_prefixes_and_case_are_valid)
{
	const char *text = "V=SPF1 IP4:0.0.0.0/0 ip6:::/0 A:Example.COM/0 -ALL";
	struct spf_record rec;
	struct spf_syntax err;

	cr_assert_eq(spf_record_parse(&rec, text, strlen(text), &err), 0, "%s", err.msg);
	cr_expect_eq(rec.terms[0].cidr4, 0);
	cr_expect_eq(rec.terms[1].cidr6, 0);
	cr_expect_eq(rec.terms[2].cidr4, 0);
	cr_expect_eq(rec.terms[3].kind, SPF_K_ALL);
	spf_record_release(&rec);
}

Test(spf_parse, version_needs_a_space_or_the_end)
{
	cr_expect(spf_is_record("v=spf1", 6));
	cr_expect(spf_is_record("v=spf1 -all", 11));
	cr_expect(spf_is_record("V=Spf1 -all", 11));
	cr_expect(!spf_is_record("v=spf10", 7));
	cr_expect(!spf_is_record("v=spf1\t-all", 11));
	cr_expect(!spf_is_record("spf1", 4));
}

Test(spf_parse, domain_spec_ends_in_top_label_or_macro)
{
	struct spf_syntax err;

	cr_expect_eq(spf_domain_spec_check("example.com", 11, &err), 0);
	cr_expect_eq(spf_domain_spec_check("example.com.", 12, &err), 0);
	cr_expect_eq(spf_domain_spec_check("%{d}", 4, &err), 0);
	cr_expect_eq(spf_domain_spec_check("foo.xn--zz9", 11, &err), 0);
	cr_expect_eq(spf_domain_spec_check("foo.123-45", 10, &err), 0);
	cr_expect_eq(spf_domain_spec_check("foo.123", 7, &err), -1);
	cr_expect_eq(spf_domain_spec_check("foo.-ab", 7, &err), -1);
	cr_expect_eq(spf_domain_spec_check("localhost", 9, &err), -1);
	cr_expect_eq(spf_domain_spec_check("%{d}x", 5, &err), -1);
}
