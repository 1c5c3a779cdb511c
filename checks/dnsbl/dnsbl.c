/* Checks dnsbl and dbl: the sending IP and the sender's domains against DNS blocklists. */
#include <netinet/in.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "checks/check.h"
#include "checks/dnsbl/dnsbl.h"
#include "checks/dnsbl/list.h"
#include "core/cause.h"
#include "core/psl.h"
#include "core/textsafe.h"
#include "core/net.h"

#define NAME_MAX_LEN	300	/* room for any name the engine can encode */
#define MAX_DOMAINS	32	/* domains the dbl check asks about per target */
#define TXT_MAX		1024	/* bytes of TXT reason kept per list */
#define DQS_KEY_MAX	63	/* a key is one DNS label */

/* A well-known public resolver: blocklists refuse or ignore queries from them. */
struct public_resolver {
	int family;
	unsigned char addr[16];
	char *text;
};

struct bl_conf {
	bool domains;			/* the dbl check; else dnsbl */
	struct dnsbl_list **lists;
	size_t nlists;
	long threshold;
	struct public_resolver *pub;
	size_t npub;
	struct psl_service *psl;	/* dbl: for registered_domain lists */
	char *dqs_key;			/* Spamhaus Data Query Service key or NULL: never shown */
	char **skip;			/* zones left out (skip_list) */
	size_t nskip;
};

/* How a list did on its RFC 5782 section 5 test points. */
enum selftest {
	SELFTEST_OFF = 0,
	SELFTEST_UNKNOWN,	/* the test queries failed: no judgement */
	SELFTEST_OK,
	SELFTEST_NOT_LISTING,	/* the listed test point is not listed */
	SELFTEST_WORLD,		/* the unlisted test point is listed */
	SELFTEST_REFUSED,
	SELFTEST_TAMPERED,	/* answers outside 127.0.0.0/8 */
};

static const char *const selftest_names[] = {
	"off", "unknown", "ok", "not_listing_test_point", "lists_everything",
	"refused", "unexpected",
};

/* The self-test of one list, shared by all its queries of this target. */
struct probe {
	const struct dnsbl_list *l;
	unsigned kind;
	char pos[NAME_MAX_LEN], neg[NAME_MAX_LEN];
	char shown_pos[NAME_MAX_LEN], shown_neg[NAME_MAX_LEN];	/* with a key hidden */
	struct dns_query *qpos, *qneg;
	struct dns_result *rpos, *rneg;
	enum selftest state;
};

/* One subject asked of one list: A and TXT together. */
struct item {
	const struct dnsbl_list *l;
	struct probe *probe;
	const char *subject;		/* the IP or domain as checked */
	const char *source;		/* dbl: where the domain came from */
	unsigned kind;
	char qname[NAME_MAX_LEN];
	char shown[NAME_MAX_LEN];	/* qname with a key hidden */
	struct dns_query *qa, *qtxt;
	struct dns_result *ra, *rtxt;
};

static const char *const settings_keys[] = {
	"threshold", "public_resolver", "dqs_key", "skip_list", NULL,
};

static const char *const outcome_names[] = {
	[DNSBL_STATUS_LISTED] = "listed",
	[DNSBL_STATUS_NOT_LISTED] = "not_listed",
	[DNSBL_STATUS_REFUSED] = "refused",
	[DNSBL_STATUS_UNEXPECTED] = "unexpected",
	[DNSBL_STATUS_ERROR] = "error",
	[DNSBL_STATUS_IGNORED] = "ignored",
};

const char *
dnsbl_status_name(enum dnsbl_status st)
{
	if ((size_t)st >= ARRAY_SIZE(outcome_names))
		return outcome_names[DNSBL_STATUS_ERROR];
	return outcome_names[st];
}

int
dnsbl_status_parse(const char *s, enum dnsbl_status *out)
{
	int i = name_index(outcome_names, ARRAY_SIZE(outcome_names), s);

	if (i < 0)
		return -1;
	*out = (enum dnsbl_status)i;
	return 0;
}

static void
bl_free(void *ctx)
{
	struct bl_conf *c = ctx;
	size_t i;

	if (c == NULL)
		return;
	for (i = 0; i < c->nlists; i++)
		dnsbl_list_free(c->lists[i]);
	free(c->lists);
	for (i = 0; i < c->npub; i++)
		free(c->pub[i].text);
	free(c->pub);
	psl_service_free(c->psl);
	if (c->dqs_key != NULL)
		explicit_bzero(c->dqs_key, strlen(c->dqs_key));
	free(c->dqs_key);
	for (i = 0; i < c->nskip; i++)
		free(c->skip[i]);
	free(c->skip);
	free(c);
}

static int
add_public(struct bl_conf *c, const struct conf_section *sec, const struct conf_entry *e,
    struct error *err)
{
	struct public_resolver *p;
	size_t i;

	c->pub = xrealloc(c->pub, (c->npub + 1) * sizeof(*c->pub));
	p = &c->pub[c->npub];
	memset(p, 0, sizeof(*p));
	if (net_ip_parse(e->value, &p->family, p->addr) < 0)
		return conf_error(sec, e, err, "public_resolver '%s' is not an IP address", e->value);
	for (i = 0; i < c->npub; i++)
		if (c->pub[i].family == p->family &&
		    memcmp(c->pub[i].addr, p->addr, sizeof(p->addr)) == 0)
			return 0;
	p->text = xstrdup(e->value);
	c->npub++;
	return 0;
}

bool
dnsbl_key_valid(const char *key)
{
	size_t n = strlen(key), i;

	if (n == 0 || n > DQS_KEY_MAX)
		return false;
	for (i = 0; i < n; i++)
		if (!((key[i] >= 'a' && key[i] <= 'z') || (key[i] >= 'A' && key[i] <= 'Z') ||
		    (key[i] >= '0' && key[i] <= '9')))
			return false;
	return true;
}

bool
dnsbl_conf_names_list(const struct conf *conf, const char *zone)
{
	static const char *const names[] = { "dnsbl", "dbl" };
	const struct conf_section *sec;
	char *want = net_name_canonical(zone), *have;
	bool found = false;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(names) && !found; i++) {
		for (sec = NULL; !found && (sec = conf_next(conf, sec, names[i])) != NULL;) {
			const char *dqs = conf_section_get(sec, "dqs_zone");

			if (sec->label == NULL)
				continue;
			have = net_name_canonical(sec->label);
			found = strcmp(have, want) == 0;
			free(have);
			if (!found && dqs != NULL) {
				have = net_name_canonical(dqs);
				found = strcmp(have, want) == 0;
				free(have);
			}
		}
	}
	free(want);
	return found;
}

