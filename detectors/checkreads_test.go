package detectors

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/voucherwatch/voucherwatch"
)

// countingClaims is a read model whose LatestClaims counts its reads and answers the claim
// ids asked for, with the read's number as the applicant.
type countingClaims struct {
	voucherwatch.ReadModel
	reads int
	asked []string // the claim ids of the last read
}

func (m *countingClaims) LatestClaims(_ context.Context, q voucherwatch.ClaimQuery) ([]voucherwatch.StoredClaim, error) {
	m.reads++
	m.asked = q.IDs
	var out []voucherwatch.StoredClaim
	for _, id := range q.IDs {
		var c voucherwatch.StoredClaim
		c.ClaimID, c.ApplicantUSCC = id, string(rune('0'+m.reads))
		out = append(out, c)
	}
	return out, nil
}

func TestCheckReadsAnswerRepeatsUntilTheirRecordsAreStored(t *testing.T) {
	m := &countingClaims{}
	c := NewCheckReads(m)
	c.MaxAge = 200 * time.Millisecond
	check := withCheckMemo(context.Background())
	other := withCheckMemo(context.Background()) // another lane's check
	ab := voucherwatch.ClaimQuery{IDs: []string{"a", "b"}}
	read := func(ctx context.Context, q voucherwatch.ClaimQuery) []voucherwatch.StoredClaim {
		t.Helper()
		got, err := c.LatestClaims(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	steps := []struct {
		what  string
		do    func()
		reads int
	}{
		{"a full run reads through", func() { read(context.Background(), ab); read(context.Background(), ab) }, 2},
		{"a check reads once", func() { read(check, ab) }, 3},
		{"the same look-up in another lane's check is answered", func() { read(other, ab) }, 3},
		{"a claim among them is answered", func() { read(other, voucherwatch.ClaimQuery{IDs: []string{"a"}}) }, 3},
		{"another claim with them: only it is read", func() {
			if got := read(other, voucherwatch.ClaimQuery{IDs: []string{"c", "a", "b", "a"}}); len(got) != 3 {
				t.Fatalf("got %d claims for a, b and c", len(got))
			}
			if fmt.Sprint(m.asked) != "[c]" {
				t.Fatalf("read %v, want [c]", m.asked)
			}
		}, 4},
		{"a caller sorting and changing its answer changes nothing kept", func() {
			got := read(check, ab)
			got[0], got[1] = got[1], got[0]
			got[0].ClaimID = "x"
			if again := read(check, ab); again[0].ClaimID != "a" || again[1].ClaimID != "b" {
				t.Fatalf("kept answer changed by a caller: %+v", again)
			}
		}, 4},
		{"usage and another claim stored: still answered", func() {
			c.Invalidate([]voucherwatch.Record{{Usage: &voucherwatch.Usage{}}, claimRecord("z")})
			read(check, ab)
		}, 4},
		{"a new version of a claim looked up: it is read again", func() {
			c.Invalidate([]voucherwatch.Record{claimRecord("b")})
			read(check, ab)
			read(other, ab)
			if fmt.Sprint(m.asked) != "[b]" {
				t.Fatalf("read %v, want [b]", m.asked)
			}
		}, 5},
		{"past MaxAge: read again", func() { time.Sleep(c.MaxAge + 50*time.Millisecond); read(check, ab) }, 6},
		{"an applicant's claims: any claim stored changes them", func() {
			byApplicant := voucherwatch.ClaimQuery{Applicants: []string{"p"}}
			read(check, byApplicant)
			read(other, byApplicant)
			c.Invalidate([]voucherwatch.Record{claimRecord("z")})
			read(check, byApplicant)
		}, 8},
	}
	for _, s := range steps {
		s.do()
		if m.reads != s.reads {
			t.Fatalf("%s: %d reads, want %d", s.what, m.reads, s.reads)
		}
	}
}

// slowClaims is a read model whose LatestClaims, while it reads, lets the test store a
// record.
type slowClaims struct {
	countingClaims
	during func()
}

func (m *slowClaims) LatestClaims(ctx context.Context, q voucherwatch.ClaimQuery) ([]voucherwatch.StoredClaim, error) {
	if m.during != nil {
		m.during()
		m.during = nil
	}
	return m.countingClaims.LatestClaims(ctx, q)
}

// An answer read while records were stored may lack them: it is not kept, or the check of
// those records, queued after they were stored, could be answered without them.
func TestCheckReadsKeepNoAnswerReadWhileStoring(t *testing.T) {
	for _, q := range []voucherwatch.ClaimQuery{
		{IDs: []string{"a"}},        // kept per claim
		{Applicants: []string{"p"}}, // kept per look-up
	} {
		m := &slowClaims{}
		c := NewCheckReads(m)
		check := withCheckMemo(context.Background())
		m.during = func() { c.Invalidate([]voucherwatch.Record{claimRecord("a")}) }
		for range 2 {
			if _, err := c.LatestClaims(check, q); err != nil {
				t.Fatal(err)
			}
		}
		if m.reads != 2 {
			t.Fatalf("%+v: %d reads, want 2: the answer read while claim a was stored was kept", q, m.reads)
		}
	}
}

// countingSettlements answers each invoice asked with one settlement of it.
type countingSettlements struct {
	voucherwatch.ReadModel
	reads int
	asked []voucherwatch.InvoiceKey
}

func (m *countingSettlements) LatestSettlements(_ context.Context, q voucherwatch.SettlementQuery) ([]voucherwatch.StoredSettlement, error) {
	m.reads++
	m.asked = q.Invoices
	var out []voucherwatch.StoredSettlement
	for _, k := range q.Invoices {
		var s voucherwatch.StoredSettlement
		s.InvoiceCode, s.InvoiceNo = k.Code, k.No
		out = append(out, s)
	}
	return out, nil
}

func TestCheckReadsKeepSettlementsPerInvoice(t *testing.T) {
	m := &countingSettlements{}
	c := NewCheckReads(m)
	check := withCheckMemo(context.Background())
	k1 := voucherwatch.InvoiceKey{Code: "4300251130", No: "00000001"}
	k2 := voucherwatch.InvoiceKey{Code: "4300251130", No: "00000002"}
	k3 := voucherwatch.InvoiceKey{Code: "4300251130", No: "00000003"}
	settlement := func(k voucherwatch.InvoiceKey) voucherwatch.Record {
		return voucherwatch.Record{Settlement: &voucherwatch.Settlement{InvoiceCode: k.Code, InvoiceNo: k.No}}
	}
	read := func(keys ...voucherwatch.InvoiceKey) {
		t.Helper()
		got, err := c.LatestSettlements(check, voucherwatch.SettlementQuery{Invoices: keys})
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(keys) {
			t.Fatalf("%d settlements for %d invoices", len(got), len(keys))
		}
	}
	steps := []struct {
		what  string
		do    func()
		reads int
	}{
		{"two invoices read", func() { read(k1, k2) }, 1},
		{"one of them answered", func() { read(k2) }, 1},
		{"another invoice's settlement stored: still answered", func() { c.Invalidate([]voucherwatch.Record{settlement(k3)}); read(k1, k2) }, 1},
		{"a settlement of one of them stored: that one read again", func() {
			c.Invalidate([]voucherwatch.Record{settlement(k1)})
			read(k1, k2)
			if len(m.asked) != 1 || m.asked[0] != k1 {
				t.Fatalf("read %v, want %v", m.asked, k1)
			}
		}, 2},
		{"a look-up by pair reads through the kept invoices", func() {
			if _, err := c.LatestSettlements(check, voucherwatch.SettlementQuery{Invoices: []voucherwatch.InvoiceKey{k1}, BuyerContracts: [][2]string{{"b", "c"}}}); err != nil {
				t.Fatal(err)
			}
		}, 3},
	}
	for _, s := range steps {
		s.do()
		if m.reads != s.reads {
			t.Fatalf("%s: %d reads, want %d", s.what, m.reads, s.reads)
		}
	}
}

// What CheckReads keeps is bounded: answers past MaxAge go as others come, and rows past
// keptRowsMost drop the lot.
func TestCheckReadsKeepBoundedRows(t *testing.T) {
	m := &countingClaims{}
	c := NewCheckReads(m)
	c.MaxAge = 100 * time.Millisecond
	check := withCheckMemo(context.Background())
	ids := func(from, n int) []string {
		out := make([]string, n)
		for i := range out {
			out[i] = fmt.Sprintf("c%06d", from+i)
		}
		return out
	}
	if _, err := c.LatestClaims(check, voucherwatch.ClaimQuery{IDs: ids(0, 1000)}); err != nil {
		t.Fatal(err)
	}
	if c.rows != 1000 || len(c.kept) != 1000 {
		t.Fatalf("kept %d rows in %d answers, want 1000 and 1000", c.rows, len(c.kept))
	}
	time.Sleep(c.MaxAge)
	if _, err := c.LatestClaims(check, voucherwatch.ClaimQuery{IDs: ids(1000, 10)}); err != nil {
		t.Fatal(err)
	}
	if c.rows != 10 || len(c.kept) != 10 {
		t.Fatalf("kept %d rows in %d answers after MaxAge, want the 10 new ones", c.rows, len(c.kept))
	}
	c.MaxAge = time.Hour
	for from := 2000; from < 2000+keptRowsMost+1000; from += 1000 {
		if _, err := c.LatestClaims(check, voucherwatch.ClaimQuery{IDs: ids(from, 1000)}); err != nil {
			t.Fatal(err)
		}
		if c.rows > keptRowsMost {
			t.Fatalf("kept %d rows, more than %d", c.rows, keptRowsMost)
		}
	}
}

// registryReads answers LatestEntitiesOf with one entity per USCC and Cities with two
// enterprises, counting its reads.
type registryReads struct {
	voucherwatch.ReadModel
	entityReads, cityReads int
}

func (m *registryReads) LatestEntitiesOf(_ context.Context, usccs []string) ([]voucherwatch.StoredEntity, error) {
	m.entityReads++
	var out []voucherwatch.StoredEntity
	for _, u := range usccs {
		var e voucherwatch.StoredEntity
		e.USCC = u
		out = append(out, e)
	}
	return out, nil
}

func (m *registryReads) Cities(context.Context) (map[string]string, error) {
	m.cityReads++
	return map[string]string{"a": "430100", "b": "430200"}, nil
}

func TestCheckReadsKeepRegistryRowsAndCities(t *testing.T) {
	m := &registryReads{}
	c := NewCheckReads(m)
	check := withCheckMemo(context.Background())
	entity := func(uscc string) voucherwatch.Record {
		return voucherwatch.Record{Entity: &voucherwatch.Entity{USCC: uscc}}
	}
	ents := func(usccs ...string) {
		t.Helper()
		if got, err := c.LatestEntitiesOf(check, usccs); err != nil || len(got) != len(usccs) {
			t.Fatalf("LatestEntitiesOf(%v): %d rows, %v", usccs, len(got), err)
		}
	}
	cities := func() map[string]string {
		t.Helper()
		got, err := c.Cities(check)
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	steps := []struct {
		what             string
		do               func()
		entities, cities int
	}{
		{"first reads", func() { ents("a", "b"); cities() }, 1, 1},
		{"repeated, and a subset: answered", func() { ents("b"); ents("a", "b"); cities() }, 1, 1},
		{"a caller changing its map changes nothing kept", func() {
			cities()["a"] = "x"
			if cities()["a"] != "430100" {
				t.Fatal("kept cities changed by a caller")
			}
		}, 1, 1},
		{"another enterprise's registry record: the cities read again, the rows answered", func() {
			c.Invalidate([]voucherwatch.Record{entity("z")})
			ents("a", "b")
			cities()
		}, 1, 2},
		{"a registry record of one: it is read again", func() { c.Invalidate([]voucherwatch.Record{entity("a")}); ents("a", "b") }, 2, 2},
	}
	for _, s := range steps {
		s.do()
		if m.entityReads != s.entities || m.cityReads != s.cities {
			t.Fatalf("%s: %d entity reads and %d city reads, want %d and %d", s.what, m.entityReads, m.cityReads, s.entities, s.cities)
		}
	}
}
