/* Batch mode: NDJSON targets in, one NDJSON result line out per input line, in input order. */
#include "src/batch.h"

#include <errno.h>
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/textsafe.h"
#include "output/output.h"

#define EXIT_USAGE 64
#define EXIT_IOERR 74
/* Invalid lines named on standard error one by one; the rest are counted. */
#define INVALID_SHOWN 20

struct batch {
	struct runner *r;
	struct dns_engine *eng;
	const struct batch_options *opt;
	FILE *in;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool eof;
	bool read_error;
	long next_line;		/* number of the next line to read, from 1 */
	long next_write;	/* number of the next line to write */
	size_t window;
	struct output_item **ring;	/* finished lines waiting for their turn */
	struct output_stream *out;
	enum verdict_status worst;	/* over the valid lines */
	long nvalid, ninvalid;
	long done;
	int64_t started, shown;
};

static int
set_string(const json_t *v, const char *field, const char **out, struct error *err)
{
	if (!json_is_string(v))
		return error_set(err, "%s: must be a string", field);
	*out = json_string_value(v);
	return 0;
}

int
batch_parse_line(const char *line, size_t len, struct target *t, struct error *err)
{
	json_error_t jerr;
	json_t *obj, *v;
	const char *key, *s = NULL;
	bool any = false;
	size_t i;
	int ret = -1;

	obj = json_loadb(line, len, JSON_REJECT_DUPLICATES, &jerr);
	if (obj == NULL)
		return error_set(err, "not valid JSON: %s (column %d)", jerr.text, jerr.column);
	if (!json_is_object(obj)) {
		error_set(err, "a target must be a JSON object");
		goto out;
	}
	json_object_foreach(obj, key, v) {
		if (strcmp(key, "selectors") == 0) {
			if (!json_is_array(v)) {
				error_set(err, "selectors: must be an array of strings");
				goto out;
			}
			for (i = 0; i < json_array_size(v); i++)
				if (set_string(json_array_get(v, i), "selectors", &s, err) < 0 ||
				    target_add_selector(t, "selectors", s, err) < 0)
					goto out;
			continue;
		}
		if (set_string(v, key, &s, err) < 0)
			goto out;
		if (strcmp(key, "ip") == 0) {
			if (target_set_ip(t, "ip", s, err) < 0)
				goto out;
		} else if (strcmp(key, "helo") == 0) {
			if (target_set_helo(t, "helo", s, err) < 0)
				goto out;
		} else if (strcmp(key, "mail_from") == 0 || strcmp(key, "from") == 0) {
			if (target_set_mail_from(t, key, s, err) < 0)
				goto out;
		} else if (strcmp(key, "rcpt_to") == 0 || strcmp(key, "to") == 0) {
			if (target_set_rcpt_to(t, key, s, err) < 0)
				goto out;
		} else if (strcmp(key, "message") == 0) {
			if (target_set_message_file(t, "message", s, err) < 0)
				goto out;
		} else if (strcmp(key, "bounce") == 0) {
			/* a bounce in a batch is text, never a file reference */
			if (s[0] == '\0') {
				error_set(err, "bounce: is empty");
				goto out;
			}
			free(t->bounce);
			/* a JSON string may hold \u0000: keep its whole length */
			t->bounce_len = json_string_length(v);
			t->bounce = xmalloc(t->bounce_len + 1);
			memcpy(t->bounce, s, t->bounce_len + 1);
		} else {
			error_set(err, "unknown field '%s'", key);
			goto out;
		}
		any = true;
	}
	if (!any) {
		error_set(err, "no target: give ip, helo, mail_from, rcpt_to, message or bounce");
		goto out;
	}
	ret = 0;
out:
	json_decref(obj);
	return ret;
}

static void
progress(struct batch *b, bool final)
{
	int64_t now = now_ms();
	double secs;

	if (!b->opt->progress || (!final && now - b->shown < 200))
		return;
	b->shown = now;
	secs = (double)(now - b->started) / 1000.0;
	fprintf(stderr, "\rwhy550: %ld target%s done, %.0f/s", b->done, b->done == 1 ? "" : "s",
	    secs > 0 ? (double)b->done / secs : 0.0);
	if (final)
		fputc('\n', stderr);
	fflush(stderr);
}

/* Names an invalid line on standard error (the first few; the rest are counted). */
static void
invalid_line(struct batch *b, long n, const char *why)
{
	char *safe;

	if (++b->ninvalid > INVALID_SHOWN) {
		if (b->ninvalid == INVALID_SHOWN + 1)
			error("--batch: more lines are not targets; they are counted at the end");
		return;
	}
	safe = text_term_escape(why, strlen(why));
	error("--batch: line %ld is not a target: %s", n, safe);
	free(safe);
}

/*
 * Puts line n's result in its place and hands on every result whose turn
 * has come; why is NULL for a valid line, else why it is not a target.
 */
