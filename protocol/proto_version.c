/* proto_version.c — the protocol version this library speaks. */
#include "pt_proto.h"

int pt_proto_version(void)
{
    return PT_PROTO_VERSION;
}
