/* proto_version.c — the protocol's version number (placeholder). */
#include "pt_proto.h"

int pt_proto_version(void);
int pt_proto_version(void) { return PT_PROTO_VERSION; }
