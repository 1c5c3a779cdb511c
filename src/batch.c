/* Batch mode: NDJSON targets in, one NDJSON result line out per input line, in input order; stoppable, resumable, shardable. */
#include "src/batch.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/textsafe.h"
#include "output/output.h"

#define EXIT_USAGE	64
#define EXIT_IOERR	74

/* Bytes asked of the input per read; the reader's buffer returns to twice this after a long line. */
#define READ_CHUNK	65536
/* The longest line of an earlier output that --resume reads (results quote their input). */
#define RESUME_LINE_MAX	((size_t)64 << 20)
/* How often the loop wakes without news: deadlines to enforce, progress to show. */
#define TICK_MS		100
/* Invalid lines named on standard error one by one; the rest are counted. */
#define INVALID_SHOWN	20
/* How much of a file name a message quotes. */
#define SHOW_PATH	80

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

int
batch_parse_shard(const char *arg, unsigned long *shard, unsigned long *nshards,
    struct error *err)
{
	char shown[TEXT_QUOTE_SIZE(40)];
	unsigned long i, n;
	char *end;

	errno = 0;
	if (arg[0] < '0' || arg[0] > '9')
		goto bad;
	i = strtoul(arg, &end, 10);
	if (errno != 0 || *end != '/' || end[1] < '0' || end[1] > '9')
		goto bad;
	n = strtoul(end + 1, &end, 10);
	if (errno != 0 || *end != '\0' || n < 1 || n > 1000000 || i >= n)
		goto bad;
	*shard = i;
	*nshards = n;
	return 0;
bad:
	text_quote(shown, sizeof(shown), arg, strlen(arg), 40);
	return error_set(err, "--shard: '%s' is not I/N with 0 <= I < N <= 1000000 (e.g. 0/4)",
	    shown);
}

/*
 * The answer scanner: finds top-level members of one JSON object line
 * without building it (a result line can be megabytes). Nested values are
 * skipped by matching brackets outside strings; the top level must be
 * well formed.
 */

static size_t
skip_ws(const char *s, size_t n, size_t i)
{
	while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == '\r' || s[i] == '\n'))
		i++;
	return i;
}

/* The index after the string that starts at s[i] == '"', or 0 if it does not end. */
static size_t
skip_string(const char *s, size_t n, size_t i)
{
	for (i++; i < n; i++) {
		if (s[i] == '\\')
			i++;
		else if (s[i] == '"')
			return i + 1;
	}
	return 0;
}

/* The index after the value that starts at s[i], or 0 if it is cut or empty. */
static size_t
skip_value(const char *s, size_t n, size_t i)
{
	size_t depth = 0, start = i;

	if (i < n && s[i] == '"')
		return skip_string(s, n, i);
	if (i < n && s[i] != '{' && s[i] != '[') {
		while (i < n && strchr(",}] \t\r\n", s[i]) == NULL)
			i++;
		return i > start ? i : 0;
	}
	while (i < n) {
		if (s[i] == '"') {
			if ((i = skip_string(s, n, i)) == 0)
				return 0;
			continue;
		}
		if (s[i] == '{' || s[i] == '[')
			depth++;
		else if ((s[i] == '}' || s[i] == ']') && --depth == 0)
			return i + 1;
		i++;
	}
	return 0;
}

/* A member's value: [start, end) of the text. */
struct span {
	size_t start, end;
};

/*
 * Walks the object s[i..n) (s[i] == '{'), filling the spans of the nkeys
 * keys found at its top level (end 0 when absent). The index after the
 * object, or 0 when the text is not an object.
 */
static size_t
object_members(const char *s, size_t n, size_t i, const char *const *keys, struct span *vals,
    size_t nkeys)
{
	size_t k;

	memset(vals, 0, nkeys * sizeof(*vals));
	if (i >= n || s[i] != '{')
		return 0;
	i = skip_ws(s, n, i + 1);
	if (i < n && s[i] == '}')
		return i + 1;
	while (i < n) {
		size_t key = i + 1, keyend, start, found = nkeys;

		if (s[i] != '"' || (i = skip_string(s, n, i)) == 0)
			return 0;
		keyend = i - 1;
		i = skip_ws(s, n, i);
		if (i >= n || s[i] != ':')
			return 0;
		start = i = skip_ws(s, n, i + 1);
		for (k = 0; k < nkeys; k++)
			if (strlen(keys[k]) == keyend - key &&
			    memcmp(s + key, keys[k], keyend - key) == 0)
				found = k;
		if ((i = skip_value(s, n, i)) == 0)
			return 0;
		/* a key given twice counts with its last value */
		if (found < nkeys) {
			vals[found].start = start;
			vals[found].end = i;
		}
		i = skip_ws(s, n, i);
		if (i < n && s[i] == '}')
			return i + 1;
		if (i >= n || s[i] != ',')
			return 0;
		i = skip_ws(s, n, i + 1);
	}
	return 0;
}

