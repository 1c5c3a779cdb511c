/* Batch mode: NDJSON targets in, one NDJSON result line out per input line, in input order. */
#include "src/batch.h"

#include <errno.h>
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "output/output.h"

#define EXIT_USAGE 64

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
	char **ring;		/* finished lines waiting for their turn */
	int worst;
	bool bad_input;
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

static int
code_rank(int code)
{
	switch (code) {
	case 2:
		return 3;
	case 3:
		return 2;
	case 1:
		return 1;
	default:
		return 0;
	}
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

/* Puts line n's output in its place and writes every line whose turn has come. */
static void
deliver(struct batch *b, long n, char *out, int code, bool bad)
{
	pthread_mutex_lock(&b->lock);
	b->ring[(size_t)(n - 1) % b->window] = out;
	if (bad)
		b->bad_input = true;
	else if (code_rank(code) > code_rank(b->worst))
		b->worst = code;
	while (b->next_write < b->next_line &&
	    b->ring[(size_t)(b->next_write - 1) % b->window] != NULL) {
		char **slot = &b->ring[(size_t)(b->next_write - 1) % b->window];

		fputs(*slot, stdout);
		fputc('\n', stdout);
		free(*slot);
		*slot = NULL;
		b->next_write++;
		b->done++;
	}
	fflush(stdout);
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
		char *out;
		int code = 0;
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
			out = output_ndjson_error(n, err.msg);
			bad = true;
		} else {
			runner_run(b->r, b->eng, &t, b->opt->timeout_ms, &res);
			out = output_ndjson_line(&res, n);
			code = verdict_exit_code(&res.verdict, b->opt->fail_on_at_risk);
			run_result_release(&res);
		}
		target_release(&t);
		deliver(b, n, out, code, bad);
	}
	free(line);
	return NULL;
}

int
batch_run(struct runner *r, struct dns_engine *eng, const struct batch_options *opt)
{
	struct batch b;
	pthread_t *threads;
	size_t i, started = 0;
	int ret;

	memset(&b, 0, sizeof(b));
	b.r = r;
	b.eng = eng;
	b.opt = opt;
	b.next_line = b.next_write = 1;
	b.window = opt->jobs * 4;
	b.in = strcmp(opt->path, "-") == 0 ? stdin : fopen(opt->path, "r");
	if (b.in == NULL)
		return error("--batch: cannot read '%s': %s", opt->path, strerror(errno)),
		    EXIT_USAGE;
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

	if (b.read_error) {
		error("--batch: error reading '%s'", opt->path);
		ret = EXIT_USAGE;
	} else if (b.bad_input) {
		ret = EXIT_USAGE;
	} else {
		ret = b.worst;
	}
	if (b.in != stdin)
		fclose(b.in);
	free(threads);
	free(b.ring);
	pthread_mutex_destroy(&b.lock);
	pthread_cond_destroy(&b.cond);
	return ret;
}
