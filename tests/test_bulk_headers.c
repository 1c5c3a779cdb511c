/* Tests of checks/bulk/headers.c: header fields unfolded and counted, List-Unsubscribe URIs, the One-Click value. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "checks/bulk/headers.h"
#include "core/util.h"

Test(bulk_headers, fields_are_unfolded_counted_and_found_without_regard_to_case)
{
	static const char msg[] =
	    "From: a@example.test\r\n"
	    "List-Unsubscribe: <https://example.test/u?id=1>,\r\n"
	    "\t<mailto:u@example.test>\r\n"
	    "message-id: <1@example.test>\r\n"
	    "Message-ID : <2@example.test>\r\n"
	    "\r\n"
	    "From: not a header, the body\r\n";
	struct bulk_headers h;

	bulk_headers_parse(msg, strlen(msg), &h);
	cr_expect_eq(h.n, 4);
	cr_expect_eq(bulk_headers_count(&h, "from"), 1, "the body's lines are no fields");
	cr_expect_eq(bulk_headers_count(&h, "Message-Id"), 2, "a blank before the colon still names it");
	cr_expect_str_eq(bulk_headers_get(&h, "LIST-UNSUBSCRIBE"),
	    "<https://example.test/u?id=1>,\t<mailto:u@example.test>");
	cr_expect_null(bulk_headers_get(&h, "Date"));
	cr_expect_not(h.no_body_separator);
	bulk_headers_release(&h);
}

Test(bulk_headers, bare_lf_and_a_missing_body_are_read)
{
	static const char msg[] = "Date: Thu, 04 Dec 2025 10:00:00 +0000\nFrom: a@b.test";
	struct bulk_headers h;

	bulk_headers_parse(msg, strlen(msg), &h);
	cr_expect_eq(h.n, 2);
	cr_expect_str_eq(bulk_headers_get(&h, "From"), "a@b.test");
	cr_expect(h.no_body_separator);
	bulk_headers_release(&h);
}

Test(bulk_headers, lines_without_a_colon_and_fields_past_the_limit_are_not_fields)
{
	struct bulk_headers h;
	struct strbuf sb;
	size_t i;

	strbuf_init(&sb);
	strbuf_addstr(&sb, "no colon here\r\n");
	for (i = 0; i < BULK_MAX_FIELDS + 5; i++)
		strbuf_addf(&sb, "X-N%zu: %zu\r\n", i, i);
	strbuf_addstr(&sb, "\r\n");
	bulk_headers_parse(sb.buf, sb.len, &h);
	cr_expect_eq(h.n, BULK_MAX_FIELDS);
	cr_expect(h.truncated);
	cr_expect_null(bulk_headers_get(&h, "no colon here"));
	bulk_headers_release(&h);
	strbuf_release(&sb);
}

Test(bulk_headers, list_unsubscribe_gives_its_first_https_uri)
{
	static const struct {
		const char *value;
		const char *uri;	/* NULL: none */
		const char *why;
	} cases[] = {
		{ "<https://example.test/u/1>", "https://example.test/u/1", NULL },
		{ "<mailto:u@example.test>, <HTTPS://example.test/u/2>", "HTTPS://example.test/u/2",
		  NULL },
		{ "<mailto:u@example.test>", NULL, "only mailto:" },
		{ "<http://example.test/u>, <mailto:u@example.test>", NULL, "only http:, mailto:" },
		{ "https://example.test/u/3", NULL, "angle brackets" },
		{ "<https:>", NULL, "no https" },
		{ "", NULL, "angle brackets" },
	};
	char why[160], *uri;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		why[0] = '\0';
		if (cases[i].uri != NULL) {
			cr_expect_eq(bulk_unsubscribe_https(cases[i].value, &uri, why, sizeof(why)), 0,
			    "'%s': %s", cases[i].value, why);
			cr_expect_str_eq(uri, cases[i].uri);
			free(uri);
		} else {
			cr_expect_eq(bulk_unsubscribe_https(cases[i].value, &uri, why, sizeof(why)),
			    -1, "'%s'", cases[i].value);
			cr_expect_null(uri);
			cr_expect(strstr(why, cases[i].why) != NULL, "'%s': %s", cases[i].value, why);
		}
	}
}

Test(bulk_headers, one_click_value_is_the_exact_rfc_8058_text)
{
	cr_expect(bulk_one_click_post("List-Unsubscribe=One-Click"));
	cr_expect(bulk_one_click_post("  list-unsubscribe=one-click "));
	cr_expect_not(bulk_one_click_post("List-Unsubscribe=One-Click; extra"));
	cr_expect_not(bulk_one_click_post("One-Click"));
	cr_expect_not(bulk_one_click_post(""));
}
