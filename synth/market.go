package synth

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"strconv"
)

// Chip is an accelerator model on the Hunan market with its going rate per card-hour.
type Chip struct {
	Model  string
	Origin string  // "domestic" or "foreign"
	Low    float64 // yuan per card-hour, low end of the market
	High   float64 // yuan per card-hour, high end of the market
	weight int     // share of contracts; domestic chips dominate, as the policy intends
}

// Chips is the market the generator prices against. Normal contracts price a card-hour within
// [VolumeDiscountFloor×Low, High]; a card-month costs 720 card-hours less CardMonthDiscount;
// planted out-of-range prices are 3× or 0.3× the mid-market rate. Detector tests may read this
// table, but a detector should not need it: every chip has enough normal contracts for a robust
// median.
var Chips = []Chip{
	{"Ascend 910B", "domestic", 9, 12, 30},
	{"Hygon K100", "domestic", 5, 7, 12},
	{"MLU370", "domestic", 3, 4, 10},
	{"MLU590", "domestic", 7, 9, 6},
	{"H800", "foreign", 14, 18, 12},
	{"A800", "foreign", 10, 13, 14},
	{"H100", "foreign", 18, 24, 8},
	{"H20", "foreign", 6, 8, 8},
}

// Pricing constants of normal trade.
const (
	HoursPerCardMonth   = 720  // a card-month is billed as 720 card-hours
	VolumeDiscountFloor = 0.85 // normal volume discounts stay above this factor
	CardMonthDiscount   = 0.10 // typical discount of monthly over hourly rental (10-15 %)
	TokenPriceLow       = 2.0  // yuan per million tokens
	TokenPriceHigh      = 60.0
)

// Mid is the mid-market price of a card-hour.
func (c Chip) Mid() float64 { return (c.Low + c.High) / 2 }

func chipByModel(model string) Chip {
	for _, c := range Chips {
		if c.Model == model {
			return c
		}
	}
	panic("synth: unknown chip " + model)
}

func pickChip(r *rand.Rand, origin string) Chip {
	total := 0
	for _, c := range Chips {
		if origin == "" || c.Origin == origin {
			total += c.weight
		}
	}
	n := r.IntN(total)
	for _, c := range Chips {
		if origin != "" && c.Origin != origin {
			continue
		}
		if n < c.weight {
			return c
		}
		n -= c.weight
	}
	panic("unreachable")
}

// fen is an amount of money in fen. It marshals as the wire's decimal string of yuan.
type fen int64

func yuan(v float64) fen { return fen(math.Round(v * 100)) }

func (m fen) String() string {
	neg := m < 0
	if neg {
		m = -m
	}
	s := strconv.FormatInt(int64(m/100), 10) + "." + fixedDigits(uint64(m%100), 2)
	if neg {
		return "-" + s
	}
	return s
}

// MarshalJSON writes money as a string, never a JSON number, as the contract requires.
func (m fen) MarshalJSON() ([]byte, error) { return json.Marshal(m.String()) }

func (m fen) yuan() float64 { return float64(m) / 100 }

// times multiplies a price by a quantity and rounds to the fen, the way invoices do.
func (m fen) times(q float64) fen { return fen(math.Round(float64(m) * q)) }
