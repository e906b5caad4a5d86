/*
 * jsonget: checks that stdin holds one JSON value, and prints a member of
 * it, so the test suites read sidecar's --json output without jq.
 *
 * usage: jsonget              exit 0 when stdin is exactly one JSON value
 *        jsonget [--] KEY     print the value of the top-level member KEY
 *        jsonget -k KEY...    exit 0 when every KEY is a top-level member
 *        jsonget -e           print each element of an array on a line
 *
 * The input is one JSON text as RFC 8259 defines it: a value with
 * whitespace (a final newline among it) around it and nothing else. It
 * must be UTF-8, as RFC 8259 requires of JSON exchanged between programs.
 * A \u escape of a lone surrogate is refused: it names no character and
 * has no UTF-8 form (I-JSON, RFC 7493, forbids it too). Nesting deeper
 * than MAX_DEPTH is refused rather than allowed to exhaust the stack.
 *
 * With KEY or -k, the value must be an object. A printed value ends with
 * a newline: a string unescaped to UTF-8 without its quotes; a number,
 * true, false or null as written; an object or an array as written, less
 * the whitespace between its tokens. When an object repeats a key, the
 * first member counts.
 *
 * Exit status: 0 on success; 1 when the input is not what was asked for
 * or a key is missing, with the reason on stderr; 2 on a usage error.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_DEPTH 512	/* objects and arrays inside one another */

enum { EXIT_YES = 0, EXIT_NO = 1, EXIT_USAGE = 2 };

/* A growing byte string. */
struct buf {
	char *s;
	size_t len, cap;
};

/* Where a value lies in the input. */
struct span {
	const char *s;		/* NULL when there is none */
	size_t len;
};

/* A pass over the input; the first error stops it and stays recorded. */
struct parser {
	const char *s;
	size_t len, pos;
	const char *err;	/* what went wrong, or NULL */
	size_t errpos;		/* the byte where it went wrong */
};

/* The top-level members asked for, and where their values are. */
struct query {
	char *const *keys;
	size_t n;
	struct span *found;	/* one per key, in the same order */
};

static const char oom[] = "out of memory";

static int usage(void)
{
	fprintf(stderr, "usage: jsonget [[--] KEY | -k KEY... | -e] < JSON\n");
	return EXIT_USAGE;
}

/* --- bytes ------------------------------------------------------------ */

/* Makes room for `more` bytes after the current ones. */
static int buf_grow(struct buf *b, size_t more)
{
	size_t cap = b->cap ? b->cap : 256;
	char *s;

	if (more > SIZE_MAX - b->len)
		return -1;
	while (cap < b->len + more)
		cap = cap > SIZE_MAX / 2 ? b->len + more : cap * 2;
	if (cap == b->cap)
		return 0;
	s = realloc(b->s, cap);
	if (!s)
		return -1;
	b->s = s;
	b->cap = cap;
	return 0;
}

static int buf_add(struct buf *b, const void *data, size_t n)
{
	if (buf_grow(b, n))
		return -1;
	memcpy(b->s + b->len, data, n);
	b->len += n;
	return 0;
}

/* Reads `in` to its end into b; -1 with errno set on failure. */
static int read_all(FILE *in, struct buf *b)
{
	size_t n;

	do {
		if (buf_grow(b, 4096)) {
			errno = ENOMEM;
			return -1;
		}
		n = fread(b->s + b->len, 1, b->cap - b->len, in);
		b->len += n;
	} while (n > 0);
	return ferror(in) ? -1 : 0;
}

/*
 * The length of the well-formed UTF-8 sequence at s (at most n bytes
 * long), or 0 when there is none: no overlong forms, no surrogates,
 * nothing above U+10FFFF (RFC 3629, section 4).
 */
