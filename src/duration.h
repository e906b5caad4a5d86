/* duration.h: "500ms", "2s", "90", "1m30s". Pure. */
#ifndef SIDECAR_DURATION_H
#define SIDECAR_DURATION_H

/*
 * Parses a duration into milliseconds: a sequence of <digits><unit> with
 * units h, m, s and ms, in decreasing order, or bare digits meaning seconds.
 * Returns 0, or -1 for anything else: empty, negative, fractions, unknown
 * units, repeated units, or more than 30 days.
 */
int parse_duration(const char *s, long long *ms);

/* Formats ms as the shortest of "90s", "1m30s", "500ms", "1.5s" into out. */
void format_duration(long long ms, char *out, unsigned long size);

#endif