/* One entry of a settings section: public_resolver, dqs_key, skip_list; others are skipped. */
static int
read_setting(struct bl_conf *c, const struct conf *conf, const struct conf_section *sec,
    const struct conf_entry *e, struct error *err)
{
	if (strcmp(e->key, "public_resolver") == 0)
		return add_public(c, sec, e, err);
	if (strcmp(e->key, "dqs_key") == 0) {
		/* the key is a secret: the message never quotes it */
		if (e->value[0] != '\0' && !dnsbl_key_valid(e->value))
			return conf_error(sec, e, err, "dqs_key is not a Data Query Service key "
			    "(one label of letters and digits, at most %d)", DQS_KEY_MAX);
		if (c->dqs_key != NULL)
			explicit_bzero(c->dqs_key, strlen(c->dqs_key));
		free(c->dqs_key);
		c->dqs_key = e->value[0] != '\0' ? xstrdup(e->value) : NULL;
		return 0;
	}
	if (strcmp(e->key, "skip_list") == 0) {
		if (!dnsbl_conf_names_list(conf, e->value))
			return conf_error(sec, e, err, "skip_list: no list '%s' in checks.d "
			    "(see --list-checks)", e->value);
		c->skip = xrealloc(c->skip, (c->nskip + 1) * sizeof(*c->skip));
		c->skip[c->nskip++] = net_name_canonical(e->value);
	}
	return 0;
}

/* Reads "[name]" (settings, the public resolver table) and "[name "zone"]" (lists). */
static int
read_sections(struct bl_conf *c, const struct conf *conf, const char *name,
    bool lists, struct error *err)
{
	const struct conf_section *sec = NULL;
	size_t i;

	while ((sec = conf_next(conf, sec, name)) != NULL) {
		if (sec->label != NULL) {
			struct dnsbl_list *l;

			if (!lists)
				continue;
			l = dnsbl_list_from_section(sec, c->domains ? DNSBL_DOMAIN : DNSBL_IP4, err);
			if (l == NULL)
				return -1;
			if (c->domains != ((l->kinds & DNSBL_DOMAIN) != 0)) {
				conf_error(sec, NULL, err, "[%s \"%s\"] must be of kind %s", name,
				    l->zone, c->domains ? "domain" : "ip4 or ip6");
				dnsbl_list_free(l);
				return -1;
			}
			for (i = 0; i < c->nlists; i++)
				if (strcmp(c->lists[i]->zone, l->zone) == 0) {
					conf_error(sec, NULL, err, "list '%s' is already defined at %s:%d",
					    l->zone, c->lists[i]->file, c->lists[i]->line);
					dnsbl_list_free(l);
					return -1;
				}
			c->lists = xrealloc(c->lists, (c->nlists + 1) * sizeof(*c->lists));
			c->lists[c->nlists++] = l;
			continue;
		}
		if (lists && (conf_section_check_keys(sec, settings_keys, err) < 0 ||
		    conf_section_get_int(sec, "threshold", 1, 1000, &c->threshold, err) < 0))
			return -1;
		for (i = 0; i < sec->nentries; i++)
			if (read_setting(c, conf, sec, &sec->entries[i], err) < 0)
				return -1;
	}
	return 0;
}

static int
configure(void **ctx, const struct conf *conf, bool domains, struct error *err)
{
	struct bl_conf *c = xcalloc(1, sizeof(*c));
	size_t i, j;

	c->domains = domains;
	c->threshold = 3;
	if (read_sections(c, conf, domains ? "dbl" : "dnsbl", true, err) < 0)
		goto fail;
	/* the public resolver table lives in [dnsbl]; the dbl check shares it */
	if (domains && read_sections(c, conf, "dnsbl", false, err) < 0)
		goto fail;
	if (domains && (c->psl = psl_service_new(conf, err)) == NULL)
		goto fail;
	if (c->nlists == 0) {
		/* a list check with nothing to ask would pass every target: "clean" from no data */
		error_set(err, "checks.d: no [%s \"zone\"] list, so the %s check has nothing to "
		    "ask; add a list, or leave the check out with --checks",
		    domains ? "dbl" : "dnsbl", domains ? "dbl" : "dnsbl");
		goto fail;
	}
	for (i = 0; i < c->nlists; i++) {
		if (c->dqs_key != NULL)
			dnsbl_list_set_key(c->lists[i], c->dqs_key);
		for (j = 0; j < c->nskip; j++)
			if (dnsbl_list_is_named(c->lists[i], c->skip[j]))
				c->lists[i]->skipped = true;
	}
	*ctx = c;
	return 0;
fail:
	bl_free(c);
	return -1;
}

static int
dnsbl_configure(void **ctx, const struct conf *conf, struct error *err)
{
	return configure(ctx, conf, false, err);
}

static int
dbl_configure(void **ctx, const struct conf *conf, struct error *err)
{
	return configure(ctx, conf, true, err);
}

/* The query name of subject under zone: reversed octets, nibbles, or the domain. */
static int
query_name(const char *subject, unsigned kind, const char *zone, char *out, size_t len)
{
	int n;

	if (kind != DNSBL_DOMAIN)
		return dns_reverse_name(subject, zone, kind == DNSBL_IP4, out, len);
	n = snprintf(out, len, "%s.%s", subject, zone);
	return n < 0 || (size_t)n >= len ? -1 : 0;
}

static void
probe_submit(struct dns *dns, struct probe *p)
{
	const char *pos, *neg;

	if (!p->l->selftest) {
		p->state = SELFTEST_OFF;
		return;
	}
	/* RFC 5782 5: 127.0.0.2 / ::FFFF:7F00:2 / TEST listed, .1 / INVALID not */
	if (p->kind == DNSBL_IP6) {
		pos = "::ffff:7f00:2";
		neg = "::ffff:7f00:1";
	} else if (p->kind == DNSBL_IP4) {
		pos = p->l->test_listed != NULL ? p->l->test_listed : "127.0.0.2";
		neg = p->l->test_unlisted != NULL ? p->l->test_unlisted : "127.0.0.1";
	} else {
		pos = p->l->test_listed != NULL ? p->l->test_listed : "test";
		neg = p->l->test_unlisted != NULL ? p->l->test_unlisted : "invalid";
	}
	if (query_name(pos, p->kind, dnsbl_list_query_zone(p->l), p->pos, sizeof(p->pos)) < 0 ||
	    query_name(neg, p->kind, dnsbl_list_query_zone(p->l), p->neg, sizeof(p->neg)) < 0) {
		p->state = SELFTEST_UNKNOWN;
		return;
	}
	/* what reports show: fits, as the real names did, for the shown zone is no longer */
	query_name(pos, p->kind, dnsbl_list_shown_zone(p->l), p->shown_pos, sizeof(p->shown_pos));
	query_name(neg, p->kind, dnsbl_list_shown_zone(p->l), p->shown_neg, sizeof(p->shown_neg));
	p->qpos = dns_query_submit(dns, p->pos, DNS_T_A);
	p->qneg = dns_query_submit(dns, p->neg, DNS_T_A);
}

