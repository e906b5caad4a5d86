#!/usr/bin/env bats
# jsonget.bats: tests/helpers/jsonget, the JSON reader of the other suites:
# what it accepts as one JSON value (RFC 8259), and what it prints for a
# top-level member.

load test_helper

setup() {
	common_setup
}

teardown() {
	common_teardown
}

# --- helpers ----------------------------------------------------------------

# accepts TEXT...: jsonget takes each TEXT, byte for byte, as one JSON value.
accepts() {
	local t rc
	for t in "$@"; do
		rc=0
		printf '%s' "$t" | jsonget 2>"$BATS_TEST_TMPDIR/err" || rc=$?
		if [ "$rc" -ne 0 ]; then
			echo "refused (exit $rc): $(printf %q "$t")" >&2
			cat "$BATS_TEST_TMPDIR/err" >&2
			return 1
		fi
	done
}

# refuses TEXT...: jsonget refuses each TEXT with exit 1, says why on
# stderr and prints nothing.
refuses() {
	local t rc
	for t in "$@"; do
		rc=0
		printf '%s' "$t" | jsonget >"$BATS_TEST_TMPDIR/out" 2>"$BATS_TEST_TMPDIR/err" || rc=$?
		if [ "$rc" -ne 1 ] || [ ! -s "$BATS_TEST_TMPDIR/err" ] || [ -s "$BATS_TEST_TMPDIR/out" ]; then
			echo "not refused as it should be (exit $rc): $(printf %q "$t")" >&2
			cat "$BATS_TEST_TMPDIR/out" "$BATS_TEST_TMPDIR/err" >&2
			return 1
		fi
	done
}

# get KEY TEXT: what `jsonget KEY` prints for TEXT (as is, no newline
# added), then a "|", so that $(...) keeps the final newline.
get() {
	printf '%s' "$2" | jsonget "$1" >"$BATS_TEST_TMPDIR/got" || return
	cat "$BATS_TEST_TMPDIR/got"
	printf '|'
}

# --- one JSON value ------------------------------------------------------------

@test "scalars: numbers, strings, true, false, null" {
	accepts 0 -0 1 -1 42 -0.5e10 0.5 1.0 1e5 1E5 1e+5 1e-5 -1.25E-02 \
		123456789012345678901234567890 1e400 \
		'""' '"x"' true false null
}

@test "objects and arrays, nested, empty, with whitespace anywhere" {
	accepts '{}' '[]' '{"a":1}' '[1,"two",null,true,false,{},[]]' \
		'{"a":{"b":{"c":[1,[2,[3,{"d":"e"}]]]}}}' \
		$' \t\r\n{ "a" : [ 1 , 2 ] , "b" : { } }\n' \
		$'[\n\t{"x": -0.5e10},\n\t{"y": "z"}\n]\n' \
		'{"a":1,"a":2}'
}

@test "a final newline and surrounding whitespace are allowed" {
	accepts $'{"a":1}\n' $'  {"a":1}  \n\n' $'\n\t1\r\n'
}

@test "string escapes, \\u escapes, surrogate pairs and raw UTF-8" {
	accepts '"\"\\\/\b\f\n\r\t"' '"\u0000\u001f\u00e9\u20AC\uFFFF"' \
		'"\ud83d\ude00"' '"\uD834\uDD1E"' \
		'"é ✓ 😀"' $'"\x7f"' '"\u2028"'
}

@test "empty input and whitespace alone are refused" {
	refuses '' ' ' $'\n' $' \t\r\n'
}

@test "trailing garbage, two values, two objects are refused" {
	refuses '{}x' '{} x' '{}{}' $'{"a":1}\n{"b":2}\n' '1 2' '[1]]' '{}}' \
		'"a""b"' 'true false' 'nullx' '1,' '{},'
}

@test "numbers outside the grammar are refused" {
	refuses 01 -01 00 1. .5 -.5 +1 - 1e 1e+ 1E- 0x10 1.5.2 --1 \
		NaN Infinity -Infinity '1 .5' '- 1'
}

@test "broken objects and arrays are refused" {
	refuses '{' '[' '}' ']' '{"a"}' '{"a":}' '{"a" 1}' '{a:1}' "{'a':1}" \
		'{"a":1,}' '[1,]' '[,1]' '[1 2]' '{"a":1 "b":2}' '{1:2}' '{"a":1' '[1,2' \
		'{"a":[1}' '[{]}' '{"a",1}'
}

@test "broken literals and other tokens are refused" {
	refuses tru True nul NULL fals 'undefined' "'x'" '/* c */ 1' '1 // c' '# c'
}

