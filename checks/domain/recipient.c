/* Check recipient: the recipient address as a receiver parses it, typos of common domains, and whether its domain receives mail. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "checks/check.h"
#include "checks/domain/mx.h"
#include "checks/domain/recipient_addr.h"
#include "core/textsafe.h"
#include "core/net.h"

struct recipient_conf {
	char **common;		/* common mail domains, lower case, in file order */
	size_t ncommon;
	long max_distance;
	long max_mx_hosts;
};

static const char *const recipient_keys[] = {
	"common_domain", "typo_max_distance", "max_mx_hosts", NULL,
};

static void
recipient_free(void *ctx)
{
	struct recipient_conf *c = ctx;
	size_t i;

	if (c == NULL)
		return;
	for (i = 0; i < c->ncommon; i++)
		free(c->common[i]);
	free(c->common);
	free(c);
}

static int
add_common(struct recipient_conf *c, const struct conf_section *sec,
    const struct conf_entry *e, struct error *err)
{
	char why[200];
	size_t i;

	if (net_name_check(e->value, false, why, sizeof(why)) == -1 ||
	    strchr(e->value, '.') == NULL)
		return conf_error(sec, e, err, "common_domain '%s' is not a domain name%s%s",
		    e->value, strchr(e->value, '.') == NULL ? "" : ": ",
		    strchr(e->value, '.') == NULL ? "" : why);
	for (i = 0; i < c->ncommon; i++)
		if (strcasecmp(c->common[i], e->value) == 0)
			return 0;
	c->common = xrealloc(c->common, (c->ncommon + 1) * sizeof(*c->common));
	c->common[c->ncommon++] = xstrdup_lower(e->value);
	return 0;
}

static int
recipient_configure(void **ctx, const struct conf *conf, struct error *err)
{
	struct recipient_conf *c = xcalloc(1, sizeof(*c));
	const struct conf_section *sec = NULL;
	size_t i;

	c->max_distance = 2;
	c->max_mx_hosts = 10;
	while ((sec = conf_next(conf, sec, "recipient")) != NULL) {
		if (sec->label != NULL) {
			conf_error(sec, NULL, err, "[recipient] takes no label");
			goto fail;
		}
		if (conf_section_check_keys(sec, recipient_keys, err) < 0 ||
		    conf_section_get_int(sec, "typo_max_distance", 0, 3, &c->max_distance,
		    err) < 0 ||
		    conf_section_get_int(sec, "max_mx_hosts", 1, 100, &c->max_mx_hosts, err) < 0)
			goto fail;
		for (i = 0; i < sec->nentries; i++)
			if (strcmp(sec->entries[i].key, "common_domain") == 0 &&
			    add_common(c, sec, &sec->entries[i], err) < 0)
				goto fail;
	}
	*ctx = c;
	return 0;
fail:
	recipient_free(c);
	return -1;
}

/* The common domain the recipient domain looks like a typo of, or NULL. */
static const char *
suggest(const struct recipient_conf *c, const char *domain, int *distance)
{
	char *low;
	const char *s;

	if (domain == NULL || domain[0] == '\0' || c->max_distance == 0)
		return NULL;
	low = xstrdup_lower(domain);
	s = recipient_typo_suggest(low, (const char *const *)c->common, c->ncommon,
	    (int)c->max_distance, distance);
	free(low);
	return s;
}

static void
report_typo(struct report *rep, const char *address, const char *domain,
    const char *suggestion, int distance, json_t *receives)
{
	report_add(rep, "domain_typo", SEV_WARN,
	    json_pack("{s:o,s:o,s:o,s:i,s:o}", "address", json_str(address),
	    "domain", json_str(domain), "suggestion", json_str(suggestion),
	    "distance", distance, "domain_receives_mail", receives),
	    "the recipient domain '%s' looks like a typo of '%s': check the address "
	    "with the recipient", domain, suggestion);
	json_object_set_new(report_data(rep), "suggestion", json_str(suggestion));
}

