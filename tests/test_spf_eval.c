/* Tests of the strict SPF evaluator through the engine against NSD (tests/zones/spf.test.zone): results, limits, explanations. */
#include <criterion/criterion.h>
#include <string.h>
#include <sys/socket.h>

#include "support.h"
#include "checks/spf/eval.h"
#include "dns/dns.h"
#include "core/util.h"
#include "core/net.h"

struct run {
	struct dns_engine *eng;
	struct spf_outcome out;
};

static void
eval_at(struct run *r, const char *server, const char *ip, const char *domain)
{
	struct spf_eval_opts o;
	unsigned char addr[16];
	struct dns *dns;
	char *sender = xasprintf("user@%s", domain);
	int family;

	cr_assert_eq(net_ip_parse(ip, &family, addr), 0);
	r->eng = test_engine(server, 500, 2);
	dns = dns_new(r->eng, now_ms() + 10000);
	spf_eval_opts_init(&o);
	o.default_exp = "%{i} is not allowed for %{d}";
	spf_evaluate(dns, &o, family, addr, domain, sender, "helo.spf.test", &r->out);
	dns_free(dns);
	free(sender);
}

static void
eval(struct run *r, const char *ip, const char *domain)
{
	eval_at(r, test_ns(), ip, domain);
}

static void
done(struct run *r)
{
	spf_outcome_release(&r->out);
	dns_engine_free(r->eng);
}

static void
expect_result(const char *ip, const char *domain, enum spf_result want)
{
	struct run r;

	eval(&r, ip, domain);
	cr_expect_eq(r.out.result, want, "%s for %s: got %s, want %s (%s)", ip, domain,
	    spf_result_name(r.out.result), spf_result_name(want),
	    r.out.reason ? r.out.reason : "");
	done(&r);
}

Test(spf_eval, each_result_comes_from_its_record)
{
	expect_result("192.0.2.4", "pass.spf.test", SPF_R_PASS);
	expect_result("198.51.100.4", "pass.spf.test", SPF_R_FAIL);
	expect_result("198.51.100.4", "soft.spf.test", SPF_R_SOFTFAIL);
	expect_result("198.51.100.4", "neutral.spf.test", SPF_R_NEUTRAL);
	expect_result("198.51.100.4", "nospf.spf.test", SPF_R_NONE);
	expect_result("198.51.100.4", "nowhere.spf.test", SPF_R_NONE);
	expect_result("198.51.100.4", "syntax.spf.test", SPF_R_PERMERROR);
	expect_result("198.51.100.4", "two.spf.test", SPF_R_PERMERROR);
	expect_result("198.51.100.4", "incnone.spf.test", SPF_R_PERMERROR);
	expect_result("192.0.2.4", "redir.spf.test", SPF_R_PASS);
	expect_result("192.0.2.4", "redirall.spf.test", SPF_R_FAIL);
	expect_result("2001:db8:6::25", "six.spf.test", SPF_R_PASS);
	expect_result("2001:db8:7::25", "six.spf.test", SPF_R_FAIL);
}

Test(spf_eval, single_label_and_literal_domains_are_none)
{
	expect_result("192.0.2.4", "localhost", SPF_R_NONE);
	expect_result("192.0.2.4", "[192.0.2.4]", SPF_R_NONE);
	expect_result("192.0.2.4", "a..spf.test", SPF_R_NONE);
}

Test(spf_eval, ipv4_mapped_ipv6_client_is_evaluated_as_ipv4)
{
	expect_result("::ffff:192.0.2.4", "pass.spf.test", SPF_R_PASS);
	expect_result("::ffff:198.51.100.4", "pass.spf.test", SPF_R_FAIL);
}

