package rules

import (
	"strings"
	"testing"
)

// TestRealUseDefaults: the shipped policy carries the real-use numbers, and a policy file
// written before they existed gets the same ones instead of zeros (which would report every
// contract idle and every cycle similar).
func TestRealUseDefaults(t *testing.T) {
	want := RealUseRules{IdleUtilisation: 0.05, IdleShare: 0.6, IdleShareHigh: 0.8, MinPaidDays: 45, WashAmountRatio: 0.75, WashPaybackDays: 30}
	if got := Default().RealUse; got != want {
		t.Errorf("policy.json: got %+v, want %+v", got, want)
	}
	old := strings.Replace(string(defaultPolicy), `"real_use"`, `"real_use_unknown"`, 1)
	p, err := Parse([]byte(old))
	if err != nil {
		t.Fatal(err)
	}
	if p.RealUse != want {
		t.Errorf("a policy without real_use: got %+v, want %+v", p.RealUse, want)
	}
	bad := strings.Replace(string(defaultPolicy), `"idle_share": 0.6`, `"idle_share": 0.9`, 1)
	if _, err := Parse([]byte(bad)); err == nil {
		t.Error("idle_share above idle_share_high: got no error")
	}
}
