/* Check dkim: the sender's DKIM key records (selectors given, signed or probed) and the signatures of a sample message. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "checks/check.h"
#include "checks/dkim/key.h"
#include "checks/dkim/sig.h"
#include "checks/dkim/verify.h"
#include "dns/dkim_adapter.h"
#include "core/textsafe.h"
#include "core/net.h"

struct dkim_conf {
	char **probe;
	size_t nprobe;
	long fail_bits;			/* RSA keys under this fail (RFC 8301 3.2: 1024) */
	long warn_bits;			/* RSA keys under this warn */
};

enum sel_source {
	SRC_OPTION,
	SRC_SIGNATURE,
	SRC_PROBE,
};

static const char *const source_names[] = { "option", "signature", "probe" };

/* One key record looked at: a selector under a domain. */
struct selector {
	char *selector;
	char *domain;
	char *name;			/* selector._domainkey.domain */
	enum sel_source source;
};

struct run {
	const struct dkim_conf *c;
	struct report *rep;
	struct dkim_adapter *ad;
	struct selector *sel;
	size_t nsel;
	size_t probe_failed;		/* probes whose lookup failed */
};

static const char *const dkim_keys[] = {
	"probe_selector", "fail_below_bits", "warn_below_bits", NULL,
};

static void
dkim_free(void *ctx)
{
	struct dkim_conf *c = ctx;
	size_t i;

	if (c == NULL)
		return;
	for (i = 0; i < c->nprobe; i++)
		free(c->probe[i]);
	free(c->probe);
	free(c);
}

static int
dkim_configure(void **ctx, const struct conf *conf, struct error *err)
{
	struct dkim_conf *c = xcalloc(1, sizeof(*c));
	const struct conf_section *sec = NULL;
	char why[128];
	size_t i;

	c->fail_bits = 1024;
	c->warn_bits = 2048;
	while ((sec = conf_next(conf, sec, "dkim")) != NULL) {
		if (sec->label != NULL) {
			conf_error(sec, NULL, err, "[dkim] takes no label");
			goto fail;
		}
		if (conf_section_check_keys(sec, dkim_keys, err) < 0 ||
		    conf_section_get_int(sec, "fail_below_bits", 0, 16384, &c->fail_bits, err) < 0 ||
		    conf_section_get_int(sec, "warn_below_bits", 0, 16384, &c->warn_bits, err) < 0)
			goto fail;
		for (i = 0; i < sec->nentries; i++) {
			const struct conf_entry *e = &sec->entries[i];

			if (strcmp(e->key, "probe_selector") != 0)
				continue;
			if (net_name_check(e->value, true, why, sizeof(why)) < 0) {
				conf_error(sec, e, err, "probe_selector '%s' is not a DNS name: %s",
				    e->value, why);
				goto fail;
			}
			c->probe = xrealloc(c->probe, (c->nprobe + 1) * sizeof(*c->probe));
			c->probe[c->nprobe++] = xstrdup_lower(e->value);
		}
	}
	if (c->warn_bits < c->fail_bits) {
		error_set(err, "[dkim] warn_below_bits (%ld) is below fail_below_bits (%ld)",
		    c->warn_bits, c->fail_bits);
		goto fail;
	}
	*ctx = c;
	return 0;
fail:
	dkim_free(c);
	return -1;
}

/* Adds (selector, domain) unless present; returns its index. */
static size_t
add_selector(struct run *r, const char *selector, const char *domain, enum sel_source src)
{
	size_t i;

	for (i = 0; i < r->nsel; i++)
		if (strcasecmp(r->sel[i].selector, selector) == 0 &&
		    strcasecmp(r->sel[i].domain, domain) == 0)
			return i;
	r->sel = xrealloc(r->sel, (r->nsel + 1) * sizeof(*r->sel));
	r->sel[r->nsel].selector = xstrdup_lower(selector);
	r->sel[r->nsel].domain = xstrdup_lower(domain);
	r->sel[r->nsel].name = xasprintf("%s._domainkey.%s", r->sel[r->nsel].selector,
	    r->sel[r->nsel].domain);
	r->sel[r->nsel].source = src;
	return r->nsel++;
}

