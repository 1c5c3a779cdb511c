/* Tests of the DMARC record parser (checks/dmarc_record.c): tags, defaults, every error with its tag. */
#include <criterion/criterion.h>
#include <string.h>

#include "checks/dmarc/record.h"

static int
parse(struct dmarc_record *rec, const char *text)
{
	return dmarc_record_parse(rec, text, strlen(text));
}

/* The index of the first error about tag, or -1. */
static int
error_about(const struct dmarc_record *rec, const char *tag)
{
	size_t i;

	for (i = 0; i < rec->nerrors; i++)
		if (strcmp(rec->errors[i].tag, tag) == 0)
			return (int)i;
	return -1;
}

Test(dmarc_record, full_record_gives_every_tag)
{
	struct dmarc_record rec;

	cr_assert_eq(parse(&rec, "v=DMARC1; p=quarantine; sp=reject; pct=25; adkim=s; "
	    "aspf=s; fo=1:d; rf=afrf; ri=3600; rua=mailto:a@example.test,mailto:b@other.test!10m; "
	    "ruf=mailto:f@example.test"), 0);
	cr_assert_eq(rec.p, DMARC_POLICY_QUARANTINE);
	cr_assert_eq(rec.sp, DMARC_POLICY_REJECT);
	cr_assert_eq(rec.pct, 25);
	cr_assert(rec.adkim_strict);
	cr_assert(rec.aspf_strict);
	cr_assert_str_eq(rec.fo, "1:d");
	cr_assert_eq(rec.ri, 3600);
	cr_assert_eq(rec.nrua, 2);
	cr_assert_str_eq(rec.rua[1].uri, "mailto:b@other.test!10m");
	cr_assert_str_eq(rec.rua[1].mailto_domain, "other.test");
	cr_assert_eq(rec.nruf, 1);
	cr_assert_eq(rec.nerrors, 0, "unexpected error: %s",
	    rec.nerrors ? rec.errors[0].message : "");
	dmarc_record_release(&rec);
}

Test(dmarc_record, defaults_apply_when_tags_are_absent)
{
	struct dmarc_record rec;
	enum dmarc_policy p, sp;

	cr_assert_eq(parse(&rec, "v=DMARC1; p=reject"), 0);
	cr_assert_eq(rec.sp, DMARC_POLICY_ABSENT);
	cr_assert_eq(rec.pct, 100);
	cr_assert_not(rec.adkim_strict);
	cr_assert_not(rec.aspf_strict);
	cr_assert_str_eq(rec.fo, "0");
	cr_assert_str_eq(rec.rf, "afrf");
	cr_assert_eq(rec.ri, 86400);
	/* RFC 7489 6.3: sp defaults to p */
	cr_assert(dmarc_record_effective(&rec, &p, &sp));
	cr_assert_eq(p, DMARC_POLICY_REJECT);
	cr_assert_eq(sp, DMARC_POLICY_REJECT);
	dmarc_record_release(&rec);
}

Test(dmarc_record, whitespace_around_separators_and_final_semicolon_are_allowed)
{
	struct dmarc_record rec;

	cr_assert_eq(parse(&rec, "v = DMARC1 ;\tp = reject ; ;"), 0);
	cr_assert_eq(rec.p, DMARC_POLICY_REJECT);
	cr_assert_eq(rec.nerrors, 0);
	dmarc_record_release(&rec);
}

Test(dmarc_record, version_must_be_first_and_exact)
{
	struct dmarc_record rec;

	cr_assert(dmarc_record_is_dmarc("v=DMARC1; p=none", 16));
	cr_assert_not(dmarc_record_is_dmarc("p=reject; v=DMARC1", 18));
	cr_assert_not(dmarc_record_is_dmarc("v=DMARC10; p=none", 17));
	cr_assert_not(dmarc_record_is_dmarc("v=spf1 -all", 11));
	cr_assert_not(dmarc_record_is_dmarc("", 0));
	cr_assert(dmarc_record_version_misplaced("p=reject; v=DMARC1", 18));
	cr_assert_not(dmarc_record_version_misplaced("v=spf1 -all", 11));
	cr_assert_eq(parse(&rec, "p=reject; v=DMARC1"), -1);
}

Test(dmarc_record, missing_p_is_an_error_and_valid_rua_makes_it_none)
{
	struct dmarc_record rec;
	enum dmarc_policy p, sp;

	cr_assert_eq(parse(&rec, "v=DMARC1; rua=mailto:d@nop.example"), 0);
	cr_assert_eq(rec.p, DMARC_POLICY_ABSENT);
	cr_assert_geq(error_about(&rec, "p"), 0);
	/* RFC 7489 6.6.3 step 6 */
	cr_assert(dmarc_record_effective(&rec, &p, &sp));
	cr_assert_eq(p, DMARC_POLICY_NONE);
	cr_assert_eq(sp, DMARC_POLICY_NONE);
	dmarc_record_release(&rec);
}

Test(dmarc_record, bad_p_without_rua_makes_the_record_unusable)
{
	struct dmarc_record rec;
	enum dmarc_policy p, sp;

	cr_assert_eq(parse(&rec, "v=DMARC1; p=block"), 0);
	cr_assert_eq(rec.p, DMARC_POLICY_INVALID);
	cr_assert_eq(rec.nerrors, 1);
	cr_assert_str_eq(rec.errors[0].tag, "p");
	cr_assert(strstr(rec.errors[0].message, "block") != NULL);
	cr_assert_not(dmarc_record_effective(&rec, &p, &sp));
	dmarc_record_release(&rec);
}

