/* The reply parser on hand-made packets: what the engine keeps of an answer, with no network. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "dns/dns.h"
#include "core/util.h"

/* A packet builder for the tests: header, one question, answer records. */
struct pkt {
	unsigned char b[8192];
	size_t len;
};

static void
put16(struct pkt *p, unsigned v)
{
	p->b[p->len++] = (unsigned char)(v >> 8);
	p->b[p->len++] = (unsigned char)(v & 0xff);
}

static void
put32(struct pkt *p, unsigned long v)
{
	put16(p, (unsigned)(v >> 16));
	put16(p, (unsigned)(v & 0xffff));
}

static void
putname(struct pkt *p, const char *name)
{
	while (*name != '\0') {
		const char *dot = strchr(name, '.');
		size_t n = dot != NULL ? (size_t)(dot - name) : strlen(name);

		p->b[p->len++] = (unsigned char)n;
		memcpy(p->b + p->len, name, n);
		p->len += n;
		name += n;
		if (*name == '.')
			name++;
	}
	p->b[p->len++] = 0;
}

static void
header(struct pkt *p, unsigned rcode, unsigned ancount, const char *qname, unsigned qtype)
{
	p->len = 0;
	put16(p, 0x1234);
	put16(p, 0x8180 | rcode);	/* QR, RD, RA */
	put16(p, 1);
	put16(p, ancount);
	put16(p, 0);
	put16(p, 0);
	putname(p, qname);
	put16(p, qtype);
	put16(p, 1);
}

static void
rr_head(struct pkt *p, const char *owner, unsigned type, unsigned long ttl, unsigned rdlen)
{
	putname(p, owner);
	put16(p, type);
	put16(p, 1);
	put32(p, ttl);
	put16(p, rdlen);
}

static void
rr_a(struct pkt *p, const char *owner, unsigned long ttl, unsigned char a, unsigned char b,
    unsigned char c, unsigned char d)
{
	rr_head(p, owner, DNS_T_A, ttl, 4);
	p->b[p->len++] = a;
	p->b[p->len++] = b;
	p->b[p->len++] = c;
	p->b[p->len++] = d;
}

static size_t
namelen(const char *name)
{
	return strlen(name) + 2;
}

static void
rr_cname(struct pkt *p, const char *owner, unsigned long ttl, const char *target)
{
	rr_head(p, owner, DNS_T_CNAME, ttl, (unsigned)namelen(target));
	putname(p, target);
}

Test(dns_reply, a_records_of_the_question_are_kept_with_the_least_ttl)
{
	struct pkt p;
	struct dns_result *res;

	header(&p, 0, 2, "mail.example.test", DNS_T_A);
	rr_a(&p, "mail.example.test", 300, 192, 0, 2, 1);
	rr_a(&p, "mail.example.test", 60, 192, 0, 2, 5);
	res = dns_reply_parse(p.b, p.len, "mail.example.test", DNS_T_A);
	cr_assert_not_null(res);
	cr_assert_eq(res->status, DNS_ANSWER);
	cr_assert_eq(res->nrr, 2);
	cr_assert_str_eq(res->rr[0].text, "192.0.2.1");
	cr_assert_str_eq(res->rr[1].text, "192.0.2.5");
	cr_assert_eq(res->ttl, 60);
	dns_result_free(res);
}

Test(dns_reply, records_for_other_names_are_ignored)
{
	struct pkt p;
	struct dns_result *res;

	/* an answer section that smuggles a record for another name */
	header(&p, 0, 2, "mail.example.test", DNS_T_A);
	rr_a(&p, "bank.example.test", 300, 203, 0, 113, 66);
	rr_a(&p, "mail.example.test", 300, 192, 0, 2, 1);
	res = dns_reply_parse(p.b, p.len, "mail.example.test", DNS_T_A);
	cr_assert_eq(res->nrr, 1);
	cr_assert_str_eq(res->rr[0].text, "192.0.2.1");
	dns_result_free(res);
}

