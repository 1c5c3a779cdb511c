/* Tests of target validation: addresses, HELO names, senders, recipients, files, selectors. */
#include <criterion/criterion.h>

#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/target.h"
#include "tests/support.h"

struct ip_case {
	const char *name;
	const char *input;
	const char *canon;	/* NULL: rejected */
	int family;
};

static const struct ip_case ip_cases[] = {
	{ "v4", "192.0.2.1", "192.0.2.1", AF_INET },
	{ "v6_canonical", "2001:DB8:0:0::1", "2001:db8::1", AF_INET6 },
	{ "v6_mapped_stays_v6", "::FFFF:192.0.2.1", "::ffff:192.0.2.1", AF_INET6 },
	{ "v4_three_parts", "1.2.3", NULL, 0 },
	{ "empty", "", NULL, 0 },
	{ "hostname", "mail.example.com", NULL, 0 },
	{ "leading_zero", "01.2.3.4", NULL, 0 },
	{ "cidr", "192.0.2.0/24", NULL, 0 },
	{ "bracketed", "[192.0.2.1]", NULL, 0 },
};

Test(target, set_ip_stores_canonical_text_and_bytes)
{
	char want[256];
	size_t i;

	for (i = 0; i < sizeof(ip_cases) / sizeof(ip_cases[0]); i++) {
		const struct ip_case *c = &ip_cases[i];
		struct target t;
		struct error err = { "" };
		int r;

		target_init(&t);
		r = target_set_ip(&t, "--ip", c->input, &err);
		if (c->canon == NULL) {
			cr_assert_eq(r, -1, "case %s: accepted", c->name);
			snprintf(want, sizeof(want),
			    "--ip: '%s' is not an IPv4 or IPv6 address", c->input);
			cr_assert_str_eq(err.msg, want, "case %s", c->name);
			cr_assert_null(t.ip, "case %s: ip set", c->name);
		} else {
			cr_assert_eq(r, 0, "case %s: %s", c->name, err.msg);
			cr_assert_str_eq(t.ip, c->canon, "case %s", c->name);
			cr_assert_eq(t.ip_family, c->family, "case %s: family", c->name);
		}
		target_release(&t);
	}
}

Test(target, set_ip_fills_address_bytes)
{
	struct target t;
	struct error err = { "" };
	const unsigned char v4[4] = { 192, 0, 2, 33 };

	target_init(&t);
	cr_assert_eq(target_set_ip(&t, "ip", "192.0.2.33", &err), 0);
	cr_assert(memcmp(t.ip_addr, v4, 4) == 0);
	cr_assert_eq(target_set_ip(&t, "ip", "::1", &err), 0, "a second call replaces");
	cr_assert_str_eq(t.ip, "::1");
	cr_assert_eq(t.ip_addr[15], 1);
	cr_assert_eq(t.ip_addr[0], 0);
	target_release(&t);
	cr_assert_null(t.ip, "release zeroes");
}

struct helo_case {
	const char *name;
	const char *input;
	const char *msg;	/* NULL: accepted */
};

