/* check_inject.c — what `attach` reads before bringing the tracer into a
 * process: maps and status parsing, ELF facts and symbols, the words for a
 * refused ptrace; and the injector itself on a child process (a system
 * call and a function call run in it, its registers put back). */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "elfsym.h"
#include "inject.h"
#include "load.h"
#include "procinfo.h"
#include "suites.h"

static const char *MAPS =
    "55d0a1c00000-55d0a1c01000 r--p 00000000 fe:00 1000 /usr/bin/ruby3.1\n"
    "7f1000000000-7f1000026000 r--p 00000000 fe:00 2000 /usr/lib/x86_64-linux-gnu/libc.so.6\n"
    "7f1000026000-7f100017c000 r-xp 00026000 fe:00 2000 /usr/lib/x86_64-linux-gnu/libc.so.6\n"
    "7f1000200000-7f10002a0000 r--p 00000000 fe:00 3000 /usr/lib/x86_64-linux-gnu/libruby-3.1.so.3.1.2\n"
    "7f10002a0000-7f1000500000 r-xp 000a0000 fe:00 3000 /usr/lib/x86_64-linux-gnu/libruby-3.1.so.3.1.2\n"
    "7f1000600000-7f1000601000 rw-p 00000000 00:00 0 \n"
    "7ffd00000000-7ffd00021000 rw-p 00000000 00:00 0                          [stack]\n";

START_TEST(test_maps_line)
{
    struct pt_proc_map m;
    ck_assert_int_eq(pt_proc_parse_map_line("7f00-7f10 r-xp 00001000 08:01 42   /a b/c.so\n", &m), 0);
    ck_assert(m.start == 0x7f00 && m.end == 0x7f10 && m.offset == 0x1000 && m.inode == 42);
    ck_assert_str_eq(m.perms, "r-xp");
    ck_assert_str_eq(m.path, "/a b/c.so");
    ck_assert_int_eq(pt_proc_parse_map_line("7f00-7f10 rw-p 0 00:00 0", &m), 0);
    ck_assert_str_eq(m.path, "");
    ck_assert_int_eq(pt_proc_parse_map_line("garbage", &m), -EINVAL);
}
END_TEST

START_TEST(test_maps_ruby)
{
    struct pt_proc_ruby r;
    ck_assert_int_eq(pt_proc_ruby_from_maps(MAPS, &r), 0);
    ck_assert_str_eq(r.path, "/usr/lib/x86_64-linux-gnu/libruby-3.1.so.3.1.2");
    ck_assert_int_eq(r.major, 3);
    ck_assert_int_eq(r.minor, 1);
    ck_assert(r.start == 0x7f1000200000ULL);
    ck_assert(r.inode == 3000);
    ck_assert(r.libc_text_start == 0x7f1000026000ULL && r.libc_text_end == 0x7f100017c000ULL);

    ck_assert_int_eq(pt_proc_ruby_from_maps(
        "7f00-7f10 r--p 00000000 fe:00 9 /opt/ruby/lib/libruby-3.2.so.3.2.0\n", &r), 0);
    ck_assert_int_eq(r.major, 3);
    ck_assert_int_eq(r.minor, 2);
    /* Not Ruby, or a Ruby without a shared libruby. */
    ck_assert_int_eq(pt_proc_ruby_from_maps(
        "7f00-7f10 r-xp 00000000 fe:00 9 /usr/bin/sleep\n", &r), -ENOENT);
}
END_TEST

START_TEST(test_status)
{
    struct pt_proc_status s;
    ck_assert_int_eq(pt_proc_parse_status("Name:\truby\nState:\tt (tracing stop)\nTgid:\t5\n"
                                          "TracerPid:\t77\nUid:\t1000\t1000\t1000\t1000\n"
                                          "SigCgt:\t0000000042017e49\n", &s), 0);
    ck_assert_int_eq(s.state, 't');
    ck_assert_int_eq(s.tracer, 77);
    ck_assert_int_eq(s.uid, 1000);
    ck_assert(s.sigcgt == 0x42017e49ULL);
    ck_assert_int_eq(pt_proc_parse_status("State:\tS\n", &s), -EINVAL);

    ck_assert_int_eq(pt_proc_status(getpid(), &s), 0);
    ck_assert_int_eq(s.uid, getuid());
    ck_assert(s.state == 'R' || s.state == 'S');
}
END_TEST

/* A zombie's stat: a command name with spaces and ')' in it, and field 52,
 * the status its parent will collect. */
