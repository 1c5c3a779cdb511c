/* The JSON document of one target's run: the result contract of DESIGN.md (schema why550/1). */
#include "output/output.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "checks/dnsbl/dnsbl.h"
#include "core/textsafe.h"
#include "output/stream.h"

/*
 * Keys of a check object that belong to the envelope. A check-specific key
 * with one of these names is moved into the object "data" of the check
 * instead, so the envelope always means the same thing; "data" exists only
 * when such a collision happened (documented in docs/why550.schema.json).
 */
static const char *const envelope_keys[] = {
	"name", "status", "duration_ms", "reason", "findings", "data",
};

static const char *const detail_names[] = {
	[OUTPUT_FULL] = "full",
	[OUTPUT_SUMMARY] = "summary",
};

const char *
output_detail_name(enum output_detail d)
{
	if ((size_t)d >= ARRAY_SIZE(detail_names))
		return detail_names[OUTPUT_FULL];
	return detail_names[d];
}

int
output_detail_parse(const char *s, enum output_detail *out)
{
	int i = name_index(detail_names, ARRAY_SIZE(detail_names), s);

	if (i < 0)
		return -1;
	*out = (enum output_detail)i;
	return 0;
}

/*
 * Cuts a string longer than OUTPUT_STRING_MAX bytes (valid UTF-8 by then)
 * at a character boundary and says how long it was, in place, everywhere
 * in v: a hostile answer or input must not make a document of megabytes.
 */
static void
cap_strings(json_t *v)
{
	const char *key, *s;
	json_t *val;
	char *cut;
	size_t i, n, keep;

	switch (json_typeof(v)) {
	case JSON_STRING:
		if ((n = json_string_length(v)) <= OUTPUT_STRING_MAX)
			break;
		s = json_string_value(v);
		/* back to the first byte of a character: continuation bytes are 10xxxxxx */
		for (keep = OUTPUT_STRING_MAX; keep > 0 && ((unsigned char)s[keep] & 0xc0) == 0x80;
		    keep--)
			;
		cut = xasprintf("%.*s... (%zu bytes)", (int)keep, s, n);
		json_string_setn_nocheck(v, cut, strlen(cut));
		free(cut);
		break;
	case JSON_OBJECT:
		json_object_foreach(v, key, val)
			cap_strings(val);
		break;
	case JSON_ARRAY:
		json_array_foreach(v, i, val)
			cap_strings(val);
		break;
	default:
		break;
	}
}

/* True when cap_strings() would cut something in v. */
static bool
has_long_string(const json_t *v)
{
	const char *key;
	json_t *val;
	size_t i;

	switch (json_typeof(v)) {
	case JSON_STRING:
		return json_string_length(v) > OUTPUT_STRING_MAX;
	case JSON_OBJECT:
		json_object_foreach((json_t *)(uintptr_t)v, key, val)
			if (has_long_string(val))
				return true;
		return false;
	case JSON_ARRAY:
		json_array_foreach(v, i, val)
			if (has_long_string(val))
				return true;
		return false;
	default:
		return false;
	}
}

static json_t *
uint_json(uint64_t n)
{
	return json_integer(n > (uint64_t)INT64_MAX ? (json_int_t)INT64_MAX : (json_int_t)n);
}

/* Durations are counts: a clock oddity must not break the schema. */
static json_t *
ms_json(int ms)
{
	return json_integer(ms > 0 ? ms : 0);
}

static json_t *
target_json(const struct target *t)
{
	json_t *o = json_object(), *sel = json_array();
	size_t i;

	json_object_set_new(o, "ip", json_str(t ? t->ip : NULL));
	json_object_set_new(o, "helo", json_str(t ? t->helo : NULL));
	json_object_set_new(o, "mail_from", json_str(t ? t->mail_from : NULL));
	json_object_set_new(o, "rcpt_to", json_str(t ? t->rcpt_to : NULL));
	json_object_set_new(o, "message", json_str(t ? t->message_path : NULL));
	json_object_set_new(o, "bounce", json_str(t ? t->bounce : NULL));
	for (i = 0; t != NULL && i < t->nselectors; i++)
		json_array_append_new(sel, json_str(t->selectors[i]));
	json_object_set_new(o, "selectors", sel);
	return o;
}

/* A cause's code and confidence: all the summary keeps of it. */
static json_t *
cause_json(const struct cause *c)
{
	json_t *co = json_object();

	json_object_set_new(co, "code", json_str(cause_name(c->code)));
	json_object_set_new(co, "confidence", json_string(confidence_name(c->confidence)));
	return co;
}

