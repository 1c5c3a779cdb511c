/* The strict SPF evaluator: RFC 7208 check_host() with its limits, on the DNS engine. */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>

#include "checks/spf/eval.h"
#include "checks/spf/parse.h"
#include "checks/spf/macro.h"
#include "core/util.h"
#include "core/net.h"

#define MAX_PREFETCH	16


/* The state of one evaluation, shared by the nested check_host() calls. */
struct ev {
	struct dns *dns;
	const struct spf_eval_opts *o;
	int family;
	unsigned char addr[16];
	const char *sender;
	char *local;
	char *sender_domain;
	const char *helo;
	int64_t timestamp;
	struct spf_outcome *out;
	char *path;		/* terms from the top to the current record */
	bool authorising;	/* every include on the path has a pass qualifier */
	const char *cur_domain;	/* for %{p} */
};

/* What a mechanism did. */
enum match {
	M_NO = 0,
	M_YES,
	M_ERROR,		/* the evaluation ends with the result in *err */
};

const char *
spf_result_name(enum spf_result r)
{
	switch (r) {
	case SPF_R_NONE: return "none";
	case SPF_R_NEUTRAL: return "neutral";
	case SPF_R_PASS: return "pass";
	case SPF_R_FAIL: return "fail";
	case SPF_R_SOFTFAIL: return "softfail";
	case SPF_R_TEMPERROR: return "temperror";
	case SPF_R_PERMERROR: return "permerror";
	}
	return "none";
}

enum spf_result
spf_result_of_qualifier(char q)
{
	switch (q) {
	case '-': return SPF_R_FAIL;
	case '~': return SPF_R_SOFTFAIL;
	case '?': return SPF_R_NEUTRAL;
	}
	return SPF_R_PASS;
}

void
spf_eval_opts_init(struct spf_eval_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->max_lookups = 10;
	o->max_void = 2;
	o->max_mx = 10;
	o->max_ptr = 10;
	o->prefetch = true;
}

static void
node_free(struct spf_node *n)
{
	size_t i;

	if (n == NULL)
		return;
	for (i = 0; i < n->nkids; i++)
		node_free(n->kids[i]);
	free(n->kids);
	free(n->domain);
	free(n->via);
	free(n->record);
	free(n->matched);
	free(n->reason);
	free(n);
}

void
spf_outcome_release(struct spf_outcome *out)
{
	size_t i;

	for (i = 0; i < out->nnets; i++) {
		free(out->nets[i].term);
		free(out->nets[i].path);
	}
	free(out->nets);
	node_free(out->tree);
	free(out->domain);
	free(out->record);
	free(out->matched);
	free(out->explanation);
	free(out->reason);
	memset(out, 0, sizeof(*out));
}

static struct spf_node *
node_add(struct spf_node *parent, const char *domain, const char *via)
{
	struct spf_node *n = xcalloc(1, sizeof(*n));

	n->domain = xstrdup(domain);
	n->via = via != NULL ? xstrdup(via) : NULL;
	if (parent != NULL) {
		parent->kids = xrealloc(parent->kids, (parent->nkids + 1) * sizeof(*parent->kids));
		parent->kids[parent->nkids++] = n;
	}
	return n;
}

static void set_reason(struct spf_node *, const char *, ...)
	__attribute__((format(printf, 2, 3)));

static void
set_reason(struct spf_node *n, const char *fmt, ...)
{
	va_list ap;
	char buf[512];

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	free(n->reason);
	n->reason = xstrdup(buf);
}

/*
 * RFC 7208 4.3: a domain that is malformed (empty label not at the end,
 * label over 63 octets, over 253 octets) or not multi-label gives "none".
 */