/* The A records of res as 4-byte groups (fresh array; *n set). */
static unsigned char *
answer_addrs(const struct dns_result *res, size_t *n)
{
	unsigned char *a = xcalloc(res->nrr + 1, 4);
	size_t i;

	*n = 0;
	for (i = 0; i < res->nrr; i++)
		if (res->rr[i].type == DNS_T_A)
			memcpy(a + 4 * (*n)++, res->rr[i].u.a.addr, 4);
	return a;
}

static enum dnsbl_verdict
classify(const struct dnsbl_list *l, const struct dns_result *res, long **matched,
    bool *policy)
{
	unsigned char *a;
	size_t n;
	enum dnsbl_verdict v;

	a = answer_addrs(res, &n);
	if (matched != NULL)
		*matched = xcalloc(n + 1, sizeof(**matched));
	v = dnsbl_classify(l, a, n, matched != NULL ? *matched : NULL, policy);
	free(a);
	return v;
}

static bool
has_outside(const struct dns_result *res)
{
	size_t i;

	for (i = 0; i < res->nrr; i++)
		if (res->rr[i].type == DNS_T_A && res->rr[i].u.a.addr[0] != 127)
			return true;
	return false;
}

static void
probe_judge(struct dns *dns, struct probe *p)
{
	enum dnsbl_verdict vp = DNSBL_V_NONE, vn = DNSBL_V_NONE;

	if (p->qpos == NULL)
		return;
	p->rpos = dns_query_wait(dns, p->qpos);
	p->rneg = dns_query_wait(dns, p->qneg);
	if (p->rpos->status == DNS_ANSWER)
		vp = classify(p->l, p->rpos, NULL, NULL);
	if (p->rneg->status == DNS_ANSWER)
		vn = classify(p->l, p->rneg, NULL, NULL);
	if (vp == DNSBL_V_REFUSED || vn == DNSBL_V_REFUSED ||
	    p->rpos->status == DNS_REFUSED || p->rneg->status == DNS_REFUSED)
		p->state = SELFTEST_REFUSED;
	else if ((p->rpos->status == DNS_ANSWER && has_outside(p->rpos)) ||
	    (p->rneg->status == DNS_ANSWER && has_outside(p->rneg)))
		p->state = SELFTEST_TAMPERED;
	else if (vn != DNSBL_V_NONE)
		p->state = SELFTEST_WORLD;
	else if (dns_status_is_negative(p->rpos->status))
		p->state = SELFTEST_NOT_LISTING;
	else if (p->rpos->status == DNS_ANSWER && dns_status_is_negative(p->rneg->status))
		p->state = SELFTEST_OK;
	else
		p->state = SELFTEST_UNKNOWN;
}

static void
probe_release(struct probe *p)
{
	dns_query_free(p->qpos);
	dns_query_free(p->qneg);
	dns_result_free(p->rpos);
	dns_result_free(p->rneg);
}

/*
 * Asks the A record of the item, and its TXT in the same round (the reason
 * costs no extra round trip) unless the engine spares queries: then the
 * TXT waits for an A answer that has something to explain (txt_submit).
 */
static void
item_submit(struct dns *dns, struct item *it)
{
	if (query_name(it->subject, it->kind, dnsbl_list_query_zone(it->l), it->qname,
	    sizeof(it->qname)) < 0) {
		/* too long to ask: the engine answers such names with MALFORMED */
		snprintf(it->qname, sizeof(it->qname), "%.*s", (int)sizeof(it->qname) - 1,
		    it->subject);
		snprintf(it->shown, sizeof(it->shown), "%s", it->qname);
	} else {
		query_name(it->subject, it->kind, dnsbl_list_shown_zone(it->l), it->shown,
		    sizeof(it->shown));
	}
	it->qa = dns_query_submit(dns, it->qname, DNS_T_A);
	if (!dns_spare_queries(dns))
		it->qtxt = dns_query_submit(dns, it->qname, DNS_T_TXT);
}

/*
 * The caps of the lists (checks.d rate and budget) to the engine, which
 * keeps them, on the zone the questions go to: with a Data Query Service
 * key, the service's zone below the key, so that the key is never shown.
 */
static void
cap_lists(struct dns *dns, const struct bl_conf *c)
{
	size_t i;

	for (i = 0; i < c->nlists; i++) {
		const struct dnsbl_list *l = c->lists[i];

		if (l->skipped || (l->rate <= 0 && l->budget == 0))
			continue;
		dns_engine_cap_zone(dns_engine_of(dns), l->query_zone != NULL ? l->dqs_zone :
		    l->zone, l->rate, l->budget);
	}
}

/* The TXT records of res joined with " / " as a JSON string (hostile bytes escaped), or null. */
static json_t *
txt_json(const struct dns_result *res, char **url)
{
	struct strbuf sb;
	json_t *j;
	size_t i;

	*url = NULL;
	if (res == NULL || res->status != DNS_ANSWER || res->nrr == 0)
		return json_null();
	strbuf_init(&sb);
	for (i = 0; i < res->nrr; i++) {
		if (res->rr[i].type != DNS_T_TXT)
			continue;
		if (sb.len > 0)
			strbuf_addstr(&sb, " / ");
		/* a hostile list could send kilobytes: keep what a person reads */
		strbuf_add(&sb, res->rr[i].u.txt.data, res->rr[i].u.txt.len < TXT_MAX ?
		    res->rr[i].u.txt.len : TXT_MAX);
		if (sb.len >= TXT_MAX)
			break;
		if (*url == NULL)
			*url = dnsbl_txt_url(res->rr[i].u.txt.data, res->rr[i].u.txt.len);
	}
	j = sb.len > 0 ? json_text(sb.buf, sb.len) : json_null();
	strbuf_release(&sb);
	return j;
}

/* What the check concluded about one item. */
struct outcome {
	enum dnsbl_status status;
	const char *reason;		/* detail for error / ignored / refused */
	bool policy;
	long weight;
	json_t *codes, *meanings;
	const char *refusal;		/* the meaning of the refused code answered, or NULL */
	bool by_public;			/* refused: the list refuses the public resolver asked */
};

static void
add_meaning(json_t *meanings, const char *m)
{
	size_t i;

	for (i = 0; i < json_array_size(meanings); i++)
		if (strcmp(json_string_value(json_array_get(meanings, i)), m) == 0)
			return;
	json_array_append_new(meanings, json_str(m));
}

