/* Tests of the DNS engine through real sockets: NSD for answers, the fault server for what NSD will not do. */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <time.h>

#include "support.h"
#include "dns/dns.h"
#include "core/util.h"

static struct dns_result *
ask(struct dns_engine *eng, const char *name, uint16_t type)
{
	struct dns *dns = dns_new(eng, 0);
	struct dns_result *res = dns_lookup(dns, name, type);

	dns_free(dns);
	return res;
}

Test(dns, a_record_is_answered_with_its_address)
{
	struct dns_engine *eng = test_engine(test_ns(), 1000, 2);
	struct dns_result *res = ask(eng, "mail.example.test", DNS_T_A);

	cr_assert_eq(res->status, DNS_ANSWER, "status %s", dns_status_name(res->status));
	cr_assert_eq(res->nrr, 2);
	cr_assert(strcmp(res->rr[0].text, "192.0.2.1") == 0 || strcmp(res->rr[1].text, "192.0.2.1") == 0);
	cr_assert_eq(res->rr[0].ttl, 300);
	dns_result_free(res);
	dns_engine_free(eng);
}

Test(dns, nxdomain_and_nodata_are_distinct_answers)
{
	struct dns_engine *eng = test_engine(test_ns(), 1000, 2);
	struct dns_result *nx = ask(eng, "nothing-here.example.test", DNS_T_A);
	struct dns_result *nd = ask(eng, "mail6.example.test", DNS_T_A);

	cr_assert_eq(nx->status, DNS_NXDOMAIN, "got %s", dns_status_name(nx->status));
	cr_assert_eq(nd->status, DNS_NODATA, "got %s", dns_status_name(nd->status));
	cr_assert(dns_status_is_negative(nx->status) && !dns_status_is_failure(nx->status));
	dns_result_free(nx);
	dns_result_free(nd);
	dns_engine_free(eng);
}

Test(dns, name_outside_served_zones_is_refused)
{
	struct dns_engine *eng = test_engine(test_ns(), 1000, 1);
	struct dns_result *res = ask(eng, "www.not-served.invalid", DNS_T_A);

	cr_assert_eq(res->status, DNS_REFUSED, "got %s", dns_status_name(res->status));
	dns_result_free(res);
	dns_engine_free(eng);
}

Test(dns, txt_strings_are_joined_and_lengths_kept)
{
	struct dns_engine *eng = test_engine(test_ns(), 1000, 2);
	struct dns_result *res = ask(eng, "multi.example.test", DNS_T_TXT);

	cr_assert_eq(res->status, DNS_ANSWER);
	cr_assert_eq(res->nrr, 1);
	cr_assert_str_eq(res->rr[0].u.txt.data, "v=spf1 ip4:192.0.2.0/24 -all");
	cr_assert_eq(res->rr[0].u.txt.nstrings, 3);
	cr_assert_eq(res->rr[0].u.txt.lens[0], 7);
	dns_result_free(res);
	dns_engine_free(eng);
}

Test(dns, txt_with_nul_and_high_bytes_keeps_every_byte)
{
	struct dns_engine *eng = test_engine(test_ns(), 1000, 2);
	struct dns_result *res = ask(eng, "evil.example.test", DNS_T_TXT);
	static const char want[] = "\xff\xfe\x1b[31mred\0nul";

	cr_assert_eq(res->status, DNS_ANSWER);
	cr_assert_eq(res->rr[0].u.txt.len, sizeof(want) - 1);
	cr_assert(memcmp(res->rr[0].u.txt.data, want, sizeof(want) - 1) == 0);
	dns_result_free(res);
	dns_engine_free(eng);
}

Test(dns, cname_chain_is_followed_within_the_reply)
{
	struct dns_engine *eng = test_engine(test_ns(), 1000, 2);
	struct dns_result *res = ask(eng, "alias2.example.test", DNS_T_A);

	cr_assert_eq(res->status, DNS_ANSWER, "got %s", dns_status_name(res->status));
	cr_assert_eq(res->ncname, 2);
	cr_assert_str_eq(res->cname[0], "alias.example.test");
	cr_assert_str_eq(res->cname[1], "mail.example.test");
	cr_assert_eq(res->nrr, 2);
	dns_result_free(res);
	dns_engine_free(eng);
}

Test(dns, cname_to_another_zone_is_chased_with_a_new_query)
{
	struct dns_engine *eng = test_engine(test_ns(), 1000, 2);
	struct dns_result *res = ask(eng, "outside.example.test", DNS_T_A);

	cr_assert_eq(res->status, DNS_ANSWER, "got %s", dns_status_name(res->status));
	cr_assert_eq(res->nrr, 1);
	cr_assert_str_eq(res->rr[0].text, "192.0.2.77");
	cr_assert_str_eq(res->cname[0], "host.isp.test");
	dns_result_free(res);
	dns_engine_free(eng);
}