static json_t *
verdict_json(const struct verdict *v)
{
	json_t *o = json_object(), *causes = json_array();
	size_t i;

	json_object_set_new(o, "status", json_string(verdict_status_name(v->status)));
	for (i = 0; i < v->ncauses; i++) {
		const struct cause *c = &v->causes[i];
		json_t *co = cause_json(c);

		json_object_set_new(co, "summary", json_str(c->summary ? c->summary : ""));
		json_object_set_new(co, "evidence",
		    c->evidence ? json_sanitize(c->evidence) : json_array());
		json_object_set_new(co, "remedy", json_str(c->remedy ? c->remedy : ""));
		json_array_append_new(causes, co);
	}
	json_object_set_new(o, "causes", causes);
	json_object_set_new(o, "note", json_str(v->note));
	return o;
}

static bool
is_envelope_key(const char *key)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(envelope_keys); i++)
		if (strcmp(envelope_keys[i], key) == 0)
			return true;
	return false;
}

static json_t *
check_json(const struct report *rep)
{
	json_t *o = json_object(), *findings = json_array(), *moved = NULL;
	const json_t *data = report_data_const(rep);
	const char *key;
	json_t *val;
	size_t i;

	json_object_set_new(o, "name", json_str(report_name(rep)));
	json_object_set_new(o, "status", json_string(check_status_name(report_status(rep))));
	json_object_set_new(o, "duration_ms", ms_json(report_duration_ms(rep)));
	json_object_set_new(o, "reason", json_str(report_reason(rep)));
	/* the values of the report are shared, not copied: sanitized once, when made */
	for (i = 0; i < report_nfindings(rep); i++) {
		const struct finding *f = report_finding(rep, i);
		json_t *fo = json_object();

		json_object_set_new(fo, "code", json_str(f->code));
		json_object_set_new(fo, "severity", json_string(finding_severity_name(f->severity)));
		json_object_set_new(fo, "message", json_str(f->message));
		json_object_set_new(fo, "data", f->data ? json_sanitize(f->data) : json_object());
		json_array_append_new(findings, fo);
	}
	json_object_set_new(o, "findings", findings);
	if (!json_is_object(data))
		return o;
	json_object_foreach((json_t *)(uintptr_t)data, key, val) {
		char *k = text_utf8_sanitize(key, strlen(key));

		if (is_envelope_key(k)) {
			if (moved == NULL)
				moved = json_object();
			json_object_set_new_nocheck(moved, k, json_sanitize(val));
		} else
			json_object_set_new_nocheck(o, k, json_sanitize(val));
		free(k);
	}
	if (moved != NULL)
		json_object_set_new(o, "data", moved);
	return o;
}

static json_t *
dns_json(const struct run_result *res)
{
	const struct dns_counters *c = &res->dns;
	json_t *o = json_object(), *servers = json_array();
	size_t i;

	json_object_set_new(o, "queries", uint_json(c->queries));
	json_object_set_new(o, "sent", uint_json(c->sent));
	json_object_set_new(o, "cache_hits", uint_json(c->cache_hits));
	json_object_set_new(o, "coalesced", uint_json(c->coalesced));
	json_object_set_new(o, "timeouts", uint_json(c->timeouts));
	json_object_set_new(o, "retries", uint_json(c->retries));
	json_object_set_new(o, "tcp_fallbacks", uint_json(c->tcp_fallbacks));
	json_object_set_new(o, "mismatched", uint_json(c->mismatched));
	for (i = 0; i < res->nservers && i < DNS_MAX_SERVERS; i++) {
		const struct dns_server_stats *s = &res->servers[i];
		json_t *so = json_object();

		json_object_set_new(so, "address",
		    json_text(s->label, strnlen(s->label, sizeof(s->label))));
		json_object_set_new(so, "sent", uint_json(s->sent));
		json_object_set_new(so, "answered", uint_json(s->answered));
		json_object_set_new(so, "timeouts", uint_json(s->timeouts));
		json_array_append_new(servers, so);
	}
	json_object_set_new(o, "resolvers", servers);
	return o;
}

