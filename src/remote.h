/* remote.h: the POSIX sh script that runs on the sidecar (src/remote.sh). */
#ifndef SIDECAR_REMOTE_H
#define SIDECAR_REMOTE_H

extern const char remote_sh[];
/* Its POSIX cksum, "CRC SIZE", and the name it is installed under, "CRC-SIZE". */
extern const char remote_sh_sum[];
extern const char remote_sh_id[];

#endif
