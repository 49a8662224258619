package workflow

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/voucherwatch/voucherwatch"
	"github.com/voucherwatch/voucherwatch/supervision/locale"
)

// Complaints files complaints: the API and the public form both file them here.
type Complaints struct {
	// Store keeps complaints and opens their cases.
	Store voucherwatch.ComplaintStore
	// Registry finds the enterprise complained about, by name or code, and its city.
	Registry voucherwatch.EnterpriseSearcher
	// Box seals contact details (the complaint key).
	Box *voucherwatch.ContactBox
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// Log records each complaint received (never its text, contact or secret); slog.Default()
	// when nil.
	Log *slog.Logger
}

// File checks a complaint, finds its enterprise's city in the registry, masks the
// text, seals the contact and stores the complaint with its case. by is the official who
// registers it; the zero User for the public form. It returns the follow-up secret, which is
// not kept.
func (d Complaints) File(ctx context.Context, in voucherwatch.ComplaintInput, by voucherwatch.User) (voucherwatch.Complaint, string, error) {
	in, err := voucherwatch.CheckComplaintInput(in)
	if err != nil {
		return voucherwatch.Complaint{}, "", err
	}
	hit, err := d.RegistryMatch(ctx, in.USCC)
	if err != nil {
		return voucherwatch.Complaint{}, "", err
	}
	if scope := CityScope(by); by.ID != "" && scope != "" && hit.City != scope {
		return voucherwatch.Complaint{}, "", voucherwatch.FieldErrorf("uscc", "the enterprise is not of your city")
	}
	now := d.now()
	c := voucherwatch.Complaint{
		ID: voucherwatch.NewComplaintID(), Receipt: voucherwatch.NewReceipt(now), USCC: in.USCC, City: hit.City,
		Category: voucherwatch.ComplaintCategory(in.Category), Text: voucherwatch.MaskText(in.Text),
		Channel: in.Channel, RegisteredBy: by.ID, CreatedAt: now,
	}
	secret := voucherwatch.NewComplaintSecret()
	rec := voucherwatch.ComplaintRecord{Complaint: c, SecretHash: voucherwatch.ComplaintSecretHash(secret),
		SealedContact: d.Box.Seal(c.ID, in.Contact)}
	title := fmt.Sprintf(locale.T("complaint.case.title"), locale.ComplaintCategoryLabel(c.Category))
	reason := fmt.Sprintf(locale.T("complaint.case.reason"), locale.ComplaintChannelLabel(c.Channel), locale.ComplaintCategoryLabel(c.Category))
	if err := d.Store.AddComplaint(ctx, rec, voucherwatch.ComplaintAlert(c, title, reason)); err != nil {
		return voucherwatch.Complaint{}, "", err
	}
	// Never the text, the contact or the secret.
	d.log().Info("supervision: complaint received", "id", c.ID, "city", c.City, "category", c.Category, "channel", c.Channel, "by", by.ID)
	return c, secret, nil
}

// RegistryMatch is the registry's record of the enterprise with this USCC; EINVALID on uscc
// when the registry does not know it, since a case needs the enterprise's city.
func (d Complaints) RegistryMatch(ctx context.Context, uscc string) (voucherwatch.EnterpriseHit, error) {
	hits, _, err := d.Registry.SearchEnterprises(ctx, uscc, "")
	if err != nil {
		return voucherwatch.EnterpriseHit{}, err
	}
	for _, h := range hits {
		if h.USCC == uscc && h.City != "" {
			return h, nil
		}
	}
	return voucherwatch.EnterpriseHit{}, voucherwatch.FieldErrorf("uscc", "no enterprise with this code in the registry")
}

func (d Complaints) now() time.Time {
	if d.Now == nil {
		return time.Now()
	}
	return d.Now()
}

func (d Complaints) log() *slog.Logger {
	if d.Log == nil {
		return slog.Default()
	}
	return d.Log
}
