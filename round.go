package voucherwatch

import "math"

// RoundTo rounds v to the given number of decimal places, halves away from zero, as figures
// are written in evidence and registers: RoundTo(2.345, 2) is 2.35 and RoundTo(-2.345, 2) is
// -2.35 (give or take the binary representation of v). It is the one copy of this rounding:
// detectors, the register and the synthetic province all write their figures with it.
func RoundTo(v float64, digits int) float64 {
	p := math.Pow10(digits)
	return math.Round(v*p) / p
}
