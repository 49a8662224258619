package workflow

import (
	"context"
	"time"

	"github.com/voucherwatch/voucherwatch"
)

// The public notice (公示) of a round: GET /public/rounds/{id} (HTML) and
// /public/rounds/{id}.json, to anyone, once the list is published. It shows the allocated
// lines only, and of each the claim, the enterprise, its city and the amount: no score, no
// reason, no alert, no person.

// PublicRoundLine is a line of the public notice.
type PublicRoundLine struct {
	ClaimID    string `json:"claim_id"`
	Enterprise string `json:"enterprise"`
	City       string `json:"city"`      // division code
	CityName   string `json:"city_name"` // Chinese
	Amount     string `json:"amount"`    // yuan
}

// PublicRound is the public notice of a round.
type PublicRound struct {
	ID           string            `json:"id"`
	Year         int               `json:"year"`
	State        string            `json:"state"`
	Version      int               `json:"version"`
	InputsDigest string            `json:"inputs_digest"`
	PublishedAt  time.Time         `json:"published_at"`
	NoticeEnds   time.Time         `json:"notice_ends"`
	Open         bool              `json:"objections_open"` // the notice period runs
	Total        string            `json:"total"`
	Lines        []PublicRoundLine `json:"lines"`
	// CSRF is the objection form's token on the page; never in the JSON.
	CSRF string `json:"-"`
}

// Public reads a published (or final) round's notice; ENOTFOUND for any other round, so that a
// list in the making is not seen.
func (d Rounds) Public(ctx context.Context, id string) (PublicRound, error) {
	rd, err := d.Store.Round(ctx, id)
	if err == nil && rd.State != voucherwatch.RoundPublished && rd.State != voucherwatch.RoundFinal {
		err = voucherwatch.Errorf(voucherwatch.ENOTFOUND, "round %s is not published", id)
	}
	if err != nil {
		return PublicRound{}, err
	}
	v, err := d.Frozen(ctx, rd)
	if err != nil {
		return PublicRound{}, err
	}
	ends := voucherwatch.NoticeEnds(rd.PublishedAt, rd.NoticeDays)
	p := PublicRound{ID: rd.ID, Year: rd.Year, State: string(rd.State), Version: v.Version, InputsDigest: v.InputsDigest,
		PublishedAt: rd.PublishedAt, NoticeEnds: ends, Open: rd.State == voucherwatch.RoundPublished && d.Clock().Before(ends),
		Total: v.Total.String(), Lines: []PublicRoundLine{}}
	for _, l := range v.Lines {
		if l.State == voucherwatch.LineAllocated {
			p.Lines = append(p.Lines, PublicRoundLine{ClaimID: l.ClaimID, Enterprise: l.ApplicantName, City: l.City,
				CityName: voucherwatch.CityName(l.City), Amount: l.Allocated.String()})
		}
	}
	return p, nil
}
