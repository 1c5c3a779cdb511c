/* Output streams: one run's results, one target or a batch, rendered on any thread and written in input order. */
#include "output/stream.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/textsafe.h"

static const char *const format_names[] = {
	[OUTPUT_JSON] = "json",
	[OUTPUT_TEXT] = "text",
	[OUTPUT_JUNIT] = "junit",
	[OUTPUT_GITHUB] = "github",
	[OUTPUT_OPENMETRICS] = "openmetrics",
};

const char *
output_format_name(enum output_format f)
{
	if ((unsigned)f >= ARRAY_SIZE(format_names))
		return format_names[OUTPUT_JSON];
	return format_names[f];
}

int
output_format_parse(const char *s, enum output_format *out)
{
	int i = name_index(format_names, ARRAY_SIZE(format_names), s);

	if (i < 0)
		return -1;
	*out = (enum output_format)i;
	return 0;
}

struct output_item *
output_item_new(long line)
{
	struct output_item *it = xcalloc(1, sizeof(*it));

	it->line = line;
	return it;
}

void
output_item_free(struct output_item *it)
{
	size_t i;

	if (it == NULL)
		return;
	for (i = 0; i < OUTPUT_MAX_PARTS; i++)
		free(it->part[i]);
	free(it->key);
	free(it);
}

/* One target's document, JSON or text, rendered in memory. */
static struct output_item *
document_render(const struct output_stream *s, const struct run_result *res, long line)
{
	struct output_item *it = output_item_new(line);
	size_t len = 0;
	FILE *fp = open_memstream(&it->part[0], &len);
	int rc = -1;

	it->status = res->verdict.status;
	if (fp != NULL)
		rc = s->opt.format == OUTPUT_TEXT ? output_text_write(fp, res, &s->opt.text) :
		    output_json_write(fp, res, s->opt.detail == OUTPUT_SUMMARY, s->opt.detail);
	/* memory streams fail only when memory does, which ends the program elsewhere */
	if (fp == NULL || fclose(fp) != 0 || rc < 0) {
		free(it->part[0]);
		it->part[0] = NULL;
	}
	return it;
}

/*
 * JSON: a pretty document for one target, an NDJSON line per target in
 * batch mode; with --detail summary, the summary on one line either way.
 */
static struct output_item *
json_render(const struct output_stream *s, const struct run_result *res, long line)
{
	struct output_item *it;
	char *text;

	if (!s->opt.batch)
		return document_render(s, res, line);
	it = output_item_new(line);
	it->status = res->verdict.status;
	text = s->opt.detail == OUTPUT_SUMMARY ? output_ndjson_summary(res, line) :
	    output_ndjson_line(res, line);
	it->part[0] = xasprintf("%s\n", text != NULL ? text : "");
	free(text);
	return it;
}

static struct output_item *
json_render_error(const struct output_stream *s, long line, const char *msg)
{
	struct output_item *it = output_item_new(line);
	char *text = output_ndjson_error(line, msg);

	(void)s;
	it->bad_input = true;
	it->part[0] = xasprintf("%s\n", text != NULL ? text : "");
	free(text);
	return it;
}

static const struct output_format_ops json_ops = {
	.format = OUTPUT_JSON,
	.nparts = 1,
	.direct = true,
	.render = json_render,
	.render_error = json_render_error,
};

/* Text is for one target; bad input lines come only from a batch, which gets JSON for them. */
static const struct output_format_ops text_ops = {
	.format = OUTPUT_TEXT,
	.nparts = 1,
	.direct = true,
	.render = document_render,
	.render_error = json_render_error,
};

static const struct output_format_ops *const format_ops[] = {
	[OUTPUT_JSON] = &json_ops,
	[OUTPUT_TEXT] = &text_ops,
	[OUTPUT_JUNIT] = &output_junit_ops,
	[OUTPUT_GITHUB] = &output_github_ops,
	[OUTPUT_OPENMETRICS] = &output_openmetrics_ops,
};

/* The keys seen so far: open addressing over string hashes, grown at half full. */
struct keyset {
	char **slot;
	size_t cap;
	size_t n;
};

