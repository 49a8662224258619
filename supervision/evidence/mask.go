package evidence

import (
	"regexp"
	"strings"
	"unicode/utf8"
)

var emailPattern = regexp.MustCompile(`[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(\.[A-Za-z0-9\-]+)+`)

// mask hides personal numbers in a text shown to reviewers. Detectors keep identity numbers
// out of evidence (only the masked form travels), but the page must not show one should a
// sender have put it into a name or an address: an 18-character resident identity number
// (6-digit division, a 19xx/20xx birth date, 3 digits, a check character) keeps its first 3
// and last 4 characters; a mainland mobile number (11 digits from 13 to 19, optionally after
// 86) keeps its first 3 and last 4 digits; an e-mail address keeps the first character of
// its local part and its domain. Numbers inside longer runs of digits (accounts,
// invoice numbers) are left alone.
func mask(s string) string {
	if strings.Contains(s, "@") {
		s = emailPattern.ReplaceAllStringFunc(s, maskEmail)
	}
	if !hasDigitRun(s, 11) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); {
		if !isDigit(s[i]) {
			b.WriteByte(s[i])
			i++
			continue
		}
		j := i
		for j < len(s) && isDigit(s[j]) {
			j++
		}
		run := s[i:j]
		// An identity number may end with X.
		if len(run) == 17 && j < len(s) && (s[j] == 'X' || s[j] == 'x') && (j+1 == len(s) || !isAlnum(s[j+1])) {
			run = s[i : j+1]
			j++
		}
		switch {
		case looksLikeIDNumber(run) && (i == 0 || !isAlnum(s[i-1])):
			b.WriteString(MaskID(run))
		case isMobile(run):
			b.WriteString(MaskPhone(run))
		case len(run) == 13 && strings.HasPrefix(run, "86") && isMobile(run[2:]):
			b.WriteString("86" + MaskPhone(run[2:]))
		default:
			b.WriteString(run)
		}
		i = j
	}
	return b.String()
}

func hasDigitRun(s string, n int) bool {
	k := 0
	for i := 0; i < len(s); i++ {
		if isDigit(s[i]) {
			k++
			if k >= n {
				return true
			}
		} else {
			k = 0
		}
	}
	return false
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func isAlnum(c byte) bool {
	return isDigit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
}

func looksLikeIDNumber(s string) bool {
	if len(s) != 18 || s[0] == '0' {
		return false
	}
	for i := 0; i < 17; i++ {
		if !isDigit(s[i]) {
			return false
		}
	}
	if c := s[17]; !isDigit(c) && c != 'X' && c != 'x' {
		return false
	}
	century, month, day := s[6:8], s[10:12], s[12:14]
	return (century == "19" || century == "20") && month >= "01" && month <= "12" && day >= "01" && day <= "31"
}

func isMobile(s string) bool {
	return len(s) == 11 && s[0] == '1' && s[1] >= '3' && s[1] <= '9'
}

// MaskID shows an identity number as the engine stores it: the first 3 and last 4 characters.
func MaskID(s string) string {
	if len(s) <= 7 {
		return strings.Repeat("*", len(s))
	}
	return s[:3] + strings.Repeat("*", len(s)-7) + s[len(s)-4:]
}

// MaskPhone shows a phone number's first 3 and last 4 digits: 138****5678. Shorter numbers
// keep their last 2.
func MaskPhone(s string) string {
	s = strings.TrimSpace(s)
	if len(s) >= 8 {
		return s[:3] + strings.Repeat("*", len(s)-7) + s[len(s)-4:]
	}
	if len(s) > 2 {
		return strings.Repeat("*", len(s)-2) + s[len(s)-2:]
	}
	return s
}

// maskEmail keeps the first character of the local part and the domain: z***@example.com.
func maskEmail(s string) string {
	local, domain, ok := strings.Cut(s, "@")
	if !ok || local == "" {
		return MaskPhone(s)
	}
	_, n := utf8.DecodeRuneInString(local)
	return local[:n] + "***@" + domain
}