static bool
domain_ok(const char *d, const char **why)
{
	size_t len = strlen(d), labels = 0, i, start = 0;

	if (len > 0 && d[len - 1] == '.')
		len--;
	if (len == 0 || len > 253) {
		*why = len == 0 ? "is empty" : "is over 253 octets";
		return false;
	}
	for (i = 0; i <= len; i++) {
		if (i < len && d[i] != '.')
			continue;
		if (i == start) {
			*why = "has an empty label";
			return false;
		}
		if (i - start > 63) {
			*why = "has a label over 63 octets";
			return false;
		}
		labels++;
		start = i + 1;
	}
	if (labels < 2) {
		*why = "is not a multi-label domain name";
		return false;
	}
	/* the last label must be a top label as in RFC 7208 7.1: not an IP literal */
	for (i = len; i > 0 && d[i - 1] != '.'; i--)
		;
	if (!spf_toplabel_ok(d + i, len - i)) {
		*why = "does not end in a valid top-level label";
		return false;
	}
	return true;
}

static struct dns_result *
lookup(struct ev *ev, const char *name, uint16_t type)
{
	struct dns_result *r = dns_lookup(ev->dns, name, type);

	if (r->deadline)
		ev->out->deadline = true;
	return r;
}

static bool
in_net(const unsigned char *a, const unsigned char *net, int prefix)
{
	int full = prefix / 8, rem = prefix % 8;
	unsigned char mask;

	if (memcmp(a, net, (size_t)full) != 0)
		return false;
	if (rem == 0)
		return true;
	mask = (unsigned char)(0xff << (8 - rem));
	return (a[full] & mask) == (net[full] & mask);
}

static void
add_net(struct ev *ev, int family, const unsigned char *addr, int prefix, const char *term)
{
	struct spf_outcome *o = ev->out;
	struct spf_net *n;

	if (!ev->authorising)
		return;
	o->nets = xrealloc(o->nets, (o->nnets + 1) * sizeof(*o->nets));
	n = &o->nets[o->nnets++];
	memset(n, 0, sizeof(*n));
	n->family = family;
	memcpy(n->addr, addr, family == AF_INET ? 4 : 16);
	n->prefix = prefix;
	n->term = xstrdup(term);
	n->path = xstrdup(ev->path);
}

static char *validated_name(void *arg);

static void
macro_env(struct ev *ev, const char *domain, struct spf_macro_env *env)
{
	memset(env, 0, sizeof(*env));
	env->sender = ev->sender;
	env->local = ev->local;
	env->sender_domain = ev->sender_domain;
	env->domain = domain;
	env->family = ev->family;
	env->addr = ev->addr;
	env->helo = ev->helo;
	env->receiver = ev->o->receiver;
	env->timestamp = ev->timestamp;
	env->validated = validated_name;
	env->arg = ev;
}

/* The target name of a term: its domain-spec expanded and trimmed, or the current domain. */
static char *
target_of(struct ev *ev, const struct spf_term *t, const char *domain)
{
	struct spf_macro_env env;
	char *name;

	if (t->spec == NULL)
		return xstrdup(domain);
	macro_env(ev, domain, &env);
	ev->cur_domain = domain;
	name = spf_macro_expand(t->spec, strlen(t->spec), &env, false);
	if (name == NULL)
		return xstrdup("");
	spf_domain_trim(name);
	return name;
}

/*
 * A name worth asking: what domain_ok() accepts. Others (a single label, an
 * empty or long label, a last label that is no top label such as "40]")
 * cannot exist in the DNS, and a stub resolver could append a search
 * domain to them: they count as names that do not exist, unasked.
 */
static bool
name_askable(const char *name)
{
	const char *why;

	return domain_ok(name, &why);
}

static int
count_lookup(struct ev *ev, struct spf_node *node, const struct spf_term *t)
{
	/* RFC 7208 4.6.4: at most 10 DNS-querying terms in the whole evaluation */
	if (++ev->out->lookups > ev->o->max_lookups) {
		set_reason(node, "'%s' is DNS-querying term number %d: the limit is %d "
		    "for the whole evaluation (includes and redirects count)", t->text,
		    ev->out->lookups, ev->o->max_lookups);
		return -1;
	}
	return 0;
}

