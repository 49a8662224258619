package evidence

import (
	"encoding/json"
	"encoding/xml"
	"errors"
	"io"
	"math"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/voucherwatch/voucherwatch"
)

// Planted personal numbers: a valid-looking resident identity number and a mobile number.
const (
	plantedID       = "430104199003071234"
	plantedIDMasked = "430***********1234"
	plantedPhone    = "13812345678"
	plantedPhoneMsk = "138****5678"
	scriptName      = `<script>alert("x")</script>有限公司`
)

// roundTrip is the evidence as the alert store reads it back: JSON-decoded.
func roundTrip(t *testing.T, a voucherwatch.Alert) voucherwatch.Alert {
	t.Helper()
	b, err := json.Marshal(a.Evidence)
	if err != nil {
		t.Fatalf("marshal evidence: %v", err)
	}
	var ev voucherwatch.Evidence
	if err := json.Unmarshal(b, &ev); err != nil {
		t.Fatalf("unmarshal evidence: %v", err)
	}
	a.Evidence = ev
	return a
}

// svgs returns the <svg> elements of out.
func svgs(out string) []string {
	return regexp.MustCompile(`(?s)<svg.*?</svg>`).FindAllString(out, -1)
}

// wellFormed fails unless s parses as XML to its end.
func wellFormed(t *testing.T, what, s string) {
	t.Helper()
	d := xml.NewDecoder(strings.NewReader(s))
	for {
		_, err := d.Token()
		if errors.Is(err, io.EOF) {
			return
		}
		if err != nil {
			t.Errorf("%s is not well-formed XML: %v\n%s", what, err, s)
			return
		}
	}
}

// svgTexts returns the character data of every <text> element of an SVG.
func svgTexts(t *testing.T, s string) []string {
	t.Helper()
	d := xml.NewDecoder(strings.NewReader(s))
	var out []string
	in := false
	for {
		tok, err := d.Token()
		if err != nil {
			return out
		}
		switch x := tok.(type) {
		case xml.StartElement:
			in = x.Name.Local == "text"
		case xml.EndElement:
			in = false
		case xml.CharData:
			if in {
				out = append(out, string(x))
			}
		}
	}
}

// commonChecks holds for every rendering: a well-formed fragment (it is written as XHTML),
// well-formed SVGs, no planted number in clear, no unescaped script.
func commonChecks(t *testing.T, out string) {
	t.Helper()
	wellFormed(t, "the evidence fragment", out)
	for i, s := range svgs(out) {
		wellFormed(t, "svg "+strconv.Itoa(i), s)
	}
	if strings.Contains(out, plantedID) {
		t.Errorf("the full identity number %s appears in the output", plantedID)
	}
	if strings.Contains(out, plantedPhone) {
		t.Errorf("the full phone number %s appears in the output", plantedPhone)
	}
	if strings.Contains(out, "<script") {
		t.Errorf("unescaped <script> in the output")
	}
	if !strings.HasPrefix(out, `<section class="evidence`) {
		t.Errorf("output does not start with the .evidence section: %.80s", out)
	}
}

