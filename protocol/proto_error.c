/* proto_error.c — text for the library's negative return values and for the
 * error codes an ERROR reply carries. Callers decide what the user sees; this
 * only names things. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include "pt_proto.h"

const char *pt_proto_strerror(int err)
{
    switch (err) {
    case 0:                       return "success";
    case PT_PROTO_E_MALFORMED:    return "malformed message (not valid msgpack)";
    case PT_PROTO_E_TOOBIG:       return "message too large";
    case PT_PROTO_E_TOODEEP:      return "message nested too deeply";
    case PT_PROTO_E_BADMSG:       return "invalid message (missing or wrong-typed field)";
    case PT_PROTO_E_UNKNOWN_TYPE: return "unknown message type";
    case PT_PROTO_E_VERSION:      return "protocol version mismatch";
    case PT_PROTO_E_TRUNCATED:    return "connection closed in the middle of a message";
    case PT_PROTO_E_FAILED:       return "protocol stream already failed";
    default:
        break;
    }
    if (err < 0 && err > -4096)
        return strerror(-err);
    return "unknown error";
}

const char *pt_proto_errcode_name(int code)
{
    static const char *const names[] = {
        [PT_PROTO_ERR_VERSION]       = "VERSION",
        [PT_PROTO_ERR_BAD_REQUEST]   = "BAD_REQUEST",
        [PT_PROTO_ERR_UNKNOWN_TYPE]  = "UNKNOWN_TYPE",
        [PT_PROTO_ERR_NO_FIBER]      = "NO_FIBER",
        [PT_PROTO_ERR_NOT_STOPPED]   = "NOT_STOPPED",
        [PT_PROTO_ERR_EVAL]          = "EVAL",
        [PT_PROTO_ERR_NO_BREAKPOINT] = "NO_BREAKPOINT",
        [PT_PROTO_ERR_BAD_LOCATION]  = "BAD_LOCATION",
        [PT_PROTO_ERR_BAD_SETTING]   = "BAD_SETTING",
        [PT_PROTO_ERR_INTERNAL]      = "INTERNAL",
        [PT_PROTO_ERR_BUSY]          = "BUSY",
        [PT_PROTO_ERR_AUTH]          = "AUTH",
    };
    if (code > 0 && (size_t)code < sizeof names / sizeof names[0] && names[code])
        return names[code];
    return "UNKNOWN";
}

int pt_proto_errf(char *err, size_t errlen, int rc, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    if (err && errlen)
        vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return rc;
}
