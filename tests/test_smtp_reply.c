/* Tests of checks/smtp/reply.c: SMTP replies whole, split anywhere, multi-line, with enhanced codes, and what is not a reply. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checks/smtp/reply.h"
#include "core/util.h"

/* Parses text (n bytes) expecting a whole reply. */
static void
parse_whole(const char *text, size_t n, struct smtp_reply *r, size_t *used)
{
	char why[200] = "";

	cr_assert_eq(smtp_reply_parse(text, n, r, used, why, sizeof(why)), 1,
	    "'%s' is not a whole reply: %s", text, why);
}

Test(smtp_reply, one_line_gives_code_enhanced_code_and_text)
{
	static const char text[] = "550 5.1.1 <bob@example.test>: user unknown\r\n";
	struct smtp_reply r;
	size_t used;

	parse_whole(text, strlen(text), &r, &used);
	cr_expect_eq(r.code, 550);
	cr_expect_eq(smtp_reply_class(&r), 5);
	cr_expect_str_eq(r.enhanced, "5.1.1");
	cr_expect_str_eq(r.text, "5.1.1 <bob@example.test>: user unknown");
	cr_expect_eq(r.nlines, 1);
	cr_expect_eq(used, strlen(text));
	cr_expect_eq(r.rawlen, strlen(text));
	cr_expect_str_eq(r.raw, text, "the raw reply is the bytes as received");
	smtp_reply_release(&r);
}

Test(smtp_reply, multi_line_reply_ends_at_the_line_without_a_hyphen)
{
	static const char text[] = "550-5.7.1 first\r\n550-5.7.1 second\r\n550 5.7.1 last\r\n";
	struct smtp_reply r;
	size_t used;

	parse_whole(text, strlen(text), &r, &used);
	cr_expect_eq(r.nlines, 3);
	cr_expect_str_eq(r.text, "5.7.1 first\n5.7.1 second\n5.7.1 last");
	cr_expect_str_eq(r.enhanced, "5.7.1");
	cr_expect_eq(used, strlen(text));
	smtp_reply_release(&r);
}

Test(smtp_reply, a_reply_split_at_any_byte_waits_for_the_rest)
{
	static const char text[] = "250-mx.example.test\r\n250-PIPELINING\r\n250 8BITMIME\r\n";
	size_t n = strlen(text), i, used;
	struct smtp_reply r;
	char why[200];

	for (i = 0; i < n; i++) {
		why[0] = '\0';
		cr_expect_eq(smtp_reply_parse(text, i, &r, &used, why, sizeof(why)), 0,
		    "a prefix of %zu bytes: %s", i, why);
	}
	parse_whole(text, n, &r, &used);
	cr_expect_eq(r.nlines, 3);
	smtp_reply_release(&r);
}

Test(smtp_reply, the_next_reply_starts_where_used_ends)
{
	static const char text[] = "250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n";
	struct smtp_reply r;
	size_t used;

	parse_whole(text, strlen(text), &r, &used);
	cr_expect_eq(used, 14);
	cr_expect_str_eq(r.enhanced, "2.1.0");
	smtp_reply_release(&r);
	parse_whole(text + used, strlen(text) - used, &r, &used);
	cr_expect_str_eq(r.enhanced, "2.1.5");
	smtp_reply_release(&r);
}

Test(smtp_reply, bare_lf_and_a_code_alone_are_read)
{
	struct smtp_reply r;
	size_t used;

	parse_whole("220 ready\n", 10, &r, &used);
	cr_expect_eq(r.code, 220);
	cr_expect_str_eq(r.text, "ready");
	smtp_reply_release(&r);
	/* RFC 5321 4.2: Reply-code [ SP textstring ] CRLF */
	parse_whole("250\r\n", 5, &r, &used);
	cr_expect_eq(r.code, 250);
	cr_expect_str_eq(r.text, "");
	cr_expect_str_eq(r.enhanced, "");
	smtp_reply_release(&r);
}

