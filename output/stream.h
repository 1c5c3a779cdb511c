/*
 * The inside of an output stream (output/stream.c), shared by the formats
 * that render into it: each format is a struct output_format_ops, its items
 * hold one text per part, and the stream writes part 0 straight out or
 * keeps every part in its own spool until the format's finish writes the
 * document around them.
 */
#ifndef WHY550_OUTPUT_STREAM_H
#define WHY550_OUTPUT_STREAM_H

#include <stdbool.h>
#include <stdio.h>
#include <time.h>

#include <jansson.h>

#include "output/output.h"

#define OUTPUT_MAX_PARTS	16
#define OUTPUT_NSTATUS		4	/* the verdict statuses, counted by the stream */

struct output_item {
	char *part[OUTPUT_MAX_PARTS];	/* the text of each part, or NULL */
	bool bad_input;			/* an input line that was not a target */
	enum verdict_status status;	/* of the target */
	char *key;			/* when set, an item whose key came before is left out */
	long line;
};

/* What one part of every item adds up to: a temporary file, or memory for one target. */
struct output_spool {
	FILE *fp;
	char *mem;
	size_t memlen;
	bool used;		/* anything was written to it */
};

struct keyset;

struct output_stream {
	struct output_options opt;
	const struct output_format_ops *ops;
	FILE *out;
	struct output_spool spool[OUTPUT_MAX_PARTS];
	long count[OUTPUT_NSTATUS];	/* targets put, by verdict status */
	long nbad;			/* bad input lines put */
	long nleft_out;			/* items left out for a repeated key */
	int write_errno;		/* the first write error, 0 when none */
	const char *failed_output;	/* what could not be written: "standard output", a path */
	struct keyset *keys;
	char hostname[256];
};

struct output_format_ops {
	enum output_format format;
	size_t nparts;		/* parts an item may have, at most OUTPUT_MAX_PARTS */
	bool direct;		/* part 0 goes to the output when put; every other part is spooled */
	/* Both thread-safe, never NULL; see output_stream_render(). */
	struct output_item *(*render)(const struct output_stream *s, const struct run_result *res,
	    long line);
	struct output_item *(*render_error)(const struct output_stream *s, long line,
	    const char *msg);
	/* Writes the document around the spools at the end; may be NULL. */
	void (*finish)(struct output_stream *s);
};

extern const struct output_format_ops output_junit_ops;
extern const struct output_format_ops output_github_ops;
extern const struct output_format_ops output_openmetrics_ops;

/* A fresh empty item for input line line. */
struct output_item *output_item_new(long line);

/* Writes len bytes to the stream's output; a failure is remembered for output_stream_finish. */
void output_write(struct output_stream *s, const char *text, size_t len);
/* Remembers that writing to what (a name for the message) failed, with errno, unless an earlier failure is remembered. */
void output_write_failed(struct output_stream *s, const char *what);
/* Writes spool k (everything put into part k) to the output. */
void output_spool_copy(struct output_stream *s, size_t k);
/* Adds the first max lines of spool k to sb; *rest gets the number of lines after them. */
void output_spool_read_lines(struct output_stream *s, size_t k, size_t max, struct strbuf *sb,
    size_t *rest);

/*
 * Hostile text (from DNS, a bounce, an address) as printable UTF-8: control
 * characters, line breaks included, and invalid bytes become visible \xHH
 * escapes (core/textsafe.h). NULL gives "". Fresh string.
 */
char *output_safe(const char *s);

/*
 * The target's name in reports and labels: the IP, the HELO name, the
 * sender ("<>" for the null sender) and the recipient that were given,
 * joined by spaces, made safe as above; "bounce" or "message" for a target
 * that is only that. Fresh string.
 */
char *output_target_label(const struct target *t);

/* Adds one evidence item of a cause as "check/finding: message", made safe. */
void output_evidence_add(struct strbuf *sb, const json_t *ev);

/* True when an evidence item of c comes from the check called check. */
bool output_cause_cites(const struct cause *c, const char *check);

/* t as RFC 3339 UTC, "2024-05-01T12:00:00Z", or without the "Z" when zone is false. */
void output_time_utc(time_t t, bool zone, char *buf, size_t len);

#endif