static int
count_void(struct ev *ev, struct spf_node *node, const char *term, const char *name,
    enum dns_status st)
{
	/* RFC 7208 4.6.4: more than 2 lookups with no answer (void lookups) is permerror */
	if (++ev->out->void_lookups > ev->o->max_void) {
		set_reason(node, "'%s': '%s' gave %s, void lookup number %d: the limit is %d",
		    term, name, dns_status_name(st), ev->out->void_lookups, ev->o->max_void);
		return -1;
	}
	return 0;
}

static uint16_t
addr_type(const struct ev *ev)
{
	return ev->family == AF_INET ? DNS_T_A : DNS_T_AAAA;
}

static bool
result_matches(struct ev *ev, const struct dns_result *r, int prefix)
{
	size_t i;

	for (i = 0; i < r->nrr; i++) {
		const unsigned char *a = NULL;

		if (r->rr[i].type == DNS_T_A && ev->family == AF_INET)
			a = r->rr[i].u.a.addr;
		else if (r->rr[i].type == DNS_T_AAAA && ev->family == AF_INET6)
			a = r->rr[i].u.aaaa.addr;
		if (a != NULL && in_net(ev->addr, a, prefix))
			return true;
	}
	return false;
}

static void
add_result_nets(struct ev *ev, const struct dns_result *r, int prefix, const char *term)
{
	size_t i;

	for (i = 0; i < r->nrr; i++) {
		if (r->rr[i].type == DNS_T_A)
			add_net(ev, AF_INET, r->rr[i].u.a.addr, prefix, term);
		else if (r->rr[i].type == DNS_T_AAAA)
			add_net(ev, AF_INET6, r->rr[i].u.aaaa.addr, prefix, term);
	}
}

/* name is target or a subdomain of it (no case). */
static bool
name_under(const char *name, const char *target)
{
	size_t nl = strlen(name), tl = strlen(target);

	if (tl > 0 && target[tl - 1] == '.')
		tl--;
	if (nl > 0 && name[nl - 1] == '.')
		nl--;
	if (nl == tl)
		return strncasecmp(name, target, tl) == 0;
	return nl > tl && name[nl - tl - 1] == '.' && strncasecmp(name + nl - tl, target, tl) == 0;
}

/*
 * The address records (of the client's family) of n names, all asked at
 * once: one round trip. The i-th result answers names[i]; free them with
 * free_results().
 */
static struct dns_result **
lookup_addrs(struct ev *ev, const char *const *names, size_t n)
{
	struct dns_result **res = xcalloc(n + 1, sizeof(*res));
	uint16_t *types = xcalloc(n + 1, sizeof(*types));
	size_t i;

	for (i = 0; i < n; i++)
		types[i] = addr_type(ev);
	dns_lookup_many(ev->dns, names, types, n, res);
	for (i = 0; i < n; i++)
		if (res[i]->deadline)
			ev->out->deadline = true;
	free(types);
	return res;
}

static void
free_results(struct dns_result **res, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		dns_result_free(res[i]);
	free(res);
}

/*
 * RFC 7208 5.5: the PTR names of the IP (the first max_ptr) whose address
 * records hold the IP. When target is not NULL only names under it are
 * validated (the others could not match). Returns the count, names in *out.
 * A PTR lookup error gives 0 names.
 */