@test "broken strings are refused" {
	refuses '"' '"abc' '"\"' '"\x"' '"\a"' '"\u12"' '"\u12g4"' '"\U0041"' \
		$'"a\nb"' $'"a\tb"' $'"\x01"' $'"\x1f"'
}

@test "lone surrogates in \\u escapes are refused" {
	# shellcheck disable=SC1003 # the last input ends with a backslash
	refuses '"\ud800"' '"\udc00"' '"\ude00\ud83d"' '"\ud83d\u0041"' '"\ud83dx"' \
		'"\ud83d\ud83d"' '"\ud83d\'
}

@test "input that is not UTF-8 is refused" {
	# a bare continuation byte, a truncated sequence, overlong forms, an
	# encoded surrogate, a code point above U+10FFFF, bytes never used
	refuses $'"\x80"' $'"\xc3"' $'"\xe2\x9c"' $'"\xc0\xaf"' $'"\xe0\x80\xaf"' \
		$'"\xf0\x80\x80\xaf"' $'"\xed\xa0\x80"' $'"\xf4\x90\x80\x80"' \
		$'"\xfe"' $'"\xff"' $'\xef\xbb\xbf{}' $'\xc3\xa9'
}

@test "a NUL byte is refused, inside a string and out" {
	run -1 --separate-stderr jsonget < <(printf '"a\0b"')
	[ -n "$stderr" ]
	run -1 --separate-stderr jsonget < <(printf '{}\0')
	[ -n "$stderr" ]
}

@test "the reason names the line and column" {
	run -1 --separate-stderr jsonget < <(printf '{\n  "a": 1,\n  "b" 2\n}\n')
	assert_output ''
	[[ $stderr == *"line 3, column 7"* ]]
	[[ $stderr == *"expected ':'"* ]]
}

@test "deep nesting is refused plainly, not with a crash" {
	local deep
	deep=$(printf '%0600d' 0 | tr 0 '[')$(printf '%0600d' 0 | tr 0 ']')
	run -1 --separate-stderr jsonget <<<"$deep"
	[[ $stderr == *"nested too deeply"* ]]
	deep=$(printf '%0100d' 0 | tr 0 '[')$(printf '%0100d' 0 | tr 0 ']')
	accepts "$deep"
}

@test "a summary as sidecar prints it" {
	accepts '{"dest":"sidecar-test","workdir":"a \"quoted\" \\ path","pid":null,"connected":false,"files_changed":3}'
}

# --- jsonget KEY ------------------------------------------------------------

@test "KEY: a string is printed unescaped, without quotes, with a newline" {
	[ "$(get s '{"s":"plain"}')" = $'plain\n|' ]
	[ "$(get s '{"s":"q\" b\\ s\/ b\b f\f n\n r\r t\t"}')" = $'q" b\\ s/ b\b f\f n\n r\r t\t\n|' ]
	[ "$(get s '{"s":""}')" = $'\n|' ]
	[ "$(get s '{"s":"a \"quoted\" \\ path"}')" = $'a "quoted" \\ path\n|' ]
}

@test "KEY: \\u escapes and surrogate pairs become UTF-8; raw UTF-8 stays" {
	[ "$(get s '{"s":"\u00e9\u20ac\u2713"}')" = $'é€✓\n|' ]
	[ "$(get s '{"s":"\ud83d\ude00 \uD834\uDD1E"}')" = $'😀 𝄞\n|' ]
	[ "$(get s '{"s":"ünïcødé ✓"}')" = $'ünïcødé ✓\n|' ]
	[ "$(get s '{"s":"\u0041\u007e\u0001"}')" = $'A~\x01\n|' ]
	# a NUL comes out as a NUL
	[ "$(printf '{"s":"a\\u0000b"}' | jsonget s | od -An -tx1 | tr -d ' \n')" = 6100620a ]
}

@test "KEY: numbers, true, false and null are printed as written" {
	local json='{"i":42,"n":-0.5e10,"z":-0,"e":1E+02,"big":123456789012345678901234567890,"t":true,"f":false,"u":null}'
	[ "$(get i "$json")" = $'42\n|' ]
	[ "$(get n "$json")" = $'-0.5e10\n|' ]
	[ "$(get z "$json")" = $'-0\n|' ]
	[ "$(get e "$json")" = $'1E+02\n|' ]
	[ "$(get big "$json")" = $'123456789012345678901234567890\n|' ]
	[ "$(get t "$json")" = $'true\n|' ]
	[ "$(get f "$json")" = $'false\n|' ]
	[ "$(get u "$json")" = $'null\n|' ]
}