Test(spf_eval, fail_explanation_is_expanded_from_exp)
{
	struct run r;

	eval(&r, "198.51.100.4", "exp.spf.test");
	cr_assert_eq(r.out.result, SPF_R_FAIL);
	cr_expect_str_eq(r.out.explanation,
	    "198.51.100.4 may not send mail for exp.spf.test; see https://spf.test/why");
	cr_expect_str_eq(r.out.matched, "-all");
	done(&r);
	eval(&r, "198.51.100.4", "pass.spf.test");
	cr_expect_str_eq(r.out.explanation, "198.51.100.4 is not allowed for pass.spf.test");
	done(&r);
	eval(&r, "198.51.100.4", "soft.spf.test");
	cr_expect_null(r.out.explanation);
	done(&r);
}

Test(spf_eval, include_chain_counts_every_level)
{
	struct run r;

	eval(&r, "192.0.2.77", "chain.spf.test");
	cr_expect_eq(r.out.result, SPF_R_PASS, "%s", spf_result_name(r.out.result));
	cr_expect_eq(r.out.lookups, 8);
	cr_expect_str_eq(r.out.matched, "include:c1.spf.test");
	done(&r);
}

Test(spf_eval, eleventh_dns_term_is_permerror)
{
	struct run r;

	eval(&r, "198.51.100.4", "over.spf.test");
	cr_expect_eq(r.out.result, SPF_R_PERMERROR, "%s", spf_result_name(r.out.result));
	cr_expect_eq(r.out.lookups, 11);
	cr_expect(strstr(r.out.reason, "limit is 10") != NULL, "%s", r.out.reason);
	done(&r);
	/* the same terms, ten of them, are fine */
	eval(&r, "198.51.100.4", "near.spf.test");
	cr_expect_eq(r.out.result, SPF_R_FAIL);
	cr_expect_eq(r.out.lookups, 8);
	done(&r);
}

Test(spf_eval, third_void_lookup_is_permerror)
{
	struct run r;

	eval(&r, "198.51.100.4", "void.spf.test");
	cr_expect_eq(r.out.result, SPF_R_PERMERROR, "%s", spf_result_name(r.out.result));
	cr_expect_eq(r.out.void_lookups, 3);
	done(&r);
	eval(&r, "198.51.100.4", "twovoid.spf.test");
	cr_expect_eq(r.out.result, SPF_R_FAIL, "%s", spf_result_name(r.out.result));
	cr_expect_eq(r.out.void_lookups, 2);
	done(&r);
}

Test(spf_eval, more_than_ten_mx_records_is_permerror)
{
	struct run r;

	eval(&r, "192.0.2.32", "mxmany.spf.test");
	cr_expect_eq(r.out.result, SPF_R_PERMERROR, "%s", spf_result_name(r.out.result));
	done(&r);
	eval(&r, "192.0.2.32", "mxok.spf.test");
	cr_expect_eq(r.out.result, SPF_R_PASS, "%s", spf_result_name(r.out.result));
	done(&r);
}

Test(spf_eval, dns_timeout_in_an_include_is_temperror)
{
	struct run r;

	eval_at(&r, test_fault(), "198.51.100.4", "tmp.spf.test");
	cr_expect_eq(r.out.result, SPF_R_TEMPERROR, "%s", spf_result_name(r.out.result));
	cr_expect(strstr(r.out.reason, "timeout") != NULL, "%s", r.out.reason);
	done(&r);
}

Test(spf_eval, authorised_networks_are_collected_with_their_path)
{
	struct run r;

	eval(&r, "203.0.113.7", "shop.test");
	cr_assert_eq(r.out.result, SPF_R_FAIL);
	cr_assert_eq(r.out.nnets, 3);
	cr_expect_str_eq(r.out.nets[0].term, "ip4:198.51.100.0/24");
	cr_expect_str_eq(r.out.nets[0].path, "");
	cr_expect_str_eq(r.out.nets[1].term, "ip4:192.0.2.0/25");
	cr_expect_str_eq(r.out.nets[1].path, "include:_spf.mailer.test");
	cr_expect_eq(r.out.nets[1].prefix, 25);
	cr_expect_eq(r.out.tree->nkids, 1);
	cr_expect_eq(r.out.tree->kids[0]->result, SPF_R_SOFTFAIL);
	done(&r);
}