Test(dns_reply, cname_chain_is_followed_in_order)
{
	struct pkt p;
	struct dns_result *res;

	header(&p, 0, 3, "www.example.test", DNS_T_A);
	rr_cname(&p, "www.example.test", 300, "web.example.test");
	rr_cname(&p, "web.example.test", 120, "host.example.test");
	rr_a(&p, "host.example.test", 300, 192, 0, 2, 9);
	res = dns_reply_parse(p.b, p.len, "www.example.test", DNS_T_A);
	cr_assert_eq(res->status, DNS_ANSWER);
	cr_assert_eq(res->ncname, 2);
	cr_assert_str_eq(res->cname[0], "web.example.test");
	cr_assert_str_eq(res->cname[1], "host.example.test");
	cr_assert_eq(res->nrr, 1);
	cr_assert_eq(res->ttl, 120);
	dns_result_free(res);
}

Test(dns_reply, alias_of_itself_is_a_failure_not_a_name_without_records)
{
	struct pkt p;
	struct dns_result *res;

	header(&p, 0, 1, "x.test", DNS_T_MX);
	rr_cname(&p, "x.test", 300, "x.test");
	res = dns_reply_parse(p.b, p.len, "x.test", DNS_T_MX);
	cr_assert_eq(res->status, DNS_SERVFAIL, "got %s", dns_status_name(res->status));
	cr_assert_eq(res->nrr, 0);
	dns_result_free(res);
}

Test(dns_reply, aliases_that_loop_in_one_reply_are_a_failure)
{
	static const size_t lens[] = { 2, 3, 5 };
	struct pkt p;
	struct dns_result *res;
	char owner[48], target[48];
	size_t i, k;

	/* a -> b -> a, a -> b -> c -> a, ...: a loop of any length, odd or even */
	for (k = 0; k < ARRAY_SIZE(lens); k++) {
		header(&p, 0, (unsigned)lens[k], "n0.loop.test", DNS_T_A);
		for (i = 0; i < lens[k]; i++) {
			snprintf(owner, sizeof(owner), "n%zu.loop.test", i);
			snprintf(target, sizeof(target), "n%zu.loop.test", (i + 1) % lens[k]);
			rr_cname(&p, owner, 300, target);
		}
		res = dns_reply_parse(p.b, p.len, "n0.loop.test", DNS_T_A);
		cr_expect_eq(res->status, DNS_SERVFAIL, "loop of %zu: got %s", lens[k],
		    dns_status_name(res->status));
		dns_result_free(res);
	}
}

Test(dns_reply, chain_of_more_than_eight_aliases_is_a_failure)
{
	struct pkt p;
	struct dns_result *res;
	char owner[48], target[48];
	size_t i, links;

	/* eight aliases and then the address: followed; nine: cut, whatever follows */
	for (links = 8; links <= 9; links++) {
		header(&p, 0, (unsigned)links + 1, "c0.chain.test", DNS_T_A);
		for (i = 0; i < links; i++) {
			snprintf(owner, sizeof(owner), "c%zu.chain.test", i);
			snprintf(target, sizeof(target), "c%zu.chain.test", i + 1);
			rr_cname(&p, owner, 300, target);
		}
		rr_a(&p, target, 300, 192, 0, 2, 1);
		res = dns_reply_parse(p.b, p.len, "c0.chain.test", DNS_T_A);
		if (links == 8) {
			cr_expect_eq(res->status, DNS_ANSWER, "got %s", dns_status_name(res->status));
			cr_expect_eq(res->ncname, 8);
		} else {
			cr_expect_eq(res->status, DNS_SERVFAIL, "got %s",
			    dns_status_name(res->status));
		}
		dns_result_free(res);
	}
}

Test(dns_reply, answer_keeps_at_most_dns_max_rr_records_and_counts_the_rest)
{
	struct pkt p;
	struct dns_result *res;
	unsigned i, n = DNS_MAX_RR + 50;

	header(&p, 0, n, "bl.test", DNS_T_A);
	for (i = 0; i < n; i++)
		rr_a(&p, "bl.test", 300, 127, 0, (unsigned char)(i / 200), (unsigned char)(2 + i % 200));
	cr_assert_lt(p.len, sizeof(p.b));
	res = dns_reply_parse(p.b, p.len, "bl.test", DNS_T_A);
	cr_assert_eq(res->status, DNS_ANSWER);
	cr_expect_eq(res->nrr, DNS_MAX_RR);
	cr_expect_eq(res->ndropped, 50);
	cr_expect_str_eq(res->rr[0].text, "127.0.0.2", "the first records are the ones kept");
	dns_result_free(res);
}