Test(dns, cname_loop_is_a_failure_and_ends_without_hanging)
{
	struct dns_engine *eng = test_engine(test_ns(), 1000, 2);
	struct dns_result *res = ask(eng, "loop1.example.test", DNS_T_A);

	/* NSD puts loop1 -> loop2 -> loop1 in one reply: a failure, not a name without records */
	cr_assert_eq(res->status, DNS_SERVFAIL, "got %s", dns_status_name(res->status));
	cr_assert_eq(res->nrr, 0);
	dns_result_free(res);
	dns_engine_free(eng);
}

Test(dns, ptr_of_ipv6_reverse_name)
{
	struct dns_engine *eng = test_engine(test_ns(), 1000, 2);
	char rev[128];
	struct dns_result *res;

	cr_assert_eq(dns_reverse_name("2001:db8::1", NULL, true, rev, sizeof(rev)), 0);
	res = ask(eng, rev, DNS_T_PTR);
	cr_assert_eq(res->status, DNS_ANSWER, "got %s", dns_status_name(res->status));
	cr_assert_str_eq(res->rr[0].u.name.target, "mail6.example.test");
	dns_result_free(res);
	dns_engine_free(eng);
}

Test(dns, truncated_udp_answer_is_fetched_over_tcp)
{
	struct dns_engine *eng = test_engine(test_ns(), 1000, 2);
	struct dns_result *res = ask(eng, "big.example.test", DNS_T_TXT);
	struct dns_counters c;

	cr_assert_eq(res->status, DNS_ANSWER, "got %s", dns_status_name(res->status));
	cr_assert_eq(res->nrr, 15);
	dns_engine_stats(eng, &c, NULL, 0, NULL);
	cr_assert_eq(c.tcp_fallbacks, 1);
	dns_result_free(res);
	dns_engine_free(eng);
}

Test(dns, second_lookup_comes_from_the_cache)
{
	struct dns_engine *eng = test_engine(test_ns(), 1000, 2);
	struct dns *dns = dns_new(eng, 0);
	struct dns_result *a = dns_lookup(dns, "mail.example.test", DNS_T_A);
	struct dns_result *b = dns_lookup(dns, "MAIL.Example.Test.", DNS_T_A);
	struct dns_counters c;

	cr_assert_eq(a, b, "the cache must hand out the same result");
	dns_counters_get(dns, &c);
	cr_assert_eq(c.queries, 2);
	cr_assert_eq(c.cache_hits, 1);
	cr_assert_eq(c.sent, 1);
	dns_result_free(a);
	dns_result_free(b);
	dns_free(dns);
	dns_engine_free(eng);
}

Test(dns, zero_ttl_answer_is_not_cached)
{
	struct dns_engine *eng = test_engine(test_ns(), 1000, 2);
	struct dns *dns = dns_new(eng, 0);
	struct dns_result *a = dns_lookup(dns, "ttl0.example.test", DNS_T_A);
	struct dns_result *b = dns_lookup(dns, "ttl0.example.test", DNS_T_A);
	struct dns_counters c;

	cr_assert_eq(a->status, DNS_ANSWER);
	dns_counters_get(dns, &c);
	cr_assert_eq(c.cache_hits, 0);
	cr_assert_eq(c.sent, 2);
	dns_result_free(a);
	dns_result_free(b);
	dns_free(dns);
	dns_engine_free(eng);
}

Test(dns, identical_questions_in_flight_send_one_packet)
{
	struct dns_engine *eng = test_engine(test_fault_alone(), 2000, 1);
	struct dns *dns = dns_new(eng, 0);
	struct dns_query *q[5];
	struct dns_result *res;
	struct dns_counters c;
	size_t i;

	/* the fault server answers late300.* after 300 ms: all five are in flight together */
	for (i = 0; i < 5; i++)
		q[i] = dns_query_submit(dns, "late300.coalesce.example.test", DNS_T_A);
	for (i = 0; i < 5; i++) {
		res = dns_query_wait(dns, q[i]);
		cr_assert_eq(res->status, DNS_ANSWER, "query %zu: %s", i, dns_status_name(res->status));
		dns_result_free(res);
		dns_query_free(q[i]);
	}
	dns_counters_get(dns, &c);
	cr_assert_eq(c.sent, 1);
	cr_assert_eq(c.coalesced, 4);
	dns_engine_stats(eng, &c, NULL, 0, NULL);
	cr_assert_eq(c.sent, 1, "packets on the wire: %llu", (unsigned long long)c.sent);
	dns_free(dns);
	dns_engine_free(eng);
}

