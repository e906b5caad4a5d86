/* excludes.c: the local ignore rules that are not in the tree. */
#include "excludes.h"

#include <stdlib.h>
#include <string.h>

#include "snapshot.h"

char *excludes_path(const char *value, const char *home, const char *xdg, const char *toplevel,
		    int *ask)
{
	struct buf b = BUF_INIT;

	*ask = 0;
	if (!value) {
		/* git's default: the XDG one */
		if (xdg && *xdg)
			buf_addf(&b, "%s/git/ignore", xdg);
		else if (home && *home)
			buf_addf(&b, "%s/.config/git/ignore", home);
		return b.s;
	}
	if (!*value)
		return NULL;
	if (value[0] == '~' && (value[1] == '/' || !value[1])) {
		if (!home || !*home)
			return NULL;	/* git cannot expand it either */
		buf_addf(&b, "%s%s", home, value + 1);
		return b.s;
	}
	if (value[0] == '~' || strncmp(value, "%(", 2) == 0) {
		*ask = 1;
		return NULL;
	}
	if (value[0] != '/' && toplevel)
		buf_addf(&b, "%s/", toplevel);	/* git reads it from the top */
	buf_adds(&b, value);
	return b.s;
}

void excludes_filter(const char *text, size_t len, struct buf *out)
{
	for (const char *p = text, *end = text + len; p < end;) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
		if (n && p[0] != '#' && !memchr(p, '\0', n)) {
			buf_add(out, p, n);
			buf_addc(out, '\n');
		}
		p += n + 1;
	}
}

/* Appends the rules of the file at path (NULL: none). */
static void read_rules(const char *path, struct buf *out)
{
	struct buf text = BUF_INIT;

	if (path && buf_read_file(&text, path) == 0 && text.len)
		excludes_filter(text.s, text.len, out);
	buf_free(&text);
}

void excludes_read(const struct git *g, const struct local_repo *repo, struct buf *out)
{
	struct buf path = BUF_INIT;
	int ask;
	char *file = excludes_path(repo->excludes_file, getenv("HOME"), getenv("XDG_CONFIG_HOME"),
				   repo->toplevel, &ask);

	if (ask && git_run(g, &path, NULL, "config", "--path", "--get", "core.excludesfile",
			   (char *)NULL) == 0 && path.len)
		file = excludes_path(path.s, NULL, NULL, repo->toplevel, &ask);
	read_rules(file, out);
	free(file);
	buf_reset(&path);
	buf_addf(&path, "%s/info/exclude", repo->commondir);
	read_rules(path.s, out);
	buf_free(&path);
}
