/*
 * test_protocol: the reply parser, and the agreement between the keys the
 * remote script writes, the keys its protocol block declares and the keys
 * the client parses.
 */
#include "protocol.h"
#include "rawgit.h"
#include "remote.h"
#include "snapshot.h"
#include "unit.h"

#include <stdlib.h>

/* the script as written, comments and all (tests/unit/remote_source.c) */
extern const char remote_sh_source[];

static int parse(const char *text, struct reply *r, struct buf *why)
{
	buf_reset(why);
	return reply_parse(text, strlen(text), r, why);
}

static void test_parse(void)
{
	struct reply r;
	struct buf why = BUF_INIT;
	const char *oid = "0123456789abcdef0123456789abcdef01234567";
	struct buf t = BUF_INIT;

	buf_addf(&t, "motd line\nno newline at the endSIDECAR-REPLY 1\n"
		 "\nSIDECAR-REPLY 1\nworkdir /home/u/two\\nlines \\\\ dir\nsynced %s\n"
		 "saved refs/sidecar/saved/a\nwaiting 0\nwaiting 1\nsaved refs/sidecar/saved/b\n"
		 "changed 12\nresult up-to-date\nexists yes\nmodified no\nend\ntrailing\n", oid);
	CHECK_INT(parse(t.s, &r, &why), 0, "a whole reply parses");
	CHECK_INT(r.complete, 1, "its end line is seen");
	CHECK_STR(r.workdir, "/home/u/two\nlines \\ dir", "a value with a newline and a backslash");
	CHECK_STR(r.synced, oid, "an object name");
	CHECK_INT(r.saved.n, 2, "a list key keeps every value");
	CHECK_STR(r.saved.n == 2 ? r.saved.v[1] : NULL, "refs/sidecar/saved/b", "in order");
	CHECK_INT(r.changed, 12, "a count");
	CHECK_INT(r.result, RESULT_UP_TO_DATE, "a result");
	CHECK_INT(r.exists, EXISTS_YES, "exists");
	CHECK_INT(r.modified, 0, "a flag said no");
	CHECK(r.head == NULL && r.origin == NULL, "keys not said stay absent");
	reply_free(&r);

	CHECK_INT(parse("SIDECAR-REPLY 1\nworkdir /w\nchanged 3\n", &r, &why), 0,
		  "a reply without its end parses");
	CHECK_INT(r.complete, 0, "and is known to be cut short");
	reply_free(&r);
	CHECK_INT(parse("SIDECAR-REPLY 1\nchanged 3\nen", &r, &why), 0, "a last line cut short");
	CHECK_INT(r.complete, 0, "is not an end");
	reply_free(&r);

	CHECK_INT(parse("hello\n", &r, &why), -1, "no reply at all");
	CHECK_STR(why.s, "the sidecar sent no reply", "says so");
	reply_free(&r);
	CHECK_INT(parse("SIDECAR-REPLY 7\nend\n", &r, &why), -1, "another version");
	CHECK_STR(why.s, "the sidecar speaks protocol 7, not 1", "names it");
	reply_free(&r);
	CHECK_INT(parse("SIDECAR-REPLY 1\nchanged 1\nchanged 2\nend\n", &r, &why), -1,
		  "a single key twice");
	reply_free(&r);
	CHECK_INT(parse("SIDECAR-REPLY 1\nsynced not-an-oid\nend\n", &r, &why), -1, "a bad object name");
	reply_free(&r);
	CHECK_INT(parse("SIDECAR-REPLY 1\nresult maybe\nend\n", &r, &why), -1, "a bad result");
	reply_free(&r);
	CHECK_INT(parse("SIDECAR-REPLY 1\nfrobnicate yes\nend\n", &r, &why), -1, "an unknown key");
	reply_free(&r);
	CHECK_INT(parse("SIDECAR-REPLY 1\ngit no\nmissing-script yes\nend\n", &r, &why), 0, "flags");
	CHECK(r.no_git && r.missing_script, "git no, missing-script yes");
	reply_free(&r);

	buf_free(&t);
	buf_free(&why);
}

/* The keys declared in remote.sh's protocol block, one "KEY" per line. */
static void declared_keys(struct buf *out)
{
	const char *p = strstr(remote_sh_source, "Keys (once each");
	const char *end = p ? strstr(p, "# ----") : NULL;
	p = p ? strchr(p, '\n') : NULL;
	while (p && end && p < end) {
		p++;
		if (strncmp(p, "#     ", 6) == 0 && p[6] != ' ') {
			size_t n = strcspn(p + 6, " \n");
			buf_add(out, p + 6, n);
			buf_addc(out, '\n');
		}
		p = strchr(p, '\n');
	}
}

