package ui

import (
	"net/http"

	"github.com/voucherwatch/voucherwatch"
	"github.com/voucherwatch/voucherwatch/supervision/locale"
)

// complaintRegisterForm is the data of /complaints/register, where an official registers a
// complaint received by phone or letter.
type complaintRegisterForm struct {
	USCC, Channel, Category, Text, Contact string
	Categories                             []voucherwatch.ComplaintCategory
	Channels                               []voucherwatch.ComplaintChannel
}

func (h *Handler) renderComplaintRegister(w http.ResponseWriter, r *http.Request, q Request, status int, f complaintRegisterForm, errMsg string) {
	f.Categories = voucherwatch.ComplaintCategories
	f.Channels = []voucherwatch.ComplaintChannel{voucherwatch.ChannelPhone, voucherwatch.ChannelLetter}
	f.Text = voucherwatch.MaskText(f.Text)
	d := h.data(r, q, locale.T("complaint.register.title"), "inbox")
	d.Error, d.Page = errMsg, f
	h.render(w, status, "complaint_register", d)
}

// ShowComplaintRegister answers GET /complaints/register: the form, for the roles that act
// on cases.
func (h *Handler) ShowComplaintRegister(w http.ResponseWriter, r *http.Request, q Request) {
	if !q.user.Role.MayAct() {
		h.renderError(w, r, q, http.StatusForbidden, locale.T("error.forbidden"))
		return
	}
	h.renderComplaintRegister(w, r, q, http.StatusOK, complaintRegisterForm{USCC: r.URL.Query().Get("uscc")}, "")
}

// PostComplaintRegister answers POST /complaints/register (uscc, channel, category, text,
// contact?): the complaint is filed as through POST /api/v1/complaints, and the receipt and
// the secret shown, for the official to give the complainant.
func (h *Handler) PostComplaintRegister(w http.ResponseWriter, r *http.Request, q Request) {
	if !q.user.Role.MayAct() {
		h.renderError(w, r, q, http.StatusForbidden, locale.T("error.forbidden"))
		return
	}
	f := complaintRegisterForm{USCC: r.PostFormValue("uscc"), Channel: r.PostFormValue("channel"), Category: r.PostFormValue("category"),
		Text: r.PostFormValue("text"), Contact: r.PostFormValue("contact")}
	ch := voucherwatch.ComplaintChannel(f.Channel)
	if ch != voucherwatch.ChannelPhone && ch != voucherwatch.ChannelLetter {
		ch = voucherwatch.ChannelPhone
	}
	c, secret, err := h.Complaints.File(r.Context(), voucherwatch.ComplaintInput{USCC: f.USCC, Category: f.Category, Text: f.Text, Contact: f.Contact, Channel: ch}, q.user)
	if err != nil {
		if voucherwatch.ErrorCode(err) != voucherwatch.EINVALID {
			h.failPage(w, r, q, err)
			return
		}
		h.renderComplaintRegister(w, r, q, http.StatusBadRequest, f, complaintErrorMessage(err))
		return
	}
	d := h.data(r, q, locale.T("complaint.receipt.title"), "inbox")
	d.Page = complaintReceipt{Receipt: c.Receipt, Secret: secret, CaseID: c.ID}
	h.render(w, http.StatusCreated, "complaint_receipt", d)
}
