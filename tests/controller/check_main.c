/* check_main.c — runs every controller check suite (the one main()). */
#include <stdlib.h>

#include "suites.h"

char *capture(void (*fn)(FILE *out, void *data), void *data)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    ck_assert_ptr_nonnull(f);
    fn(f, data);
    fclose(f);
    return buf;
}

int main(void)
{
    SRunner *sr = srunner_create(commands_suite());
    srunner_add_suite(sr, args_suite());
    srunner_add_suite(sr, options_suite());
    srunner_add_suite(sr, format_suite());
    srunner_add_suite(sr, misc_suite());
    srunner_add_suite(sr, session_suite());
    srunner_add_suite(sr, launch_suite());
    srunner_add_suite(sr, script_suite());
    srunner_add_suite(sr, fiberview_suite());
    srunner_add_suite(sr, dbg_suite());
    srunner_add_suite(sr, inject_suite());
    srunner_add_suite(sr, dap_io_suite());
    srunner_add_suite(sr, top_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
