package evidence

import "github.com/voucherwatch/voucherwatch"

// mask hides identity numbers, mobile numbers and e-mail addresses in a text shown to
// reviewers (voucherwatch.MaskText).
func mask(s string) string { return voucherwatch.MaskText(s) }
