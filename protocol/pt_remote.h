/*
 * pt_remote.h — the debugger over TCP: addresses, the authentication that
 * comes before anything else on a TCP connection, and TLS. Both sides link
 * it (part of libptproto), so the tracer that listens and the controller
 * that connects can never disagree on a byte of the preamble.
 *
 * The preamble (man/polytrace-protocol.7, "TCP"): the tracer sends
 * PT_PROTO_REMOTE_CHALLENGE_LEN bytes, the magic "PTAUTH1\n" and a fresh random
 * nonce; the controller answers with PT_PROTO_REMOTE_MAC_LEN bytes,
 * HMAC-SHA256(token, "polytrace auth 1\n" nonce). Only then does the usual
 * HELLO exchange begin. The token never crosses the wire and an answer is
 * good for one nonce only, so a recorded handshake cannot be replayed.
 *
 * TLS runs below the preamble: a relay thread owns the TLS connection and
 * hands the rest of the program a plain Unix socket (pt_proto_remote_tls_*), so
 * every message is read and written as on a local connection.
 *
 * Functions return 0 or a negative errno and never print; those with an
 * err buffer put one line there saying why.
 */
#ifndef PT_PROTO_REMOTE_H
#define PT_PROTO_REMOTE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PT_PROTO_REMOTE_MAGIC          "PTAUTH1\n"
#define PT_PROTO_REMOTE_MAGIC_LEN      8
#define PT_PROTO_REMOTE_NONCE_LEN      32
#define PT_PROTO_REMOTE_CHALLENGE_LEN  (PT_PROTO_REMOTE_MAGIC_LEN + PT_PROTO_REMOTE_NONCE_LEN)
#define PT_PROTO_REMOTE_MAC_LEN        32
/* A token: 16 to PT_PROTO_REMOTE_TOKEN_MAX printable characters (a generated one
 * is 64 hex digits: 256 random bits). */
#define PT_PROTO_REMOTE_TOKEN_MIN      16
#define PT_PROTO_REMOTE_TOKEN_MAX      256
/* Failed authentications a listening tracer takes before it stops
 * listening for good. */
#define PT_PROTO_REMOTE_MAX_FAILS      5
/* HOST:PORT as text, with room for an IPv6 address in brackets. */
#define PT_PROTO_REMOTE_ADDR_MAX       300

/* ---- tokens ---------------------------------------------------------------- */

/* A new random token: 64 hex digits and a NUL in buf (len >= 65). */
int pt_proto_remote_token_new(char *buf, size_t len);

/* The token in path: its first line, which must be PT_PROTO_REMOTE_TOKEN_MIN to
 * PT_PROTO_REMOTE_TOKEN_MAX printable characters. The file must be a regular
 * file of ours that nobody else may read or write (-EPERM otherwise). */
int pt_proto_remote_token_read(const char *path, char *buf, size_t len, char *err, size_t errlen);

/* True if text is a usable token (length and characters). */
bool pt_proto_remote_token_valid(const char *text);

/* ---- the preamble ---------------------------------------------------------- */

/* A fresh challenge: the magic and a random nonce. */
int pt_proto_remote_challenge(unsigned char out[PT_PROTO_REMOTE_CHALLENGE_LEN]);

/* The answer to a challenge under token; -EPROTO when challenge does not
 * start with the magic (the peer is not a listening tracer). */
int pt_proto_remote_answer(const char *token,
                           const unsigned char challenge[PT_PROTO_REMOTE_CHALLENGE_LEN],
                           unsigned char mac[PT_PROTO_REMOTE_MAC_LEN]);

/* 0 when mac answers challenge under token, else -EACCES (compared in
 * constant time). */
int pt_proto_remote_verify(const char *token,
                           const unsigned char challenge[PT_PROTO_REMOTE_CHALLENGE_LEN],
                           const unsigned char mac[PT_PROTO_REMOTE_MAC_LEN]);

/* ---- addresses ------------------------------------------------------------- */

/* Splits "HOST:PORT" or "[V6ADDR]:PORT" (a port from 0 to 65535). */
int pt_proto_remote_split(const char *text, char *host, size_t hostlen, char *port, size_t portlen);

/*
 * Listens on text (HOST:PORT; port 0: any free one). Every address the host
 * resolves to must be a loopback address unless any_host is true (-EPERM
 * with the reason). *fd gets a non-blocking, close-on-exec socket; bound
 * gets the address actually bound, as HOST:PORT.
 */
int pt_proto_remote_listen(const char *text, bool any_host, int *fd, char *bound, size_t boundlen,
                           char *err, size_t errlen);

/* Connects to text (HOST:PORT) within timeout_ms; *fd is blocking,
 * close-on-exec. */
int pt_proto_remote_connect(const char *text, int timeout_ms, int *fd, char *err, size_t errlen);

/* The peer of a connected TCP socket as HOST:PORT. */
void pt_proto_remote_peer_name(int fd, char *buf, size_t len);

/* True if the socket fd is a TCP (not a Unix) socket. */
bool pt_proto_remote_is_tcp(int fd);

/* Sends len bytes / receives exactly len bytes on a blocking or
 * non-blocking socket, waiting at most until deadline_ms
 * (pt_proto_now_ms's clock). -ETIMEDOUT, -ECONNRESET (closed early). */
int pt_proto_remote_send_all(int fd, const void *buf, size_t len, int64_t deadline_ms);
int pt_proto_remote_recv_all(int fd, void *buf, size_t len, int64_t deadline_ms);

/* The controller's side of the preamble on a connected fd: read the
 * challenge, answer it. The tracer's HELLO (or its ERROR AUTH) follows. */
int pt_proto_remote_authenticate(int fd, const char *token, int timeout_ms, char *err,
                                 size_t errlen);

/* ---- TLS ------------------------------------------------------------------- */

struct pt_proto_remote_tls;   /* an SSL_CTX and how to use it */

/* A server context from a PEM certificate (chain) and its private key. */
int pt_proto_remote_tls_server(const char *cert, const char *key, struct pt_proto_remote_tls **out,
                               char *err, size_t errlen);

/* A client context that checks the server's certificate against ca (a PEM
 * file) or, when ca is NULL, the system's certificate authorities, and
 * that it names the host connected to. */
int pt_proto_remote_tls_client(const char *ca, struct pt_proto_remote_tls **out, char *err,
                               size_t errlen);

void pt_proto_remote_tls_free(struct pt_proto_remote_tls *t);

/*
 * Takes over the connected TCP socket net: TLS on it, through a thread of
 * its own, and in *plain one end of a Unix socket pair that carries the
 * same bytes in the clear. For a client context, the TLS handshake is done
 * here, within timeout_ms, checking the certificate for host (its failure
 * in err); for a server context, the thread does it, and *plain simply
 * closes if it fails. net is closed either way (on failure too). The
 * thread ends, closing everything, when either side closes.
 */
int pt_proto_remote_tls_start(struct pt_proto_remote_tls *t, int net, const char *host,
                              int timeout_ms,
                              int *plain, char *err, size_t errlen);

#endif /* PT_PROTO_REMOTE_H */
