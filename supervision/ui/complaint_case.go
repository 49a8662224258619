package ui

import (
	"context"

	"github.com/voucherwatch/voucherwatch"
	"github.com/voucherwatch/voucherwatch/supervision/workflow"
)

// complaintCase is what the alert page shows of a complaint's case beside the workflow: the
// complaint, and what the engine knows of the enterprise (its enterprise file).
type complaintCase struct {
	Receipt  string
	Channel  voucherwatch.ComplaintChannel
	Category voucherwatch.ComplaintCategory
	Text     string // masked when it was stored
	// MayReadContact is set for province administrators only: nobody else is shown the
	// contact details, or whether there are any.
	MayReadContact bool
	Contact        string
	ContactError   bool
	// File is the enterprise's file; nil when the engine holds nothing about it.
	File *voucherwatch.EnterpriseFile
}

// addComplaintCase adds to an alert page the complaint of a complaint's case and the
// enterprise's open alerts, or, on another alert, the complaints about its applicant: a
// complaint and an alert on the same enterprise link to each other. Both lists keep to the
// user's city.
func (h *Handler) addComplaintCase(ctx context.Context, u voucherwatch.User, p *alertPage) error {
	a := p.Alert
	uscc := a.Subjects.ApplicantUSCC
	scope := workflow.CityScope(u)
	if a.Detector != voucherwatch.DetectorComplaint {
		if uscc == "" {
			return nil
		}
		linked, _, err := h.Alerts.Alerts(ctx, voucherwatch.AlertFilter{ApplicantUSCC: uscc, City: scope,
			Detector: voucherwatch.DetectorComplaint, Limit: 100})
		p.Linked = linked
		return err
	}
	var ev voucherwatch.ComplaintEvidence
	_ = a.Evidence.Decode(&ev) // a case whose evidence does not decode shows blanks
	c := &complaintCase{Text: ev.Text, Category: voucherwatch.ComplaintCategory(a.Kind), Receipt: ev.Receipt,
		Channel: voucherwatch.ComplaintChannel(ev.Channel)}
	if h.Complaints != nil && u.Role == voucherwatch.RoleProvinceAdmin {
		c.MayReadContact = true
		rec, err := h.Complaints.Store.ComplaintByID(ctx, a.ID)
		switch voucherwatch.ErrorCode(err) {
		case "":
			contact, err := h.Complaints.Box.Open(a.ID, rec.SealedContact)
			if err != nil {
				// Never the sealed value or anything of the contact.
				h.Log.Warn("supervision: complaint contact does not open", "id", a.ID)
				c.ContactError = true
			}
			c.Contact = contact
		case voucherwatch.ENOTFOUND:
		default:
			return err
		}
	}
	if h.Enterprises != nil && uscc != "" {
		f, err := h.Enterprises.EnterpriseFile(ctx, uscc)
		switch voucherwatch.ErrorCode(err) {
		case "":
			c.File = &f
		case voucherwatch.ENOTFOUND:
		default:
			return err
		}
	}
	p.Complaint = c
	if uscc == "" {
		return nil
	}
	all, _, err := h.Alerts.Alerts(ctx, voucherwatch.AlertFilter{ApplicantUSCC: uscc, City: scope, Limit: 200})
	if err != nil {
		return err
	}
	for _, x := range all {
		if x.ID != a.ID && x.Status != voucherwatch.StatusDismissed && x.Status != voucherwatch.StatusRecovered {
			p.Linked = append(p.Linked, x)
		}
	}
	return nil
}