Test(dmarc_record, bad_sp_with_rua_falls_back_to_none)
{
	struct dmarc_record rec;
	enum dmarc_policy p, sp;

	cr_assert_eq(parse(&rec, "v=DMARC1; p=reject; sp=maybe; rua=mailto:d@badsp.example"), 0);
	cr_assert_eq(rec.sp, DMARC_POLICY_INVALID);
	cr_assert_geq(error_about(&rec, "sp"), 0);
	cr_assert(dmarc_record_effective(&rec, &p, &sp));
	cr_assert_eq(p, DMARC_POLICY_NONE);
	dmarc_record_release(&rec);
}

Test(dmarc_record, policy_values_ignore_case)
{
	struct dmarc_record rec;

	cr_assert_eq(parse(&rec, "v=DMARC1; P=Reject; SP=NONE"), 0);
	cr_assert_eq(rec.p, DMARC_POLICY_REJECT);
	cr_assert_eq(rec.sp, DMARC_POLICY_NONE);
	cr_assert_eq(rec.nerrors, 0);
	dmarc_record_release(&rec);
}

Test(dmarc_record, pct_out_of_range_is_an_error_and_keeps_100)
{
	struct dmarc_record rec;

	cr_assert_eq(parse(&rec, "v=DMARC1; p=reject; pct=150"), 0);
	cr_assert_eq(rec.pct, 100);
	cr_assert_geq(error_about(&rec, "pct"), 0);
	dmarc_record_release(&rec);
	cr_assert_eq(parse(&rec, "v=DMARC1; p=reject; pct=-1"), 0);
	cr_assert_geq(error_about(&rec, "pct"), 0);
	dmarc_record_release(&rec);
	cr_assert_eq(parse(&rec, "v=DMARC1; p=reject; pct=0"), 0);
	cr_assert_eq(rec.pct, 0);
	cr_assert_eq(rec.nerrors, 0);
	dmarc_record_release(&rec);
}

Test(dmarc_record, bad_alignment_modes_fo_rf_ri_are_errors_with_their_tag)
{
	struct dmarc_record rec;

	cr_assert_eq(parse(&rec, "v=DMARC1; p=none; adkim=x; aspf=strict; fo=2; rf=; ri=soon"), 0);
	cr_assert_geq(error_about(&rec, "adkim"), 0);
	cr_assert_geq(error_about(&rec, "aspf"), 0);
	cr_assert_geq(error_about(&rec, "fo"), 0);
	cr_assert_geq(error_about(&rec, "rf"), 0);
	cr_assert_geq(error_about(&rec, "ri"), 0);
	cr_assert_eq(rec.nerrors, 5);
	cr_assert_not(rec.adkim_strict);
	cr_assert_str_eq(rec.fo, "0");
	dmarc_record_release(&rec);
}

Test(dmarc_record, rua_without_scheme_is_dropped_with_an_error)
{
	struct dmarc_record rec;

	cr_assert_eq(parse(&rec, "v=DMARC1; p=reject; rua=dmarc@badrua.example, mailto:ok@badrua.example"), 0);
	cr_assert_eq(rec.nrua, 1);
	cr_assert_str_eq(rec.rua[0].uri, "mailto:ok@badrua.example");
	cr_assert_geq(error_about(&rec, "rua"), 0);
	cr_assert(strstr(rec.errors[0].message, "scheme") != NULL);
	dmarc_record_release(&rec);
}

Test(dmarc_record, rua_size_suffix_and_other_schemes)
{
	struct dmarc_record rec;

	cr_assert_eq(parse(&rec, "v=DMARC1; p=none; rua=mailto:d@size.example!10m,https://r.example/x,"
	    "mailto:e@size.example!big,mailto:nodomain"), 0);
	cr_assert_eq(rec.nrua, 2);
	cr_assert_str_eq(rec.rua[0].mailto_domain, "size.example");
	cr_assert_null(rec.rua[1].mailto_domain);
	cr_assert_eq(rec.nerrors, 2);
	cr_assert_str_eq(rec.errors[0].tag, "rua");
	cr_assert_str_eq(rec.errors[1].tag, "rua");
	dmarc_record_release(&rec);
}

Test(dmarc_record, unknown_tags_are_ignored_without_error)
{
	struct dmarc_record rec;

	cr_assert_eq(parse(&rec, "v=DMARC1; p=reject; foo=bar"), 0);
	cr_assert_eq(rec.nerrors, 0);
	cr_assert_eq(rec.nunknown, 1);
	cr_assert_str_eq(rec.unknown[0], "foo");
	dmarc_record_release(&rec);
}

Test(dmarc_record, duplicate_tags_and_pieces_without_equals_are_errors)
{
	struct dmarc_record rec;

	cr_assert_eq(parse(&rec, "v=DMARC1; p=reject; p=none; junk"), 0);
	cr_assert_eq(rec.p, DMARC_POLICY_REJECT, "the first p= counts");
	cr_assert_geq(error_about(&rec, "p"), 0);
	cr_assert_geq(error_about(&rec, "record"), 0);
	dmarc_record_release(&rec);
}

Test(dmarc_record, hostile_bytes_do_not_break_parsing)
{
	static const char text[] = "v=DMARC1; p=re\0ject; rua=mailto:a@\xff.example; fo=\x1b[31m";
	struct dmarc_record rec;

	cr_assert_eq(dmarc_record_parse(&rec, text, sizeof(text) - 1), 0);
	cr_assert_eq(rec.p, DMARC_POLICY_INVALID);
	cr_assert_eq(rec.nrua, 0);
	cr_assert_geq(error_about(&rec, "fo"), 0);
	cr_assert_null(strchr(rec.errors[error_about(&rec, "fo")].message, '\x1b'));
	dmarc_record_release(&rec);
}