/* The conformance vocabulary for a key record (also in the JSON as "verdict"). */
static const char *
key_verdict(const struct dkim_conf *c, const struct dns_result *res, const struct dkim_key *key,
    int parsed)
{
	if (dns_status_is_failure(res->status))
		return "temperror";
	if (res->status != DNS_ANSWER)
		return "missing";
	if (res->nrr > 1 || parsed < 0)
		return "syntax";
	if (key->revoked)
		return "revoked";
	if (key->type == DKIM_KEY_RSA && key->bits < c->fail_bits)
		return "too-short";
	return key->testing ? "valid-testing" : "valid";
}

/* The first TXT record of res (joined strings), or NULL. */
static const struct dns_rr *
first_txt(const struct dns_result *res)
{
	size_t i;

	for (i = 0; res->status == DNS_ANSWER && i < res->nrr; i++)
		if (res->rr[i].type == DNS_T_TXT)
			return &res->rr[i];
	return NULL;
}

static json_t *
selector_base(const struct selector *s)
{
	return json_pack("{s:o,s:o,s:o,s:s}", "selector", json_str(s->selector),
	    "domain", json_str(s->domain), "name", json_str(s->name),
	    "source", source_names[s->source]);
}

/* The key lookup failed: a finding for a selector given, a count for probes. */
static void
lookup_failed(struct run *r, const struct selector *s, const struct dns_result *res,
    json_t *obj)
{
	json_object_set_new(obj, "status", json_string("error"));
	if (s->source == SRC_PROBE)
		r->probe_failed++;
	else if (s->source == SRC_OPTION)
		report_add(r->rep, "key_lookup_failed", SEV_ERROR,
		    json_pack("{s:o,s:o,s:s,s:b}", "selector", json_str(s->selector),
		    "name", json_str(s->name), "status", dns_status_name(res->status),
		    "deadline", res->deadline),
		    "the lookup of the DKIM key '%s' failed (%s), so it could not be checked",
		    s->name, dns_status_name(res->status));
}

/* No key record: a finding for a selector given. Returns obj, or NULL for a probe. */
static json_t *
key_missing(struct run *r, const struct selector *s, const struct dns_result *res,
    json_t *obj)
{
	json_object_set_new(obj, "status", json_string("missing"));
	if (s->source == SRC_OPTION)
		report_add(r->rep, "key_missing", SEV_FAIL,
		    json_pack("{s:o,s:o,s:o,s:s}", "selector", json_str(s->selector),
		    "domain", json_str(s->domain), "name", json_str(s->name),
		    "status", dns_status_name(res->status)),
		    "there is no DKIM key for selector '%s' of '%s' (%s for '%s')",
		    s->selector, s->domain, dns_status_name(res->status), s->name);
	/* a probe that finds nothing is not worth a line of its own */
	if (s->source == SRC_PROBE) {
		json_decref(obj);
		return NULL;
	}
	return obj;
}

/* What the key record found holds, in the selector's JSON object. */
static void
key_json(json_t *obj, const struct dns_rr *txt, size_t nrr, const struct dkim_key *key,
    int parsed)
{
	json_object_set_new(obj, "status", json_string("found"));
	json_object_set_new(obj, "record", json_text(txt->u.txt.data, txt->u.txt.len));
	json_object_set_new(obj, "records", json_integer((json_int_t)nrr));
	json_object_set_new(obj, "key_type", key->error == DKIM_KEY_ERR_KEYTYPE ? json_null() :
	    json_string(dkim_key_type_name(key->type)));
	json_object_set_new(obj, "key_bits", key->bits > 0 ? json_integer(key->bits) :
	    json_null());
	json_object_set_new(obj, "revoked", json_boolean(key->revoked));
	json_object_set_new(obj, "testing", json_boolean(key->testing));
	json_object_set_new(obj, "strict_subdomain", json_boolean(key->strict_subdomain));
	json_object_set_new(obj, "hash_algorithms", json_str(key->h));
	json_object_set_new(obj, "service", json_str(key->s));
	json_object_set_new(obj, "error", parsed < 0 ?
	    json_pack("{s:o,s:o}", "tag", json_str(key->error_tag), "message",
	    json_str(key->why)) : json_null());
}

/*
 * Findings that make the record unusable: several records, bad syntax, a
 * revoked key (own: not reported through a signature). False when unusable.
 */
