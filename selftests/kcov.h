/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Coverage of the module through KCOV (Documentation/dev-tools/kcov.rst).
 *
 * Kbuild compiles kmod/ with -fsanitize-coverage=trace-pc when the kernel
 * has CONFIG_KCOV (our debug kernel does, and instruments nothing else), so
 * every basic block of the module calls __sanitizer_cov_trace_pc, which
 * appends its return address to the calling thread's buffer.  The sites
 * are read from ksync.ko itself: each call has a relocation against that
 * symbol, and the return address is 4 bytes past it (the end of the
 * call's displacement).  Reached / sites is the coverage of kmod/.
 */
#ifndef KSYNC_SELFTEST_KCOV_H
#define KSYNC_SELFTEST_KCOV_H

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/kcov.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define KCOV_WORDS (1 << 16)

struct kcov {
	int fd;
	unsigned long *area;
};

/* Trace this thread from now on; -errno if the kernel has no KCOV. */
static inline int kcov_open(struct kcov *k)
{
	k->area = NULL;
	k->fd = open("/sys/kernel/debug/kcov", O_RDWR | O_CLOEXEC);
	if (k->fd < 0)
		return -errno;
	if (ioctl(k->fd, KCOV_INIT_TRACE, KCOV_WORDS))
		goto fail;
	k->area = mmap(NULL, KCOV_WORDS * sizeof(unsigned long), PROT_READ | PROT_WRITE, MAP_SHARED,
		       k->fd, 0);
	if (k->area == MAP_FAILED)
		goto fail;
	if (ioctl(k->fd, KCOV_ENABLE, KCOV_TRACE_PC))
		goto fail;
	return 0;
fail:
	if (k->area && k->area != MAP_FAILED)
		munmap(k->area, KCOV_WORDS * sizeof(unsigned long));
	close(k->fd);
	k->fd = -1;
	k->area = NULL;
	return -errno;
}

static inline void kcov_close(struct kcov *k)
{
	if (k->fd < 0)
		return;
	ioctl(k->fd, KCOV_DISABLE, 0);
	munmap(k->area, KCOV_WORDS * sizeof(unsigned long));
	close(k->fd);
	k->fd = -1;
}

/* The set of distinct PCs reached, shared by all threads. */
struct pcset {
	pthread_mutex_t lock;
	uint64_t *slot;
	size_t cap; /* a power of two */
	size_t n;
};

static inline int pcset_init(struct pcset *s, size_t cap)
{
	pthread_mutex_init(&s->lock, NULL);
	s->slot = calloc(cap, sizeof(*s->slot));
	s->cap = cap;
	s->n = 0;
	return s->slot ? 0 : -ENOMEM;
}

static inline int pcset_has(const struct pcset *s, uint64_t pc)
{
	size_t i = (pc * 0x9e3779b97f4a7c15ULL) & (s->cap - 1);

	while (s->slot[i] && s->slot[i] != pc)
		i = (i + 1) & (s->cap - 1);
	return s->slot[i] == pc;
}

/* 1 if pc is new, 0 if seen before or the set is full (3/4 used). */
static inline int pcset_add(struct pcset *s, uint64_t pc)
{
	size_t i = (pc * 0x9e3779b97f4a7c15ULL) & (s->cap - 1);

	if (s->n >= s->cap / 4 * 3)
		return 0;
	while (s->slot[i] && s->slot[i] != pc)
		i = (i + 1) & (s->cap - 1);
	if (s->slot[i])
		return 0;
	s->slot[i] = pc;
	s->n++;
	return 1;
}

/* Before a call: forget what the thread's buffer holds. */
static inline void kcov_reset(struct kcov *k)
{
	if (k->area)
		__atomic_store_n(&k->area[0], 0, __ATOMIC_RELAXED);
}

/* After a call: add what it reached to s; how many PCs were new. */
static inline int kcov_collect(struct kcov *k, struct pcset *s)
{
	unsigned long i, n;
	int fresh = 0;

	if (!k->area)
		return 0;
	n = __atomic_load_n(&k->area[0], __ATOMIC_RELAXED);
	if (n > KCOV_WORDS - 1)
		n = KCOV_WORDS - 1;
	pthread_mutex_lock(&s->lock);
	for (i = 0; i < n; i++)
		fresh += pcset_add(s, k->area[i + 1]);
	pthread_mutex_unlock(&s->lock);
	return fresh;
}

/* One coverage site of the module: a section, an offset, a function. */
struct kcov_site {
	char section[32];
	char func[48];
	uint64_t off;
};

static inline const char *elf_str(const char *img, size_t size, const Elf64_Shdr *strtab,
				  uint32_t at)
{
	if (strtab->sh_offset + at >= size)
		return "?";
	return img + strtab->sh_offset + at;
}

/*
 * Every site in ko's executable sections; the count, or -errno.  *out is
 * malloc'ed.  The sections are named as under /sys/module/ksync/sections.
 */
static inline long kcov_sites(const char *ko, struct kcov_site **out)
{
	const Elf64_Ehdr *eh;
	const Elf64_Shdr *sh, *symtab = NULL, *symstr, *shstr;
	struct kcov_site *v = NULL;
	long n = 0, cap = 0;
	uint32_t target = 0;
	struct stat st;
	char *img;
	int fd;

	fd = open(ko, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st)) {
		if (fd >= 0)
			close(fd);
		return -ENOENT;
	}
	img = mmap(NULL, st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (img == MAP_FAILED)
		return -ENOMEM;
	eh = (const Elf64_Ehdr *)img;
	if ((size_t)st.st_size < sizeof(*eh) || memcmp(eh->e_ident, ELFMAG, SELFMAG) ||
	    eh->e_ident[EI_CLASS] != ELFCLASS64 ||
	    eh->e_shoff + (uint64_t)eh->e_shnum * sizeof(*sh) > (uint64_t)st.st_size) {
		munmap(img, st.st_size);
		return -ENOEXEC;
	}
	sh = (const Elf64_Shdr *)(img + eh->e_shoff);
	shstr = &sh[eh->e_shstrndx];
	for (unsigned int i = 0; i < eh->e_shnum; i++)
		if (sh[i].sh_type == SHT_SYMTAB)
			symtab = &sh[i];
	if (!symtab) {
		munmap(img, st.st_size);
		return -ENOEXEC;
	}
	symstr = &sh[symtab->sh_link];
	const Elf64_Sym *syms = (const Elf64_Sym *)(img + symtab->sh_offset);
	size_t nsyms = symtab->sh_size / sizeof(*syms);

	for (size_t i = 0; i < nsyms; i++)
		if (!strcmp(elf_str(img, st.st_size, symstr, syms[i].st_name),
			    "__sanitizer_cov_trace_pc"))
			target = (uint32_t)i;
	for (unsigned int i = 0; target && i < eh->e_shnum; i++) {
		const Elf64_Shdr *text = &sh[sh[i].sh_info];
		const Elf64_Rela *r = (const Elf64_Rela *)(img + sh[i].sh_offset);

		if (sh[i].sh_type != SHT_RELA || sh[i].sh_info >= eh->e_shnum ||
		    !(text->sh_flags & SHF_EXECINSTR))
			continue;
		for (size_t j = 0; j < sh[i].sh_size / sizeof(*r); j++) {
			const char *func = "?";

			if (ELF64_R_SYM(r[j].r_info) != target)
				continue;
			if (n == cap) {
				struct kcov_site *nv;

				cap = cap ? cap * 2 : 1024;
				nv = realloc(v, cap * sizeof(*v));
				if (!nv) {
					free(v);
					munmap(img, st.st_size);
					return -ENOMEM;
				}
				v = nv;
			}
			for (size_t k = 0; k < nsyms; k++)
				if (ELF64_ST_TYPE(syms[k].st_info) == STT_FUNC &&
				    syms[k].st_shndx == sh[i].sh_info &&
				    syms[k].st_value <= r[j].r_offset &&
				    r[j].r_offset < syms[k].st_value + syms[k].st_size)
					func = elf_str(img, st.st_size, symstr, syms[k].st_name);
			snprintf(v[n].section, sizeof(v[n].section), "%s",
				 elf_str(img, st.st_size, shstr, text->sh_name));
			snprintf(v[n].func, sizeof(v[n].func), "%s", func);
			v[n].off = r[j].r_offset + 4;
			n++;
		}
	}
	munmap(img, st.st_size);
	*out = v;
	return n;
}

/* Where the loaded module's section starts, or 0 (gone, e.g. .init.text). */
static inline uint64_t kcov_section_base(const char *section)
{
	char path[128];
	unsigned long long a = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/sys/module/ksync/sections/%s", section);
	f = fopen(path, "r");
	if (!f)
		return 0;
	if (fscanf(f, "%llx", &a) != 1)
		a = 0;
	fclose(f);
	return a;
}

/* Init and exit code: it ran before the tests, or runs after them. */
static inline int kcov_outside_tests(const char *section)
{
	return strstr(section, "init") || strstr(section, "exit") || strstr(section, "startup");
}

/*
 * How many of the n sites s reached, and in *live how many could be: the
 * sites outside the module's init and exit code.  Marks each site in
 * hit[] (n bytes): 1 reached, 0 not, 2 out of reach.
 */
static inline long kcov_reached(const struct kcov_site *v, long n, struct pcset *s,
				unsigned char *hit, long *live)
{
	const char *last = NULL;
	uint64_t base = 0;
	long reached = 0;

	*live = 0;
	for (long i = 0; i < n; i++) {
		int h;

		if (!last || strcmp(last, v[i].section)) {
			last = v[i].section;
			base = kcov_outside_tests(last) ? 0 : kcov_section_base(last);
		}
		h = base ? pcset_has(s, base + v[i].off) : 2;
		*live += base != 0;
		reached += h == 1;
		hit[i] = (unsigned char)h;
	}
	return reached;
}

#endif
