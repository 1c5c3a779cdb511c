/*
 * OpenMetrics / Prometheus text for node_exporter's textfile collector:
 * gauges of the last run per target (verdict, causes, checks, lists, DNS
 * counters, duration), each family once with its HELP and TYPE lines.
 * Labels take only bounded values: the target, and names from the program
 * or checks.d (statuses, cause codes, checks, zones), never free text.
 */
#include <inttypes.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "checks/dnsbl/dnsbl.h"
#include "output/stream.h"

/* The families written per target, in the document's order; each is a part (a spool). */
enum family {
	FAM_VERDICT = 0,
	FAM_CAUSE,
	FAM_CHECK,
	FAM_CHECK_DURATION,
	FAM_LISTED,
	FAM_LIST_ANSWERED,
	FAM_DNS_QUERIES,
	FAM_DNS_SENT,
	FAM_DNS_CACHE_HITS,
	FAM_DNS_COALESCED,
	FAM_DNS_TIMEOUTS,
	FAM_DNS_RETRIES,
	FAM_DNS_TCP_FALLBACKS,
	FAM_DNS_MISMATCHED,
	FAM_DURATION,
	NFAM,
};

struct family_desc {
	const char *name;
	const char *help;
	size_t counter;		/* DNS families: offset of the field in struct dns_counters */
};

static const struct family_desc families[NFAM] = {
	[FAM_VERDICT] = { "why550_verdict_status",
	    "Verdict of the target's last run: 1 for its status, 0 for the others", 0 },
	[FAM_CAUSE] = { "why550_cause",
	    "Causes of the target's verdict, the value is the rank (1 is the top cause)", 0 },
	[FAM_CHECK] = { "why550_check_status",
	    "Status of each check in the target's last run: 1 for its status, 0 for the others",
	    0 },
	[FAM_CHECK_DURATION] = { "why550_check_duration_seconds",
	    "Time each check of the target's last run took", 0 },
	[FAM_LISTED] = { "why550_listed",
	    "1 when the blocklist zone lists the target (any subject asked), else 0", 0 },
	[FAM_LIST_ANSWERED] = { "why550_list_answered",
	    "1 when the blocklist zone answered every query, 0 when it refused or failed one", 0 },
	[FAM_DNS_QUERIES] = { "why550_dns_queries",
	    "DNS questions the target's last run asked",
	    offsetof(struct dns_counters, queries) },
	[FAM_DNS_SENT] = { "why550_dns_queries_sent",
	    "DNS queries the target's last run sent to a resolver",
	    offsetof(struct dns_counters, sent) },
	[FAM_DNS_CACHE_HITS] = { "why550_dns_cache_hits",
	    "DNS questions of the target's last run answered by the cache",
	    offsetof(struct dns_counters, cache_hits) },
	[FAM_DNS_COALESCED] = { "why550_dns_coalesced",
	    "DNS questions of the target's last run joined to one already in flight",
	    offsetof(struct dns_counters, coalesced) },
	[FAM_DNS_TIMEOUTS] = { "why550_dns_timeouts",
	    "DNS attempts of the target's last run that timed out",
	    offsetof(struct dns_counters, timeouts) },
	[FAM_DNS_RETRIES] = { "why550_dns_retries",
	    "DNS queries of the target's last run sent again",
	    offsetof(struct dns_counters, retries) },
	[FAM_DNS_TCP_FALLBACKS] = { "why550_dns_tcp_fallbacks",
	    "Truncated DNS answers of the target's last run asked again over TCP",
	    offsetof(struct dns_counters, tcp_fallbacks) },
	[FAM_DNS_MISMATCHED] = { "why550_dns_mismatched_replies",
	    "DNS replies of the target's last run dropped for a wrong source, ID or question",
	    offsetof(struct dns_counters, mismatched) },
	[FAM_DURATION] = { "why550_run_duration_seconds",
	    "Time the target's last run took", 0 },
};

/*
 * A label value (OpenMetrics 1.0, "ABNF"; the Prometheus text format the
 * same): made safe, so no line break is left, then backslash, double quote
 * and line feed escaped.
 */
static void
label_add(struct strbuf *sb, const char *name, const char *value, bool first)
{
	char *safe = output_safe(value);
	const char *p;

	strbuf_addf(sb, "%s%s=\"", first ? "" : ",", name);
	for (p = safe; *p != '\0'; p++) {
		if (*p == '\\' || *p == '"')
			strbuf_addf(sb, "\\%c", *p);
		else if (*p == '\n')
			strbuf_addstr(sb, "\\n");
		else
			strbuf_add(sb, p, 1);
	}
	strbuf_addstr(sb, "\"");
	free(safe);
}