// directStakeAndSharedOfficer is the evidence related_party builds for a buyer holding 35% of
// its supplier through a holding company, with one person (planted: a full identity number
// where the masked one belongs, and a name with markup) director of both, and a shared phone.
func directStakeAndSharedOfficer() voucherwatch.Alert {
	const buyer, holdco, supplier = "91430100MA4L0B0001", "91430100MA4L0H0002", "91430100MA4L0S0003"
	person := "person:0123456789abcdef"
	return voucherwatch.Alert{
		ID: "al_related", Detector: voucherwatch.DetectorRelatedParty, Kind: "shared_officer", Severity: voucherwatch.SeverityHigh,
		Subjects: voucherwatch.Subjects{ApplicantUSCC: buyer, SupplierUSCC: supplier},
		Evidence: voucherwatch.EvidenceOf(map[string]any{
			"buyer":    map[string]string{"uscc": buyer, "name": "湖南星算智能科技有限公司"},
			"supplier": map[string]string{"uscc": supplier, "name": scriptName},
			"ties": []map[string]any{
				{"kind": "integrated_ownership", "severity": "medium", "score": 0.71,
					"summary": "湖南星算智能科技有限公司持有长沙控股有限公司 70%，长沙控股有限公司持有供应商 50%（该路径 35%）：需求方对供应商的综合（直接与间接）持股比例为 35%，超过 20%",
					"facts":   map[string]any{"holder": buyer, "held": supplier, "integrated": 0.35, "direct": 0.0, "threshold": 0.2, "paths": [][]string{{buyer, holdco, supplier}}}},
				{"kind": "shared_officer", "severity": "high", "score": 0.9,
					"summary": "李雷（证件 " + plantedID + "）任需求方董事，又任供应商董事（同一证件）",
					"facts":   map[string]any{"person": person, "name": "李雷", "masked_id": plantedID, "buyer_roles": []string{"director"}, "supplier_roles": []string{"director"}}},
				{"kind": "shared_contact", "severity": "medium", "score": 0.6,
					"summary": "双方登记的联系电话相同：" + plantedPhone, "facts": map[string]any{"phone": plantedPhone}},
				{"kind": "shared_bank_account", "severity": "high", "score": 0.9,
					"summary": "双方登记了同一银行账户 6222000011112222", "facts": map[string]any{"account_no": "6222000011112222"}},
			},
			"graph": map[string]any{
				"nodes": []map[string]any{
					{"id": buyer, "kind": "enterprise", "name": "湖南星算智能科技有限公司", "uscc": buyer, "side": "buyer"},
					{"id": supplier, "kind": "enterprise", "name": scriptName, "uscc": supplier, "side": "supplier"},
					{"id": holdco, "kind": "enterprise", "name": "长沙控股有限公司", "uscc": holdco},
					{"id": person, "kind": "person", "name": "李雷", "masked_id": plantedID},
				},
				"edges": []map[string]any{
					{"from": buyer, "to": holdco, "kind": "holds", "pct": 70},
					{"from": holdco, "to": supplier, "kind": "holds", "pct": 50},
					{"from": person, "to": buyer, "kind": "officer", "role": "director"},
					{"from": person, "to": supplier, "kind": "officer", "role": "director"},
					{"from": buyer, "to": supplier, "kind": "contact", "role": "phone", "value": plantedPhone},
					{"from": buyer, "to": supplier, "kind": "bank_account", "value": "6222000011112222"},
				},
			},
			"summary":              "…",
			"integrated_ownership": map[string]float64{"buyer_in_supplier": 0.35, "supplier_in_buyer": 0},
			"controllers":          map[string]string{"buyer": buyer, "supplier": supplier},
			"contracts":            []string{"HT-2026-017"},
			"claims":               []string{"SB-2026-0042"},
		}),
	}
}

func TestRenderRelatedParty(t *testing.T) {
	for _, form := range []string{"in memory", "JSON-decoded"} {
		t.Run(form, func(t *testing.T) {
			a := directStakeAndSharedOfficer()
			if form == "JSON-decoded" {
				a = roundTrip(t, a)
			}
			start := time.Now()
			out := string(Render(a))
			t.Logf("Render took %v, %d bytes", time.Since(start), len(out))
			commonChecks(t, out)
			ss := svgs(out)
			if len(ss) != 1 {
				t.Fatalf("got %d SVGs, want 1 (the graph)", len(ss))
			}
			texts := strings.Join(svgTexts(t, ss[0]), "\n")
			for _, want := range []string{"湖南星算智能科技有限公司", "长沙控股有限公司", "李雷", "证件 " + plantedIDMasked, `<script>alert("x")</script>有限公司`,
				"需求方（申报单位）", "供应商", "股东 70%", "股东 50%", "董事", "共用联系电话 " + plantedPhoneMsk, "共用银行账户 尾号2222"} {
				if !strings.Contains(texts, want) {
					t.Errorf("the graph's texts lack %q:\n%s", want, texts)
				}
			}
			if !strings.Contains(out, "&lt;script&gt;") {
				t.Errorf("the supplier's name is not shown escaped")
			}
			if !strings.Contains(out, plantedIDMasked) || !strings.Contains(out, plantedPhoneMsk) {
				t.Errorf("masked forms %s / %s missing", plantedIDMasked, plantedPhoneMsk)
			}
			// Left to right along the path: buyer, holding company, supplier.
			xs := nodeXs(t, ss[0])
			if !(xs["湖南星算智能科技有限公司"] < xs["长沙控股有限公司"] && xs["长沙控股有限公司"] < xs[`<script>alert("x")</script>有限公司`]) {
				t.Errorf("nodes not left to right along the path: %v", xs)
			}
			for _, want := range []string{"关系明细", "关联认定", "间接持股", "HT-2026-017", "35%"} {
				if !strings.Contains(out, want) {
					t.Errorf("output lacks %q", want)
				}
			}
		})
	}
}

