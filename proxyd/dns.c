/*
 * dns.c - the DNS stub's message codec; see dns.h.
 *
 * Offsets into a message are checked against its length before every
 * read; a name is read with a budget (its wire length) and pointers that
 * must go strictly backwards, so no input can make it loop.
 */
#include <string.h>

#include "common/hex.h"
#include "common/name.h"
#include "common/be.h"
#include "proxyd/dns.h"

#define DNS_LABEL_MAX 63
#define DNS_OPT_LEN   11 /* root name, type, class, TTL, RDLENGTH */
#define DNS_RR_FIXED  10 /* type, class, TTL, RDLENGTH */
#define DNS_PTR_QNAME 0xc00c

/* Header flags, in the 16 bits after the id. */
#define DNS_F_QR 0x8000
#define DNS_F_TC 0x0200
#define DNS_F_RD 0x0100
#define DNS_F_RA 0x0080
#define DNS_F_CD 0x0010
/* The OPT record's TTL: extended rcode, version, DO. */
#define DNS_EDNS_DO 0x8000

static void
dns_put32(uint8_t *p, uint32_t v)
{
	be16_put(p, v >> 16);
	be16_put(p + 2, v & 0xffff);
}

static bool
dns_plain_octet(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
	       c == '_';
}

/*
 * Append one label's octets to text[*t..cap) as dns.h describes.
 * Returns 0, or -1 when it does not fit with a NUL after it.
 */
static int
dns_label_text(const uint8_t *label, size_t n, char *text, size_t *t,
               size_t cap)
{
	size_t i;
	int c;

	if (*t > 0) {
		if (*t + 1 >= cap)
			return -1;
		text[(*t)++] = '.';
	}
	for (i = 0; i < n; i++) {
		c = label[i];
		if (c >= 'A' && c <= 'Z')
			c += 'a' - 'A';
		if (dns_plain_octet(c)) {
			if (*t + 1 >= cap)
				return -1;
			text[(*t)++] = (char)c;
			continue;
		}
		if (*t + 4 >= cap)
			return -1;
		text[(*t)++] = '\\';
		text[(*t)++] = (char)('0' + c / 100);
		text[(*t)++] = (char)('0' + c / 10 % 10);
		text[(*t)++] = (char)('0' + c % 10);
	}
	return 0;
}

/*
 * Read the name at msg[*off] into text[0..cap) and move *off past it (past
 * its first pointer, when it has one).  A pointer must land at or after
 * the header and before the labels it continues (seg), so every jump goes
 * lower than the last and the walk ends.
 * Returns NULL, or what is wrong (static text).
 */
static const char *
dns_read_name(const uint8_t *msg, size_t len, size_t *off, char *text,
              size_t cap)
{
	size_t pos, seg, end, wire, t, target;
	uint8_t c;

	pos = seg = *off;
	end = 0;
	wire = 0;
	t = 0;
	for (;;) {
		if (pos >= len)
			return "name runs past the message";
		c = msg[pos];
		if ((c & 0xc0) == 0xc0) {
			if (pos + 1 >= len)
				return "compression pointer cut short";
			target = (size_t)(c & 0x3f) << 8 | msg[pos + 1];
			if (end == 0)
				end = pos + 2;
			if (target < DNS_HDR_LEN)
				return "compression pointer into the header";
			if (target >= seg)
				return "compression pointer not backwards";
			pos = seg = target;
			continue;
		}
		if (c > DNS_LABEL_MAX)
			return "label longer than 63 octets";
		/* a label leaves room for the root's octet after it */
		wire += 1 + (size_t)c;
		if (wire + (c != 0) > DNS_NAME_WIRE_MAX)
			return "name longer than 255 octets";
		if (c == 0)
			break;
		if (c > len - pos - 1)
			return "label runs past the message";
		if (dns_label_text(msg + pos + 1, c, text, &t, cap) == -1)
			return "name too long as text";
		pos += 1 + (size_t)c;
	}
	text[t] = '\0';
	*off = end != 0 ? end : pos + 1;
	return NULL;
}

/*
 * Write a name given as text (dns.h) to out[0..cap) in wire form, no
 * compression.  Returns its length, or 0 when text is not a name or it
 * does not fit.
 */