/* The per-target texts of one item, one strbuf per family. */
struct sample_set {
	struct strbuf fam[NFAM];
	const char *target;
};

/* Starts a sample of family f: its name and the target label, then up to two more labels. */
static void
sample(struct sample_set *ss, enum family f, const char *k1, const char *v1, const char *k2,
    const char *v2, const char *k3, const char *v3)
{
	struct strbuf *sb = &ss->fam[f];

	strbuf_addf(sb, "%s{", families[f].name);
	label_add(sb, "target", ss->target, true);
	if (k1 != NULL)
		label_add(sb, k1, v1, false);
	if (k2 != NULL)
		label_add(sb, k2, v2, false);
	if (k3 != NULL)
		label_add(sb, k3, v3, false);
	strbuf_addstr(sb, "} ");
}

static void
verdict_samples(struct sample_set *ss, const struct verdict *v)
{
	static const enum verdict_status all[] = {
		VERDICT_CLEAN, VERDICT_AT_RISK, VERDICT_BLOCKED_LIKELY, VERDICT_INCONCLUSIVE,
	};
	size_t i, j;

	for (i = 0; i < ARRAY_SIZE(all); i++) {
		sample(ss, FAM_VERDICT, "status", verdict_status_name(all[i]), NULL, NULL, NULL,
		    NULL);
		strbuf_addf(&ss->fam[FAM_VERDICT], "%d\n", v->status == all[i]);
	}
	/* one series per code: a code that ranks twice keeps its first (higher) rank */
	for (i = 0; i < v->ncauses; i++) {
		for (j = 0; j < i && v->causes[j].code != v->causes[i].code; j++)
			;
		if (j < i)
			continue;
		sample(ss, FAM_CAUSE, "code", cause_name(v->causes[i].code), "confidence",
		    confidence_name(v->causes[i].confidence), NULL, NULL);
		strbuf_addf(&ss->fam[FAM_CAUSE], "%zu\n", i + 1);
	}
}

static void
check_samples(struct sample_set *ss, const struct report *rep)
{
	static const enum check_status all[] = {
		CHECK_PASS, CHECK_WARN, CHECK_FAIL, CHECK_ERROR, CHECK_SKIPPED,
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(all); i++) {
		sample(ss, FAM_CHECK, "check", report_name(rep), "status",
		    check_status_name(all[i]), NULL, NULL);
		strbuf_addf(&ss->fam[FAM_CHECK], "%d\n", report_status(rep) == all[i]);
	}
	sample(ss, FAM_CHECK_DURATION, "check", report_name(rep), NULL, NULL, NULL, NULL);
	strbuf_addf(&ss->fam[FAM_CHECK_DURATION], "%.3f\n",
	    report_duration_ms(rep) > 0 ? report_duration_ms(rep) / 1000.0 : 0.0);
}

/* The status of a list entry (checks/dnsbl/dnsbl.h); -1 when it has none. */
static int
entry_status(const json_t *e, enum dnsbl_status *st)
{
	return dnsbl_status_parse(json_string_value(json_object_get(e, "status")), st);
}

/*
 * The lists a check asked ("lists" of its report data, the contract in
 * checks/dnsbl/dnsbl.h), one pair of samples per zone over every subject
 * asked of it.
 */
static void
list_samples(struct sample_set *ss, const struct report *rep)
{
	const json_t *lists = json_object_get(report_data_const(rep), "lists");
	size_t i, j;

	for (i = 0; i < json_array_size(lists); i++) {
		const char *zone = json_string_value(json_object_get(json_array_get(lists, i),
		    "zone"));
		bool listed = false, answered = true, seen = false;
		enum dnsbl_status st;

		if (zone == NULL)
			continue;
		for (j = 0; j < json_array_size(lists) && !seen; j++) {
			const json_t *e = json_array_get(lists, j);
			const char *z = json_string_value(json_object_get(e, "zone"));

			if (z == NULL || strcmp(z, zone) != 0)
				continue;
			if (j < i) {
				seen = true;	/* counted with its first entry */
				continue;
			}
			if (entry_status(e, &st) < 0)
				st = DNSBL_STATUS_ERROR;
			listed = listed || st == DNSBL_STATUS_LISTED;
			answered = answered && (st == DNSBL_STATUS_LISTED ||
			    st == DNSBL_STATUS_NOT_LISTED);
		}
		if (seen)
			continue;
		sample(ss, FAM_LISTED, "check", report_name(rep), "zone", zone, NULL, NULL);
		strbuf_addf(&ss->fam[FAM_LISTED], "%d\n", listed);
		sample(ss, FAM_LIST_ANSWERED, "check", report_name(rep), "zone", zone, NULL, NULL);
		strbuf_addf(&ss->fam[FAM_LIST_ANSWERED], "%d\n", answered);
	}
}