Test(target, set_helo_keeps_what_a_client_can_send)
{
	char l64[65], long_name[100], over[520];
	size_t i;

	memset(l64, 'a', 64);
	l64[64] = '\0';
	snprintf(long_name, sizeof(long_name), "%s.example", l64);
	memset(over, 'a', 506);
	over[506] = '\0';

	const struct helo_case cases[] = {
		{ "name", "mail.example.com", NULL },
		{ "name_trailing_dot", "mail.example.com.", NULL },
		{ "bare_word", "localhost", NULL },
		{ "v4_literal", "[192.0.2.1]", NULL },
		{ "v6_literal", "[IPv6:2001:db8::1]", NULL },
		{ "v6_literal_tag_lower", "[ipv6:2001:db8::1]", NULL },
		{ "bare_ip_is_a_name", "192.0.2.1", NULL },
		/* a receiver sees these too: the checks diagnose them (RFC 7208 4.3: SPF none) */
		{ "label_64", long_name, NULL },
		{ "underscore", "mail_1.example.com", NULL },
		{ "leading_hyphen", "-mail.example.com", NULL },
		{ "space_and_quote", "JUMPIN' JUPITER", NULL },
		{ "percent_signs", "%%%%%%%%%%%%%%%%%%%%%%", NULL },
		{ "v6_without_tag", "[2001:db8::1]", NULL },
		{ "v4_short", "[1.2.3]", NULL },
		{ "unclosed", "[192.0.2.1", NULL },
		/* what no EHLO command can carry */
		{ "empty", "", "--helo: the name is empty" },
		{ "newline", "mail.example.com\r\nMAIL FROM:<x>",
		    "--helo: 'mail.example.com\\x0d\\x0aMAIL FROM:<x>' has the control character "
		    "\\x0d, which no SMTP command can carry" },
		{ "over_505_octets", over, NULL },
	};

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct helo_case *c = &cases[i];
		struct target t;
		struct error err = { "" };
		bool refused = c->msg != NULL || strlen(c->input) > 505;
		int r;

		target_init(&t);
		r = target_set_helo(&t, "--helo", c->input, &err);
		if (!refused) {
			cr_assert_eq(r, 0, "case %s: %s", c->name, err.msg);
			cr_assert_str_eq(t.helo, c->input, "case %s: stored as given", c->name);
		} else {
			cr_assert_eq(r, -1, "case %s: accepted", c->name);
			if (c->msg != NULL)
				cr_assert_str_eq(err.msg, c->msg, "case %s", c->name);
			else
				cr_assert(strstr(err.msg, "is over 505 octets") != NULL, "case %s: %s",
				    c->name, err.msg);
			cr_assert_null(t.helo, "case %s", c->name);
		}
		target_release(&t);
	}
}

struct from_case {
	const char *name;
	const char *input;
	bool null_sender;
	const char *local;
	const char *domain;
	const char *msg;	/* NULL: accepted */
};

static const struct from_case from_cases[] = {
	{ "null_brackets", "<>", true, NULL, NULL, NULL },
	{ "null_empty", "", true, NULL, NULL, NULL },
	{ "plain", "bob@Example.COM", false, "bob", "example.com", NULL },
	{ "brackets", "<Bob.Smith+tag@mail.example.org>", false, "Bob.Smith+tag",
	    "mail.example.org", NULL },
	{ "bare_domain", "Example.COM", false, NULL, "example.com", NULL },
	{ "bare_domain_brackets", "<example.com>", false, NULL, "example.com", NULL },
	{ "domain_trailing_dot", "bob@example.com.", false, "bob", "example.com", NULL },
	{ "quoted_space", "\"a b\"@example.com", false, "\"a b\"", "example.com", NULL },
	{ "quoted_at", "\"a@b\"@example.com", false, "\"a@b\"", "example.com", NULL },
	{ "utf8_local", "j\xc3\xb6rg@example.com", false, "j\xc3\xb6rg", "example.com", NULL },
	/* RFC 7208 4.3: no local part is "postmaster" to SPF */
	{ "no_local", "@Example.NET", false, NULL, "example.net", NULL },
	{ "no_local_brackets", "<@example.net>", false, NULL, "example.net", NULL },
	/* local parts a receiver takes as they come */
	{ "space_in_local", "Macro Error@e8.example.com", false, "Macro Error", "e8.example.com",
	    NULL },
	{ "quote_in_local", "o'neil\"x@example.com", false, "o'neil\"x", "example.com", NULL },
	{ "local_over_64",
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa@example.com", false,
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "example.com",
	    NULL },
	/* domains that are no domain names: kept (lower case) for the checks to diagnose */
	{ "empty_label", "lyme.eater@A...example.com", false, "lyme.eater", "a...example.com",
	    NULL },
	{ "label_over_63",
	    "x@A123456789012345678901234567890123456789012345678901234567890123.example.com",
	    false, "x", "a123456789012345678901234567890123456789012345678901234567890123.example.com",
	    NULL },
	{ "underscore_domain", "bob@exa_mple.com", false, "bob", "exa_mple.com", NULL },
	{ "bare_bad_domain", "Bad_Domain", false, NULL, "bad_domain", NULL },
	{ "literal_domain", "bob@[192.0.2.1]", false, "bob", "[192.0.2.1]", NULL },
	/* what no MAIL FROM command can carry */
	{ "no_domain", "bob@", false, NULL, NULL, "--from: 'bob@' has no domain" },
	{ "only_at", "@", false, NULL, NULL, "--from: '@' has no domain" },
	{ "two_ats", "a@b@c", false, NULL, NULL, "--from: 'a@b@c' has more than one '@'" },
	{ "no_local_two_ats", "@b@c", false, NULL, NULL, "--from: '@b@c' has more than one '@'" },
	{ "unbalanced", "<bob@example.com", false, NULL, NULL,
	    "--from: '<bob@example.com' has unbalanced angle brackets" },
	{ "newline", "bob@example.com\nRCPT TO:<x>", false, NULL, NULL,
	    "--from: 'bob@example.com\\x0aRCPT TO:<x>' has the control character \\x0a, which no "
	    "SMTP command can carry" },
};

