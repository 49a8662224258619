package voucherwatch

import (
	"strings"
	"testing"
)

func TestRedactMessage(t *testing.T) {
	const id, mobile = "430104199003071234", "13812345678"
	f := func(name, in string, mustKeep ...string) {
		t.Helper()
		got := string(RedactMessage([]byte(in)))
		for _, secret := range []string{id, mobile, "zhang.wei@", "6222021234567890123", "G12345678", "0731-8888"} {
			if strings.Contains(got, secret) {
				t.Errorf("%s: got %s, want %s masked", name, got, secret)
			}
		}
		for _, k := range mustKeep {
			if !strings.Contains(got, k) {
				t.Errorf("%s: got %s, want %q kept", name, got, k)
			}
		}
	}
	person := `{"name":"张伟","id_type":"resident_id","id_number":"` + id + `","phone":"` + mobile + `","email":"zhang.wei@example.cn"}`
	f("registry record", `{"specversion":"1.0","type":"registry.v1","source":"supplier/91430100MA4L7H9R2B","id":"r-1",
		"data":{"uscc":"91430100MA4L7H9R2B","legal_rep":`+person+`,"bank_accounts":[{"name":"中国银行","account_no":"6222021234567890123"}]}}`,
		"91430100MA4L7H9R2B", "430***********1234", "138****5678", "z***@example.cn", "****0123", "张伟", "r-1")
	f("passport and landline under their members", `{"data":{"person":{"id_type":"passport","id_number":"G12345678","phone":"0731-88886666"}}}`)
	f("identity number as a JSON number", `{"data":{"cards":`+mobile+`,"note":"证件 `+id+`"}}`, `"138****5678"`)
	f("identity number in a misplaced member", `{"data":{"uscc":"`+id+`"}}`, "430***********1234")
	f("not JSON", `{"data":{"id_number":"`+id+`", "phone": "`+mobile+`"`, "430***********1234")
	f("ordinary record", `{"data":{"invoice_no":"26432000000000001234","amount":"128000.00"}}`, "26432000000000001234", "128000.00")
}
