package spotcheck

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/robfig/cron/v3"

	"github.com/voucherwatch/voucherwatch"
)

// memStore is a hand-written SpotCheckStore in memory, refusing a known id as the real one
// does.
type memStore struct {
	mu         sync.Mutex
	claimants  []voucherwatch.SpotCheckClaimant
	inspectors []voucherwatch.Inspector
	draws      map[string]voucherwatch.SpotCheck
}

func (m *memStore) SpotCheckClaimants(context.Context, time.Time, time.Time) ([]voucherwatch.SpotCheckClaimant, error) {
	return m.claimants, nil
}
func (m *memStore) CreateInspector(_ context.Context, in voucherwatch.Inspector) error {
	m.inspectors = append(m.inspectors, in)
	return nil
}
func (m *memStore) Inspectors(context.Context) ([]voucherwatch.Inspector, error) {
	return m.inspectors, nil
}
func (m *memStore) DisableInspector(context.Context, string, time.Time) error { return nil }
func (m *memStore) CreateSpotCheck(_ context.Context, sc voucherwatch.SpotCheck) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.draws[sc.ID]; ok {
		return voucherwatch.Errorf(voucherwatch.ECONFLICT, "spot check %s exists already", sc.ID)
	}
	m.draws[sc.ID] = sc
	return nil
}
func (m *memStore) SpotCheck(_ context.Context, id string) (voucherwatch.SpotCheck, error) {
	sc, ok := m.draws[id]
	if !ok {
		return sc, voucherwatch.Errorf(voucherwatch.ENOTFOUND, "spot check %s not found", id)
	}
	return sc, nil
}
func (m *memStore) SpotChecks(context.Context) ([]voucherwatch.SpotCheck, error) { return nil, nil }
func (m *memStore) RecordInspectionResult(context.Context, voucherwatch.InspectionResult) error {
	return nil
}
func (m *memStore) InspectionResults(context.Context, string) ([]voucherwatch.InspectionResult, error) {
	return nil, nil
}
func (m *memStore) SpotCheckProgress(context.Context, string) (map[string]voucherwatch.SpotCheckProgress, error) {
	return nil, nil
}