static bool
key_usable(struct run *r, const struct selector *s, size_t nrr, const struct dkim_key *key,
    int parsed, bool own)
{
	if (nrr > 1 && own)
		report_add(r->rep, "key_multiple_records", SEV_FAIL,
		    json_pack("{s:o,s:o,s:I}", "selector", json_str(s->selector),
		    "name", json_str(s->name), "records", (json_int_t)nrr),
		    "'%s' has %zu TXT records; verifiers such as OpenDKIM reject a key that is not unique",
		    s->name, nrr);
	if (parsed < 0) {
		if (own)
			report_add(r->rep, key->error == DKIM_KEY_ERR_MISMATCH ?
			    "key_type_mismatch" : "key_syntax", SEV_FAIL,
			    json_pack("{s:o,s:o,s:o,s:o}", "selector", json_str(s->selector),
			    "name", json_str(s->name), "tag", json_str(key->error_tag),
			    "error", json_str(key->why)),
			    "the DKIM key '%s' is unusable: %s", s->name, key->why);
		return false;
	}
	if (key->revoked) {
		if (own)
			report_add(r->rep, "key_revoked", s->source == SRC_OPTION ? SEV_FAIL :
			    SEV_INFO, json_pack("{s:o,s:o}", "selector", json_str(s->selector),
			    "name", json_str(s->name)),
			    "the DKIM key '%s' is revoked (empty p=); signatures with it fail", s->name);
		return false;
	}
	return true;
}

/* A usable key: what it is, and what receivers may hold against it. */
static void
key_findings(struct run *r, const struct selector *s, const struct dkim_key *key, bool own)
{
	const struct dkim_conf *c = r->c;

	report_add(r->rep, "key_found", SEV_INFO,
	    json_pack("{s:o,s:o,s:s,s:i}", "selector", json_str(s->selector),
	    "name", json_str(s->name), "key_type", dkim_key_type_name(key->type),
	    "key_bits", key->bits),
	    "selector '%s' of '%s' has a %d-bit %s key", s->selector, s->domain, key->bits,
	    dkim_key_type_name(key->type));
	if (key->type == DKIM_KEY_RSA && key->bits < c->fail_bits && own)
		report_add(r->rep, "key_too_short", SEV_FAIL,
		    json_pack("{s:o,s:o,s:i,s:i}", "selector", json_str(s->selector),
		    "name", json_str(s->name), "key_bits", key->bits, "minimum", (int)c->fail_bits),
		    "the DKIM key '%s' is only %d bits; receivers ignore RSA keys under %ld bits (RFC 8301 3.2)",
		    s->name, key->bits, c->fail_bits);
	else if (key->type == DKIM_KEY_RSA && key->bits < c->warn_bits)
		report_add(r->rep, "key_weak", SEV_WARN,
		    json_pack("{s:o,s:o,s:i,s:i}", "selector", json_str(s->selector),
		    "name", json_str(s->name), "key_bits", key->bits,
		    "recommended", (int)c->warn_bits),
		    "the DKIM key '%s' is %d bits; %ld bits or more is the current recommendation",
		    s->name, key->bits, c->warn_bits);
	if (!key->email && own)
		report_add(r->rep, "key_not_for_email", SEV_FAIL,
		    json_pack("{s:o,s:o,s:o}", "selector", json_str(s->selector),
		    "name", json_str(s->name), "service", json_str(key->s)),
		    "the DKIM key '%s' is restricted to other services (s=%s), not email",
		    s->name, key->s);
	if (!key->h_sha256)
		report_add(r->rep, "key_sha1_only", SEV_WARN,
		    json_pack("{s:o,s:o,s:o}", "selector", json_str(s->selector),
		    "name", json_str(s->name), "hash_algorithms", json_str(key->h)),
		    "the DKIM key '%s' does not allow sha256 (h=%s); rsa-sha1 signatures are rejected under RFC 8301",
		    s->name, key->h);
	if (key->testing)
		report_add(r->rep, "key_testing", SEV_INFO,
		    json_pack("{s:o,s:o}", "selector", json_str(s->selector),
		    "name", json_str(s->name)),
		    "the DKIM key '%s' is in testing mode (t=y)", s->name);
}

