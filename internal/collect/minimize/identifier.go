package minimize

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// LooksLikeIdentifier reports whether s might name or single out a person
// or a device rather than describe a campaign or a page: an email address
// (anything with '@'), a phone-like run of at least 7 digits (separators
// allowed; an ISO-style date such as 2024-05-12 is not one), a UUID, a hex
// string of at least 12 characters, a JWT-like a.b.c token, or a long
// machine-made token (judged by its length, its character classes and how
// often they alternate: "Xy7_kQ2-pL9mN3vB" is one, "spring_sale_2024" and
// "mens-running-shoes" are not). It errs on the side of true.
func LooksLikeIdentifier(s string) bool {
	if strings.IndexByte(s, '@') >= 0 || phoneLike(s) {
		return true
	}
	for rest := s; rest != ""; {
		var w string
		w, rest = nextWord(rest)
		if w != "" && tokenLike(w) {
			return true
		}
	}
	return false
}

// nextWord splits at whitespace and punctuation that does not occur inside
// tokens ('-', '_', '.', '+', '/', '=' and '~' do).
func nextWord(s string) (word, rest string) {
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if asciiWordSep[c] {
				return s[:i], s[i+1:]
			}
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if isWordSep(r) {
			return s[:i], s[i+n:]
		}
		i += n
	}
	return s, ""
}

var asciiWordSep = func() (t [utf8.RuneSelf]bool) {
	for c := range t {
		t[c] = isWordSep(rune(c))
	}
	return t
}()

func isWordSep(r rune) bool {
	switch r {
	case ',', ';', '|', '&', ':', '?', '#', '!', '*', '(', ')', '[', ']', '{', '}', '<', '>', '"', '\'', '\\', '%':
		return true
	}
	return unicode.IsSpace(r) || r == utf8.RuneError
}

// tokenLike applies the token rules to one word.
func tokenLike(w string) bool {
	return isUUID(w) || longHexPart(w, 12) || jwtLike(w) || randomToken(w)
}

const (
	classOther = iota
	classUpper
	classLower
	classDigit
)

func charClass(c byte) int {
	switch {
	case 'A' <= c && c <= 'Z':
		return classUpper
	case 'a' <= c && c <= 'z':
		return classLower
	case '0' <= c && c <= '9':
		return classDigit
	}
	return classOther
}

func isHexDigit(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func isHex(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isHexDigit(s[i]) {
			return false
		}
	}
	return true
}

func isUUID(s string) bool {
	if len(s) != 36 || s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-' {
		return false
	}
	return isHex(s[:8]) && isHex(s[9:13]) && isHex(s[14:18]) && isHex(s[19:23]) && isHex(s[24:])
}

// longHexPart reports whether a run of letters and digits in s is all hex
// and at least min long.
func longHexPart(s string, min int) bool {
	start := 0
	for i := 0; i <= len(s); i++ {
		if i < len(s) && charClass(s[i]) != classOther {
			continue
		}
		if i-start >= min && isHex(s[start:i]) {
			return true
		}
		start = i + 1
	}
	return false
}

// longMixedRun reports whether s holds a run of at least 16 letters and
// digits that has both.
func longMixedRun(s string) bool {
	start, letters, digits := 0, 0, 0
	for i := 0; i <= len(s); i++ {
		c := classOther
		if i < len(s) {
			c = charClass(s[i])
		}
		switch c {
		case classUpper, classLower:
			letters++
			continue
		case classDigit:
			digits++
			continue
		}
		if i-start >= 16 && letters > 0 && digits > 0 {
			return true
		}
		start, letters, digits = i+1, 0, 0
	}
	return false
}

// longestDigitRun is the length of the longest run of ASCII digits in s.
func longestDigitRun(s string) int {
	best, run := 0, 0
	for i := 0; i < len(s); i++ {
		if '0' <= s[i] && s[i] <= '9' {
			run++
			best = max(best, run)
		} else {
			run = 0
		}
	}
	return best
}

