/* Tests of the DNS name helpers: reverse names and server specs. */
#include <criterion/criterion.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dns/dns.h"
#include "tests/support.h"

static void
zeros(char *dst, int n)
{
	int i;

	dst[0] = '\0';
	for (i = 0; i < n; i++)
		strcat(dst, "0.");
}

struct rev_case {
	const char *name;
	const char *ip;
	const char *zone;
	bool map4;
	const char *want;	/* NULL: -1 expected */
};

Test(dns_name, reverse_names_follow_rfc5782)
{
	char z20[64], z19[64], v6_doc[128], v6_mapped[128];
	char out[256];
	size_t i;

	/*
	 * 2001:db8::1 is 2001 0db8 0000 0000 0000 0000 0000 0001: the last
	 * group gives 1.0.0.0, five zero groups give twenty zeros, then 0db8
	 * and 2001 backwards.
	 */
	zeros(z20, 20);
	snprintf(v6_doc, sizeof(v6_doc), "1.0.0.0.%s8.b.d.0.1.0.0.2.ip6.arpa", z20);
	/* ::ffff:192.0.2.1 ends in ff ff c0 00 02 01, after ten zero bytes. */
	zeros(z19, 19);
	snprintf(v6_mapped, sizeof(v6_mapped), "1.0.2.0.0.0.0.c.f.f.f.f.%s0.ip6.arpa", z19);

	const struct rev_case cases[] = {
		{ "v4_default_zone", "192.0.2.99", NULL, false, "99.2.0.192.in-addr.arpa" },
		/* RFC 5782 2.1 example */
		{ "v4_dnsbl_zone", "192.0.2.99", "bad.example", false, "99.2.0.192.bad.example" },
		{ "v4_zone_trailing_dot", "192.0.2.99", "bad.example.", false,
		    "99.2.0.192.bad.example" },
		{ "v4_empty_zone", "10.0.0.1", "", false, "1.0.0.10" },
		{ "v6_default_zone", "2001:db8::1", NULL, false, v6_doc },
		/* RFC 5782 2.4 example */
		{ "v6_rfc5782", "2001:db8:1:2:3:4:567:89ab", "ugly.example", false,
		    "b.a.9.8.7.6.5.0.4.0.0.0.3.0.0.0.2.0.0.0.1.0.0.0.8.b.d.0.1.0.0.2.ugly.example" },
		{ "v6_upper_input", "2001:DB8:1:2:3:4:567:89AB", "ugly.example", false,
		    "b.a.9.8.7.6.5.0.4.0.0.0.3.0.0.0.2.0.0.0.1.0.0.0.8.b.d.0.1.0.0.2.ugly.example" },
		{ "mapped_map4_on", "::ffff:192.0.2.1", NULL, true, "1.2.0.192.in-addr.arpa" },
		{ "mapped_map4_on_zone", "::ffff:192.0.2.1", "zen.example", true,
		    "1.2.0.192.zen.example" },
		{ "mapped_map4_off", "::ffff:192.0.2.1", NULL, false, v6_mapped },
		{ "v6_map4_not_mapped", "2001:db8::1", NULL, true, v6_doc },
		{ "junk", "not-an-ip", NULL, false, NULL },
		{ "empty", "", NULL, false, NULL },
	};

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct rev_case *c = &cases[i];
		int r;

		memset(out, 'x', sizeof(out));
		r = dns_reverse_name(c->ip, c->zone, c->map4, out, sizeof(out));
		if (c->want == NULL) {
			cr_assert_eq(r, -1, "case %s: accepted", c->name);
			continue;
		}
		cr_assert_eq(r, 0, "case %s: failed", c->name);
		cr_assert_str_eq(out, c->want, "case %s", c->name);
	}
}

Test(dns_name, reverse_name_fails_on_small_buffer)
{
	char out[64];

	/* "99.2.0.192.in-addr.arpa" is 23 octets: 24 fit, 23 do not. */
	cr_assert_eq(dns_reverse_name("192.0.2.99", NULL, false, out, 24), 0);
	cr_assert_str_eq(out, "99.2.0.192.in-addr.arpa");
	cr_assert_eq(dns_reverse_name("192.0.2.99", NULL, false, out, 23), -1);
	cr_assert_eq(dns_reverse_name("2001:db8::1", NULL, false, out, sizeof(out)), -1,
	    "72 octets do not fit in 64");
}

struct server_case {
	const char *name;
	const char *spec;
	const char *label;	/* NULL: rejected */
	int family;
	unsigned port;
};

