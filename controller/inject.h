/*
 * inject.h — running a few instructions' worth of work inside another
 * process's thread with ptrace (x86-64 only), and putting everything back.
 *
 * pt_inject_seize stops one thread (PTRACE_SEIZE + PTRACE_INTERRUPT) and
 * saves its registers and extended FPU state; pt_inject_syscall makes it
 * execute one system call; pt_inject_call makes it call one function (which
 * must be async-signal-safe: the thread may have been stopped anywhere);
 * pt_inject_release restores every register — except that a wait the
 * thread was blocked in returns EINTR, as after a signal handler — and
 * detaches. No signal is generated and none is lost: signals that arrive
 * meanwhile are delivered as they come.
 */
#ifndef PT_INJECT_H
#define PT_INJECT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct pt_inject;

/*
 * Seizes and stops thread tid of process pid, waiting at most timeout_ms.
 * 0 with *out set; -EPERM (ptrace not permitted), -ESRCH (gone), -ETIMEDOUT
 * (the thread did not stop), -EAGAIN (it is stopped by job control: it was
 * left as it was), -ENOSYS (not x86-64), -errno.
 */
int pt_inject_seize(pid_t pid, pid_t tid, int timeout_ms, struct pt_inject **out);

/* True when the stopped thread was blocked in a system call. */
int pt_inject_was_in_syscall(const struct pt_inject *in);

/* Where a `syscall` instruction is, for the calls below (found by the caller). */
void pt_inject_set_syscall_insn(struct pt_inject *in, uint64_t addr);

/* Executes system call nr with up to 6 arguments; *ret is its raw result. */
int pt_inject_syscall(struct pt_inject *in, long nr, const uint64_t *args, int nargs, int64_t *ret);

/*
 * Calls fn(args...) (up to 6 integer arguments) on the thread's stack, well
 * below its red zone; fn returns into the `syscall` instruction, which is
 * caught at its entry and never executed. *ret is fn's return value.
 * -EFAULT when fn faulted (the fault is swallowed, nothing else happened).
 */
int pt_inject_call(struct pt_inject *in, uint64_t fn, const uint64_t *args, int nargs, uint64_t *ret);

/* Reads / writes the target's memory (/proc/PID/mem; writes ignore page protection). */
int pt_inject_read(const struct pt_inject *in, uint64_t addr, void *buf, size_t len);
int pt_inject_write(const struct pt_inject *in, uint64_t addr, const void *buf, size_t len);

/* Restores the saved state, detaches, frees in. 0 or -errno (in freed either way). */
int pt_inject_release(struct pt_inject *in);

#endif
