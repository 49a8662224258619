package voucherwatch

import "testing"

func TestMasking(t *testing.T) {
	for in, want := range map[string]string{
		"13812345678": "138****5678", "+8613812345678": "+86*******5678", "0731-8888": "07*****88", "1234": "****", "": "",
	} {
		if got := MaskPhone(in); got != want {
			t.Errorf("MaskPhone(%q): got %q, want %q", in, got, want)
		}
	}
	for in, want := range map[string]string{"zhang.wei@example.cn": "z***@example.cn", "张伟@例子.中国": "张***@例子.中国", "nonsense": "n***", "": ""} {
		if got := MaskEmail(in); got != want {
			t.Errorf("MaskEmail(%q): got %q, want %q", in, got, want)
		}
	}
}

func TestMaskText(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"430104199003071234", "430***********1234"},
		{"证件430104199003071234。", "证件430***********1234。"},
		{"43010419900307123X", "430***********123X"},
		{"电话13812345678/8613812345678", "电话138****5678/86138****5678"},
		{"账户6222000011112222", "账户6222000011112222"},         // 16 digits: an account
		{"发票26432000000012345678", "发票26432000000012345678"}, // 20 digits: an invoice number
		{"622200001111222233", "622200001111222233"},         // 18 digits, no birth date: an account
		{"12345678901", "12345678901"},                       // not a mobile prefix
		{"邮箱相同：61474253@163.com。", "邮箱相同：6***@163.com。"},
		{"", ""},
	} {
		if got := MaskText(tc.in); got != tc.want {
			t.Errorf("MaskText(%q): got %q, want %q", tc.in, got, tc.want)
		}
	}
}
