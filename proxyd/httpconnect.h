/* PLACEHOLDER: replaced by branch socks-parse at merge */
#ifndef TG_HTTPCONNECT_H
#define TG_HTTPCONNECT_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#define HTTP_CONNECT_HEAD_MAX 8192
enum hc_result { HC_NEED_MORE, HC_REQUEST, HC_INVALID };
struct hc_request {
	char host[256];
	bool host_is_ip;
	struct sockaddr_storage addr;
	uint16_t port;
	bool auth;
	char user[256], pass[256];
	size_t head_len;
	int status;
	const char *error;
};
enum hc_result hc_parse(const uint8_t *buf, size_t len, struct hc_request *req);
size_t hc_response(int status, char *out, size_t cap);
#endif