START_TEST(test_stat_exit_status)
{
    char text[1024], state = 0;
    int status = -1;
    int n = snprintf(text, sizeof text, "4242 (a (b) c) Z 1");
    for (int field = 5; field <= 51; field++)
        n += snprintf(text + n, sizeof text - (size_t)n, " %d", field);
    snprintf(text + n, sizeof text - (size_t)n, " 768\n");
    ck_assert_int_eq(pt_proc_parse_stat(text, &state, &status), 0);
    ck_assert_int_eq(state, 'Z');
    ck_assert_int_eq(status, 768);     /* exit 3, as waitpid says */
    ck_assert_int_eq(pt_proc_parse_stat("4242 (ruby) S 1 2 3\n", &state, &status), -EINVAL);
    ck_assert_int_eq(pt_proc_parse_stat("no parenthesis", &state, &status), -EINVAL);

    /* A child of ours that exited 3, not reaped yet. */
    pid_t pid = fork();
    if (pid == 0)
        _exit(3);
    siginfo_t info;
    ck_assert_int_eq(waitid(P_PID, (id_t)pid, &info, WEXITED | WNOWAIT), 0);  /* a zombie now */
    ck_assert_int_eq(pt_proc_exit_status(pid, &state, &status), 0);
    ck_assert_int_eq(state, 'Z');
    ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 3);
    ck_assert_int_eq(waitpid(pid, NULL, 0), pid);
    ck_assert_int_eq(pt_proc_exit_status(pid, &state, &status), -ENOENT);
}
END_TEST

START_TEST(test_elf)
{
    struct pt_elf_info info;
    ck_assert_int_eq(pt_elf_info("/proc/self/exe", &info), 0);
    ck_assert_int_eq(info.elf_class, ELFCLASS64);
#if defined(__x86_64__)
    ck_assert_int_eq(info.machine, EM_X86_64);
#endif
    ck_assert_str_eq(pt_elf_machine_name(EM_X86_64), "x86-64");
    ck_assert_str_eq(pt_elf_machine_name(EM_386), "i386");
    ck_assert_int_eq(pt_elf_info("/etc/passwd", &info), -ENOEXEC);
    ck_assert_int_eq(pt_elf_info("/nonexistent/x", &info), -ENOENT);

    /* A 32-bit i386 header is told apart. */
    char path[] = "/tmp/pt_check_elfXXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    Elf32_Ehdr eh;
    memset(&eh, 0, sizeof eh);
    memcpy(eh.e_ident, ELFMAG, SELFMAG);
    eh.e_ident[EI_CLASS] = ELFCLASS32;
    eh.e_ident[EI_DATA] = ELFDATA2LSB;
    eh.e_ident[EI_VERSION] = EV_CURRENT;
    eh.e_type = ET_EXEC;
    eh.e_machine = EM_386;
    eh.e_version = EV_CURRENT;
    eh.e_ehsize = sizeof eh;
    ck_assert_int_eq(write(fd, &eh, sizeof eh), (int)sizeof eh);
    close(fd);
    ck_assert_int_eq(pt_elf_info(path, &info), 0);
    ck_assert_int_eq(info.elf_class, ELFCLASS32);
    ck_assert_int_eq(info.machine, EM_386);
    unlink(path);
}
END_TEST

START_TEST(test_elf_dynsyms)
{
    struct pt_proc_ruby r;
    ck_assert_int_eq(pt_proc_ruby(getpid(), &r), -ENOENT);  /* we are not Ruby */
    /* libc is mapped in us: look up two of its symbols. */
    char *maps;
    ck_assert_int_eq(pt_proc_read_file("/proc/self/maps", &maps), 0);
    const char *p = strstr(maps, "/libc.so.6");
    ck_assert_ptr_nonnull(p);
    const char *start = p;
    while (start > maps && start[-1] != ' ')
        start--;
    char libc[4096];
    size_t n = (size_t)(strchr(p, '\n') - start);
    memcpy(libc, start, n);
    libc[n] = '\0';
    free(maps);
    const char *names[2] = { "getpid", "malloc" }, *missing = NULL;
    uint64_t vals[2];
    ck_assert_int_eq(pt_elf_dynsyms(libc, names, vals, 2, &missing), 0);
    ck_assert(vals[0] && vals[1] && vals[0] != vals[1]);
    const char *bad[2] = { "getpid", "no_such_symbol_here" };
    ck_assert_int_eq(pt_elf_dynsyms(libc, bad, vals, 2, &missing), -ENOENT);
    ck_assert_str_eq(missing, "no_such_symbol_here");
}
END_TEST

START_TEST(test_eperm_words)
{
    char buf[512];
    pt_load_eperm_text(42, 1, 0, buf, sizeof buf);
    ck_assert_ptr_nonnull(strstr(buf, "kernel.yama.ptrace_scope is 1"));
    ck_assert_ptr_nonnull(strstr(buf, "sysctl kernel.yama.ptrace_scope=0"));
    pt_load_eperm_text(42, 2, 0, buf, sizeof buf);
    ck_assert_ptr_nonnull(strstr(buf, "ptrace_scope is 2"));
    ck_assert_ptr_nonnull(strstr(buf, "CAP_SYS_PTRACE"));
    pt_load_eperm_text(42, 3, 1, buf, sizeof buf);
    ck_assert_ptr_nonnull(strstr(buf, "ptrace_scope is 3"));
    pt_load_eperm_text(42, -1, 0, buf, sizeof buf);
    ck_assert_ptr_nonnull(strstr(buf, "lacks CAP_SYS_PTRACE"));
    ck_assert_ptr_nonnull(strstr(buf, "process 42"));
    pt_load_eperm_text(42, 0, 1, buf, sizeof buf);
    ck_assert_ptr_nonnull(strstr(buf, "not permitted"));
}
END_TEST