// nodeXs maps each node's name to the x of its name text.
func nodeXs(t *testing.T, svg string) map[string]float64 {
	t.Helper()
	d := xml.NewDecoder(strings.NewReader(svg))
	xs := map[string]float64{}
	var x float64
	name := false
	for {
		tok, err := d.Token()
		if err != nil {
			return xs
		}
		switch e := tok.(type) {
		case xml.StartElement:
			name = false
			if e.Name.Local == "text" {
				for _, a := range e.Attr {
					if a.Name.Local == "class" && a.Value == "ev-name" {
						name = true
					}
					if a.Name.Local == "x" {
						x, _ = strconv.ParseFloat(a.Value, 64)
					}
				}
			}
		case xml.CharData:
			if name {
				xs[string(e)] = x
			}
		case xml.EndElement:
			name = false
		}
	}
}

// cardHourPrice is the evidence price_out_of_range builds for a contract priced far from its
// chip's band.
func cardHourPrice(normalised float64, kind string) voucherwatch.Alert {
	item := func(model string, price float64) map[string]any {
		return map[string]any{"chip_model": model, "chip_origin": "domestic", "service_type": "compute_resource", "cards": 8,
			"unit": "card_month", "unit_price": strconv.FormatFloat(price*720, 'f', 2, 64), "normalised": price,
			"normalised_unit": "yuan/card_hour", "ratio_to_median": math.Round(price/12.5*10000) / 10000, "source": "contract"}
	}
	worst := item("Ascend 910B", normalised)
	return voucherwatch.Alert{
		ID: "al_price", Detector: voucherwatch.DetectorPrice, Kind: kind, Severity: voucherwatch.SeverityHigh,
		Evidence: voucherwatch.EvidenceOf(map[string]any{
			"contract_no": "HT-2026-088", "supplier_uscc": "91430100MA4L0S0003", "buyer_uscc": "91430100MA4L0B0001",
			"worst_item": worst, "items": []map[string]any{worst, item("Ascend 910B", 13.1)},
			"band": map[string]any{"of": "Ascend 910B（卡时，2026H1）", "low": 8.2, "median": 12.5, "high": 18.9, "unit": "yuan/card_hour",
				"n": 143, "method": "median±3·MAD on log price (σ=1.4826·MAD=0.210), n=143, and beyond ×1.5 / ×0.67 of the median"},
			"ratio_to_median": math.Round(normalised/12.5*10000) / 10000,
			"claims":          []string{"SB-2026-0007"},
		}),
	}
}