Test(dns, many_queries_in_flight_take_one_round_trip)
{
	struct dns_engine *eng = test_engine(test_fault_alone(), 3000, 1);
	struct dns *dns = dns_new(eng, 0);
	const char *names[50];
	uint16_t types[50];
	struct dns_result *res[50];
	char buf[50][64];
	int64_t start;
	int elapsed;
	size_t i;

	for (i = 0; i < 50; i++) {
		snprintf(buf[i], sizeof(buf[i]), "late200.n%zu.example.test", i);
		names[i] = buf[i];
		types[i] = DNS_T_A;
	}
	start = now_ms();
	dns_lookup_many(dns, names, types, 50, res);
	elapsed = (int)(now_ms() - start);
	for (i = 0; i < 50; i++) {
		cr_assert_eq(res[i]->status, DNS_ANSWER, "%s: %s", names[i],
		    dns_status_name(res[i]->status));
		dns_result_free(res[i]);
	}
	/* 50 sequential lookups would take 10 s; in parallel they take one delay */
	cr_assert_lt(elapsed, 2000, "50 lookups took %d ms", elapsed);
	dns_free(dns);
	dns_engine_free(eng);
}

struct fault_case {
	const char *name;
	uint16_t type;
	enum dns_status want;
	int attempts;
};

static const struct fault_case fault_cases[] = {
	{ "timeout.x.example.test", DNS_T_A, DNS_TIMEOUT, 2 },
	{ "servfail.x.example.test", DNS_T_A, DNS_SERVFAIL, 1 },
	{ "refused.x.example.test", DNS_T_A, DNS_REFUSED, 1 },
	{ "nxdomain.x.example.test", DNS_T_A, DNS_NXDOMAIN, 1 },
	{ "nodata.x.example.test", DNS_T_A, DNS_NODATA, 1 },
	{ "malformed.x.example.test", DNS_T_A, DNS_MALFORMED, 1 },
	{ "badid.x.example.test", DNS_T_A, DNS_TIMEOUT, 1 },
	{ "badq.x.example.test", DNS_T_A, DNS_TIMEOUT, 1 },
	{ "wrongsrc.x.example.test", DNS_T_A, DNS_TIMEOUT, 1 },
	{ "badthengood.x.example.test", DNS_T_A, DNS_ANSWER, 1 },
	{ "tc.x.example.test", DNS_T_A, DNS_ANSWER, 1 },
	{ "tcrefuse.x.example.test", DNS_T_A, DNS_NETERR, 1 },
	{ "flaky1.x.example.test", DNS_T_A, DNS_ANSWER, 3 },
	{ "big.x.example.test", DNS_T_TXT, DNS_ANSWER, 1 },
	{ "many.x.example.test", DNS_T_A, DNS_ANSWER, 1 },
	{ "cnameloop.x.example.test", DNS_T_MX, DNS_SERVFAIL, 1 },
	{ "cnamechain.x.example.test", DNS_T_A, DNS_SERVFAIL, 1 },
	{ "cnamerun.x.example.test", DNS_T_A, DNS_SERVFAIL, 1 },
	{ "cnameping.x.example.test", DNS_T_TXT, DNS_SERVFAIL, 1 },
};

Test(dns, each_server_fault_gives_its_typed_outcome)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(fault_cases); i++) {
		const struct fault_case *fc = &fault_cases[i];
		struct dns_engine *eng = test_engine(test_fault_alone(), 400, fc->attempts);
		struct dns_result *res = ask(eng, fc->name, fc->type);

		cr_expect_eq(res->status, fc->want, "case %s: want %s, got %s", fc->name,
		    dns_status_name(fc->want), dns_status_name(res->status));
		dns_result_free(res);
		dns_engine_free(eng);
	}
}

/* Asks (name, type) once of the lone fault server on an engine of its own; its counters in *c. */
static struct dns_result *
ask_alone(const char *name, uint16_t type, int attempt_ms, int attempts, struct dns_counters *c)
{
	struct dns_engine *eng = test_engine(test_fault_alone(), attempt_ms, attempts);
	struct dns_result *res = ask(eng, name, type);

	dns_engine_stats(eng, c, NULL, 0, NULL);
	dns_engine_free(eng);
	return res;
}

Test(dns, mismatched_replies_are_counted_and_dropped)
{
	struct dns_counters c;
	struct dns_result *res = ask_alone("badthengood.y.example.test", DNS_T_A, 400, 1, &c);

	cr_assert_eq(res->status, DNS_ANSWER);
	cr_assert_geq(c.mismatched, 2, "mismatched %llu", (unsigned long long)c.mismatched);
	dns_result_free(res);
}

Test(dns, retries_rotate_and_are_counted)
{
	struct dns_counters c;
	struct dns_result *res = ask_alone("flaky2.z.example.test", DNS_T_A, 300, 3, &c);

	cr_assert_eq(res->status, DNS_ANSWER, "got %s", dns_status_name(res->status));
	cr_assert_eq(c.retries, 2);
	cr_assert_eq(c.timeouts, 2);
	dns_result_free(res);
}