static const struct server_case server_cases[] = {
	{ "v4", "192.0.2.1", "192.0.2.1:53", AF_INET, 53 },
	{ "v4_port", "127.0.0.1:5353", "127.0.0.1:5353", AF_INET, 5353 },
	{ "v4_port_max", "127.0.0.1:65535", "127.0.0.1:65535", AF_INET, 65535 },
	{ "v4_port_one", "127.0.0.1:1", "127.0.0.1:1", AF_INET, 1 },
	{ "v6_bare", "::1", "[::1]:53", AF_INET6, 53 },
	{ "v6_brackets", "[::1]", "[::1]:53", AF_INET6, 53 },
	{ "v6_brackets_port", "[::1]:5353", "[::1]:5353", AF_INET6, 5353 },
	{ "v6_canonical_label", "[2001:DB8:0::1]:53", "[2001:db8::1]:53", AF_INET6, 53 },
	{ "empty", "", NULL, 0, 0 },
	{ "hostname", "localhost", NULL, 0, 0 },
	{ "hostname_port", "localhost:53", NULL, 0, 0 },
	{ "port_zero", "127.0.0.1:0", NULL, 0, 0 },
	{ "port_too_big", "127.0.0.1:65536", NULL, 0, 0 },
	{ "port_huge", "127.0.0.1:100000", NULL, 0, 0 },
	{ "port_empty", "127.0.0.1:", NULL, 0, 0 },
	{ "port_letters", "127.0.0.1:dns", NULL, 0, 0 },
	{ "port_sign", "127.0.0.1:+53", NULL, 0, 0 },
	{ "port_negative", "127.0.0.1:-53", NULL, 0, 0 },
	{ "v4_short", "1.2.3", NULL, 0, 0 },
	{ "v4_in_brackets", "[127.0.0.1]:53", NULL, 0, 0 },
	{ "v6_unclosed", "[::1", NULL, 0, 0 },
	{ "v6_junk_after", "[::1]x", NULL, 0, 0 },
	{ "v6_empty_port", "[::1]:", NULL, 0, 0 },
	{ "v6_empty_brackets", "[]:53", NULL, 0, 0 },
	{ "v6_scope", "fe80::1%eth0", NULL, 0, 0 },
	{ "leading_space", " 127.0.0.1", NULL, 0, 0 },
	{ "trailing_space", "127.0.0.1 ", NULL, 0, 0 },
	{ "garbage", "\xff\xfe", NULL, 0, 0 },
};

Test(dns_name, server_parse_table)
{
	size_t i;

	for (i = 0; i < sizeof(server_cases) / sizeof(server_cases[0]); i++) {
		const struct server_case *c = &server_cases[i];
		struct dns_server srv;
		int r;

		memset(&srv, 0, sizeof(srv));
		r = dns_server_parse(c->spec, &srv);
		if (c->label == NULL) {
			cr_assert_eq(r, -1, "case %s: accepted as %s", c->name, srv.label);
			continue;
		}
		cr_assert_eq(r, 0, "case %s: rejected", c->name);
		cr_assert_str_eq(srv.label, c->label, "case %s", c->name);
		cr_assert_eq(srv.addr.ss_family, c->family, "case %s: family", c->name);
		if (c->family == AF_INET) {
			const struct sockaddr_in *sin = (const struct sockaddr_in *)&srv.addr;

			cr_assert_eq(srv.addrlen, sizeof(*sin), "case %s: addrlen", c->name);
			cr_assert_eq(ntohs(sin->sin_port), c->port, "case %s: port", c->name);
		} else {
			const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)&srv.addr;

			cr_assert_eq(srv.addrlen, sizeof(*sin6), "case %s: addrlen", c->name);
			cr_assert_eq(ntohs(sin6->sin6_port), c->port, "case %s: port", c->name);
		}
	}
}

Test(dns_name, server_parse_stores_the_address)
{
	struct dns_server srv;
	const struct sockaddr_in *sin = (const struct sockaddr_in *)&srv.addr;
	const unsigned char want[4] = { 192, 0, 2, 7 };

	cr_assert_eq(dns_server_parse("192.0.2.7:853", &srv), 0);
	cr_assert(memcmp(&sin->sin_addr, want, 4) == 0);
}

Test(dns_name, resolv_conf_reads_nameserver_lines)
{
	const char *text =
	    "# generated\n"
	    "; old-style comment\n"
	    "domain example.com\n"
	    "nameserver 192.0.2.1\n"
	    "#nameserver 192.0.2.99\n"
	    "nameserver   2001:db8::53   # trailing words\n"
	    "search a.example b.example\n"
	    "nameserver fe80::1%1\n"
	    "nameserver fe80::2%nosuchif0\n"
	    "nameserver not-an-address\n"
	    "nameserver 192.0.2.2:5353\n"
	    "nameserver\n"
	    "nameservers 192.0.2.98\n"
	    "\tnameserver\t192.0.2.3\r\n"
	    "options ndots:2\n";
	struct dns_server srv[8];
	const struct sockaddr_in6 *sin6;
	char *path = test_temp_file(text, strlen(text));
	int n;

	n = dns_servers_from_resolv_conf(path, srv, 8);
	cr_assert_eq(n, 4, "got %d servers", n);
	cr_assert_str_eq(srv[0].label, "192.0.2.1:53");
	cr_assert_str_eq(srv[1].label, "[2001:db8::53]:53");
	cr_assert_str_eq(srv[2].label, "[fe80::1]:53");
	sin6 = (const struct sockaddr_in6 *)&srv[2].addr;
	cr_assert_eq(sin6->sin6_scope_id, 1);
	cr_assert_eq(ntohs(sin6->sin6_port), 53);
	cr_assert_str_eq(srv[3].label, "192.0.2.3:53");

	n = dns_servers_from_resolv_conf(path, srv, 2);
	cr_assert_eq(n, 2, "max is respected, got %d", n);
	cr_assert_str_eq(srv[1].label, "[2001:db8::53]:53");
	unlink(path);
	free(path);
}

Test(dns_name, resolv_conf_without_servers_or_file)
{
	struct dns_server srv[2];
	char *path = test_temp_file("search example.com\n", 19);

	cr_assert_eq(dns_servers_from_resolv_conf(path, srv, 2), 0);
	unlink(path);
	cr_assert_eq(dns_servers_from_resolv_conf(path, srv, 2), -1, "missing file");
	free(path);
}
