package voucherwatch

import (
	"cmp"
	"context"
	"slices"
	"time"
)

// The supplier register (信息登记发布, policy §二(三)): the province publishes, period by period,
// every registered supplier's service quality and business figures, for buyers to choose
// from. An edition is computed by a pure function (ComputeRegister) from inputs the store
// gathers for the period; the inputs are recorded with the edition, with their digest, so
// that anyone can repeat it, as a spot-check draw is. docs/register.md defines every figure.

// RegisterMethod names the computation and its version; an edition records it.
const RegisterMethod = "register-v1"

// RegisterParams are the edition's parameters, recorded with its inputs.
type RegisterParams struct {
	// OnTimeHours is how long after a window's end its record may arrive and still be on
	// time (ingested_at − window_end ≤ OnTimeHours).
	OnTimeHours int `json:"on_time_hours"`
	// CardMonthHours converts card-month prices to card-hours (the policy's figure).
	CardMonthHours float64 `json:"card_month_hours"`
	// BandLowFactor and BandHighFactor make a chip's market band from its market median:
	// [median × low, median × high], as the price detector reads it.
	BandLowFactor  float64 `json:"band_low_factor"`
	BandHighFactor float64 `json:"band_high_factor"`
}

// Default register parameters.
const (
	DefaultRegisterOnTimeHours = 2
	DefaultRegisterSchedule    = "0 4 1 * *" // 04:00 on the 1st, CST: the month before
)

// RegisterPeriod is a calendar month in China Standard Time, "2026-11".
type RegisterPeriod string

// ParseRegisterPeriod checks a period ("YYYY-MM"); EINVALID names the field period.
func ParseRegisterPeriod(s string) (RegisterPeriod, error) {
	if _, err := time.ParseInLocation("2006-01", s, CST); err != nil || len(s) != 7 {
		return "", FieldErrorf("period", "want YYYY-MM, got %q", s)
	}
	return RegisterPeriod(s), nil
}

// PeriodOf is the month (CST) that t falls in.
func PeriodOf(t time.Time) RegisterPeriod { return RegisterPeriod(t.In(CST).Format("2006-01")) }

// PreviousPeriod is the month before the one t falls in: the last complete month.
func PreviousPeriod(t time.Time) RegisterPeriod {
	t = t.In(CST)
	return PeriodOf(time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, CST).AddDate(0, -1, 0))
}

// Bounds are the period's first instant and the next period's, CST.
func (p RegisterPeriod) Bounds() (from, to time.Time) {
	from, _ = time.ParseInLocation("2006-01", string(p), CST)
	return from, from.AddDate(0, 1, 0)
}

// ChipCards is a number of cards of one chip.
type ChipCards struct {
	ChipModel  string `json:"chip_model"`
	ChipOrigin string `json:"chip_origin"`
	Cards      int    `json:"cards"`
}

// ResourceReporting is what one resource (a server or card group, usage.resource_id) reported
// in the period. Hours are whole clock hours (CST) of the period.
type ResourceReporting struct {
	ResourceID string `json:"resource_id"`
	// ExpectedHours are the hours from the hour of the resource's first window in the period
	// to the end of its last one (capped at the period's end).
	ExpectedHours int `json:"expected_hours"`
	// ReceivedHours are those hours that some received window covers.
	ReceivedHours int `json:"received_hours"`
	// Windows counts the distinct windows received; OnTime those received within
	// RegisterParams.OnTimeHours of their end.
	Windows int `json:"windows"`
	OnTime  int `json:"on_time"`
}

// PriceSample is one priced compute item of a contract in service during the period.
type PriceSample struct {
	ChipModel string `json:"chip_model"`
	Unit      string `json:"unit"`  // card_hour or card_month
	Price     Money  `json:"price"` // fen per unit
}

