/*
 * inject.c — borrowing one thread of another process with ptrace (x86-64).
 *
 * The thread is seized and interrupted (no signal is sent), its registers
 * and xsave area saved. Work is done by pointing it at code that is already
 * in the process: a `syscall` instruction found in its libc, or a function
 * that returns into that instruction. Every resume is PTRACE_SYSCALL, so the
 * end of each piece of work is a syscall-entry stop at a known address, and
 * no breakpoint, signal or written code is needed. Signals that arrive while
 * we hold the thread are passed on to it as they come; a fault in the
 * borrowed code is swallowed and reported. Release puts every register back,
 * with one deliberate difference: a wait the thread was blocked in returns
 * EINTR, as it would had a signal handler run (all of Ruby's handlers run
 * without SA_RESTART, and Ruby itself interrupts its threads' waits so), so
 * that the thread goes back to its caller and looks for what we left it.
 * A call the kernel must never fail with EINTR is restarted instead, as the
 * kernel does it (instruction pointer back onto the `syscall`).
 */
#include "inject.h"

#include <errno.h>
#include <stdlib.h>

#if defined(__x86_64__)

#include <elf.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* The kernel's restart codes (never seen by user space). */
#define K_ERESTARTSYS 512
#define K_ERESTARTNOINTR 513
#define K_ERESTARTNOHAND 514
#define K_ERESTART_RESTARTBLOCK 516

#define XSTATE_MAX 65536
#define STEP_TIMEOUT_MS 5000

struct pt_inject {
    pid_t pid, tid;
    int memfd;
    uint64_t insn;                      /* a `syscall` instruction */
    struct user_regs_struct saved;
    unsigned char *xstate;
    size_t xstate_len;
};

static long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

/* waitpid for tid with a deadline. 0 with *st, -ETIMEDOUT, -errno. */
static int wait_tid(pid_t tid, int *st, long deadline)
{
    for (;;) {
        pid_t r = waitpid(tid, st, __WALL | WNOHANG);
        if (r == tid)
            return 0;
        if (r < 0 && errno != EINTR)
            return -errno;
        if (now_ms() >= deadline)
            return -ETIMEDOUT;
        struct timespec ts = { 0, 500 * 1000L };
        nanosleep(&ts, NULL);
    }
}

static int is_job_control_stop(int sig)
{
    return sig == SIGSTOP || sig == SIGTSTP || sig == SIGTTIN || sig == SIGTTOU;
}

int pt_inject_seize(pid_t pid, pid_t tid, int timeout_ms, struct pt_inject **out)
{
    struct pt_inject *in = calloc(1, sizeof *in);
    if (!in)
        return -ENOMEM;
    in->pid = pid;
    in->tid = tid;
    in->memfd = -1;
    in->xstate = malloc(XSTATE_MAX);
    if (!in->xstate) {
        free(in);
        return -ENOMEM;
    }
    if (ptrace(PTRACE_SEIZE, tid, 0, (void *)(long)PTRACE_O_TRACESYSGOOD) != 0) {
        int e = errno;
        free(in->xstate);
        free(in);
        return -e;
    }
    int rc, st, sig;
    long deadline = now_ms() + timeout_ms;
    if (ptrace(PTRACE_INTERRUPT, tid, 0, 0) != 0) {
        rc = -errno;
        goto fail;
    }
    for (;;) {
        if ((rc = wait_tid(tid, &st, deadline)) < 0)
            goto fail;
        if (WIFEXITED(st) || WIFSIGNALED(st)) {
            rc = -ESRCH;
            goto fail_gone;
        }
        if (!WIFSTOPPED(st))
            continue;
        sig = WSTOPSIG(st);
        if ((st >> 16) == PTRACE_EVENT_STOP) {
            if (is_job_control_stop(sig)) {
                rc = -EAGAIN;       /* stopped by job control: leave it so */
                goto fail;
            }
            break;                  /* our interrupt */
        }
        /* A signal on its way in: let it through, the interrupt follows. */
        if (ptrace(PTRACE_CONT, tid, 0, (void *)(long)sig) != 0) {
            rc = -errno;
            goto fail;
        }
    }
    struct iovec iov = { in->xstate, XSTATE_MAX };
    if (ptrace(PTRACE_GETREGS, tid, 0, &in->saved) != 0 ||
        ptrace(PTRACE_GETREGSET, tid, (void *)NT_X86_XSTATE, &iov) != 0) {
        rc = -errno;
        goto fail;
    }
    in->xstate_len = iov.iov_len;
    char path[64];
    snprintf(path, sizeof path, "/proc/%ld/mem", (long)pid);
    in->memfd = open(path, O_RDWR | O_CLOEXEC);
    if (in->memfd < 0) {
        rc = -errno;
        goto fail;
    }
    *out = in;
    return 0;
fail:
    /* Detaching a thread that never stopped fails; the kernel lets go of
     * it when we exit. One that stopped continues as it was. */
    ptrace(PTRACE_DETACH, tid, 0, 0);
fail_gone:
    free(in->xstate);
    free(in);
    return rc;
}

