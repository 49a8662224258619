package main

import (
	"encoding/json"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/voucherwatch/voucherwatch"
	"github.com/voucherwatch/voucherwatch/store/storetest"
	"github.com/voucherwatch/voucherwatch/synth"
)

// listAlerts asks GET /api/v1/alerts with a query as the province administrator.
func listAlerts(t *testing.T, m *Main, query string) []voucherwatch.Alert {
	t.Helper()
	req, _ := http.NewRequest("GET", "http://"+m.HTTPAddr+"/api/v1/alerts?"+query, nil)
	req.Header.Set("Authorization", "Bearer "+testToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("alerts: %d %s", resp.StatusCode, body)
	}
	var out struct {
		Alerts []voucherwatch.Alert `json:"alerts"`
	}
	if err := json.Unmarshal(body, &out); err != nil {
		t.Fatal(err)
	}
	return out.Alerts
}

// TestReusedInvoiceAlertedWithinSeconds: after a province is ingested, a new claim that cites
// an invoice another claim already cited is alerted shortly after it arrives, without anyone
// asking for a detector run: ingest triggers the detectors.
func TestReusedInvoiceAlertedWithinSeconds(t *testing.T) {
	c := testConfig(t, storetest.Database(t))
	c.DetectDebounce = 300 * time.Millisecond
	m := startMain(t, c)
	p := synth.Generate(synth.Config{Seed: 5, Enterprises: 80, Suppliers: 8, Plant: false})
	if err := publishProvince(t.Context(), m.Brokers, m.Config.Topics, p.Messages, nil); err != nil {
		t.Fatal(err)
	}
	waitFor(t, m, 2*time.Minute, "province consumed", func(st voucherwatch.IngestStatus) bool {
		for _, topic := range synth.Topics {
			if ts := st.Topics[topic]; ts.Lag != 0 || ts.Consumed != int64(p.Stats.Topics[topic].Messages) {
				return false
			}
		}
		return true
	})
	m.Runner.RunAll(t.Context(), time.Now())
	if got := listAlerts(t, m, "detector=duplicate_claim&severity=high"); len(got) != 0 {
		t.Fatalf("got %d high duplicate_claim alerts on an honest province, want none: %+v", len(got), got[0])
	}

	// The same applicant's new claim citing its earlier claim's first invoice again.
	claims := p.Topic(synth.TopicClaims)
	var env map[string]any
	if err := json.Unmarshal(claims[0].Value, &env); err != nil {
		t.Fatal(err)
	}
	data := env["data"].(map[string]any)
	invoices := data["invoices"].([]any)
	data["invoices"] = invoices[:1]
	data["claim_id"] = "SB2026-REUSE-1"
	env["id"] = "claim-reuse-1"
	value, _ := json.Marshal(env)
	sent := time.Now()
	produce(t, m.Brokers[0], synth.TopicClaims, []kafka.Message{{Key: []byte("SB2026-REUSE-1"), Value: value}})

	deadline := sent.Add(60 * time.Second)
	for time.Now().Before(deadline) {
		for _, a := range listAlerts(t, m, "detector=duplicate_claim") {
			if a.Subjects.ClaimID == "SB2026-REUSE-1" {
				if a.Severity != voucherwatch.SeverityHigh || a.Subjects.InvoiceNo == "" {
					t.Errorf("got %s alert with subjects %+v, want high and naming the invoice", a.Severity, a.Subjects)
				}
				t.Logf("alerted %.1fs after the claim was sent: %s", time.Since(sent).Seconds(), a.Title)
				return
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("no duplicate_claim alert on the re-used invoice within 60 s")
}