func TestRenderPrice(t *testing.T) {
	for _, tc := range []struct {
		name  string
		price float64
		kind  string
		above bool
	}{
		{"far above", 61.25, "unit_price_far_above", true},
		{"far below", 2.4, "unit_price_far_below", false},
		{"a little above", 21, "unit_price_far_above", true},
	} {
		for _, form := range []string{"in memory", "JSON-decoded"} {
			t.Run(tc.name+"/"+form, func(t *testing.T) {
				a := cardHourPrice(tc.price, tc.kind)
				if form == "JSON-decoded" {
					a = roundTrip(t, a)
				}
				out := string(Render(a))
				commonChecks(t, out)
				ss := svgs(out)
				if len(ss) != 1 {
					t.Fatalf("got %d SVGs, want 1 (the plot)", len(ss))
				}
				band, dot, median := plotShapes(t, ss[0])
				if tc.above && !(dot[0]-dot[2] > band[0]+band[1]) {
					t.Errorf("price dot at x=%.1f r=%.1f: want right of the band [%.1f, %.1f]", dot[0], dot[2], band[0], band[0]+band[1])
				}
				if !tc.above && !(dot[0]+dot[2] < band[0]) {
					t.Errorf("price dot at x=%.1f r=%.1f: want left of the band [%.1f, %.1f]", dot[0], dot[2], band[0], band[0]+band[1])
				}
				if !(median > band[0] && median < band[0]+band[1]) {
					t.Errorf("median line at x=%.1f: want inside the band [%.1f, %.1f]", median, band[0], band[0]+band[1])
				}
				texts := strings.Join(svgTexts(t, ss[0]), "\n")
				for _, want := range []string{"市场区间 ¥8.20 – ¥18.90", "中位价 ¥12.50", "合同单价 " + yuanText(tc.price), "元/卡时"} {
					if !strings.Contains(texts, want) {
						t.Errorf("plot texts lack %q:\n%s", want, texts)
					}
				}
				if want := "¥" + groupThousands(strconv.FormatFloat(tc.price*720, 'f', 0, 64)); !strings.Contains(out, want) {
					t.Errorf("output lacks the contract's unit price %s with thousands separators", want)
				}
			})
		}
	}
}

// plotShapes returns the band rectangle (x, width), the price dot (cx, cy, r) and the median
// line's x.
func plotShapes(t *testing.T, svg string) (band [2]float64, dot [3]float64, median float64) {
	t.Helper()
	d := xml.NewDecoder(strings.NewReader(svg))
	found := 0
	for {
		tok, err := d.Token()
		if err != nil {
			break
		}
		e, ok := tok.(xml.StartElement)
		if !ok {
			continue
		}
		attr := map[string]float64{}
		class := ""
		for _, a := range e.Attr {
			if a.Name.Local == "class" {
				class = a.Value
			}
			attr[a.Name.Local], _ = strconv.ParseFloat(a.Value, 64)
		}
		switch {
		case e.Name.Local == "rect" && class == "band":
			band = [2]float64{attr["x"], attr["width"]}
			found++
		case e.Name.Local == "circle" && class == "price-dot":
			dot = [3]float64{attr["cx"], attr["cy"], attr["r"]}
			found++
		case e.Name.Local == "line" && class == "median":
			median = attr["x1"]
			found++
		}
	}
	if found != 3 {
		t.Fatalf("plot: found %d of the band, price dot and median line", found)
	}
	return
}

func claimEvidence(id string, submitted string, requested string) map[string]any {
	return map[string]any{"claim_id": id, "applicant_uscc": "91430100MA4L0B0001", "round": 2026, "submitted_on": submitted,
		"contracts": []string{"HT-2026-017"}, "invoices": 2, "usage_amount": "1280000.00", "requested": requested,
		"record": "91430100MA4L0B0001 " + id}
}

func withContracts(claim map[string]any, contracts ...string) map[string]any {
	claim["contracts"] = contracts
	return claim
}

func settlementEvidence(id, no, buyer, paid string) map[string]any {
	return map[string]any{"settlement_id": id, "invoice_code": "", "invoice_no": no, "contract_no": "HT-2026-017",
		"supplier_uscc": "91430100MA4L0S0003", "buyer_uscc": buyer, "invoice_date": "2026-03-02", "amount": "500000.00",
		"payment_ref": "PAY-20260305-0001", "paid_on": paid, "payer_account": "6222000011112222", "payee_account": "6222000033334444"}
}