// RegisterSupplierInput is what the store gathers about one supplier for one period.
type RegisterSupplierInput struct {
	USCC         string      `json:"uscc"`
	Name         string      `json:"name"`
	City         string      `json:"city"`
	Registered   bool        `json:"registered"`
	RegisteredOn string      `json:"registered_on,omitempty"` // YYYY-MM-DD
	Capacity     []ChipCards `json:"capacity"`
	// Resources are sorted by id.
	Resources []ResourceReporting `json:"resources"`
	// StoredRecords counts the supplier's records stored for the period (usage windows
	// starting in it, contracts signed and invoices dated in it); DeadLetters the messages
	// naming the supplier rejected in it.
	StoredRecords int `json:"stored_records"`
	DeadLetters   int `json:"dead_letters"`
	// MeteredCardHours are the card-hours metered in the period (usage_days); SoldCardHours
	// the compute cards of its contracts times the hours of their service within the period.
	MeteredCardHours float64 `json:"metered_card_hours"`
	SoldCardHours    float64 `json:"sold_card_hours"`
	// Buyers counts the distinct buyers metered in the period.
	Buyers int `json:"buyers"`
	// ContractAmount sums the contracts signed in the period; Settled the settlement items
	// invoiced in it (fen).
	ContractAmount Money `json:"contract_amount"`
	Settled        Money `json:"settled"`
	// Prices are the priced compute items of its contracts in service during the period,
	// sorted by chip, unit and price.
	Prices []PriceSample `json:"prices"`
	// ConfirmedViolations counts its alerts confirmed in the period whose latest status is
	// confirmed or recovery_ordered.
	ConfirmedViolations int `json:"confirmed_violations"`
}

// RegisterInputs are everything an edition is computed from.
type RegisterInputs struct {
	Period    RegisterPeriod          `json:"period"`
	Params    RegisterParams          `json:"params"`
	Suppliers []RegisterSupplierInput `json:"suppliers"`
}

// Canonical sorts the inputs' lists so that equal facts give equal JSON and digest, whatever
// order the store returned them in, and makes nil lists empty.
func (in RegisterInputs) Canonical() RegisterInputs {
	out := in
	out.Suppliers = slices.Clone(in.Suppliers)
	if out.Suppliers == nil {
		out.Suppliers = []RegisterSupplierInput{}
	}
	for i := range out.Suppliers {
		s := &out.Suppliers[i]
		s.Capacity = slices.Clone(s.Capacity)
		if s.Capacity == nil {
			s.Capacity = []ChipCards{}
		}
		slices.SortFunc(s.Capacity, func(a, b ChipCards) int {
			return cmp.Or(cmp.Compare(a.ChipModel, b.ChipModel), cmp.Compare(a.ChipOrigin, b.ChipOrigin), cmp.Compare(a.Cards, b.Cards))
		})
		s.Resources = slices.Clone(s.Resources)
		if s.Resources == nil {
			s.Resources = []ResourceReporting{}
		}
		slices.SortFunc(s.Resources, func(a, b ResourceReporting) int { return cmp.Compare(a.ResourceID, b.ResourceID) })
		s.Prices = slices.Clone(s.Prices)
		if s.Prices == nil {
			s.Prices = []PriceSample{}
		}
		slices.SortFunc(s.Prices, func(a, b PriceSample) int {
			return cmp.Or(cmp.Compare(a.ChipModel, b.ChipModel), cmp.Compare(a.Unit, b.Unit), cmp.Compare(a.Price, b.Price))
		})
	}
	slices.SortFunc(out.Suppliers, func(a, b RegisterSupplierInput) int { return cmp.Compare(a.USCC, b.USCC) })
	return out
}

// Digest is the hex SHA-256 of the canonical inputs' JSON.
func (in RegisterInputs) Digest() string { return InputsDigest(in.Canonical()) }

// ChipPrice compares a supplier's median price of one chip with the market's.
type ChipPrice struct {
	ChipModel string `json:"chip_model"`
	// Median is the supplier's median price, MarketMedian all suppliers', yuan per
	// card-hour; BandLow and BandHigh the market band around MarketMedian.
	Median       float64 `json:"median"`
	MarketMedian float64 `json:"market_median"`
	BandLow      float64 `json:"band_low"`
	BandHigh     float64 `json:"band_high"`
	// Ratio is Median / MarketMedian; Position is below, within or above the band.
	Ratio    float64 `json:"ratio"`
	Position string  `json:"position"`
	Samples  int     `json:"samples"`
}