static void
judge(struct item *it, struct outcome *o)
{
	const struct dnsbl_list *l = it->l;
	enum selftest st = it->probe->state;
	enum dnsbl_verdict v = DNSBL_V_NONE;
	long *matched = NULL;
	size_t i, k = 0;

	memset(o, 0, sizeof(*o));
	o->codes = json_array();
	o->meanings = json_array();
	if (it->ra->status == DNS_ANSWER) {
		v = classify(l, it->ra, &matched, &o->policy);
		for (i = 0; i < it->ra->nrr; i++) {
			if (it->ra->rr[i].type != DNS_T_A)
				continue;
			json_array_append_new(o->codes, json_str(it->ra->rr[i].text));
			add_meaning(o->meanings, matched[k] >= 0 ?
			    l->codes[matched[k]].meaning : "undocumented return code");
			if (o->refusal == NULL && matched[k] >= 0 &&
			    l->codes[matched[k]].cls == DNSBL_CODE_REFUSED)
				o->refusal = l->codes[matched[k]].meaning;
			k++;
		}
	}
	free(matched);

	if (it->ra->status == DNS_REFUSED) {
		o->status = DNSBL_STATUS_REFUSED;
		o->reason = "the server answered REFUSED";
	} else if (dns_status_is_failure(it->ra->status)) {
		o->status = DNSBL_STATUS_ERROR;
		o->reason = dns_status_name(it->ra->status);
	} else if (v == DNSBL_V_REFUSED) {
		o->status = DNSBL_STATUS_REFUSED;
		o->reason = "the list answered with a refused code";
	} else if (st == SELFTEST_REFUSED) {
		o->status = DNSBL_STATUS_REFUSED;
		o->reason = "the list refused its test queries";
	} else if (has_outside(it->ra) || st == SELFTEST_TAMPERED) {
		o->status = DNSBL_STATUS_UNEXPECTED;
		o->reason = "an answer outside 127.0.0.0/8: the resolver rewrites answers";
	} else if (st == SELFTEST_WORLD) {
		o->status = DNSBL_STATUS_IGNORED;
		o->reason = "the list lists its unlisted test point: it lists the whole internet";
	} else if (v == DNSBL_V_UNEXPECTED) {
		o->status = DNSBL_STATUS_UNEXPECTED;
		o->reason = "a return code the list does not document";
	} else if (v == DNSBL_V_LISTED) {
		o->status = DNSBL_STATUS_LISTED;
		o->weight = o->policy ? l->policy_weight : l->weight;
	} else if (st == SELFTEST_NOT_LISTING) {
		o->status = DNSBL_STATUS_IGNORED;
		o->reason = "the list does not list its test point: it is not answering properly";
	} else {
		o->status = DNSBL_STATUS_NOT_LISTED;
	}
}

/* The configured resolvers that are well-known public ones (labels, fresh array). */
static json_t *
public_resolvers(const struct bl_conf *c, struct dns *dns)
{
	struct dns_server_stats st[DNS_MAX_SERVERS];
	struct dns_counters ctr;
	json_t *found = json_array();
	size_t n = 0, i, j;

	dns_engine_stats(dns_engine_of(dns), &ctr, st, DNS_MAX_SERVERS, &n);
	for (i = 0; i < n; i++) {
		struct dns_server srv;
		const unsigned char *a;
		int family;

		if (dns_server_parse(st[i].label, &srv) < 0)
			continue;
		family = srv.addr.ss_family;
		if (family == AF_INET)
			a = (const unsigned char *)&((const struct sockaddr_in *)
			    (const void *)&srv.addr)->sin_addr;
		else
			a = (const unsigned char *)&((const struct sockaddr_in6 *)
			    (const void *)&srv.addr)->sin6_addr;
		for (j = 0; j < c->npub; j++)
			if (c->pub[j].family == family &&
			    memcmp(c->pub[j].addr, a, family == AF_INET ? 4 : 16) == 0)
				json_array_append_new(found, json_str(st[i].label));
	}
	return found;
}

/* What one sweep of queries (every list, every subject, at once) gathered, for the findings. */
struct sweep {
	const struct bl_conf *c;
	struct item *items;
	size_t nitems;
	struct probe *probes;
	size_t nprobes;
	struct outcome *out;		/* per item */
	json_t **entries;		/* per item: its "lists" entry */
	json_t *public_found;		/* the resolvers asked that are public ones */
	long score;
	size_t nlisted, nanswered;
	size_t nanswered_matter;	/* answers of lists with a weight: the check stands on them */
};

/*
 * Through a public resolver, a list that refuses such resolvers is not
 * checked whatever it answered but a listing: its "not listed" may be the
 * silence it gives them.
 */
static void
judge_public(struct outcome *o, const struct dnsbl_list *l, bool public)
{
	if (!public || !l->refuses_public || o->status == DNSBL_STATUS_LISTED ||
	    o->status == DNSBL_STATUS_ERROR || o->status == DNSBL_STATUS_UNEXPECTED)
		return;
	if (o->status != DNSBL_STATUS_REFUSED)
		o->reason = "the resolver is a public one, which the list refuses or ignores";
	o->status = DNSBL_STATUS_REFUSED;
	o->by_public = true;
}

/*
 * One round: every probe and every A (and TXT) query in flight together,
 * then each item judged. When the TXT waited (dns_spare_queries), a second
 * round asks it for the items whose entry shows it: all but "not listed",
 * so the entries are the same either way.
 */
static void
ask_all(struct dns *dns, struct sweep *sw)
{
	size_t i;

	for (i = 0; i < sw->nprobes; i++)
		probe_submit(dns, &sw->probes[i]);
	for (i = 0; i < sw->nitems; i++)
		item_submit(dns, &sw->items[i]);
	for (i = 0; i < sw->nprobes; i++)
		probe_judge(dns, &sw->probes[i]);
	for (i = 0; i < sw->nitems; i++) {
		sw->items[i].ra = dns_query_wait(dns, sw->items[i].qa);
		judge(&sw->items[i], &sw->out[i]);
		judge_public(&sw->out[i], sw->items[i].l, json_array_size(sw->public_found) > 0);
		if (sw->items[i].qtxt == NULL && sw->out[i].status != DNSBL_STATUS_NOT_LISTED)
			sw->items[i].qtxt = dns_query_submit(dns, sw->items[i].qname, DNS_T_TXT);
	}
	for (i = 0; i < sw->nitems; i++)
		if (sw->items[i].qtxt != NULL)
			sw->items[i].rtxt = dns_query_wait(dns, sw->items[i].qtxt);
}

