package ingest

// usccAlphabet is the character set of GB 32100-2015, in the order of the values 0..30 the
// check character is computed over (I, O, S, V and Z are not used).
const usccAlphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"

// usccWeights are the weights of the first 17 characters.
var usccWeights = [17]int{1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28}

// usccValue maps a byte to its value in usccAlphabet, -1 for bytes outside it.
var usccValue = func() (t [256]int8) {
	for i := range t {
		t[i] = -1
	}
	for i := 0; i < len(usccAlphabet); i++ {
		t[usccAlphabet[i]] = int8(i)
	}
	return t
}()

// ValidUSCC reports whether s is a unified social credit code (统一社会信用代码) of GB 32100-2015:
// 18 characters of usccAlphabet, the 3rd to 8th digits (the administrative division, as the
// contract's schemas require), the 18th the check character over the first 17. Lower case is
// not accepted: a code is matched byte for byte across records, so senders must send it in the
// one form the standard defines.
func ValidUSCC(s string) bool {
	c, ok := usccCheck(s)
	return ok && usccValue[s[17]] == int8(c)
}

// usccCheck returns the check value the first 17 characters of s call for; ok is false when s
// is not shaped like a USCC at all.
func usccCheck(s string) (check int, ok bool) {
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
	return (31 - sum%31) % 31, true
}
