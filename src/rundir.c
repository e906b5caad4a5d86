/* rundir.c: the one private directory sidecar keeps on this machine. */
#include "rundir.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "msg.h"

char *rundir(void)
{
	const char *xdg = getenv("XDG_RUNTIME_DIR");
	const char *tmp = getenv("TMPDIR");
	struct buf b = BUF_INIT;
	struct stat st;

	if (xdg && *xdg == '/')
		buf_addf(&b, "%s/sidecar", xdg);
	else
		buf_addf(&b, "%s/sidecar-%ld", tmp && *tmp == '/' ? tmp : "/tmp",
			 (long)getuid());
	if (mkdir(b.s, 0700) < 0 && errno != EEXIST) {
		error("cannot create control directory %s: %s", b.s, strerror(errno));
		buf_free(&b);
		return NULL;
	}
	if (lstat(b.s, &st) < 0 || !S_ISDIR(st.st_mode) || st.st_uid != getuid() ||
	    (st.st_mode & 077)) {
		error("control directory %s is not a private directory of ours "
		      "(it must be owned by uid %ld with mode 0700); remove it or fix it",
		      b.s, (long)getuid());
		buf_free(&b);
		return NULL;
	}
	return b.s;
}

int rundir_write(const char *path, const char *data, size_t len)
{
	struct buf tmp = BUF_INIT;
	int fd, rc = 0;

	buf_addf(&tmp, "%s.%ld", path, (long)getpid());
	fd = open(tmp.s, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd >= 0 && write(fd, data, len) != (ssize_t)len) {
		int e = errno;
		close(fd);
		fd = -2;	/* written in part: removed below */
		errno = e ? e : ENOSPC;
	}
	if (fd < 0 || close(fd) < 0 || rename(tmp.s, path) < 0) {
		rc = error("cannot write %s: %s", path, strerror(errno));
		if (fd != -1)
			unlink(tmp.s);
	}
	buf_free(&tmp);
	return rc;
}
