package voucherwatch

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base32"
	"encoding/hex"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// DetectorComplaint is the detector name a complaint's case carries: a complaint is listed,
// filtered and moved through the workflow as an alert of this detector.
const DetectorComplaint = "complaint"

// ComplaintCategory is what a complaint says an enterprise did (投诉举报类别).
type ComplaintCategory string

// The categories of the public form, in its order.
const (
	ComplaintDuplicateClaim ComplaintCategory = "duplicate_claim" // 重复申领
	ComplaintResale         ComplaintCategory = "resale"          // 转租转售
	ComplaintRelatedParty   ComplaintCategory = "related_party"   // 关联交易
	ComplaintPrice          ComplaintCategory = "price"           // 价格异常
	ComplaintFalseUse       ComplaintCategory = "false_use"       // 虚假使用
	ComplaintOther          ComplaintCategory = "other"           // 其他
)

// ComplaintCategories are the categories, in the form's order.
var ComplaintCategories = []ComplaintCategory{ComplaintDuplicateClaim, ComplaintResale, ComplaintRelatedParty,
	ComplaintPrice, ComplaintFalseUse, ComplaintOther}

// Valid reports whether c is one of ComplaintCategories.
func (c ComplaintCategory) Valid() bool {
	for _, x := range ComplaintCategories {
		if c == x {
			return true
		}
	}
	return false
}

// ComplaintChannel is how a complaint arrived.
type ComplaintChannel string

// The channels: the public form, or an official registering a call or a letter.
const (
	ChannelPublic ComplaintChannel = "public"
	ChannelPhone  ComplaintChannel = "phone"
	ChannelLetter ComplaintChannel = "letter"
)

// Valid reports whether c is a known channel.
func (c ComplaintChannel) Valid() bool {
	return c == ChannelPublic || c == ChannelPhone || c == ChannelLetter
}

// Limits of what a complainant may write, in characters.
const (
	MaxComplaintText    = 2000
	MaxComplaintContact = 200
)

// Complaint is one complaint or tip (投诉举报) about an enterprise. Its public part (the
// enterprise, the category, the masked text) becomes a case in the workflow: an alert with
// detector DetectorComplaint and the complaint's ID. The protected part (the sealed contact
// details, the hash of the follow-up secret, who registered it) is kept apart.
type Complaint struct {
	ID       string // the case's alert id
	Receipt  string // the number the complainant follows the case by
	USCC     string // the enterprise complained about
	City     string // its 市州, from the registry; the case's city scope
	Category ComplaintCategory
	Text     string // masked (MaskText) before it is stored
	Channel  ComplaintChannel
	// RegisteredBy is the id of the official who registered a phone call or letter; "" for
	// the public form.
	RegisteredBy string
	CreatedAt    time.Time
}

// ComplaintInput is what a complainant or an official submits.
type ComplaintInput struct {
	USCC     string
	Category string
	Text     string
	Contact  string // optional; sealed before it is stored, never logged
	Channel  ComplaintChannel
}

// CheckComplaintInput trims and checks a submission: a USCC's shape, a known category and
// channel, a text within MaxComplaintText characters and a contact within
// MaxComplaintContact, both plain text (control characters but newlines and tabs are
// refused). It returns EINVALID naming the field.
func CheckComplaintInput(in ComplaintInput) (ComplaintInput, error) {
	in.USCC = strings.ToUpper(strings.TrimSpace(in.USCC))
	in.Text = strings.TrimSpace(strings.ReplaceAll(in.Text, "\r\n", "\n"))
	in.Contact = strings.TrimSpace(in.Contact)
	switch {
	case !USCCShaped(in.USCC):
		// Shaped, not checked: the registry decides which enterprises exist.
		return in, FieldErrorf("uscc", "want an 18-character 统一社会信用代码")
	case !ComplaintCategory(in.Category).Valid():
		return in, FieldErrorf("category", "unknown category %q", in.Category)
	case !in.Channel.Valid():
		return in, FieldErrorf("channel", "want public, phone or letter")
	case in.Text == "":
		return in, FieldErrorf("text", "the description is empty")
	case !plainText(in.Text, MaxComplaintText):
		return in, FieldErrorf("text", "want plain text of at most %d characters", MaxComplaintText)
	case !plainText(in.Contact, MaxComplaintContact) || strings.Contains(in.Contact, "\n"):
		return in, FieldErrorf("contact", "want one line of at most %d characters", MaxComplaintContact)
	}
	return in, nil
}

func plainText(s string, max int) bool {
	if !utf8.ValidString(s) || utf8.RuneCountInString(s) > max {
		return false
	}
	for _, r := range s {
		if unicode.IsControl(r) && r != '\n' && r != '\t' {
			return false
		}
	}
	return true
}

// NewComplaintID, NewReceipt and NewComplaintSecret draw the random parts of a complaint: the
// case id, the receipt number (TS, the day in China Standard Time, and 8 random characters)
// and the follow-up secret (128 bits), of which only ComplaintSecretHash is stored.
func NewComplaintID() string { return "cp_" + randomToken(10) }

// NewReceipt draws a receipt number for a complaint received at.
func NewReceipt(at time.Time) string {
	return "TS" + at.In(CST).Format("20060102") + "-" + randomToken(5)
}

// NewComplaintSecret draws a follow-up secret.
func NewComplaintSecret() string { return randomToken(16) }

var receiptEncoding = base32.StdEncoding.WithPadding(base32.NoPadding)

func randomToken(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand does not fail on supported systems
	}
	return receiptEncoding.EncodeToString(b)
}

