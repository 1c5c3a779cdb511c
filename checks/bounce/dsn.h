/*
 * A bounce as it arrives: a whole message (RFC 3464 multipart/report, a
 * human-readable non-delivery report, base64 or quoted-printable parts,
 * HTML) read into the text a person reads and the per-recipient fields of
 * its delivery status; anything else (a pasted reply, a log line) passes
 * through. GMime is used here only: no GMime type leaves checks/bounce/dsn.c.
 */
#ifndef WHY550_BOUNCE_DSN_H
#define WHY550_BOUNCE_DSN_H

#include <stdbool.h>
#include <stddef.h>

/* Bytes of a message that are read as MIME; a longer one is read as plain text. */
#define DSN_MAX_MESSAGE		(10 * 1024 * 1024)
/* Recipients kept from one report. */
#define DSN_MAX_RCPTS		32
/* Bytes kept of one field value. */
#define DSN_MAX_FIELD		4096

/* One per-recipient block of an RFC 3464 delivery status (section 2.3). */
struct dsn_rcpt {
	char *recipient;	/* Final-Recipient, else Original-Recipient, without its type; or NULL */
	char *action;		/* Action, lower case ("failed", "delayed", ...), or NULL */
	char *status;		/* Status as given ("5.1.1"), or NULL */
	char *remote_mta;	/* Remote-MTA without its type, or NULL */
	char *diagnostic;	/* Diagnostic-Code without its type ("smtp;"), unfolded, or NULL */
};

struct dsn {
	bool message;		/* the text is a mail message and was read as MIME */
	char *reporting_mta;	/* Reporting-MTA without its type, or NULL */
	struct dsn_rcpt *rcpts;
	size_t nrcpts;
	char *text;		/* message: the decoded text parts a person reads, HTML as text; else NULL */
	size_t len;		/* bytes of text */
};

/*
 * Reads len bytes (any bytes, NUL included) into d, which the caller
 * releases. A mail message (header fields first, among them one a message
 * has: From, Subject, Received, Content-Type, ...) is parsed as MIME: d->text
 * gets its text/plain and text/html parts decoded to UTF-8 (HTML as text),
 * and its message/delivery-status part gives d->rcpts; the returned original
 * message (message/rfc822, text/rfc822-headers) is not read. Other text is
 * only searched for delivery status fields (a pasted status block).
 * Cannot fail, does no I/O; safe from several threads.
 */
void dsn_read(const char *bytes, size_t len, struct dsn *d);
void dsn_release(struct dsn *d);

#endif
