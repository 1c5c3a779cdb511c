/* Tests of src/textsafe.c: strict UTF-8 sanitizing and terminal escaping of hostile bytes. */
#include <criterion/criterion.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "core/textsafe.h"

struct textcase {
	const char *name;
	const char *in;
	size_t len;
	const char *utf8;	/* expected text_utf8_sanitize() */
	const char *term;	/* expected text_term_escape() */
};

#define CASE(n, s, u, t) { n, s, sizeof(s) - 1, u, t }

static const struct textcase cases[] = {
	CASE("empty", "", "", ""),
	CASE("ascii", "mail.example", "mail.example", "mail.example"),
	CASE("two-byte e acute", "caf\xc3\xa9", "caf\xc3\xa9", "caf\xc3\xa9"),
	CASE("three-byte euro", "\xe2\x82\xac", "\xe2\x82\xac", "\xe2\x82\xac"),
	CASE("four-byte emoji", "\xf0\x9f\x98\x80", "\xf0\x9f\x98\x80", "\xf0\x9f\x98\x80"),
	CASE("highest code point U+10FFFF", "\xf4\x8f\xbf\xbf", "\xf4\x8f\xbf\xbf",
	    "\xf4\x8f\xbf\xbf"),
	CASE("overlong NUL C0 80", "a\xc0\x80z", "a\\xc0\\x80z", "a\\xc0\\x80z"),
	CASE("overlong slash E0 80 AF", "\xe0\x80\xaf", "\\xe0\\x80\\xaf", "\\xe0\\x80\\xaf"),
	CASE("overlong four-byte F0 8F", "\xf0\x8f\xbf\xbf", "\\xf0\\x8f\\xbf\\xbf",
	    "\\xf0\\x8f\\xbf\\xbf"),
	CASE("surrogate ED A0 80", "\xed\xa0\x80", "\\xed\\xa0\\x80", "\\xed\\xa0\\x80"),
	CASE("last before surrogates ED 9F BF", "\xed\x9f\xbf", "\xed\x9f\xbf", "\xed\x9f\xbf"),
	CASE("above U+10FFFF F4 90 80 80", "\xf4\x90\x80\x80", "\\xf4\\x90\\x80\\x80",
	    "\\xf4\\x90\\x80\\x80"),
	CASE("F5 lead", "\xf5\x80\x80\x80", "\\xf5\\x80\\x80\\x80", "\\xf5\\x80\\x80\\x80"),
	CASE("lone FF", "x\xffy", "x\\xffy", "x\\xffy"),
	CASE("stray continuation", "\x80" "a", "\\x80a", "\\x80a"),
	CASE("truncated two-byte at end", "ab\xc3", "ab\\xc3", "ab\\xc3"),
	CASE("truncated three-byte then ascii", "\xe2\x82" "A", "\\xe2\\x82A", "\\xe2\\x82A"),
	CASE("truncated then valid", "\xe2\xc3\xa9", "\\xe2\xc3\xa9", "\\xe2\xc3\xa9"),
	CASE("NUL in the middle", "a\0b", "a\\x00b", "a\\x00b"),
	CASE("ESC colour sequence", "\x1b[31mred\x1b[0m", "\x1b[31mred\x1b[0m",
	    "\\x1b[31mred\\x1b[0m"),
	CASE("newline and tab", "a\nb\tc\r", "a\nb\tc\r", "a\\x0ab\\x09c\\x0d"),
	CASE("DEL", "a\x7f", "a\x7f", "a\\x7f"),
	CASE("C1 CSI U+009B", "\xc2\x9b" "2J", "\xc2\x9b" "2J", "\\xc2\\x9b2J"),
	CASE("first printable after C1 U+00A0", "\xc2\xa0", "\xc2\xa0", "\xc2\xa0"),
	CASE("bidi override U+202E", "abc\xe2\x80\xae" "def", "abc\xe2\x80\xae" "def",
	    "abc\\xe2\\x80\\xaedef"),
	CASE("hostile TXT", "v=spf1 \xff\x1b[31m", "v=spf1 \\xff\x1b[31m",
	    "v=spf1 \\xff\\x1b[31m"),
};

Test(textsafe, utf8_sanitize_matches_table)
{
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *got = text_utf8_sanitize(cases[i].in, cases[i].len);

		cr_expect_str_eq(got, cases[i].utf8, "case '%s'", cases[i].name);
		free(got);
	}
}

Test(textsafe, term_escape_matches_table)
{
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *got = text_term_escape(cases[i].in, cases[i].len);

		cr_expect_str_eq(got, cases[i].term, "case '%s'", cases[i].name);
		free(got);
	}
}