Test(target, set_mail_from_table)
{
	size_t i;

	for (i = 0; i < sizeof(from_cases) / sizeof(from_cases[0]); i++) {
		const struct from_case *c = &from_cases[i];
		struct target t;
		struct error err = { "" };
		int r;

		target_init(&t);
		r = target_set_mail_from(&t, "--from", c->input, &err);
		if (c->msg != NULL) {
			cr_assert_eq(r, -1, "case %s: accepted", c->name);
			cr_assert_str_eq(err.msg, c->msg, "case %s", c->name);
			cr_assert_null(t.mail_from, "case %s", c->name);
			target_release(&t);
			continue;
		}
		cr_assert_eq(r, 0, "case %s: %s", c->name, err.msg);
		cr_assert_eq(t.null_sender, c->null_sender, "case %s: null_sender", c->name);
		cr_assert_str_eq(t.mail_from, c->null_sender ? "" : c->input,
		    "case %s: mail_from", c->name);
		if (c->local == NULL)
			cr_assert_null(t.mail_local, "case %s: local", c->name);
		else
			cr_assert_str_eq(t.mail_local, c->local, "case %s: local", c->name);
		if (c->domain == NULL)
			cr_assert_null(t.mail_domain, "case %s: domain", c->name);
		else
			cr_assert_str_eq(t.mail_domain, c->domain, "case %s: domain", c->name);
		target_release(&t);
	}
}

Test(target, mail_from_longer_than_a_command_line_is_refused)
{
	char from[600];
	struct target t;
	struct error err = { "" };

	/* RFC 5321 4.5.3.1.4: "MAIL FROM:<" + 498 octets + ">" CRLF fill a 512-octet line */
	memset(from, 'a', sizeof(from));
	memcpy(from + 486, "@example.com", 13);
	target_init(&t);
	cr_assert_eq(strlen(from), 498);
	cr_assert_eq(target_set_mail_from(&t, "--from", from, &err), 0, "%s", err.msg);
	memmove(from + 1, from, 499);
	cr_assert_eq(target_set_mail_from(&t, "--from", from, &err), -1);
	cr_assert(strstr(err.msg, "is over 498 octets") != NULL, "%s", err.msg);
	target_release(&t);
}

Test(target, mail_from_replaces_the_null_sender)
{
	struct target t;
	struct error err = { "" };

	target_init(&t);
	cr_assert_eq(target_set_mail_from(&t, "--from", "<>", &err), 0);
	cr_assert(t.null_sender);
	cr_assert_eq(target_set_mail_from(&t, "--from", "bob@example.com", &err), 0);
	cr_assert_not(t.null_sender);
	cr_assert_str_eq(t.mail_domain, "example.com");
	cr_assert_eq(target_set_mail_from(&t, "--from", "bob@", &err), -1);
	cr_assert_str_eq(t.mail_domain, "example.com", "a failed call keeps the old value");
	target_release(&t);
}

struct rcpt_case {
	const char *name;
	const char *input;
	const char *domain;
	const char *msg;
};

