/* Tests of checks/recipient_addr.c: the address parser over a named table, edit distance and typo suggestions. */
#include <criterion/criterion.h>
#include <string.h>

#include "checks/domain/recipient_addr.h"

struct addr_case {
	const char *name;
	const char *input;
	size_t len;		/* 0: strlen(input) */
	enum recipient_addr_problem problem;
	const char *local;	/* expected when valid */
	const char *ascii;
	const char *unicode;
};

#define L64 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define D63 "ddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd"

static const struct addr_case cases[] = {
	/* valid */
	{ "plain", "alice@example.test", 0, RADDR_OK, "alice", "example.test", "example.test" },
	{ "domain_lowered", "Alice@Example.TEST", 0, RADDR_OK, "Alice", "example.test",
	    "example.test" },
	{ "angle_brackets", "<alice@example.test>", 0, RADDR_OK, "alice", "example.test",
	    "example.test" },
	{ "dots_inside", "a.l.i.c.e@example.test", 0, RADDR_OK, "a.l.i.c.e", "example.test",
	    "example.test" },
	{ "atext_specials", "a!#$%&'*+-/=?^_`{|}~z@example.test", 0, RADDR_OK,
	    "a!#$%&'*+-/=?^_`{|}~z", "example.test", "example.test" },
	{ "quoted_space", "\"alice smith\"@example.test", 0, RADDR_OK, "\"alice smith\"",
	    "example.test", "example.test" },
	{ "quoted_at_and_dots", "\"a@b..c\"@example.test", 0, RADDR_OK, "\"a@b..c\"",
	    "example.test", "example.test" },
	{ "quoted_pair", "\"a\\\"b\"@example.test", 0, RADDR_OK, "\"a\\\"b\"", "example.test",
	    "example.test" },
	{ "local_64", L64 "@example.test", 0, RADDR_OK, L64, "example.test", "example.test" },
	{ "final_dot", "alice@example.test.", 0, RADDR_OK, "alice", "example.test",
	    "example.test" },
	{ "idn_unicode", "alice@B\xc3\xbc" "cher.test", 0, RADDR_OK, "alice",
	    "xn--bcher-kva.test", "b\xc3\xbc" "cher.test" },
	{ "idn_alabel", "alice@xn--bcher-kva.test", 0, RADDR_OK, "alice", "xn--bcher-kva.test",
	    "b\xc3\xbc" "cher.test" },
	{ "utf8_local", "j\xc3\xb6rg@example.test", 0, RADDR_OK, "j\xc3\xb6rg", "example.test",
	    "example.test" },
	{ "literal_v4", "alice@[192.0.2.1]", 0, RADDR_OK, "alice", "192.0.2.1", "192.0.2.1" },
	{ "literal_v6", "alice@[IPv6:2001:db8::1]", 0, RADDR_OK, "alice", "2001:db8::1",
	    "2001:db8::1" },
	{ "hyphen_digits", "x@mail-1.example-2.test", 0, RADDR_OK, "x", "mail-1.example-2.test",
	    "mail-1.example-2.test" },
	/* invalid */
	{ "empty", "", 0, RADDR_EMPTY, NULL, NULL, NULL },
	{ "only_spaces", "   ", 0, RADDR_EMPTY, NULL, NULL, NULL },
	{ "null_path", "<>", 0, RADDR_EMPTY, NULL, NULL, NULL },
	{ "leading_space", " alice@example.test", 0, RADDR_SPACE_LEADING, NULL, NULL, NULL },
	{ "trailing_space", "alice@example.test ", 0, RADDR_SPACE_TRAILING, NULL, NULL, NULL },
	{ "trailing_newline", "alice@example.test\n", 0, RADDR_SPACE_TRAILING, NULL, NULL, NULL },
	{ "space_in_brackets", "< alice@example.test>", 0, RADDR_SPACE_LEADING, NULL, NULL,
	    NULL },
	{ "inner_space_local", "alice smith@example.test", 0, RADDR_SPACE_INNER, NULL, NULL,
	    NULL },
	{ "inner_space_before_at", "alice @example.test", 0, RADDR_SPACE_INNER, NULL, NULL,
	    NULL },
	{ "inner_space_domain", "alice@exam ple.test", 0, RADDR_SPACE_INNER, NULL, NULL, NULL },
	{ "space_after_quotes", "\"alice\" @example.test", 0, RADDR_SPACE_INNER, NULL, NULL,
	    NULL },
	{ "tab_inside", "ali\tce@example.test", 0, RADDR_CONTROL, NULL, NULL, NULL },
	{ "nul_inside", "ali\0ce@example.test", 19, RADDR_CONTROL, NULL, NULL, NULL },
	{ "latin1_byte", "j\xf6rg@example.test", 0, RADDR_UTF8_INVALID, NULL, NULL, NULL },
	{ "overlong_utf8", "\xc0\xaf@example.test", 0, RADDR_UTF8_INVALID, NULL, NULL, NULL },
	{ "open_bracket", "<alice@example.test", 0, RADDR_BRACKETS, NULL, NULL, NULL },
	{ "close_bracket", "alice@example.test>", 0, RADDR_BRACKETS, NULL, NULL, NULL },
	{ "no_at", "alice.example.test", 0, RADDR_NO_AT, NULL, NULL, NULL },
	{ "quoted_no_at", "\"alice\"", 0, RADDR_NO_AT, NULL, NULL, NULL },
	{ "two_ats", "alice@bob@example.test", 0, RADDR_MULTIPLE_AT, NULL, NULL, NULL },
	{ "doubled_at", "alice@@example.test", 0, RADDR_MULTIPLE_AT, NULL, NULL, NULL },
	{ "no_local", "@example.test", 0, RADDR_LOCAL_EMPTY, NULL, NULL, NULL },
	{ "no_domain", "alice@", 0, RADDR_DOMAIN_EMPTY, NULL, NULL, NULL },
	{ "only_dot_domain", "alice@.", 0, RADDR_DOMAIN_EMPTY, NULL, NULL, NULL },
	{ "local_65", "a" L64 "@example.test", 0, RADDR_LOCAL_TOO_LONG, NULL, NULL, NULL },
	{ "address_255", L64 "@" D63 "." D63 "." D63 ".test", 0, RADDR_ADDRESS_TOO_LONG, NULL,
	    NULL, NULL },
	{ "leading_dot", ".alice@example.test", 0, RADDR_DOT_LEADING, NULL, NULL, NULL },
	{ "trailing_dot_local", "alice.@example.test", 0, RADDR_DOT_TRAILING, NULL, NULL, NULL },
	{ "double_dot_local", "al..ice@example.test", 0, RADDR_DOT_DOUBLE, NULL, NULL, NULL },
	{ "comma_unquoted", "alice,bob@example.test", 0, RADDR_NEEDS_QUOTING, NULL, NULL,
	    NULL },
	{ "paren_unquoted", "alice(x)@example.test", 0, RADDR_NEEDS_QUOTING, NULL, NULL, NULL },
	{ "quote_inside_unquoted", "ali\"ce@example.test", 0, RADDR_NEEDS_QUOTING, NULL, NULL,
	    NULL },
	{ "unterminated_quote", "\"alice@example.test", 0, RADDR_QUOTE_BAD, NULL, NULL, NULL },
	{ "text_after_quote", "\"alice\"x@example.test", 0, RADDR_QUOTE_BAD, NULL, NULL, NULL },
	{ "escaped_final_quote", "\"alice\\\"@example.test", 0, RADDR_QUOTE_BAD, NULL, NULL,
	    NULL },
	{ "domain_double_dot", "alice@example..test", 0, RADDR_DOMAIN_SYNTAX, NULL, NULL, NULL },
	{ "domain_leading_dot", "alice@.example.test", 0, RADDR_DOMAIN_SYNTAX, NULL, NULL, NULL },
	{ "domain_underscore", "alice@exa_mple.test", 0, RADDR_DOMAIN_SYNTAX, NULL, NULL, NULL },
	{ "domain_label_64", "alice@" D63 "d.test", 0, RADDR_DOMAIN_SYNTAX, NULL, NULL, NULL },
	{ "domain_hyphen_start", "alice@-example.test", 0, RADDR_DOMAIN_SYNTAX, NULL, NULL,
	    NULL },
	{ "domain_bare_ip", "alice@192.0.2.1", 0, RADDR_DOMAIN_SYNTAX, NULL, NULL, NULL },
	{ "domain_one_label", "alice@localhost", 0, RADDR_DOMAIN_NOT_FQDN, NULL, NULL, NULL },
	{ "domain_missing_dot", "alice@gmailcom", 0, RADDR_DOMAIN_NOT_FQDN, NULL, NULL, NULL },
	{ "idn_disallowed", "alice@\xe2\x98\x83.test", 0, RADDR_DOMAIN_IDN, NULL, NULL, NULL },
	{ "alabel_bad_punycode", "alice@xn--zz.test", 0, RADDR_DOMAIN_IDN, NULL, NULL, NULL },
	{ "literal_not_address", "alice@[mail.example.test]", 0, RADDR_DOMAIN_LITERAL, NULL,
	    NULL, NULL },
	{ "literal_unclosed", "alice@[192.0.2.1", 0, RADDR_DOMAIN_LITERAL, NULL, NULL, NULL },
};

