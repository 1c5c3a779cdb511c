/*
 * SMTP replies as a client reads them (RFC 5321 4.2): one or more lines
 * "NNN-text" ending with "NNN text" or "NNN", each ended by CRLF, with the
 * enhanced status code of RFC 2034 / RFC 3463 at the start of the text.
 * A pure parser of untrusted bytes: no I/O, no allocation for an error.
 */
#ifndef WHY550_SMTP_REPLY_H
#define WHY550_SMTP_REPLY_H

#include <stdbool.h>
#include <stddef.h>

/*
 * RFC 5321 4.5.3.1.5 limits a reply line to 512 octets with its CRLF;
 * real servers exceed it (long policy texts), so lines up to
 * SMTP_LINE_MAX are read, and longer ones make the reply malformed.
 */
#define SMTP_LINE_MAX		2048
/* Lines of one reply (a long EHLO list or a chatty banner is far below). */
#define SMTP_REPLY_MAX_LINES	100

struct smtp_reply {
	int code;		/* 200..559 */
	char enhanced[16];	/* of the first line ("5.7.1"), its class that of code; "" if none */
	char *text;		/* each line after its code and separator, joined with "\n"; raw bytes */
	size_t textlen;
	char *raw;		/* the whole reply as received, CRLFs included; raw bytes */
	size_t rawlen;
	size_t nlines;
};

/*
 * Reads one reply from the start of the len bytes at buf.
 * 1: a whole reply, in out (release it with smtp_reply_release), *used set
 *    to the bytes it took: the next reply starts there.
 * 0: the bytes so far are a valid beginning; read more and call again with
 *    all of them. out is untouched.
 * -1: not a reply (a line without a code, a code out of range, lines with
 *    different codes, a line over SMTP_LINE_MAX, over SMTP_REPLY_MAX_LINES
 *    lines); why says which. out is untouched.
 * A line ends with LF, CRLF or not; a bare LF is accepted, as most clients do.
 */
int smtp_reply_parse(const char *buf, size_t len, struct smtp_reply *out, size_t *used,
    char *why, size_t whylen);

void smtp_reply_release(struct smtp_reply *r);

/* The class of a reply code: 2 success, 3 intermediate, 4 transient, 5 permanent. */
int smtp_reply_class(const struct smtp_reply *r);

/*
 * The RFC 1869 keywords of an EHLO reply: every line after the first,
 * its first word in upper case ("SIZE 10240000" gives "SIZE"). Calls fn
 * for each line with the keyword and the whole line (raw bytes, without
 * CRLF). Lines that do not start with a keyword (RFC 5321 4.1.1.1:
 * ALPHA / DIGIT then ALPHA / DIGIT / "-") are skipped.
 */
void smtp_reply_ehlo_keywords(const struct smtp_reply *r,
    void (*fn)(const char *keyword, const char *line, size_t linelen, void *arg), void *arg);

#endif