static const struct rcpt_case rcpt_cases[] = {
	{ "plain", "alice@Example.ORG", "example.org", NULL },
	{ "brackets", "<alice@example.org>", "example.org", NULL },
	{ "bare_domain", "example.org", NULL, "rcpt: 'example.org' has no '@'" },
	{ "null", "<>", NULL, "rcpt: the null address cannot be a recipient" },
	{ "empty", "", NULL, "rcpt: the null address cannot be a recipient" },
	{ "no_domain", "alice@", NULL, "rcpt: 'alice@' has no domain" },
};

Test(target, set_rcpt_to_needs_a_full_address)
{
	size_t i;

	for (i = 0; i < sizeof(rcpt_cases) / sizeof(rcpt_cases[0]); i++) {
		const struct rcpt_case *c = &rcpt_cases[i];
		struct target t;
		struct error err = { "" };
		int r;

		target_init(&t);
		r = target_set_rcpt_to(&t, "rcpt", c->input, &err);
		if (c->msg != NULL) {
			cr_assert_eq(r, -1, "case %s: accepted", c->name);
			cr_assert_str_eq(err.msg, c->msg, "case %s", c->name);
		} else {
			cr_assert_eq(r, 0, "case %s: %s", c->name, err.msg);
			cr_assert_str_eq(t.rcpt_to, c->input, "case %s", c->name);
			cr_assert_str_eq(t.rcpt_domain, c->domain, "case %s", c->name);
		}
		target_release(&t);
	}
}

struct split_case {
	const char *name;
	const char *input;
	const char *local;	/* NULL: rejected */
	const char *domain;
	const char *why;
};

static const struct split_case split_cases[] = {
	{ "plain", "a@b.example", "a", "b.example", NULL },
	{ "brackets", "<a@b.example>", "a", "b.example", NULL },
	{ "case_kept", "Bob@Example.COM", "Bob", "Example.COM", NULL },
	{ "quoted_at", "\"x@y\"@b.example", "\"x@y\"", "b.example", NULL },
	{ "quoted_space", "\"x y\"@b.example", "\"x y\"", "b.example", NULL },
	{ "no_domain", "a@", NULL, NULL, "'a@' has no domain" },
	{ "no_local", "@b.example", NULL, NULL, "'@b.example' has an empty local part" },
	{ "no_local_brackets", "<@b.example>", NULL, NULL,
	    "'<@b.example>' has an empty local part" },
	{ "no_at", "ab", NULL, NULL, "'ab' has no '@'" },
	{ "empty", "", NULL, NULL, "'' has no '@'" },
	{ "null", "<>", NULL, NULL, "'<>' has no '@'" },
	{ "open_bracket", "<a@b", NULL, NULL, "'<a@b' has unbalanced angle brackets" },
	{ "close_bracket", "a@b>", NULL, NULL, "'a@b>' has unbalanced angle brackets" },
	{ "two_ats", "a@b@c", NULL, NULL, "'a@b@c' has more than one '@'" },
	{ "only_at", "@", NULL, NULL, "'@' has an empty local part" },
};

Test(target, address_split_table)
{
	size_t i;

	for (i = 0; i < sizeof(split_cases) / sizeof(split_cases[0]); i++) {
		const struct split_case *c = &split_cases[i];
		char *local = NULL, *domain = NULL;
		char why[256] = "";
		int r;

		r = address_split(c->input, &local, &domain, why, sizeof(why));
		if (c->local == NULL) {
			cr_assert_eq(r, -1, "case %s: accepted", c->name);
			cr_assert_str_eq(why, c->why, "case %s", c->name);
			cr_assert_null(local, "case %s", c->name);
			continue;
		}
		cr_assert_eq(r, 0, "case %s: %s", c->name, why);
		cr_assert_str_eq(local, c->local, "case %s: local", c->name);
		cr_assert_str_eq(domain, c->domain, "case %s: domain", c->name);
		free(local);
		free(domain);
	}
}

/* A temporary file of size bytes (a sparse file: reads give zeros). */
static char *
temp_file_sized(off_t size)
{
	char *path = test_temp_file("", 0);

	cr_assert_eq(truncate(path, size), 0, "truncate: %s", strerror(errno));
	return path;
}