func isTokenChar(c byte) bool {
	return charClass(c) != classOther || c == '-' || c == '_' || c == '.' || c == '+' || c == '/' || c == '~'
}

// randomToken reports whether w looks machine-made. Words people write
// change character class rarely: between words of a slug, before a number,
// at a capital. Encoded random bytes change class at almost every other
// character.
func randomToken(w string) bool {
	w = strings.TrimRight(w, "=") // base64 padding
	if len(w) < 10 {
		return false
	}
	var upper, lower, digit, changes int
	prev := classOther
	for i := 0; i < len(w); i++ {
		c := w[i]
		if !isTokenChar(c) {
			return false
		}
		cl := charClass(c)
		switch cl {
		case classUpper:
			upper++
		case classLower:
			lower++
		case classDigit:
			digit++
		}
		// A change between two letters or digits counts, except
		// upper → lower, which starts a capitalised word.
		if cl != classOther && prev != classOther && cl != prev && !(prev == classUpper && cl == classLower) {
			changes++
		}
		prev = cl
	}
	switch {
	case len(w) >= 16 && longMixedRun(w):
		return true
	case len(w) >= 16 && changes >= 4 && changes*5 >= len(w) && (digit > 0 || upper > 0 && lower > 0):
		return true
	case upper > 0 && lower > 0 && digit > 0 && changes*3 >= len(w):
		// Short ids such as "dQw4w9WgXcQ"; "iPhone15Pro" changes too seldom.
		return true
	}
	return false
}

// jwtLike reports whether w has the shape header.payload.signature with
// base64url parts.
func jwtLike(w string) bool {
	a, rest, ok1 := strings.Cut(w, ".")
	b, c, ok2 := strings.Cut(rest, ".")
	if !ok1 || !ok2 || strings.IndexByte(c, '.') >= 0 || len(a) < 10 || len(b) < 10 {
		return false
	}
	for _, p := range [...]string{a, b, c} {
		for i := 0; i < len(p); i++ {
			if charClass(p[i]) == classOther && p[i] != '-' && p[i] != '_' {
				return false
			}
		}
	}
	return strings.HasPrefix(a, "eyJ") || randomToken(a) || randomToken(b)
}

// phoneLike reports whether s holds at least 7 digits in a run that only
// spaces, dashes, dots, brackets and a plus sign interrupt (no more than two
// of them in a row). A date of the shape 2024-05-12 or 12.05.2024 does not
// count.
func phoneLike(s string) bool {
	var groups [4]int // sizes of the first digit groups of the run
	ngroups, digits, seps := 0, 0, 0
	var sepChar byte
	sameSep := true
	end := func() bool {
		if digits < 7 {
			return false
		}
		date := ngroups == 3 && sameSep && (sepChar == '-' || sepChar == '.' || sepChar == '/') &&
			(groups[0] == 4 && groups[1] == 2 && groups[2] == 2 || groups[0] == 2 && groups[1] == 2 && groups[2] == 4)
		return !date
	}
	inGroup := false
	for i := 0; i <= len(s); i++ {
		var c byte
		if i < len(s) {
			c = s[i]
		}
		switch {
		case i < len(s) && '0' <= c && c <= '9':
			if !inGroup {
				if ngroups < len(groups) {
					groups[ngroups] = 0
				}
				ngroups++
				inGroup = true
			}
			if ngroups <= len(groups) {
				groups[ngroups-1]++
			}
			digits++
			seps = 0
		case i < len(s) && digits > 0 && seps < 2 && (c == ' ' || c == '-' || c == '.' || c == '(' || c == ')' || c == '+' || c == '/'):
			if inGroup {
				if sepChar == 0 {
					sepChar = c
				} else if sepChar != c {
					sameSep = false
				}
			}
			inGroup = false
			seps++
		default:
			if end() {
				return true
			}
			ngroups, digits, seps, sepChar, sameSep, inGroup = 0, 0, 0, 0, true, false
			if i < len(s) && (c == '+' || c == '(') {
				// A run may open with "+" or "(".
				continue
			}
		}
	}
	return false
}