Test(smtp_reply, enhanced_code_needs_the_replys_class_and_its_syntax)
{
	static const struct {
		const char *text;
		const char *enhanced;
	} cases[] = {
		{ "550 5.7.1 blocked\r\n", "5.7.1" },
		{ "550 5.7.510 Access denied\r\n", "5.7.510" },
		{ "451 4.7.1 try later\r\n", "4.7.1" },
		{ "550 4.7.1 class differs\r\n", "" },
		{ "550 5.7 too short\r\n", "" },
		{ "550 5.7.1234 detail too long\r\n", "" },
		{ "550 5.7.1blocked no space after\r\n", "" },
		{ "550 5.7.1\r\n", "5.7.1" },
		{ "550 blocked 5.7.1\r\n", "" },
	};
	struct smtp_reply r;
	size_t i, used;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		parse_whole(cases[i].text, strlen(cases[i].text), &r, &used);
		cr_expect_str_eq(r.enhanced, cases[i].enhanced, "'%s'", cases[i].text);
		smtp_reply_release(&r);
	}
}

Test(smtp_reply, bytes_that_are_not_a_reply_are_refused_with_a_reason)
{
	static const struct {
		const char *text;
		const char *why;
	} cases[] = {
		{ "HTTP/1.1 400 Bad Request\r\n", "reply code" },
		{ "HTTP/1.1", "reply line" },
		{ "600 no such class\r\n", "reply code" },
		{ "199 too low\r\n", "reply code" },
		{ "260 second digit over 5\r\n", "reply code" },
		{ "25 short\r\n", "reply code" },
		{ "250_x separator\r\n", "reply code" },
		{ "250-one\r\n251 other code\r\n", "codes 250 and 251" },
		{ "\x16\x03\x01\x02\x00", "reply line" },
	};
	struct smtp_reply r;
	size_t i, used;
	char why[200];

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		why[0] = '\0';
		cr_expect_eq(smtp_reply_parse(cases[i].text, strlen(cases[i].text), &r, &used, why,
		    sizeof(why)), -1, "'%s' was taken for a reply", cases[i].text);
		cr_expect(strstr(why, cases[i].why) != NULL, "'%s': reason '%s'", cases[i].text,
		    why);
	}
}

Test(smtp_reply, over_long_lines_and_endless_replies_are_refused)
{
	size_t n = SMTP_LINE_MAX + 10, i, used;
	char *line = xmalloc(n + 1), why[200] = "";
	struct smtp_reply r;
	struct strbuf sb;

	memset(line, 'a', n);
	memcpy(line, "250 ", 4);
	line[n] = '\0';
	/* no end in sight: refused before the line ends */
	cr_expect_eq(smtp_reply_parse(line, n, &r, &used, why, sizeof(why)), -1);
	cr_expect(strstr(why, "over") != NULL, "%s", why);
	strbuf_init(&sb);
	for (i = 0; i <= SMTP_REPLY_MAX_LINES; i++)
		strbuf_addstr(&sb, "250-more\r\n");
	cr_expect_eq(smtp_reply_parse(sb.buf, sb.len, &r, &used, why, sizeof(why)), -1);
	cr_expect(strstr(why, "lines") != NULL, "%s", why);
	strbuf_release(&sb);
	free(line);
}

Test(smtp_reply, nul_and_eight_bit_bytes_stay_in_the_text)
{
	static const char text[] = "554 bad\0byte \xff here\r\n";
	struct smtp_reply r;
	size_t used;

	parse_whole(text, sizeof(text) - 1, &r, &used);
	cr_expect_eq(r.textlen, sizeof(text) - 1 - 6, "every byte of the text is kept");
	cr_expect_eq(memcmp(r.text, "bad\0byte \xff here", r.textlen), 0);
	cr_expect_eq(r.rawlen, sizeof(text) - 1);
	smtp_reply_release(&r);
}

static void
collect(const char *keyword, const char *line, size_t linelen, void *arg)
{
	struct strbuf *sb = arg;

	strbuf_addf(sb, "%s|%.*s;", keyword, (int)linelen, line);
}

Test(smtp_reply, ehlo_keywords_are_upper_cased_and_the_greeting_skipped)
{
	static const char text[] = "250-mx.example.test greets you\r\n250-pipelining\r\n"
	    "250-SIZE 10240000\r\n250-AUTH=LOGIN PLAIN\r\n250- bad line\r\n250 8BITMIME\r\n";
	struct smtp_reply r;
	struct strbuf sb;
	size_t used;

	parse_whole(text, strlen(text), &r, &used);
	strbuf_init(&sb);
	smtp_reply_ehlo_keywords(&r, collect, &sb);
	cr_expect_str_eq(sb.buf, "PIPELINING|pipelining;SIZE|SIZE 10240000;AUTH|AUTH=LOGIN PLAIN;"
	    "8BITMIME|8BITMIME;");
	strbuf_release(&sb);
	smtp_reply_release(&r);
}
