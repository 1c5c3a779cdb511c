/* Tests of core/net.c: address literals and host name syntax. */
#include <criterion/criterion.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/net.h"

struct ip_case {
	const char *name;
	const char *ip;
	int family;		/* 0: invalid */
	unsigned char addr[16];
};

static const struct ip_case ip_cases[] = {
	{ "v4", "192.0.2.1", AF_INET, { 192, 0, 2, 1 } },
	{ "v4_zero", "0.0.0.0", AF_INET, { 0 } },
	{ "v4_max", "255.255.255.255", AF_INET, { 255, 255, 255, 255 } },
	{ "v6_short", "2001:db8::1", AF_INET6,
	    { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 } },
	{ "v6_upper", "2001:DB8::A", AF_INET6,
	    { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x0a } },
	{ "v6_loopback", "::1", AF_INET6, { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 } },
	{ "v6_mapped", "::ffff:192.0.2.1", AF_INET6,
	    { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 0, 2, 1 } },
	{ "empty", "", 0, { 0 } },
	{ "v4_three_parts", "1.2.3", 0, { 0 } },
	{ "v4_five_parts", "1.2.3.4.5", 0, { 0 } },
	{ "v4_octet_256", "256.1.1.1", 0, { 0 } },
	{ "v4_leading_zero", "01.2.3.4", 0, { 0 } },
	{ "v4_trailing_space", "1.2.3.4 ", 0, { 0 } },
	{ "v4_cidr", "1.2.3.4/24", 0, { 0 } },
	{ "hostname", "example.com", 0, { 0 } },
	{ "v6_two_gaps", "2001:db8::1::2", 0, { 0 } },
	{ "v6_scope", "fe80::1%eth0", 0, { 0 } },
	{ "v6_bracketed", "[::1]", 0, { 0 } },
	{ "v6_mapped_short", "::ffff:1.2.3", 0, { 0 } },
};

Test(net, ip_parse_accepts_v4_v6_and_rejects_junk)
{
	size_t i;

	for (i = 0; i < sizeof(ip_cases) / sizeof(ip_cases[0]); i++) {
		const struct ip_case *c = &ip_cases[i];
		unsigned char addr[16];
		int family = -1, r;

		memset(addr, 0xee, sizeof(addr));
		r = net_ip_parse(c->ip, &family, addr);
		if (c->family == 0) {
			cr_assert_eq(r, -1, "case %s: accepted", c->name);
			continue;
		}
		cr_assert_eq(r, 0, "case %s: rejected", c->name);
		cr_assert_eq(family, c->family, "case %s: family %d", c->name, family);
		cr_assert(memcmp(addr, c->addr, c->family == AF_INET ? 4 : 16) == 0,
		    "case %s: wrong bytes", c->name);
	}
}

Test(net, ip_parse_rejects_null)
{
	unsigned char addr[16];
	int family;

	cr_assert_eq(net_ip_parse(NULL, &family, addr), -1);
}

Test(net, ip_format_gives_canonical_text)
{
	unsigned char addr[16];
	char buf[INET6_ADDRSTRLEN];
	int family;

	cr_assert_eq(net_ip_parse("2001:0DB8:0:0:0:0:0:0001", &family, addr), 0);
	net_ip_format(family, addr, buf, sizeof(buf));
	cr_assert_str_eq(buf, "2001:db8::1");
	cr_assert_eq(net_ip_parse("192.0.2.10", &family, addr), 0);
	net_ip_format(family, addr, buf, sizeof(buf));
	cr_assert_str_eq(buf, "192.0.2.10");
	net_ip_format(family, addr, buf, 4);
	cr_assert_str_eq(buf, "", "a too small buffer gives an empty string");
}

/* "0." repeated n times. */
struct name_case {
	const char *name;
	const char *input;
	bool underscore;
	const char *why;	/* NULL: valid; else the exact reason */
};

