/*
 * load.c — bringing the tracer into a Ruby 3.1 process that never loaded it.
 *
 * Nothing heavy runs at the point where ptrace stops the thread: the main
 * thread, borrowed with inject.c, executes one mmap system call (a page for
 * a line of Ruby) and one call of rb_postponed_job_register_one
 * (async-signal-safe by Ruby's contract, so safe whatever lock the thread
 * holds), asking Ruby to run rb_eval_string(line) at its next safe point.
 * The thread gets its registers back; a wait it was blocked in returns
 * EINTR, the way Ruby wakes its own threads, so that it checks its
 * interrupts and finds the job. The line starts a thread that loads the
 * tracer on Ruby's own terms: with the GVL, through require (so dlopen runs
 * where any require would). The boot file removes the ticket file we left
 * in the socket directory to say the tracer is ready; `attach` then goes on
 * as for any process that has the tracer (SIGURG, socket). Ruby runs the
 * job from whichever fiber is current when it checks interrupts; if the
 * flag landed on a fiber that was just switching out, asking again sets it
 * on the current one.
 */
#include "load.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "elfsym.h"
#include "inject.h"
#include "launch.h"
#include "procinfo.h"
#include "pt_rendezvous.h"
#include "strcopy.h"

#ifndef PT_RUBY_SITELIBDIR
#define PT_RUBY_SITELIBDIR ""
#endif

#define BOOT_NAME "polytrace/injected.rb"
#define PAGE_MAGIC "polytrace-inject"  /* the tracer checks it before unmapping */
#define PAGE_CODE_OFFSET 64
#define SEIZE_TIMEOUT_MS 2000
#define RETRY_MS 500
#define CAP_SYS_PTRACE_BIT 19
#define STALE_TICKET_S 120

static long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

static void sleep_ms(int ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
    nanosleep(&ts, NULL);
}

int pt_load_boot_file(char *buf, size_t len)
{
    char dir[PATH_MAX];
    int rc = pt_launch_libdir(dir, sizeof dir);
    if (rc == 0 && !dir[0])
        pt_str_copy(dir, sizeof dir, PT_RUBY_SITELIBDIR);
    if (!dir[0])
        return -ENOENT;
    if ((size_t)snprintf(buf, len, "%s/%s", dir, BOOT_NAME) >= len)
        return -ENAMETOOLONG;
    return access(buf, R_OK) == 0 ? 0 : -errno;
}

void pt_load_eperm_text(pid_t pid, int yama_scope, int have_cap, char *buf, size_t len)
{
    if (yama_scope == 1 && !have_cap)
        snprintf(buf, len, "ptrace is not permitted: kernel.yama.ptrace_scope is 1, so only a "
                 "parent may trace its child; run 'sysctl kernel.yama.ptrace_scope=0' as root, "
                 "or give polytrace CAP_SYS_PTRACE");
    else if (yama_scope == 2 && !have_cap)
        snprintf(buf, len, "ptrace is not permitted: kernel.yama.ptrace_scope is 2, so only "
                 "a process with CAP_SYS_PTRACE may trace; run polytrace with CAP_SYS_PTRACE");
    else if (yama_scope >= 3)
        snprintf(buf, len, "ptrace is not permitted: kernel.yama.ptrace_scope is %d, so no "
                 "process may trace another until the next reboot", yama_scope);
    else if (!have_cap)
        snprintf(buf, len, "ptrace of process %ld is not permitted: polytrace lacks "
                 "CAP_SYS_PTRACE, which it needs for a process with more privileges than "
                 "its own (in a container: --cap-add=SYS_PTRACE), or the process is not "
                 "dumpable (set-uid, prctl PR_SET_DUMPABLE)", (long)pid);
    else
        snprintf(buf, len, "ptrace of process %ld is not permitted (a security module or "
                 "seccomp policy refused it; the process may not be dumpable)", (long)pid);
}

void pt_load_explain_eperm(pid_t pid, char *why, size_t len)
{
    int scope = -1, have_cap = 0;
    char *text;
    if (pt_proc_read_file("/proc/sys/kernel/yama/ptrace_scope", &text) == 0) {
        scope = atoi(text);
        free(text);
    }
    if (pt_proc_read_file("/proc/self/status", &text) == 0) {
        const char *p = strstr(text, "CapEff:");
        if (p)
            have_cap = (strtoull(p + 7, NULL, 16) >> CAP_SYS_PTRACE_BIT) & 1;
        free(text);
    }
    pt_load_eperm_text(pid, scope, have_cap, why, len);
}