int pt_inject_was_in_syscall(const struct pt_inject *in)
{
    return (long)in->saved.orig_rax >= 0;
}

void pt_inject_set_syscall_insn(struct pt_inject *in, uint64_t addr)
{
    in->insn = addr;
}

int pt_inject_read(const struct pt_inject *in, uint64_t addr, void *buf, size_t len)
{
    ssize_t n = pread(in->memfd, buf, len, (off_t)addr);
    if (n < 0)
        return -errno;
    return (size_t)n == len ? 0 : -EIO;
}

int pt_inject_write(const struct pt_inject *in, uint64_t addr, const void *buf, size_t len)
{
    ssize_t n = pwrite(in->memfd, buf, len, (off_t)addr);
    if (n < 0)
        return -errno;
    return (size_t)n == len ? 0 : -EIO;
}

/*
 * Resumes the thread (PTRACE_SYSCALL) until it enters a system call at
 * in->insn, passing other signals on and letting its own system calls (a
 * signal handler's) run. On return the thread is at that entry stop with
 * *regs read. -EFAULT when the borrowed code faulted, -EAGAIN on a job
 * control stop, -ESRCH when the process died, -ETIMEDOUT.
 */
static int run_to_insn_entry(struct pt_inject *in, struct user_regs_struct *regs)
{
    long deadline = now_ms() + STEP_TIMEOUT_MS;
    int sig = 0, st;
    for (;;) {
        if (ptrace(PTRACE_SYSCALL, in->tid, 0, (void *)(long)sig) != 0)
            return -errno;
        sig = 0;
        int rc = wait_tid(in->tid, &st, deadline);
        if (rc < 0)
            return rc;
        if (WIFEXITED(st) || WIFSIGNALED(st))
            return -ESRCH;
        if (!WIFSTOPPED(st))
            continue;
        int s = WSTOPSIG(st);
        if (s == (SIGTRAP | 0x80)) {
            struct __ptrace_syscall_info info;
            long n = ptrace(PTRACE_GET_SYSCALL_INFO, in->tid, (void *)sizeof info, &info);
            if (n <= 0)
                return n < 0 ? -errno : -EIO;
            if (info.op == PTRACE_SYSCALL_INFO_ENTRY && info.instruction_pointer == in->insn + 2) {
                if (ptrace(PTRACE_GETREGS, in->tid, 0, regs) != 0)
                    return -errno;
                return 0;
            }
            continue;   /* a system call of a signal handler: let it run */
        }
        if ((st >> 16) == PTRACE_EVENT_STOP) {
            if (is_job_control_stop(s))
                return -EAGAIN;
            continue;
        }
        if (st >> 16)
            continue;
        siginfo_t si;
        memset(&si, 0, sizeof si);
        ptrace(PTRACE_GETSIGINFO, in->tid, 0, &si);
        if ((s == SIGSEGV || s == SIGBUS || s == SIGILL || s == SIGFPE || s == SIGTRAP) &&
            si.si_code > 0)
            return -EFAULT;     /* raised by our code: swallowed */
        sig = s;                /* someone else's signal: deliver it */
    }
}

/* From the entry stop at in->insn: skip that system call, stop at its exit. */
static int skip_to_exit(struct pt_inject *in, struct user_regs_struct *regs)
{
    long deadline = now_ms() + STEP_TIMEOUT_MS;
    int st;
    regs->orig_rax = (unsigned long long)-1;
    if (ptrace(PTRACE_SETREGS, in->tid, 0, regs) != 0 || ptrace(PTRACE_SYSCALL, in->tid, 0, 0) != 0)
        return -errno;
    for (;;) {
        int rc = wait_tid(in->tid, &st, deadline);
        if (rc < 0)
            return rc;
        if (WIFEXITED(st) || WIFSIGNALED(st))
            return -ESRCH;
        if (WIFSTOPPED(st) && WSTOPSIG(st) == (SIGTRAP | 0x80))
            return ptrace(PTRACE_GETREGS, in->tid, 0, regs) == 0 ? 0 : -errno;
        if (ptrace(PTRACE_SYSCALL, in->tid, 0, 0) != 0)
            return -errno;
    }
}