/* True if the span is the JSON string "want" written without escapes. */
static bool
span_is(const char *s, struct span v, const char *want)
{
	size_t len = strlen(want);

	return v.end == v.start + len + 2 && s[v.start] == '"' &&
	    memcmp(s + v.start + 1, want, len) == 0;
}

/* The string member key of the object at v, as a span; end 0 if none. */
static struct span
inner_member(const char *s, struct span v, const char *key)
{
	const char *const keys[] = { key };
	struct span in = { 0, 0 };

	if (v.end != 0 && object_members(s, v.end, v.start, keys, &in, 1) == 0)
		in.end = 0;
	return in;
}

static void
scan_status(const char *s, struct span verdict, struct batch_answer *out)
{
	struct span st = verdict;
	int k;

	/* a compact output may give the status as the verdict itself */
	if (verdict.end != 0 && s[verdict.start] == '{')
		st = inner_member(s, verdict, "status");
	for (k = VERDICT_CLEAN; k <= VERDICT_INCONCLUSIVE; k++)
		if (st.end != 0 && span_is(s, st, verdict_status_name((enum verdict_status)k))) {
			out->has_status = true;
			out->status = (enum verdict_status)k;
		}
}

int
batch_scan_answer(const char *text, size_t len, struct batch_answer *out, char *why,
    size_t whylen)
{
	static const char *const keys[] = { "schema", "line", "error", "verdict" };
	struct span v[4], code;
	size_t i = skip_ws(text, len, 0), k;
	long line = 0;

	memset(out, 0, sizeof(*out));
	if ((i = object_members(text, len, i, keys, v, 4)) == 0 || skip_ws(text, len, i) != len) {
		snprintf(why, whylen, "not a JSON object on one line");
		return -1;
	}
	if (v[0].end == 0 || v[0].end - v[0].start < 9 ||
	    memcmp(text + v[0].start, "\"why550/", 8) != 0) {
		snprintf(why, whylen, "no \"schema\" of why550");
		return -1;
	}
	for (k = v[1].start; k < v[1].end && k - v[1].start < 18; k++) {
		if (text[k] < '0' || text[k] > '9')
			break;
		line = line * 10 + (text[k] - '0');
	}
	if (v[1].end == 0 || k != v[1].end || line < 1) {
		snprintf(why, whylen, "no positive integer \"line\"");
		return -1;
	}
	out->line = line;
	if (v[2].end != 0) {
		code = inner_member(text, v[2], "code");
		out->kind = span_is(text, code, "bad_input") ? BATCH_ANSWER_BAD_INPUT :
		    span_is(text, code, "interrupted") ? BATCH_ANSWER_INTERRUPTED :
		    BATCH_ANSWER_ERROR;
		return 0;
	}
	out->kind = BATCH_ANSWER_RESULT;
	scan_status(text, v[3], out);
	return 0;
}

/* Sets of line numbers, as sorted disjoint ranges: an earlier output answers mostly a prefix. */

struct range {
	long lo, hi;
};

struct lineset {
	struct range *v;
	size_t n, cap;
};