/* The "lists" entry of an item, the contract of checks/dnsbl/dnsbl.h (fresh object). */
static json_t *
entry_json(const struct item *it, const struct outcome *o)
{
	bool listed = o->status == DNSBL_STATUS_LISTED;
	char *url = NULL, *delist;
	json_t *e, *txt;

	txt = o->status == DNSBL_STATUS_NOT_LISTED ? json_null() : txt_json(it->rtxt, &url);
	delist = dnsbl_delist_url(it->l, it->subject);
	e = json_pack("{s:o,s:s,s:o,s:o,s:s,s:o,s:o,s:o,s:o,s:o,s:I,s:b,s:s}",
	    "zone", json_str(it->l->zone), "kind", dnsbl_kind_name(it->kind),
	    "query", json_str(it->shown), "subject", json_str(it->subject),
	    "status", dnsbl_status_name(o->status), "codes", json_incref(o->codes),
	    "meanings", json_incref(o->meanings), "txt", txt,
	    "txt_url", json_str(url),
	    "delist_url", json_str(delist != NULL ? delist : url),
	    "weight", (json_int_t)(o->policy ? it->l->policy_weight : it->l->weight),
	    "policy", o->policy && listed,
	    "selftest", selftest_names[it->probe->state]);
	json_object_set_new(e, "reason", json_str(o->reason));
	if (it->source != NULL)
		json_object_set_new(e, "source", json_str(it->source));
	json_object_set_new(e, "dns_status", json_string(dns_status_name(it->ra->status)));
	free(url);
	free(delist);
	return e;
}

/* True if a listing on l counts: a list of weight 0 is there to be read, not to decide. */
static bool
list_matters(const struct dnsbl_list *l)
{
	return l->weight > 0 || l->policy_weight > 0;
}

/* Judges every item into its outcome and entry; the entries and the score go into the report data. */
static void
judge_all(struct sweep *sw, struct report *rep)
{
	json_t *lists = json_array();
	size_t i;

	for (i = 0; i < sw->nitems; i++) {
		struct outcome *o = &sw->out[i];

		if ((o->status == DNSBL_STATUS_NOT_LISTED || o->status == DNSBL_STATUS_LISTED) &&
		    list_matters(sw->items[i].l))
			sw->nanswered_matter++;
		sw->entries[i] = entry_json(&sw->items[i], o);
		json_array_append(lists, sw->entries[i]);
		if (o->status == DNSBL_STATUS_LISTED) {
			sw->score += o->weight;
			sw->nlisted++;
		}
		if (o->status == DNSBL_STATUS_NOT_LISTED || o->status == DNSBL_STATUS_LISTED)
			sw->nanswered++;
	}
	json_object_set_new(report_data(rep), "lists", lists);
	json_object_set_new(report_data(rep), "score", json_integer(sw->score));
	json_object_set_new(report_data(rep), "threshold", json_integer(sw->c->threshold));
}

/* The list-level warnings of the self-tests, once per list. */
static void
report_selftests(struct report *rep, const struct probe *probes, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		const struct probe *p = &probes[i];

		if (p->state == SELFTEST_WORLD)
			report_add(rep, "lists_everything", SEV_WARN,
			    json_pack("{s:o,s:o}", "zone", json_str(p->l->zone),
			    "test_point", json_str(p->shown_neg)),
			    "the list '%s' lists its test point '%s' that must not be listed: "
			    "it lists the whole internet, so its answers are ignored; remove it "
			    "from checks.d", p->l->zone, p->shown_neg);
		else if (p->state == SELFTEST_NOT_LISTING)
			report_add(rep, "selftest_failed", SEV_WARN,
			    json_pack("{s:o,s:o,s:s}", "zone", json_str(p->l->zone),
			    "test_point", json_str(p->shown_pos),
			    "status", dns_status_name(p->rpos->status)),
			    "the list '%s' does not list its test point '%s' (%s): it is not "
			    "answering properly (dead, or blocking this resolver), so its "
			    "\"not listed\" answers mean nothing", p->l->zone, p->shown_pos,
			    dns_status_name(p->rpos->status));
	}
}

/* The finding of item i, listed: a failure once the score reaches the threshold. */
static void
report_listed(struct report *rep, const struct sweep *sw, size_t i)
{
	const struct item *it = &sw->items[i];
	const struct outcome *o = &sw->out[i];
	enum finding_severity sev = o->weight <= 0 ? SEV_INFO :
	    sw->score >= sw->c->threshold ? SEV_FAIL : SEV_WARN;
	struct strbuf m;
	json_t *d;
	size_t k;

	strbuf_init(&m);
	for (k = 0; k < json_array_size(o->meanings); k++)
		strbuf_addf(&m, "%s%s", k > 0 ? "; " : "",
		    json_string_value(json_array_get(o->meanings, k)));
	d = json_deep_copy(sw->entries[i]);
	json_object_set_new(d, "meaning", json_str(m.buf != NULL ? m.buf : ""));
	json_object_set_new(d, "score", json_integer(sw->score));
	json_object_set_new(d, "threshold", json_integer(sw->c->threshold));
	/* listings that add up to less than the threshold are a risk, not a block */
	if (sev == SEV_WARN)
		json_object_set_new(d, "confidence", json_string(confidence_name(CONF_MEDIUM)));
	report_add(rep, o->policy ? "policy_listed" : "listed", sev, d,
	    "%s %s is listed on %s (%s)%s", sw->c->domains ? "domain" : "IP", it->subject,
	    it->l->zone, m.buf != NULL ? m.buf : "",
	    o->policy ? ": a policy listing of end-user address space" : "");
	strbuf_release(&m);
}

/* The finding of each item (refusals are gathered into refused, said once after). */
static void
report_items(struct report *rep, const struct sweep *sw, json_t *refused)
{
	size_t i;

	for (i = 0; i < sw->nitems; i++) {
		const struct item *it = &sw->items[i];
		const struct outcome *o = &sw->out[i];

		switch (o->status) {
		case DNSBL_STATUS_LISTED:
			report_listed(rep, sw, i);
			break;
		case DNSBL_STATUS_REFUSED:
			/* what the public resolver explains is said once, by report_public */
			if (!o->by_public)
				json_array_append(refused, sw->entries[i]);
			break;
		case DNSBL_STATUS_UNEXPECTED:
			report_add(rep, "unexpected_answer", SEV_ERROR, json_deep_copy(sw->entries[i]),
			    "the list '%s' answered '%s' for %s: %s; not counted as a listing",
			    it->l->zone, json_array_size(o->codes) > 0 ?
			    json_string_value(json_array_get(o->codes, 0)) : "?", it->subject,
			    o->reason);
			break;
		case DNSBL_STATUS_ERROR:
			report_add(rep, "lookup_failed", SEV_ERROR, json_deep_copy(sw->entries[i]),
			    "the query '%s' to the list '%s' failed (%s), so %s is unchecked there",
			    it->shown, it->l->zone, o->reason, it->subject);
			break;
		case DNSBL_STATUS_NOT_LISTED:
		case DNSBL_STATUS_IGNORED:
			break;
		}
	}
}

/*
 * How much a list not checked weighs: a warning while lists that matter
 * answered (the verdict stands on them), an error when none did.
 */
static enum finding_severity
unchecked_severity(const struct sweep *sw)
{
	return sw->nanswered_matter > 0 ? SEV_WARN : SEV_ERROR;
}