func TestRenderDuplicates(t *testing.T) {
	for _, tc := range []struct {
		name  string
		a     voucherwatch.Alert
		same  []string // row labels that must be highlighted
		other []string // texts that must appear
	}{
		{"claim resubmitted", voucherwatch.Alert{Detector: voucherwatch.DetectorDuplicateClaim, Kind: "claim_resubmitted", Evidence: voucherwatch.EvidenceOf(map[string]any{
			"claim": claimEvidence("SB-2026-0099", "2026-05-01", "384000.00"), "earlier_claim": claimEvidence("SB-2026-0042", "2026-04-01", "384000.00"),
			"invoices": []string{"号码 26432000000012345678"}, "same_contracts": true, "same_amounts": true})},
			[]string{"申报单位代码", "申请补贴金额", "合同"}, []string{"此前申报 SB-2026-0042", "本申报 SB-2026-0099", "¥384,000.00", "¥1,280,000.00", "<td>2026</td>"}},
		{"claims sharing one of their contracts", voucherwatch.Alert{Detector: voucherwatch.DetectorDuplicateClaim, Kind: "claim_resubmitted", Evidence: voucherwatch.EvidenceOf(map[string]any{
			"claim":         withContracts(claimEvidence("SB-2026-0099", "2026-05-01", "384000.00"), "HT-2026-017", "HT-2026-018"),
			"earlier_claim": claimEvidence("SB-2026-0042", "2026-04-01", "384000.00")})},
			nil, []string{`<tr class="ev-partly"><th class="ev-key" scope="row">合同<span class="ev-tag">部分相同</span>`}},
		{"invoice in two claims", voucherwatch.Alert{Detector: voucherwatch.DetectorDuplicateClaim, Kind: "invoice_in_two_claims", Evidence: voucherwatch.EvidenceOf(map[string]any{
			"invoice": map[string]any{"invoice_code": "043002100111", "invoice_no": "00012345"},
			"claim":   claimEvidence("SB-2026-0100", "2026-05-02", "90000.00"), "earlier_claim": claimEvidence("SB-2026-0042", "2026-04-01", "384000.00"),
			"claim_ids": []string{"SB-2026-0042", "SB-2026-0100"}, "claimed_amount": "500000.00", "earlier_claimed_amount": "500000.00",
			"settlement": settlementEvidence("JS-1", "00012345", "91430100MA4L0B0001", "2026-03-05"), "applicant_is_invoice_buyer": true})},
			[]string{"本发票列报金额"}, []string{"代码 043002100111 号码 00012345", "发票的结算记录", "¥500,000.00"}},
		{"payment reference shared", voucherwatch.Alert{Detector: voucherwatch.DetectorDuplicateClaim, Kind: "payment_ref_shared", Evidence: voucherwatch.EvidenceOf(map[string]any{
			"payment_ref": "PAY-20260305-0001", "first_settlement": settlementEvidence("JS-1", "00012345", "91430100MA4L0B0001", "2026-03-05"),
			"reusing_invoices": []string{"号码 00099999"},
			"settlements": []map[string]any{settlementEvidence("JS-1", "00012345", "91430100MA4L0B0001", "2026-03-05"),
				settlementEvidence("JS-9", "00099999", "91430100MA4L0X0009", "2026-04-11")},
			"claims_on_contract": []string{"SB-2026-0077"}, "one_transfer": false})},
			[]string{"支付凭证号", "合同编号"}, []string{"首次付款：JS-1", "结算 JS-9"}},
		{"resource metered to two tenants", voucherwatch.Alert{Detector: voucherwatch.DetectorDuplicateClaim, Kind: "resource_two_tenants_overlap", Evidence: voucherwatch.EvidenceOf(map[string]any{
			"supplier_uscc": "91430100MA4L0S0003", "resource_id": "node-017",
			"tenancy": map[string]any{"buyer_uscc": "91430100MA4L0B0001", "contract_no": "HT-1", "tenancy_start": "2026-03-01 00:00", "tenancy_end": "2026-03-31 00:00", "cards": 8, "windows": 720, "claims": []string{}},
			"earlier_tenants": []map[string]any{{"buyer_uscc": "91430100MA4L0X0009", "contract_no": "HT-2", "tenancy_start": "2026-03-10 00:00", "tenancy_end": "2026-04-10 00:00",
				"cards": 8, "claims": []string{"SB-9"}, "overlapping_window_pairs": 500, "overlap_hours": 500.0, "overlap_from": "2026-03-10 00:00", "overlap_to": "2026-03-31 00:00",
				"card_hours_in_overlap": 4000.0, "other_card_hours_in_overlap": 3900.0, "peak_cards_metered": 16}},
			"overlap_hours": 500.0, "card_hours_sold_twice": 3900.0, "more_cards_than_resource": true})},
			[]string{"卡数"}, []string{"本租户 91430100MA4L0B0001", "同时计量的租户 91430100MA4L0X0009", "node-017"}},
		{"invoice repeated in a claim", voucherwatch.Alert{Detector: voucherwatch.DetectorDuplicateClaim, Kind: "invoice_repeated_in_claim", Evidence: voucherwatch.EvidenceOf(map[string]any{
			"invoice": map[string]any{"invoice_code": "", "invoice_no": "26432000000012345678"}, "claim": claimEvidence("SB-2026-0042", "2026-04-01", "384000.00"),
			"times_cited": 2, "claimed_amounts": []string{"500000.00", "500000.00"}})},
			[]string{"本发票列报金额"}, []string{"第 2 次列报"}},
		{"invoice cited in another form", voucherwatch.Alert{Detector: voucherwatch.DetectorDuplicateClaim, Kind: "invoice_in_two_claims", Evidence: voucherwatch.EvidenceOf(map[string]any{
			"invoice": map[string]any{"invoice_code": "043002100111", "invoice_no": "00012345"}, "invoice_key": "04300210011100012345",
			"claim": claimEvidence("SB-2026-0100", "2026-05-02", "90000.00"), "earlier_claim": claimEvidence("SB-2026-0042", "2026-04-01", "384000.00"),
			"cited_forms": []map[string]any{{"claim_id": "SB-2026-0042", "invoice_code": "043002100111", "invoice_no": "00012345"},
				{"claim_id": "SB-2026-0100", "invoice_code": "", "invoice_no": "04300210011100012345"}}})},
			nil, []string{"各记录中的发票写法", "04300210011100012345", "发票规范号码"}},
		{"a sister company's invoice", voucherwatch.Alert{Detector: voucherwatch.DetectorDuplicateClaim, Kind: "invoice_of_another_buyer", Evidence: voucherwatch.EvidenceOf(map[string]any{
			"invoice": map[string]any{"invoice_code": "", "invoice_no": "26432000000012345678"}, "invoice_key": "26432000000012345678",
			"claim":      claimEvidence("SB-2026-0100", "2026-05-02", "90000.00"),
			"settlement": settlementEvidence("JS-1", "26432000000012345678", "91430100MA4L0X0009", "2026-03-05"),
			"buyer_uscc": "91430100MA4L0X0009", "buyer_name": "湖南姊妹科技有限公司",
			"control_tie": map[string]any{"summary": "湖南星算控股集团有限公司持有湖南姊妹科技有限公司 60%：实际控制人同为湖南星算控股集团有限公司",
				"controller": "91430100MA4L0G0001", "controller_name": "湖南星算控股集团有限公司"}})},
			nil, []string{"本申报 SB-2026-0100", "他人的结算记录", "控制关系", "实际控制人同为湖南星算控股集团有限公司", "湖南姊妹科技有限公司"}},
		{"resale", voucherwatch.Alert{Detector: voucherwatch.DetectorResale, Kind: "resale_to_other_orgs", Evidence: voucherwatch.EvidenceOf(map[string]any{
			"reseller": map[string]any{"uscc": "91430100MA4L0B0001", "name": "湖南星算智能科技有限公司", "registered_supplier": false},
			"bought": map[string]any{"contract_no": "HT-1", "supplier_uscc": "91430100MA4L0S0003", "supplier_name": "长沙云算有限公司", "kinds": []string{"Ascend 910B（卡时）"},
				"card_hours": 50000.0, "tokens_million": 0.0, "amount": "625000.00", "period": map[string]string{"start": "2026-01-01", "end": "2026-12-31"}, "claims": []string{"SB-1"},
				"metered_card_hours": 48000.0, "usage_windows": 900},
			"signals": []string{"sells_same_kind_while_buying", "not_a_registered_supplier", "logins_from_other_orgs"},
			"sold": []map[string]any{{"customer_uscc": "91430100MA4L0C0005", "customer_name": "株洲智造有限公司", "contract_no": "XS-7", "kind": "Ascend 910B（卡时）",
				"period": map[string]string{"start": "2026-02-01", "end": "2026-12-31"}, "card_hours": 30000.0, "tokens_million": 0.0, "amount": "480000.00",
				"settled_amount": "120000.00", "settled_card_hours": 7500.0, "invoices": []string{"号码 00000001"}}},
			"sold_total": map[string]any{"card_hours": 30000.0, "tokens_million": 0.0, "amount": "480000.00"}, "ratio": 0.6, "ratio_basis": "card_hours",
			"logins_from_other_orgs": map[string]any{"windows": 300, "of_windows": 900, "card_hours": 16000.0,
				"orgs": []map[string]any{{"uscc": "91430100MA4L0C0005", "name": "株洲智造有限公司", "windows": 300, "is_customer": true}}},
			"summary": "需求方湖南星算智能科技有限公司……"})},
			[]string{"算力类型"}, []string{"购入：HT-1", "售出：XS-7", "购入同时出售同类算力", "其他单位登录", "2026-01-01 至 2026-12-31", "¥625,000.00"}},
	} {
		for _, form := range []string{"in memory", "JSON-decoded"} {
			t.Run(tc.name+"/"+form, func(t *testing.T) {
				a := tc.a
				if form == "JSON-decoded" {
					a = roundTrip(t, a)
				}
				out := string(Render(a))
				commonChecks(t, out)
				if !strings.Contains(out, `class="ev-table ev-side"`) {
					t.Fatalf("no side-by-side table:\n%s", out)
				}
				for _, l := range tc.same {
					if !regexp.MustCompile(`<tr class="ev-same"><th class="ev-key" scope="row">` + regexp.QuoteMeta(l) + `<span`).MatchString(out) {
						t.Errorf("row %q not highlighted as coinciding", l)
					}
				}
				for _, s := range tc.other {
					if !strings.Contains(out, esc(s)) && !strings.Contains(out, s) {
						t.Errorf("output lacks %q", s)
					}
				}
			})
		}
	}
}

