package synth

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"

	"github.com/voucherwatch/voucherwatch"
)

// orgCodeCheck is the GB 11714 check of the 8-character organisation code body that sits at
// positions 9..16 of a USCC; real codes carry it, so ours do too.
func orgCodeCheck(body string) byte {
	w := [8]int{3, 7, 9, 10, 5, 8, 4, 2}
	sum := 0
	for i := 0; i < 8; i++ {
		c := body[i]
		v := int(c - '0')
		if c >= 'A' {
			v = int(c-'A') + 10
		}
		sum += v * w[i]
	}
	switch c := 11 - sum%11; c {
	case 10:
		return 'X'
	case 11:
		return '0'
	default:
		return byte('0' + c)
	}
}

// newUSCC builds a code for an enterprise (registration authority 9, kind 1) registered in the
// given 6-digit division.
func newUSCC(r *rand.Rand, division string) string {
	b := make([]byte, 0, 18)
	b = append(b, '9', '1')
	b = append(b, division...)
	body := make([]byte, 8)
	for i := range body {
		// Organisation codes are mostly digits; letters are drawn from the USCC alphabet only.
		if r.IntN(3) == 0 {
			body[i] = voucherwatch.USCCAlphabet[10+r.IntN(21)]
		} else {
			body[i] = byte('0' + r.IntN(10))
		}
	}
	b = append(b, body...)
	b = append(b, orgCodeCheck(string(body)))
	b = append(b, voucherwatch.USCCCheck(string(b)))
	return string(b)
}

// breakUSCC returns s with a wrong check character, for bad-input fixtures.
func breakUSCC(s string) string {
	good := strings.IndexByte(voucherwatch.USCCAlphabet, s[17])
	return s[:17] + string(voucherwatch.USCCAlphabet[(good+7)%31])
}

// idCardWeights and idCardChecks are the GB 11643-1999 (ISO 7064 MOD 11-2) check of an
// 18-character resident identity number.
var idCardWeights = [17]int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}

const idCardChecks = "10X98765432"

// IDCardCheck returns the check character of the first 17 digits of a resident id number.
func IDCardCheck(s string) byte {
	sum := 0
	for i := 0; i < 17; i++ {
		sum += int(s[i]-'0') * idCardWeights[i]
	}
	return idCardChecks[sum%11]
}

// idAreas are the residence divisions of generated people: mostly Hunan, some from the
// provinces that send engineers and investors to Changsha.
var idAreas = []string{
	"430102", "430103", "430104", "430105", "430111", "430121", "430181", "430182",
	"430202", "430211", "430302", "430321", "430405", "430408", "430503", "430602",
	"430702", "430802", "430903", "431002", "431103", "431202", "431302", "433101",
	"430124", "430623", "430722", "431121", "110108", "310115", "440305", "420106", "360102",
}

// newIDCard builds an 18-character resident id number with a valid check character.
func newIDCard(r *rand.Rand, female bool) string {
	b := make([]byte, 0, 18)
	b = append(b, idAreas[r.IntN(len(idAreas))]...)
	y := 1962 + r.IntN(38)
	m := 1 + r.IntN(12)
	d := 1 + r.IntN(28)
	b = fmt.Appendf(b, "%04d%02d%02d", y, m, d)
	seq := r.IntN(500) * 2 // the 17th digit is odd for men, even for women
	if !female {
		seq++
	}
	b = fmt.Appendf(b, "%03d", seq)
	b = append(b, IDCardCheck(string(b)))
	return string(b)
}

// digits returns n random decimal digits.
func digits(r *rand.Rand, n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte('0' + r.IntN(10))
	}
	return string(b)
}

// mobilePrefixes are Chinese mobile number segments (China Mobile, Unicom, Telecom).
var mobilePrefixes = []string{"134", "135", "136", "137", "138", "139", "150", "151", "152", "157",
	"158", "159", "182", "183", "187", "188", "130", "131", "132", "155", "156", "185", "186",
	"133", "153", "173", "177", "180", "181", "189", "191", "199"}

func newMobile(r *rand.Rand) string {
	return mobilePrefixes[r.IntN(len(mobilePrefixes))] + digits(r, 8)
}

// banks are the account banks with the length and leading digits of their corporate account
// numbers; a realistic mix matters because account numbers are matched across records.
var banks = []struct {
	name   string
	prefix string
	length int
}{
	{"中国工商银行", "1901", 19},
	{"中国建设银行", "4305", 20},
	{"中国农业银行", "1805", 19},
	{"中国银行", "5913", 12},
	{"交通银行", "4310", 21},
	{"长沙银行", "8000", 18},
	{"华融湘江银行", "8101", 18},
	{"招商银行", "7319", 15},
	{"兴业银行", "3680", 18},
}

// fixedDigits formats v with exactly n digits (zero padded, truncated from the left).
func fixedDigits(v uint64, n int) string {
	s := strconv.FormatUint(v, 10)
	if len(s) > n {
		return s[len(s)-n:]
	}
	for len(s) < n {
		s = "0" + s
	}
	return s
}