Test(recipient_addr, table_of_valid_and_invalid_addresses)
{
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct addr_case *c = &cases[i];
		struct recipient_addr a;
		size_t len = c->len != 0 ? c->len : strlen(c->input);
		int r = recipient_addr_parse(c->input, len, &a);

		cr_expect_eq(a.problem, c->problem, "case %s: problem %s, expected %s (%s)",
		    c->name, recipient_addr_problem_name(a.problem),
		    recipient_addr_problem_name(c->problem), a.detail);
		if (c->problem == RADDR_OK) {
			cr_expect_eq(r, 0, "case %s: rejected: %s", c->name, a.detail);
			cr_expect_str_empty(a.detail, "case %s", c->name);
			if (r == 0) {
				cr_expect_str_eq(a.local, c->local, "case %s: local", c->name);
				cr_expect_str_eq(a.domain_ascii, c->ascii, "case %s: ascii",
				    c->name);
				cr_expect_str_eq(a.domain_unicode, c->unicode,
				    "case %s: unicode", c->name);
			}
		} else {
			cr_expect_eq(r, -1, "case %s: accepted", c->name);
			cr_expect_str_not_empty(a.detail, "case %s: no detail", c->name);
			cr_expect_null(a.domain_ascii, "case %s: ascii set on failure", c->name);
		}
		recipient_addr_release(&a);
	}
}