/* What the target must be before we touch it. */
static enum pt_load_error preflight(pid_t pid, struct pt_proc_ruby *rb, char *why, size_t len)
{
    struct pt_proc_status st;
    int rc = pt_proc_status(pid, &st);
    if (rc) {
        snprintf(why, len, "process %ld exited", (long)pid);
        return PT_LOAD_GONE;
    }
    if (st.state == 'Z' || st.state == 'X') {
        snprintf(why, len, "process %ld has exited (it is a zombie)", (long)pid);
        return PT_LOAD_GONE;
    }
    if (st.tracer) {
        char comm[64];
        pt_proc_comm(st.tracer, comm, sizeof comm);
        snprintf(why, len, "process %ld is already being traced by process %ld (%s); "
                 "only one tracer at a time", (long)pid, (long)st.tracer, comm);
        return PT_LOAD_TRACED;
    }
    if (st.state == 'T' || st.state == 't') {
        snprintf(why, len, "process %ld is stopped (job control); continue it first "
                 "(kill -CONT %ld)", (long)pid, (long)pid);
        return PT_LOAD_STOPPED;
    }
    struct pt_elf_info exe;
    char exe_path[64];
    snprintf(exe_path, sizeof exe_path, "/proc/%ld/exe", (long)pid);
#if !defined(__x86_64__)
    (void)exe;
    snprintf(why, len, "attaching to a process without the tracer needs x86-64, and this "
             "polytrace was built for another architecture; start the program with "
             "-rpolytrace instead");
    return PT_LOAD_ARCH;
#else
    if (pt_elf_info(exe_path, &exe) == 0 &&
        (exe.machine != EM_X86_64 || exe.elf_class != ELFCLASS64)) {
        snprintf(why, len, "process %ld is %s%s program; attaching to a process without the "
                 "tracer needs x86-64 (start it with -rpolytrace instead)", (long)pid,
                 exe.elf_class == ELFCLASS32 ? "a 32-bit " : "an ",
                 pt_elf_machine_name(exe.machine));
        return PT_LOAD_ARCH;
    }
#endif
    rc = pt_proc_ruby(pid, rb);
    if (rc == -ENOENT) {
        snprintf(why, len, "process %ld is not a Ruby process (no libruby in its memory map)",
                 (long)pid);
        return PT_LOAD_NOT_RUBY;
    }
    if (rc) {
        snprintf(why, len, "cannot read the memory map of process %ld: %s", (long)pid,
                 strerror(-rc));
        return PT_LOAD_FAILED;
    }
    if (rb->major != 3 || rb->minor != 1) {
        snprintf(why, len, "process %ld runs Ruby %d.%d (%s); polytrace attaches to Ruby 3.1",
                 (long)pid, rb->major, rb->minor, rb->path);
        return PT_LOAD_WRONG_RUBY;
    }
    return PT_LOAD_OK;
}

/* The address of a `syscall` instruction (0f 05) in an executable mapping. */
static int find_syscall_insn(struct pt_inject *in, const struct pt_proc_ruby *rb, uint64_t *out)
{
    uint64_t ranges[2][2] = { { rb->libc_text_start, rb->libc_text_end },
                              { rb->exec_start, rb->exec_end } };
    static unsigned char buf[65536];
    for (int k = 0; k < 2; k++) {
        for (uint64_t a = ranges[k][0]; a && a < ranges[k][1]; a += sizeof buf - 1) {
            uint64_t left = ranges[k][1] - a;
            size_t n = left < sizeof buf ? (size_t)left : sizeof buf;
            if (pt_inject_read(in, a, buf, n) < 0)
                break;
            for (size_t i = 0; i + 1 < n; i++) {
                if (buf[i] == 0x0f && buf[i + 1] == 0x05) {
                    *out = a + i;
                    return 0;
                }
            }
        }
    }
    return -ENOENT;
}

/*
 * The Ruby code the postponed job evaluates. A job runs where Ruby handles
 * traps, where no Mutex may be taken and so no require may run: the code
 * only starts a thread, and that thread loads the boot file (in an ordinary
 * context, with the GVL like any thread). The page's address goes along so
 * the tracer can unmap it once this code is compiled and running. Only
 * constants from the top (::) and no local names: it is evaluated in
 * whatever Ruby frame the job interrupted.
 */