/* One finding for every list that refused the queries. */
static void
report_refused(struct report *rep, const struct sweep *sw, json_t *refused)
{
	const json_t *first = json_array_get(refused, 0), *codes;
	json_t *zones;
	size_t k;

	if (first == NULL)
		return;
	zones = json_array();
	for (k = 0; k < json_array_size(refused); k++)
		add_meaning(zones, json_string_value(json_object_get(
		    json_array_get(refused, k), "zone")));
	codes = json_object_get(first, "codes");
	report_add(rep, "query_refused", unchecked_severity(sw),
	    json_pack("{s:O,s:O}", "zones", zones, "lists", refused),
	    "%zu list%s refused the queries (%s: %s%s%s): a setup problem, not a "
	    "listing; query through your own resolver instead of a public or shared "
	    "one, or with the operator's registered key (--dqs-key for Spamhaus), or "
	    "leave the list out with --skip-list",
	    json_array_size(zones), json_array_size(zones) == 1 ? "" : "s",
	    json_string_value(json_object_get(first, "zone")),
	    json_string_value(json_object_get(first, "reason")),
	    json_array_size(codes) > 0 ? ", " : "",
	    json_array_size(codes) > 0 ? json_string_value(json_array_get(codes, 0)) : "");
	json_decref(zones);
}

/* The zones of the items refused because of the public resolver, each once (fresh array). */
static json_t *
public_refusing(const struct sweep *sw)
{
	json_t *zones = json_array();
	size_t i;

	for (i = 0; i < sw->nitems; i++)
		if (sw->out[i].by_public)
			add_meaning(zones, sw->items[i].l->zone);
	return zones;
}

static void
report_public(const struct sweep *sw, struct report *rep)
{
	json_t *found = sw->public_found, *refusing = public_refusing(sw);
	enum finding_severity sev = json_array_size(refusing) == 0 ? SEV_INFO :
	    unchecked_severity(sw);
	const struct report *peer;
	const struct finding *said;
	struct strbuf zones;
	size_t i;

	json_object_set_new(report_data(rep), "public_resolver",
	    json_boolean(json_array_size(found) > 0));
	if (json_array_size(found) == 0)
		goto out;
	/*
	 * Said once per target: the dbl check stays quiet when dnsbl said it,
	 * unless none of its own lists answered, which makes it an error here.
	 */
	if (sw->c->domains && (peer = report_peer(rep, "dnsbl")) != NULL &&
	    (said = report_find(peer, "public_resolver")) != NULL && sev != SEV_ERROR &&
	    (said->severity != SEV_INFO || sev == SEV_INFO))
		goto out;
	if (sev == SEV_INFO) {
		report_add(rep, "public_resolver", SEV_INFO,
		    json_pack("{s:O,s:O}", "resolvers", found, "lists", refusing),
		    "the resolver %s is a public one; none of the configured lists is known "
		    "to refuse it", json_string_value(json_array_get(found, 0)));
		goto out;
	}
	strbuf_init(&zones);
	for (i = 0; i < json_array_size(refusing); i++)
		strbuf_addf(&zones, "%s%s", i > 0 ? ", " : "",
		    json_string_value(json_array_get(refusing, i)));
	report_add(rep, "public_resolver", sev,
	    json_pack("{s:O,s:O}", "resolvers", found, "lists", refusing),
	    "the resolver %s is a public one, and %zu of the lists (%s) refuse or silently "
	    "ignore queries from public resolvers: they are not checked; query through "
	    "your own resolver (a local unbound, for example)",
	    json_string_value(json_array_get(found, 0)), json_array_size(refusing), zones.buf);
	strbuf_release(&zones);
out:
	json_decref(refusing);
}

/* How to get a list that was not checked asked after all. */
static const char *
unchecked_fix(const struct dnsbl_list *l)
{
	if (l->query_zone != NULL)
		return "check the Data Query Service key (the list did not accept it), or "
		    "leave the list out with --skip-list";
	if (l->dqs_zone != NULL)
		return "give a Spamhaus Data Query Service key (--dqs-key or WHY550_DQS_KEY), "
		    "or query through a resolver of your own (a local unbound, not a public "
		    "one), or leave the list out with --skip-list";
	return "query through a resolver of your own (a local unbound, not a public or "
	    "shared one), or leave the list out with --skip-list";
}

/* One "not_checked" entry per list (see dnsbl.h), unless the list is there already. */
static void
add_unchecked(json_t *arr, const struct dnsbl_list *l, const char *status, const char *reason,
    const char *fix)
{
	size_t i;

	for (i = 0; i < json_array_size(arr); i++)
		if (strcmp(json_string_value(json_object_get(json_array_get(arr, i), "zone")),
		    l->zone) == 0)
			return;
	json_array_append_new(arr, json_pack("{s:o,s:s,s:o,s:o}", "zone", json_str(l->zone),
	    "status", status, "reason", json_str(reason), "fix", json_str(fix)));
}

/* The lists of the sweep that were refused, into the report's "not_checked". */
static void
report_unchecked(const struct sweep *sw, struct report *rep)
{
	json_t *arr = json_object_get(report_data(rep), "not_checked");
	size_t i;

	for (i = 0; i < sw->nitems; i++) {
		const struct outcome *o = &sw->out[i];

		if (o->status != DNSBL_STATUS_REFUSED)
			continue;
		add_unchecked(arr, sw->items[i].l, "refused", o->refusal != NULL ? o->refusal :
		    o->reason, unchecked_fix(sw->items[i].l));
	}
}

static void
sweep_release(struct sweep *sw)
{
	size_t i;

	for (i = 0; i < sw->nitems; i++) {
		json_decref(sw->entries[i]);
		json_decref(sw->out[i].codes);
		json_decref(sw->out[i].meanings);
		dns_query_free(sw->items[i].qa);
		dns_query_free(sw->items[i].qtxt);
		dns_result_free(sw->items[i].ra);
		dns_result_free(sw->items[i].rtxt);
	}
	for (i = 0; i < sw->nprobes; i++)
		probe_release(&sw->probes[i]);
	free(sw->entries);
	free(sw->out);
}

/* Runs every item and probe at once, then reports. */
static void
run_items(const struct bl_conf *c, struct dns *dns, struct report *rep,
    struct item *items, size_t nitems, struct probe *probes, size_t nprobes)
{
	struct sweep sw = {
		.c = c, .items = items, .nitems = nitems, .probes = probes, .nprobes = nprobes,
		.out = xcalloc(nitems + 1, sizeof(*sw.out)),
		.entries = xcalloc(nitems + 1, sizeof(*sw.entries)),
	};
	json_t *refused = json_array();

