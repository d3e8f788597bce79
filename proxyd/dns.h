/*
 * dns.h - the DNS stub's message codec: read a query, write its answer.
 *
 * Pure code: no sockets, no allocation, no logging, no state; thread-safe.
 * The caller owns every buffer: the parser only reads msg[0..len) and
 * never past it, and fills the caller's struct dns_query; the builders
 * only write out[0..cap).  The struct holds no pointer into msg except
 * by offset (question_end), so msg may be freed after parsing once the
 * answer is built.
 *
 * A query comes in a UDP datagram, or over TCP behind a 2-byte length
 * (RFC 1035 4.2.2; dns_tcp_len() finds the message).  What a query may be
 * (RFC 1035, RFC 6891), and what we do with what it may not be:
 *  - a response (QR=1), or fewer than 12 bytes: never answered, so that
 *    two resolvers cannot be made to answer each other forever;
 *  - an opcode other than QUERY: only the header is read, and the
 *    answer is NOTIMP without a question;
 *  - QDCOUNT must be 1, ANCOUNT and NSCOUNT 0, ARCOUNT 0 or 1 and that
 *    record an OPT (EDNS) with the root as its name, version 0 and
 *    options that fill its RDATA exactly; no byte may follow the last
 *    record.  Anything else is FORMERR.  An EDNS version other than 0 is
 *    FORMERR too, not BADVERS: an answer the client understands either
 *    way, and one rcode fewer to carry.  TSIG and SIG(0) are FORMERR (a
 *    stub signs nothing);
 *  - the question's name: labels of 1-63 octets (the 0x40 and 0x80 label
 *    types are FORMERR), at most 255 octets on the wire.  A compression
 *    pointer must point back into an earlier part of the message, before
 *    the labels it continues and past the header; anything else (forward,
 *    into itself, a loop, into the header) is FORMERR.  In a query's only
 *    question that leaves no pointer legal, and none is ever sent;
 *  - a QTYPE of OPT is FORMERR (RFC 6891 6.1.1); every other type and
 *    class is the stub's to decide.
 */
#ifndef TG_DNS_H
#define TG_DNS_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define DNS_HDR_LEN 12
#define DNS_UDP_MAX 512 /* answer size without EDNS */
#define DNS_EDNS_MAX                                                           \
	1232 /* the largest answer we send over UDP with                       \
	      * EDNS (DNS flag day 2020), and the size our                     \
	      * OPT record offers */
#define DNS_MSG_MAX 65535
/* The longest name on the wire, its length octets and root included. */
#define DNS_NAME_WIRE_MAX 255
/* dns_query.name's size: a host name's text and its NUL. */
#define DNS_NAME_TEXT_MAX 254
/* The most an answer to a parsed query takes without its records: header,
 * question (name, type, class) and OPT record. */
#define DNS_ANSWER_MIN_MAX (DNS_HDR_LEN + DNS_NAME_WIRE_MAX + 4 + 11)

enum dns_type {
	DNS_T_A = 1,
	DNS_T_NS = 2,
	DNS_T_CNAME = 5,
	DNS_T_SOA = 6,
	DNS_T_PTR = 12,
	DNS_T_MX = 15,
	DNS_T_TXT = 16,
	DNS_T_AAAA = 28,
	DNS_T_SRV = 33,
	DNS_T_OPT = 41,
	DNS_T_SVCB = 64,
	DNS_T_HTTPS = 65,
	DNS_T_ANY = 255
};

#define DNS_CLASS_IN 1

enum dns_rcode {
	DNS_R_NOERROR = 0,
	DNS_R_FORMERR = 1,
	DNS_R_SERVFAIL = 2,
	DNS_R_NXDOMAIN = 3,
	DNS_R_NOTIMP = 4,
	DNS_R_REFUSED = 5
};

enum dns_parse {
	DNS_QUERY,   /* a query to answer with dns_build_answer() (NOTIMP
	              * when opcode is not 0) */
	DNS_FORMERR, /* a query's header, the rest malformed: answer
	              * dns_build_error(DNS_R_FORMERR); error says what */
	DNS_DROP,    /* fewer than 12 bytes, or a response (QR=1): answer
	              * nothing; error says which */
};

struct dns_query {
	uint16_t id;
	bool rd, cd;    /* flags echoed back */
	uint8_t opcode; /* 0 QUERY; for any other only the header was read
	                 * (name "", qtype 0, question_end 12): answer
	                 * NOTIMP */
	/*
	 * The QNAME as text: labels joined by '.', A-Z lowered, no trailing
	 * dot, "" for the root.  Every octet other than a-z, 0-9, '-' and '_'
	 * (so '.', '\\', upper case only after lowering, spaces, controls,
	 * 8-bit) is written \DDD, three decimal digits, as in a zone file:
	 * two different names never read the same.  A name whose text would
	 * not fit is FORMERR (only names with many escaped octets).
	 */
	char name[DNS_NAME_TEXT_MAX];
	bool name_ok; /* name is a host name by common/name.h's rules
	               * (name_normalise() leaves it as it is) */
	uint16_t qtype, qclass;
	bool edns;           /* an OPT record was present: then also */
	uint16_t edns_size;  /* its UDP payload size, as sent (see
	                      * dns_udp_size()) */
	bool edns_do;        /* DNSSEC OK, echoed in our OPT */
	size_t question_end; /* offset just past the question: an answer
	                      * copies msg[12..question_end) */
	const char *error;   /* DNS_FORMERR / DNS_DROP: what was wrong,
	                      * static text; NULL on DNS_QUERY */
};

