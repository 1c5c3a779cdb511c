/* Runs the cases of one SPF conformance scenario (written by tests/spf_suite.py) through the strict evaluator and the libspf2 view, on the real engine. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "checks/spf/eval.h"
#include "dns/dns.h"
#include "dns/spf_adapter.h"
#include "core/util.h"
#include "core/net.h"

struct suite_case {
	char *name, *host, *mailfrom, *helo, *results, *exp;
};

static void
usage(void)
{
	fputs("usage: spfsuite --resolver ADDR:PORT --cases FILE [--attempt-ms N] "
	    "[--receiver] [--verbose] [--repeat N] [--fresh-cache]\n", stderr);
	exit(64);
}

/* Decodes a percent-encoded field in place. */
static char *
decode(char *s)
{
	char *r = s, *w = s;

	while (*r != '\0') {
		if (r[0] == '%' && r[1] != '\0' && r[2] != '\0') {
			char hex[3] = { r[1], r[2], '\0' };

			*w++ = (char)strtol(hex, NULL, 16);
			r += 3;
		} else {
			*w++ = *r++;
		}
	}
	*w = '\0';
	return s;
}

static size_t
read_cases(const char *path, struct suite_case **out)
{
	FILE *fp = fopen(path, "r");
	char line[8192];
	size_t n = 0;

	if (fp == NULL) {
		fprintf(stderr, "spfsuite: cannot read '%s': %s\n", path, strerror(errno));
		exit(1);
	}
	*out = NULL;
	while (fgets(line, sizeof(line), fp) != NULL) {
		char *f[6], *p = line;
		size_t i;

		line[strcspn(line, "\n")] = '\0';
		/* fields may be empty (an empty MAIL FROM): split on each tab */
		for (i = 0; i < 6 && p != NULL; i++)
			f[i] = strsep(&p, "\t");
		if (i < 6)
			continue;
		*out = xrealloc(*out, (n + 1) * sizeof(**out));
		(*out)[n].name = xstrdup(decode(f[0]));
		(*out)[n].host = xstrdup(decode(f[1]));
		(*out)[n].mailfrom = xstrdup(decode(f[2]));
		(*out)[n].helo = xstrdup(decode(f[3]));
		(*out)[n].results = xstrdup(decode(f[4]));
		(*out)[n].exp = strcmp(f[5], "-") == 0 ? NULL : xstrdup(decode(f[5]));
		n++;
	}
	fclose(fp);
	return n;
}

