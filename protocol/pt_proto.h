/* pt_proto.h — PolyTrace wire protocol (placeholder; see issue 2). */
#ifndef PT_PROTO_H
#define PT_PROTO_H
#define PT_PROTO_VERSION 1
#endif