static void
deliver(struct batch *b, long n, struct output_item *out, enum verdict_status st,
    const char *why)
{
	pthread_mutex_lock(&b->lock);
	output_begin();
	b->ring[(size_t)(n - 1) % b->window] = out;
	if (why != NULL) {
		invalid_line(b, n, why);
	} else {
		b->nvalid++;
		b->worst = gate_worse(b->worst, st);
	}
	while (b->next_write < b->next_line &&
	    b->ring[(size_t)(b->next_write - 1) % b->window] != NULL) {
		struct output_item **slot = &b->ring[(size_t)(b->next_write - 1) % b->window];

		output_stream_put(b->out, *slot);
		*slot = NULL;
		b->next_write++;
		b->done++;
	}
	fflush(stdout);
	output_end();
	progress(b, false);
	pthread_cond_broadcast(&b->cond);
	pthread_mutex_unlock(&b->lock);
}

static void *
worker(void *arg)
{
	struct batch *b = arg;
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	long n;

	for (;;) {
		struct target t;
		struct error err = { "" };
		struct run_result res;
		struct output_item *out;
		enum verdict_status st = VERDICT_CLEAN;
		bool bad = false;

		pthread_mutex_lock(&b->lock);
		/* bounded memory: do not run ahead of the writer by more than the window */
		while (!b->eof && b->next_line - b->next_write >= (long)b->window)
			pthread_cond_wait(&b->cond, &b->lock);
		if (b->eof) {
			pthread_mutex_unlock(&b->lock);
			break;
		}
		len = getline(&line, &cap, b->in);
		if (len < 0) {
			if (ferror(b->in))
				b->read_error = true;
			b->eof = true;
			pthread_cond_broadcast(&b->cond);
			pthread_mutex_unlock(&b->lock);
			break;
		}
		n = b->next_line++;
		pthread_mutex_unlock(&b->lock);

		while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
			line[--len] = '\0';
		target_init(&t);
		if (batch_parse_line(line, (size_t)len, &t, &err) < 0) {
			out = output_stream_render_error(b->out, n, err.msg);
			bad = true;
		} else {
			/* under rate caps, targets start at the pace the caps allow */
			dns_engine_admit(b->eng);
			runner_run(b->r, b->eng, &t, b->opt->timeout_ms, &res);
			out = output_stream_render(b->out, &res, n);
			st = res.verdict.status;
			run_result_release(&res);
		}
		target_release(&t);
		deliver(b, n, out, st, bad ? err.msg : NULL);
	}
	free(line);
	return NULL;
}

int
batch_run(struct runner *r, struct dns_engine *eng, const struct batch_options *opt)
{
	struct output_options ndjson = { .format = OUTPUT_JSON, .batch = true };
	struct output_stream *own = NULL;
	struct error err = { "" };
	struct batch b;
	pthread_t *threads;
	size_t i, started = 0;
	bool write_failed;
	int ret;

	memset(&b, 0, sizeof(b));
	b.r = r;
	b.eng = eng;
	b.opt = opt;
	b.next_line = b.next_write = 1;
	b.window = opt->jobs * 4;
	b.in = strcmp(opt->path, "-") == 0 ? stdin : fopen(opt->path, "r");
	if (b.in == NULL) {
		char shown[TEXT_QUOTE_SIZE(80)];
		int e = errno;

		text_quote(shown, sizeof(shown), opt->path, strlen(opt->path), 80);
		resource_check(e, "--batch: cannot open '%s'", shown);
		return error("--batch: cannot read '%s': %s", shown, strerror(e)), EXIT_USAGE;
	}
	b.out = opt->out;
	if (b.out == NULL && (b.out = own = output_stream_new(&ndjson, stdout, &err)) == NULL) {
		error("%s", err.msg);
		if (b.in != stdin)
			fclose(b.in);
		return EXIT_IOERR;
	}
	b.ring = xcalloc(b.window, sizeof(*b.ring));
	b.started = now_ms();
	pthread_mutex_init(&b.lock, NULL);
	pthread_cond_init(&b.cond, NULL);
	threads = xcalloc(opt->jobs, sizeof(*threads));
	for (i = 0; i < opt->jobs; i++) {
		if (pthread_create(&threads[i], NULL, worker, &b) != 0)
			break;
		started++;
	}
	if (started == 0)
		worker(&b);
	for (i = 0; i < started; i++)
		pthread_join(threads[i], NULL);
	progress(&b, true);

	/* what was read is answered whole, even when reading stopped on an error */
	output_begin();
	write_failed = output_stream_finish(b.out, &err) < 0;
	output_end();
	if (write_failed)
		error("%s", err.msg);
	if (b.ninvalid > 0)
		error("--batch: %ld of %ld lines %s not a target", b.ninvalid,
		    b.ninvalid + b.nvalid, b.ninvalid == 1 ? "was" : "were");
	if (b.read_error) {
		char shown[TEXT_QUOTE_SIZE(80)];

		text_quote(shown, sizeof(shown), opt->path, strlen(opt->path), 80);
		error("--batch: error reading '%s'", shown);
		ret = EXIT_USAGE;
	} else if (write_failed) {
		ret = EXIT_IOERR;
	} else if (b.ninvalid > 0 && (b.nvalid == 0 || opt->strict_input)) {
		ret = EXIT_USAGE;
	} else {
		ret = gate_exit_code(b.worst, opt->fail_on);
	}
	output_stream_free(own);
	if (b.in != stdin)
		fclose(b.in);
	free(threads);
	free(b.ring);
	pthread_mutex_destroy(&b.lock);
	pthread_cond_destroy(&b.cond);
	return ret;
}