static int boot_code(char *buf, size_t len, const char *boot, uint64_t page)
{
    char lit[PATH_MAX * 2 + 3];
    size_t o = 0;
    lit[o++] = '\'';
    for (const char *p = boot; *p && o + 3 < sizeof lit; p++) {
        if (*p == '\\' || *p == '\'')
            lit[o++] = '\\';
        lit[o++] = *p;
    }
    lit[o++] = '\'';
    lit[o] = '\0';
    int n = snprintf(buf, len,
                     "::Thread.new{::Thread.current.report_on_exception=false;"
                     "::Thread.current.name='polytrace-load';"
                     "::Thread.current[:polytrace_page]=0x%llx;"
                     "::Kernel.require(%s)};nil",
                     (unsigned long long)page, lit);
    return n > 0 && (size_t)n < len ? 0 : -1;
}

struct job {
    uint64_t register_one, eval;        /* addresses in the target */
    uint64_t nudge;                     /* rb_during_gc: a harmless job */
    int asked;                          /* the rb_eval_string job is registered */
    uint64_t page;                      /* our page, 0 until mapped */
    const char *boot;
};

/*
 * One visit: stop the main thread, (first time) map and fill the page and
 * ask for the rb_eval_string job, put everything back, wake the thread. Later
 * visits register a harmless job instead (rb_during_gc, which ignores its
 * argument): that sets the interrupt flag on whatever fiber is current, and
 * Ruby runs every pending job when it sees it. Asking for the line a
 * second time could queue it again after it ran, pointing at a page the
 * tracer has unmapped by then.
 */
static enum pt_load_error visit(pid_t pid, const struct pt_proc_ruby *rb, struct job *j,
                                char *why, size_t len)
{
    struct pt_inject *in;
    int rc = pt_inject_seize(pid, pid, SEIZE_TIMEOUT_MS, &in);
    if (rc == -EPERM) {
        pt_load_explain_eperm(pid, why, len);
        return PT_LOAD_PTRACE_DENIED;
    }
    if (rc == -ESRCH) {
        snprintf(why, len, "process %ld exited", (long)pid);
        return PT_LOAD_GONE;
    }
    if (rc == -EAGAIN) {
        snprintf(why, len, "process %ld was stopped by job control; it was left so", (long)pid);
        return PT_LOAD_STOPPED;
    }
    if (rc) {
        snprintf(why, len, "cannot stop process %ld with ptrace: %s", (long)pid, strerror(-rc));
        return PT_LOAD_FAILED;
    }
    enum pt_load_error e = PT_LOAD_FAILED;
    uint64_t insn, ret = 0;
    if ((rc = find_syscall_insn(in, rb, &insn)) < 0) {
        snprintf(why, len, "no system call instruction found in process %ld's code", (long)pid);
        goto out;
    }
    pt_inject_set_syscall_insn(in, insn);
    if (!j->page) {
        int64_t addr;
        uint64_t args[6] = { 0, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, (uint64_t)-1, 0 };
        rc = pt_inject_syscall(in, SYS_mmap, args, 6, &addr);
        if (rc == 0 && addr < 0 && addr > -4096)
            rc = (int)addr;
        if (rc < 0)
            goto step_failed;
        char page[4096];
        memset(page, 0, sizeof page);
        memcpy(page, PAGE_MAGIC, sizeof PAGE_MAGIC);
        if (boot_code(page + PAGE_CODE_OFFSET, sizeof page - PAGE_CODE_OFFSET, j->boot,
                      (uint64_t)addr) < 0)
            rc = -ENAMETOOLONG;
        else
            rc = pt_inject_write(in, (uint64_t)addr, page, sizeof page);
        if (rc < 0) {
            uint64_t un[2] = { (uint64_t)addr, 4096 };
            int64_t ignored;
            pt_inject_syscall(in, SYS_munmap, un, 2, &ignored);
            goto step_failed;
        }
        j->page = (uint64_t)addr;
    }
    uint64_t args[3] = { 0, j->eval, j->page + PAGE_CODE_OFFSET };
    if (j->asked) {
        args[1] = j->nudge;
        args[2] = 0;
    }
    rc = pt_inject_call(in, j->register_one, args, 3, &ret);
    if (rc < 0)
        goto step_failed;
    if ((int)ret == 0) {
        snprintf(why, len, "Ruby's postponed job queue in process %ld is full", (long)pid);
        goto out;
    }
    if (!j->asked && (int)ret == 2) {
        /* An earlier attach's request is still queued (with its own page,
         * loading the same file): ours is not needed. */
        uint64_t un[2] = { j->page, 4096 };
        int64_t ignored;
        pt_inject_syscall(in, SYS_munmap, un, 2, &ignored);
    }
    j->asked = 1;
    e = PT_LOAD_OK;
    goto out;
step_failed:
    if (rc == -ESRCH) {
        snprintf(why, len, "process %ld exited", (long)pid);
        e = PT_LOAD_GONE;
    } else if (rc == -EFAULT) {
        snprintf(why, len, "Ruby in process %ld could not take the request (it faulted and "
                 "was put back as it was); is it shutting down?", (long)pid);
    } else {
        snprintf(why, len, "cannot run in process %ld: %s", (long)pid, strerror(-rc));
    }
out:
    rc = pt_inject_release(in);
    if (rc && e == PT_LOAD_OK) {
        snprintf(why, len, "cannot restore process %ld: %s", (long)pid, strerror(-rc));
        e = PT_LOAD_FAILED;
    }
    return e;
}