Test(target, message_file_is_read_whole_and_terminated)
{
	static const char msg[] = "From: a@example.com\r\n\r\nbody\0with a NUL\r\n";
	char *path = test_temp_file(msg, sizeof(msg) - 1);
	struct target t;
	struct error err = { "" };

	target_init(&t);
	cr_assert_eq(target_set_message_file(&t, "--message", path, &err), 0, "%s", err.msg);
	cr_assert_eq(t.message_len, sizeof(msg) - 1);
	cr_assert(memcmp(t.message, msg, sizeof(msg) - 1) == 0);
	cr_assert_eq(t.message[t.message_len], '\0');
	cr_assert_str_eq(t.message_path, path);
	target_release(&t);
	unlink(path);
	free(path);
}

Test(target, message_file_errors_name_the_file)
{
	char want[4200];
	char *big = temp_file_sized(10 * 1024 * 1024 + 1);
	char *edge = temp_file_sized(10 * 1024 * 1024);
	char *empty = test_temp_file("", 0);
	struct target t;
	struct error err = { "" };

	target_init(&t);
	cr_assert_eq(target_set_message_file(&t, "--message", "/nonexistent/x.eml", &err), -1);
	cr_assert_str_eq(err.msg,
	    "--message: cannot read '/nonexistent/x.eml': No such file or directory");
	cr_assert_eq(target_set_message_file(&t, "--message", big, &err), -1);
	snprintf(want, sizeof(want), "--message: '%s' is larger than 10 MiB", big);
	cr_assert_str_eq(err.msg, want);
	cr_assert_null(t.message);
	cr_assert_eq(target_set_message_file(&t, "--message", edge, &err), 0,
	    "exactly 10 MiB is allowed: %s", err.msg);
	cr_assert_eq(t.message_len, 10 * 1024 * 1024);
	cr_assert_eq(target_set_message_file(&t, "--message", empty, &err), 0,
	    "an empty file is read as empty");
	cr_assert_eq(t.message_len, 0);
	cr_assert_str_eq(t.message, "");
	target_release(&t);
	unlink(big);
	unlink(edge);
	unlink(empty);
	free(big);
	free(edge);
	free(empty);
}

Test(target, bounce_file_keeps_bytes_after_a_nul)
{
	static const char text[] = "Subject: x\0\n550 5.7.1 blocked using zen.spamhaus.org\n";
	char *file = test_temp_file(text, sizeof(text) - 1);
	char arg[4200];
	struct target t;
	struct error err = { "" };

	target_init(&t);
	snprintf(arg, sizeof(arg), "@%s", file);
	cr_assert_eq(target_set_bounce(&t, "--bounce", arg, &err), 0, "%s", err.msg);
	cr_assert_eq(t.bounce_len, sizeof(text) - 1, "the length counts past the NUL");
	cr_assert_eq(memcmp(t.bounce, text, sizeof(text) - 1), 0);
	target_release(&t);
	unlink(file);
	free(file);
}

Test(target, bounce_from_text_or_file)
{
	static const char text[] = "550 5.7.1 Service unavailable; client host blocked";
	char arg[4200], want[4200];
	char *file = test_temp_file(text, sizeof(text) - 1);
	char *empty = test_temp_file("", 0);
	char *big = temp_file_sized(10 * 1024 * 1024 + 1);
	struct target t;
	struct error err = { "" };

	target_init(&t);
	cr_assert_eq(target_set_bounce(&t, "--bounce", text, &err), 0);
	cr_assert_str_eq(t.bounce, text);

	snprintf(arg, sizeof(arg), "@%s", file);
	cr_assert_eq(target_set_bounce(&t, "--bounce", arg, &err), 0, "%s", err.msg);
	cr_assert_str_eq(t.bounce, text);

	cr_assert_eq(target_set_bounce(&t, "--bounce", "", &err), -1);
	cr_assert_str_eq(err.msg, "--bounce: the bounce text is empty");
	snprintf(arg, sizeof(arg), "@%s", empty);
	cr_assert_eq(target_set_bounce(&t, "--bounce", arg, &err), -1);
	cr_assert_str_eq(err.msg, "--bounce: the bounce text is empty");
	cr_assert_eq(target_set_bounce(&t, "--bounce", "@/nonexistent/b.txt", &err), -1);
	cr_assert_str_eq(err.msg,
	    "--bounce: cannot read '/nonexistent/b.txt': No such file or directory");
	cr_assert_eq(target_set_bounce(&t, "--bounce", "@", &err), -1);
	cr_assert_str_eq(err.msg, "--bounce: the file name after '@' is empty");
	snprintf(arg, sizeof(arg), "@%s", big);
	cr_assert_eq(target_set_bounce(&t, "--bounce", arg, &err), -1);
	snprintf(want, sizeof(want), "--bounce: '%s' is larger than 10 MiB", big);
	cr_assert_str_eq(err.msg, want);
	cr_assert_str_eq(t.bounce, text, "failed calls keep the old text");
	target_release(&t);
	unlink(file);
	unlink(empty);
	unlink(big);
	free(file);
	free(empty);
	free(big);
}