	cap_lists(dns, c);
	sw.public_found = public_resolvers(c, dns);
	ask_all(dns, &sw);
	judge_all(&sw, rep);
	report_selftests(rep, probes, nprobes);
	report_items(rep, &sw, refused);
	report_refused(rep, &sw, refused);
	report_public(&sw, rep);
	report_unchecked(&sw, rep);
	if (sw.nlisted == 0 && sw.nanswered > 0)
		report_add(rep, "not_listed", SEV_INFO,
		    json_pack("{s:I,s:I}", "answered", (json_int_t)sw.nanswered,
		    "lists", (json_int_t)nitems),
		    "not listed: %zu of %zu queries answered \"not listed\"", sw.nanswered,
		    nitems);
	json_decref(refused);
	json_decref(sw.public_found);
	sweep_release(&sw);
}

/*
 * The lists left out by skip_list go into "not_checked" of the report data
 * (created here, so it is there whatever the run finds); true if l is one.
 */
static bool
skipped(struct report *rep, const struct dnsbl_list *l)
{
	json_t *arr = json_object_get(report_data(rep), "not_checked");

	if (arr == NULL) {
		arr = json_array();
		json_object_set_new(report_data(rep), "not_checked", arr);
	}
	if (l == NULL || !l->skipped)
		return false;
	add_unchecked(arr, l, "skipped", "left out by --skip-list (or skip_list in checks.d)",
	    "drop it from --skip-list to check it");
	return true;
}

static void
dnsbl_run(const void *ctx, const struct target *t, struct dns *dns, struct report *rep)
{
	const struct bl_conf *c = ctx;
	struct item *items = xcalloc(c->nlists + 1, sizeof(*items));
	struct probe *probes = xcalloc(c->nlists + 1, sizeof(*probes));
	unsigned kind = DNSBL_IP4;
	const unsigned char *addr;
	char ip[64];
	size_t i, n = 0;

	/* RFC 4291 2.5.5.2: an IPv4-mapped address is asked as the IPv4 host */
	addr = t->ip_addr;
	if (net_ip_unmap(t->ip_family, &addr) == AF_INET) {
		net_ip_format(AF_INET, addr, ip, sizeof(ip));
	} else {
		if (t->ip_family == AF_INET6)
			kind = DNSBL_IP6;
		snprintf(ip, sizeof(ip), "%s", t->ip);
	}
	skipped(rep, NULL);
	for (i = 0; i < c->nlists; i++) {
		if (!(c->lists[i]->kinds & kind) || skipped(rep, c->lists[i]))
			continue;
		probes[n].l = c->lists[i];
		probes[n].kind = kind;
		items[n].l = c->lists[i];
		items[n].probe = &probes[n];
		items[n].subject = ip;
		items[n].kind = kind;
		n++;
	}
	json_object_set_new(report_data(rep), "subject", json_str(ip));
	if (n == 0)
		report_skip(rep, "no list in checks.d takes %s addresses%s",
		    kind == DNSBL_IP6 ? "IPv6" : "IPv4",
		    json_array_size(json_object_get(report_data(rep), "not_checked")) > 0 ?
		    " but those left out by --skip-list" : "");
	else
		run_items(c, dns, rep, items, n, probes, n);
	free(items);
	free(probes);
}

/* The domains the dbl check asks about, each once. */
struct domain {
	char *name;
	const char *source;
};

static void
add_domain(struct domain *doms, size_t *n, const char *name, const char *source)
{
	char why[128];
	char *low;
	size_t i, len;

	if (name == NULL || name[0] == '\0' || name[0] == '[' || *n >= MAX_DOMAINS)
		return;
	low = xstrdup_lower(name);
	len = strlen(low);
	if (len > 0 && low[len - 1] == '.')
		low[len - 1] = '\0';
	/* a bare label or an address literal is no domain a list could hold */
	if (strchr(low, '.') == NULL || net_name_check(low, true, why, sizeof(why)) < 0) {
		free(low);
		return;
	}
	for (i = 0; i < *n; i++)
		if (strcmp(doms[i].name, low) == 0) {
			free(low);
			return;
		}
	doms[*n].name = low;
	doms[*n].source = source;
	(*n)++;
}

static void
peer_domains(const struct report *rep, struct domain *doms, size_t *n)
{
	const struct report *peer;
	const json_t *arr, *v;
	size_t i;

	if ((peer = report_peer(rep, "rdns")) != NULL &&
	    (arr = json_object_get(report_data_const(peer), "ptr")) != NULL)
		json_array_foreach(arr, i, v)
			if (json_is_string(v))
				add_domain(doms, n, json_string_value(v), "ptr");
	if ((peer = report_peer(rep, "dkim")) != NULL &&
	    (arr = json_object_get(report_data_const(peer), "signatures")) != NULL)
		json_array_foreach(arr, i, v) {
			const json_t *d = json_object_get(v, "d");

			if (json_is_string(d))
				add_domain(doms, n, json_string_value(d), "dkim");
		}
}

static void
dbl_run(const void *ctx, const struct target *t, struct dns *dns, struct report *rep)
{
	const struct bl_conf *c = ctx;
	struct domain doms[MAX_DOMAINS];
	struct item *items = NULL;
	struct probe *probes = xcalloc(c->nlists + 1, sizeof(*probes));
	json_t *jd = json_array();
	size_t nd = 0, ni = 0, np = 0, i, j, k;

	skipped(rep, NULL);
	add_domain(doms, &nd, t->mail_domain, "mail_from");
	add_domain(doms, &nd, t->helo, "helo");
	peer_domains(rep, doms, &nd);
	for (i = 0; i < nd; i++)
		json_array_append_new(jd, json_pack("{s:o,s:s}", "domain", json_str(doms[i].name),
		    "source", doms[i].source));
	json_object_set_new(report_data(rep), "domains", jd);
	if (nd == 0 || c->nlists == 0) {
		report_skip(rep, nd == 0 ? "no domain to check (no sender domain, HELO name, "
		    "PTR name or DKIM domain)" : "no domain list in checks.d");
		goto out;
	}
	items = xcalloc(c->nlists * nd + 1, sizeof(*items));
	for (i = 0; i < c->nlists; i++) {
		size_t first = ni;

		if (skipped(rep, c->lists[i]))
			continue;
		probes[np].l = c->lists[i];
		probes[np].kind = DNSBL_DOMAIN;
		for (j = 0; j < nd; j++) {
			const char *subject = doms[j].name;
			bool dup = false;

			if (c->lists[i]->registered_domain) {
				const char *reg = psl_service_registrable(c->psl, subject);

				if (reg != NULL)
					subject = reg;
			}
			/* each domain once per list, even when two names share it */
			for (k = first; k < ni; k++)
				if (strcmp(items[k].subject, subject) == 0)
					dup = true;
			if (dup)
				continue;
			items[ni].l = c->lists[i];
			items[ni].probe = &probes[np];
			items[ni].subject = subject;
			items[ni].source = doms[j].source;
			items[ni].kind = DNSBL_DOMAIN;
			ni++;
		}
		np++;
	}
	if (np == 0)
		report_skip(rep, "every domain list is left out by --skip-list");
	else
		run_items(c, dns, rep, items, ni, probes, np);
out:
	for (i = 0; i < nd; i++)
		free(doms[i].name);
	free(items);
	free(probes);
}