/*
 * Looks at one key record: its JSON object, and findings unless a
 * signature reports it.
 */
static void
check_selector(struct run *r, const struct selector *s, bool *found)
{
	struct dns_result *res = dkim_adapter_result(r->ad, s->name);
	const struct dns_rr *txt = first_txt(res);
	struct dkim_key key;
	json_t *obj = selector_base(s);
	bool own = s->source != SRC_SIGNATURE;
	int parsed = -1;

	memset(&key, 0, sizeof(key));
	json_object_set_new(obj, "dns_status", json_string(dns_status_name(res->status)));
	if (dns_status_is_failure(res->status)) {
		lookup_failed(r, s, res, obj);
	} else if (txt == NULL) {
		obj = key_missing(r, s, res, obj);
	} else {
		*found = true;
		parsed = dkim_key_parse(txt->u.txt.data, txt->u.txt.len, &key);
		key_json(obj, txt, res->nrr, &key, parsed);
		if (key_usable(r, s, res->nrr, &key, parsed, own))
			key_findings(r, s, &key, own);
	}
	if (obj != NULL) {
		json_object_set_new(obj, "verdict", json_string(key_verdict(r->c, res, &key,
		    parsed)));
		json_array_append_new(json_object_get(report_data(r->rep), "selectors"), obj);
	}
	dkim_key_release(&key);
	dns_result_free(res);
}

/* The result of one signature; the JSON names it through sig_result_names. */
enum sig_result {
	SIG_PERMERROR = 0,
	SIG_TEMPERROR,
	SIG_FAIL,			/* the cryptography does not verify */
	SIG_POLICY,			/* it verifies, but RFC 8301 forbids accepting it */
	SIG_PASS,
};

static const char *const sig_result_names[] = {
	"permerror", "temperror", "fail", "policy", "pass",
};
_Static_assert(ARRAY_SIZE(sig_result_names) == SIG_PASS + 1, "a name for every result");

/* The outcome of one signature. */
struct outcome {
	enum sig_result result;
	const char *reason;		/* short, stable words */
	const char *code;		/* the finding code */
	char detail[256];
	const char *crypto;		/* pass, bad_signature, body_hash_mismatch, or NULL */
	json_t *notes;
	int key_bits;
	const char *key_type;
};

static void
set_outcome(struct outcome *o, enum sig_result result, const char *reason, const char *code,
    const char *detail)
{
	o->result = result;
	o->reason = reason;
	o->code = code;
	snprintf(o->detail, sizeof(o->detail), "%s", detail != NULL ? detail : "");
}

/* The domain of i= ("user@sub.example" gives "sub.example"), or NULL. */
static const char *
i_domain(const struct dkim_sig *sig)
{
	const char *at = sig->i != NULL ? strrchr(sig->i, '@') : NULL;

	return at != NULL ? at + 1 : NULL;
}

/* Key-record rules for this signature (RFC 6376 3.6.1, 6.1.2); -1 when they make it a permerror. */
static int
key_fits(const struct dkim_sig *sig, const struct dkim_key *key, struct outcome *o)
{
	char why[200];

	if (key->type == DKIM_KEY_ED25519 && !sig->ed25519) {
		snprintf(why, sizeof(why), "the key is ed25519 but a=%s", sig->a);
		set_outcome(o, SIG_PERMERROR, "key type does not match a=", "signature_key_invalid", why);
		return -1;
	}
	if (key->type == DKIM_KEY_RSA && sig->ed25519) {
		set_outcome(o, SIG_PERMERROR, "key type does not match a=", "signature_key_invalid",
		    "the key is rsa but a=ed25519-sha256");
		return -1;
	}
	if ((sig->hash_sha1 && !key->h_sha1) || (!sig->hash_sha1 && !key->h_sha256)) {
		snprintf(why, sizeof(why), "the key allows h=%s, the signature uses %s", key->h, sig->a);
		set_outcome(o, SIG_PERMERROR, "hash not allowed by the key", "signature_key_invalid", why);
		return -1;
	}
	if (!key->email) {
		snprintf(why, sizeof(why), "the key is for s=%s, not email", key->s);
		set_outcome(o, SIG_PERMERROR, "key not for email", "signature_key_invalid", why);
		return -1;
	}
	/* RFC 6376 3.6.1 t=s: the i= domain must be d= itself */
	if (key->strict_subdomain && i_domain(sig) != NULL && strcasecmp(i_domain(sig), sig->d) != 0) {
		snprintf(why, sizeof(why), "the key has t=s but i= is in the subdomain '%s'", i_domain(sig));
		set_outcome(o, SIG_PERMERROR, "subdomain not allowed by the key", "signature_key_invalid",
		    why);
		return -1;
	}
	return 0;
}