// The positions of a price against its market band.
const (
	BandBelow  = "below"
	BandWithin = "within"
	BandAbove  = "above"
)

// RegisterRow is one supplier's line in an edition. A ratio is nil when it has no
// denominator (no resource reported, nothing sold...): unknown is not zero. Money is a
// decimal string in yuan with two decimals, as on the wire.
type RegisterRow struct {
	USCC         string      `json:"uscc"`
	Name         string      `json:"name"`
	City         string      `json:"city"`
	Registered   bool        `json:"registered"`
	RegisteredOn string      `json:"registered_on,omitempty"`
	Capacity     []ChipCards `json:"capacity"`
	Resources    int         `json:"resources"`
	// Completeness is received over expected hourly windows, summed over its resources.
	Completeness *float64 `json:"completeness"`
	// OnTime is the share of windows received within the on-time limit.
	OnTime *float64 `json:"on_time"`
	// RejectRate is dead letters / (stored records + dead letters).
	RejectRate *float64 `json:"reject_rate"`
	// Utilisation is metered / sold card-hours.
	Utilisation         *float64    `json:"utilisation"`
	MeteredCardHours    float64     `json:"metered_card_hours"`
	SoldCardHours       float64     `json:"sold_card_hours"`
	Buyers              int         `json:"buyers"`
	ContractAmount      string      `json:"contract_amount"`
	Settled             string      `json:"settled"`
	PriceRatio          *float64    `json:"price_ratio"`
	Prices              []ChipPrice `json:"prices"`
	ConfirmedViolations int         `json:"confirmed_violations"`
}

// ratio rounds n/d to four decimals; nil when d is not positive.
func ratio(n, d float64) *float64 {
	if d <= 0 {
		return nil
	}
	r := RoundTo(n/d, 4)
	return &r
}

// median of sorted values; 0 for none.
func median(sorted []float64) float64 {
	n := len(sorted)
	switch {
	case n == 0:
		return 0
	case n%2 == 1:
		return sorted[n/2]
	default:
		return (sorted[n/2-1] + sorted[n/2]) / 2
	}
}

// ComputeRegister computes an edition's rows, one per supplier by USCC, from its inputs. It
// reads nothing else, so the same inputs give the same rows.
func ComputeRegister(in RegisterInputs) []RegisterRow {
	in = in.Canonical()
	perCardHour := func(p PriceSample) (float64, bool) {
		switch p.Unit {
		case UnitCardHour:
			return p.Price.Yuan(), true
		case UnitCardMonth:
			if in.Params.CardMonthHours <= 0 {
				return 0, false
			}
			return p.Price.Yuan() / in.Params.CardMonthHours, true
		}
		return 0, false
	}
	// The market: every supplier's prices per chip.
	market := map[string][]float64{}
	for _, s := range in.Suppliers {
		for _, p := range s.Prices {
			if v, ok := perCardHour(p); ok && v > 0 {
				market[p.ChipModel] = append(market[p.ChipModel], v)
			}
		}
	}
	for _, v := range market {
		slices.Sort(v)
	}
	rows := make([]RegisterRow, 0, len(in.Suppliers))
	for _, s := range in.Suppliers {
		r := RegisterRow{
			USCC: s.USCC, Name: s.Name, City: s.City, Registered: s.Registered, RegisteredOn: s.RegisteredOn,
			Capacity: s.Capacity, Resources: len(s.Resources),
			RejectRate:       ratio(float64(s.DeadLetters), float64(s.StoredRecords+s.DeadLetters)),
			Utilisation:      ratio(s.MeteredCardHours, s.SoldCardHours),
			MeteredCardHours: RoundTo(s.MeteredCardHours, 4), SoldCardHours: RoundTo(s.SoldCardHours, 4),
			Buyers: s.Buyers, ContractAmount: s.ContractAmount.String(), Settled: s.Settled.String(),
			Prices: []ChipPrice{}, ConfirmedViolations: s.ConfirmedViolations,
		}
		var expected, received, windows, onTime int
		for _, res := range s.Resources {
			expected, received = expected+res.ExpectedHours, received+min(res.ReceivedHours, res.ExpectedHours)
			windows, onTime = windows+res.Windows, onTime+res.OnTime
		}
		r.Completeness = ratio(float64(received), float64(expected))
		r.OnTime = ratio(float64(onTime), float64(windows))

		own := map[string][]float64{}
		var chips []string
		for _, p := range s.Prices {
			if v, ok := perCardHour(p); ok && v > 0 {
				if own[p.ChipModel] == nil {
					chips = append(chips, p.ChipModel)
				}
				own[p.ChipModel] = append(own[p.ChipModel], v)
			}
		}
		slices.Sort(chips)
		var ratios []float64
		for _, chip := range chips {
			prices := own[chip]
			slices.Sort(prices)
			m, mm := median(prices), median(market[chip])
			cp := ChipPrice{
				ChipModel: chip, Median: RoundTo(m, 4), MarketMedian: RoundTo(mm, 4),
				BandLow: RoundTo(mm*in.Params.BandLowFactor, 4), BandHigh: RoundTo(mm*in.Params.BandHighFactor, 4),
				Ratio: RoundTo(m/mm, 4), Position: BandWithin, Samples: len(prices),
			}
			switch {
			case m < mm*in.Params.BandLowFactor:
				cp.Position = BandBelow
			case m > mm*in.Params.BandHighFactor:
				cp.Position = BandAbove
			}
			r.Prices = append(r.Prices, cp)
			ratios = append(ratios, m/mm)
		}
		if len(ratios) > 0 {
			slices.Sort(ratios)
			pr := RoundTo(median(ratios), 4)
			r.PriceRatio = &pr
		}
		rows = append(rows, r)
	}
	return rows
}