/* The index of the first range whose lo is above x. */
static size_t
lineset_after(const struct lineset *s, long x)
{
	size_t lo = 0, hi = s->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (s->v[mid].lo <= x)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static bool
lineset_has(const struct lineset *s, long x)
{
	size_t i = lineset_after(s, x);

	return i > 0 && s->v[i - 1].hi >= x;
}

static void
lineset_add(struct lineset *s, long x)
{
	size_t i = lineset_after(s, x);

	if (i > 0 && s->v[i - 1].hi >= x)
		return;
	if (i > 0 && s->v[i - 1].hi == x - 1) {
		s->v[i - 1].hi = x;
		/* x closed the gap to the next range */
		if (i < s->n && s->v[i].lo == x + 1) {
			s->v[i - 1].hi = s->v[i].hi;
			memmove(&s->v[i], &s->v[i + 1], (s->n - i - 1) * sizeof(*s->v));
			s->n--;
		}
		return;
	}
	if (i < s->n && s->v[i].lo == x + 1) {
		s->v[i].lo = x;
		return;
	}
	if (s->n == s->cap) {
		s->cap = s->cap != 0 ? 2 * s->cap : 16;
		s->v = xrealloc(s->v, s->cap * sizeof(*s->v));
	}
	memmove(&s->v[i + 1], &s->v[i], (s->n - i) * sizeof(*s->v));
	s->v[i].lo = s->v[i].hi = x;
	s->n++;
}

/*
 * Lines of a file descriptor in a buffer that holds one chunk and the
 * line being read, never more than max bytes of it: the bytes of a longer
 * line are dropped as they come and the line is returned marked too long.
 */
struct reader {
	int fd;
	char *buf;
	size_t alloc, len, off;	/* buf[off..len): bytes not yet returned */
	size_t scan;		/* no newline in buf[off..scan) */
	size_t max;
	bool eof, failed;
	int error;		/* errno of the failed read */
	bool toolong;		/* the line being read is over max */
	size_t dropped;		/* bytes of it dropped so far */
	long lineno;		/* lines returned */
	off_t consumed;		/* bytes of the whole lines returned */
};

struct line {
	const char *text;	/* not NUL-terminated; empty when too long */
	size_t len;
	long no;
	bool toolong;
	bool whole;		/* ended by a newline */
};

static void
reader_init(struct reader *rd, int fd, size_t max)
{
	memset(rd, 0, sizeof(*rd));
	rd->fd = fd;
	rd->max = max;
	rd->alloc = 2 * READ_CHUNK;
	rd->buf = xmalloc(rd->alloc);
}

static void
reader_release(struct reader *rd)
{
	free(rd->buf);
	rd->buf = NULL;
}

/* 1: *ln is the next line; 0: more input is needed (reader_fill); -1: no more lines. */
static int
reader_line(struct reader *rd, struct line *ln)
{
	char *nl = memchr(rd->buf + rd->scan, '\n', rd->len - rd->scan);

	if (nl == NULL) {
		rd->scan = rd->len;
		if (!rd->eof || (rd->off == rd->len && !rd->toolong))
			return rd->eof ? -1 : 0;
		/* the last line has no newline */
		nl = rd->buf + rd->len;
	}
	ln->text = rd->buf + rd->off;
	ln->len = (size_t)(nl - ln->text);
	ln->whole = nl < rd->buf + rd->len;
	ln->toolong = rd->toolong || ln->len > rd->max;
	if (ln->toolong)
		ln->len = 0;
	ln->no = ++rd->lineno;
	if (ln->whole)
		rd->consumed += (off_t)(rd->dropped + (size_t)(nl + 1 - (rd->buf + rd->off)));
	rd->off = rd->scan = (size_t)(nl - rd->buf) + (ln->whole ? 1 : 0);
	rd->toolong = false;
	rd->dropped = 0;
	return 1;
}

/* One read. -1 when it failed (rd->error), else 0 (rd->eof at the end). */
static int
reader_fill(struct reader *rd)
{
	ssize_t n;

	/* keep only the line being read, at the start */
	memmove(rd->buf, rd->buf + rd->off, rd->len - rd->off);
	rd->len -= rd->off;
	rd->scan -= rd->off;
	rd->off = 0;
	if (rd->len > rd->max) {
		rd->toolong = true;
		rd->dropped += rd->len;
		rd->len = rd->scan = 0;
	}
	if (rd->alloc - rd->len < READ_CHUNK) {
		rd->alloc = rd->len + READ_CHUNK;
		rd->buf = xrealloc(rd->buf, rd->alloc);
	} else if (rd->alloc > 4 * READ_CHUNK && rd->len < READ_CHUNK) {
		/* after a long line: back to the usual size */
		rd->alloc = 2 * READ_CHUNK;
		rd->buf = xrealloc(rd->buf, rd->alloc);
	}
	n = read(rd->fd, rd->buf + rd->len, rd->alloc - rd->len);
	if (n < 0) {
		if (errno == EINTR || errno == EAGAIN)
			return 0;
		rd->error = errno;
		rd->failed = rd->eof = true;
		return -1;
	}
	if (n == 0)
		rd->eof = true;
	rd->len += (size_t)n;
	return 0;
}

/* The run. */

enum slot_state {
	SLOT_FREE,
	SLOT_RUNNING,		/* its target is on the runner */
	SLOT_READY,		/* out holds its rendering */
};

enum line_kind {
	LINE_RESULT,
	LINE_BAD,		/* not a target: bad_input */
	LINE_INTERRUPTED,
};

/* One line taken, from its reading to its writing. */
struct slot {
	struct batch *b;
	long line;
	enum slot_state state;	/* under b->lock */
	enum line_kind kind;
	struct output_item *out;	/* under b->lock until taken */
	enum verdict_status status;
	struct target t;	/* the runner's while running */
};

struct batch {
	struct runner *r;
	struct dns_engine *eng;
	const struct batch_options *opt;
	char in_name[TEXT_QUOTE_SIZE(SHOW_PATH)];	/* opt->path, quoted for messages */
	char out_name[TEXT_QUOTE_SIZE(SHOW_PATH)];	/* opt->resume, quoted */
	struct reader in;
	struct output_stream *out;
	struct output_stream *own;	/* out, when batch_run made it */
	FILE *out_fp;		/* where out writes: stdout, or the resumed file */
	struct lineset answered;	/* by the resumed output */
	int wake[2];		/* a pipe: targets done, signals */

	pthread_mutex_t lock;
	struct slot *ring;
	size_t window;
	size_t inflight;	/* under lock */
	bool discard;		/* under lock: abandoned, results are dropped */

	/* the main thread's alone */
	unsigned long next_seq, write_seq;	/* lines taken, lines written */
	bool input_done, stopping, write_failed, read_failed;
	enum verdict_status worst;	/* over the valid lines */
	long nvalid, ninvalid, shown_invalid;
	long written, errors, total;
	int64_t started, shown, expired;
};

static volatile sig_atomic_t sig_first, sig_count;
static int sig_wake_fd = -1;

static void
on_signal(int sig)
{
	int saved = errno;

	if (sig_first == 0)
		sig_first = sig;
	if (sig_count < 3)
		sig_count++;
	if (sig_wake_fd >= 0 && write(sig_wake_fd, "s", 1) < 0) {
		/* the pipe is full: the loop wakes anyway */
	}
	errno = saved;
}

static const int stop_signals[] = { SIGINT, SIGTERM, SIGHUP };

static const char *
signal_name(int sig)
{
	return sig == SIGINT ? "SIGINT" : sig == SIGTERM ? "SIGTERM" : "SIGHUP";
}

/* Wakes the loop; from any thread. */
static void
wake(struct batch *b)
{
	if (write(b->wake[1], "d", 1) < 0) {
		/* the pipe is full: the loop has news waiting anyway */
	}
}

static bool
in_shard(const struct batch *b, long n)
{
	return b->opt->nshards <= 1 || (unsigned long)(n - 1) % b->opt->nshards == b->opt->shard;
}

/*
 * The engine's rate caps for the progress line, short enough for one
 * line: the cap over all questions, how many zones have one and the
 * tightest, and the zone whose cap holds the most questions back now.
 */
static void
caps_text(struct batch *b, char *buf, size_t len)
{
	struct dns_cap_info caps[64];
	size_t n = dns_engine_caps(b->eng, caps, ARRAY_SIZE(caps)), i, zones = 0, most = 0;
	const char *busiest = NULL;
	double global = 0, tightest = 0;
	int k = 0;

	buf[0] = '\0';
	for (i = 0; i < n && i < ARRAY_SIZE(caps); i++) {
		if (caps[i].zone[0] == '\0') {
			global = caps[i].rate;
		} else {
			zones++;
			if (caps[i].rate > 0 && (tightest == 0 || caps[i].rate < tightest))
				tightest = caps[i].rate;
		}
		if (caps[i].held > most) {
			most = caps[i].held;
			busiest = caps[i].zone[0] != '\0' ? caps[i].zone : "all questions";
		}
	}
	if (n == 0)
		return;
	k = snprintf(buf, len, ", rate caps:");
	if (global > 0 && k >= 0 && (size_t)k < len)
		k += snprintf(buf + k, len - (size_t)k, " %g/s in all", global);
	if (zones > 0 && k >= 0 && (size_t)k < len)
		k += snprintf(buf + k, len - (size_t)k, " %zu zone%s (tightest %g/s)", zones,
		    zones == 1 ? "" : "s", tightest);
	if (busiest != NULL && k >= 0 && (size_t)k < len)
		snprintf(buf + k, len - (size_t)k, ", %zu held by %.40s", most, busiest);
}

/* h:mm:ss into buf. */
static void
clock_text(char *buf, size_t len, double secs)
{
	long s = (long)(secs + 0.5);

	snprintf(buf, len, "%ld:%02ld:%02ld", s / 3600, s / 60 % 60, s % 60);
}

static void
progress(struct batch *b, bool final)
{
	int64_t now = now_ms();
	double secs = (double)(now - b->started) / 1000.0, rate;
	char eta[32], caps[160];

	if (!b->opt->progress || (!final && now - b->shown < 250))
		return;
	b->shown = now;
	rate = secs > 0 ? (double)b->written / secs : 0.0;
	if (b->total >= 0)
		fprintf(stderr, "\rwhy550: %ld/%ld targets", b->written, b->total);
	else
		fprintf(stderr, "\rwhy550: %ld targets", b->written);
	fprintf(stderr, ", %.0f/s", rate);
	if (b->total >= b->written && rate > 0) {
		clock_text(eta, sizeof(eta), (double)(b->total - b->written) / rate);
		fprintf(stderr, ", ETA %s", eta);
	}
	fprintf(stderr, ", %ld error%s", b->errors, b->errors == 1 ? "" : "s");
	caps_text(b, caps, sizeof(caps));
	fputs(caps, stderr);
	fputs("\033[K", stderr);
	if (final)
		fputc('\n', stderr);
	fflush(stderr);
}

/* Hands slot s's rendering (out, freed by the stream) to the output, and counts it. */
static void
emit(struct batch *b, struct slot *s, struct output_item *out)
{
	output_stream_put(b->out, out);
	b->written++;
	if (s->kind == LINE_BAD)
		b->ninvalid++;
	if (s->kind == LINE_RESULT) {
		b->nvalid++;
		b->worst = gate_worse(b->worst, s->status);
	}
	if (s->kind != LINE_RESULT || s->status == VERDICT_INCONCLUSIVE)
		b->errors++;
}

/*
 * Lines leave at once, each whole (the stream is given whole lines, and
 * the signals restart an interrupted write); a failed write stops the
 * reading, and output_stream_finish() names it at the end.
 */
static void
flush_output(struct batch *b)
{
	if (b->write_failed || (fflush(b->out_fp) == 0 && !ferror(b->out_fp)))
		return;
	if (b->opt->resume != NULL)
		error("cannot write '%s': %s", b->out_name, strerror(errno));
	else
		error("cannot write standard output: %s", strerror(errno));
	b->write_failed = true;
}

/* Writes every finished line whose turn has come. */
static void
flush_ready(struct batch *b)
{
	bool any = false;

	/* an exit for want of a resource waits for the lines being written */
	output_begin();
	while (b->write_seq < b->next_seq) {
		struct slot *s = &b->ring[b->write_seq % b->window];
		struct output_item *out = NULL;

		pthread_mutex_lock(&b->lock);
		if (s->state == SLOT_READY) {
			out = s->out;
			s->out = NULL;
			s->state = SLOT_FREE;
		}
		pthread_mutex_unlock(&b->lock);
		if (out == NULL)
			break;
		emit(b, s, out);
		b->write_seq++;
		any = true;
	}
	if (any)
		flush_output(b);
	output_end();
}

/* A second signal: every line taken and not written goes out now, finished or interrupted. */
static void
abandon(struct batch *b)
{
	char msg[128];

	snprintf(msg, sizeof(msg), "not finished: the run was stopped by %s",
	    signal_name(sig_first));
	pthread_mutex_lock(&b->lock);
	b->discard = true;
	pthread_mutex_unlock(&b->lock);
	for (; b->write_seq < b->next_seq && sig_count < 3; b->write_seq++) {
		struct slot *s = &b->ring[b->write_seq % b->window];
		struct output_item *out;

		pthread_mutex_lock(&b->lock);
		out = s->out;
		s->out = NULL;
		pthread_mutex_unlock(&b->lock);
		if (out == NULL) {
			s->kind = LINE_INTERRUPTED;
			out = output_stream_render_interrupted(b->out, s->line, msg);
		}
		output_begin();
		emit(b, s, out);
		flush_output(b);
		output_end();
	}
}

/* The runner's callback, on a worker: the line is formatted there, written by the loop. */
static void
target_done(void *arg, struct run_result *res)
{
	struct slot *s = arg;
	struct batch *b = s->b;
	struct output_item *out = output_stream_render(b->out, res, s->line);

	target_release(&s->t);
	pthread_mutex_lock(&b->lock);
	b->inflight--;
	if (b->discard) {
		output_item_free(out);
	} else {
		s->out = out;
		s->status = res->verdict.status;
		s->state = SLOT_READY;
	}
	pthread_mutex_unlock(&b->lock);
	wake(b);
}

/* A line that is no target: named on standard error (the first few), its error line ready at once. */
static void
take_bad(struct batch *b, struct slot *s, const char *why)
{
	struct output_item *out = output_stream_render_error(b->out, s->line, why);
	char *safe;

	s->kind = LINE_BAD;
	pthread_mutex_lock(&b->lock);
	s->out = out;
	s->state = SLOT_READY;
	pthread_mutex_unlock(&b->lock);
	if (++b->shown_invalid > INVALID_SHOWN) {
		if (b->shown_invalid == INVALID_SHOWN + 1)
			error("--batch: more lines are not targets; they are counted at the end");
		return;
	}
	safe = text_term_escape(why, strlen(why));
	error("--batch: line %ld is not a target: %s", s->line, safe);
	free(safe);
}

/* Takes one input line: skips it (another shard's, or answered), or gives it a slot and starts it. */
static void
take_line(struct batch *b, const struct line *ln)
{
	struct error err = { "" };
	struct slot *s;
	size_t len = ln->len;
	char msg[128];

	if (!in_shard(b, ln->no) || lineset_has(&b->answered, ln->no))
		return;
	s = &b->ring[b->next_seq++ % b->window];
	s->line = ln->no;
	s->kind = LINE_RESULT;
	s->status = VERDICT_CLEAN;
	if (ln->toolong) {
		snprintf(msg, sizeof(msg), "line %ld is longer than %zu bytes, the limit of a line",
		    ln->no, b->in.max);
		take_bad(b, s, msg);
		return;
	}
	while (len > 0 && (ln->text[len - 1] == '\r' || ln->text[len - 1] == '\n'))
		len--;
	target_init(&s->t);
	if (batch_parse_line(ln->text, len, &s->t, &err) < 0) {
		target_release(&s->t);
		take_bad(b, s, err.msg);
		return;
	}
	pthread_mutex_lock(&b->lock);
	s->state = SLOT_RUNNING;
	b->inflight++;
	pthread_mutex_unlock(&b->lock);
	/* under rate caps, targets start at the pace the caps allow */
	dns_engine_admit(b->eng);
	runner_submit(b->r, b->eng, &s->t, b->opt->timeout_ms, target_done, s);
}

static bool
has_room(struct batch *b)
{
	bool room;

	pthread_mutex_lock(&b->lock);
	room = b->inflight < b->opt->jobs;
	pthread_mutex_unlock(&b->lock);
	return room && b->next_seq - b->write_seq < b->window;
}

/* Takes the lines in the buffer while there is room; true when it needs more input. */
static bool
take_lines(struct batch *b)
{
	struct line ln;
	int rc;

	while (has_room(b)) {
		if ((rc = reader_line(&b->in, &ln)) == 1) {
			take_line(b, &ln);
			continue;
		}
		b->input_done = rc < 0;
		return rc == 0;
	}
	return false;
}

/* Waits up to a tick for news: a target done, a signal, input. */
static void
wait_news(struct batch *b, bool want_input)
{
	struct pollfd pfd[2] = { { b->wake[0], POLLIN, 0 }, { b->in.fd, POLLIN, 0 } };
	char drain[256];

	if (poll(pfd, want_input ? 2 : 1, TICK_MS) <= 0)
		return;
	while (read(b->wake[0], drain, sizeof(drain)) > 0)
		continue;
	if (want_input && pfd[1].revents != 0 && reader_fill(&b->in) < 0) {
		error("--batch: cannot read '%s': %s", b->in_name, strerror(b->in.error));
		b->read_failed = true;
	}
}

/* A signal, a failed read or write: no more input, the targets in flight still finish. */
static void
note_stop(struct batch *b)
{
	size_t inflight;

	if (b->stopping || (sig_count == 0 && !b->write_failed && !b->read_failed))
		return;
	b->stopping = true;
	if (sig_count == 0)
		return;
	pthread_mutex_lock(&b->lock);
	inflight = b->inflight;
	pthread_mutex_unlock(&b->lock);
	progress(b, true);
	fprintf(stderr, "why550: %s: stopping after input line %ld; finishing the %zu target%s "
	    "in flight (a second signal writes them as interrupted)\n", signal_name(sig_first),
	    b->in.lineno, inflight, inflight == 1 ? "" : "s");
}

/* Reads, runs and writes until the input ends or a stop, then until every line taken is written. */
static void
batch_loop(struct batch *b)
{
	bool want_input;

	for (;;) {
		flush_ready(b);
		if (sig_count >= 2) {
			abandon(b);
			return;
		}
		note_stop(b);
		want_input = !b->stopping && take_lines(b);
		if ((b->stopping || b->input_done) && b->write_seq == b->next_seq)
			return;
		wait_news(b, want_input);
		/* the deadlines hold even when every worker is busy: a tick is soon enough */
		if (now_ms() - b->expired >= TICK_MS) {
			runner_expire(b->r);
			b->expired = now_ms();
		}
		progress(b, false);
	}
}

/* Counts an earlier output's line a: skipped this time, and part of the exit code. */
static void
count_answer(struct batch *b, const struct batch_answer *a)
{
	/* an interrupted line is asked again: its new line comes later in the file */
	if (a->kind == BATCH_ANSWER_INTERRUPTED)
		return;
	lineset_add(&b->answered, a->line);
	if (a->kind == BATCH_ANSWER_BAD_INPUT)
		b->ninvalid++;
	if (a->kind == BATCH_ANSWER_RESULT) {
		b->nvalid++;
		if (a->has_status)
			b->worst = gate_worse(b->worst, a->status);
	}
}

/* Reads the whole lines of the resumed output at fd (path: its name, quoted); cuts a last line without its newline. */
static int
read_answers(struct batch *b, int fd, const char *path, struct error *err)
{
	struct batch_answer a;
	struct reader rd;
	struct line ln;
	char why[128];
	int rc, ret = -1;

	reader_init(&rd, fd, RESUME_LINE_MAX);
	for (;;) {
		if ((rc = reader_line(&rd, &ln)) == 0) {
			if (reader_fill(&rd) < 0) {
				error_set(err, "--resume: cannot read '%s': %s", path,
				    strerror(rd.error));
				goto out;
			}
			continue;
		}
		if (rc < 0 || !ln.whole)
			break;
		if (ln.toolong || batch_scan_answer(ln.text, ln.len, &a, why, sizeof(why)) < 0) {
			error_set(err, "--resume: '%s' line %ld is not a line of why550's batch output: %s",
			    path, ln.no, ln.toolong ? "too long" : why);
			goto out;
		}
		count_answer(b, &a);
	}
	if (rc > 0) {
		/* a run killed in the middle of a line: the line is asked again */
		if (ftruncate(fd, rd.consumed) < 0) {
			error_set(err, "--resume: cannot cut the unfinished last line of '%s': %s",
			    path, strerror(errno));
			goto out;
		}
		error("--resume: '%s': its last line was unfinished; it is cut off and asked again",
		    path);
	}
	ret = 0;
out:
	reader_release(&rd);
	return ret;
}

/*
 * The output: the caller's stream (on standard output), else NDJSON on
 * standard output; with resume, NDJSON appended to the resumed file once
 * its answers are read.
 */
static int
open_output(struct batch *b, struct error *err)
{
	struct output_options nd = { .format = OUTPUT_JSON, .batch = true,
	    .fail_on = b->opt->fail_on, .detail = b->opt->detail };
	const char *path = b->opt->resume, *name = b->out_name;
	struct stat sb;
	int fd;

	b->out_fp = stdout;
	if (path == NULL && b->opt->out != NULL) {
		b->out = b->opt->out;
		return 0;
	}
	if (path != NULL) {
		fd = open(path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
		if (fd < 0) {
			resource_check(errno, "--resume: cannot open '%s'", name);
			return error_set(err, "--resume: cannot open '%s': %s", name,
			    strerror(errno));
		}
		if (fstat(fd, &sb) < 0 || !S_ISREG(sb.st_mode)) {
			close(fd);
			return error_set(err, "--resume: '%s' is not a regular file", name);
		}
		if (read_answers(b, fd, name, err) < 0 || (b->out_fp = fdopen(fd, "a")) == NULL) {
			if (err->msg[0] == '\0')
				error_set(err, "--resume: cannot write to '%s': %s", name,
				    strerror(errno));
			close(fd);
			b->out_fp = NULL;
			return -1;
		}
	}
	if ((b->out = b->own = output_stream_new(&nd, b->out_fp, err)) == NULL)
		return -1;
	return 0;
}

/* The number of lines to take, when the input is a regular file; else -1. */
static long
count_total(const struct batch *b)
{
	char buf[READ_CHUNK];
	struct stat sb;
	off_t pos = lseek(b->in.fd, 0, SEEK_CUR);
	long n = 0, total = 0, k;
	ssize_t got;
	bool partial = false;

	if (pos < 0 || fstat(b->in.fd, &sb) < 0 || !S_ISREG(sb.st_mode))
		return -1;
	while ((got = pread(b->in.fd, buf, sizeof(buf), pos)) > 0) {
		for (k = 0; k < got; k++)
			n += buf[k] == '\n';
		partial = buf[got - 1] != '\n';
		pos += got;
	}
	if (got < 0)
		return -1;
	n += partial;
	for (k = 1; k <= n; k++)
		total += in_shard(b, k) && !lineset_has(&b->answered, k);
	return total;
}

/* Catches the stop signals on the calling thread (the workers keep them blocked). */
static void
signals_catch(struct sigaction *old, sigset_t *oldmask)
{
	struct sigaction sa;
	sigset_t set;
	size_t i;

	sig_first = sig_count = 0;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	/* a write cut by a signal goes on: the output's lines stay whole (poll still wakes) */
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	sigemptyset(&set);
	for (i = 0; i < ARRAY_SIZE(stop_signals); i++) {
		sigaction(stop_signals[i], &sa, &old[i]);
		sigaddset(&set, stop_signals[i]);
	}
	pthread_sigmask(SIG_UNBLOCK, &set, oldmask);
}

static void
signals_restore(const struct sigaction *old, const sigset_t *oldmask)
{
	size_t i;

	pthread_sigmask(SIG_SETMASK, oldmask, NULL);
	for (i = 0; i < ARRAY_SIZE(stop_signals); i++)
		sigaction(stop_signals[i], &old[i], NULL);
	sig_wake_fd = -1;
}

/* Starts the workers with the stop signals blocked, so that they inherit the mask. */
static int
start_workers(struct batch *b)
{
	struct error err = { "" };
	sigset_t set, old;
	size_t want = runner_pool_size(b->r, b->opt->jobs), got;
	size_t i;
	int rc;

	sigemptyset(&set);
	for (i = 0; i < ARRAY_SIZE(stop_signals); i++)
		sigaddset(&set, stop_signals[i]);
	pthread_sigmask(SIG_BLOCK, &set, &old);
	rc = runner_start(b->r, want, &got, &err);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc < 0)
		return error("%s", err.msg);
	if (got < want && err.msg[0] != '\0')
		error("warning: %s; going on with %zu", err.msg, got);
	return 0;
}

/* The exit code of a run that went to its end or was stopped. */
static int
exit_code(const struct batch *b)
{
	if (b->write_failed || b->read_failed)
		return EXIT_IOERR;
	if (sig_first != 0)
		return 128 + sig_first;
	if (b->ninvalid > 0 && (b->nvalid == 0 || b->opt->strict_input))
		return EXIT_USAGE;
	return gate_exit_code(b->worst, b->opt->fail_on);
}

/* Completes the output (what a format writes last) and says what went wrong, once. */
static void
finish_output(struct batch *b)
{
	struct error err = { "" };
	bool failed;

	output_begin();
	failed = output_stream_finish(b->out, &err) < 0;
	output_end();
	/* a failure flush_output() has named already is not named again */
	if (failed && !b->write_failed) {
		if (b->opt->resume != NULL)
			error("%s (the output is '%s')", err.msg, b->out_name);
		else
			error("%s", err.msg);
		b->write_failed = true;
	}
	if (b->ninvalid > 0)
		error("--batch: %ld of %ld lines %s not a target", b->ninvalid,
		    b->ninvalid + b->nvalid, b->ninvalid == 1 ? "was" : "were");
}

static void
batch_free(struct batch *b)
{
	if (b->in.fd >= 0 && b->in.fd != STDIN_FILENO)
		close(b->in.fd);
	reader_release(&b->in);
	output_stream_free(b->own);
	if (b->out_fp != NULL && b->out_fp != stdout)
		fclose(b->out_fp);
	if (b->wake[0] >= 0) {
		close(b->wake[0]);
		close(b->wake[1]);
	}
	free(b->answered.v);
	free(b->ring);
	pthread_mutex_destroy(&b->lock);
	free(b);
}

/* Opens the input, then the output (reading the resumed answers); 64 with the problem printed. */
static int
batch_open(struct batch *b)
{
	struct error err = { "" };
	const char *path = b->opt->path;
	int fd = strcmp(path, "-") == 0 ? STDIN_FILENO : open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0) {
		resource_check(errno, "--batch: cannot open '%s'", b->in_name);
		return error("--batch: cannot read '%s': %s", b->in_name, strerror(errno));
	}
	reader_init(&b->in, fd, b->opt->max_line != 0 ? b->opt->max_line : BATCH_LINE_MAX);
	if (open_output(b, &err) < 0)
		return error("%s", err.msg);
	if (pipe(b->wake) < 0) {
		resource_check(errno, "--batch: cannot create a pipe");
		return error("--batch: cannot create a pipe: %s", strerror(errno));
	}
	/* the signal handler and the workers must never block on it */
	fcntl(b->wake[0], F_SETFL, O_NONBLOCK);
	fcntl(b->wake[1], F_SETFL, O_NONBLOCK);
	fcntl(b->wake[0], F_SETFD, FD_CLOEXEC);
	fcntl(b->wake[1], F_SETFD, FD_CLOEXEC);
	return 0;
}