Test(dns, session_deadline_cuts_a_slow_query)
{
	struct dns_engine *eng = test_engine(test_fault_alone(), 5000, 1);
	struct dns *dns = dns_new(eng, now_ms() + 200);
	int64_t start = now_ms();
	struct dns_result *res = dns_lookup(dns, "timeout.deadline.example.test", DNS_T_A);
	int elapsed = (int)(now_ms() - start);

	cr_assert_eq(res->status, DNS_TIMEOUT);
	cr_assert(res->deadline);
	cr_assert_lt(elapsed, 1000, "waited %d ms", elapsed);
	dns_result_free(res);
	dns_free(dns);
	dns_engine_free(eng);
}

Test(dns, aliases_over_several_replies_stop_at_the_first_repeated_name)
{
	struct dns_counters c;
	struct dns_result *res = ask_alone("cnameping.r.example.test", DNS_T_A, 400, 1, &c);

	/* cnameping -> cnamepong in one reply, cnamepong -> cnameping in the next: two packets */
	cr_assert_eq(res->status, DNS_SERVFAIL, "got %s", dns_status_name(res->status));
	cr_expect_eq(c.sent, 2, "sent %llu", (unsigned long long)c.sent);
	dns_result_free(res);
}

Test(dns, answer_of_thousands_of_records_keeps_dns_max_rr)
{
	struct dns_counters c;
	struct dns_result *res = ask_alone("many.k.example.test", DNS_T_A, 2000, 1, &c);

	cr_assert_eq(res->status, DNS_ANSWER, "got %s", dns_status_name(res->status));
	cr_expect_eq(res->nrr, DNS_MAX_RR);
	cr_expect_eq(res->ndropped, 3000 - DNS_MAX_RR);
	dns_result_free(res);
}

Test(dns, no_packet_is_sent_once_the_session_deadline_passed)
{
	struct dns_engine *eng = test_engine(test_fault_alone(), 400, 1);
	struct dns *dns = dns_new(eng, now_ms() - 1);
	struct dns_result *res = dns_lookup(dns, "mail.after.example.test", DNS_T_A);
	struct dns_counters c;
	struct timespec pause = { 0, 200 * 1000000L };

	cr_assert_eq(res->status, DNS_TIMEOUT, "got %s", dns_status_name(res->status));
	cr_expect(res->deadline);
	/* the I/O thread would have sent it by now */
	nanosleep(&pause, NULL);
	dns_engine_stats(eng, &c, NULL, 0, NULL);
	cr_expect_eq(c.sent, 0, "sent %llu after the deadline", (unsigned long long)c.sent);
	dns_result_free(res);
	dns_free(dns);
	dns_engine_free(eng);
}

Test(dns, unreachable_resolver_times_out_without_hanging)
{
	/* a loopback port where nothing listens: the datagrams vanish */
	struct dns_engine *eng = test_engine("127.0.0.1:9", 200, 2);
	int64_t start = now_ms();
	struct dns_result *res = ask(eng, "mail.example.test", DNS_T_A);

	cr_assert(res->status == DNS_TIMEOUT || res->status == DNS_NETERR,
	    "got %s", dns_status_name(res->status));
	cr_assert_lt(now_ms() - start, 2000);
	dns_result_free(res);
	dns_engine_free(eng);
}