// ComplaintSecretHash is what is stored of a follow-up secret. The secret has 128 random
// bits, so a plain hash cannot be reversed by guessing.
func ComplaintSecretHash(secret string) string {
	sum := sha256.Sum256([]byte("vw-complaint-secret\x00" + strings.ToUpper(strings.TrimSpace(secret))))
	return hex.EncodeToString(sum[:])
}

// SecretMatches compares a typed secret with a stored hash in constant time.
func SecretMatches(secret, hash string) bool {
	return subtle.ConstantTimeCompare([]byte(ComplaintSecretHash(secret)), []byte(hash)) == 1
}

// ContactBox seals complainants' contact details with a key of their own (AES-256-GCM), so
// that the database alone does not give them away. Only province administrators see them
// opened.
type ContactBox struct{ aead cipher.AEAD }

// NewContactBox makes a box from a secret key of at least 16 bytes.
func NewContactBox(key []byte) (*ContactBox, error) {
	if len(key) < 16 {
		return nil, fmt.Errorf("complaint key: want at least 16 bytes, got %d", len(key))
	}
	k := sha256.Sum256(append([]byte("vw-complaint-contact\x00"), key...))
	block, err := aes.NewCipher(k[:])
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &ContactBox{aead: aead}, nil
}

// Seal encrypts contact details for the complaint with id (bound as additional data, so a
// sealed value copied to another complaint does not open). An empty contact seals to "".
func (b *ContactBox) Seal(id, contact string) string {
	if contact == "" {
		return ""
	}
	nonce := make([]byte, b.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b.aead.Seal(nonce, nonce, []byte(contact), []byte(id)))
}

// Open decrypts what Seal gave for the complaint with id.
func (b *ContactBox) Open(id, sealed string) (string, error) {
	if sealed == "" {
		return "", nil
	}
	raw, err := hex.DecodeString(sealed)
	if err != nil || len(raw) < b.aead.NonceSize() {
		return "", fmt.Errorf("complaint contact: malformed")
	}
	n := b.aead.NonceSize()
	plain, err := b.aead.Open(nil, raw[:n], raw[n:], []byte(id))
	if err != nil {
		return "", fmt.Errorf("complaint contact: does not open with this key")
	}
	return string(plain), nil
}

// ComplaintRecord is a complaint as stored: its public part and the protected one.
type ComplaintRecord struct {
	Complaint
	SecretHash    string
	SealedContact string
}

// ComplaintCount counts complaints of one city and category by where they stand.
type ComplaintCount struct {
	City     string
	Category ComplaintCategory
	Received int // all, whatever their status
	Open     int // not in a final status
	Overdue  int // waiting for an explanation past its deadline
}

// ComplaintStore keeps complaints.
type ComplaintStore interface {
	// AddComplaint stores a complaint and opens its case (an alert of DetectorComplaint,
	// built by ComplaintAlert).
	AddComplaint(ctx context.Context, c ComplaintRecord, caseAlert Alert) error
	// ComplaintByReceipt returns the complaint with this receipt number; ENOTFOUND when none.
	ComplaintByReceipt(ctx context.Context, receipt string) (ComplaintRecord, error)
	// ComplaintByID returns the complaint of the case with this id; ENOTFOUND when none.
	ComplaintByID(ctx context.Context, id string) (ComplaintRecord, error)
	// ComplaintCounts counts complaints by city and category as of now.
	ComplaintCounts(ctx context.Context, now time.Time) ([]ComplaintCount, error)
}

// ComplaintAlert is the case of a complaint: listed with the alerts as detector
// DetectorComplaint, the enterprise as applicant, the category as kind. title and reason are
// the Chinese lines the supervision layer writes. The evidence carries the masked text, never
// the contact details.
func ComplaintAlert(c Complaint, title, reason string) Alert {
	return Alert{
		ID:           c.ID,
		Detector:     DetectorComplaint,
		Kind:         string(c.Category),
		Severity:     SeverityMedium,
		Subjects:     Subjects{ApplicantUSCC: c.USCC},
		City:         c.City,
		PolicyClause: "§五.1",
		Title:        title,
		Reason:       reason,
		Evidence: EvidenceOf(ComplaintEvidence{Category: string(c.Category), Channel: string(c.Channel),
			Receipt: c.Receipt, Text: c.Text}),
		CreatedAt: c.CreatedAt,
		UpdatedAt: c.CreatedAt,
	}
}

// ComplaintStage is where a complaint stands as its complainant may know it: the stage of
// its case, never its content.
type ComplaintStage string

// The stages /complaints/status shows.
const (
	StageReceived        ComplaintStage = "received"        // 已受理: nobody has started on it
	StageInvestigating   ComplaintStage = "investigating"   // 核查中: under review or waiting for an explanation
	StageSubstantiated   ComplaintStage = "substantiated"   // 已查实: confirmed, recovery ordered or done
	StageUnsubstantiated ComplaintStage = "unsubstantiated" // 未查实: dismissed
)

// StageOf is the stage of a complaint whose case has status s.
func StageOf(s Status) ComplaintStage {
	switch s {
	case StatusReviewing, StatusExplanationRequested:
		return StageInvestigating
	case StatusConfirmed, StatusRecoveryOrdered, StatusRecovered:
		return StageSubstantiated
	case StatusDismissed:
		return StageUnsubstantiated
	}
	return StageReceived
}

// Open reports whether a complaint at this stage still waits for a decision.
func (s ComplaintStage) Open() bool { return s == StageReceived || s == StageInvestigating }