Test(net, name_check_table)
{
	char l63[64], l64[65], n253[300], n254[300], n253dot[310], long_label[200];
	char why[256];
	size_t i;

	memset(l63, 'a', 63);
	l63[63] = '\0';
	memset(l64, 'b', 64);
	l64[64] = '\0';
	/* 63 + 1 + 63 + 1 + 63 + 1 + 61 = 253 */
	snprintf(n253, sizeof(n253), "%s.%s.%s.%.61s", l63, l63, l63, l63);
	snprintf(n254, sizeof(n254), "%s.%s.%s.%.62s", l63, l63, l63, l63);
	snprintf(n253dot, sizeof(n253dot), "%s.", n253);
	snprintf(long_label, sizeof(long_label), "x.%s.example", l64);
	cr_assert_eq(strlen(n253), 253);
	cr_assert_eq(strlen(n254), 254);

	const struct name_case cases[] = {
		{ "simple", "example.com", false, NULL },
		{ "single_label", "localhost", false, NULL },
		{ "trailing_dot", "example.com.", false, NULL },
		{ "digits", "123.example", false, NULL },
		{ "inner_hyphen", "a-b.example", false, NULL },
		{ "idna", "xn--bcher-kva.example", false, NULL },
		{ "upper", "Mail.Example.COM", false, NULL },
		{ "label_63", l63, false, NULL },
		{ "name_253", n253, false, NULL },
		{ "name_253_dot", n253dot, false, NULL },
		{ "underscore_allowed", "_dmarc.example.com", true, NULL },
		{ "empty", "", false, "name is empty" },
		{ "root", ".", false, "name is empty" },
		{ "double_dot", "example..com", false, "name 'example..com' has an empty label" },
		{ "leading_dot", ".example", false, "name '.example' has an empty label" },
		{ "two_trailing_dots", "example.com..", false,
		    "name 'example.com.' has an empty label" },
		{ "label_64", l64, false,
		    "label 'bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb... (64 bytes)' is over 63 octets" },
		{ "inner_label_64", long_label, false,
		    "label 'bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb... (64 bytes)' is over 63 octets" },
		{ "name_254", n254, false, "name is over 253 octets" },
		{ "underscore_refused", "_dmarc.example.com", false,
		    "label '_dmarc' has the character '_': only letters, digits, hyphens are allowed" },
		{ "space", "a b.example", false,
		    "label 'a b' has the character ' ': only letters, digits, hyphens are allowed" },
		{ "control_byte", "a\x01" "b.example", false,
		    "label 'a\\x01b' has the character '\\x01': only letters, digits, hyphens are allowed" },
		{ "utf8", "caf\xc3\xa9.example", true,
		    "label 'caf\\xc3\\xa9' has the character '\\xc3': only letters, digits, hyphens and underscores are allowed" },
		{ "quote", "it's.example", false,
		    "label 'it\\x27s' has the character '\\x27': only letters, digits, hyphens are allowed" },
		{ "leading_hyphen", "-a.example", false, "label '-a' starts with a hyphen" },
		{ "trailing_hyphen", "mail.a-.example", false, "label 'a-' ends with a hyphen" },
		{ "only_hyphen", "-", false, "label '-' starts with a hyphen" },
	};

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct name_case *c = &cases[i];
		int r;

		why[0] = '\0';
		r = net_name_check(c->input, c->underscore, why, sizeof(why));
		if (c->why == NULL) {
			cr_assert_eq(r, 0, "case %s: rejected: %s", c->name, why);
			continue;
		}
		cr_assert_eq(r, -1, "case %s: accepted", c->name);
		cr_assert_str_eq(why, c->why, "case %s", c->name);
	}
}

Test(net, name_check_takes_null_why)
{
	cr_assert_eq(net_name_check("a..b", false, NULL, 0), -1);
	cr_assert_eq(net_name_check(NULL, false, NULL, 0), -1);
}

Test(net, ip_unmap_sees_a_mapped_address_as_its_ipv4_host)
{
	unsigned char a[16];
	const unsigned char *p = a;
	int family;

	cr_assert_eq(net_ip_parse("::ffff:192.0.2.7", &family, a), 0);
	cr_assert_eq(net_ip_unmap(family, &p), AF_INET);
	cr_assert_eq(p, a + 12);
	cr_assert_eq(memcmp(p, "\xc0\x00\x02\x07", 4), 0);

	cr_assert_eq(net_ip_parse("2001:db8::ffff:c000:207", &family, a), 0);
	p = a;
	cr_assert_eq(net_ip_unmap(family, &p), AF_INET6, "only ::ffff:0:0/96 is mapped");
	cr_assert_eq(p, a);

	cr_assert_eq(net_ip_parse("192.0.2.7", &family, a), 0);
	p = a;
	cr_assert_eq(net_ip_unmap(family, &p), AF_INET);
	cr_assert_eq(p, a);
}

Test(net, name_canonical_is_lower_case_without_the_final_dot)
{
	static const char *const cases[][2] = {
		{ "ZEN.SpamHaus.org.", "zen.spamhaus.org" },
		{ "zen.spamhaus.org", "zen.spamhaus.org" },
		{ "a.", "a" },
		{ ".", "" },
		{ "", "" },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *c = net_name_canonical(cases[i][0]);

		cr_expect_str_eq(c, cases[i][1], "'%s'", cases[i][0]);
		free(c);
	}
}
