/* proto_decode.h — internal: turning one parsed msgpack object into a
 * struct pt_msg, shared by pt_msg_decode() and the stream decoder. */
#ifndef PT_PROTO_DECODE_H
#define PT_PROTO_DECODE_H

#include "pt_proto.h"

/* 0, PT_PROTO_E_BADMSG, PT_PROTO_E_UNKNOWN_TYPE or -ENOMEM. *out is zeroed
 * first; on error it holds nothing but possibly the message's id. */
int pt_proto_msg_from_object(const msgpack_object *obj, struct pt_msg *out);

#endif /* PT_PROTO_DECODE_H */