static size_t
validated_names(struct ev *ev, const char *target, char ***out)
{
	char rev[128], ip[INET6_ADDRSTRLEN];
	struct dns_result *ptr, **fwd;
	const char **names;
	size_t n = 0, i, k = 0, limit;

	*out = NULL;
	net_ip_format(ev->family, ev->addr, ip, sizeof(ip));
	if (dns_reverse_name(ip, NULL, false, rev, sizeof(rev)) < 0)
		return 0;
	ptr = lookup(ev, rev, DNS_T_PTR);
	if (ptr->status != DNS_ANSWER) {
		dns_result_free(ptr);
		return 0;
	}
	limit = ptr->nrr < (size_t)ev->o->max_ptr ? ptr->nrr : (size_t)ev->o->max_ptr;
	names = xcalloc(limit + 1, sizeof(*names));
	for (i = 0; i < limit; i++) {
		const char *nm = ptr->rr[i].u.name.target;

		if ((target == NULL || name_under(nm, target)) && name_askable(nm))
			names[n++] = nm;
	}
	fwd = lookup_addrs(ev, names, n);
	*out = xcalloc(n + 1, sizeof(**out));
	for (i = 0; i < n; i++)
		/* a DNS error on one name skips that name (RFC 7208 5.5) */
		if (fwd[i]->status == DNS_ANSWER && dns_result_has_addr(fwd[i], ev->family, ev->addr))
			(*out)[k++] = xstrdup(names[i]);
	free_results(fwd, n);
	free(names);
	dns_result_free(ptr);
	return k;
}