static size_t utf8_len(const unsigned char *s, size_t n)
{
	size_t len, i;
	unsigned char lo = 0x80, hi = 0xbf;	/* the range of the second byte */

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		len = 2;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		len = 3;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		len = 4;
	else
		return 0;
	if (s[0] == 0xe0)
		lo = 0xa0;
	else if (s[0] == 0xed)
		hi = 0x9f;
	else if (s[0] == 0xf0)
		lo = 0x90;
	else if (s[0] == 0xf4)
		hi = 0x8f;
	if (n < len || s[1] < lo || s[1] > hi)
		return 0;
	for (i = 2; i < len; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	return len;
}

/* Writes code point cp (a scalar value) as UTF-8 to out; returns the length. */
static size_t utf8_put(unsigned long cp, char *out)
{
	if (cp < 0x80) {
		out[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (char)(0xc0 | cp >> 6);
		out[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = (char)(0xe0 | cp >> 12);
		out[1] = (char)(0x80 | (cp >> 6 & 0x3f));
		out[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	out[0] = (char)(0xf0 | cp >> 18);
	out[1] = (char)(0x80 | (cp >> 12 & 0x3f));
	out[2] = (char)(0x80 | (cp >> 6 & 0x3f));
	out[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

/* --- the grammar (RFC 8259) --------------------------------------------- */

/* Records the first error at the current position; returns -1. */
static int fail(struct parser *p, const char *why)
{
	if (!p->err) {
		p->err = why;
		p->errpos = p->pos;
	}
	return -1;
}

/* The byte at the current position, or -1 at the end. */
static int peek(const struct parser *p)
{
	return p->pos < p->len ? (unsigned char)p->s[p->pos] : -1;
}

static int is_ws(int c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static int is_digit(int c)
{
	return c >= '0' && c <= '9';
}

static void skip_ws(struct parser *p)
{
	while (is_ws(peek(p)))
		p->pos++;
}

static int parse_value(struct parser *p, int depth);

/* The four hex digits after "\u"; p is at the 'u'. */
static int parse_hex4(struct parser *p, unsigned long *val)
{
	int i, c;

	p->pos++;
	*val = 0;
	for (i = 0; i < 4; i++) {
		c = peek(p);
		if (is_digit(c))
			*val = *val << 4 | (unsigned long)(c - '0');
		else if (c >= 'a' && c <= 'f')
			*val = *val << 4 | (unsigned long)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			*val = *val << 4 | (unsigned long)(c - 'A' + 10);
		else
			return fail(p, "\\u needs four hex digits");
		p->pos++;
	}
	return 0;
}

/* One escape sequence; p is at the backslash. Its text goes to out, if any. */
static int parse_escape(struct parser *p, struct buf *out)
{
	static const char from[] = "\"\\/bfnrt";
	static const char to[] = "\"\\/\b\f\n\r\t";
	const char *hit;
	unsigned long cp, low;
	char utf8[4];
	size_t at = p->pos, n;
	int c;

	p->pos++;
	c = peek(p);
	if (c != 'u') {
		hit = c > 0 ? strchr(from, c) : NULL;
		if (!hit)
			return fail(p, "invalid escape in a string");
		p->pos++;
		return out && buf_add(out, &to[hit - from], 1) ? fail(p, oom) : 0;
	}
	if (parse_hex4(p, &cp))
		return -1;
	if (cp >= 0xdc00 && cp <= 0xdfff) {
		p->pos = at;
		return fail(p, "\\u escape of a lone low surrogate");
	}
	if (cp >= 0xd800 && cp <= 0xdbff) {
		low = 0;
		if (p->pos + 1 < p->len && p->s[p->pos] == '\\' && p->s[p->pos + 1] == 'u') {
			p->pos++;
			if (parse_hex4(p, &low))
				return -1;
		}
		if (low < 0xdc00 || low > 0xdfff) {
			p->pos = at;
			return fail(p, "\\u escape of a high surrogate without a low one");
		}
		cp = 0x10000 + ((cp - 0xd800) << 10) + (low - 0xdc00);
	}
	n = utf8_put(cp, utf8);
	return out && buf_add(out, utf8, n) ? fail(p, oom) : 0;
}

/* A string; p is at its opening quote. Its unescaped text goes to out, if any. */
static int parse_string(struct parser *p, struct buf *out)
{
	size_t n;
	int c;

	p->pos++;
	for (;;) {
		c = peek(p);
		if (c == -1)
			return fail(p, "unterminated string");
		if (c == '"') {
			p->pos++;
			return 0;
		}
		if (c == '\\') {
			if (parse_escape(p, out))
				return -1;
			continue;
		}
		if (c < 0x20)
			return fail(p, "control character in a string (escape it)");
		n = utf8_len((const unsigned char *)p->s + p->pos, p->len - p->pos);
		if (n == 0)
			return fail(p, "invalid UTF-8 in a string");
		if (out && buf_add(out, p->s + p->pos, n))
			return fail(p, oom);
		p->pos += n;
	}
}

/* One digit or more. */
static int parse_digits(struct parser *p)
{
	size_t start = p->pos;

	while (is_digit(peek(p)))
		p->pos++;
	return p->pos > start ? 0 : fail(p, "expected a digit");
}

/* -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? */
static int parse_number(struct parser *p)
{
	if (peek(p) == '-')
		p->pos++;
	if (peek(p) == '0')
		p->pos++;
	else if (parse_digits(p))
		return -1;
	if (peek(p) == '.') {
		p->pos++;
		if (parse_digits(p))
			return -1;
	}
	if (peek(p) == 'e' || peek(p) == 'E') {
		p->pos++;
		if (peek(p) == '+' || peek(p) == '-')
			p->pos++;
		if (parse_digits(p))
			return -1;
	}
	return 0;
}

static int parse_word(struct parser *p, const char *word)
{
	size_t n = strlen(word);

	if (p->len - p->pos < n || memcmp(p->s + p->pos, word, n) != 0)
		return fail(p, "expected a value");
	p->pos += n;
	return 0;
}

static int parse_array(struct parser *p, int depth)
{
	if (depth >= MAX_DEPTH)
		return fail(p, "nested too deeply");
	p->pos++;
	skip_ws(p);
	if (peek(p) == ']') {
		p->pos++;
		return 0;
	}
	for (;;) {
		if (parse_value(p, depth + 1))
			return -1;
		skip_ws(p);
		if (peek(p) == ']') {
			p->pos++;
			return 0;
		}
		if (peek(p) != ',')
			return fail(p, "expected ',' or ']'");
		p->pos++;
	}
}

/* Notes where the value of member `key` lies, if q asks for it first. */
static void note_member(struct query *q, const struct buf *key, const char *val, size_t len)
{
	size_t i;

	for (i = 0; i < q->n; i++) {
		if (q->found[i].s || strlen(q->keys[i]) != key->len)
			continue;
		if (key->len == 0 || memcmp(q->keys[i], key->s, key->len) == 0) {
			q->found[i].s = val;
			q->found[i].len = len;
		}
	}
}

/* An object; p is at its '{'. With q, its members are looked up in q. */
static int parse_object(struct parser *p, int depth, struct query *q)
{
	struct buf key = { 0 };
	size_t start;
	int rc = -1;

	if (depth >= MAX_DEPTH)
		return fail(p, "nested too deeply");
	p->pos++;
	skip_ws(p);
	if (peek(p) == '}') {
		p->pos++;
		return 0;
	}
	for (;;) {
		skip_ws(p);
		if (peek(p) != '"') {
			fail(p, "expected a string as the member's name");
			break;
		}
		key.len = 0;
		if (parse_string(p, q ? &key : NULL))
			break;
		skip_ws(p);
		if (peek(p) != ':') {
			fail(p, "expected ':'");
			break;
		}
		p->pos++;
		skip_ws(p);
		start = p->pos;
		if (parse_value(p, depth + 1))
			break;
		if (q)
			note_member(q, &key, p->s + start, p->pos - start);
		skip_ws(p);
		if (peek(p) == '}') {
			p->pos++;
			rc = 0;
			break;
		}
		if (peek(p) != ',') {
			fail(p, "expected ',' or '}'");
			break;
		}
		p->pos++;
	}
	free(key.s);
	return rc;
}

static int parse_value(struct parser *p, int depth)
{
	skip_ws(p);
	switch (peek(p)) {
	case '{':
		return parse_object(p, depth, NULL);
	case '[':
		return parse_array(p, depth);
	case '"':
		return parse_string(p, NULL);
	case 't':
		return parse_word(p, "true");
	case 'f':
		return parse_word(p, "false");
	case 'n':
		return parse_word(p, "null");
	case '-': case '0': case '1': case '2': case '3': case '4':
	case '5': case '6': case '7': case '8': case '9':
		return parse_number(p);
	case -1:
		return fail(p, "expected a value, found the end");
	default:
		return fail(p, "expected a value");
	}
}

/*
 * The whole input: one value between optional whitespace, which *value
 * spans. When the value is an object and there is q, its members are
 * looked up in q.
 */
static int parse_text(struct parser *p, struct query *q, struct span *value)
{
	int rc;

	skip_ws(p);
	if (p->pos == p->len)
		return fail(p, "no value (the input is empty)");
	value->s = p->s + p->pos;
	if (q && peek(p) == '{')
		rc = parse_object(p, 0, q);
	else
		rc = parse_value(p, 0);
	if (rc)
		return -1;
	value->len = (size_t)(p->s + p->pos - value->s);
	skip_ws(p);
	if (p->pos < p->len)
		return fail(p, "more data after the value");
	return 0;
}

/* --- output ------------------------------------------------------------- */

/*
 * An object or an array as written, less the whitespace between tokens; a
 * comma outside every string, object and array (in the span of an array's
 * elements) becomes a newline. Returns how many bytes it wrote.
 */
static size_t put_compact(const struct span *v, FILE *out)
{
	int in_string = 0, escaped = 0, depth = 0;
	size_t i, n = 0;
	char c;

	for (i = 0; i < v->len; i++) {
		c = v->s[i];
		if (in_string) {
			if (escaped)
				escaped = 0;
			else if (c == '\\')
				escaped = 1;
			else if (c == '"')
				in_string = 0;
		} else if (c == '"') {
			in_string = 1;
		} else if (is_ws((unsigned char)c)) {
			continue;
		} else if (c == '{' || c == '[') {
			depth++;
		} else if (c == '}' || c == ']') {
			depth--;
		} else if (c == ',' && depth == 0) {
			c = '\n';
		}
		putc(c, out);
		n++;
	}
	return n;
}

/* Prints a value that parse_text accepted, and a newline. */
static int put_value(const struct span *v, FILE *out)
{
	struct parser p = { .s = v->s, .len = v->len };
	struct buf text = { 0 };

	if (v->s[0] == '"') {
		/* valid already: only memory can run out */
		if (parse_string(&p, &text)) {
			free(text.s);
			fprintf(stderr, "jsonget: %s\n", oom);
			return -1;
		}
		if (text.len)
			fwrite(text.s, 1, text.len, out);
		free(text.s);
	} else if (v->s[0] == '{' || v->s[0] == '[') {
		put_compact(v, out);
	} else {
		fwrite(v->s, 1, v->len, out);
	}
	putc('\n', out);
	if (fflush(out) != 0 || ferror(out)) {
		fprintf(stderr, "jsonget: cannot write the value: %s\n", strerror(errno));
		return -1;
	}
	return 0;
}

/* The elements of an array that parse_text accepted, each as put_compact writes it, a line each. */
static int put_elements(const struct span *v, FILE *out)
{
	struct span inner = { v->s + 1, v->len - 2 };

	if (put_compact(&inner, out))
		putc('\n', out);
	if (fflush(out) != 0 || ferror(out)) {
		fprintf(stderr, "jsonget: cannot write the elements: %s\n", strerror(errno));
		return -1;
	}
	return 0;
}

/* --- main ------------------------------------------------------------- */

/* Where a parser stopped, as "line L, column C" (bytes, both from 1). */
static void report(const struct parser *p)
{
	size_t line = 1, col = 1, i;

	if (p->err == oom) {
		fprintf(stderr, "jsonget: %s\n", oom);
		return;
	}
	for (i = 0; i < p->errpos; i++) {
		if (p->s[i] == '\n') {
			line++;
			col = 1;
		} else {
			col++;
		}
	}
	fprintf(stderr, "jsonget: invalid JSON at line %zu, column %zu: %s\n", line, col, p->err);
}

/*
 * Fills q from the command line; sets *print for KEY, 2 for -e. -1 on a
 * usage error.
 */
static int parse_args(int argc, char **argv, struct query *q, int *print)
{
	*print = 0;
	if (argc == 1)
		return 0;
	if (argc == 2 && strcmp(argv[1], "-e") == 0) {
		*print = 2;
		return 0;
	}
	if (strcmp(argv[1], "-k") == 0 && argc > 2) {
		q->keys = argv + 2;
		q->n = (size_t)argc - 2;
		return 0;
	}
	if (argc == 3 && strcmp(argv[1], "--") == 0) {
		q->keys = argv + 2;
		q->n = 1;
		*print = 1;
		return 0;
	}
	if (argc == 2 && argv[1][0] != '-') {
		q->keys = argv + 1;
		q->n = 1;
		*print = 1;
		return 0;
	}
	return -1;
}

/* Reads stdin and answers q; returns the exit status. */
static int run(struct query *q, int print)
{
	struct buf in = { 0 };
	struct parser p = { 0 };
	struct span value;
	size_t i;
	int rc = EXIT_NO;

	if (read_all(stdin, &in)) {
		fprintf(stderr, "jsonget: cannot read stdin: %s\n", strerror(errno));
		goto out;
	}
	p.s = in.s;
	p.len = in.len;
	if (parse_text(&p, q->n ? q : NULL, &value)) {
		report(&p);
		goto out;
	}
	if (print == 2) {
		if (value.s[0] != '[') {
			fprintf(stderr, "jsonget: the value is not an array\n");
			goto out;
		}
		rc = put_elements(&value, stdout) ? EXIT_NO : EXIT_YES;
		goto out;
	}
	if (q->n && value.s[0] != '{') {
		fprintf(stderr, "jsonget: the value is not an object\n");
		goto out;
	}
	for (i = 0; i < q->n; i++) {
		if (!q->found[i].s) {
			fprintf(stderr, "jsonget: no top-level member \"%s\"\n", q->keys[i]);
			goto out;
		}
	}
	if (print && put_value(&q->found[0], stdout))
		goto out;
	rc = EXIT_YES;
out:
	free(in.s);
	return rc;
}

int main(int argc, char **argv)
{
	struct query q = { 0 };
	int print, rc;

	if (parse_args(argc, argv, &q, &print))
		return usage();
	if (q.n) {
		q.found = calloc(q.n, sizeof(*q.found));
		if (!q.found) {
			fprintf(stderr, "jsonget: %s\n", oom);
			return EXIT_NO;
		}
	}
	rc = run(&q, print);
	free(q.found);
	return rc;
}
