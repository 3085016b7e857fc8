/* main.c — polytrace's entry point: parse the command line, run the mode. */
#include <stdio.h>

#include "help.h"
#include "options.h"
#include "start.h"
#include "top.h"

int main(int argc, char **argv)
{
    struct pt_opt o;
    char err[512];
    if (pt_opt_parse(argc, argv, &o, err, sizeof err)) {
        fprintf(stderr, "polytrace: %s\n", err);
        return 2;
    }
    switch (o.mode) {
    case PT_OPT_HELP:
        pt_help_usage(stdout);
        return 0;
    case PT_OPT_VERSION:
        pt_help_version(stdout);
        return 0;
    case PT_OPT_ATTACH:
        return pt_start_attach(&o);
    case PT_OPT_DUMP:
        return pt_start_dump(&o);
    case PT_OPT_CONNECT:
        return pt_start_connect(&o);
    case PT_OPT_LISTEN:
        return pt_start_listen(&o);
    case PT_OPT_DAP:
        return pt_start_dap(&o);
    case PT_OPT_TOP:
        return pt_top_run(&o.top);
    case PT_OPT_LAUNCH:
        break;
    }
    return pt_start_launch(&o);
}
