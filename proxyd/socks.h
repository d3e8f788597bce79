/* PLACEHOLDER: replaced by branch socks-parse at merge */
#ifndef TG_SOCKS_H
#define TG_SOCKS_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#define SOCKS_FIELD_MAX 255
enum socks_step { SOCKS_NEED_MORE, SOCKS_REPLY, SOCKS_REQUEST, SOCKS_INVALID };
struct socks_server {
	int phase;
	uint8_t out[16]; size_t out_len;
	int version;
	bool auth;
	char user[SOCKS_FIELD_MAX + 1], pass[SOCKS_FIELD_MAX + 1];
	char name[SOCKS_FIELD_MAX + 1];
	struct sockaddr_storage addr;
	uint16_t port;
	bool tor_ext;
	const char *error;
};
enum socks_code { SOCKS_OK = 0x00, SOCKS_GENERAL = 0x01, SOCKS_NOT_ALLOWED = 0x02, SOCKS_NET_UNREACH = 0x03, SOCKS_HOST_UNREACH = 0x04, SOCKS_REFUSED = 0x05, SOCKS_TTL = 0x06, SOCKS_CMD_UNSUPPORTED = 0x07, SOCKS_ATYP_UNSUPPORTED = 0x08 };
void socks_server_init(struct socks_server *s);
enum socks_step socks_server_feed(struct socks_server *s, const uint8_t *buf, size_t len, size_t *used);
size_t socks_reply(const struct socks_server *s, uint8_t code, const struct sockaddr *bound, uint8_t *out, size_t cap);
#endif
