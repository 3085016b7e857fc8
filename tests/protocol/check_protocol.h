/* check_protocol.h — shared declarations of the protocol check suite: one
 * TCase per check_*.c file, and helpers that build fully-populated messages
 * and compare messages by their encodings. */
#ifndef CHECK_PROTOCOL_H
#define CHECK_PROTOCOL_H

#include <check.h>
#include "pt_proto.h"

TCase *tc_roundtrip(void);
TCase *tc_errors(void);
TCase *tc_stream(void);
TCase *tc_io(void);
TCase *tc_api(void);
TCase *tc_rendezvous(void);
TCase *tc_remote(void);
TCase *tc_op_encode(void);

/* Every type value the catalog knows, in order; its count. */
extern const enum pt_msg_type all_types[];
extern const size_t n_all_types;

/* Build a message of this type with every field set to a distinct nonzero
 * value (seed varies them), arrays with several elements. */
void fill_msg(struct pt_msg *m, enum pt_msg_type type, unsigned seed);

/* Encode m into a malloc'd buffer; fails the test on error. */
char *must_encode(const struct pt_msg *m, size_t *len);

/* True when a and b have identical encodings. */
int same_msg(const struct pt_msg *a, const struct pt_msg *b);

#endif