static struct output_item *
om_render(const struct output_stream *s, const struct run_result *res, long line)
{
	struct output_item *it = output_item_new(line);
	struct sample_set ss;
	size_t i, f;

	(void)s;
	it->status = res->verdict.status;
	it->key = output_target_label(res->target);
	ss.target = it->key;
	for (f = 0; f < NFAM; f++)
		strbuf_init(&ss.fam[f]);
	verdict_samples(&ss, &res->verdict);
	for (i = 0; i < res->nreports; i++) {
		if (res->reports[i] == NULL)
			continue;
		check_samples(&ss, res->reports[i]);
		list_samples(&ss, res->reports[i]);
	}
	for (f = FAM_DNS_QUERIES; f <= FAM_DNS_MISMATCHED; f++) {
		uint64_t v;

		memcpy(&v, (const char *)&res->dns + families[f].counter, sizeof(v));
		sample(&ss, f, NULL, NULL, NULL, NULL, NULL, NULL);
		strbuf_addf(&ss.fam[f], "%" PRIu64 "\n", v);
	}
	sample(&ss, FAM_DURATION, NULL, NULL, NULL, NULL, NULL, NULL);
	strbuf_addf(&ss.fam[FAM_DURATION], "%.3f\n",
	    res->duration_ms > 0 ? res->duration_ms / 1000.0 : 0.0);
	for (f = 0; f < NFAM; f++)
		it->part[f] = ss.fam[f].len > 0 ? strbuf_detach(&ss.fam[f], NULL) : NULL;
	for (f = 0; f < NFAM; f++)
		strbuf_release(&ss.fam[f]);
	return it;
}

/* A bad input line has no series of its own: the stream counts it for why550_invalid_input_lines. */
static struct output_item *
om_render_error(const struct output_stream *s, long line, const char *msg)
{
	struct output_item *it = output_item_new(line);

	(void)s;
	(void)msg;
	it->bad_input = true;
	return it;
}

static void
head(struct strbuf *sb, const char *name, const char *help)
{
	strbuf_addf(sb, "# HELP %s %s\n# TYPE %s gauge\n", name, help, name);
}

/* The families of the whole run, before the per-target ones. */
static void
run_families(struct strbuf *sb, const struct output_stream *s)
{
	static const enum verdict_status all[] = {
		VERDICT_CLEAN, VERDICT_AT_RISK, VERDICT_BLOCKED_LIKELY, VERDICT_INCONCLUSIVE,
	};
	size_t i;

	head(sb, "why550_build_info", "The version of why550 that wrote this file");
	strbuf_addf(sb, "why550_build_info{version=\"%s\"} 1\n", WHY550_VERSION);
	head(sb, "why550_last_run_timestamp_seconds",
	    "When the run that wrote this file ended, in seconds since the Unix epoch");
	strbuf_addf(sb, "why550_last_run_timestamp_seconds %lld\n", (long long)time(NULL));
	head(sb, "why550_targets", "Targets of the run, by verdict status");
	for (i = 0; i < ARRAY_SIZE(all); i++)
		strbuf_addf(sb, "why550_targets{status=\"%s\"} %ld\n", verdict_status_name(all[i]),
		    s->count[all[i]]);
	head(sb, "why550_invalid_input_lines", "Input lines of the run that were not a target");
	strbuf_addf(sb, "why550_invalid_input_lines %ld\n", s->nbad);
}

static void
om_finish(struct output_stream *s)
{
	struct strbuf sb;
	size_t f;

	strbuf_init(&sb);
	run_families(&sb, s);
	output_write(s, sb.buf, sb.len);
	strbuf_release(&sb);
	for (f = 0; f < NFAM; f++) {
		if (!s->spool[f].used)
			continue;
		strbuf_init(&sb);
		head(&sb, families[f].name, families[f].help);
		output_write(s, sb.buf, sb.len);
		strbuf_release(&sb);
		output_spool_copy(s, f);
	}
	output_write(s, "# EOF\n", 6);
}

const struct output_format_ops output_openmetrics_ops = {
	.format = OUTPUT_OPENMETRICS,
	.nparts = NFAM,
	.direct = false,
	.render = om_render,
	.render_error = om_render_error,
	.finish = om_finish,
};