Test(dns_reply, nxdomain_and_nodata_and_rcodes)
{
	struct pkt p;
	struct dns_result *res;

	header(&p, 3, 0, "none.example.test", DNS_T_A);
	res = dns_reply_parse(p.b, p.len, "none.example.test", DNS_T_A);
	cr_expect_eq(res->status, DNS_NXDOMAIN);
	dns_result_free(res);
	header(&p, 0, 0, "mail.example.test", DNS_T_MX);
	res = dns_reply_parse(p.b, p.len, "mail.example.test", DNS_T_MX);
	cr_expect_eq(res->status, DNS_NODATA);
	dns_result_free(res);
	header(&p, 2, 0, "mail.example.test", DNS_T_A);
	res = dns_reply_parse(p.b, p.len, "mail.example.test", DNS_T_A);
	cr_expect_eq(res->status, DNS_SERVFAIL);
	dns_result_free(res);
	header(&p, 5, 0, "mail.example.test", DNS_T_A);
	res = dns_reply_parse(p.b, p.len, "mail.example.test", DNS_T_A);
	cr_expect_eq(res->status, DNS_REFUSED);
	dns_result_free(res);
}

Test(dns_reply, txt_strings_keep_their_bytes_and_lengths)
{
	struct pkt p;
	struct dns_result *res;
	static const char s1[] = "v=spf1 ";
	static const char s2[] = "\x00\xff-all";

	header(&p, 0, 1, "t.example.test", DNS_T_TXT);
	rr_head(&p, "t.example.test", DNS_T_TXT, 300, 1 + 7 + 1 + 6);
	p.b[p.len++] = 7;
	memcpy(p.b + p.len, s1, 7);
	p.len += 7;
	p.b[p.len++] = 6;
	memcpy(p.b + p.len, s2, 6);
	p.len += 6;
	res = dns_reply_parse(p.b, p.len, "t.example.test", DNS_T_TXT);
	cr_assert_eq(res->nrr, 1);
	cr_assert_eq(res->rr[0].u.txt.len, 13);
	cr_assert_eq(res->rr[0].u.txt.nstrings, 2);
	cr_assert_eq(res->rr[0].u.txt.lens[1], 6);
	cr_assert(memcmp(res->rr[0].u.txt.data, "v=spf1 \x00\xff-all", 13) == 0);
	dns_result_free(res);
}

Test(dns_reply, mx_null_and_names_with_odd_bytes)
{
	struct pkt p;
	struct dns_result *res;

	header(&p, 0, 2, "example.test", DNS_T_MX);
	rr_head(&p, "example.test", DNS_T_MX, 300, 2 + 1);
	put16(&p, 0);
	p.b[p.len++] = 0;			/* "." : RFC 7505 null MX */
	rr_head(&p, "example.test", DNS_T_MX, 300, 2 + (unsigned)namelen("a\033b.test"));
	put16(&p, 10);
	putname(&p, "a\033b.test");		/* an ESC inside a label */
	res = dns_reply_parse(p.b, p.len, "example.test", DNS_T_MX);
	cr_assert_not_null(res);
	cr_assert_eq(res->nrr, 2);
	cr_assert_str_eq(res->rr[0].u.mx.host, "");
	cr_assert_eq(res->rr[0].u.mx.pref, 0);
	cr_assert_str_eq(res->rr[1].u.mx.host, "a\\027b.test", "odd bytes as \\DDD");
	dns_result_free(res);
}

Test(dns_reply, truncated_or_garbage_bytes_are_not_a_reply)
{
	struct pkt p;

	header(&p, 0, 1, "mail.example.test", DNS_T_A);
	rr_a(&p, "mail.example.test", 300, 192, 0, 2, 1);
	cr_assert_null(dns_reply_parse(p.b, p.len - 3, "mail.example.test", DNS_T_A));
	cr_assert_null(dns_reply_parse((const unsigned char *)"\x12", 1, "x.test", DNS_T_A));
}
