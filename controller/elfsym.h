/*
 * elfsym.h — what `attach` needs to know about an ELF file on disk, read
 * with libelf: its machine and class, the lowest address its loadable
 * segments ask for (to turn a mapping's start into a load bias), and the
 * values of named dynamic symbols.
 */
#ifndef PT_ELFSYM_H
#define PT_ELFSYM_H

#include <stdint.h>

struct pt_elf_info {
    int elf_class;          /* ELFCLASS32 / ELFCLASS64 */
    int machine;            /* EM_X86_64, EM_AARCH64, ... */
    uint64_t min_vaddr;     /* lowest PT_LOAD p_vaddr, page-aligned down */
};

/* Reads the header of path. 0, or -errno (-ENOEXEC: not an ELF file). */
int pt_elf_info(const char *path, struct pt_elf_info *out);

/*
 * Looks up each of names[0..n) in path's dynamic symbol table (defined
 * symbols only) and stores its st_value in values[i]. 0 when all were
 * found; -ENOENT with *missing set to the first name not found; -errno.
 */
int pt_elf_dynsyms(const char *path, const char *const *names, uint64_t *values, int n,
                   const char **missing);

/* A short name for an ELF machine ("x86-64", "aarch64", "i386", ...). */
const char *pt_elf_machine_name(int machine);

#endif