struct selector_case {
	const char *name;
	const char *input;
	const char *msg;
};

static const struct selector_case selector_cases[] = {
	{ "simple", "s1", NULL },
	{ "date_like", "2024-01", NULL },
	{ "underscore", "sel_a", NULL },
	{ "multi_label", "mail.k1", NULL },
	{ "empty", "", "--selector: the selector is empty" },
	{ "space", "bad sel",
	    "--selector: label 'bad sel' has the character ' ': only letters, digits, hyphens and underscores are allowed" },
	{ "trailing_dot", "s1.", "--selector: selector 's1.' ends with a dot" },
	{ "leading_hyphen", "-s", "--selector: label '-s' starts with a hyphen" },
	{ "empty_label", "a..b", "--selector: name 'a..b' has an empty label" },
};

Test(target, add_selector_checks_label_syntax)
{
	size_t i;

	for (i = 0; i < sizeof(selector_cases) / sizeof(selector_cases[0]); i++) {
		const struct selector_case *c = &selector_cases[i];
		struct target t;
		struct error err = { "" };
		int r;

		target_init(&t);
		r = target_add_selector(&t, "--selector", c->input, &err);
		if (c->msg == NULL) {
			cr_assert_eq(r, 0, "case %s: %s", c->name, err.msg);
			cr_assert_eq(t.nselectors, 1, "case %s", c->name);
			cr_assert_str_eq(t.selectors[0], c->input, "case %s", c->name);
		} else {
			cr_assert_eq(r, -1, "case %s: accepted", c->name);
			cr_assert_str_eq(err.msg, c->msg, "case %s", c->name);
			cr_assert_eq(t.nselectors, 0, "case %s", c->name);
		}
		target_release(&t);
	}
}

Test(target, add_selector_keeps_order_and_skips_duplicates)
{
	struct target t;
	struct error err = { "" };

	target_init(&t);
	cr_assert_eq(target_add_selector(&t, "s", "b", &err), 0);
	cr_assert_eq(target_add_selector(&t, "s", "a", &err), 0);
	cr_assert_eq(target_add_selector(&t, "s", "B", &err), 0);
	cr_assert_eq(t.nselectors, 2);
	cr_assert_str_eq(t.selectors[0], "b");
	cr_assert_str_eq(t.selectors[1], "a");
	target_release(&t);
	cr_assert_eq(t.nselectors, 0);
	cr_assert_null(t.selectors);
}

Test(target, release_frees_and_zeroes_everything)
{
	struct target t;
	struct error err = { "" };

	target_init(&t);
	cr_assert_eq(target_set_ip(&t, "ip", "192.0.2.1", &err), 0);
	cr_assert_eq(target_set_helo(&t, "helo", "mail.example.com", &err), 0);
	cr_assert_eq(target_set_mail_from(&t, "from", "a@example.com", &err), 0);
	cr_assert_eq(target_set_rcpt_to(&t, "to", "b@example.net", &err), 0);
	cr_assert_eq(target_set_bounce(&t, "bounce", "550 no", &err), 0);
	target_release(&t);
	cr_assert_null(t.ip);
	cr_assert_null(t.helo);
	cr_assert_null(t.mail_from);
	cr_assert_null(t.mail_domain);
	cr_assert_null(t.rcpt_to);
	cr_assert_null(t.bounce);
	cr_assert_eq(t.ip_family, 0);
	target_release(&t);
}