static bool
accepted(const char *list, const char *result)
{
	char *copy = xstrdup(list), *save = NULL, *tok;
	bool ok = false;

	for (tok = strtok_r(copy, ",", &save); tok != NULL; tok = strtok_r(NULL, ",", &save))
		if (strcmp(tok, result) == 0)
			ok = true;
	free(copy);
	return ok;
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "resolver", required_argument, NULL, 'r' },
		{ "cases", required_argument, NULL, 'c' },
		{ "attempt-ms", required_argument, NULL, 'a' },
		{ "receiver", no_argument, NULL, 'R' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "repeat", required_argument, NULL, 'n' },
		{ "fresh-cache", no_argument, NULL, 'f' },
		{ NULL, 0, NULL, 0 }
	};
	const char *resolver = NULL, *cases_path = NULL;
	struct dns_config cfg;
	struct dns_engine *eng;
	struct suite_case *cases;
	struct spf_eval_opts o;
	char errbuf[256];
	size_t ncases, i, strict_ok = 0, recv_ok = 0;
	bool receiver = false, verbose = false, fresh = false;
	int ch, attempt_ms = 400, repeat = 1, round;
	int64_t t0, elapsed;

	while ((ch = getopt_long(argc, argv, "r:c:a:Rvn:f", opts, NULL)) != -1) {
		switch (ch) {
		case 'r':
			resolver = optarg;
			break;
		case 'c':
			cases_path = optarg;
			break;
		case 'a':
			attempt_ms = atoi(optarg);
			break;
		case 'R':
			receiver = true;
			break;
		case 'v':
			verbose = true;
			break;
		case 'n':
			repeat = atoi(optarg);
			break;
		case 'f':
			/* each case on an engine of its own: nothing cached from the case before */
			fresh = true;
			break;
		default:
			usage();
		}
	}
	if (resolver == NULL || cases_path == NULL || attempt_ms <= 0 || repeat <= 0)
		usage();
	dns_config_init(&cfg);
	if (dns_server_parse(resolver, &cfg.servers[0]) < 0) {
		fprintf(stderr, "spfsuite: bad resolver '%s'\n", resolver);
		return 64;
	}
	cfg.nservers = 1;
	cfg.attempt_timeout_ms = attempt_ms;
	cfg.attempts = 2;
	if ((eng = dns_engine_new(&cfg, errbuf, sizeof(errbuf))) == NULL) {
		fprintf(stderr, "spfsuite: %s\n", errbuf);
		return 1;
	}
	ncases = read_cases(cases_path, &cases);
	spf_eval_opts_init(&o);
	o.default_exp = "DEFAULT";
	o.receiver = "receiver.test";

	t0 = now_ms();
	for (round = 0; round < repeat; round++) {
		strict_ok = 0;
		recv_ok = 0;
		for (i = 0; i < ncases; i++) {
			const struct suite_case *c = &cases[i];
			struct dns *dns;
			struct spf_outcome out;
			unsigned char addr[16];
			int family;
			char *sender, *domain;
			const char *at, *got;
			bool ok;

			if (fresh && (i > 0 || round > 0)) {
				dns_engine_free(eng);
				if ((eng = dns_engine_new(&cfg, errbuf, sizeof(errbuf))) == NULL) {
					fprintf(stderr, "spfsuite: %s\n", errbuf);
					return 1;
				}
			}
			dns = dns_new(eng, now_ms() + 20000);
			if (net_ip_parse(c->host, &family, addr) < 0) {
				printf("FAIL %s: bad host '%s'\n", c->name, c->host);
				dns_free(dns);
				continue;
			}
			/* RFC 7208 2.4: an empty MAIL FROM is checked as postmaster@HELO */
			if (c->mailfrom[0] == '\0') {
				sender = xasprintf("postmaster@%s", c->helo);
				domain = xstrdup(c->helo);
			} else {
				sender = xstrdup(c->mailfrom);
				at = strrchr(c->mailfrom, '@');
				domain = xstrdup(at != NULL ? at + 1 : c->mailfrom);
			}
			spf_evaluate(dns, &o, family, addr, domain, sender, c->helo, &out);
			got = spf_result_name(out.result);
			ok = accepted(c->results, got);
			if (ok && c->exp != NULL && out.result == SPF_R_FAIL &&
			    (out.explanation == NULL || strcmp(out.explanation, c->exp) != 0))
				ok = false;
			if (ok)
				strict_ok++;
			if (round == 0 && (!ok || verbose))
				printf("%s %s: got %s (exp '%s', reason '%s'), want %s (exp '%s')\n",
				    ok ? "ok" : "FAIL", c->name, got,
				    out.explanation ? out.explanation : "",
				    out.reason ? out.reason : "", c->results, c->exp ? c->exp : "");
			if (receiver) {
				struct spf_receiver_view rv;

				spf_receiver_evaluate(dns, c->host, sender, c->helo, "receiver.test",
				    &rv);
				if (accepted(c->results, rv.result))
					recv_ok++;
				else if (round == 0 && verbose)
					printf("receiver %s: got %s, want %s\n", c->name, rv.result,
					    c->results);
				spf_receiver_view_release(&rv);
			}
			spf_outcome_release(&out);
			free(sender);
			free(domain);
			dns_free(dns);
		}
	}
	elapsed = now_ms() - t0;
	printf("strict %zu/%zu\n", strict_ok, ncases);
	if (receiver)
		printf("receiver %zu/%zu\n", recv_ok, ncases);
	printf("elapsed_ms %lld\n", (long long)elapsed);
	for (i = 0; i < ncases; i++) {
		free(cases[i].name);
		free(cases[i].host);
		free(cases[i].mailfrom);
		free(cases[i].helo);
		free(cases[i].results);
		free(cases[i].exp);
	}
	free(cases);
	dns_engine_free(eng);
	return 0;
}