/* The SPEC of a code as checks.d writes it: 127.0.0.2, a range, or bitmask:N. */
static void
code_spec(const struct dnsbl_code *cd, char *out, size_t len)
{
	if (cd->mask != 0)
		snprintf(out, len, "bitmask:%u", cd->mask);
	else if (cd->hi != cd->lo)
		snprintf(out, len, "%u.%u.%u.%u-%u.%u.%u.%u", cd->lo >> 24, (cd->lo >> 16) & 0xff,
		    (cd->lo >> 8) & 0xff, cd->lo & 0xff, cd->hi >> 24, (cd->hi >> 16) & 0xff,
		    (cd->hi >> 8) & 0xff, cd->hi & 0xff);
	else
		snprintf(out, len, "%u.%u.%u.%u", cd->lo >> 24, (cd->lo >> 16) & 0xff,
		    (cd->lo >> 8) & 0xff, cd->lo & 0xff);
}

static const char *const code_class_names[] = {
	[DNSBL_CODE_LISTED] = "listed",
	[DNSBL_CODE_POLICY] = "policy",
	[DNSBL_CODE_REFUSED] = "refused",
};

/* How queries to l go, for --list-checks: the key itself is never shown. */
static void
describe_route(const struct dnsbl_list *l, struct strbuf *out)
{
	if (l->skipped)
		strbuf_addstr(out, "      left out (--skip-list)\n");
	if (l->query_zone != NULL)
		strbuf_addf(out, "      asked as %s (Data Query Service key set)\n",
		    dnsbl_list_shown_zone(l));
	else if (l->dqs_zone != NULL)
		strbuf_addf(out, "      with a Data Query Service key: asked as %s.%s\n",
		    DNSBL_KEY_SHOWN, l->dqs_zone);
}

static void
describe(const void *ctx, struct strbuf *out)
{
	const struct bl_conf *c = ctx;
	char spec[64];
	size_t i, j;

	strbuf_addf(out, "  threshold %ld; %zu public resolvers known%s\n", c->threshold, c->npub,
	    c->dqs_key != NULL ? "; a Data Query Service key is set" : "");
	for (i = 0; i < c->nlists; i++) {
		const struct dnsbl_list *l = c->lists[i];

		strbuf_addf(out, "  %-28s %s%s%s weight %ld", l->zone,
		    (l->kinds & DNSBL_IP4) ? "ip4" : "",
		    (l->kinds & DNSBL_IP6) ? ((l->kinds & DNSBL_IP4) ? ",ip6" : "ip6") : "",
		    (l->kinds & DNSBL_DOMAIN) ? "domain" : "", l->weight);
		if (l->policy_weight != l->weight)
			strbuf_addf(out, " (policy %ld)", l->policy_weight);
		strbuf_addf(out, "%s%s", l->refuses_public ? ", refuses public resolvers" : "",
		    l->selftest ? "" : ", no self-test");
		if (l->rate > 0)
			strbuf_addf(out, ", at most %g/s", l->rate);
		if (l->budget > 0)
			strbuf_addf(out, ", %llu/day", (unsigned long long)l->budget);
		strbuf_addstr(out, "\n");
		describe_route(l, out);
		for (j = 0; j < l->ncodes; j++) {
			const struct dnsbl_code *cd = &l->codes[j];

			code_spec(cd, spec, sizeof(spec));
			strbuf_addf(out, "      %s%s%s  %s\n", cd->cls == DNSBL_CODE_LISTED ? "" :
			    code_class_names[cd->cls], cd->cls == DNSBL_CODE_LISTED ? "" : " ", spec,
			    cd->meaning);
		}
		if (l->delist_url != NULL)
			strbuf_addf(out, "      delisting: %s\n", l->delist_url);
	}
}

/* One list for --list-checks --format json. */
static json_t *
list_json(const struct dnsbl_list *l)
{
	json_t *kinds = json_array(), *codes = json_array(), *o;
	char spec[64];
	size_t i;

	for (i = 0; i < 3; i++)
		if (l->kinds & (1u << i))
			json_array_append_new(kinds, json_string(dnsbl_kind_name(1u << i)));
	for (i = 0; i < l->ncodes; i++) {
		code_spec(&l->codes[i], spec, sizeof(spec));
		json_array_append_new(codes, json_pack("{s:s,s:s,s:o}", "code", spec,
		    "class", code_class_names[l->codes[i].cls], "meaning",
		    json_str(l->codes[i].meaning)));
	}
	o = json_pack("{s:o,s:o,s:I,s:I,s:b,s:b,s:o,s:o,s:b,s:o,s:o}",
	    "zone", json_str(l->zone), "kinds", kinds, "weight", (json_int_t)l->weight,
	    "policy_weight", (json_int_t)l->policy_weight, "refuses_public", l->refuses_public,
	    "selftest", l->selftest, "dqs_zone", json_str(l->dqs_zone),
	    "query_zone", json_str(dnsbl_list_shown_zone(l)), "skipped", l->skipped,
	    "codes", codes, "delist_url", json_str(l->delist_url));
	/* the caps: questions a second and a day, 0 for none */
	json_object_set_new(o, "rate", json_real(l->rate));
	json_object_set_new(o, "budget", json_integer((json_int_t)l->budget));
	return o;
}

static json_t *
describe_json(const void *ctx)
{
	const struct bl_conf *c = ctx;
	json_t *lists = json_array(), *pub = json_array();
	size_t i;

	for (i = 0; i < c->npub; i++)
		json_array_append_new(pub, json_str(c->pub[i].text));
	for (i = 0; i < c->nlists; i++)
		json_array_append_new(lists, list_json(c->lists[i]));
	return json_pack("{s:I,s:o,s:b,s:o}", "threshold", (json_int_t)c->threshold,
	    "public_resolvers", pub, "dqs_key_set", c->dqs_key != NULL, "lists", lists);
}

const struct check_ops check_dnsbl = {
	.name = "dnsbl",
	.summary = "the sending IP on DNS blocklists (IPv4 and IPv6), with list self-tests",
	.needs = NEED_IP,
	.configure = dnsbl_configure,
	.run = dnsbl_run,
	.describe = describe,
	.describe_json = describe_json,
	.free = bl_free,
};

static const char *const dbl_after[] = { "rdns", "dkim", "dnsbl", NULL };

const struct check_ops check_dbl = {
	.name = "dbl",
	.summary = "the sender, HELO, PTR and DKIM domains on domain blocklists",
	.wants = NEED_MAIL_FROM | NEED_HELO | NEED_IP | NEED_MESSAGE,
	.after = dbl_after,
	.configure = dbl_configure,
	.run = dbl_run,
	.describe = describe,
	.describe_json = describe_json,
	.free = bl_free,
};