#if defined(__x86_64__)
/* A child blocked in read(2) on a pipe: borrowed, made to run getppid and
 * getpid, given back; its read then ends with EINTR (as after a signal
 * handler), which it reports through a second pipe. */
START_TEST(test_inject_child)
{
    int in[2], out[2];
    ck_assert_int_eq(pipe(in), 0);
    ck_assert_int_eq(pipe(out), 0);
    pid_t child = fork();
    if (child == 0) {
        char c;
        ssize_t r = read(in[0], &c, 1);
        int e = r < 0 ? errno : 0;
        ck_assert_int_eq(write(out[1], &e, sizeof e), (int)sizeof e);
        r = read(in[0], &c, 1);     /* then waits for the end */
        _exit(r == 1 && c == 'x' ? 0 : 1);
    }
    /* Wait until it blocks in read ("0 0x..." in /proc/PID/syscall; a
     * thread in user space shows "running"). */
    char path[64], want[16], *text = NULL;
    int blocked = 0;
    snprintf(path, sizeof path, "/proc/%d/syscall", (int)child);
    snprintf(want, sizeof want, "%d ", SYS_read);
    for (int i = 0; i < 20000 && !blocked; i++) {
        free(text);
        text = NULL;
        blocked = pt_proc_read_file(path, &text) == 0 && strncmp(text, want, strlen(want)) == 0;
        if (!blocked)
            usleep(1000);
    }
    free(text);
    ck_assert_msg(blocked, "the child never blocked in read");

    struct pt_inject *inj;
    int rc = pt_inject_seize(child, child, 2000, &inj);
    ck_assert_int_eq(rc, 0);
    ck_assert(pt_inject_was_in_syscall(inj));
    struct pt_proc_ruby r;  /* only its libc and executable ranges are used */
    char *maps;
    snprintf(path, sizeof path, "/proc/%d/maps", (int)child);
    ck_assert_int_eq(pt_proc_read_file(path, &maps), 0);
    pt_proc_ruby_from_maps(maps, &r);
    free(maps);
    ck_assert(r.libc_text_start != 0);
    uint64_t insn = 0;
    static unsigned char buf[1 << 20];
    size_t len = r.libc_text_end - r.libc_text_start < sizeof buf ?
                 r.libc_text_end - r.libc_text_start : sizeof buf;
    ck_assert_int_eq(pt_inject_read(inj, r.libc_text_start, buf, len), 0);
    for (size_t i = 0; i + 1 < len && !insn; i++)
        if (buf[i] == 0x0f && buf[i + 1] == 0x05)
            insn = r.libc_text_start + i;
    ck_assert(insn != 0);
    pt_inject_set_syscall_insn(inj, insn);

    int64_t sret;
    ck_assert_int_eq(pt_inject_syscall(inj, SYS_getppid, NULL, 0, &sret), 0);
    ck_assert_int_eq(sret, getpid());
    /* getpid is at the same address in the child (forked from us). */
    uint64_t fret = 0;
    ck_assert_int_eq(pt_inject_call(inj, (uint64_t)(uintptr_t)&getpid, NULL, 0, &fret), 0);
    ck_assert_int_eq((int)fret, child);
    ck_assert_int_eq(pt_inject_release(inj), 0);

    int e = -1;
    ck_assert_int_eq(read(out[0], &e, sizeof e), (int)sizeof e);
    ck_assert_int_eq(e, EINTR);
    ck_assert_int_eq(write(in[1], "x", 1), 1);
    int st;
    ck_assert_int_eq(waitpid(child, &st, 0), child);
    ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    close(in[0]), close(in[1]), close(out[0]), close(out[1]);
}
END_TEST
#endif

Suite *inject_suite(void)
{
    Suite *s = suite_create("inject");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_maps_line);
    tcase_add_test(tc, test_maps_ruby);
    tcase_add_test(tc, test_status);
    tcase_add_test(tc, test_stat_exit_status);
    tcase_add_test(tc, test_elf);
    tcase_add_test(tc, test_elf_dynsyms);
    tcase_add_test(tc, test_eperm_words);
#if defined(__x86_64__)
    tcase_add_test(tc, test_inject_child);
#endif
    /* A loaded machine (the whole suite at once) can take seconds here. */
    tcase_set_timeout(tc, 60);
    suite_add_tcase(s, tc);
    return s;
}
