/* The names of the cause codes and confidences, both ways. */
#include "core/cause.h"

#include "core/util.h"

static const char *const cause_names[CAUSE_END] = {
	[CAUSE_NONE] = NULL,
	[CAUSE_IP_BLOCKLISTED] = "ip_blocklisted",
	[CAUSE_DOMAIN_BLOCKLISTED] = "domain_blocklisted",
	[CAUSE_RDNS_MISSING] = "rdns_missing",
	[CAUSE_HELO_INVALID] = "helo_invalid",
	[CAUSE_SPF_FAIL] = "spf_fail",
	[CAUSE_DKIM_FAIL] = "dkim_fail",
	[CAUSE_DMARC_FAIL] = "dmarc_fail",
	[CAUSE_UNAUTHENTICATED] = "unauthenticated",
	[CAUSE_SENDER_DOMAIN_INVALID] = "sender_domain_invalid",
	[CAUSE_SENDER_VERIFY_FAILED] = "sender_verify_failed",
	[CAUSE_RECIPIENT_UNKNOWN] = "recipient_unknown",
	[CAUSE_RECIPIENT_DISABLED] = "recipient_disabled",
	[CAUSE_MAILBOX_FULL] = "mailbox_full",
	[CAUSE_RELAY_DENIED] = "relay_denied",
	[CAUSE_CONTENT_REJECTED] = "content_rejected",
	[CAUSE_MESSAGE_TOO_LARGE] = "message_too_large",
	[CAUSE_RATE_LIMITED] = "rate_limited",
	[CAUSE_GREYLISTED] = "greylisted",
	[CAUSE_POLICY_OTHER] = "policy_other",
	[CAUSE_SPF_LOOKUPS_NEAR_LIMIT] = "spf_lookups_near_limit",
	[CAUSE_DKIM_KEY_WEAK] = "dkim_key_weak",
	[CAUSE_RDNS_GENERIC] = "rdns_generic",
	[CAUSE_RECORD_STYLE] = "record_style",
	[CAUSE_DEFERRED] = "deferred",
	[CAUSE_RECIPIENT_SERVER_DOWN] = "recipient_server_down",
	[CAUSE_PORT25_BLOCKED] = "port25_blocked",
	[CAUSE_CONNECTION_BLOCKED] = "connection_blocked",
};

static const char *const confidence_names[] = {
	[CONF_LOW] = "low",
	[CONF_MEDIUM] = "medium",
	[CONF_HIGH] = "high",
};

const char *
cause_name(enum cause_code c)
{
	if ((int)c <= CAUSE_NONE || c >= CAUSE_END)
		return NULL;
	return cause_names[c];
}

int
cause_parse(const char *s, enum cause_code *out)
{
	int i = name_index(cause_names, ARRAY_SIZE(cause_names), s);

	if (i < 0)
		return -1;
	*out = (enum cause_code)i;
	return 0;
}

bool
cause_is_advice(enum cause_code c)
{
	switch (c) {
	case CAUSE_SPF_LOOKUPS_NEAR_LIMIT:
	case CAUSE_DKIM_KEY_WEAK:
	case CAUSE_RDNS_GENERIC:
	case CAUSE_RECORD_STYLE:
		return true;
	default:
		return false;
	}
}

const char *
confidence_name(enum confidence c)
{
	if ((int)c < CONF_LOW || c > CONF_HIGH)
		return confidence_names[CONF_LOW];
	return confidence_names[c];
}

int
confidence_parse(const char *s, enum confidence *out)
{
	int i = name_index(confidence_names, ARRAY_SIZE(confidence_names), s);

	if (i < 0)
		return -1;
	*out = (enum confidence)i;
	return 0;
}
