/*
 * elfsym.c — reading the ELF files a target process has mapped (its
 * executable, libruby) with libelf: header facts and dynamic symbol values.
 * `attach` turns those values into addresses in the target by adding the
 * load bias it computes from /proc/PID/maps.
 */
#include "elfsym.h"

#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <string.h>
#include <unistd.h>

static int open_elf(const char *path, int *fd, Elf **e)
{
    if (elf_version(EV_CURRENT) == EV_NONE)
        return -ENOSYS;
    *fd = open(path, O_RDONLY | O_CLOEXEC);
    if (*fd < 0)
        return -errno;
    *e = elf_begin(*fd, ELF_C_READ, NULL);
    if (!*e || elf_kind(*e) != ELF_K_ELF) {
        if (*e)
            elf_end(*e);
        close(*fd);
        return -ENOEXEC;
    }
    return 0;
}

int pt_elf_info(const char *path, struct pt_elf_info *out)
{
    int fd, rc;
    Elf *e;
    GElf_Ehdr eh;
    size_t nph;

    if ((rc = open_elf(path, &fd, &e)) < 0)
        return rc;
    rc = -ENOEXEC;
    if (gelf_getehdr(e, &eh) && elf_getphdrnum(e, &nph) == 0) {
        out->elf_class = gelf_getclass(e);
        out->machine = eh.e_machine;
        out->min_vaddr = UINT64_MAX;
        for (size_t i = 0; i < nph; i++) {
            GElf_Phdr ph;
            if (gelf_getphdr(e, (int)i, &ph) && ph.p_type == PT_LOAD && ph.p_vaddr < out->min_vaddr)
                out->min_vaddr = ph.p_vaddr;
        }
        if (out->min_vaddr == UINT64_MAX)
            out->min_vaddr = 0;
        out->min_vaddr &= ~(uint64_t)0xfff;
        rc = 0;
    }
    elf_end(e);
    close(fd);
    return rc;
}

int pt_elf_dynsyms(const char *path, const char *const *names, uint64_t *values, int n,
                   const char **missing)
{
    int fd, rc, found = 0;
    Elf *e;
    Elf_Scn *scn = NULL;

    *missing = NULL;
    for (int i = 0; i < n; i++)
        values[i] = 0;
    if ((rc = open_elf(path, &fd, &e)) < 0)
        return rc;
    while ((scn = elf_nextscn(e, scn)) && found < n) {
        GElf_Shdr sh;
        Elf_Data *d;
        if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_DYNSYM || !sh.sh_entsize)
            continue;
        if (!(d = elf_getdata(scn, NULL)))
            continue;
        size_t count = sh.sh_size / sh.sh_entsize;
        for (size_t k = 0; k < count && found < n; k++) {
            GElf_Sym s;
            if (!gelf_getsym(d, (int)k, &s) || s.st_shndx == SHN_UNDEF || !s.st_value)
                continue;
            const char *name = elf_strptr(e, sh.sh_link, s.st_name);
            if (!name)
                continue;
            for (int i = 0; i < n; i++) {
                if (!values[i] && strcmp(name, names[i]) == 0) {
                    values[i] = s.st_value;
                    found++;
                }
            }
        }
    }
    elf_end(e);
    close(fd);
    for (int i = 0; i < n; i++) {
        if (!values[i]) {
            *missing = names[i];
            return -ENOENT;
        }
    }
    return 0;
}

const char *pt_elf_machine_name(int machine)
{
    switch (machine) {
    case EM_X86_64: return "x86-64";
    case EM_386: return "i386";
    case EM_AARCH64: return "aarch64";
    case EM_ARM: return "arm";
    case EM_RISCV: return "riscv";
    case EM_PPC64: return "ppc64";
    case EM_S390: return "s390";
    default: return "an unknown machine";
    }
}