int pt_inject_syscall(struct pt_inject *in, long nr, const uint64_t *args, int nargs, int64_t *ret)
{
    struct user_regs_struct r = in->saved;
    unsigned long long *slot[6] = { &r.rdi, &r.rsi, &r.rdx, &r.r10, &r.r8, &r.r9 };
    if (!in->insn || nargs > 6)
        return -EINVAL;
    for (int i = 0; i < nargs; i++)
        *slot[i] = args[i];
    r.rip = in->insn;
    r.rax = (unsigned long long)nr;
    r.orig_rax = (unsigned long long)-1;    /* no restart of what was interrupted */
    if (ptrace(PTRACE_SETREGS, in->tid, 0, &r) != 0)
        return -errno;
    int rc = run_to_insn_entry(in, &r);
    if (rc)
        return rc;
    /* At the entry stop: let this one run to its exit. */
    long deadline = now_ms() + STEP_TIMEOUT_MS;
    int st;
    if (ptrace(PTRACE_SYSCALL, in->tid, 0, 0) != 0)
        return -errno;
    for (;;) {
        if ((rc = wait_tid(in->tid, &st, deadline)) < 0)
            return rc;
        if (WIFEXITED(st) || WIFSIGNALED(st))
            return -ESRCH;
        if (WIFSTOPPED(st) && WSTOPSIG(st) == (SIGTRAP | 0x80))
            break;
        if (ptrace(PTRACE_SYSCALL, in->tid, 0, 0) != 0)
            return -errno;
    }
    if (ptrace(PTRACE_GETREGS, in->tid, 0, &r) != 0)
        return -errno;
    *ret = (int64_t)r.rax;
    return 0;
}

int pt_inject_call(struct pt_inject *in, uint64_t fn, const uint64_t *args, int nargs, uint64_t *ret)
{
    struct user_regs_struct r = in->saved;
    unsigned long long *slot[6] = { &r.rdi, &r.rsi, &r.rdx, &r.rcx, &r.r8, &r.r9 };
    if (!in->insn || nargs > 6)
        return -EINVAL;
    /* Far below the red zone, 16-byte aligned at the call, as if `call`ed. */
    uint64_t sp = ((in->saved.rsp - 1024) & ~(uint64_t)15) - 8, old;
    int rc;
    if ((rc = pt_inject_read(in, sp, &old, sizeof old)) < 0 ||
        (rc = pt_inject_write(in, sp, &in->insn, sizeof in->insn)) < 0)
        return rc;
    for (int i = 0; i < nargs; i++)
        *slot[i] = args[i];
    r.rsp = sp;
    r.rip = fn;
    r.rax = 0;
    r.orig_rax = (unsigned long long)-1;
    if (ptrace(PTRACE_SETREGS, in->tid, 0, &r) != 0) {
        rc = -errno;
    } else if ((rc = run_to_insn_entry(in, &r)) == 0) {
        *ret = r.orig_rax;  /* rax on entry: the function's return value */
        rc = skip_to_exit(in, &r);
    }
    int wr = pt_inject_write(in, sp, &old, sizeof old);
    return rc ? rc : wr;
}

int pt_inject_release(struct pt_inject *in)
{
    struct user_regs_struct r = in->saved;
    int rc = 0;
    if (pt_inject_was_in_syscall(in)) {
        long err = -(long)r.rax;
        if (err == K_ERESTARTNOINTR) {
            r.rax = r.orig_rax;     /* must restart, as the kernel would */
            r.rip -= 2;
        } else if (err == K_ERESTARTSYS || err == K_ERESTARTNOHAND ||
                   err == K_ERESTART_RESTARTBLOCK) {
            r.rax = (unsigned long long)-EINTR;
        }
        r.orig_rax = (unsigned long long)-1;
    }
    struct iovec iov = { in->xstate, in->xstate_len };
    if (ptrace(PTRACE_SETREGS, in->tid, 0, &r) != 0 ||
        ptrace(PTRACE_SETREGSET, in->tid, (void *)NT_X86_XSTATE, &iov) != 0)
        rc = -errno;
    if (ptrace(PTRACE_DETACH, in->tid, 0, 0) != 0 && !rc)
        rc = -errno;
    if (in->memfd >= 0)
        close(in->memfd);
    free(in->xstate);
    free(in);
    return rc;
}

#else /* not x86-64 */

struct pt_inject {
    int unused;
};

int pt_inject_seize(pid_t pid, pid_t tid, int timeout_ms, struct pt_inject **out)
{
    (void)pid, (void)tid, (void)timeout_ms, (void)out;
    return -ENOSYS;
}
int pt_inject_was_in_syscall(const struct pt_inject *in) { (void)in; return 0; }
void pt_inject_set_syscall_insn(struct pt_inject *in, uint64_t addr) { (void)in, (void)addr; }
int pt_inject_syscall(struct pt_inject *in, long nr, const uint64_t *args, int nargs, int64_t *ret)
{
    (void)in, (void)nr, (void)args, (void)nargs, (void)ret;
    return -ENOSYS;
}
int pt_inject_call(struct pt_inject *in, uint64_t fn, const uint64_t *args, int nargs, uint64_t *ret)
{
    (void)in, (void)fn, (void)args, (void)nargs, (void)ret;
    return -ENOSYS;
}
int pt_inject_read(const struct pt_inject *in, uint64_t addr, void *buf, size_t len)
{
    (void)in, (void)addr, (void)buf, (void)len;
    return -ENOSYS;
}
int pt_inject_write(const struct pt_inject *in, uint64_t addr, const void *buf, size_t len)
{
    (void)in, (void)addr, (void)buf, (void)len;
    return -ENOSYS;
}
int pt_inject_release(struct pt_inject *in) { (void)in; return -ENOSYS; }

#endif