/* FNV-1a: keys are target labels, not chosen to collide. */
static uint64_t
hash(const char *s)
{
	uint64_t h = 1469598103934665603ull;

	for (; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return h;
}

static char **
keyset_find(struct keyset *ks, const char *key)
{
	size_t i = (size_t)hash(key) & (ks->cap - 1);

	while (ks->slot[i] != NULL && strcmp(ks->slot[i], key) != 0)
		i = (i + 1) & (ks->cap - 1);
	return &ks->slot[i];
}

/* Adds key; false when it was there already. */
static bool
keyset_add(struct keyset *ks, const char *key)
{
	char **old, **slot;
	size_t oldcap, i;

	if (ks->cap == 0 || (ks->n + 1) * 2 > ks->cap) {
		old = ks->slot;
		oldcap = ks->cap;
		ks->cap = oldcap == 0 ? 64 : oldcap * 2;
		ks->slot = xcalloc(ks->cap, sizeof(*ks->slot));
		for (i = 0; i < oldcap; i++)
			if (old[i] != NULL)
				*keyset_find(ks, old[i]) = old[i];
		free(old);
	}
	slot = keyset_find(ks, key);
	if (*slot != NULL)
		return false;
	*slot = xstrdup(key);
	ks->n++;
	return true;
}

static void
keyset_free(struct keyset *ks)
{
	size_t i;

	if (ks == NULL)
		return;
	for (i = 0; i < ks->cap; i++)
		free(ks->slot[i]);
	free(ks->slot);
	free(ks);
}

/* A spool per part: a temporary file in batch mode (bounded memory), memory for one target. */
static int
spools_open(struct output_stream *s, struct error *err)
{
	size_t k;

	for (k = s->ops->direct ? 1 : 0; k < s->ops->nparts; k++) {
		struct output_spool *sp = &s->spool[k];

		sp->fp = s->opt.batch ? tmpfile() : open_memstream(&sp->mem, &sp->memlen);
		if (sp->fp == NULL)
			return error_set(err, "cannot make a temporary file for the %s output: %s",
			    output_format_name(s->opt.format), strerror(errno));
	}
	return 0;
}

struct output_stream *
output_stream_new(const struct output_options *opt, FILE *out, struct error *err)
{
	struct output_stream *s = xcalloc(1, sizeof(*s));

	s->opt = *opt;
	s->ops = format_ops[(unsigned)opt->format < ARRAY_SIZE(format_ops) ? opt->format :
	    OUTPUT_JSON];
	s->out = out;
	s->keys = xcalloc(1, sizeof(*s->keys));
	if (gethostname(s->hostname, sizeof(s->hostname) - 1) != 0 || s->hostname[0] == '\0')
		snprintf(s->hostname, sizeof(s->hostname), "localhost");
	if (spools_open(s, err) < 0) {
		output_stream_free(s);
		return NULL;
	}
	return s;
}

void
output_stream_free(struct output_stream *s)
{
	size_t k;

	if (s == NULL)
		return;
	for (k = 0; k < OUTPUT_MAX_PARTS; k++) {
		if (s->spool[k].fp != NULL)
			fclose(s->spool[k].fp);
		free(s->spool[k].mem);
	}
	keyset_free(s->keys);
	free(s);
}

struct output_item *
output_stream_render(const struct output_stream *s, const struct run_result *res, long line)
{
	return s->ops->render(s, res, line);
}

struct output_item *
output_stream_render_error(const struct output_stream *s, long line, const char *msg)
{
	return s->ops->render_error(s, line, msg);
}

struct output_item *
output_stream_render_interrupted(const struct output_stream *s, long line, const char *msg)
{
	struct output_item *it;
	char *text;

	if (s->ops->format != OUTPUT_JSON || !s->opt.batch)
		return s->ops->render_error(s, line, msg);
	it = output_item_new(line);
	/* counted neither as a verdict nor as bad input */
	it->status = (enum verdict_status)OUTPUT_NSTATUS;
	text = output_ndjson_interrupted(line, msg);
	it->part[0] = xasprintf("%s\n", text != NULL ? text : "");
	free(text);
	return it;
}

void
output_write_failed(struct output_stream *s, const char *what)
{
	if (s->write_errno == 0) {
		s->write_errno = errno != 0 ? errno : EIO;
		s->failed_output = what;
	}
}

void
output_write(struct output_stream *s, const char *text, size_t len)
{
	errno = 0;
	if (len > 0 && fwrite(text, 1, len, s->out) != len)
		output_write_failed(s, s->out == stdout ? "standard output" : "the output");
}

static void
spool_add(struct output_stream *s, size_t k, const char *text)
{
	struct output_spool *sp = &s->spool[k];
	size_t len = strlen(text);

	errno = 0;
	if (len > 0 && fwrite(text, 1, len, sp->fp) != len)
		output_write_failed(s, "a temporary file");
	sp->used = sp->used || len > 0;
}

void
output_stream_put(struct output_stream *s, struct output_item *it)
{
	size_t k;

	if (it->bad_input)
		s->nbad++;
	else if ((unsigned)it->status < OUTPUT_NSTATUS)
		s->count[it->status]++;
	if (it->key != NULL && !keyset_add(s->keys, it->key)) {
		char *safe = output_safe(it->key);

		s->nleft_out++;
		fprintf(stderr, "why550: line %ld: the target '%s' came before: its %s output is "
		    "left out\n", it->line, safe, output_format_name(s->opt.format));
		free(safe);
		output_item_free(it);
		return;
	}
	for (k = 0; k < s->ops->nparts; k++) {
		if (it->part[k] == NULL)
			continue;
		if (k == 0 && s->ops->direct)
			output_write(s, it->part[k], strlen(it->part[k]));
		else
			spool_add(s, k, it->part[k]);
	}
	output_item_free(it);
}

/*
 * Spool k from its start: the temporary file rewound, or the memory read
 * through a stream of its own; NULL when it is empty or cannot be read
 * (the failure remembered). Close with spool_done().
 */
static FILE *
spool_open(struct output_stream *s, size_t k)
{
	struct output_spool *sp = &s->spool[k];
	FILE *in;

	if (sp->fp == NULL || !sp->used)
		return NULL;
	errno = 0;
	if (fflush(sp->fp) != 0) {
		output_write_failed(s, "a temporary file");
		return NULL;
	}
	if (sp->mem == NULL) {
		rewind(sp->fp);
		return sp->fp;
	}
	if ((in = fmemopen(sp->mem, sp->memlen, "r")) == NULL)
		output_write_failed(s, "a memory stream");
	return in;
}

static void
spool_done(struct output_stream *s, size_t k, FILE *in)
{
	if (ferror(in))
		output_write_failed(s, "a temporary file");
	if (in != s->spool[k].fp)
		fclose(in);
}

void
output_spool_copy(struct output_stream *s, size_t k)
{
	FILE *in = spool_open(s, k);
	char buf[65536];
	size_t n;

	if (in == NULL)
		return;
	while ((n = fread(buf, 1, sizeof(buf), in)) > 0)
		output_write(s, buf, n);
	spool_done(s, k, in);
}

void
output_spool_read_lines(struct output_stream *s, size_t k, size_t max, struct strbuf *sb,
    size_t *rest)
{
	FILE *in = spool_open(s, k);
	char *line = NULL;
	size_t cap = 0, n = 0;
	ssize_t len;

	*rest = 0;
	if (in == NULL)
		return;
	while ((len = getline(&line, &cap, in)) > 0) {
		if (n++ < max)
			strbuf_add(sb, line, (size_t)len);
		else
			(*rest)++;
	}
	free(line);
	spool_done(s, k, in);
}

int
output_stream_finish(struct output_stream *s, struct error *err)
{
	if (s->ops->finish != NULL)
		s->ops->finish(s);
	errno = 0;
	if (fflush(s->out) != 0)
		output_write_failed(s, s->out == stdout ? "standard output" : "the output");
	if (s->write_errno != 0)
		return error_set(err, "cannot write %s: %s", s->failed_output,
		    strerror(s->write_errno));
	return 0;
}

char *
output_safe(const char *s)
{
	return text_term_escape(s != NULL ? s : "", s != NULL ? strlen(s) : 0);
}

char *
output_target_label(const struct target *t)
{
	const char *parts[4] = { t->ip, t->helo, t->mail_from, t->rcpt_to };
	struct strbuf sb;
	size_t i;

	strbuf_init(&sb);
	for (i = 0; i < ARRAY_SIZE(parts); i++) {
		char *safe;

		if (parts[i] == NULL)
			continue;
		/* the null sender is given as "<>" and kept as "" */
		safe = output_safe(i == 2 && parts[i][0] == '\0' ? "<>" : parts[i]);
		strbuf_addf(&sb, "%s%s", sb.len > 0 ? " " : "", safe);
		free(safe);
	}
	if (sb.len == 0)
		strbuf_addstr(&sb, t->bounce != NULL ? "bounce" : "message");
	return strbuf_detach(&sb, NULL);
}

static const char *
str_field(const json_t *o, const char *key)
{
	const char *v = json_string_value(json_object_get(o, key));

	return v != NULL ? v : "";
}

void
output_evidence_add(struct strbuf *sb, const json_t *ev)
{
	char *check = output_safe(str_field(ev, "check"));
	char *finding = output_safe(str_field(ev, "finding"));
	char *msg = output_safe(str_field(ev, "message"));

	strbuf_addf(sb, "%s/%s: %s", check, finding, msg);
	free(check);
	free(finding);
	free(msg);
}

bool
output_cause_cites(const struct cause *c, const char *check)
{
	size_t i;

	for (i = 0; i < json_array_size(c->evidence); i++) {
		const char *name = json_string_value(json_object_get(
		    json_array_get(c->evidence, i), "check"));

		if (name != NULL && strcmp(name, check) == 0)
			return true;
	}
	return false;
}

void
output_time_utc(time_t t, bool zone, char *buf, size_t len)
{
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL || strftime(buf, len, zone ? "%Y-%m-%dT%H:%M:%SZ" :
	    "%Y-%m-%dT%H:%M:%S", &tm) == 0)
		snprintf(buf, len, zone ? "1970-01-01T00:00:00Z" : "1970-01-01T00:00:00");
}