static size_t
dns_write_name(const char *text, uint8_t *out, size_t cap)
{
	size_t len, lab, i, n;
	int v;

	n = strlen(text);
	if (n > 0 && text[n - 1] == '.')
		n--;
	len = 0;
	i = 0;
	while (i < n) {
		lab = len++; /* the length octet, filled at the label's end */
		while (i < n && text[i] != '.') {
			if (text[i] == '\\') {
				if (n - i < 4 || text[i + 1] < '0' ||
				    text[i + 1] > '9' || text[i + 2] < '0' ||
				    text[i + 2] > '9' || text[i + 3] < '0' ||
				    text[i + 3] > '9')
					return 0;
				v = (text[i + 1] - '0') * 100 +
				    (text[i + 2] - '0') * 10 + text[i + 3] -
				    '0';
				if (v > 255)
					return 0;
				i += 4;
			} else {
				v = (unsigned char)text[i++];
			}
			if (len >= cap || len - lab > DNS_LABEL_MAX)
				return 0;
			out[len++] = (uint8_t)v;
		}
		if (len - lab - 1 == 0 || lab >= cap)
			return 0;
		out[lab] = (uint8_t)(len - lab - 1);
		if (i < n && ++i == n)
			return 0; /* an empty label after a dot */
	}
	if (len >= cap || len + 1 > DNS_NAME_WIRE_MAX)
		return 0;
	out[len++] = 0;
	return len;
}

static enum dns_parse
dns_formerr(struct dns_query *q, const char *why)
{
	q->error = why;
	return DNS_FORMERR;
}

/* The OPT record at msg[off..len), which must end the message. */
static const char *
dns_parse_opt(const uint8_t *msg, size_t len, size_t off, struct dns_query *q)
{
	size_t rdlen, opt, olen;
	uint32_t ttl;
	uint16_t size;

	if (len - off < DNS_OPT_LEN)
		return "additional record cut short";
	if (msg[off] != 0 || be16_get(msg + off + 1) != DNS_T_OPT)
		return "additional record is not an OPT record";
	size = be16_get(msg + off + 3);
	ttl = (uint32_t)be16_get(msg + off + 5) << 16 | be16_get(msg + off + 7);
	rdlen = be16_get(msg + off + 9);
	off += DNS_OPT_LEN;
	if (rdlen != len - off)
		return rdlen > len - off ? "OPT record runs past the message"
		                         : "bytes after the OPT record";
	for (opt = off; opt < len; opt += 4 + olen) {
		if (len - opt < 4)
			return "EDNS option cut short";
		olen = be16_get(msg + opt + 2);
		if (olen > len - opt - 4)
			return "EDNS option runs past its record";
	}
	if ((ttl >> 16 & 0xff) != 0)
		return "EDNS version not 0";
	q->edns = true;
	q->edns_size = size;
	q->edns_do = (ttl & DNS_EDNS_DO) != 0;
	return NULL;
}

enum dns_parse
dns_parse_query(const uint8_t *msg, size_t len, struct dns_query *q)
{
	char copy[DNS_NAME_TEXT_MAX];
	const char *why;
	uint16_t flags, qdcount, arcount;
	size_t off;

	memset(q, 0, sizeof(*q));
	q->question_end = DNS_HDR_LEN;
	if (len < DNS_HDR_LEN) {
		q->error = "shorter than a DNS header";
		return DNS_DROP;
	}
	q->id = be16_get(msg);
	flags = be16_get(msg + 2);
	q->opcode = flags >> 11 & 0x0f;
	q->rd = (flags & DNS_F_RD) != 0;
	q->cd = (flags & DNS_F_CD) != 0;
	if (flags & DNS_F_QR) {
		q->error = "a response, not a query";
		return DNS_DROP;
	}
	if (q->opcode != 0)
		return DNS_QUERY;

	qdcount = be16_get(msg + 4);
	arcount = be16_get(msg + 10);
	if (qdcount == 0)
		return dns_formerr(q, "no question");
	if (qdcount > 1)
		return dns_formerr(q, "more than one question");
	if (be16_get(msg + 6) != 0 || be16_get(msg + 8) != 0)
		return dns_formerr(q, "answer or authority records in a query");
	if (arcount > 1)
		return dns_formerr(q, "more than one additional record");

	off = DNS_HDR_LEN;
	why = dns_read_name(msg, len, &off, q->name, sizeof(q->name));
	if (why != NULL)
		return dns_formerr(q, why);
	if (len - off < 4)
		return dns_formerr(q, "question cut short");
	q->qtype = be16_get(msg + off);
	q->qclass = be16_get(msg + off + 2);
	off += 4;
	if (q->qtype == DNS_T_OPT)
		return dns_formerr(q, "a question for an OPT record");
	if (arcount == 1) {
		if ((why = dns_parse_opt(msg, len, off, q)) != NULL)
			return dns_formerr(q, why);
	} else if (off != len) {
		return dns_formerr(q, "bytes after the question");
	}
	q->question_end = off;

	memcpy(copy, q->name, sizeof(copy));
	q->name_ok = name_normalise(copy) == 0 && strcmp(copy, q->name) == 0;
	return DNS_QUERY;
}

