/*
 * start.h — the ways a polytrace session begins: launching a program,
 * attaching to one, dumping one, connecting to one over TCP, running one
 * that waits for such a connection (--listen), or serving an editor (dap).
 * Each returns polytrace's exit code and prints its own errors (this is the
 * user-facing layer).
 */
#ifndef PT_START_H
#define PT_START_H

#include "options.h"

int pt_start_launch(const struct pt_opt *o);
int pt_start_attach(const struct pt_opt *o);
int pt_start_dump(const struct pt_opt *o);
int pt_start_connect(const struct pt_opt *o);
int pt_start_listen(const struct pt_opt *o);
int pt_start_dap(const struct pt_opt *o);

#endif