func TestRenderRules(t *testing.T) {
	a := voucherwatch.Alert{Detector: "late_filing", Kind: "filed_late", Evidence: voucherwatch.EvidenceOf(map[string]any{
		"claim": "SB-2026-0042", "claim_id": "SB-2026-0042", "round": 2026, "submitted_on": "2026-04-01", "requested": "384000.00",
		"usage_amount": "1280000.00", "contract_no": "HT-1", "signed_on": "2026-01-05", "filed_on": "2026-02-20",
		"filing_days": 30, "days_after_signing": 46, "days_late": 16, "via_platform": false,
		"invoice":       map[string]any{"invoice_code": "", "invoice_no": "26432000000012345678", "claimed": "500000.00", "settled": true, "reasons": []string{"服务期部分在政策期外"}},
		"unknown_thing": "原样显示",
	})}
	for _, form := range []string{"in memory", "JSON-decoded"} {
		t.Run(form, func(t *testing.T) {
			if form == "JSON-decoded" {
				a = roundTrip(t, a)
			}
			out := string(Render(a))
			commonChecks(t, out)
			for _, want := range []string{"申报编号", "签订日期", "备案日期", "逾期天数", "经平台交易</th><td>否", "¥384,000.00", "发票号码",
				"核减原因", "服务期部分在政策期外", "unknown_thing</th><td>原样显示"} {
				if !strings.Contains(out, want) {
					t.Errorf("output lacks %q", want)
				}
			}
		})
	}
}