@test "KEY: objects and arrays are printed compact, strings in them untouched" {
	local json=$'{\n  "o" : { "a" : [ 1 , 2 , { "b" : "c  d\\n" } ] , "e" : { } } ,\n  "l" : [ ]\n}\n'
	[ "$(get o "$json")" = $'{"a":[1,2,{"b":"c  d\\n"}],"e":{}}\n|' ]
	[ "$(get l "$json")" = $'[]\n|' ]
	[ "$(get s '{"s":{"k":"\" {[ ]} \\"}}')" = $'{"k":"\\" {[ ]} \\\\"}\n|' ]
}

@test "KEY: only top-level members count; the first of two equal keys wins" {
	[ "$(get a '{"a":1,"a":2}')" = $'1\n|' ]
	[ "$(get a '{"a":{"a":"inner"},"a":"second"}')" = $'{"a":"inner"}\n|' ]
	[ "$(get b '{"o":{"b":1},"b":2}')" = $'2\n|' ]
	run -1 --separate-stderr jsonget b <<<'{"o":{"b":1},"l":[{"b":2}]}'
	assert_output ''
	[[ $stderr == *'"b"'* ]]
}

@test "KEY: a key written with escapes matches its text" {
	[ "$(get ab '{"a\u0062":1}')" = $'1\n|' ]
	[ "$(get 'é' '{"\u00e9":"accent"}')" = $'accent\n|' ]
	[ "$(get 'a"b' '{"a\"b":2}')" = $'2\n|' ]
	[ "$(get '' '{"":"empty key"}')" = $'empty key\n|' ]
	run -0 jsonget -- -x <<<'{"-x":"dash"}'
	assert_output dash
	# "a\u0000b" is no "a"
	run -1 --separate-stderr jsonget a <<<'{"a\u0000b":1}'
}

@test "KEY: an absent key, invalid input or a value that is no object: exit 1" {
	run -1 --separate-stderr jsonget missing <<<'{"a":1}'
	assert_output ''
	[[ $stderr == *missing* ]]
	run -1 --separate-stderr jsonget a <<<'{"a":1}x'
	assert_output ''
	[ -n "$stderr" ]
	run -1 --separate-stderr jsonget a <<<'{"a":1'
	run -1 --separate-stderr jsonget a <<<'{"a":1}{"a":2}'
	assert_output ''
	run -1 --separate-stderr jsonget a < /dev/null
	run -1 --separate-stderr jsonget a <<<'[{"a":1}]'
	[[ $stderr == *"not an object"* ]]
	run -1 --separate-stderr jsonget a <<<'"a"'
	# valid except deep inside: nothing printed
	run -1 --separate-stderr jsonget a <<<'{"a":1,"b":[1,2,{"c":"\q"}]}'
	assert_output ''
}

# --- jsonget -k KEY... ---------------------------------------------------------

@test "-k: exit 0 when every key is a top-level member, else 1" {
	local json='{"base":null,"round_trips":1,"saved_ref":"refs/x","o":{"inner":1}}'
	run -0 jsonget -k base <<<"$json"
	assert_output ''
	run -0 jsonget -k base round_trips saved_ref <<<"$json"
	run -1 --separate-stderr jsonget -k base nope saved_ref <<<"$json"
	[[ $stderr == *nope* ]]
	run -1 --separate-stderr jsonget -k inner <<<"$json"
	run -1 --separate-stderr jsonget -k base <<<"$json x"
	run -1 --separate-stderr jsonget -k base <<<'[]'
}

@test "-e prints each element of an array on a line, compact; commas in strings and inside stay" {
	run -0 jsonget -e <<<'[ {"a": [1, 2], "b": "x,]\"y"} , 3, "s t" ,null ]'
	assert_output "$(printf '%s\n' '{"a":[1,2],"b":"x,]\"y"}' 3 '"s t"' null)"
	run -0 jsonget -e <<<' [ ] '
	assert_output ''
	run -1 --separate-stderr jsonget -e <<<'{"a":1}'
	[[ $stderr == *"not an array"* ]]
	run -1 --separate-stderr jsonget -e <<<'[1,]'
	[ -z "$output" ]
}

# --- usage -----------------------------------------------------------------------

@test "usage errors exit 2" {
	run -2 --separate-stderr jsonget -k <<<'{}'
	[[ $stderr == *usage* ]]
	run -2 --separate-stderr jsonget a b <<<'{}'
	run -2 --separate-stderr jsonget -x <<<'{}'
	run -2 --separate-stderr jsonget -- <<<'{}'
	run -2 --separate-stderr jsonget -- a b <<<'{}'
	run -2 --separate-stderr jsonget -e a <<<'[]'
}
