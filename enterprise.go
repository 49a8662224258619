package voucherwatch

import (
	"context"
	"time"
)

// EnterpriseFile is what the engine holds about one enterprise, for the enterprise page: its
// registry facts and its dealings as a buyer and as a supplier. Lists are newest first and
// capped at MaxFileRows each; Truncated says which were cut.
type EnterpriseFile struct {
	USCC        string
	Entity      *Entity // the newest registry record; nil when none has arrived
	Contracts   []Contract
	Settlements []Settlement
	Usage       []UsageMonth
	Claims      []Claim
	Truncated   []string // names of the lists that hold only their newest MaxFileRows
}

// MaxFileRows caps each list of an EnterpriseFile.
const MaxFileRows = 200

// UsageMonth sums an enterprise's metered use in one month (China Standard Time) of one
// supplier, buyer and chip.
type UsageMonth struct {
	Month        time.Time // first day of the month
	SupplierUSCC string
	BuyerUSCC    string
	ChipModel    string
	ChipOrigin   string
	CardHours    float64
	UtilAvg      float64 // card-hour weighted
	Windows      int
}

// EnterpriseStore reads enterprise files.
type EnterpriseStore interface {
	// EnterpriseFile returns the file of the enterprise with this USCC; ENOTFOUND when the
	// engine holds nothing about it.
	EnterpriseFile(ctx context.Context, uscc string) (EnterpriseFile, error)
}

// City is the enterprise's 市州 (division code) as the file knows it: the registry's, else
// the newest claim's; "" when neither is known.
func (f EnterpriseFile) City() string {
	if f.Entity != nil && f.Entity.City != "" {
		return f.Entity.City
	}
	for _, c := range f.Claims {
		if c.City != "" {
			return c.City
		}
	}
	return ""
}

// EnterpriseNamer names enterprises in lists, where a USCC alone means little to a reader.
type EnterpriseNamer interface {
	// EnterpriseNames returns the registered name of each of usccs the registry knows;
	// the others are absent from the map.
	EnterpriseNames(ctx context.Context, usccs []string) (map[string]string, error)
}

// EnterpriseHit is one enterprise a search found.
type EnterpriseHit struct {
	USCC string
	Name string
	City string // 市州 division code
}

// MaxEnterpriseHits caps a search's answer.
const MaxEnterpriseHits = 100

// EnterpriseSearcher finds enterprises by name or code, for supervisors who know one but not
// the other.
type EnterpriseSearcher interface {
	// SearchEnterprises returns the registered enterprises whose name contains q or whose
	// USCC starts with q (letters in any case), in city ("" for all), by name, at most
	// MaxEnterpriseHits; more says there were more.
	SearchEnterprises(ctx context.Context, q, city string) (hits []EnterpriseHit, more bool, err error)
}
