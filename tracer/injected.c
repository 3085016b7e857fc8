/*
 * injected.c — the tracer's side of being brought into a running process
 * by `polytrace attach` (controller/load.c). A line of Ruby the controller
 * put in a page of ours started a thread that loaded polytrace/injected.rb;
 * PolyTrace.__injected(page), called from there once the tracer is booted,
 * unmaps that page (the line is compiled and running: nothing reads it any
 * more) and removes the controller's ticket to say "ready for SIGURG". If
 * the controller gave up waiting (the ticket is gone), the tracer stays
 * loaded and idle, and nothing else happens.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include "tracer.h"

#define PAGE_MAGIC "polytrace-inject"   /* controller/load.c writes it */

/* True when addr starts a one-page private anonymous read-only mapping
 * that begins with the magic: the controller's page, and nothing else. */
static int is_our_page(unsigned long addr)
{
    FILE *f = fopen("/proc/self/maps", "re");
    char line[512];
    int ours = 0;

    if (!f)
        return 0;
    while (fgets(line, sizeof line, f)) {
        unsigned long start, end, off, inode;
        char perms[8], dev[16];
        int pos = 0;

        if (sscanf(line, "%lx-%lx %7s %lx %15s %lu%n", &start, &end, perms, &off, dev, &inode,
                   &pos) != 6 || start != addr)
            continue;
        ours = strcmp(perms, "r--p") == 0 && !off && !inode && end - start == 4096 &&
               line[pos + strspn(line + pos, " \t")] == '\n' &&
               memcmp((const void *)start, PAGE_MAGIC, sizeof PAGE_MAGIC) == 0;
        break;
    }
    fclose(f);
    return ours;
}

/* PolyTrace.__injected(page): true when a controller is waiting for us. */
static VALUE tr_injected(VALUE self, VALUE page)
{
    char dir[PATH_MAX], ticket[PATH_MAX];
    unsigned long addr = NIL_P(page) ? 0 : NUM2ULONG(page);

    (void)self;
    pt_idle_injected();
    if (addr && is_our_page(addr))
        munmap((void *)addr, 4096);
    if (pt_proto_sockdir_path(dir, sizeof dir) < 0 ||
        pt_proto_inject_ticket_path(dir, getpid(), ticket, sizeof ticket) < 0)
        return Qfalse;
    return unlink(ticket) == 0 ? Qtrue : Qfalse;
}

void pt_injected_init(VALUE mod)
{
    rb_define_singleton_method(mod, "__injected", tr_injected, 1);
}
