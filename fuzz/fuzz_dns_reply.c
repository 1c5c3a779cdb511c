/* Fuzz harness: DNS replies from the network through the engine's reply parser. */
#include <stddef.h>
#include <stdint.h>

#include "dns/dns.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint16_t types[] = {
		DNS_T_A, DNS_T_AAAA, DNS_T_TXT, DNS_T_MX, DNS_T_PTR, DNS_T_CNAME, DNS_T_NS, DNS_T_SOA,
	};
	struct dns_result *res;
	size_t i;

	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		res = dns_reply_parse(data, size, "mail.example.test", types[i]);
		dns_result_free(res);
	}
	return 0;
}
