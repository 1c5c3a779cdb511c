/* One target: the inputs of one check run, validated. */
#ifndef WHY550_TARGET_H
#define WHY550_TARGET_H

#include <stdbool.h>
#include <stddef.h>

#include "core/util.h"

struct target {
	char *ip;		/* textual, canonical form; NULL if absent */
	int ip_family;		/* AF_INET / AF_INET6 (mapped v4 stays AF_INET6) */
	unsigned char ip_addr[16];
	char *helo;		/* as given: a name, an "[addr]" literal, or anything else
				   a client can greet with (checks diagnose it) */
	char *mail_from;	/* as given; "" for the null sender "<>" */
	bool null_sender;
	char *mail_local;	/* local part of mail_from as given (quotes and all);
				   NULL for a bare domain or "@domain" */
	char *mail_domain;	/* lower case, A-label form; NULL for the null sender.
				   May be no domain name ("[192.0.2.1]", "a..b"): a
				   check that asks DNS about it validates it first */
	char *rcpt_to;		/* as given */
	char *rcpt_domain;	/* lower case, NULL if rcpt_to absent */
	char *message_path;
	char *message;		/* the file's bytes, NUL-terminated */
	size_t message_len;
	char *bounce;		/* the bounce text, NUL-terminated */
	size_t bounce_len;	/* its bytes (a file may hold NUL bytes); 0: strlen(bounce) */
	char **selectors;
	size_t nselectors;
};

void target_init(struct target *t);
void target_release(struct target *t);

/*
 * Setters that validate: -1 with err naming the input and what is wrong
 * ("--ip: '1.2.3' is not an IPv4 or IPv6 address").
 * what is the name of the input for messages ("--ip", or a batch field "ip").
 * The HELO and the MAIL FROM take whatever a receiver can be sent in an
 * SMTP session (RFC 5321 4.1.1.1, 4.1.1.2): a malformed name or address is
 * kept for the checks to diagnose, as a receiver would; only what no SMTP
 * command can carry (a control character, an over-long line, an empty
 * HELO, an address with no domain or unbalanced brackets) is refused.
 */
int target_set_ip(struct target *t, const char *what, const char *ip, struct error *err);
int target_set_helo(struct target *t, const char *what, const char *helo, struct error *err);
int target_set_mail_from(struct target *t, const char *what, const char *from, struct error *err);
int target_set_rcpt_to(struct target *t, const char *what, const char *to, struct error *err);
/* Reads the message file. */
int target_set_message_file(struct target *t, const char *what, const char *path, struct error *err);
/* The same, "-" reading standard input (--message -). */
int target_set_message_arg(struct target *t, const char *what, const char *arg, struct error *err);
/* TEXT, or @FILE to read it from a file ("@-" reads standard input); a file's bytes are kept whole, NUL bytes too. */
int target_set_bounce(struct target *t, const char *what, const char *arg, struct error *err);
int target_add_selector(struct target *t, const char *what, const char *sel, struct error *err);

/*
 * Splits an address "local@domain" (angle brackets allowed around it):
 * local and domain are fresh strings. -1 with why when there is no '@' or
 * an empty side.
 */
int address_split(const char *addr, char **local, char **domain, char *why, size_t whylen);

#endif
