/* check_placeholder.c — placeholder suite until the protocol tests land. */
#include <check.h>
#include <stdlib.h>

int pt_proto_version(void);

START_TEST(test_version)
{
    ck_assert_int_eq(pt_proto_version(), 1);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("protocol");
    TCase *tc = tcase_create("version");
    tcase_add_test(tc, test_version);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