static void test_declared(void)
{
	struct buf keys = BUF_INIT, why = BUF_INIT;
	int all_parse = 1, all_declared = 1;

	declared_keys(&keys);
	CHECK(keys.len > 0, "remote.sh declares its reply keys");
	/* every declared key is one the client parses */
	for (const char *k = buf_str(&keys); *k; k = strchr(k, '\n') + 1) {
		struct buf line = BUF_INIT;
		struct reply r;
		size_t n = strcspn(k, "\n");
		buf_adds(&line, "SIDECAR-REPLY 1\n");
		buf_add(&line, k, n);
		buf_adds(&line, " x\nend\n");
		buf_reset(&why);
		reply_parse(line.s, line.len, &r, &why);
		if (strstr(buf_str(&why), "does not know")) {
			all_parse = 0;
			printf("# not parsed: %.*s\n", (int)n, k);
		}
		reply_free(&r);
		buf_free(&line);
	}
	CHECK(all_parse, "the client knows every declared key");
	/* every key the script says is declared */
	for (const char *p = remote_sh; (p = strstr(p, "say ")); p += 4) {
		/* a command: after a tab, "&& ", "|| " or "; ", not in a comment */
		const char *b = p;
		while (b > remote_sh && b[-1] == ' ')
			b--;
		if (b == remote_sh || !(b[-1] == '\t' || b[-1] == '&' || b[-1] == '|' || b[-1] == ';'))
			continue;
		size_t n = strcspn(p + 4, " \n\"");
		if (!n || p[4] == '\'' || p[4] == '$')
			continue;
		struct buf want = BUF_INIT;
		buf_addc(&want, '\n');
		buf_add(&want, p + 4, n);
		buf_addc(&want, '\n');
		struct buf hay = BUF_INIT;
		buf_addc(&hay, '\n');
		buf_adds(&hay, buf_str(&keys));
		if (!strstr(hay.s, want.s)) {
			all_declared = 0;
			printf("# said but not declared: %.*s\n", (int)n, p + 4);
		}
		buf_free(&want);
		buf_free(&hay);
	}
	CHECK(all_declared, "the script says only declared keys");
	buf_free(&keys);
	buf_free(&why);
}

static void test_bootstrap(void)
{
	struct buf cmd = BUF_INIT;
	const char *args[] = { "30", "apply", "proj", "-", NULL };

	protocol_command(&cmd, BOOT_RUN, args);
	CHECK(cmd.len < 400, "the steady bootstrap is short");
	CHECK(strstr(cmd.s, protocol_script_id()) != NULL, "it names the script by its content");
	CHECK(strstr(cmd.s, " sidecar '30' 'apply' 'proj' '-'") != NULL,
	      "the arguments follow, each quoted for the remote shell");
	buf_reset(&cmd);
	protocol_command(&cmd, BOOT_INSTALL, args);
	CHECK(cmd.len < 1024, "so is the installing one");
	CHECK(strstr(cmd.s, "cksum") != NULL, "which checks what it installs");
	buf_free(&cmd);
}

/* What the client writes and the script reads back agree. */
static void test_shared_text(void)
{
	/* remote.sh finds the rules after the mark (a sed address, up to "tree") */
	const char *mark = SNAPSHOT_RULES_MARK;
	const char *cut = strstr(mark, " tree");
	struct buf want = BUF_INIT;
	buf_adds(&want, "1,/^");
	buf_add(&want, mark, (size_t)(cut - mark) + 5);
	buf_addc(&want, '/');
	CHECK(cut && strstr(remote_sh, want.s) != NULL, "the script reads the rules after the client's mark");
	buf_free(&want);
	/* both sides turn off the same conversions */
	buf_addf(&want, "RAW_ATTRIBUTES='%.*s'", (int)strlen(RAW_ATTRIBUTES) - 1, RAW_ATTRIBUTES);
	CHECK(strstr(remote_sh, want.s) != NULL, "the script's attributes are the client's");
	buf_free(&want);
}

/* A line of the script that is a comment only: blanks, then '#'. */
static int comment_line(const char *p)
{
	p += strspn(p, " \t");
	return *p == '#';
}

/* What travels is the script as written, less its comment lines only. */
static void test_shipped(void)
{
	const char *src = remote_sh_source, *out = remote_sh;
	int same = 1, comments = 0;

	while (*src && same) {
		size_t n = strcspn(src, "\n") + (src[strcspn(src, "\n")] == '\n');
		if (comment_line(src)) {
			comments++;
		} else if (strncmp(src, out, n) == 0) {
			out += n;
		} else {
			same = 0;
		}
		src += n;
	}
	CHECK(comments > 0, "the script as written has comment lines");
	CHECK(same && *out == '\0', "the shipped script is the script less its comment lines");
	for (const char *p = remote_sh; *p; p += strcspn(p, "\n") + (p[strcspn(p, "\n")] != 0))
		if (comment_line(p)) {
			CHECK(0, "the shipped script has no comment line");
			break;
		}
}

int main(void)
{
	test_shared_text();
	test_parse();
	test_declared();
	test_bootstrap();
	test_shipped();
	return unit_done();
}