size_t
dns_udp_size(const struct dns_query *q)
{
	if (!q->edns || q->edns_size < DNS_UDP_MAX)
		return DNS_UDP_MAX;
	return q->edns_size > DNS_EDNS_MAX ? DNS_EDNS_MAX : q->edns_size;
}

static void
dns_put_header(uint8_t *out, uint16_t id, uint8_t opcode, bool tc, bool rd,
               bool cd, unsigned rcode)
{
	uint16_t flags;

	flags = DNS_F_QR | (uint16_t)(opcode << 11) | DNS_F_RA | rcode;
	if (tc)
		flags |= DNS_F_TC;
	if (rd)
		flags |= DNS_F_RD;
	if (cd)
		flags |= DNS_F_CD;
	memset(out, 0, DNS_HDR_LEN);
	be16_put(out, id);
	be16_put(out + 2, flags);
}

/*
 * rr's RDATA into out[0..cap) (cap at least a name's worth).  Returns its
 * length, or 0 when rr cannot be written.
 */
static size_t
dns_rdata(const struct dns_rr *rr, uint8_t *out, size_t cap)
{
	switch (rr->type) {
	case DNS_T_A:
		memcpy(out, &rr->u.a, 4);
		return 4;
	case DNS_T_AAAA:
		memcpy(out, &rr->u.aaaa, 16);
		return 16;
	case DNS_T_PTR:
	case DNS_T_CNAME:
		return rr->u.name == NULL
		           ? 0
		           : dns_write_name(rr->u.name, out, cap);
	default:
		return 0;
	}
}

size_t
dns_build_answer(const struct dns_query *q, const uint8_t *msg,
                 enum dns_rcode rcode, const struct dns_rr *rr, size_t n,
                 size_t max_size, uint8_t *out, size_t cap)
{
	uint8_t rdata[DNS_NAME_WIRE_MAX];
	size_t limit, qlen, optlen, pos, rdlen, i;
	bool tc;

	if ((unsigned)rcode > 15 || q->question_end < DNS_HDR_LEN)
		return 0;
	qlen = q->opcode == 0 ? q->question_end - DNS_HDR_LEN : 0;
	optlen = q->edns ? DNS_OPT_LEN : 0;
	limit = max_size < cap ? max_size : cap;
	if ((n > 0 && qlen == 0) || DNS_HDR_LEN + qlen + optlen > limit)
		return 0;
	memcpy(out + DNS_HDR_LEN, msg + DNS_HDR_LEN, qlen);
	pos = DNS_HDR_LEN + qlen;
	tc = false;
	for (i = 0; i < n; i++) {
		if ((rdlen = dns_rdata(&rr[i], rdata, sizeof(rdata))) == 0)
			return 0;
		if (tc || 2 + DNS_RR_FIXED + rdlen > limit - optlen - pos) {
			tc = true; /* go on: the other records must be sound */
			continue;
		}
		be16_put(out + pos, DNS_PTR_QNAME);
		be16_put(out + pos + 2, rr[i].type);
		be16_put(out + pos + 4, DNS_CLASS_IN);
		dns_put32(out + pos + 6, rr[i].ttl);
		be16_put(out + pos + 10, (uint16_t)rdlen);
		memcpy(out + pos + 12, rdata, rdlen);
		pos += 2 + DNS_RR_FIXED + rdlen;
	}
	if (tc)
		pos = DNS_HDR_LEN + qlen;
	dns_put_header(out, q->id, q->opcode, tc, q->rd, q->cd, rcode);
	be16_put(out + 4, qlen > 0 ? 1 : 0);
	be16_put(out + 6, tc ? 0 : (uint16_t)n);
	if (q->edns) {
		be16_put(out + 10, 1);
		out[pos] = 0;
		be16_put(out + pos + 1, DNS_T_OPT);
		be16_put(out + pos + 3, DNS_EDNS_MAX);
		dns_put32(out + pos + 5, q->edns_do ? DNS_EDNS_DO : 0);
		be16_put(out + pos + 9, 0);
		pos += DNS_OPT_LEN;
	}
	return pos;
}

