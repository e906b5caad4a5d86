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

/* Formats ms for people: "500ms", "1.5s", "90s", "5m", "2m30s". */
void format_duration(long long ms, char *out, unsigned long size);

#endif
