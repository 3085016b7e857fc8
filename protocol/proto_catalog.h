/* proto_catalog.h — internal: the message catalog as data. Each message type
 * has a descriptor (name, kind, payload record) and each record a table of
 * fields (wire key, value kind, where it lives in the C struct). Encoding,
 * decoding and freeing walk these tables instead of one switch per type. */
#ifndef PT_PROTO_CATALOG_H
#define PT_PROTO_CATALOG_H

#include <stdbool.h>
#include <stddef.h>
#include "pt_proto.h"

enum pt_proto_fkind {
    PT_FK_U32,   /* uint32_t */
    PT_FK_U64,   /* uint64_t */
    PT_FK_I32,   /* int32_t */
    PT_FK_I64,   /* int64_t */
    PT_FK_DBL,   /* double */
    PT_FK_BOOL,  /* bool */
    PT_FK_STR,   /* char *, required */
    PT_FK_NSTR,  /* char *, nullable (nil on the wire) */
    PT_FK_TEXT,  /* char * at off, size_t length at count_off */
    PT_FK_STRV,  /* char ** at off, size_t count at count_off */
    PT_FK_REC,   /* embedded record at off, described by rec */
    PT_FK_RECV,  /* array of records at off, size_t count at count_off */
};

struct pt_proto_rec;

struct pt_proto_field {
    const char                *key;
    enum pt_proto_fkind        kind;
    size_t                     off;
    size_t                     count_off;
    const struct pt_proto_rec *rec;
    bool                       optional;  /* may be absent: zero / empty */
};

struct pt_proto_rec {
    size_t                       size;    /* sizeof the C struct */
    const struct pt_proto_field *fields;
    size_t                       nfields;
};

struct pt_proto_msgdesc {
    enum pt_msg_type           type;
    const char                *name;
    enum pt_msg_kind           kind;
    const struct pt_proto_rec *payload;   /* NULL: no fields */
};

/* The descriptor of a type, or NULL if the type is unknown / PT_MSG_NONE. */
const struct pt_proto_msgdesc *pt_proto_msgdesc(enum pt_msg_type type);

/* Packs s (NULL: "") as a msgpack string: 0, -EINVAL (too long), -ENOMEM. */
int pt_proto_pack_cstr(msgpack_packer *pk, const char *s);

/* Free everything a record owns (not the record itself). */
void pt_proto_rec_free(const struct pt_proto_rec *rec, void *p);

#endif /* PT_PROTO_CATALOG_H */
