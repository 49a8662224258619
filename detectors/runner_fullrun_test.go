package detectors

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/voucherwatch/voucherwatch"
	"github.com/voucherwatch/voucherwatch/detectors/detectortest"
	"github.com/voucherwatch/voucherwatch/rules"
)

// heldSettlementReads is a read model whose read of every settlement (the full read of money
// at stake) waits until released: a full run's stake on a province too large to read quickly.
type heldSettlementReads struct {
	voucherwatch.ReadModel
	entered chan struct{} // closed by the first held read
	release chan struct{}
	once    *sync.Once
}

func (h heldSettlementReads) LatestSettlements(ctx context.Context, q voucherwatch.SettlementQuery) ([]voucherwatch.StoredSettlement, error) {
	if q.All {
		h.once.Do(func() { close(h.entered) })
		select {
		case <-h.release:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	return h.ReadModel.LatestSettlements(ctx, q)
}

// TestCheckNotHeldByFullRun: a claim re-using an already-claimed invoice (its applicant's claim
// resubmitted under a new id) is alerted (its money
// at stake read by key, TestStakeKeyedMatchesFull) while a full run is held in storing its own alerts (its money at stake reads
// every claim and settlement, minutes on a large province under load), and a look-alike claim
// of an unclaimed invoice is not. Before, the full run computed money at stake under the lock
// that serialises storing alerts, and the staker held its own lock through that read, so the
// check's alert waited for the whole of it (the 71 M run's p50 of 65-96 s).
func TestCheckNotHeldByFullRun(t *testing.T) {
	db := detectortest.NewDB(t)
	f := newDupFixture()
	f.contract(dupSupplierS, dupBuyerA, "HT-A", "H100", "20.00")
	f.settlement(dupSettle{supplier: dupSupplierS, buyer: dupBuyerA, contract: "HT-A", code: "4300", no: "0001", amount: "1000.00", paid: "2026-03-10"})
	f.settlement(dupSettle{supplier: dupSupplierS, buyer: dupBuyerA, contract: "HT-A", code: "4300", no: "0002", amount: "500.00", paid: "2026-03-11"})
	f.claim("SB-1", dupBuyerA, "2026-04-01", []string{"HT-A"}, "4300/0001=1000.00")
	detectortest.Store(t, db, f.recs...)

	held := heldSettlementReads{ReadModel: db, entered: make(chan struct{}), release: make(chan struct{}), once: &sync.Once{}}
	var releaseOnce sync.Once
	release := func() { releaseOnce.Do(func() { close(held.release) }) }
	defer release()
	staker := NewStaker(Env{DB: db, Read: held, Policy: rules.Default()})
	r := NewRunner(db, nil, nil)
	r.Debounce, r.CheckDelay, r.UpsertChunk = time.Hour, 10*time.Millisecond, 2
	r.Stake = staker.Annotate
	// The full run's alerts are about more deals than the keyed read takes: their money at
	// stake needs every claim and settlement (the full read, held).
	sweepAlert := voucherwatch.Alert{ID: "sweep-deal", Kind: "deal", Severity: voucherwatch.SeverityLow, Title: "t", Reason: "r",
		Subjects: voucherwatch.Subjects{ApplicantUSCC: dupBuyerA, SupplierUSCC: dupSupplierS, ContractNo: "HT-A"}}
	sweepAlerts := []voucherwatch.Alert{sweepAlert}
	for i := range keyedStakeMost {
		a := sweepAlert
		a.ID, a.Subjects.ContractNo = fmt.Sprintf("sweep-deal-%d", i), fmt.Sprintf("HT-X%d", i)
		sweepAlerts = append(sweepAlerts, a)
	}
	r.Register(
		detectorFn{name: "sweep", run: func(context.Context, time.Time) ([]voucherwatch.Alert, error) {
			return sweepAlerts, nil
		}},
		NewDuplicateClaim(Env{DB: db, Policy: rules.Default()}),
	)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := r.Start(ctx, "@every 24h"); err != nil {
		t.Fatal(err)
	}
	ran := make(chan []Summary, 1)
	go func() { ran <- r.RunAll(ctx, time.Now()) }()
	select {
	case <-held.entered:
	case <-time.After(20 * time.Second):
		t.Fatal("the full run never read every settlement for its money at stake")
	}

	later := newDupFixture()
	later.next = f.next
	later.recs = nil
	later.claim("SB-2", dupBuyerA, "2026-04-02", []string{"HT-A"}, "4300/0001=1000.00") // re-uses SB-1's invoice
	later.claim("SB-3", dupBuyerA, "2026-04-03", []string{"HT-A"}, "4300/0002=500.00")  // look-alike: an invoice nobody claimed
	for i := range later.recs {
		later.recs[i].ID = fmt.Sprintf("later-%d", i)
	}
	detectortest.Store(t, db, later.recs...)
	staker.Invalidate()
	sent := time.Now()
	r.Changed(later.recs)

	var got []voucherwatch.Alert
	for time.Since(sent) < 15*time.Second && len(got) == 0 {
		as, _, err := db.Alerts(ctx, voucherwatch.AlertFilter{Detector: voucherwatch.DetectorDuplicateClaim})
		if err != nil {
			t.Fatal(err)
		}
		got = as
		time.Sleep(50 * time.Millisecond)
	}
	if len(got) != 1 || got[0].Subjects.ClaimID != "SB-2" || got[0].Kind != KindClaimResubmitted {
		t.Fatalf("while the full run was held: got duplicate_claim alerts %+v, want one claim_resubmitted on SB-2", got)
	}
	select {
	case <-ran:
		t.Fatal("the full run ended before it was released")
	default:
	}
	t.Logf("alerted %.2fs after the records were reported, the full run held", time.Since(sent).Seconds())

	release()
	var sums []Summary
	select {
	case sums = <-ran:
	case <-time.After(30 * time.Second):
		t.Fatal("the full run did not end after it was released")
	}
	for _, s := range sums {
		if s.Error != "" {
			t.Errorf("full run: %s failed: %s", s.Detector, s.Error)
		}
	}
	if _, err := db.Alert(ctx, sweepAlert.ID); err != nil {
		t.Errorf("the full run's alert after release: %v", err)
	}
}

// blockingChunks is an alert store whose first store of the full run's alerts waits until
// released, recording the order in which alerts were stored.
type blockingChunks struct {
	mu      sync.Mutex
	order   []string
	entered chan struct{}
	release chan struct{}
	first   bool
}

func (s *blockingChunks) UpsertAlerts(_ context.Context, alerts []voucherwatch.Alert, _ time.Time) (voucherwatch.UpsertResult, error) {
	s.mu.Lock()
	block := !s.first && alerts[0].Detector == "sweep"
	s.first = s.first || block
	s.mu.Unlock()
	if block {
		close(s.entered)
		<-s.release
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, a := range alerts {
		s.order = append(s.order, a.ID)
	}
	return voucherwatch.UpsertResult{New: len(alerts)}, nil
}
func (s *blockingChunks) Alerts(context.Context, voucherwatch.AlertFilter) ([]voucherwatch.Alert, string, error) {
	return nil, "", nil
}
func (s *blockingChunks) Alert(context.Context, string) (voucherwatch.Alert, error) {
	return voucherwatch.Alert{}, voucherwatch.Errorf(voucherwatch.ENOTFOUND, "no alert")
}

// TestCheckAlertsBeforeFullRunsRest: a full run stores its alerts in chunks, and a check's
// alerts that arrive while one chunk is being stored go in right after it, before the full
// run's other chunks (before, a full run of thousands of alerts stored them in one piece
// under the lock, and a check's alerts waited for all of them).
func TestCheckAlertsBeforeFullRunsRest(t *testing.T) {
	st := &blockingChunks{entered: make(chan struct{}), release: make(chan struct{})}
	r := NewRunner(st, nil, nil)
	r.Debounce, r.CheckDelay, r.UpsertChunk = time.Hour, 10*time.Millisecond, 2
	var sweep []voucherwatch.Alert
	for i := range 6 {
		sweep = append(sweep, voucherwatch.Alert{ID: fmt.Sprintf("sweep-%d", i), Detector: "sweep"})
	}
	r.Register(
		detectorFn{name: "sweep", run: func(context.Context, time.Time) ([]voucherwatch.Alert, error) { return sweep, nil }},
		checkFn{detectorFn{name: "check", run: noRun}, alertPerClaim("check")},
	)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := r.Start(ctx, "@every 24h"); err != nil {
		t.Fatal(err)
	}
	ran := make(chan []Summary, 1)
	go func() { ran <- r.RunAll(ctx, time.Now()) }()
	<-st.entered
	r.Changed([]voucherwatch.Record{claimRecord("new")})
	// The check is waiting for the chunk under way: give it time to queue, then release.
	time.Sleep(300 * time.Millisecond)
	close(st.release)
	sums := <-ran
	if sums[0].Alerts != len(sweep) || sums[0].New != len(sweep) {
		t.Errorf("full run: got %d alerts, %d new; want %d, %d", sums[0].Alerts, sums[0].New, len(sweep), len(sweep))
	}
	waitFor(t, 5*time.Second, "the check's alert is stored", func() bool {
		st.mu.Lock()
		defer st.mu.Unlock()
		return len(st.order) == len(sweep)+1
	})
	st.mu.Lock()
	defer st.mu.Unlock()
	want := []string{"sweep-0", "sweep-1", "check-new", "sweep-2", "sweep-3", "sweep-4", "sweep-5"}
	if fmt.Sprint(st.order) != fmt.Sprint(want) {
		t.Errorf("stored in the order %v, want %v (the check's alert after the chunk under way)", st.order, want)
	}
}