json_t *
output_json_document(const struct run_result *res)
{
	json_t *doc = json_object(), *checks = json_array();
	char now[32];
	size_t i;

	output_time_utc(time(NULL), true, now, sizeof(now));
	json_object_set_new(doc, "schema", json_string(WHY550_SCHEMA));
	json_object_set_new(doc, "version", json_string(WHY550_VERSION));
	json_object_set_new(doc, "generated_at", json_string(now));
	json_object_set_new(doc, "target", target_json(res->target));
	json_object_set_new(doc, "verdict", verdict_json(&res->verdict));
	for (i = 0; i < res->nreports; i++)
		if (res->reports[i] != NULL)
			json_array_append_new(checks, check_json(res->reports[i]));
	json_object_set_new(doc, "checks", checks);
	json_object_set_new(doc, "dns", dns_json(res));
	json_object_set_new(doc, "duration_ms", ms_json(res->duration_ms));
	/*
	 * The document shares the reports' values, which cutting must leave
	 * alone (and a value shared twice would be cut twice): a document
	 * with a string to cut, from hostile data only, is copied first.
	 */
	if (has_long_string(doc)) {
		json_t *own = json_deep_copy(doc);

		json_decref(doc);
		doc = own;
		cap_strings(doc);
	}
	return doc;
}

/* The target as given: the inputs that are there, but for the bounce text (long, and in the full document). */
static json_t *
target_summary(const struct target *t)
{
	json_t *o = json_object();

	if (t == NULL)
		return o;
	if (t->ip != NULL)
		json_object_set_new(o, "ip", json_str(t->ip));
	if (t->helo != NULL)
		json_object_set_new(o, "helo", json_str(t->helo));
	if (t->mail_from != NULL)
		json_object_set_new(o, "mail_from", json_str(t->mail_from));
	if (t->rcpt_to != NULL)
		json_object_set_new(o, "rcpt_to", json_str(t->rcpt_to));
	if (t->message_path != NULL)
		json_object_set_new(o, "message", json_str(t->message_path));
	return o;
}

/* Adds the zones of the list entries (checks/dnsbl/dnsbl.h) of rep that say "listed", each once. */
static void
add_listed(json_t *zones, const struct report *rep)
{
	const json_t *lists = json_object_get(report_data_const(rep), "lists"), *e;
	enum dnsbl_status st;
	size_t i, j;

	json_array_foreach(lists, i, e) {
		const json_t *zone = json_object_get(e, "zone");
		bool seen = false;

		if (!json_is_string(zone) ||
		    dnsbl_status_parse(json_string_value(json_object_get(e, "status")), &st) < 0 ||
		    st != DNSBL_STATUS_LISTED)
			continue;
		for (j = 0; j < json_array_size(zones) && !seen; j++)
			seen = json_equal(json_array_get(zones, j), zone);
		if (!seen)
			json_array_append_new(zones, json_sanitize(zone));
	}
}

json_t *
output_json_summary(const struct run_result *res)
{
	json_t *doc = json_object(), *v = json_object(), *causes = json_array();
	json_t *checks = json_object(), *listed = json_array();
	size_t i;

	json_object_set_new(doc, "schema", json_string(WHY550_SCHEMA));
	json_object_set_new(doc, "detail", json_string(detail_names[OUTPUT_SUMMARY]));
	json_object_set_new(doc, "target", target_summary(res->target));
	json_object_set_new(v, "status", json_string(verdict_status_name(res->verdict.status)));
	for (i = 0; i < res->verdict.ncauses; i++)
		json_array_append_new(causes, cause_json(&res->verdict.causes[i]));
	json_object_set_new(v, "causes", causes);
	json_object_set_new(doc, "verdict", v);
	for (i = 0; i < res->nreports; i++) {
		if (res->reports[i] == NULL)
			continue;
		json_object_set_new(checks, report_name(res->reports[i]),
		    json_string(check_status_name(report_status(res->reports[i]))));
		add_listed(listed, res->reports[i]);
	}
	json_object_set_new(doc, "check_status", checks);
	json_object_set_new(doc, "listed", listed);
	json_object_set_new(doc, "duration_ms", ms_json(res->duration_ms));
	return doc;
}

/* The whole document is rendered before the first byte is written: no half documents. */
int
output_json_write(FILE *fp, const struct run_result *res, bool one_line,
    enum output_detail detail)
{
	size_t flags = JSON_PRESERVE_ORDER | (one_line ? JSON_COMPACT : JSON_INDENT(2));
	json_t *doc = detail == OUTPUT_SUMMARY ? output_json_summary(res) :
	    output_json_document(res);
	char *text = json_dumps(doc, flags);
	int ret = -1;
	size_t len;

	if (text == NULL)
		goto out;
	len = strlen(text);
	if (fwrite(text, 1, len, fp) != len || fputc('\n', fp) == EOF)
		goto out;
	if (fflush(fp) != 0)
		goto out;
	ret = 0;
out:
	free(text);
	json_decref(doc);
	return ret;
}
