/*
 * genrepo: writes a `git fast-import` stream of a repository shaped like a
 * real project, for make bench: nested directories, source-like text files
 * of varied sizes, a few binary and a few large files, odd names (spaces,
 * non-ASCII), a symlink, .gitignore files and a .gitattributes, and a long
 * history that edits the same files again and again (so the history is far
 * larger than the tree), with additions, deletions, renames, rewrites and
 * binary files replaced now and then.
 *
 * usage: genrepo FILES COMMITS SEED | git fast-import
 *
 * The same arguments give the same stream, byte for byte: every choice
 * comes from one seeded generator and every date from a fixed start. The
 * branch is refs/heads/main; its tree ends with at least FILES files.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct rng {
	uint64_t s;
};

/* splitmix64: small, fast, and the same on every platform */
static uint64_t next(struct rng *r)
{
	uint64_t z = (r->s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static size_t below(struct rng *r, size_t n)
{
	return n ? (size_t)(next(r) % n) : 0;
}

static int chance(struct rng *r, unsigned percent)
{
	return below(r, 100) < percent;
}

struct buf {
	char *p;
	size_t len, cap;
};

static void reserve(struct buf *b, size_t more)
{
	if (b->len + more <= b->cap)
		return;
	b->cap = (b->len + more) * 2 + 64;
	if (!(b->p = realloc(b->p, b->cap))) {
		perror("genrepo: realloc");
		exit(1);
	}
}

static void put(struct buf *b, const char *s, size_t n)
{
	reserve(b, n);
	memcpy(b->p + b->len, s, n);
	b->len += n;
}

static void puts_(struct buf *b, const char *s)
{
	put(b, s, strlen(s));
}

enum kind { K_TEXT, K_BINARY, K_FIXED };

struct file {
	char *path;
	struct buf data;
	enum kind kind;
	unsigned mode;		/* 0100644, 0100755 or 0120000 */
	int alive;
	int hot;		/* edited far more often than the rest */
};

struct repo {
	struct rng r;
	struct file *f;
	size_t n, cap, alive;
	char **dirs;
	size_t ndirs;
	long when;		/* commit time, seconds since the epoch */
	unsigned long serial;	/* makes every generated name unique */
};

static const char *const words[] = {
	"buffer", "parse", "conn", "state", "table", "entry", "index", "cache",
	"node", "tree", "list", "queue", "socket", "stream", "token", "frame",
	"packet", "header", "value", "count", "length", "offset", "config",
	"option", "error", "result", "handle", "client", "server", "request",
	"reply", "session", "channel", "timer", "event", "signal", "child",
	"proc", "path", "name", "file", "dir", "mode", "flags", "size", "data",
	"key", "hash", "seed", "map", "set", "ring", "pool", "arena", "chunk",
	"block", "page", "line", "word", "byte", "bit", "mask", "shift", "lock",
	"mutex", "cond", "wait", "retry", "delay", "limit", "max", "min", "sum",
	"avg", "rate", "scale", "width", "height", "color", "font", "glyph",
	"image", "pixel", "vertex", "shader", "mesh", "scene", "camera", "light",
};
#define NWORDS (sizeof(words) / sizeof(words[0]))

static const char *word(struct rng *r)
{
	return words[below(r, NWORDS)];
}

/* One line of C-like text, with its newline. */
static void text_line(struct rng *r, struct buf *b, int depth)
{
	char tmp[256];
	const char *a = word(r), *c = word(r), *d = word(r);

	for (int i = 0; i < depth; i++)
		put(b, "\t", 1);
	switch (below(r, 12)) {
	case 0:
		snprintf(tmp, sizeof(tmp), "if (%s->%s > %zu)\n", a, c, below(r, 4096));
		break;
	case 1:
		snprintf(tmp, sizeof(tmp), "%s_%s(%s, %s);\n", a, c, d, word(r));
		break;
	case 2:
		snprintf(tmp, sizeof(tmp), "return %s_%s(%s->%s);\n", a, c, d, word(r));
		break;
	case 3:
		snprintf(tmp, sizeof(tmp), "/* %s the %s of each %s before the %s */\n",
			 a, c, d, word(r));
		break;
	case 4:
		snprintf(tmp, sizeof(tmp), "size_t %s_%s = %s->%s + %zu;\n", a, c, d, word(r),
			 below(r, 64));
		break;
	case 5:
		snprintf(tmp, sizeof(tmp), "for (i = 0; i < %s->%s; i++)\n", a, c);
		break;
	case 6:
		snprintf(tmp, sizeof(tmp), "%s->%s[i] = %s_%s;\n", a, c, d, word(r));
		break;
	case 7:
		snprintf(tmp, sizeof(tmp), "struct %s_%s *%s = %s_new(%zu);\n", a, c, d, a,
			 below(r, 1024));
		break;
	case 8:
		snprintf(tmp, sizeof(tmp), "err = %s_%s(&%s, \"%s %s\");\n", a, c, d, word(r),
			 word(r));
		break;
	case 9:
		snprintf(tmp, sizeof(tmp), "}\n");
		break;
	case 10:
		snprintf(tmp, sizeof(tmp), "static int %s_%s(struct %s *%s)\n{\n", a, c, d, word(r));
		break;
	default:
		snprintf(tmp, sizeof(tmp), "%s = %s ? %s : 0x%04zx;\n", a, c, d, below(r, 65536));
		break;
	}
	puts_(b, tmp);
}

static void text(struct rng *r, struct buf *b, size_t size)
{
	while (b->len < size)
		text_line(r, b, (int)below(r, 3));
}

static void binary(struct rng *r, struct buf *b, size_t size)
{
	reserve(b, size + 8);
	while (b->len < size) {
		uint64_t v = next(r);
		memcpy(b->p + b->len, &v, 8);
		b->len += 8;
	}
	b->len = size;
}

/* Mostly a few KB, sometimes tens of KB, rarely a few hundred. */
static size_t text_size(struct rng *r)
{
	size_t pick = below(r, 1000);

	if (pick < 600)
		return 300 + below(r, 3000);
	if (pick < 900)
		return 3000 + below(r, 7000);
	if (pick < 990)
		return 10000 + below(r, 20000);
	return 30000 + below(r, 100000);
}

static struct file *add_file(struct repo *g, const char *path, enum kind kind, unsigned mode)
{
	struct file *f;

	if (g->n == g->cap) {
		g->cap = g->cap * 2 + 256;
		if (!(g->f = realloc(g->f, g->cap * sizeof(*g->f)))) {
			perror("genrepo: realloc");
			exit(1);
		}
	}
	f = &g->f[g->n++];
	memset(f, 0, sizeof(*f));
	if (!(f->path = strdup(path))) {
		perror("genrepo: strdup");
		exit(1);
	}
	f->kind = kind;
	f->mode = mode;
	f->alive = 1;
	g->alive++;
	return f;
}

static const char *const exts[] = { ".c", ".c", ".c", ".h", ".h", ".md", ".txt", ".py", ".sh", ".json" };

/* A new text file in a random directory, with a name no other file had. */
static struct file *new_text_file(struct repo *g)
{
	char path[512];
	const char *ext = exts[below(&g->r, sizeof(exts) / sizeof(exts[0]))];
	struct file *f;

	snprintf(path, sizeof(path), "%s/%s_%s_%lu%s", g->dirs[below(&g->r, g->ndirs)],
		 word(&g->r), word(&g->r), g->serial++, ext);
	f = add_file(g, path, K_TEXT, strcmp(ext, ".sh") == 0 ? 0100755 : 0100644);
	text(&g->r, &f->data, text_size(&g->r));
	f->hot = f->data.len < 12000 && chance(&g->r, 8);
	return f;
}

static void make_dirs(struct repo *g)
{
	static const char *const top[] = { "src", "include", "lib", "tests", "docs", "tools",
					   "third_party", "examples" };
	char path[512];

	g->ndirs = 0;
	if (!(g->dirs = calloc(512, sizeof(*g->dirs)))) {
		perror("genrepo: calloc");
		exit(1);
	}
	for (size_t t = 0; t < sizeof(top) / sizeof(top[0]); t++) {
		g->dirs[g->ndirs++] = strdup(top[t]);
		for (size_t i = 0; i < 6; i++) {
			snprintf(path, sizeof(path), "%s/%s", top[t], word(&g->r));
			g->dirs[g->ndirs++] = strdup(path);
			for (size_t j = below(&g->r, 4); j > 0; j--) {
				char deep[600];
				snprintf(deep, sizeof(deep), "%s/%s%zu", path, word(&g->r), j);
				g->dirs[g->ndirs++] = strdup(deep);
			}
		}
	}
	/* names that need care: spaces, non-ASCII */
	g->dirs[g->ndirs++] = strdup("src/with space");
	g->dirs[g->ndirs++] = strdup("docs/caf\xc3\xa9");
	for (size_t i = 0; i < g->ndirs; i++)
		if (!g->dirs[i]) {
			perror("genrepo: strdup");
			exit(1);
		}
}

static void emit_data(const char *p, size_t len)
{
	printf("data %zu\n", len);
	fwrite(p, 1, len, stdout);
	putchar('\n');
}

/* fast-import needs C-style quotes only for a leading quote or a newline */
static void emit_modify(const struct file *f)
{
	printf("M %o inline %s\n", f->mode, f->path);
	emit_data(f->data.p, f->data.len);
}

static void begin_commit(struct repo *g, const char *msg)
{
	g->when += 600 + (long)below(&g->r, 20 * 3600);
	printf("commit refs/heads/main\n");
	printf("author Dev %zu <dev%zu@example.org> %ld +0000\n", below(&g->r, 7), below(&g->r, 7), g->when);
	printf("committer Bench <bench@example.org> %ld +0000\n", g->when);
	emit_data(msg, strlen(msg));
}

/* A file chosen for an edit: the hot ones most of the time. */
static struct file *pick(struct repo *g, enum kind kind)
{
	int want_hot = chance(&g->r, 75);

	for (int tries = 0; tries < 4000; tries++) {
		struct file *f = &g->f[below(&g->r, g->n)];
		if (f->alive && f->kind == kind && (f->hot == want_hot || tries > 2000))
			return f;
	}
	return NULL;
}

/* Replaces, inserts or deletes a few lines in a few places. */
static void edit(struct repo *g, struct file *f)
{
	size_t hunks = 1 + below(&g->r, 4);

	for (size_t h = 0; h < hunks; h++) {
		struct buf add = { 0 };
		size_t at = below(&g->r, f->data.len), end;
		size_t kill = below(&g->r, 4);

		while (at > 0 && f->data.p[at - 1] != '\n')
			at--;
		end = at;
		for (size_t k = 0; k < kill && end < f->data.len; k++) {
			while (end < f->data.len && f->data.p[end] != '\n')
				end++;
			if (end < f->data.len)
				end++;
		}
		for (size_t k = below(&g->r, 5); k > 0; k--)
			text_line(&g->r, &add, 1 + (int)below(&g->r, 2));
		reserve(&f->data, add.len);
		memmove(f->data.p + at + add.len, f->data.p + end, f->data.len - end);
		if (add.len)
			memcpy(f->data.p + at, add.p, add.len);
		f->data.len = f->data.len - (end - at) + add.len;
		free(add.p);
	}
}

static void fixed_files(struct repo *g)
{
	struct file *f;
	struct buf big = { 0 };

	f = add_file(g, ".gitignore", K_FIXED, 0100644);
	puts_(&f->data, "# build outputs\nbuild/\n*.o\n*.a\n*.log\n/dist/\n__pycache__/\n");
	f = add_file(g, "docs/.gitignore", K_FIXED, 0100644);
	puts_(&f->data, "_build/\n*.pdf\n");
	f = add_file(g, ".gitattributes", K_FIXED, 0100644);
	puts_(&f->data, "*.png binary\n*.bin binary\n*.sh text eol=lf\n*.c diff=cpp\n*.h diff=cpp\n");
	f = add_file(g, "README.md", K_TEXT, 0100644);
	text(&g->r, &f->data, 6000);
	f->hot = 1;
	f = add_file(g, "Makefile", K_TEXT, 0100644);
	text(&g->r, &f->data, 3000);
	f->hot = 1;
	f = add_file(g, "docs/release notes.md", K_TEXT, 0100644);
	text(&g->r, &f->data, 8000);
	f->hot = 1;
	f = add_file(g, "docs/caf\xc3\xa9/r\xc3\xa9sum\xc3\xa9 na\xc3\xafve.txt", K_TEXT, 0100644);
	text(&g->r, &f->data, 2000);
	f = add_file(g, "docs/\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e.md", K_TEXT, 0100644);
	text(&g->r, &f->data, 2000);
	f = add_file(g, "src/with space/file name.c", K_TEXT, 0100644);
	text(&g->r, &f->data, 5000);
	f = add_file(g, "docs/LATEST", K_FIXED, 0120000);
	puts_(&f->data, "release notes.md");
	f = add_file(g, "tools/run tests.sh", K_TEXT, 0100755);
	text(&g->r, &f->data, 1500);
	/* large: a generated table (compressible) and a blob that is not */
	f = add_file(g, "third_party/data/table.csv", K_TEXT, 0100644);
	for (size_t i = 0; big.len < 1000000; i++) {
		char line[128];
		snprintf(line, sizeof(line), "%zu,%s,%s,%zu,%zu\n", i, word(&g->r), word(&g->r),
			 below(&g->r, 100000), below(&g->r, 1000));
		puts_(&big, line);
	}
	put(&f->data, big.p, big.len);
	free(big.p);
	f = add_file(g, "assets/firmware.bin", K_BINARY, 0100644);
	binary(&g->r, &f->data, 2000000);
	f = add_file(g, "assets/model.bin", K_BINARY, 0100644);
	binary(&g->r, &f->data, 1000000);
	for (int i = 0; i < 12; i++) {
		char path[64];
		snprintf(path, sizeof(path), "assets/icons/icon_%02d.png", i);
		f = add_file(g, path, K_BINARY, 0100644);
		binary(&g->r, &f->data, 2000 + below(&g->r, 30000));
	}
}

static int parse(const char *s, unsigned long *v)
{
	char *end;

	errno = 0;
	*v = strtoul(s, &end, 10);
	return (errno || end == s || *end) ? -1 : 0;
}

int main(int argc, char **argv)
{
	struct repo g;
	unsigned long files, commits, seed;
	char msg[256];

	if (argc != 4 || parse(argv[1], &files) < 0 || parse(argv[2], &commits) < 0 ||
	    parse(argv[3], &seed) < 0 || files < 50 || commits < 1) {
		fprintf(stderr, "usage: genrepo FILES COMMITS SEED | git fast-import\n"
			"(FILES at least 50, COMMITS at least 1)\n");
		return 2;
	}
	memset(&g, 0, sizeof(g));
	g.r.s = seed;
	g.when = 1420070400;	/* 2015-01-01 */
	make_dirs(&g);
	fixed_files(&g);
	/* most files from the start; the history adds the rest */
	while (g.alive < files * 85 / 100)
		new_text_file(&g);
	begin_commit(&g, "Initial import\n");
	printf("deleteall\n");
	for (size_t i = 0; i < g.n; i++)
		emit_modify(&g.f[i]);
	putchar('\n');

	for (unsigned long c = 1; c < commits; c++) {
		size_t roll = below(&g.r, 100);
		struct file *f;

		if (c % (commits / 5 + 1) == 0) {
			/* a new build of the binaries: incompressible, no delta */
			snprintf(msg, sizeof(msg), "Update firmware and model (%lu)\n", c);
			begin_commit(&g, msg);
			for (size_t i = 0; i < g.n; i++) {
				if (g.f[i].kind == K_BINARY && g.f[i].data.len >= 500000) {
					g.f[i].data.len = 0;
					binary(&g.r, &g.f[i].data, 500000 + below(&g.r, 1500000));
					emit_modify(&g.f[i]);
				}
			}
		} else if (roll < 6 || (c > commits * 9 / 10 && g.alive < files)) {
			snprintf(msg, sizeof(msg), "Add %s %s\n", word(&g.r), word(&g.r));
			begin_commit(&g, msg);
			for (size_t k = 1 + below(&g.r, 3); k > 0; k--)
				emit_modify(new_text_file(&g));
		} else if (roll < 9 && g.alive > files * 8 / 10) {
			snprintf(msg, sizeof(msg), "Remove unused %s code\n", word(&g.r));
			begin_commit(&g, msg);
			if ((f = pick(&g, K_TEXT)) != NULL) {
				printf("D %s\n", f->path);
				f->alive = 0;
				g.alive--;
			}
		} else if (roll < 11) {
			snprintf(msg, sizeof(msg), "Move %s\n", word(&g.r));
			begin_commit(&g, msg);
			if ((f = pick(&g, K_TEXT)) != NULL) {
				struct file *to = new_text_file(&g);
				printf("D %s\n", f->path);
				free(to->data.p);
				to->data = f->data;
				to->hot = f->hot;
				f->data = (struct buf){ 0 };
				f->alive = 0;
				g.alive--;
				edit(&g, to);
				emit_modify(to);
			}
		} else if (roll < 15) {
			snprintf(msg, sizeof(msg), "Rewrite %s\n", word(&g.r));
			begin_commit(&g, msg);
			if ((f = pick(&g, K_TEXT)) != NULL) {
				f->data.len = 0;
				text(&g.r, &f->data, text_size(&g.r));
				emit_modify(f);
			}
		} else {
			size_t k = 1 + below(&g.r, chance(&g.r, 10) ? 20 : 4);
			snprintf(msg, sizeof(msg), "Fix %s in %s %s\n", word(&g.r), word(&g.r), word(&g.r));
			begin_commit(&g, msg);
			while (k-- > 0)
				if ((f = pick(&g, K_TEXT)) != NULL) {
					edit(&g, f);
					emit_modify(f);
				}
		}
		putchar('\n');
	}
	while (g.alive < files) {
		begin_commit(&g, "Add the remaining files\n");
		for (size_t k = 0; k < 50 && g.alive < files; k++)
			emit_modify(new_text_file(&g));
		putchar('\n');
	}
	printf("done\n");
	return fflush(stdout) == 0 ? 0 : 1;
}
