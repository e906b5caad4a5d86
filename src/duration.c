/* duration.c: durations on the command line and in git config. */
#include "duration.h"

#include <stdio.h>
#include <string.h>

#define MAX_MS (30LL * 24 * 3600 * 1000)

int parse_duration(const char *s, long long *ms)
{
	static const struct { const char *name; long long ms; } units[] = {
		{ "h", 3600000 }, { "ms", 1 }, { "m", 60000 }, { "s", 1000 },
	};
	long long total = 0;
	int last_rank = -1;	/* units must come in decreasing size */

	if (!s || !*s)
		return -1;
	while (*s) {
		long long n = 0;
		if (*s < '0' || *s > '9')
			return -1;
		for (; *s >= '0' && *s <= '9'; s++) {
			n = n * 10 + (*s - '0');
			if (n > MAX_MS)
				return -1;
		}
		long long unit = 0;
		int rank = 0;
		if (!*s) {
			if (last_rank >= 0)
				return -1;	/* "1m30" is ambiguous */
			unit = 1000;
			rank = 2;
		} else {
			size_t i;
			for (i = 0; i < sizeof units / sizeof units[0]; i++) {
				size_t k = strlen(units[i].name);
				if (strncmp(s, units[i].name, k) == 0 &&
				    !(k == 1 && s[0] == 'm' && s[1] == 's'))
					break;
			}
			if (i == sizeof units / sizeof units[0])
				return -1;
			unit = units[i].ms;
			rank = unit == 3600000 ? 0 : unit == 60000 ? 1 : unit == 1000 ? 2 : 3;
			s += strlen(units[i].name);
		}
		if (rank <= last_rank)
			return -1;
		last_rank = rank;
		total += n * unit;
		if (total > MAX_MS)
			return -1;
	}
	*ms = total;
	return 0;
}

void format_duration(long long ms, char *out, unsigned long size)
{
	if (ms < 1000)
		snprintf(out, size, "%lldms", ms);
	else if (ms % 1000)
		snprintf(out, size, "%lld.%llds", ms / 1000, (ms % 1000) / 100);
	else if (ms < 120000)
		snprintf(out, size, "%llds", ms / 1000);
	else if (ms % 60000 == 0)
		snprintf(out, size, "%lldm", ms / 60000);
	else
		snprintf(out, size, "%lldm%llds", ms / 60000, (ms % 60000) / 1000);
}
