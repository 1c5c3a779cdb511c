/* Runs the DKIM conformance suite (messages and key records) through the dkim check and counts exact class matches. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "checks/check.h"
#include "checks/dkim/key.h"
#include "core/conf.h"
#include "core/target.h"

struct counts {
	int sigs, strict, strict_ok, loose, loose_ok, unset;
	int msgs_none, msgs_none_ok;
	int keys, keys_ok;
};

static void
usage(void)
{
	fputs("usage: dkimsuite --resolver ADDR:PORT --suite DIR [--config-dir DIR] [--verbose]\n",
	    stderr);
	exit(64);
}

static char *
read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	struct strbuf sb;
	char buf[8192];
	size_t n;

	if (f == NULL)
		return NULL;
	strbuf_init(&sb);
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		strbuf_add(&sb, buf, n);
	fclose(f);
	if (sb.buf == NULL)
		strbuf_addstr(&sb, "");
	return strbuf_detach(&sb, len);
}

/* Runs the dkim check for t; the report is the caller's. */
static struct report *
run_check(const struct check_ops *ops, void *ctx, struct dns_engine *eng, struct target *t)
{
	struct dns *dns = dns_new(eng, now_ms() + 20000);
	struct report *rep = report_new(ops);

	ops->run(ctx, t, dns, rep);
	dns_free(dns);
	return rep;
}

static const char *
str_or(const json_t *obj, const char *key, const char *dflt)
{
	const char *s = json_string_value(json_object_get(obj, key));

	return s != NULL ? s : dflt;
}

static void
run_messages(const char *suite, const struct check_ops *ops, void *ctx, struct dns_engine *eng,
    bool verbose, struct counts *c)
{
	char *path = xasprintf("%s/manifest.jsonl", suite);
	FILE *f = fopen(path, "r");
	char *line = NULL;
	size_t cap = 0;

	if (f == NULL) {
		fprintf(stderr, "dkimsuite: cannot read '%s'\n", path);
		exit(1);
	}
	while (getline(&line, &cap, f) > 0) {
		json_error_t jerr;
		json_t *m = json_loads(line, 0, &jerr), *exp, *got;
		struct target t;
		struct error err;
		struct report *rep;
		char *msgpath;
		size_t i;

		if (m == NULL)
			continue;
		target_init(&t);
		msgpath = xasprintf("%s/%s", suite, str_or(m, "file", ""));
		if (target_set_message_file(&t, "message", msgpath, &err) < 0) {
			fprintf(stderr, "dkimsuite: %s\n", err.msg);
			exit(1);
		}
		rep = run_check(ops, ctx, eng, &t);
		got = json_object_get(report_data_const(rep), "signatures");
		exp = json_object_get(m, "signatures");
		if (json_array_size(exp) == 0) {
			bool ok = json_array_size(got) == 0;

			c->msgs_none++;
			c->msgs_none_ok += ok;
			if (!ok || verbose)
				printf("%s %s: expected no signature, got %zu\n", ok ? "ok  " : "MISS",
				    str_or(m, "file", "?"), json_array_size(got));
		}
		for (i = 0; i < json_array_size(exp); i++) {
			const json_t *e = json_array_get(exp, i);
			const json_t *g = json_array_get(got, i);
			const char *want = str_or(e, "expected", NULL);
			const char *have = str_or(g, "result", "(none)");
			bool strict = json_is_true(json_object_get(e, "strict"));
			bool ok = want != NULL && strcmp(want, have) == 0;

			c->sigs++;
			if (want == NULL)
				c->unset++;
			else if (strict) {
				c->strict++;
				c->strict_ok += ok;
			} else {
				c->loose++;
				c->loose_ok += ok;
			}
			if (verbose || (want != NULL && !ok))
				printf("%s %s#%zu: expected %s%s, got %s (%s; %s)\n",
				    want == NULL ? "----" : ok ? "ok  " : strict ? "FAIL" : "DIFF",
				    str_or(m, "file", "?"), i, want != NULL ? want : "nothing",
				    strict ? "" : " (policy)", have, str_or(g, "reason", "-"),
				    str_or(g, "detail", "-"));
		}
		report_free(rep);
		free(msgpath);
		target_release(&t);
		json_decref(m);
	}
	free(line);
	fclose(f);
	free(path);
}

/* "mismatch" when the record's RSA key is not the public half of the private key file. */
static const char *
private_match(const char *suite, const char *pem, const json_t *sel)
{
	const char *rec = str_or(sel, "record", NULL);
	char *path = xasprintf("%s/%s", suite, pem), *text;
	unsigned char *mod = NULL;
	size_t len, modlen = 0;
	struct dkim_key key;
	char why[128];
	const char *ret = NULL;

	text = read_file(path, &len);
	if (rec == NULL || text == NULL || strstr(text, "PRIVATE KEY") == NULL)
		goto out;
	if (dkim_rsa_private_modulus(text, len, &mod, &modlen, why, sizeof(why)) < 0) {
		fprintf(stderr, "dkimsuite: '%s': %s\n", path, why);
		goto out;
	}
	if (dkim_key_parse(rec, strlen(rec), &key) == 0 && key.modulus != NULL &&
	    (key.modulus_len != modlen || memcmp(key.modulus, mod, modlen) != 0))
		ret = "mismatch";
	dkim_key_release(&key);
out:
	free(mod);
	free(text);
	free(path);
	return ret;
}