Test(textsafe, term_escape_leaves_no_control_byte)
{
	unsigned char all[256];
	char *got;
	size_t i;

	for (i = 0; i < 256; i++)
		all[i] = (unsigned char)i;
	got = text_term_escape((const char *)all, sizeof(all));
	for (i = 0; got[i] != '\0'; i++)
		cr_assert(((unsigned char)got[i] >= 0x20 && got[i] != 0x7f),
		    "control byte 0x%02x at %zu", (unsigned char)got[i], i);
	free(got);
}

Test(textsafe, len_counts_bytes_past_nul)
{
	char *got = text_utf8_sanitize("ab\0cd", 5);

	cr_expect_str_eq(got, "ab\\x00cd");
	free(got);
	got = text_utf8_sanitize("abcdef", 3);
	cr_expect_str_eq(got, "abc");
	free(got);
}

Test(textsafe, json_text_is_always_a_valid_string)
{
	json_t *j = json_text("\xff\xfe\0\xc0\xaf", 5);
	char *dump;

	cr_assert_not_null(j);
	cr_assert(json_is_string(j));
	cr_expect_str_eq(json_string_value(j), "\\xff\\xfe\\x00\\xc0\\xaf");
	dump = json_dumps(j, JSON_ENCODE_ANY);
	cr_assert_not_null(dump, "jansson refused to encode the sanitized string");
	free(dump);
	json_decref(j);
}

Test(textsafe, json_str_null_is_json_null)
{
	json_t *j = json_str(NULL);

	cr_expect(json_is_null(j));
	json_decref(j);
	j = json_str("ok");
	cr_expect_str_eq(json_string_value(j), "ok");
	json_decref(j);
}

Test(textsafe, json_sanitize_repairs_keys_and_nested_strings)
{
	json_t *raw = json_object(), *arr = json_array(), *clean;
	char *dump;

	json_array_append_new(arr, json_stringn_nocheck("a\xff", 2));
	json_array_append_new(arr, json_integer(7));
	json_object_set_new_nocheck(raw, "k\xfe", arr);
	json_object_set_new(raw, "ok", json_true());
	clean = json_sanitize(raw);
	cr_assert(json_is_object(clean));
	arr = json_object_get(clean, "k\\xfe");
	cr_assert(json_is_array(arr), "key not sanitized");
	cr_expect_str_eq(json_string_value(json_array_get(arr, 0)), "a\\xff");
	cr_expect_eq(json_integer_value(json_array_get(arr, 1)), 7);
	cr_expect(json_is_true(json_object_get(clean, "ok")));
	dump = json_dumps(clean, 0);
	cr_expect_not_null(dump);
	free(dump);
	json_decref(clean);
	json_decref(raw);
}

Test(textsafe, quote_escapes_and_says_the_length_it_cut)
{
	char buf[TEXT_QUOTE_SIZE(8)];
	char big[300];

	text_quote(buf, sizeof(buf), "ab\x1b\x07'\xff", 6, 8);
	cr_expect_str_eq(buf, "ab\\x1b\\x07\\x27\\xff", "short input: escaped, not cut");
	memset(big, 'x', sizeof(big));
	text_quote(buf, sizeof(buf), big, sizeof(big), 8);
	cr_expect_str_eq(buf, "xxxxxxxx... (300 bytes)");
	/* an input that merely ends in dots is not taken for a cut one */
	text_quote(buf, sizeof(buf), "wait...", 7, 8);
	cr_expect_str_eq(buf, "wait...");
}

Test(textsafe, quote_into_a_small_buffer_stays_terminated)
{
	char buf[12];
	char big[64];

	memset(big, '\x1b', sizeof(big));
	text_quote(buf, sizeof(buf), big, sizeof(big), 40);
	cr_expect_lt(strlen(buf), sizeof(buf));
	cr_expect_eq(strncmp(buf, "\\x1b", 4), 0, "got %s", buf);
}

Test(textsafe, term_unsafe_at_finds_the_first_byte_a_terminal_must_not_see)
{
	static const struct {
		const char *s;
		size_t at;
	} unsafe[] = {
		{ "plain\ttab and caf\xc3\xa9", 19 },	/* none: the length */
		{ "red \x1b[31m", 4 },
		{ "bell\x07", 4 },
		{ "\xff", 0 },
		{ "ok \xe2\x80\xae evil", 3 },		/* U+202E reorders the line */
		{ "next \xc2\x85 line", 5 },		/* C1 NEL */
		{ "over \xc0\x80", 5 },
		{ "", 0 },
	};
	size_t i;

	for (i = 0; i < sizeof(unsafe) / sizeof(unsafe[0]); i++)
		cr_expect_eq(text_term_unsafe_at(unsafe[i].s, strlen(unsafe[i].s)), unsafe[i].at,
		    "case %zu", i);
	cr_expect_eq(text_term_unsafe_at("a\0b", 3), 1, "NUL");
}
