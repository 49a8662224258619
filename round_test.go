package voucherwatch_test

import (
	"math"
	"testing"

	"github.com/voucherwatch/voucherwatch"
)

func TestRoundTo(t *testing.T) {
	f := func(v float64, digits int, want float64) {
		t.Helper()
		if got := voucherwatch.RoundTo(v, digits); got != want {
			t.Errorf("RoundTo(%v, %d) = %v, want %v", v, digits, got, want)
		}
	}
	f(2.5, 0, 3)
	f(-2.5, 0, -3) // away from zero, not towards it: int64(v+0.5) would give -2
	f(-2.7, 0, -3)
	f(0.125, 2, 0.13)
	f(-0.125, 2, -0.13)
	f(1.23456, 4, 1.2346)
	f(27.0270270, 2, 27.03)
	f(9.9996, 3, 10)
	f(0, 3, 0)

	// The same bits as the literal form the copies it replaced wrote, for every precision used.
	for _, v := range []float64{0.1, 1.0 / 3, 2.0 / 3, 12.3456789, 1e6 / 7, -5.55555, 0.0005, 123456.7895} {
		for d, lit := range map[int]float64{1: math.Round(v*10) / 10, 2: math.Round(v*100) / 100,
			3: math.Round(v*1000) / 1000, 4: math.Round(v*1e4) / 1e4} {
			if got := voucherwatch.RoundTo(v, d); got != lit {
				t.Errorf("RoundTo(%v, %d) = %v, want %v as math.Round(v*1e%d)/1e%d", v, d, got, lit, d, d)
			}
		}
	}
}