enum pt_load_error pt_load_tracer(pid_t pid, int timeout_ms, char *why, size_t len)
{
    struct pt_proc_ruby rb;
    enum pt_load_error e = preflight(pid, &rb, why, len);
    if (e)
        return e;

    struct job j = { 0 };
    char boot[PATH_MAX];
    if (pt_load_boot_file(boot, sizeof boot) < 0) {
        snprintf(why, len, "cannot find polytrace's %s (is polytrace installed?)", BOOT_NAME);
        return PT_LOAD_NO_TRACER_FILES;
    }
    j.boot = boot;

    const char *names[3] = { "rb_postponed_job_register_one", "rb_eval_string", "rb_during_gc" };
    uint64_t vals[3];
    const char *missing;
    struct pt_elf_info li;
    struct stat sb;
    if (stat(rb.path, &sb) != 0 || sb.st_ino != rb.inode) {
        snprintf(why, len, "%s changed on disk since process %ld started (Ruby upgraded?); "
                 "cannot find its functions", rb.path, (long)pid);
        return PT_LOAD_FAILED;
    }
    if (pt_elf_info(rb.path, &li) < 0 || pt_elf_dynsyms(rb.path, names, vals, 3, &missing) < 0) {
        snprintf(why, len, "cannot read %s's symbols", rb.path);
        return PT_LOAD_FAILED;
    }
    uint64_t bias = rb.start - li.min_vaddr;
    j.register_one = bias + vals[0];
    j.eval = bias + vals[1];
    j.nudge = bias + vals[2];

    char dir[PATH_MAX], ticket[PATH_MAX];
    int rc;
    if ((rc = pt_proto_sockdir_ensure(dir, sizeof dir)) < 0 ||
        (rc = pt_proto_inject_ticket_path(dir, pid, ticket, sizeof ticket)) < 0) {
        snprintf(why, len, rc == -EPERM ? "refusing the socket directory %s (it must be yours "
                 "with mode 0700)" : "cannot use the socket directory %s", dir);
        return PT_LOAD_FAILED;
    }
    /* The ticket is also the lock: one attach brings the tracer in at a time.
     * One older than any attach can take was left by a controller that died. */
    int tfd = open(ticket, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    struct stat ost;
    if (tfd < 0 && errno == EEXIST && lstat(ticket, &ost) == 0 &&
        time(NULL) - ost.st_mtime > STALE_TICKET_S && unlink(ticket) == 0)
        tfd = open(ticket, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (tfd < 0 && errno == EEXIST) {
        snprintf(why, len, "another polytrace is bringing the tracer into process %ld right "
                 "now; try again in a moment", (long)pid);
        return PT_LOAD_FAILED;
    }
    if (tfd < 0) {
        snprintf(why, len, "cannot create %s: %s", ticket, strerror(errno));
        return PT_LOAD_FAILED;
    }
    close(tfd);

    long deadline = now_ms() + timeout_ms, next_visit = 0;
    for (;;) {
        if (now_ms() >= next_visit) {
            e = visit(pid, &rb, &j, why, len);
            if (e) {
                unlink(ticket);
                return e;
            }
            next_visit = now_ms() + RETRY_MS;
        }
        struct stat ts;
        if (stat(ticket, &ts) != 0 && errno == ENOENT)
            return PT_LOAD_OK;      /* the tracer took it: it is ready */
        if (kill(pid, 0) != 0) {
            unlink(ticket);
            snprintf(why, len, "process %ld exited", (long)pid);
            return PT_LOAD_GONE;
        }
        if (now_ms() >= deadline)
            break;
        sleep_ms(10);
    }
    if (unlink(ticket) != 0 && errno == ENOENT)
        return PT_LOAD_OK;          /* the tracer took it just now */
    snprintf(why, len, "process %ld did not reach a point where Ruby can load the tracer "
             "within %d s (it may be running native code that never checks for "
             "interrupts); it was not stopped, and if it gets there later the tracer "
             "loads idle and the program runs on", (long)pid, timeout_ms / 1000);
    return PT_LOAD_TIMEOUT;
}
