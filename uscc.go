package voucherwatch

// USCCAlphabet is the character set of a unified social credit code (统一社会信用代码,
// GB 32100-2015), in the order of the values 0..30 the check character is computed over: the
// digits and the capitals without I, O, S, V and Z, which are too easily misread.
const USCCAlphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"

// usccWeights are the weights of the first 17 characters (3^i mod 31).
var usccWeights = [17]int{1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28}

// usccValue maps a byte to its value in USCCAlphabet, -1 for bytes outside it. A table, not
// strings.IndexByte: ingest checks every code of every record.
var usccValue = func() (t [256]int8) {
	for i := range t {
		t[i] = -1
	}
	for i := 0; i < len(USCCAlphabet); i++ {
		t[USCCAlphabet[i]] = int8(i)
	}
	return t
}()

// USCCCheck returns the check character the first 17 characters of s call for, or 0 when s is
// shorter or one of them is outside USCCAlphabet. It is the one copy of the arithmetic: ingest
// validates with it, the synthetic province and the tests build codes with it.
func USCCCheck(s string) byte {
	if len(s) < 17 {
		return 0
	}
	sum := 0
	for i := 0; i < 17; i++ {
		v := int(usccValue[s[i]])
		if v < 0 {
			return 0
		}
		sum += v * usccWeights[i]
	}
	return USCCAlphabet[(31-sum%31)%31]
}

// USCCShaped reports whether s is shaped like a USCC whatever its check character: 18
// characters of USCCAlphabet, the 3rd to 8th digits (the administrative division, as the
// contract's schemas require). It tells a mistyped code (shaped, bad check character) from
// something that is no code at all.
func USCCShaped(s string) bool {
	_, shaped := usccScan(s)
	return shaped
}

// ValidUSCC reports whether s is a unified social credit code: shaped like one (USCCShaped)
// with the check character USCCCheck calls for. Lower case is not accepted: a code is matched
// byte for byte across records, so senders must send it in the one form the standard defines.
func ValidUSCC(s string) bool {
	check, shaped := usccScan(s)
	return shaped && check == s[17]
}

// usccScan checks the shape of s and computes the check character in one pass, since ingest
// checks every code of every record.
func usccScan(s string) (check byte, shaped bool) {
	if len(s) != 18 || usccValue[s[17]] < 0 {
		return 0, false
	}
	sum := 0
	for i := 0; i < 17; i++ {
		v := int(usccValue[s[i]])
		if v < 0 || (i >= 2 && i < 8 && v > 9) {
			return 0, false
		}
		sum += v * usccWeights[i]
	}
	return USCCAlphabet[(31-sum%31)%31], true
}

// CompleteUSCC appends the check character to the first 17 characters of a code; tests and the
// synthetic province build codes with it. It panics on characters outside USCCAlphabet, which
// only a programming error passes.
func CompleteUSCC(first17 string) string {
	c := USCCCheck(first17)
	if len(first17) != 17 || c == 0 {
		panic("voucherwatch: CompleteUSCC: not 17 characters of the USCC alphabet: " + first17)
	}
	return first17 + string(c)
}