/* Valid but unusual forms that some receivers refuse. */
static void
report_notes(struct report *rep, const struct target *t, const struct recipient_addr *a)
{
	if (a->quoted)
		report_add(rep, "local_quoted", SEV_INFO,
		    json_pack("{s:o,s:o}", "address", json_str(t->rcpt_to),
		    "local", json_str(a->local)),
		    "the local part is a quoted string: valid, but many systems mishandle it");
	if (a->utf8_local)
		report_add(rep, "local_utf8", SEV_INFO,
		    json_pack("{s:o,s:o}", "address", json_str(t->rcpt_to),
		    "local", json_str(a->local)),
		    "the local part has non-ASCII characters: every server on the way "
		    "must support SMTPUTF8 (RFC 6531)");
	if (a->final_dot)
		report_add(rep, "domain_final_dot", SEV_INFO,
		    json_pack("{s:o,s:o}", "address", json_str(t->rcpt_to),
		    "domain", json_str(a->domain_ascii)),
		    "the domain is written with a final dot, which SMTP does not allow; "
		    "it was read without it");
	if (a->idn)
		report_add(rep, "domain_idn", SEV_INFO,
		    json_pack("{s:o,s:o}", "domain", json_str(a->domain_ascii),
		    "domain_unicode", json_str(a->domain_unicode)),
		    "the domain '%s' is internationalised; DNS knows it as '%s'",
		    a->domain_unicode, a->domain_ascii);
}

static void
recipient_run(const void *ctx, const struct target *t, struct dns *dns, struct report *rep)
{
	const struct recipient_conf *c = ctx;
	struct recipient_addr a;
	struct domain_mail dm;
	const char *sugg;
	json_t *data = report_data(rep), *dj;
	int distance = 0;

	memset(&dm, 0, sizeof(dm));
	json_object_set_new(data, "address", json_str(t->rcpt_to));
	json_object_set_new(data, "suggestion", json_null());
	if (recipient_addr_parse(t->rcpt_to, strlen(t->rcpt_to), &a) == -1) {
		json_object_set_new(data, "syntax", json_string(recipient_addr_problem_name(a.problem)));
		json_object_set_new(data, "local", json_str(a.local));
		json_object_set_new(data, "domain", json_str(a.domain));
		report_add(rep, "address_invalid", SEV_FAIL,
		    json_pack("{s:o,s:s,s:s}", "address", json_str(t->rcpt_to),
		    "problem", recipient_addr_problem_name(a.problem), "detail", a.detail),
		    "the recipient address is not valid: %s", a.detail);
		if ((sugg = suggest(c, a.domain, &distance)) != NULL)
			report_typo(rep, t->rcpt_to, a.domain, sugg, distance, json_null());
		goto out;
	}
	json_object_set_new(data, "syntax", json_string("valid"));
	json_object_set_new(data, "local", json_str(a.local));
	json_object_set_new(data, "domain", json_str(a.domain_ascii));
	json_object_set_new(data, "domain_unicode", json_str(a.domain_unicode));
	report_notes(rep, t, &a);
	if (a.literal) {
		report_add(rep, "domain_literal", SEV_INFO,
		    json_pack("{s:o}", "address", json_str(t->rcpt_to)),
		    "the domain is an address literal: no DNS to check, and most "
		    "receivers refuse such recipients");
		goto out;
	}
	domain_mail_init(&dm, dns, a.domain_ascii);
	domain_mail_wait(&dm, dns, (size_t)c->max_mx_hosts);
	dj = domain_mail_json(&dm);
	json_object_set(data, "exists", json_object_get(dj, "exists"));
	json_object_set(data, "mail", json_object_get(dj, "mail"));
	json_object_set(data, "mx", json_object_get(dj, "mx"));
	json_object_set(data, "addresses", json_object_get(dj, "addresses"));
	json_decref(dj);
	domain_mail_report(&dm, rep, "recipient domain");
	if ((sugg = suggest(c, a.domain_ascii, &distance)) != NULL)
		report_typo(rep, t->rcpt_to, a.domain_ascii, sugg, distance,
		    dm.kind == DOMAIN_MAIL_UNKNOWN ? json_null() :
		    json_boolean(dm.kind == DOMAIN_MAIL_MX ? dm.nresolved > 0 :
		    dm.kind == DOMAIN_MAIL_IMPLICIT));
out:
	domain_mail_release(&dm);
	recipient_addr_release(&a);
}

static void
recipient_describe(const void *ctx, struct strbuf *out)
{
	const struct recipient_conf *c = ctx;

	strbuf_addf(out, "  common domains for typo suggestions: %zu (edit distance up to %ld)\n"
	    "  MX hosts resolved: at most %ld\n", c->ncommon, c->max_distance,
	    c->max_mx_hosts);
}

const struct check_ops check_recipient = {
	.name = "recipient",
	.summary = "the recipient address: syntax, typos of common domains, the domain's MX",
	.needs = NEED_RCPT_TO,
	.configure = recipient_configure,
	.run = recipient_run,
	.describe = recipient_describe,
	.free = recipient_free,
};