int
batch_run(struct runner *r, struct dns_engine *eng, const struct batch_options *opt,
    bool *abandoned)
{
	struct batch *b = xcalloc(1, sizeof(*b));
	struct sigaction old[ARRAY_SIZE(stop_signals)];
	sigset_t oldmask;
	int ret;

	*abandoned = false;
	b->r = r;
	b->eng = eng;
	b->opt = opt;
	text_quote(b->in_name, sizeof(b->in_name), opt->path, strlen(opt->path), SHOW_PATH);
	if (opt->resume != NULL)
		text_quote(b->out_name, sizeof(b->out_name), opt->resume, strlen(opt->resume),
		    SHOW_PATH);
	b->in.fd = b->wake[0] = b->wake[1] = -1;
	b->window = opt->jobs * 4;
	b->ring = xcalloc(b->window, sizeof(*b->ring));
	for (size_t i = 0; i < b->window; i++)
		b->ring[i].b = b;
	pthread_mutex_init(&b->lock, NULL);
	if (batch_open(b) < 0) {
		ret = EXIT_USAGE;
		goto out;
	}
	if (start_workers(b) < 0) {
		ret = EXIT_OSERR;
		goto out;
	}
	b->total = opt->progress ? count_total(b) : -1;
	b->started = now_ms();
	sig_wake_fd = b->wake[1];
	signals_catch(old, &oldmask);
	batch_loop(b);
	signals_restore(old, &oldmask);
	progress(b, true);
	finish_output(b);
	ret = exit_code(b);
	if (b->discard) {
		/* targets still run on the workers and will call back into b: leave it be */
		*abandoned = true;
		return ret;
	}
out:
	batch_free(b);
	return ret;
}
