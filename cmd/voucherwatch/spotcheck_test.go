package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/voucherwatch/voucherwatch"
	"github.com/voucherwatch/voucherwatch/spotcheck"
	"github.com/voucherwatch/voucherwatch/store/storetest"
	"github.com/voucherwatch/voucherwatch/synth"
)

// api sends a request as the province administrator and decodes the JSON answer into out.
func api(t *testing.T, m *Main, method, path string, body any, out any) int {
	t.Helper()
	code, raw := apiAs(t, m, testToken, method, path, body)
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			t.Fatalf("%s %s: %d %s: %v", method, path, code, raw, err)
		}
	}
	return code
}

// TestSpotCheckOnSynthProvince ingests a synthetic province with planted fraud, runs the
// detectors, registers inspectors and draws: on demand through the API, and on the schedule
// from two instances at once, which must leave one draw.
func TestSpotCheckOnSynthProvince(t *testing.T) {
	c := testConfig(t, storetest.Database(t))
	c.SpotCheckSchedule = "" // slots are run by hand below
	m := startMain(t, c)
	p := synth.Generate(synth.DefaultConfig(11))
	for _, topic := range synth.Topics {
		var msgs []kafka.Message
		for _, msg := range p.Topic(topic) {
			msgs = append(msgs, kafka.Message{Key: msg.Key, Value: msg.Value})
		}
		produce(t, m.Brokers[0], topic, msgs)
	}
	waitFor(t, m, 3*time.Minute, "province consumed", func(st voucherwatch.IngestStatus) bool {
		for _, topic := range synth.Topics {
			if ts := st.Topics[topic]; ts.Lag != 0 || ts.Consumed != int64(p.Stats.Topics[topic].Messages) {
				return false
			}
		}
		return true
	})
	m.Runner.RunAll(t.Context(), time.Now())

	for code := range voucherwatch.Cities {
		for _, name := range []string{"甲", "乙"} {
			var in voucherwatch.Inspector
			if got := api(t, m, "POST", "/api/v1/inspectors", map[string]any{"name": voucherwatch.CityName(code) + name, "city": code}, &in); got != 201 {
				t.Fatalf("register inspector: got %d", got)
			}
		}
	}

	var sc voucherwatch.SpotCheck
	started := time.Now()
	if got := api(t, m, "POST", "/api/v1/spotchecks", map[string]any{"seed": 20261201}, &sc); got != 201 {
		t.Fatalf("draw: got %d %+v", got, sc)
	}
	t.Logf("drew %d items in %v", len(sc.Items), time.Since(started))
	claimants, err := m.DB.SpotCheckClaimants(t.Context(), time.Time{}, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if want := max(int(float64(len(claimants))*c.SpotCheckShare+0.5), c.SpotCheckMin); len(sc.Items) < want {
		t.Errorf("got %d items of %d claimants, want at least %d", len(sc.Items), len(claimants), want)
	}
	var risky, random float64
	var nRisky, nRandom int
	for _, it := range sc.Items {
		for _, in := range it.Inspectors {
			if in.City == it.City {
				t.Errorf("%s of %s inspected by %s of the same city", it.USCC, it.City, in.Name)
			}
		}
		if len(it.Inspectors) != 2 {
			t.Errorf("%s: got %d inspectors, want 2", it.USCC, len(it.Inspectors))
		}
		if it.DrawnBy == voucherwatch.DrawnByRisk {
			risky, nRisky = risky+it.Risk, nRisky+1
		} else {
			random, nRandom = random+it.Risk, nRandom+1
		}
	}
	t.Logf("%d claimants; risk part mean risk %.2f (%d), random part %.2f (%d)", len(claimants), risky/float64(nRisky), nRisky, random/float64(nRandom), nRandom)

	var v spotcheck.Verification
	if api(t, m, "GET", "/api/v1/spotchecks/"+sc.ID+"/verify", nil, &v); !v.ItemsMatch || !v.DigestMatches {
		t.Errorf("verify the stored draw: got %+v, want it to re-run to the same list", v)
	}

	// Two instances' schedulers fire for the same slot.
	slot := time.Date(2027, 1, 1, 3, 0, 0, 0, voucherwatch.CST)
	other := &spotcheck.Scheduler{Store: m.DB, Params: m.SpotChecks.Params, Secret: []byte(c.PIIKey), Log: m.Log}
	runSlotOnEach(t, slot, m.SpotChecks.RunSlot, other.RunSlot)
	var list struct {
		SpotChecks []voucherwatch.SpotCheck `json:"spotchecks"`
	}
	api(t, m, "GET", "/api/v1/spotchecks", nil, &list)
	scheduled := 0
	for _, d := range list.SpotChecks {
		if d.ID == spotcheck.SlotID(slot) {
			scheduled++
			if d.Seed != spotcheck.SlotSeed(slot, []byte(c.PIIKey)) {
				t.Errorf("scheduled draw's seed: got %d, want the slot's", d.Seed)
			}
		}
	}
	if scheduled != 1 {
		t.Errorf("got %d draws of the slot, want 1: %+v", scheduled, list.SpotChecks)
	}
	var shown voucherwatch.SpotCheck
	api(t, m, "GET", "/api/v1/spotchecks/"+spotcheck.SlotID(slot), nil, &shown)
	if len(shown.Items) == 0 {
		t.Errorf("the scheduled draw shows no items")
	}
}

func TestSpotCheckFlagsAreChecked(t *testing.T) {
	dsn := storetest.Database(t)
	for _, tc := range []struct {
		name string
		edit func(*Config)
	}{
		{"unaligned schedule", func(c *Config) { c.SpotCheckSchedule = "@every 720h" }},
		{"malformed schedule", func(c *Config) { c.SpotCheckSchedule = "monthly" }},
		{"share above one", func(c *Config) { c.SpotCheckShare = 2 }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := testConfig(t, dsn)
			tc.edit(&c)
			m := NewMain(c)
			defer m.Close()
			if err := m.Start(t.Context()); err == nil || !strings.Contains(err.Error(), "spotcheck") {
				t.Errorf("got %v, want an error naming the spotcheck flag", err)
			}
		})
	}
}

// runSlotOnEach runs slot on each scheduler at once, as several engine instances would, and
// fails the test if any of them fails.
func runSlotOnEach[R any](t *testing.T, slot time.Time, runs ...func(context.Context, time.Time) (R, error)) {
	t.Helper()
	done := make(chan error, len(runs))
	for _, run := range runs {
		go func() {
			_, err := run(t.Context(), slot)
			done <- err
		}()
	}
	for range runs {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
}
