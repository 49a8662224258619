package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/voucherwatch/voucherwatch"
	"github.com/voucherwatch/voucherwatch/synth"
)

// detectorLabels are the detectors' Chinese names, as the Grafana alerts dashboard shows them.
var detectorLabels = map[string]string{
	"duplicate_claim":       "重复申报",
	"resale":                "倒卖算力",
	"related_party":         "关联交易",
	"price_out_of_range":    "价格异常",
	"annual_purchase":       "年度采购额不足",
	"applicant_credit":      "申报主体信用",
	"billed_above_metered":  "结算超出计量",
	"invoice_mismatch":      "发票与结算不符",
	"late_filing":           "合同逾期备案",
	"non_subsidisable_item": "不可补贴服务",
	"policy_window":         "超出政策期限",
	"requested_over_limit":  "申报超出上限",
	"unregistered_supplier": "供给方未登记",
	"usage_above_capacity":  "用量超出算力规模",
	"idle_consumption":      "付费算力闲置",
	"wash_trade":            "循环交易",
}

// detectorFindings is one detector's line of the summary: its alerts by severity, and the
// planted cases of the synthetic truth it found.
type detectorFindings struct {
	Detector            string
	High, Medium, Low   int
	Planted, Found      int // planted findings, and of them those an alert reports
	LookAlikes, Flagged int // planted look-alikes, and of them those alerted high or medium
}

// Alerts is the detector's alert count.
func (f detectorFindings) Alerts() int { return f.High + f.Medium + f.Low }

// findings counts the alerts per detector and severity and scores them against the truth, in
// the runner's order of detectors.
func (r demoResult) findings() []detectorFindings {
	var order []string
	idx := map[string]int{}
	add := func(d string) {
		if _, ok := idx[d]; !ok {
			idx[d] = len(order)
			order = append(order, d)
		}
	}
	for _, s := range r.Detectors {
		add(s.Detector)
	}
	byDetector := map[string][]voucherwatch.Alert{}
	for _, a := range r.Alerts {
		add(a.Detector)
		byDetector[a.Detector] = append(byDetector[a.Detector], a)
	}
	for _, c := range r.Truth.Cases {
		add(synth.DetectorName(c.Detector))
	}
	out := make([]detectorFindings, len(order))
	for i, d := range order {
		f := detectorFindings{Detector: d}
		for _, a := range byDetector[d] {
			switch a.Severity {
			case voucherwatch.SeverityHigh:
				f.High++
			case voucherwatch.SeverityMedium:
				f.Medium++
			default:
				f.Low++
			}
		}
		out[i] = f
	}
	for _, c := range r.Truth.Cases {
		f := &out[idx[synth.DetectorName(c.Detector)]]
		reported, flagged := false, false
		for _, a := range byDetector[f.Detector] {
			if c.ReportedBy(a) {
				reported = true
				flagged = flagged || a.Severity == voucherwatch.SeverityHigh || a.Severity == voucherwatch.SeverityMedium
			}
		}
		if c.LookAlike {
			f.LookAlikes++
			if flagged {
				f.Flagged++
			}
			continue
		}
		f.Planted++
		if reported {
			f.Found++
		}
	}
	return out
}