// How an edition was started.
const (
	RegisterScheduled = "scheduled"
	RegisterOnDemand  = "on_demand"
)

// RegisterEdition is one recorded edition of the register.
type RegisterEdition struct {
	ID     string         `json:"id"`
	Period RegisterPeriod `json:"period"`
	Method string         `json:"method"`
	// InputsDigest is the hex SHA-256 of the canonical JSON of the inputs.
	InputsDigest string `json:"inputs_digest"`
	// Inputs are the edition's inputs; lists and public views leave them out.
	Inputs    *RegisterInputs `json:"inputs,omitempty"`
	Trigger   string          `json:"trigger"`
	CreatedAt time.Time       `json:"created_at"`
	CreatedBy string          `json:"created_by"`
	// SupplierCount is how many suppliers the edition lists.
	SupplierCount int           `json:"supplier_count"`
	Suppliers     []RegisterRow `json:"suppliers,omitempty"`
}

// RegisterHistoryEntry is one supplier's row in one edition.
type RegisterHistoryEntry struct {
	EditionID string         `json:"edition_id"`
	Period    RegisterPeriod `json:"period"`
	CreatedAt time.Time      `json:"created_at"`
	Row       RegisterRow    `json:"row"`
}

// RegisterQuery asks the store for one period's register inputs.
type RegisterQuery struct {
	From, To    time.Time // [From, To), CST month bounds
	OnTimeHours int
	// UsageTopic is the topic telemetry arrives on; its dead letters make the reject rate.
	UsageTopic string
}

// RegisterStore gathers the register's inputs and keeps its editions, shared by every engine
// instance.
type RegisterStore interface {
	// RegisterSuppliers gathers the inputs of every supplier in the registry for q's period,
	// reading only that period's records and rollups and the latest versions of registry
	// records and contracts.
	RegisterSuppliers(ctx context.Context, q RegisterQuery) ([]RegisterSupplierInput, error)
	// CreateRegisterEdition records an edition with its rows and inputs; ECONFLICT when an
	// edition with its id exists already.
	CreateRegisterEdition(ctx context.Context, e RegisterEdition) error
	// RegisterEdition returns one edition with its rows and inputs; ENOTFOUND when none.
	RegisterEdition(ctx context.Context, id string) (RegisterEdition, error)
	// RegisterEditions lists the editions, newest first, without rows or inputs.
	RegisterEditions(ctx context.Context) ([]RegisterEdition, error)
	// SupplierRegisterHistory lists one supplier's rows across editions, newest first.
	SupplierRegisterHistory(ctx context.Context, uscc string) ([]RegisterHistoryEntry, error)
}