static void
lib_error(const struct dkim_verdict *v, struct outcome *o)
{
	switch (v->error) {
	case DKIM_LIB_KEY_DNS:
		set_outcome(o, SIG_TEMPERROR, "temporary DNS error", "signature_dns_error", v->why);
		break;
	case DKIM_LIB_KEY_MISSING:
		set_outcome(o, SIG_PERMERROR, "key missing", "signature_key_missing", v->why);
		break;
	case DKIM_LIB_KEY_REVOKED:
		set_outcome(o, SIG_PERMERROR, "key revoked", "signature_key_revoked", v->why);
		break;
	case DKIM_LIB_KEY_INVALID:
		set_outcome(o, SIG_PERMERROR, "key syntax error", "signature_key_invalid", v->why);
		break;
	case DKIM_LIB_EXPIRED:
		set_outcome(o, SIG_PERMERROR, "expired", "signature_expired", v->why);
		break;
	case DKIM_LIB_KEY_SMALL:
		set_outcome(o, SIG_POLICY, "key too short", "signature_key_too_short", v->why);
		break;
	default:
		set_outcome(o, SIG_PERMERROR, "signature syntax error", "signature_invalid", v->why);
		break;
	}
}

/*
 * The key record of sig, parsed into key (its type and size noted in o).
 * -1 with the outcome when there is no usable key: the lookup failed, no
 * record, several, bad syntax, revoked.
 */
static int
sig_key(struct run *r, const struct dkim_sig *sig, struct dkim_key *key, struct outcome *o)
{
	char *name = xasprintf("%s._domainkey.%s", sig->s, sig->d);
	struct dns_result *res = dkim_adapter_result(r->ad, name);
	const struct dns_rr *txt;
	char why[160];
	int ret = -1;

	if (dns_status_is_failure(res->status)) {
		snprintf(why, sizeof(why), "the key lookup of '%.100s' failed (%s)", name,
		    dns_status_name(res->status));
		set_outcome(o, SIG_TEMPERROR, "temporary DNS error", "signature_dns_error", why);
	} else if ((txt = first_txt(res)) == NULL) {
		snprintf(why, sizeof(why), "%s for '%.100s'", dns_status_name(res->status), name);
		set_outcome(o, SIG_PERMERROR, "key missing", "signature_key_missing", why);
	} else if (res->nrr > 1) {
		set_outcome(o, SIG_PERMERROR, "several key records", "signature_key_invalid",
		    "the selector has several TXT records");
	} else if (dkim_key_parse(txt->u.txt.data, txt->u.txt.len, key) < 0) {
		set_outcome(o, SIG_PERMERROR, "key syntax error", "signature_key_invalid", key->why);
	} else {
		o->key_type = dkim_key_type_name(key->type);
		o->key_bits = key->bits;
		if (key->revoked)
			set_outcome(o, SIG_PERMERROR, "key revoked", "signature_key_revoked",
			    "the key record has an empty p=");
		else
			ret = 0;
	}
	dns_result_free(res);
	free(name);
	return ret;
}

/* What libopendkim's cryptography said of a signature it verified. */
static void
crypto_outcome(const struct dkim_verdict *v, struct outcome *o)
{
	switch (v->crypto) {
	case DKIM_CRYPTO_PASS:
		o->crypto = "pass";
		set_outcome(o, SIG_PASS, "verified", "signature_pass", NULL);
		break;
	case DKIM_CRYPTO_BAD_BODY:
		o->crypto = "body_hash_mismatch";
		set_outcome(o, SIG_FAIL, "body hash mismatch", "signature_body_hash_mismatch",
		    "the body was changed after signing: its hash differs from bh= (RFC 6376 6.1.3)");
		break;
	default:
		o->crypto = "bad_signature";
		set_outcome(o, SIG_FAIL, "signature mismatch", "signature_mismatch",
		    "the signature does not verify with the published key: signed headers changed, or the key is not the signing key");
		break;
	}
}