// summary prints, in Chinese and English, what was loaded, what the detectors found against
// what was planted, where to look, and the demo users.
func (r demoResult) summary(w io.Writer) {
	rule := strings.Repeat("═", 78)
	fmt.Fprintln(w, rule)
	fmt.Fprintln(w, " voucherwatch 演示 demo · 湖南省算力券监测 Hunan compute-voucher watch")
	fmt.Fprintln(w, rule)
	s := r.Stats
	fmt.Fprintf(w, "合成省份 Synthetic province  seed %d: %d enterprises, %d suppliers, %d contracts, %d claims\n",
		r.Province.Seed, s.Entities, s.Suppliers, s.Contracts, s.Claims)
	fmt.Fprintf(w, "                             %d messages through Kafka (%d delivered twice), generated in %.1fs\n",
		s.Total.Messages, s.Total.Redeliveries, r.Generate.Seconds())
	var stored, dup, rejected int64
	var parts []string
	for _, t := range synth.Topics {
		ts := r.Ingest.Topics[r.Topics[t]]
		stored += ts.Stored
		dup += ts.Duplicates
		rejected += ts.Rejected
		parts = append(parts, fmt.Sprintf("%s %d", shortTopic(t), ts.Stored))
	}
	fmt.Fprintf(w, "入库 Stored                  %d records in %.1fs: %s\n", stored, r.Load.Seconds(), strings.Join(parts, ", "))
	fmt.Fprintf(w, "                             %d redeliveries recognised, %d rejected\n", dup, rejected)

	fs := r.findings()
	var tot detectorFindings
	for _, f := range fs {
		tot.High, tot.Medium, tot.Low = tot.High+f.High, tot.Medium+f.Medium, tot.Low+f.Low
		tot.Planted, tot.Found = tot.Planted+f.Planted, tot.Found+f.Found
		tot.LookAlikes, tot.Flagged = tot.LookAlikes+f.LookAlikes, tot.Flagged+f.Flagged
	}
	fmt.Fprintf(w, "检测 Detectors               %d detectors ran in %.1fs: %d alerts (高 high %d · 中 medium %d · 低 low %d)\n",
		len(r.Detectors), r.Detect.Seconds(), tot.Alerts(), tot.High, tot.Medium, tot.Low)
	fmt.Fprintln(w)
	fmt.Fprintf(w, "  %s %s %s %s   %s\n", pad("检测器 detector", 40), lpad("高 high", 7), lpad("中 med", 7), lpad("低 low", 7), "预设案例 found / planted")
	for _, f := range fs {
		label := strings.TrimSpace(detectorLabels[f.Detector] + " " + f.Detector)
		found := "-"
		if f.Planted > 0 {
			found = fmt.Sprintf("%d / %d", f.Found, f.Planted)
		}
		fmt.Fprintf(w, "  %s %7d %7d %7d   %s\n", pad(label, 40), f.High, f.Medium, f.Low, found)
	}
	fmt.Fprintf(w, "  %s %7d %7d %7d   %d / %d\n", pad("合计 total", 40), tot.High, tot.Medium, tot.Low, tot.Found, tot.Planted)
	fmt.Fprintf(w, "  预设案例：合成数据中埋设的违规案例，found = 有告警命中的。Planted: the violations the generator\n")
	fmt.Fprintf(w, "  planted; found: those an alert reports. 相似但合规 Look-alikes (legitimate cases that resemble\n")
	fmt.Fprintf(w, "  violations) alerted high or medium: %d of %d.\n", tot.Flagged, tot.LookAlikes)
	fmt.Fprintf(w, "  Total %.1fs from start to summary.\n", r.Total.Seconds())
	fmt.Fprintln(w)

	token, err := r.adminToken()
	if err != nil {
		token = "<a province_admin token>"
	}
	fmt.Fprintln(w, "去哪里看 Where to look")
	fmt.Fprintf(w, "  网页界面 Web UI   %s/login  (sign in as a user below; 告警 alerts at %s/alerts)\n", r.BaseURL, r.BaseURL)
	if sc := r.SpotCheck; sc.ID != "" {
		n := sc.ItemCount
		if len(sc.Items) > n {
			n = len(sc.Items)
		}
		fmt.Fprintf(w, "  专项抽查 Spot check %s/spotchecks/%s  (%d 家企业, 双随机: risk-weighted and random, inspectors of other cities; seed %d)\n", r.BaseURL, sc.ID, n, sc.Seed)
	}
	fmt.Fprintf(w, "  接口 API         curl -H 'Authorization: Bearer %s' '%s/api/v1/alerts?severity=high&limit=5'\n", token, r.BaseURL)
	fmt.Fprintf(w, "                   (also /api/v1/status, /api/v1/detectors, /api/v1/claims/{id}/assessment; docs/api.md)\n")
	fmt.Fprintf(w, "  指标 Metrics     %s/metrics  (Prometheus; dashboards/prometheus/scrape.yml)\n", r.BaseURL)
	fmt.Fprintf(w, "  Grafana          dashboards/provisioning (ClickHouse data source, dashboard provider) and dashboards/json\n")
	fmt.Fprintf(w, "                   (5 dashboards, folder 算力券监测); with Docker, from the repository root:\n")
	fmt.Fprintf(w, "                     docker run -d --name grafana --network host -e GF_INSTALL_PLUGINS=grafana-clickhouse-datasource \\\n")
	fmt.Fprintf(w, "                       -v \"$PWD/dashboards/provisioning:/etc/grafana/provisioning:ro\" \\\n")
	fmt.Fprintf(w, "                       -v \"$PWD/dashboards/json:/var/lib/grafana/dashboards/voucherwatch:ro\" grafana/grafana\n")
	fmt.Fprintf(w, "                   then http://127.0.0.1:3000 ; packages and details: dashboards/README.md\n")
	fmt.Fprintln(w)

	fmt.Fprintln(w, "演示用户 Demo users — 仅供本机演示：密码公开，切勿用于生产。")
	fmt.Fprintln(w, "  Demo only: these passwords and tokens are printed and derived from public text; never use them in production.")
	fmt.Fprintf(w, "  %-10s %-26s %-20s %s\n", "login", "role", "password", "API token")
	for _, u := range r.Users {
		role := string(u.Role)
		if u.City != "" {
			role += " " + u.City
		}
		pw, tok := u.Password, u.Token
		if u.PasswordKept {
			pw = "(kept: changed)"
		}
		if tok == "" {
			tok = "(kept: not the demo token)"
		}
		fmt.Fprintf(w, "  %-10s %-26s %-20s %s\n", u.Login, role, pw, tok)
	}
	created := 0
	for _, u := range r.Users {
		if u.Created {
			created++
		}
	}
	if created < len(r.Users) {
		fmt.Fprintf(w, "  (%d of %d existed already and were kept as they are)\n", len(r.Users)-created, len(r.Users))
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "引擎继续运行，按 Ctrl-C 停止。The engine keeps running; press Ctrl-C to stop it.")
}

// pad right-pads s with spaces to width terminal columns; lpad left-pads it.
func pad(s string, width int) string  { return s + strings.Repeat(" ", max(width-columns(s), 0)) }
func lpad(s string, width int) string { return strings.Repeat(" ", max(width-columns(s), 0)) + s }

// columns is the terminal columns s takes, CJK characters counting two.
func columns(s string) int {
	cols := 0
	for _, r := range s {
		cols++
		if r >= 0x2E80 && r <= 0xFFEF || r >= 0x20000 {
			cols++
		}
	}
	return cols
}
