/*
 * One probe session with one address of an MX host: banner, EHLO (HELO
 * when EHLO is refused), STARTTLS when offered, MAIL FROM, RCPT TO, then
 * RSET and QUIT; never DATA. Every reply is kept as received. Each stage
 * has its own time limit, and none runs past the plan's deadline.
 */
#ifndef WHY550_SMTP_SESSION_H
#define WHY550_SMTP_SESSION_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "checks/smtp/conn.h"
#include "checks/smtp/reply.h"
#include "checks/smtp/tls.h"

/* Where a session is; the order is the order of the dialogue. */
enum smtp_stage {
	SMTP_STAGE_CONNECT = 0,
	SMTP_STAGE_BANNER,
	SMTP_STAGE_EHLO,
	SMTP_STAGE_HELO,
	SMTP_STAGE_STARTTLS,
	SMTP_STAGE_TLS,		/* the handshake */
	SMTP_STAGE_MAIL,
	SMTP_STAGE_RCPT,
	SMTP_STAGE_RSET,
	SMTP_STAGE_QUIT,
};

/* "connect", "banner", "ehlo", "helo", "starttls", "tls", "mail", "rcpt", "rset", "quit". */
const char *smtp_stage_name(enum smtp_stage st);

/* How a session ended. */
enum smtp_outcome {
	SMTP_OUT_ACCEPTED = 0,	/* RCPT TO got a 2xx */
	SMTP_OUT_REJECTED,	/* a 5xx at the stage it ended */
	SMTP_OUT_DEFERRED,	/* a 4xx at the stage it ended */
	SMTP_OUT_FAILED,	/* no reply decided it: io says what happened */
};

/* "accepted", "rejected", "deferred", "failed". */
const char *smtp_outcome_name(enum smtp_outcome o);

/* What became of STARTTLS in a session. */
enum smtp_starttls {
	SMTP_STARTTLS_NOT_OFFERED = 0,	/* the EHLO reply does not offer it */
	SMTP_STARTTLS_SKIPPED,		/* offered, not tried (configured off, or a retry in clear) */
	SMTP_STARTTLS_OK,		/* the handshake succeeded */
	SMTP_STARTTLS_REFUSED,		/* the server answered STARTTLS with an error */
	SMTP_STARTTLS_FAILED,		/* the handshake failed */
};

/* "not_offered", "skipped", "ok", "refused", "failed". */
const char *smtp_starttls_name(enum smtp_starttls st);

/* What to do in one session. Strings are borrowed. */
struct smtp_plan {
	const char *host;		/* the MX name: SNI and the certificate's name */
	struct smtp_addr addr;		/* connect to this address */
	int port;
	const struct smtp_addr *src;	/* from this address; NULL: the kernel's choice */
	/*
	 * The EHLO name, or NULL to ask helo_name() with the local address
	 * the connection got (it returns a fresh string).
	 */
	const char *helo;
	char *(*helo_name)(const struct smtp_addr *local, void *arg);
	void *helo_arg;
	const char *mail_from;		/* the reverse-path inside <>; "" for <> */
	const char *rcpt_to;		/* the forward-path inside <> */
	bool starttls;			/* use STARTTLS when offered */
	const struct smtp_tls_ctx *tls;
	int connect_ms, banner_ms, command_ms, tls_ms;	/* per stage */
	int64_t deadline;		/* now_ms() time no stage passes */
};

/* One command and its reply (or the banner, with no command). */
struct smtp_exchange {
	enum smtp_stage stage;
	char *command;			/* the line sent, NULL for the banner */
	bool tls;			/* over TLS */
	bool replied;			/* reply holds a whole reply */
	struct smtp_reply reply;
	int ms;				/* from sending to the whole reply */
};

struct smtp_session {
	char *host;
	struct smtp_addr addr;
	int port;
	struct smtp_addr local;		/* where the connection came from */
	bool connected;
	char *helo;			/* the name sent, or NULL */
	struct smtp_exchange *ex;
	size_t nex;
	char **extensions;		/* EHLO keywords, upper case, of the last EHLO */
	size_t nextensions;
	enum smtp_starttls starttls;
	struct smtp_tls_info tls;	/* when starttls is ok or failed */
	enum smtp_outcome outcome;
	enum smtp_stage stage;		/* where it ended */
	enum smtp_io io;		/* ok unless outcome is failed */
	char error[200];		/* what failed, "" when nothing did */
	bool deadline;			/* the plan's deadline cut it */
	bool got_421;			/* the server said 421: it closes, come back later */
	int duration_ms;
};

/*
 * Runs the session p describes into s (release it). Blocks on the
 * network at most until p->deadline; asks no DNS itself (helo_name may).
 * Cannot fail: what happened is in s.
 */
void smtp_session_run(const struct smtp_plan *p, struct smtp_session *s);
void smtp_session_release(struct smtp_session *s);

/* The reply that decided the outcome (the last whole reply before RSET), or NULL. */
const struct smtp_exchange *smtp_session_final(const struct smtp_session *s);

/*
 * A fresh object: {host, address, port, source, helo, outcome, stage, io,
 * error, deadline, duration_ms, extensions, starttls, tls, replies:
 * [{stage, command, tls, code, enhanced, reply, ms}]}. Reply bytes are
 * kept verbatim, made valid UTF-8.
 */
json_t *smtp_session_json(const struct smtp_session *s);

#endif