Test(dns, name_too_long_for_the_wire_is_malformed_at_once)
{
	struct dns_engine *eng = test_engine(test_ns(), 1000, 1);
	char name[400];
	struct dns_result *res;

	memset(name, 'a', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	res = ask(eng, name, DNS_T_A);
	cr_assert_eq(res->status, DNS_MALFORMED);
	dns_result_free(res);
	dns_engine_free(eng);
}

struct thread_arg {
	struct dns_engine *eng;
	int ok;
};

static void *
hammer(void *p)
{
	struct thread_arg *a = p;
	struct dns *dns = dns_new(a->eng, 0);
	int i;

	for (i = 0; i < 50; i++) {
		struct dns_result *res = dns_lookup(dns, i % 2 ? "mail.example.test" :
		    "other.example.test", DNS_T_A);

		if (res->status == DNS_ANSWER)
			a->ok++;
		dns_result_free(res);
	}
	dns_free(dns);
	return NULL;
}

Test(dns, lookups_from_several_threads_share_one_engine)
{
	struct dns_engine *eng = test_engine(test_ns(), 1000, 2);
	struct thread_arg args[8];
	pthread_t th[8];
	size_t i;

	for (i = 0; i < 8; i++) {
		args[i].eng = eng;
		args[i].ok = 0;
		cr_assert_eq(pthread_create(&th[i], NULL, hammer, &args[i]), 0);
	}
	for (i = 0; i < 8; i++) {
		pthread_join(th[i], NULL);
		cr_assert_eq(args[i].ok, 50, "thread %zu: %d answers", i, args[i].ok);
	}
	dns_engine_free(eng);
}

Test(dns, status_names_are_the_json_vocabulary)
{
	cr_assert_str_eq(dns_status_name(DNS_ANSWER), "answer");
	cr_assert_str_eq(dns_status_name(DNS_NXDOMAIN), "nxdomain");
	cr_assert_str_eq(dns_status_name(DNS_NODATA), "nodata");
	cr_assert_str_eq(dns_status_name(DNS_SERVFAIL), "servfail");
	cr_assert_str_eq(dns_status_name(DNS_REFUSED), "refused");
	cr_assert_str_eq(dns_status_name(DNS_TIMEOUT), "timeout");
	cr_assert_str_eq(dns_status_name(DNS_MALFORMED), "malformed");
	cr_assert_str_eq(dns_status_name(DNS_NETERR), "network_error");
}

Test(dns, session_counts_the_retries_of_its_own_queries)
{
	struct dns_engine *eng = test_engine(test_fault_alone(), 300, 3);
	struct dns *mine = dns_new(eng, 0), *other = dns_new(eng, 0);
	struct dns_result *res = dns_lookup(mine, "flaky2.session.example.test", DNS_T_A);
	struct dns_result *again = dns_lookup(other, "flaky2.session.example.test", DNS_T_A);
	struct dns_counters c;

	cr_assert_eq(res->status, DNS_ANSWER, "got %s", dns_status_name(res->status));
	dns_counters_get(mine, &c);
	cr_assert_eq(c.retries, 2);
	cr_assert_eq(c.timeouts, 2);
	cr_assert_eq(c.sent, 3);
	dns_counters_get(other, &c);
	cr_assert_eq(c.cache_hits, 1);
	cr_assert_eq(c.sent, 0);
	cr_assert_eq(c.retries, 0);
	dns_result_free(res);
	dns_result_free(again);
	dns_free(mine);
	dns_free(other);
	dns_engine_free(eng);
}

Test(dns, source_ports_change_as_queries_go_on)
{
	/* the fault server answers srcport.* with the UDP source port the query came from */
	struct dns_engine *eng = test_engine(test_fault_alone(), 1000, 2);
	struct dns *dns = dns_new(eng, 0);
	const char *names[200];
	uint16_t types[200];
	struct dns_result *res[200];
	char buf[200][64];
	long ports[200];
	size_t i, j, distinct = 0;

	for (i = 0; i < 200; i++) {
		snprintf(buf[i], sizeof(buf[i]), "srcport.q%zu.example.test", i);
		names[i] = buf[i];
		types[i] = DNS_T_TXT;
	}
	dns_lookup_many(dns, names, types, 200, res);
	for (i = 0; i < 200; i++) {
		cr_assert_eq(res[i]->status, DNS_ANSWER, "%s: %s", names[i],
		    dns_status_name(res[i]->status));
		ports[i] = strtol(res[i]->rr[0].u.txt.data, NULL, 10);
		cr_assert_gt(ports[i], 0);
		dns_result_free(res[i]);
	}
	for (i = 0; i < 200; i++) {
		for (j = 0; j < i && ports[j] != ports[i]; j++)
			;
		if (j == i)
			distinct++;
	}
	/* no port carries more than a few dozen queries: 200 queries need several */
	cr_assert_geq(distinct, 200 / 32, "only %zu source ports for 200 queries", distinct);
	dns_free(dns);
	dns_engine_free(eng);
}

/* An engine on server with the cache, in-flight and global caps given (0: none for qps). */
static struct dns_engine *
engine_with(const char *server, size_t cache_max, size_t inflight, double max_qps)
{
	struct dns_config cfg;

	test_dns_config(&cfg, server, 2000, 1);
	cfg.cache_max = cache_max;
	cfg.max_inflight = inflight;
	cfg.max_qps = max_qps;
	return test_engine_of(&cfg);
}

/*
 * A fault server of the test's own with its question log (answering every
 * name itself, or NSD's answers with upstream; delay_ms late, when not
 * NULL), and an engine on it with the cache, in-flight and global caps given.
 */
static struct dns_engine *
logged(struct test_faultdns *f, bool upstream, const char *delay_ms, size_t cache_max,
    size_t inflight, double max_qps)
{
	const char *args[5] = { NULL };
	size_t n = 0;

	if (upstream) {
		args[n++] = "--upstream";
		args[n++] = test_ns();
	}
	if (delay_ms != NULL) {
		args[n++] = "--delay";
		args[n++] = delay_ms;
	}
	test_logged_start(f, args);
	return engine_with(f->addr, cache_max, inflight, max_qps);
}

/* Frees what a logged() test used: its questions, its engine, its server. */
static void
logged_stop(struct test_faultdns *f, struct dns_engine *eng, struct test_question *q)
{
	free(q);
	dns_engine_free(eng);
	test_logged_stop(f);
}

/* Asks the n names prefix0.zone ... at once and waits for them all; fails on a non-answer. */
static void
ask_many(struct dns_engine *eng, const char *prefix, const char *zone, size_t n)
{
	struct dns *dns = dns_new(eng, 0);
	const char **names = calloc(n, sizeof(*names));
	uint16_t *types = calloc(n, sizeof(*types));
	struct dns_result **res = calloc(n, sizeof(*res));
	size_t i;

	for (i = 0; i < n; i++) {
		names[i] = xasprintf("%s%zu.%s", prefix, i, zone);
		types[i] = DNS_T_A;
	}
	dns_lookup_many(dns, names, types, n, res);
	for (i = 0; i < n; i++) {
		cr_assert_eq(res[i]->status, DNS_ANSWER, "%s: %s", names[i],
		    dns_status_name(res[i]->status));
		dns_result_free(res[i]);
		free((char *)(uintptr_t)names[i]);
	}
	free(names);
	free(types);
	free(res);
	dns_free(dns);
}

/* The most questions of q (n of them) under zone that arrived within any window of ms. */
static size_t
most_within(const struct test_question *q, size_t n, const char *zone, long ms)
{
	size_t i, j, best = 0, c;
	size_t zl = strlen(zone);

	for (i = 0; i < n; i++) {
		size_t l = strlen(q[i].name);

		if (l < zl || strcmp(q[i].name + l - zl, zone) != 0)
			continue;
		for (c = 0, j = i; j < n && q[j].ms < q[i].ms + ms; j++) {
			size_t lj = strlen(q[j].name);

			if (lj >= zl && strcmp(q[j].name + lj - zl, zone) == 0)
				c++;
		}
		if (c > best)
			best = c;
	}
	return best;
}

Test(dns, cache_never_holds_more_answers_than_cache_max)
{
	struct dns_engine *eng = engine_with(test_ns(), 5, 64, 0);
	struct dns *dns = dns_new(eng, 0);
	struct dns_gauges g;
	char name[64];
	size_t i;

	for (i = 0; i < 20; i++) {
		struct dns_result *res;

		/* negative answers are cached too, for the SOA's minimum */
		snprintf(name, sizeof(name), "nothing%zu.example.test", i);
		res = dns_lookup(dns, name, DNS_T_A);
		cr_assert_eq(res->status, DNS_NXDOMAIN, "%s: %s", name, dns_status_name(res->status));
		dns_result_free(res);
		dns_engine_gauges(eng, &g);
		cr_assert_leq(g.cached, 5, "%zu answers cached after %zu questions", g.cached, i + 1);
	}
	dns_engine_gauges(eng, &g);
	cr_assert_eq(g.peak_cached, 5, "the cache filled up to %zu", g.peak_cached);
	dns_free(dns);
	dns_engine_free(eng);
}

/* Asks name once through a fresh session; the result is dropped. */
static void
ask_once(struct dns_engine *eng, const char *name)
{
	struct dns_result *res = ask(eng, name, DNS_T_A);

	cr_assert_eq(res->status, DNS_ANSWER, "%s: %s", name, dns_status_name(res->status));
	dns_result_free(res);
}

Test(dns, an_evicted_answer_is_asked_again_a_cached_one_is_not)
{
	struct test_faultdns f;
	struct test_question *q;
	struct dns_engine *eng = logged(&f, true, NULL, 2, 64, 0);
	size_t n;

	ask_once(eng, "mail.example.test");
	ask_once(eng, "mail.shop.test");
	ask_once(eng, "other.example.test");	/* the cache is full: mail.example.test goes */
	ask_once(eng, "other.example.test");	/* cached */
	ask_once(eng, "mail.example.test");	/* evicted: asked again */
	q = test_faultdns_questions(&f, &n);
	cr_assert_eq(test_questions_count(q, n, "mail.example.test", "A"), 2,
	    "the evicted answer must be asked again");
	cr_assert_eq(test_questions_count(q, n, "other.example.test", "A"), 1,
	    "the cached answer must not be asked again");
	logged_stop(&f, eng, q);
}

Test(dns, an_answer_asked_again_outlives_answers_asked_once)
{
	struct test_faultdns f;
	struct test_question *q;
	struct dns_engine *eng = logged(&f, false, NULL, 8, 64, 0);
	size_t n;

	ask_once(eng, "shared.lru.test");
	ask_once(eng, "shared.lru.test");
	/* a flood of one-off names, twice the cache, as each target of a batch brings */
	ask_many(eng, "once", "lru.test", 16);
	ask_once(eng, "shared.lru.test");
	q = test_faultdns_questions(&f, &n);
	cr_assert_eq(test_questions_count(q, n, "shared.lru.test", "A"), 1,
	    "a name asked again must stay cached through one-off names");
	cr_assert_eq(test_questions_count(q, n, "once0.lru.test", "A"), 1);
	logged_stop(&f, eng, q);
}

Test(dns, no_more_questions_in_flight_than_max_inflight)
{
	/* every answer comes 200 ms late: a question can go only when another came back */
	struct test_faultdns f;
	struct test_question *q;
	struct dns_engine *eng = logged(&f, false, "200", 100, 4, 0);
	struct dns_gauges g;
	size_t n;

	ask_many(eng, "q", "inflight.test", 16);
	q = test_faultdns_questions(&f, &n);
	cr_assert_eq(n, 16);
	/* within 150 ms of any question, at most the cap arrived (the next wave is 200 ms on) */
	cr_assert_leq(most_within(q, n, "inflight.test", 150), 4, "%zu questions at once",
	    most_within(q, n, "inflight.test", 150));
	cr_assert_geq(q[n - 1].ms - q[0].ms, 3 * 200 - 50, "16 questions in waves of 4 took %ld ms",
	    q[n - 1].ms - q[0].ms);
	dns_engine_gauges(eng, &g);
	cr_assert_eq(g.peak_inflight, 4);
	logged_stop(&f, eng, q);
}

Test(dns, a_zone_rate_cap_spaces_its_questions_and_leaves_others_alone)
{
	struct test_faultdns f;
	struct test_question *q;
	struct dns_engine *eng = logged(&f, false, NULL, 1000, 1024, 0);
	struct dns_cap_info caps[4];
	size_t n, i, nfree = 0;
	long first, last = 0, free_last = 0;

	dns_engine_cap_zone(eng, "capped.test", 20, 0);
	cr_assert_eq(dns_engine_caps(eng, caps, 4), 1);
	cr_assert_str_eq(caps[0].zone, "capped.test");
	cr_assert_eq(caps[0].rate, 20);
	ask_many(eng, "free", "other.test", 10);
	ask_many(eng, "q", "capped.test", 60);
	q = test_faultdns_questions(&f, &n);
	cr_assert_eq(n, 70);
	first = q[0].ms;
	for (i = 0; i < n; i++) {
		if (strstr(q[i].name, "capped.test") != NULL)
			last = q[i].ms;
		else if (++nfree && q[i].ms > free_last)
			free_last = q[i].ms;
	}
	cr_assert_eq(nfree, 10);
	cr_assert_lt(free_last - first, 500, "a zone without a cap waited %ld ms", free_last - first);
	/* a second's worth at once, then 20 a second: 60 take at least 2 s (less a margin) */
	cr_assert_geq(last - first, 1600, "60 questions at 20/s took %ld ms", last - first);
	cr_assert_leq(most_within(q, n, "capped.test", 1000), 2 * 20, "%zu questions in one second",
	    most_within(q, n, "capped.test", 1000));
	logged_stop(&f, eng, q);
}

Test(dns, max_qps_spaces_every_question)
{
	struct test_faultdns f;
	struct test_question *q;
	struct dns_engine *eng = logged(&f, false, NULL, 1000, 1024, 25);
	size_t n;

	ask_many(eng, "a", "one.test", 20);
	ask_many(eng, "b", "two.test", 30);
	q = test_faultdns_questions(&f, &n);
	cr_assert_eq(n, 50);
	/* 25 at once, then 25 a second */
	cr_assert_geq(q[n - 1].ms - q[0].ms, 800, "50 questions at 25/s took %ld ms",
	    q[n - 1].ms - q[0].ms);
	cr_assert_leq(most_within(q, n, "test", 1000), 2 * 25);
	logged_stop(&f, eng, q);
}

static char warned[4][512];
static size_t nwarned;

static void
keep_warning(void *arg, const char *msg)
{
	(void)arg;
	if (nwarned < ARRAY_SIZE(warned))
		snprintf(warned[nwarned++], sizeof(warned[0]), "%s", msg);
}

Test(dns, a_spent_budget_fails_the_rest_as_over_budget_after_a_warning)
{
	struct test_faultdns f;
	const char *args[] = { NULL };
	struct dns_config cfg;
	struct dns_engine *eng;
	struct test_question *q;
	struct dns *dns;
	char name[64];
	size_t n, i, answered = 0, over = 0;

	test_logged_start(&f, args);
	test_dns_config(&cfg, f.addr, 1500, 3);
	cfg.warn = keep_warning;
	eng = test_engine_of(&cfg);
	dns_engine_cap_zone(eng, "budget.test", 0, 10);
	dns = dns_new(eng, 0);
	for (i = 0; i < 14; i++) {
		struct dns_result *res;

		snprintf(name, sizeof(name), "n%zu.budget.test", i);
		res = dns_lookup(dns, name, DNS_T_A);
		if (res->status == DNS_ANSWER)
			answered++;
		else if (res->status == DNS_OVER_BUDGET)
			over++;
		dns_result_free(res);
		/* the warning comes before the budget is spent */
		if (i == 8)
			cr_assert_eq(nwarned, 1, "no warning at 9 of 10 questions");
	}
	cr_assert_eq(answered, 10);
	cr_assert_eq(over, 4);
	cr_assert_eq(nwarned, 2);
	cr_assert_not_null(strstr(warned[0], "'budget.test'"), "%s", warned[0]);
	cr_assert_not_null(strstr(warned[1], "spent"), "%s", warned[1]);
	q = test_faultdns_questions(&f, &n);
	cr_assert_eq(n, 10, "%zu questions reached the server", n);
	cr_assert(dns_status_is_failure(DNS_OVER_BUDGET));
	cr_assert_str_eq(dns_status_name(DNS_OVER_BUDGET), "over_budget");
	free(q);
	dns_free(dns);
	dns_engine_free(eng);
	test_logged_stop(&f);
}

Test(dns, a_held_question_nobody_waits_for_any_more_is_not_sent)
{
	struct test_faultdns f;
	struct test_question *q;
	struct dns_engine *eng = logged(&f, false, NULL, 100, 1024, 0);
	struct dns *dns;
	struct dns_query *qs[10];
	struct dns_result *res;
	char name[64];
	size_t n, i;

	dns_engine_cap_zone(eng, "slow.test", 2, 0);
	dns = dns_new(eng, now_ms() + 300);
	for (i = 0; i < 10; i++) {
		snprintf(name, sizeof(name), "h%zu.slow.test", i);
		qs[i] = dns_query_submit(dns, name, DNS_T_A);
	}
	for (i = 0; i < 10; i++) {
		res = dns_query_wait(dns, qs[i]);
		dns_result_free(res);
		dns_query_free(qs[i]);
	}
	dns_free(dns);
	/* at 2/s the other eight would go out over the next 4 s; nobody waits for them */
	usleep(1500 * 1000);
	q = test_faultdns_questions(&f, &n);
	cr_assert_leq(n, 3, "%zu questions sent for a session that gave up", n);
	logged_stop(&f, eng, q);
}

Test(dns, admission_paces_targets_to_the_tightest_cap)
{
	struct test_faultdns f;
	struct dns_engine *eng = logged(&f, false, NULL, 100, 1024, 0);
	int64_t start;
	char name[64];
	size_t i;

	start = now_ms();
	for (i = 0; i < 50; i++)
		dns_engine_admit(eng);
	cr_assert_lt(now_ms() - start, 200, "admission without caps must not wait");
	dns_engine_cap_zone(eng, "pace.test", 20, 0);
	start = now_ms();
	/* each target asks two questions of the capped zone: 10 targets a second */
	for (i = 0; i < 30; i++) {
		dns_engine_admit(eng);
		snprintf(name, sizeof(name), "t%zu.pace.test", i);
		ask_many(eng, name, "pace.test", 2);
	}
	cr_assert_geq(now_ms() - start, 1500, "30 targets of 2 questions at 20/s took %ld ms",
	    (long)(now_ms() - start));
	logged_stop(&f, eng, NULL);
}

Test(dns, the_dns_section_sets_the_engine_and_names_a_bad_line)
{
	struct dns_config cfg;
	struct error err = { "" };
	struct conf *conf = conf_new();

	dns_config_init(&cfg);
	cr_assert_eq(cfg.cache_max, DNS_CACHE_MAX_DEFAULT);
	cr_assert_eq(conf_load_file(conf, "dns.conf",
	    "[dns]\ncache_max = 7\nmax_inflight = 3\nmax_qps = 2.5\n", &err), 0, "%s", err.msg);
	cr_assert_eq(dns_config_read(&cfg, conf, &err), 0, "%s", err.msg);
	cr_assert_eq(cfg.cache_max, 7);
	cr_assert_eq(cfg.max_inflight, 3);
	cr_assert_eq(cfg.max_qps, 2.5);
	conf_free(conf);

	conf = conf_new();
	cr_assert_eq(conf_load_file(conf, "dns.conf", "[dns]\ncache_max = 7\nmax_qps = -1\n",
	    &err), 0);
	cr_assert_eq(dns_config_read(&cfg, conf, &err), -1);
	cr_assert_not_null(strstr(err.msg, "dns.conf:3"), "%s", err.msg);
	conf_free(conf);

	conf = conf_new();
	cr_assert_eq(conf_load_file(conf, "dns.conf", "[dns]\ncache = 7\n", &err), 0);
	cr_assert_eq(dns_config_read(&cfg, conf, &err), -1);
	cr_assert_not_null(strstr(err.msg, "dns.conf:2"), "%s", err.msg);
	conf_free(conf);
}