// TestRenderOddShapes: whatever the evidence holds, Render returns a section and never
// panics; a detector's layout that does not recognise the shape falls back to the table.
func TestRenderOddShapes(t *testing.T) {
	deep := map[string]any{"x": 1}
	for i := 0; i < 12; i++ {
		deep = map[string]any{"level": deep, "list": []any{deep, "s", 1.5, nil}}
	}
	odd := []map[string]any{
		nil,
		{},
		{"graph": "not a graph", "ties": 3},
		{"graph": map[string]any{"nodes": []any{1, "x", nil, map[string]any{"id": 5}}, "edges": []any{map[string]any{"from": "a", "to": "b", "kind": "holds", "pct": "x"}}}},
		{"graph": map[string]any{"nodes": []any{map[string]any{"id": "a", "kind": "person", "name": scriptName, "masked_id": plantedID}},
			"edges": []any{map[string]any{"from": "a", "to": "ghost", "kind": "weird", "value": plantedPhone}, map[string]any{"from": "a", "to": "a", "kind": "holds"}}}},
		{"band": map[string]any{"low": -1, "median": 0, "high": "x"}, "worst_item": map[string]any{"normalised": math.Inf(1)}},
		{"band": map[string]any{"low": 5.0, "median": 5.0, "high": 5.0}, "worst_item": map[string]any{"normalised": 5e-9}, "items": []any{nil}},
		{"claim": map[string]any{}, "earlier_claim": "x", "settlements": []any{1, 2}, "tenancy": []any{}, "earlier_tenants": map[string]any{}},
		{"bought": map[string]any{}, "sold": []any{"x", nil}, "signals": []any{1, map[string]any{}}, "logins_from_other_orgs": map[string]any{"orgs": "x"}},
		{"nan": math.NaN(), "ch": make(chan int), "fn": func() {}, "ok": "仍然显示", "phone": plantedPhone, "name": scriptName},
		{"deep": deep, "ids": []any{plantedID, plantedID + "X"}, "mixed": []any{map[string]any{"a": 1}, "b", []any{1, 2}}},
		{"claimed_amounts": []any{}, "claim": map[string]any{"claim_id": 7}},
	}
	detectors := []string{voucherwatch.DetectorRelatedParty, voucherwatch.DetectorPrice, voucherwatch.DetectorDuplicateClaim,
		voucherwatch.DetectorResale, "late_filing", "", "<b>odd</b>"}
	kinds := []string{"", "claim_resubmitted", "invoice_in_two_claims", "payment_ref_shared", "resource_two_tenants_overlap", "invoice_repeated_in_claim"}
	for i, ev := range odd {
		for _, d := range detectors {
			for _, k := range kinds {
				out := string(Render(voucherwatch.Alert{Detector: d, Kind: k, Evidence: voucherwatch.EvidenceOf(ev)}))
				if !strings.Contains(out, "</section>") {
					t.Fatalf("shape %d, detector %q, kind %q: got %q", i, d, k, out)
				}
				commonChecks(t, out)
				if t.Failed() {
					t.Fatalf("shape %d, detector %q, kind %q", i, d, k)
				}
			}
		}
	}
	// Evidence with a value that does not encode cannot be stored (the alert store refuses
	// it); shown, it says so rather than showing part of it.
	if out := string(Render(voucherwatch.Alert{Detector: "x", Evidence: voucherwatch.EvidenceOf(odd[9])})); !strings.Contains(out, "证据无法显示") {
		t.Errorf("evidence that does not encode: got %s, want the notice that it cannot be shown", out)
	}
}