func TestScheduledSlotDrawnOnceAcrossInstances(t *testing.T) {
	in := skewedProvince(5, 300)
	st := &memStore{claimants: in.Claimants, inspectors: in.Inspectors, draws: map[string]voucherwatch.SpotCheck{}}
	sched, err := Parse("0 3 1 * *")
	if err != nil {
		t.Fatal(err)
	}
	slot := time.Date(2026, 12, 1, 3, 0, 0, 0, voucherwatch.CST)
	if got := sched.Next(slot.Add(-time.Hour)); !got.Equal(slot) {
		t.Fatalf("next slot: got %v, want %v (03:00 CST on the 1st)", got, slot)
	}
	// Three instances fire a little apart; each works out the same slot.
	var wg sync.WaitGroup
	var mu sync.Mutex
	drawnHere := 0
	for i := range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			now := slot.Add(time.Duration(i*400) * time.Millisecond)
			s := &Scheduler{Store: st, Params: voucherwatch.DefaultSpotCheckParams(), Secret: []byte("k"), Now: func() time.Time { return now }}
			if _, err := s.RunSlot(context.Background(), SlotOf(sched, now)); err != nil {
				t.Errorf("instance %d: %v", i, err)
			}
			if s.Status().DrawnHere {
				mu.Lock()
				drawnHere++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if len(st.draws) != 1 || drawnHere != 1 {
		t.Fatalf("got %d draws, %d instances drawing, want one", len(st.draws), drawnHere)
	}
	sc, ok := st.draws["sc-20261201-0300"]
	if !ok {
		t.Fatalf("got draws %v, want sc-20261201-0300", st.draws)
	}
	if sc.Seed != SlotSeed(slot, []byte("k")) || sc.Seed > MaxSeed || sc.Trigger != voucherwatch.SpotCheckScheduled {
		t.Errorf("got seed %d trigger %s, want the slot's seed and scheduled", sc.Seed, sc.Trigger)
	}
	if SlotSeed(slot, []byte("k")) == SlotSeed(slot, []byte("other")) || SlotSeed(slot, []byte("k")) == SlotSeed(slot.AddDate(0, 1, 0), []byte("k")) {
		t.Error("slot seeds do not depend on the key and the slot")
	}
	v, err := Verify(sc)
	if err != nil || !v.DigestMatches || !v.ItemsMatch || !v.MethodMatches {
		t.Errorf("verify: got %+v, %v, want everything to match", v, err)
	}
	sc.Inputs.Claimants[0].OpenHigh += 10
	if v, _ := Verify(sc); v.DigestMatches {
		t.Errorf("verify after changing the inputs: got %+v, want the digest not to match", v)
	}
}

func TestSlotOf(t *testing.T) {
	sched, _ := Parse("0 3 1 * *")
	slot := time.Date(2026, 12, 1, 3, 0, 0, 0, voucherwatch.CST)
	for _, tc := range []struct {
		now  time.Time
		want time.Time
	}{
		{slot, slot},
		{slot.Add(900 * time.Millisecond), slot},
		{slot.Add(50 * time.Second), slot},
		{slot.Add(10*time.Minute + 300*time.Millisecond), slot.Add(10 * time.Minute)}, // not a slot: its own second
	} {
		if got := SlotOf(sched, tc.now); !got.Equal(tc.want) {
			t.Errorf("SlotOf(%v): got %v, want %v", tc.now, got, tc.want)
		}
	}
	for _, bad := range []string{"every month", "@every 720h"} {
		if _, err := Parse(bad); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
}

// TestStartDrawsAMissedSlot: an engine started on the 10th finds the slot of the 1st not
// drawn and draws it; one started again finds it drawn.
func TestStartDrawsAMissedSlot(t *testing.T) {
	in := skewedProvince(6, 100)
	st := &memStore{claimants: in.Claimants, inspectors: in.Inspectors, draws: map[string]voucherwatch.SpotCheck{}}
	now := time.Date(2026, 12, 10, 9, 0, 0, 0, voucherwatch.CST)
	for range 2 {
		s := &Scheduler{Store: st, Params: voucherwatch.DefaultSpotCheckParams(), Secret: []byte("k"), Now: func() time.Time { return now }}
		if err := s.Start(t.Context(), "@monthly"); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(5 * time.Second)
		for s.Status().LastID == "" && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		if st := s.Status(); st.LastID != "sc-20261201-0000" || st.LastError != "" || !st.Next.Equal(time.Date(2027, 1, 1, 0, 0, 0, 0, voucherwatch.CST)) {
			t.Errorf("got status %+v, want the missed slot of 2026-12-01 00:00 drawn and the next on 2027-01-01", st)
		}
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	if len(st.draws) != 1 {
		t.Errorf("got %d draws, want 1", len(st.draws))
	}
	if _, ok := LastSlot(mustParse(t, "0 3 1 1 *"), now); ok {
		t.Error("a yearly slot eleven months back was found within the catch-up window")
	}
}

func mustParse(t *testing.T, spec string) cron.Schedule {
	t.Helper()
	s, err := Parse(spec)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestScheduledSlotWithoutClaimants: before the first claim (a fresh installation) a
// scheduled slot records nothing; a draw on demand records its empty list.
func TestScheduledSlotWithoutClaimants(t *testing.T) {
	st := &memStore{inspectors: skewedProvince(6, 100).Inspectors, draws: map[string]voucherwatch.SpotCheck{}}
	now := time.Date(2026, 12, 10, 9, 0, 0, 0, voucherwatch.CST)
	s := &Scheduler{Store: st, Params: voucherwatch.DefaultSpotCheckParams(), Secret: []byte("k"), Now: func() time.Time { return now },
		Draws: NewDrawsMetric(nil)}
	if _, err := s.RunSlot(t.Context(), time.Date(2026, 12, 1, 0, 0, 0, 0, voucherwatch.CST)); err != nil {
		t.Fatalf("scheduled slot without claimants: %v, want no error", err)
	}
	if got := testutil.ToFloat64(s.Draws.WithLabelValues(SlotNothingToDraw)); got != 1 {
		t.Errorf("vw_spotcheck_slots_total{result=nothing_to_draw}: got %v, want 1", got)
	}
	if st := s.Status(); st.LastError != "" || st.DrawnHere {
		t.Errorf("got status %+v, want nothing drawn and no error", st)
	}
	sc, err := Conduct(t.Context(), st, Request{Seed: 1, Params: voucherwatch.DefaultSpotCheckParams(), Trigger: voucherwatch.SpotCheckOnDemand, By: "u", At: now})
	if err != nil || len(sc.Items) != 0 {
		t.Fatalf("on demand: got %d items, %v; want an empty draw recorded", len(sc.Items), err)
	}
	if len(st.draws) != 1 || st.draws[sc.ID].ID != sc.ID {
		t.Errorf("got draws %v, want only the one on demand", st.draws)
	}
}