/* RFC 8301: valid crypto that modern verifiers must not accept. */
static void
policy_outcome(const struct dkim_conf *c, const struct dkim_sig *sig,
    const struct dkim_key *key, const struct dkim_verdict *v, struct outcome *o)
{
	const char *itself = v->crypto == DKIM_CRYPTO_PASS ? "verifies" :
	    "does not verify either";

	if (sig->rsa_sha1) {
		snprintf(o->detail, sizeof(o->detail),
		    "RFC 8301 3.1: verifiers must not accept rsa-sha1 (the signature itself %s)",
		    itself);
		o->result = SIG_POLICY;
		o->reason = "rsa-sha1";
		o->code = "signature_rsa_sha1";
	} else if (key->type == DKIM_KEY_RSA && key->bits < c->fail_bits) {
		snprintf(o->detail, sizeof(o->detail),
		    "RFC 8301 3.2: a %d-bit RSA key is under %ld bits (the signature itself %s)",
		    key->bits, c->fail_bits, itself);
		o->result = SIG_POLICY;
		o->reason = "key too short";
		o->code = "signature_key_too_short";
	}
}

/* Notes on a passing signature that strict receivers may see otherwise. */
static void
pass_notes(const struct dkim_sig *sig, const struct dkim_key *key, size_t nfrom,
    struct outcome *o)
{
	if (sig->l != NULL)
		json_array_append_new(o->notes, json_sprintf(
		    "l=%.20s: only that many body octets are signed; text appended after them is not covered (RFC 6376 8.2); this verifier accepts it, strict receivers may not",
		    sig->l));
	if (nfrom > 1)
		json_array_append_new(o->notes, json_sprintf(
		    "the message has %zu From fields; the signature covers the last one (RFC 6376 5.4.2, 8.15); receivers may reject such a message anyway",
		    nfrom));
	if (key->testing)
		json_array_append_new(o->notes, json_string(
		    "the key is in testing mode (t=y); RFC 6376 3.6.1 says verifiers must treat the signature like any other"));
}

/* Classifies one signature: our own checks first, then libopendkim's crypto, then RFC 8301 policy. */
static void
classify(struct run *r, struct dkim_sig *sig, const struct dkim_verdict *v, size_t nfrom,
    struct outcome *o)
{
	struct dkim_key key;
	bool expired;

	memset(&key, 0, sizeof(key));
	if (dkim_sig_check(sig, (int64_t)time(NULL), &expired) < 0) {
		if (expired)
			set_outcome(o, SIG_PERMERROR, "expired", "signature_expired", sig->why);
		else
			set_outcome(o, SIG_PERMERROR, "signature syntax error", "signature_invalid",
			    sig->why);
		return;
	}
	if (sig_key(r, sig, &key, o) < 0 || key_fits(sig, &key, o) < 0)
		goto out;
	if (!v->seen) {
		set_outcome(o, SIG_PERMERROR, "not verified", "signature_invalid", v->why[0] != '\0' ?
		    v->why : "libopendkim did not verify this signature");
		goto out;
	}
	if (v->error != DKIM_LIB_OK && v->error != DKIM_LIB_KEY_SMALL) {
		lib_error(v, o);
		goto out;
	}
	crypto_outcome(v, o);
	policy_outcome(r->c, sig, &key, v, o);
	if (o->result == SIG_PASS)
		pass_notes(sig, &key, nfrom, o);
out:
	dkim_key_release(&key);
}