size_t
dns_build_error(const uint8_t *msg, size_t len, enum dns_rcode rcode,
                uint8_t *out, size_t cap)
{
	uint16_t flags;

	if (len < DNS_HDR_LEN || cap < DNS_HDR_LEN || (unsigned)rcode > 15)
		return 0;
	flags = be16_get(msg + 2);
	if (flags & DNS_F_QR)
		return 0;
	dns_put_header(out, be16_get(msg), flags >> 11 & 0x0f, false,
	               (flags & DNS_F_RD) != 0, (flags & DNS_F_CD) != 0, rcode);
	return DNS_HDR_LEN;
}

/* A decimal label "0"-"255" without leading zeros at s, ended by '.'. */
static int
dns_ptr_octet(const char *s, size_t *used)
{
	size_t i;
	int v;

	for (i = 0, v = 0; i < 3 && s[i] >= '0' && s[i] <= '9'; i++)
		v = v * 10 + s[i] - '0';
	if (i == 0 || s[i] != '.' || v > 255 || (i > 1 && s[0] == '0'))
		return -1;
	*used = i + 1;
	return v;
}

int
dns_ptr_addr(const char *name, struct sockaddr_storage *out)
{
	static const char v4[] = "in-addr.arpa", v6[] = "ip6.arpa";
	struct sockaddr_in *sin = (struct sockaddr_in *)out;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)out;
	uint8_t a[16];
	size_t off, used, i;
	int v;

	memset(a, 0, sizeof(a));
	for (off = 0, i = 0; i < 4; i++, off += used) {
		if ((v = dns_ptr_octet(name + off, &used)) == -1)
			break;
		a[3 - i] = (uint8_t)v;
	}
	if (i == 4 && strcmp(name + off, v4) == 0) {
		memset(out, 0, sizeof(*out));
		sin->sin_family = AF_INET;
		memcpy(&sin->sin_addr, a, 4);
		return 0;
	}
	if (strlen(name) != 64 + sizeof(v6) - 1 || strcmp(name + 64, v6) != 0)
		return -1;
	memset(a, 0, sizeof(a));
	for (i = 0; i < 32; i++) {
		if ((v = hex_digit((unsigned char)name[2 * i])) == -1 ||
		    name[2 * i + 1] != '.')
			return -1;
		/* the first label is the last nibble */
		a[(31 - i) / 2] |= (uint8_t)(i % 2 == 0 ? v : v << 4);
	}
	memset(out, 0, sizeof(*out));
	sin6->sin6_family = AF_INET6;
	memcpy(&sin6->sin6_addr, a, 16);
	return 0;
}

int
dns_tcp_len(const uint8_t *buf, size_t len)
{
	size_t n;

	if (len < 2)
		return DNS_TCP_NEED_MORE;
	n = be16_get(buf);
	if (n < DNS_HDR_LEN)
		return DNS_TCP_INVALID;
	return len - 2 < n ? DNS_TCP_NEED_MORE : (int)(2 + n);
}

int
dns_response_matches(const struct dns_query *q, const uint8_t *resp, size_t len)
{
	char name[DNS_NAME_TEXT_MAX];
	uint16_t flags;
	size_t off;

	if (len < DNS_HDR_LEN || q->opcode != 0)
		return -1;
	flags = be16_get(resp + 2);
	if (be16_get(resp) != q->id || !(flags & DNS_F_QR) ||
	    (flags >> 11 & 0x0f) != q->opcode || be16_get(resp + 4) != 1)
		return -1;
	off = DNS_HDR_LEN;
	if (dns_read_name(resp, len, &off, name, sizeof(name)) != NULL ||
	    len - off < 4)
		return -1;
	if (strcmp(name, q->name) != 0 || be16_get(resp + off) != q->qtype ||
	    be16_get(resp + off + 2) != q->qclass)
		return -1;
	return 0;
}