func TestYuanText(t *testing.T) {
	for _, tc := range []struct {
		in   float64
		want string
	}{{0, "¥0.00"}, {12.5, "¥12.50"}, {1234567.891, "¥1,234,567.89"}, {-1000, "-¥1,000.00"}, {999, "¥999.00"}} {
		if got := yuanText(tc.in); got != tc.want {
			t.Errorf("yuanText(%v): got %q, want %q", tc.in, got, tc.want)
		}
	}
}

// TestPreview writes the hand-built alerts' evidence to /tmp/evidence-preview.html, to look
// at in a browser: VW_EVIDENCE_PREVIEW=1.
func TestPreview(t *testing.T) {
	if os.Getenv("VW_EVIDENCE_PREVIEW") == "" {
		t.Skip("set VW_EVIDENCE_PREVIEW=1 to write /tmp/evidence-preview.html")
	}
	alerts := []voucherwatch.Alert{directStakeAndSharedOfficer(), cardHourPrice(61.25, "unit_price_far_above"), cardHourPrice(2.4, "unit_price_far_below")}
	writePreview(t, "/tmp/evidence-preview.html", alerts)
}

func writePreview(t *testing.T, path string, alerts []voucherwatch.Alert) {
	t.Helper()
	var b strings.Builder
	b.WriteString(`<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8"><title>证据预览</title></head><body style="margin:24px;max-width:1100px">`)
	for _, a := range alerts {
		b.WriteString("<h2 style=\"font-family:sans-serif\">" + esc(a.Detector+" / "+a.Kind+" "+a.Title) + "</h2>")
		b.WriteString(string(Render(a)))
		b.WriteString("<hr>")
	}
	b.WriteString("</body></html>")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("wrote %s", path)
}
