/*
 * httpconnect.h - the HTTP CONNECT front's parser (RFC 9110 9.3.6 CONNECT,
 * RFC 9112 HTTP/1.x) and its responses.
 *
 * Pure code: no sockets, no allocation, no logging.  hc_parse() is a
 * function of the bytes alone: the caller calls it again with the same
 * bytes plus more, and a decision taken on some bytes is the one any
 * longer input gets.
 *
 * What is taken:
 *  - the request line "CONNECT host:port HTTP/1.x", the target in
 *    authority form only: "[IPv6]:port", "IPv4:port" or "name:port", the
 *    port 1-65535; a name is RFC 3986 reg-name characters, at most 255
 *    bytes, not normalised (the daemon does that with common/name.h);
 *  - header lines "name: value" up to the empty line, lines ending in CRLF
 *    or a bare LF; a Host header is not needed and not looked at;
 *  - "Proxy-Authorization: Basic base64(user:pass)" (scheme
 *    case-insensitive, padded base64): the user is what comes before the
 *    first ':', the password what follows; without ':' the whole is the
 *    user and the password is "".  Another scheme is ignored (auth stays
 *    false); a malformed Basic value, a NUL in it, a user or password
 *    longer than 255 bytes, or a second Proxy-Authorization is 400.
 * What is refused, with the status to answer:
 *  400  not an HTTP request line, a control byte, a malformed header line
 *       (also an obsolete folded one) or target;
 *  405  a well-formed request with another method: a proxy request
 *       ("GET http://...") or a browser that opened the proxy as a site;
 *  414  a request line that does not end within HTTP_CONNECT_HEAD_MAX;
 *  431  a head that does not end within HTTP_CONNECT_HEAD_MAX;
 *  505  an HTTP version other than 1.x.
 * 405 and 505 are decided on the request line alone.
 */
#ifndef TG_HTTPCONNECT_H
#define TG_HTTPCONNECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define HTTP_CONNECT_HEAD_MAX 8192
/* What hc_response() may write, at most. */
#define HTTP_CONNECT_RESPONSE_MAX 512

enum hc_result { HC_NEED_MORE, HC_REQUEST, HC_INVALID };

struct hc_request {
	/* The target's host: a name as sent (not normalised), or an IP
	 * literal without brackets. */
	char host[256];
	bool host_is_ip;              /* then addr is set (with the port) */
	struct sockaddr_storage addr; /* AF_UNSPEC for a name */
	uint16_t port;                /* host order */
	bool auth; /* Proxy-Authorization: Basic base64(user:pass) */
	char user[256], pass[256];
	/* Bytes of the request head incl. the empty line: bytes after it
	 * are the client's first data. */
	size_t head_len;
	/* HC_INVALID: the status to answer (see above); 0 otherwise. */
	int status;
	const char *error; /* static text on HC_INVALID, else NULL */
};

/*
 * Read the request head in buf[0..len) (the bytes the client sent so
 * far) into *req, which is cleared first.
 * Returns:
 *  HC_NEED_MORE  no whole head yet and nothing wrong so far (never when
 *                len >= HTTP_CONNECT_HEAD_MAX);
 *  HC_REQUEST    a CONNECT request: host, host_is_ip, addr, port, auth,
 *                user, pass and head_len are set;
 *  HC_INVALID    refused: answer hc_response(req->status) and close;
 *                req->error says why.
 */
enum hc_result hc_parse(const uint8_t *buf, size_t len, struct hc_request *req);

/*
 * The response head for status into out[0..cap): "HTTP/1.1 200 Connection
 * established" and an empty line; for any other status its reason phrase,
 * "Connection: close", and a one-line text/plain body saying what
 * happened, with its Content-Length (405 adds "Allow: CONNECT" and says to
 * use the proxy for https or as a CONNECT/SOCKS proxy).  Known statuses:
 * 200, 400, 403 (denied by the firewall), 405, 414, 431, 500, 502 (the way
 * out failed), 503, 504 (timed out), 505; any other is answered as 500.
 * Returns the length written (no NUL counted), or 0 when it does not fit
 * in cap (HTTP_CONNECT_RESPONSE_MAX always does).
 */
size_t hc_response(int status, char *out, size_t cap);

/*
 * The status that tells an HTTP client what a SOCKS5 reply code (enum
 * socks_code in socks.h: an upstream's answer, or tollgate's own) says:
 * 200 for success, 403 for "not allowed", 504 for a timeout (06, and
 * Tor's F7), 502 for every other failure.
 */
int hc_status_for_socks(uint8_t code);

#endif