static void
run_keys(const char *suite, const struct check_ops *ops, void *ctx, struct dns_engine *eng,
    bool verbose, struct counts *c)
{
	char *path = xasprintf("%s/keyrecords.jsonl", suite);
	FILE *f = fopen(path, "r");
	char *line = NULL;
	size_t cap = 0;

	if (f == NULL) {
		fprintf(stderr, "dkimsuite: cannot read '%s'\n", path);
		exit(1);
	}
	while (getline(&line, &cap, f) > 0) {
		json_error_t jerr;
		json_t *k = json_loads(line, 0, &jerr);
		const json_t *sel;
		struct target t;
		struct error err;
		struct report *rep;
		const char *want, *have, *pem;
		char *from;
		bool ok;

		if (k == NULL)
			continue;
		target_init(&t);
		from = xasprintf("postmaster@%s", str_or(k, "domain", ""));
		if (target_set_mail_from(&t, "mail_from", from, &err) < 0 ||
		    target_add_selector(&t, "selector", str_or(k, "selector", ""), &err) < 0) {
			fprintf(stderr, "dkimsuite: %s\n", err.msg);
			exit(1);
		}
		rep = run_check(ops, ctx, eng, &t);
		sel = json_array_get(json_object_get(report_data_const(rep), "selectors"), 0);
		want = str_or(k, "expected", "?");
		have = str_or(sel, "verdict", "(none)");
		pem = str_or(k, "private_key", NULL);
		if (pem != NULL && (strcmp(have, "valid") == 0 || strcmp(have, "valid-testing") == 0) &&
		    private_match(suite, pem, sel) != NULL)
			have = "mismatch";
		ok = strcmp(want, have) == 0;
		c->keys++;
		c->keys_ok += ok;
		if (verbose || !ok)
			printf("%s key %s%s: expected %s, got %s\n", ok ? "ok  " : "FAIL",
			    str_or(k, "selector", "?"), pem != NULL ? " (with private key)" : "",
			    want, have);
		report_free(rep);
		free(from);
		target_release(&t);
		json_decref(k);
	}
	free(line);
	fclose(f);
	free(path);
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "resolver", required_argument, NULL, 'r' },
		{ "suite", required_argument, NULL, 's' },
		{ "config-dir", required_argument, NULL, 'c' },
		{ "verbose", no_argument, NULL, 'v' },
		{ NULL, 0, NULL, 0 }
	};
	const char *resolver = NULL, *suite = NULL, *confdir = "checks.d";
	const struct check_ops *ops = check_find("dkim");
	struct counts c;
	struct dns_config cfg;
	struct dns_engine *eng;
	struct conf *conf = conf_new();
	struct error err;
	char ebuf[256];
	void *ctx = NULL;
	bool verbose = false;
	int ch;

	while ((ch = getopt_long(argc, argv, "r:s:c:v", opts, NULL)) != -1) {
		switch (ch) {
		case 'r':
			resolver = optarg;
			break;
		case 's':
			suite = optarg;
			break;
		case 'c':
			confdir = optarg;
			break;
		case 'v':
			verbose = true;
			break;
		default:
			usage();
		}
	}
	if (resolver == NULL || suite == NULL || optind != argc || ops == NULL)
		usage();
	dns_config_init(&cfg);
	if (dns_server_parse(resolver, &cfg.servers[0]) < 0)
		usage();
	cfg.nservers = 1;
	cfg.attempt_timeout_ms = 400;
	cfg.attempts = 2;
	if ((eng = dns_engine_new(&cfg, ebuf, sizeof(ebuf))) == NULL) {
		fprintf(stderr, "dkimsuite: %s\n", ebuf);
		return 1;
	}
	if (conf_load_dir(conf, confdir, &err) < 0 || ops->configure(&ctx, conf, &err) < 0) {
		fprintf(stderr, "dkimsuite: %s\n", err.msg);
		return 78;
	}
	memset(&c, 0, sizeof(c));
	run_messages(suite, ops, ctx, eng, verbose, &c);
	run_keys(suite, ops, ctx, eng, verbose, &c);
	printf("signatures: %d; exact class matches %d of %d with an expectation "
	    "(strict %d/%d, policy-dependent %d/%d); %d without an expectation\n",
	    c.sigs, c.strict_ok + c.loose_ok, c.strict + c.loose, c.strict_ok, c.strict,
	    c.loose_ok, c.loose, c.unset);
	printf("unsigned messages: %d/%d reported without signatures\n", c.msgs_none_ok,
	    c.msgs_none);
	printf("key records: %d/%d\n", c.keys_ok, c.keys);
	ops->free(ctx);
	conf_free(conf);
	dns_engine_free(eng);
	return c.strict_ok == c.strict && c.msgs_none_ok == c.msgs_none && c.keys_ok == c.keys ?
	    0 : 1;
}
