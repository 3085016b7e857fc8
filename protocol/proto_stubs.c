/* proto_stubs.c — temporary stand-ins so the library links while the real
 * implementations (proto_msg.c, proto_encode.c, ...) are written. */
#include <errno.h>
#include <string.h>
#include "pt_proto.h"

const char *pt_proto_strerror(int err) { (void)err; return "not implemented"; }
const char *pt_proto_errcode_name(int code) { (void)code; return "UNKNOWN"; }
enum pt_msg_kind pt_msg_kind(enum pt_msg_type t) { (void)t; return PT_KIND_INVALID; }
const char *pt_msg_type_name(enum pt_msg_type t) { (void)t; return "unknown"; }
void pt_msg_init(struct pt_msg *m, enum pt_msg_type type, uint32_t id)
{ memset(m, 0, sizeof *m); m->type = type; m->id = id; }
void pt_msg_free(struct pt_msg *m) { memset(m, 0, sizeof *m); }
int pt_proto_set_str(char **d, const char *s) { (void)d; (void)s; return -ENOSYS; }
int pt_proto_set_strn(char **d, const char *s, size_t n) { (void)d; (void)s; (void)n; return -ENOSYS; }
int pt_proto_strv_push(char ***v, size_t *n, const char *s) { (void)v; (void)n; (void)s; return -ENOSYS; }
struct pt_proto_fiber *pt_proto_fibers_push(struct pt_proto_fiber **v, size_t *n) { (void)v; (void)n; return NULL; }
struct pt_proto_frame *pt_proto_frames_push(struct pt_proto_frame **v, size_t *n) { (void)v; (void)n; return NULL; }
struct pt_proto_bp *pt_proto_bps_push(struct pt_proto_bp **v, size_t *n) { (void)v; (void)n; return NULL; }
struct pt_proto_dump_fiber *pt_proto_dump_push(struct pt_proto_dump_fiber **v, size_t *n) { (void)v; (void)n; return NULL; }
int pt_proto_make_error(struct pt_msg *m, uint32_t id, int code, const char *fmt, ...)
{ (void)m; (void)id; (void)code; (void)fmt; return -ENOSYS; }
int pt_proto_make_hello(struct pt_msg *m, int64_t pid, const char *rv, const char *be,
                        const char *prog, const char *const *argv, size_t argc, bool att)
{ (void)m; (void)pid; (void)rv; (void)be; (void)prog; (void)argv; (void)argc; (void)att; return -ENOSYS; }
int pt_proto_check_hello(const struct pt_msg *p, struct pt_msg *r) { (void)p; (void)r; return -ENOSYS; }
int pt_msg_encode(const struct pt_msg *m, msgpack_sbuffer *o) { (void)m; (void)o; return -ENOSYS; }
int pt_msg_encode_alloc(const struct pt_msg *m, char **b, size_t *l) { (void)m; (void)b; (void)l; return -ENOSYS; }
int pt_msg_decode(const void *b, size_t l, struct pt_msg *o) { (void)b; (void)l; (void)o; return -ENOSYS; }
int pt_proto_decoder_new(struct pt_proto_decoder **o, size_t m, unsigned d) { (void)o; (void)m; (void)d; return -ENOSYS; }
void pt_proto_decoder_free(struct pt_proto_decoder *d) { (void)d; }
int pt_proto_decoder_feed(struct pt_proto_decoder *d, const void *b, size_t n) { (void)d; (void)b; (void)n; return -ENOSYS; }
int pt_proto_decoder_next(struct pt_proto_decoder *d, struct pt_msg *o) { (void)d; (void)o; return -ENOSYS; }
size_t pt_proto_decoder_buffered(const struct pt_proto_decoder *d) { (void)d; return 0; }
int pt_proto_write_all(int fd, const void *b, size_t l, int t) { (void)fd; (void)b; (void)l; (void)t; return -ENOSYS; }
int pt_proto_send(int fd, const struct pt_msg *m, int t) { (void)fd; (void)m; (void)t; return -ENOSYS; }
int pt_proto_recv(int fd, struct pt_proto_decoder *d, struct pt_msg *o, int t) { (void)fd; (void)d; (void)o; (void)t; return -ENOSYS; }
