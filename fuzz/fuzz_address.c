/* libFuzzer harness for target validation and the DNS name helpers: any bytes as every input. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dns/dns.h"
#include "core/target.h"
#include "core/net.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_names(const char *s)
{
	struct dns_server srv;
	unsigned char addr[16];
	char out[300], why[128];
	size_t n;
	int family;

	if (net_ip_parse(s, &family, addr) == 0 && family != AF_INET && family != AF_INET6)
		abort();
	if (dns_reverse_name(s, NULL, true, out, sizeof(out)) == 0) {
		n = strlen(out);
		if (n == 0 || out[n - 1] == '.')
			abort();
	}
	(void)dns_reverse_name("192.0.2.1", s, false, out, sizeof(out));
	(void)dns_reverse_name("2001:db8::1", s, true, out, 40);
	if (net_name_check(s, false, why, sizeof(why)) == 0) {
		n = strlen(s);
		if (n == 0 || n > 254)
			abort();
	}
	(void)net_name_check(s, true, why, sizeof(why));
	if (dns_server_parse(s, &srv) == 0 && (srv.label[0] == '\0' || srv.addrlen == 0))
		abort();
}

static void
check_target(const char *s)
{
	struct target t;
	struct error err;
	char why[128];
	char *local = NULL, *domain = NULL;
	size_t n;

	if (address_split(s, &local, &domain, why, sizeof(why)) == 0) {
		if (local[0] == '\0' || domain[0] == '\0')
			abort();
		free(local);
		free(domain);
	}
	target_init(&t);
	(void)target_set_ip(&t, "ip", s, &err);
	(void)target_set_helo(&t, "helo", s, &err);
	if (target_set_mail_from(&t, "from", s, &err) == 0 &&
	    (t.null_sender != (t.mail_domain == NULL) ||
	    (!t.null_sender && t.mail_domain[0] == '\0')))
		abort();
	/* what is kept is what an SMTP command can carry: no control character */
	for (n = 0; t.helo != NULL && t.helo[n] != '\0'; n++)
		if ((unsigned char)t.helo[n] < 0x20 || t.helo[n] == 0x7f)
			abort();
	if (target_set_rcpt_to(&t, "to", s, &err) == 0 && t.rcpt_domain == NULL)
		abort();
	(void)target_add_selector(&t, "selector", s, &err);
	/* "@..." would read a file named by the input. */
	if (s[0] != '@')
		(void)target_set_bounce(&t, "bounce", s, &err);
	target_release(&t);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	if (s == NULL)
		abort();
	memcpy(s, data, size);
	s[size] = '\0';
	check_names(s);
	check_target(s);
	free(s);
	return 0;
}