/*
 * Parse a query message msg[0..len) into *q (all of it set, whatever the
 * result).
 * Returns:
 *  DNS_QUERY    one question was read (or opcode != 0: the header only);
 *               q->error is NULL;
 *  DNS_FORMERR  len >= 12 and QR=0, but the rest breaks a rule above: id,
 *               rd, cd and opcode are set, the question may not be;
 *  DNS_DROP     len < 12 or QR=1.
 * Every proper prefix of a DNS_QUERY message with opcode 0 is DNS_FORMERR
 * or DNS_DROP.
 */
enum dns_parse dns_parse_query(const uint8_t *msg, size_t len,
                               struct dns_query *q);

/* The most an answer to q may take over UDP: 512 without EDNS, else the
 * client's size within [512, DNS_EDNS_MAX] (RFC 6891 6.2.5). */
size_t dns_udp_size(const struct dns_query *q);

/*
 * One answer record.  Its owner is always the question's name, its class
 * IN.  Types: A (u.a), AAAA (u.aaaa), PTR and CNAME (u.name: text as in
 * dns_query.name, \DDD escapes read back, one trailing dot allowed).
 */
struct dns_rr {
	uint16_t type;
	uint32_t ttl;
	union {
		struct in_addr a;
		struct in6_addr aaaa;
		const char *name;
	} u;
};

/*
 * Build the response to q (parsed from msg, DNS_QUERY) into out[0..cap):
 * the header (id, QR=1, opcode, RD and CD echoed, RA=1, AA=0, AD=0,
 * rcode), the question copied from msg (none when opcode != 0), rr[0..n)
 * in the answer section (owner: a pointer to the question's name, 0xC00C),
 * no authority records, and an OPT record (size DNS_EDNS_MAX, version 0,
 * DO echoed) when q had one.  max_size is what the client takes:
 * dns_udp_size(q) over UDP, DNS_MSG_MAX over TCP.  When the whole
 * answer is longer than max_size or cap it is truncated (RFC 2181 9):
 * TC=1, no answer records, the OPT record kept.
 * Returns the length written, or 0 when even header, question and OPT do
 * not fit in the smaller of max_size and cap (never for a parsed query and
 * both at least DNS_ANSWER_MIN_MAX), when rr holds a type other than
 * those above or a name that is not one, when n > 0 and there is no
 * question to own the records, or when rcode > 15.
 */
size_t dns_build_answer(const struct dns_query *q, const uint8_t *msg,
                        enum dns_rcode rcode, const struct dns_rr *rr, size_t n,
                        size_t max_size, uint8_t *out, size_t cap);

/*
 * A header-only response to msg[0..len) (FORMERR after a DNS_FORMERR
 * parse, where the question may not be copyable): its id, QR=1, its
 * opcode, RD and CD, RA=1, rcode, all counts 0.  Returns 12, or 0 when
 * msg has no whole header or is itself a response (QR=1), cap < 12 or
 * rcode > 15.
 */
size_t dns_build_error(const uint8_t *msg, size_t len, enum dns_rcode rcode,
                       uint8_t *out, size_t cap);

/*
 * The address a reverse name stands for: "4.3.2.1.in-addr.arpa" is
 * AF_INET 1.2.3.4 (four decimal labels 0-255, no leading zero), the 32
 * nibble labels of "....ip6.arpa" an AF_INET6 address (RFC 3596); port 0.
 * name as in dns_query.name (lower case, no trailing dot).  Returns 0, or
 * -1 when name is not a whole such name (a zone like "2.1.in-addr.arpa"
 * is not).
 */
int dns_ptr_addr(const char *name, struct sockaddr_storage *out);

/*
 * TCP: the message at the front of buf[0..len), behind its 2-byte length.
 * Returns:
 *  DNS_TCP_NEED_MORE  buf does not yet hold the whole message (nor, with
 *                     len < 2, its length): read more and call again;
 *  DNS_TCP_INVALID    the length is below 12 (0 too): no DNS message, close
 *                     the connection;
 *  > 0                the framed length (2 + the message's length): the
 *                     message is buf[2..ret), the next one starts at ret.
 * Once a length is read the result depends on len only.
 */
#define DNS_TCP_NEED_MORE 0
#define DNS_TCP_INVALID   (-1)
int dns_tcp_len(const uint8_t *buf, size_t len);

/*
 * Whether resp[0..len), from dns_upstream, answers q, before it is relayed
 * to the client: same id and opcode, QR=1, exactly one question with the
 * same name (case aside), type and class.  The records after the question
 * are not looked at.  Returns 0, or -1 when it does not.
 */
int dns_response_matches(const struct dns_query *q, const uint8_t *resp,
                         size_t len);

#endif
