package voucherwatch

import (
	"errors"
	"strings"
	"testing"
)

func TestContactBoxSealsAndOpensOnlyWithItsKeyAndComplaint(t *testing.T) {
	box, err := NewContactBox([]byte("complaint-key-0123456789"))
	if err != nil {
		t.Fatal(err)
	}
	other, _ := NewContactBox([]byte("another-key-0123456789ab"))
	const contact = "王女士 13912345678"
	sealed := box.Seal("cp_1", contact)
	if strings.Contains(sealed, "13912345678") || sealed == box.Seal("cp_1", contact) {
		t.Fatalf("sealed %q: want ciphertext, different on every seal", sealed)
	}
	if got, err := box.Open("cp_1", sealed); err != nil || got != contact {
		t.Errorf("Open: got %q, %v; want %q", got, err, contact)
	}
	if _, err := other.Open("cp_1", sealed); err == nil {
		t.Error("another key opened the contact")
	}
	if _, err := box.Open("cp_2", sealed); err == nil {
		t.Error("the contact of one complaint opened as another's")
	}
	if box.Seal("cp_1", "") != "" {
		t.Error("an empty contact: want nothing sealed")
	}
	if _, err := NewContactBox([]byte("short")); err == nil {
		t.Error("a 5-byte key: want refused")
	}
}

func TestCheckComplaintInput(t *testing.T) {
	valid := CompleteUSCC("91430100MA4L00001")
	ok := ComplaintInput{USCC: " " + strings.ToLower(valid) + " ", Category: "resale", Text: "转租\r\n给他人", Channel: ChannelPublic}
	got, err := CheckComplaintInput(ok)
	if err != nil || got.USCC != valid || got.Text != "转租\n给他人" {
		t.Fatalf("got %+v, %v", got, err)
	}
	f := func(field string, mod func(*ComplaintInput)) {
		t.Helper()
		in := ok
		mod(&in)
		_, err := CheckComplaintInput(in)
		var e *Error
		if err == nil || !errors.As(err, &e) || e.Field != field {
			t.Errorf("%+v: got %v, want an error on %s", in, err, field)
		}
	}
	f("uscc", func(in *ComplaintInput) { in.USCC = valid[:17] })     // 17 characters
	f("uscc", func(in *ComplaintInput) { in.USCC = "长沙麓谷智算科技有限公司" }) // a name, not a code
	f("category", func(in *ComplaintInput) { in.Category = "重复申领" })
	f("channel", func(in *ComplaintInput) { in.Channel = "email" })
	f("text", func(in *ComplaintInput) { in.Text = "  " })
	f("text", func(in *ComplaintInput) { in.Text = strings.Repeat("字", MaxComplaintText+1) })
	f("text", func(in *ComplaintInput) { in.Text = "a\x00b" })
	f("contact", func(in *ComplaintInput) { in.Contact = "line1\nline2" })
	f("contact", func(in *ComplaintInput) { in.Contact = strings.Repeat("1", MaxComplaintContact+1) })
}

func TestStageOfHidesTheWorkflowDetail(t *testing.T) {
	for s, want := range map[Status]ComplaintStage{StatusNew: StageReceived, StatusReviewing: StageInvestigating,
		StatusExplanationRequested: StageInvestigating, StatusConfirmed: StageSubstantiated,
		StatusRecoveryOrdered: StageSubstantiated, StatusRecovered: StageSubstantiated, StatusDismissed: StageUnsubstantiated} {
		if got := StageOf(s); got != want {
			t.Errorf("%s: got %s, want %s", s, got, want)
		}
	}
}
