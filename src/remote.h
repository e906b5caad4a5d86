/* remote.h: the POSIX sh script that runs on the sidecar (src/remote.sh). */
#ifndef SIDECAR_REMOTE_H
#define SIDECAR_REMOTE_H

extern const char remote_sh[];
/* Its POSIX cksum, "CRC SIZE": the content address it is installed under. */
extern const char remote_sh_sum[];

#endif