Test(recipient_addr, flags_describe_the_form)
{
	struct recipient_addr a;

	cr_assert_eq(recipient_addr_parse("\"a b\"@x.test", 11, &a), 0);
	cr_expect(a.quoted);
	cr_expect_not(a.idn);
	cr_expect_not(a.utf8_local);
	recipient_addr_release(&a);

	cr_assert_eq(recipient_addr_parse("j\xc3\xb6rg@b\xc3\xbc" "cher.test",
	    strlen("j\xc3\xb6rg@b\xc3\xbc" "cher.test"), &a), 0);
	cr_expect(a.utf8_local);
	cr_expect(a.idn);
	cr_expect_not(a.quoted);
	recipient_addr_release(&a);

	cr_assert_eq(recipient_addr_parse("a@x.test.", 9, &a), 0);
	cr_expect(a.final_dot);
	cr_expect_str_eq(a.domain, "x.test");
	recipient_addr_release(&a);

	cr_assert_eq(recipient_addr_parse("a@[192.0.2.1]", 13, &a), 0);
	cr_expect(a.literal);
	recipient_addr_release(&a);
}

Test(recipient_addr, parts_are_kept_when_the_address_is_invalid)
{
	struct recipient_addr a;

	cr_assert_eq(recipient_addr_parse("al..ice@gmial.com", 17, &a), -1);
	cr_expect_eq(a.problem, RADDR_DOT_DOUBLE);
	cr_expect_str_eq(a.local, "al..ice");
	cr_expect_str_eq(a.domain, "gmial.com");
	recipient_addr_release(&a);
}

Test(recipient_addr, length_is_honoured_not_the_nul)
{
	struct recipient_addr a;

	/* only the first 7 bytes: "alice@x" - a one-label domain */
	cr_assert_eq(recipient_addr_parse("alice@x.test", 7, &a), -1);
	cr_expect_eq(a.problem, RADDR_DOMAIN_NOT_FQDN);
	recipient_addr_release(&a);
}