static void
free_names(char **names, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

/* RFC 7208 7.3 %{p}: the current domain if validated, else a subdomain of it, else any, else "unknown". */
static char *
validated_name(void *arg)
{
	struct ev *ev = arg;
	char **names, *best = NULL;
	size_t n, i;

	n = validated_names(ev, NULL, &names);
	for (i = 0; i < n && best == NULL; i++)
		if (strcasecmp(names[i], ev->cur_domain) == 0)
			best = names[i];
	for (i = 0; i < n && best == NULL; i++)
		if (name_under(names[i], ev->cur_domain))
			best = names[i];
	if (best == NULL && n > 0)
		best = names[0];
	best = xstrdup(best != NULL ? best : "unknown");
	free_names(names, n);
	return best;
}

static enum spf_result check_host(struct ev *ev, const char *domain, struct spf_node *node,
    bool exp_ok);

/* check_host() of the target of an include or a redirect, with the term added to the path. */
static enum spf_result
descend(struct ev *ev, const struct spf_term *t, const char *target, struct spf_node *kid,
    bool exp_ok)
{
	char *saved = ev->path;
	enum spf_result res;

	ev->path = *saved != '\0' ? xasprintf("%s \u2192 %s", saved, t->text) :
	    xstrdup(t->text);
	res = check_host(ev, target, kid, exp_ok);
	free(ev->path);
	ev->path = saved;
	return res;
}

static enum match
include_term(struct ev *ev, const struct spf_term *t, const char *target,
    struct spf_node *node, enum spf_result *err)
{
	struct spf_node *kid = node_add(node, target, t->text);
	bool auth = ev->authorising;
	enum spf_result res;

	ev->authorising = auth && t->qual == '+';
	res = descend(ev, t, target, kid, false);
	ev->authorising = auth;
	/* RFC 7208 5.2: the include table */
	switch (res) {
	case SPF_R_PASS:
		return M_YES;
	case SPF_R_FAIL:
	case SPF_R_SOFTFAIL:
	case SPF_R_NEUTRAL:
		return M_NO;
	case SPF_R_TEMPERROR:
		*err = SPF_R_TEMPERROR;
		set_reason(node, "'%s': %s", t->text, kid->reason ? kid->reason :
		    "temporary DNS error");
		break;
	case SPF_R_NONE:
		set_reason(node, "'%s': '%s' has no SPF record (%s)", t->text, target,
		    kid->reason ? kid->reason : "none");
		break;
	case SPF_R_PERMERROR:
		set_reason(node, "'%s': %s", t->text, kid->reason ? kid->reason :
		    "permanent error");
		break;
	}
	return M_ERROR;
}

/*
 * The one lookup of an a, mx or exists term: its answer, with records; or
 * NULL when the term ends there, *m saying how: M_NO for a void lookup
 * within the limit, M_ERROR for a DNS failure (temperror in *err) or a void
 * lookup over the limit.
 */
static struct dns_result *
term_lookup(struct ev *ev, const struct spf_term *t, const char *target, uint16_t type,
    struct spf_node *node, enum match *m, enum spf_result *err)
{
	struct dns_result *r;

	*m = M_NO;
	if (!name_askable(target)) {
		if (count_void(ev, node, t->text, target, DNS_NXDOMAIN) < 0)
			*m = M_ERROR;
		return NULL;
	}
	r = lookup(ev, target, type);
	if (dns_status_is_failure(r->status)) {
		*err = SPF_R_TEMPERROR;
		set_reason(node, "'%s': the %s lookup for '%s' failed (%s)", t->text,
		    type == DNS_T_MX ? "MX" : type == DNS_T_A ? "A" : "AAAA", target,
		    dns_status_name(r->status));
		*m = M_ERROR;
	} else if (r->status != DNS_ANSWER || r->nrr == 0) {
		if (count_void(ev, node, t->text, target, r->status) < 0)
			*m = M_ERROR;
	} else {
		return r;
	}
	dns_result_free(r);
	return NULL;
}

static enum match
a_term(struct ev *ev, const struct spf_term *t, const char *target, struct spf_node *node,
    enum spf_result *err)
{
	uint16_t type = t->kind == SPF_K_EXISTS ? DNS_T_A : addr_type(ev);
	int prefix = ev->family == AF_INET ? t->cidr4 : t->cidr6;
	struct dns_result *r;
	enum match m;

	if ((r = term_lookup(ev, t, target, type, node, &m, err)) == NULL)
		return m;
	if (t->kind == SPF_K_EXISTS) {
		/* RFC 7208 5.7: any A record matches, whatever the client's family */
		m = M_YES;
	} else {
		if (t->qual == '+')
			add_result_nets(ev, r, prefix, t->text);
		m = result_matches(ev, r, prefix) ? M_YES : M_NO;
	}
	dns_result_free(r);
	return m;
}

/*
 * The addresses of the hosts of an MX answer, all asked at once: does one
 * hold the IP? A failed lookup of a host that could have matched is a
 * temperror unless another host matches.
 */
static enum match
mx_hosts(struct ev *ev, const struct spf_term *t, const struct dns_result *mx,
    struct spf_node *node, enum spf_result *err)
{
	int prefix = ev->family == AF_INET ? t->cidr4 : t->cidr6;
	const char **names = xcalloc(mx->nrr, sizeof(*names));
	struct dns_result **hosts, *failed = NULL;
	enum match m = M_NO;
	size_t i, n = 0;

	for (i = 0; i < mx->nrr; i++)
		/* a null MX (RFC 7505) names no host */
		if (mx->rr[i].u.mx.host[0] != '\0' && name_askable(mx->rr[i].u.mx.host))
			names[n++] = mx->rr[i].u.mx.host;
	hosts = lookup_addrs(ev, names, n);
	for (i = 0; i < n; i++) {
		if (dns_status_is_failure(hosts[i]->status)) {
			if (failed == NULL)
				failed = hosts[i];
			continue;
		}
		if (t->qual == '+') {
			char *term = xasprintf("%s (MX %s)", t->text, names[i]);

			add_result_nets(ev, hosts[i], prefix, term);
			free(term);
		}
		if (result_matches(ev, hosts[i], prefix))
			m = M_YES;
	}
	if (m == M_NO && failed != NULL) {
		*err = SPF_R_TEMPERROR;
		set_reason(node, "'%s': the address lookup for MX host '%s' failed (%s)",
		    t->text, failed->qname, dns_status_name(failed->status));
		m = M_ERROR;
	}
	free_results(hosts, n);
	free(names);
	return m;
}

static enum match
mx_term(struct ev *ev, const struct spf_term *t, const char *target, struct spf_node *node,
    enum spf_result *err)
{
	struct dns_result *r;
	enum match m;

	if ((r = term_lookup(ev, t, target, DNS_T_MX, node, &m, err)) == NULL)
		return m;
	/* RFC 7208 4.6.4: more than 10 MX records is permerror */
	if (r->nrr > (size_t)ev->o->max_mx) {
		set_reason(node, "'%s': '%s' has %zu MX records, over the limit of %d",
		    t->text, target, r->nrr, ev->o->max_mx);
		m = M_ERROR;
	} else {
		m = mx_hosts(ev, t, r, node, err);
	}
	dns_result_free(r);
	return m;
}

/* Evaluates one mechanism; on M_ERROR *err holds the result to end with. */
static enum match
mechanism(struct ev *ev, const struct spf_term *t, const char *domain,
    struct spf_node *node, enum spf_result *err)
{
	enum match m = M_NO;
	char *target, **valid;
	size_t nv;

	*err = SPF_R_PERMERROR;
	if (t->kind == SPF_K_ALL)
		return M_YES;
	if (t->kind == SPF_K_IP4 || t->kind == SPF_K_IP6) {
		int fam = t->kind == SPF_K_IP4 ? AF_INET : AF_INET6;
		int p = fam == AF_INET ? t->cidr4 : t->cidr6;

		if (t->qual == '+')
			add_net(ev, fam, t->net, p, t->text);
		return fam == ev->family && in_net(ev->addr, t->net, p) ? M_YES : M_NO;
	}
	if (count_lookup(ev, node, t) < 0)
		return M_ERROR;
	target = target_of(ev, t, domain);
	switch (t->kind) {
	case SPF_K_INCLUDE:
		m = include_term(ev, t, target, node, err);
		break;
	case SPF_K_A:
	case SPF_K_EXISTS:
		m = a_term(ev, t, target, node, err);
		break;
	case SPF_K_MX:
		m = mx_term(ev, t, target, node, err);
		break;
	case SPF_K_PTR:
		nv = validated_names(ev, target, &valid);
		m = nv > 0 ? M_YES : M_NO;
		free_names(valid, nv);
		break;
	default:
		break;
	}
	free(target);
	return m;
}

/*
 * RFC 7208 6.2: the explanation of a fail. exp= names a TXT record that is
 * macro-expanded; any problem with it falls back to the default.
 */
static char *
explanation(struct ev *ev, const struct spf_record *rec, const char *domain)
{
	struct spf_macro_env env;
	struct dns_result *r = NULL;
	char *name = NULL, *text = NULL;

	macro_env(ev, domain, &env);
	ev->cur_domain = domain;
	if (rec->exp < 0)
		goto dflt;
	name = target_of(ev, &rec->terms[rec->exp], domain);
	if (!name_askable(name))
		goto dflt;
	r = lookup(ev, name, DNS_T_TXT);
	if (r->status != DNS_ANSWER || r->nrr != 1)
		goto dflt;
	text = spf_macro_expand(r->rr[0].u.txt.data, r->rr[0].u.txt.len, &env, true);
	if (text != NULL)
		goto out;
dflt:
	if (ev->o->default_exp != NULL)
		text = spf_macro_expand(ev->o->default_exp, strlen(ev->o->default_exp), &env,
		    true);
out:
	dns_result_free(r);
	free(name);
	return text;
}

/*
 * Submits the lookups a record's terms will make, so that they travel in
 * parallel with the evaluation (results wait in the cache). Terms whose
 * names need %{p} are left out.
 */
static size_t
prefetch(struct ev *ev, const struct spf_record *rec, const char *domain,
    struct dns_query **qs)
{
	size_t i, n = 0;

	for (i = 0; i < rec->nterms && n < MAX_PREFETCH; i++) {
		const struct spf_term *t = &rec->terms[i];
		uint16_t type;
		char *target;

		switch (t->kind) {
		case SPF_K_INCLUDE:
		case SPF_K_REDIRECT:
			type = DNS_T_TXT;
			break;
		case SPF_K_A:
			type = addr_type(ev);
			break;
		case SPF_K_EXISTS:
			type = DNS_T_A;
			break;
		case SPF_K_MX:
			type = DNS_T_MX;
			break;
		default:
			continue;
		}
		if (t->spec != NULL && (strstr(t->spec, "%{p") != NULL ||
		    strstr(t->spec, "%{P") != NULL))
			continue;
		target = target_of(ev, t, domain);
		if (name_askable(target))
			qs[n++] = dns_query_submit(ev->dns, target, type);
		free(target);
	}
	return n;
}

/*
 * RFC 7208 4.3-4.5: the one SPF record of domain, in *data and *dlen
 * (pointing into *rp, which the caller frees). -1 with *res and the node's
 * reason when there is none to evaluate.
 */
static int
fetch_record(struct ev *ev, const char *domain, struct spf_node *node,
    struct dns_result **rp, const char **data, size_t *dlen, enum spf_result *res)
{
	struct dns_result *r;
	const char *why;
	size_t i, nspf = 0;

	if (!domain_ok(domain, &why)) {
		set_reason(node, "'%s' %s", domain, why);
		*res = SPF_R_NONE;
		return -1;
	}
	*rp = r = lookup(ev, domain, DNS_T_TXT);
	if (dns_status_is_failure(r->status)) {
		set_reason(node, "the TXT lookup for '%s' failed (%s)", domain,
		    dns_status_name(r->status));
		*res = SPF_R_TEMPERROR;
		return -1;
	}
	for (i = 0; i < r->nrr; i++) {
		if (spf_is_record(r->rr[i].u.txt.data, r->rr[i].u.txt.len) && nspf++ == 0) {
			*data = r->rr[i].u.txt.data;
			*dlen = r->rr[i].u.txt.len;
		}
	}
	if (node == ev->out->tree)
		ev->out->nrecords = nspf;
	if (nspf == 0) {
		set_reason(node, r->status == DNS_NXDOMAIN ? "'%s' does not exist" :
		    "'%s' publishes no SPF record", domain);
		*res = SPF_R_NONE;
		return -1;
	}
	node->record = xstrndup(*data, *dlen);
	/* RFC 7208 4.5: more than one record is permerror */
	if (nspf > 1) {
		set_reason(node, "'%s' publishes %zu SPF records; there must be one", domain,
		    nspf);
		*res = SPF_R_PERMERROR;
		return -1;
	}
	return 0;
}

/*
 * RFC 7208 4.6.2: the mechanisms from left to right. True when one
 * matched or ended the evaluation, with the result in *res.
 */
static bool
run_mechanisms(struct ev *ev, const struct spf_record *rec, const char *domain,
    struct spf_node *node, bool exp_ok, enum spf_result *res)
{
	enum spf_result err;
	size_t i;

	for (i = 0; i < rec->nterms; i++) {
		const struct spf_term *t = &rec->terms[i];
		enum match m;

		if (t->kind >= SPF_K_REDIRECT)
			continue;
		m = mechanism(ev, t, domain, node, &err);
		if (m == M_ERROR) {
			*res = err;
			return true;
		}
		if (m == M_YES) {
			node->matched = xstrdup(t->text);
			*res = spf_result_of_qualifier(t->qual);
			if (*res == SPF_R_FAIL && exp_ok && ev->out->explanation == NULL)
				ev->out->explanation = explanation(ev, rec, domain);
			return true;
		}
	}
	return false;
}

/* RFC 7208 6.1: redirect=, when no mechanism matched. */
static enum spf_result
redirect(struct ev *ev, const struct spf_term *t, const char *domain, struct spf_node *node,
    bool exp_ok)
{
	struct spf_node *kid;
	enum spf_result res;
	char *target;

	if (count_lookup(ev, node, t) < 0)
		return SPF_R_PERMERROR;
	target = target_of(ev, t, domain);
	kid = node_add(node, target, t->text);
	node->matched = xstrdup(t->text);
	/* the exp of the record redirected to is the one used */
	res = descend(ev, t, target, kid, exp_ok);
	if (res == SPF_R_NONE) {
		set_reason(node, "'%s': '%s' has no SPF record (%s)", t->text, target,
		    kid->reason ? kid->reason : "none");
		res = SPF_R_PERMERROR;
	} else if (kid->reason != NULL) {
		set_reason(node, "%s: %s", t->text, kid->reason);
	}
	free(target);
	return res;
}

static enum spf_result
check_host(struct ev *ev, const char *domain, struct spf_node *node, bool exp_ok)
{
	struct dns_query *qs[MAX_PREFETCH];
	struct spf_record rec;
	struct spf_syntax syn;
	struct dns_result *r = NULL;
	enum spf_result res;
	const char *data = NULL;
	size_t i, dlen = 0, nq = 0;

	if (fetch_record(ev, domain, node, &r, &data, &dlen, &res) < 0)
		goto out;
	/* RFC 7208 4.6: a syntax error anywhere makes the whole record permerror */
	memset(&rec, 0, sizeof(rec));
	if (spf_record_parse(&rec, data, dlen, &syn) < 0) {
		set_reason(node, "syntax error in the SPF record of '%s' at offset %zu: %s",
		    domain, syn.pos, syn.msg);
		res = SPF_R_PERMERROR;
		goto out;
	}
	if (ev->o->prefetch)
		nq = prefetch(ev, &rec, domain, qs);
	if (!run_mechanisms(ev, &rec, domain, node, exp_ok, &res))
		res = rec.redirect >= 0 ?
		    redirect(ev, &rec.terms[rec.redirect], domain, node, exp_ok) :
		    SPF_R_NEUTRAL;
	for (i = 0; i < nq; i++)
		dns_query_free(qs[i]);
	spf_record_release(&rec);
out:
	node->result = res;
	dns_result_free(r);
	return res;
}

void
spf_evaluate(struct dns *dns, const struct spf_eval_opts *o, int family,
    const unsigned char *addr, const char *domain, const char *sender, const char *helo,
    struct spf_outcome *out)
{
	struct ev ev;
	const char *at, *why;
	struct spf_node *n;

	memset(out, 0, sizeof(*out));
	memset(&ev, 0, sizeof(ev));
	ev.dns = dns;
	ev.o = o;
	ev.out = out;
	/* RFC 7208 5: an IPv4-mapped IPv6 client is evaluated as IPv4 */
	ev.family = net_ip_unmap(family, &addr);
	memcpy(ev.addr, addr, ev.family == AF_INET ? 4 : 16);
	ev.sender = sender;
	at = strrchr(sender, '@');
	if (at != NULL && at != sender)
		ev.local = xstrndup(sender, (size_t)(at - sender));
	else
		ev.local = xstrdup("postmaster");
	ev.sender_domain = xstrdup(at != NULL ? at + 1 : sender);
	ev.helo = helo;
	ev.timestamp = o->timestamp != 0 ? o->timestamp : (int64_t)time(NULL);
	ev.path = xstrdup("");
	ev.authorising = true;
	ev.cur_domain = domain;

	out->domain = xstrdup(domain);
	out->tree = node_add(NULL, domain, NULL);
	out->result = check_host(&ev, domain, out->tree, true);
	out->malformed = !domain_ok(domain, &why);
	out->record = out->tree->record != NULL ? xstrdup(out->tree->record) : NULL;
	out->reason = out->tree->reason != NULL ? xstrdup(out->tree->reason) : NULL;
	/* the decisive term, through the redirects */
	n = out->tree;
	if (n->matched != NULL) {
		struct strbuf sb;

		strbuf_init(&sb);
		strbuf_addstr(&sb, n->matched);
		while (n->nkids > 0 && n->matched != NULL &&
		    strncasecmp(n->matched, "redirect=", 9) == 0) {
			n = n->kids[n->nkids - 1];
			if (n->matched != NULL)
				strbuf_addf(&sb, " \u2192 %s", n->matched);
		}
		out->matched = strbuf_detach(&sb, NULL);
	}
	if (out->result != SPF_R_FAIL) {
		free(out->explanation);
		out->explanation = NULL;
	}
	free(ev.path);
	free(ev.local);
	free(ev.sender_domain);
}