/* One signature in the JSON and as a finding; npass: how many signatures pass. */
static void
report_signature(struct run *r, size_t i, const struct dkim_sig *sig,
    const struct dkim_verdict *v, const struct outcome *o, size_t npass)
{
	const char *result = sig_result_names[o->result];
	const char *detail = o->detail[0] != '\0' ? o->detail : NULL;
	bool pass = o->result == SIG_PASS;
	enum finding_severity sev;

	json_array_append_new(json_object_get(report_data(r->rep), "signatures"),
	    json_pack("{s:I,s:o,s:o,s:o,s:o,s:s,s:s,s:o,s:o,s:o,s:o,s:o,s:O}",
	    "index", (json_int_t)i, "d", json_str(sig->d), "s", json_str(sig->s),
	    "a", json_str(sig->a), "v", json_str(sig->v), "result", result, "reason", o->reason,
	    "detail", json_str(detail),
	    "canonicalization", json_str(v->canon[0] != '\0' ? v->canon : sig->c),
	    "crypto", json_str(o->crypto), "key_type", json_str(o->key_type),
	    "key_bits", o->key_bits > 0 ? json_integer(o->key_bits) : json_null(),
	    "notes", o->notes));
	if (pass)
		sev = SEV_INFO;
	else if (o->result == SIG_TEMPERROR)
		sev = SEV_ERROR;
	else if (npass > 0)
		/* one good signature is enough: a broken extra one is not a rejection */
		sev = SEV_WARN;
	else
		sev = SEV_FAIL;
	report_add(r->rep, sev == SEV_WARN ? "other_signature_failed" : o->code, sev,
	    json_pack("{s:I,s:o,s:o,s:o,s:s,s:s,s:o}", "index", (json_int_t)i,
	    "d", json_str(sig->d), "s", json_str(sig->s), "a", json_str(sig->a),
	    "result", result, "reason", o->reason, "detail", json_str(detail)),
	    "DKIM signature %zu (d=%s, s=%s): %s%s%s%s", i + 1,
	    sig->d != NULL ? sig->d : "?", sig->s != NULL ? sig->s : "?", result,
	    pass ? "" : " (", pass ? "" : o->reason, pass ? "" : ")");
}

static void
check_signatures(struct run *r, const struct target *t, struct dkim_msg *msg)
{
	struct dkim_verdict *v = xcalloc(msg->nsig + 1, sizeof(*v));
	struct outcome *o = xcalloc(msg->nsig + 1, sizeof(*o));
	char why[256] = "";
	size_t i, npass = 0, ntemp = 0;

	if (dkim_verify_message(r->ad, t->message, t->message_len, msg, v, why, sizeof(why)) < 0)
		for (i = 0; i < msg->nsig; i++) {
			/* the reason is cut to fit: it is a message for a person */
			if (snprintf(v[i].why, sizeof(v[i].why), "%s", why) < 0)
				v[i].why[0] = '\0';
		}
	for (i = 0; i < msg->nsig; i++) {
		o[i].notes = json_array();
		classify(r, &msg->sig[i], &v[i], msg->nfrom, &o[i]);
		if (o[i].result == SIG_PASS)
			npass++;
		if (o[i].result == SIG_TEMPERROR)
			ntemp++;
	}
	for (i = 0; i < msg->nsig; i++) {
		report_signature(r, i, &msg->sig[i], &v[i], &o[i], npass);
		json_decref(o[i].notes);
	}
	json_object_set_new(report_data(r->rep), "result", json_string(npass > 0 ? "pass" :
	    ntemp > 0 ? "temperror" : msg->nsig > 0 ? sig_result_names[o[0].result] : "none"));
	free(o);
	free(v);
}

/*
 * The domain whose keys are looked up: the From: domain of the message,
 * else the envelope sender's; one that is not a DNS name cannot have keys
 * (NULL when neither is one).
 */
static const char *
key_domain(const struct dkim_msg *msg, const struct target *t)
{
	char why[128];

	if (msg->from_domain != NULL &&
	    net_name_check(msg->from_domain, false, why, sizeof(why)) == 0)
		return msg->from_domain;
	if (t->mail_domain != NULL && net_name_check(t->mail_domain, false, why, sizeof(why)) == 0)
		return t->mail_domain;
	return NULL;
}