Test(recipient_addr, problem_names_are_distinct_snake_case)
{
	size_t i, j;

	for (i = 0; i < RADDR_PROBLEM_COUNT; i++) {
		const char *n = recipient_addr_problem_name((enum recipient_addr_problem)i);

		cr_assert_not_null(n);
		cr_expect(strspn(n, "abcdefghijklmnopqrstuvwxyz0123456789_") == strlen(n),
		    "'%s' is not snake_case", n);
		for (j = 0; j < i; j++)
			cr_expect_str_neq(n,
			    recipient_addr_problem_name((enum recipient_addr_problem)j));
	}
	cr_expect_str_eq(recipient_addr_problem_name(RADDR_PROBLEM_COUNT), "unknown");
}

struct dist_case {
	const char *a, *b;
	int max, want;
};

static const struct dist_case dists[] = {
	{ "gmail.com", "gmail.com", 2, 0 },
	{ "gmial.com", "gmail.com", 2, 1 },	/* neighbours swapped */
	{ "gmail.co", "gmail.com", 2, 1 },	/* a letter missing */
	{ "gmaill.com", "gmail.com", 2, 1 },	/* a letter added */
	{ "gmsil.com", "gmail.com", 2, 1 },	/* a letter changed */
	{ "hotmai.co", "hotmail.com", 2, 2 },
	{ "abc", "xyz", 2, 3 },			/* capped at max + 1 */
	{ "a", "abcdef", 2, 3 },		/* length difference alone is over */
	{ "", "ab", 2, 2 },
	{ "ca", "abc", 3, 3 },			/* OSA: no edit of a transposed pair */
};

Test(recipient_addr, edit_distance_counts_swaps_as_one)
{
	size_t i;

	for (i = 0; i < sizeof(dists) / sizeof(dists[0]); i++)
		cr_expect_eq(recipient_edit_distance(dists[i].a, dists[i].b, dists[i].max),
		    dists[i].want, "'%s' vs '%s'", dists[i].a, dists[i].b);
}

static const char *const common[] = {
	"gmail.com", "yahoo.com", "hotmail.com", "outlook.com", "aol.com", "mail.com",
	"ymail.com", "yahoo.co.uk",
};

struct typo_case {
	const char *name;
	const char *domain;
	const char *want;	/* NULL: no suggestion */
	int distance;
};

static const struct typo_case typos[] = {
	{ "swap", "gmial.com", "gmail.com", 1 },
	{ "missing_m", "gmail.co", "gmail.com", 1 },
	{ "swap_hotmail", "hotmial.com", "hotmail.com", 1 },
	{ "missing_o", "yaho.com", "yahoo.com", 1 },
	{ "missing_o_outlook", "outlok.com", "outlook.com", 1 },
	{ "missing_dot", "gmailcom", "gmail.com", 1 },
	{ "two_slips_long", "hotmai.co", "hotmail.com", 2 },
	{ "exact_is_no_typo", "gmail.com", NULL, 0 },
	{ "lookalike_in_list", "ymail.com", NULL, 0 },
	{ "two_slips_short_refused", "axl.co", NULL, 0 },
	{ "unrelated", "example.test", NULL, 0 },
	{ "tie_takes_first", "ail.com", "aol.com", 1 },
};

Test(recipient_addr, typo_suggestions_table)
{
	size_t i;

	for (i = 0; i < sizeof(typos) / sizeof(typos[0]); i++) {
		const struct typo_case *c = &typos[i];
		int d = -1;
		const char *s = recipient_typo_suggest(c->domain, common,
		    sizeof(common) / sizeof(common[0]), 2, &d);

		if (c->want == NULL) {
			cr_expect_null(s, "case %s: suggested %s", c->name, s);
			continue;
		}
		cr_expect_not_null(s, "case %s: no suggestion", c->name);
		if (s != NULL) {
			cr_expect_str_eq(s, c->want, "case %s", c->name);
			cr_expect_eq(d, c->distance, "case %s: distance", c->name);
		}
	}
}

Test(recipient_addr, max_distance_zero_suggests_nothing)
{
	cr_expect_null(recipient_typo_suggest("gmial.com", common, 1, 0, NULL));
	cr_expect_not_null(recipient_typo_suggest("gmial.com", common, 1, 1, NULL));
}