static void
dkim_run(const void *ctx, const struct target *t, struct dns *dns, struct report *rep)
{
	struct run r = { .c = ctx, .rep = rep };
	struct dkim_msg msg;
	const char *domain;
	bool found = false, probing = false;
	size_t i;

	memset(&msg, 0, sizeof(msg));
	if (t->message != NULL)
		dkim_msg_parse(t->message, t->message_len, &msg);
	domain = key_domain(&msg, t);
	json_object_set_new(report_data(rep), "domain", json_str(domain));
	json_object_set_new(report_data(rep), "selectors", json_array());
	json_object_set_new(report_data(rep), "signatures", json_array());
	json_object_set_new(report_data(rep), "result", json_null());

	for (i = 0; domain != NULL && i < t->nselectors; i++)
		add_selector(&r, t->selectors[i], domain, SRC_OPTION);
	for (i = 0; i < msg.nsig; i++)
		if (msg.sig[i].d != NULL && msg.sig[i].s != NULL && msg.sig[i].d[0] != '\0' &&
		    msg.sig[i].s[0] != '\0')
			add_selector(&r, msg.sig[i].s, msg.sig[i].d, SRC_SIGNATURE);
	if (r.nsel == 0 && domain != NULL) {
		probing = true;
		for (i = 0; i < r.c->nprobe; i++)
			add_selector(&r, r.c->probe[i], domain, SRC_PROBE);
		json_object_set_new(report_data(rep), "probed", json_integer((json_int_t)r.nsel));
	}
	if (r.nsel == 0 && msg.nsig == 0) {
		report_skip(rep, "no domain to look up DKIM keys for (give --from or --message)");
		goto out;
	}

	/* every key query in flight at once; libopendkim's lookups then join them */
	r.ad = dkim_adapter_new(dns);
	for (i = 0; i < r.nsel; i++)
		dkim_adapter_submit(r.ad, r.sel[i].name);

	if (msg.nsig_total > msg.nsig)
		report_add(rep, "too_many_signatures", SEV_WARN,
		    json_pack("{s:I,s:I}", "signatures", (json_int_t)msg.nsig_total,
		    "checked", (json_int_t)msg.nsig),
		    "the message has %zu DKIM-Signature fields; only the first %zu were checked, "
		    "and receivers too may stop after a few (RFC 6376 6.1)",
		    msg.nsig_total, msg.nsig);
	if (t->message != NULL && msg.nsig == 0)
		report_add(rep, "no_signature", SEV_WARN,
		    json_pack("{s:o}", "from_domain", json_str(msg.from_domain)),
		    "the message has no DKIM-Signature; many receivers reject or junk unsigned bulk mail");
	else if (msg.nsig > 0)
		check_signatures(&r, t, &msg);
	if (t->message != NULL && msg.nsig == 0)
		json_object_set_new(report_data(rep), "result", json_string("none"));

	for (i = 0; i < r.nsel; i++)
		check_selector(&r, &r.sel[i], &found);
	if (probing && r.probe_failed > 0)
		report_add(rep, "probe_lookup_failed", SEV_ERROR,
		    json_pack("{s:o,s:I,s:I}", "domain", json_str(domain),
		    "failed", (json_int_t)r.probe_failed, "probed", (json_int_t)r.nsel),
		    "%zu of %zu DKIM selector lookups for '%s' failed, so its keys could not all be checked",
		    r.probe_failed, r.nsel, domain);
	else if (probing && !found)
		report_add(rep, "no_key_found", SEV_WARN,
		    json_pack("{s:o,s:I}", "domain", json_str(domain), "probed", (json_int_t)r.nsel),
		    "no DKIM key found for '%s' under %zu common selectors (it may use another selector: give --selector or --message)",
		    domain, r.nsel);
out:
	for (i = 0; i < r.nsel; i++) {
		free(r.sel[i].selector);
		free(r.sel[i].domain);
		free(r.sel[i].name);
	}
	free(r.sel);
	dkim_adapter_free(r.ad);
	dkim_msg_release(&msg);
}

static void
dkim_describe(const void *ctx, struct strbuf *out)
{
	const struct dkim_conf *c = ctx;
	size_t i;

	strbuf_addf(out, "  probed selectors:");
	for (i = 0; i < c->nprobe; i++)
		strbuf_addf(out, " %s", c->probe[i]);
	strbuf_addf(out, "\n  RSA keys: fail under %ld bits, warn under %ld bits\n",
	    c->fail_bits, c->warn_bits);
}

const struct check_ops check_dkim = {
	.name = "dkim",
	.summary = "DKIM key records (selectors given, signed or probed) and message signatures",
	.wants = NEED_MAIL_FROM | NEED_MESSAGE,
	.configure = dkim_configure,
	.run = dkim_run,
	.describe = dkim_describe,
	.free = dkim_free,
};
