package synth_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/voucherwatch/voucherwatch"
	"github.com/voucherwatch/voucherwatch/synth"
)

// This file checks messages against the wire contract (README and schemas) independently of
// the generator: its own reading of every field. The USCC check character is the domain's
// (voucherwatch.ValidUSCC, tested there against published codes), the one copy ingest uses
// too. The generator's tests use it, and the bad inputs check that it catches what they break.

// maxMessageBytes is the size limit the tests assume an engine enforces on one record.
const maxMessageBytes = 512 << 10

// idCardOK checks an 18-character resident id number's MOD 11-2 check character.
func idCardOK(s string) bool {
	if len(s) != 18 {
		return false
	}
	sum := 0
	for i := 0; i < 17; i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
		sum += int(s[i]-'0') * ((1 << (17 - i)) % 11)
	}
	return s[17] == "10X98765432"[sum%11]
}

var (
	usccPattern  = regexp.MustCompile(`^[0-9A-HJ-NPQRTUWXY]{2}[0-9]{6}[0-9A-HJ-NPQRTUWXY]{10}$`)
	moneyPattern = regexp.MustCompile(`^-?[0-9]{1,15}(\.[0-9]{1,2})?$`)
	datePattern  = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}$`)
	stampPattern = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$`)
)

// spec is a small JSON-schema: enough of draft 2020-12 for the contract's schemas.
type spec struct {
	kind     string // object array string uscc date stamp money int number bool enum datenull
	min, max float64
	minLen   int
	maxLen   int
	enum     []string
	props    map[string]*spec
	required []string
	items    *spec
}

func obj(required []string, props map[string]*spec) *spec {
	return &spec{kind: "object", required: required, props: props}
}
func arr(items *spec) *spec          { return &spec{kind: "array", items: items} }
func str(minLen int) *spec           { return &spec{kind: "string", minLen: minLen} }
func enum(vals ...string) *spec      { return &spec{kind: "enum", enum: vals} }
func num(min, max float64) *spec     { return &spec{kind: "number", min: min, max: max} }
func integer(min, max float64) *spec { return &spec{kind: "int", min: min, max: max} }

var (
	tUSCC  = &spec{kind: "uscc"}
	tDate  = &spec{kind: "date"}
	tStamp = &spec{kind: "stamp"}
	tMoney = &spec{kind: "money"}
	tBool  = &spec{kind: "bool"}
	inf    = math.Inf(1)
)

var person = obj([]string{"name"}, map[string]*spec{
	"name": str(1), "id_type": enum("id_card", "passport", "officer_card"), "id_number": str(0),
	"phone": str(0), "email": str(0)})

var item = obj([]string{"service_type", "amount"}, map[string]*spec{
	"service_type": enum("compute_resource", "compute_service", "model_service", "domestic_adaptation", "bandwidth", "security", "database"),
	"chip_model":   str(0), "chip_origin": enum("domestic", "foreign"), "cards": integer(0, inf),
	"unit_price": tMoney, "unit": enum("card_hour", "card_month", "token_million"), "quantity": num(0, inf), "amount": tMoney})

var dataSpecs = map[string]*spec{
	"registry.entity.v1": obj([]string{"uscc", "name", "city"}, map[string]*spec{
		"uscc": tUSCC, "name": str(1), "city": str(1), "registered_address": str(0), "office_address": str(0),
		"registered_on": tDate, "is_sme": tBool, "legal_rep": person, "contacts": arr(person),
		"shareholders": arr(obj([]string{"kind", "name", "share_pct"}, map[string]*spec{
			"kind": enum("enterprise", "person"), "uscc": tUSCC, "person": person, "name": str(0), "share_pct": num(0, 100)})),
		"officers":      arr(obj([]string{"role", "person"}, map[string]*spec{"role": enum("director", "supervisor", "manager", "legal_rep"), "person": person})),
		"bank_accounts": arr(obj([]string{"account_no"}, map[string]*spec{"bank": str(0), "account_no": str(1)})),
		"credit":        obj(nil, map[string]*spec{"seriously_dishonest": tBool, "major_violation_within_3y": tBool}),
		"supplier": obj([]string{"registered"}, map[string]*spec{
			"registered": tBool, "registered_on": tDate, "idc_license": tBool,
			"capacity": arr(obj([]string{"chip_model", "cards"}, map[string]*spec{
				"chip_model": str(0), "chip_origin": enum("domestic", "foreign"), "cards": integer(0, inf), "datacenter": str(0)}))}),
	}),
	"contract.v1": obj([]string{"contract_no", "supplier_uscc", "buyer_uscc", "signed_on", "amount"}, map[string]*spec{
		"contract_no": str(1), "name": str(0), "supplier_uscc": tUSCC, "buyer_uscc": tUSCC, "signed_on": tDate,
		"service_start": tDate, "service_end": tDate, "amount": tMoney, "items": arr(item), "datacenter": str(0),
		"via_platform": tBool, "filed_on": {kind: "datenull"}, "domains": arr(str(0)), "purposes": arr(str(0))}),
	"settlement.v1": obj([]string{"settlement_id", "contract_no", "supplier_uscc", "buyer_uscc", "invoice_code", "invoice_no", "invoice_date", "amount"}, map[string]*spec{
		"settlement_id": str(1), "contract_no": str(1), "supplier_uscc": tUSCC, "buyer_uscc": tUSCC,
		"invoice_code": str(0), "invoice_no": str(1), "invoice_date": tDate, "amount": tMoney, "tax": tMoney,
		"payment_ref": str(0), "paid_on": tDate, "payer_account": str(0), "payee_account": str(0),
		"period_start": tDate, "period_end": tDate, "items": arr(item)}),
	"usage.v1": obj([]string{"supplier_uscc", "buyer_uscc", "resource_id", "window_start", "window_end", "card_hours"}, map[string]*spec{
		"supplier_uscc": tUSCC, "buyer_uscc": tUSCC, "contract_no": str(0), "tenant": str(0), "resource_id": str(1),
		"chip_model": str(0), "chip_origin": enum("domestic", "foreign"), "cards": integer(1, inf),
		"window_start": tStamp, "window_end": tStamp, "card_hours": num(0, inf), "util_avg": num(0, 1),
		"jobs": integer(0, inf), "users": integer(0, inf), "login_orgs": arr(tUSCC), "datacenter": str(0)}),
	"claim.v1": obj([]string{"claim_id", "applicant_uscc", "round", "submitted_on", "requested"}, map[string]*spec{
		"claim_id": str(1), "applicant_uscc": tUSCC, "round": integer(2025, 2029), "submitted_on": tDate, "city": str(0),
		"via_platform": tBool, "contracts": arr(str(0)),
		"invoices":     arr(obj([]string{"invoice_no", "amount"}, map[string]*spec{"invoice_code": str(0), "invoice_no": str(1), "amount": tMoney})),
		"usage_amount": tMoney, "requested": tMoney, "chip_origin": enum("domestic", "foreign", "mixed"), "bank_account": str(0)}),
}

// check validates v against s; it returns the path of the first field at fault.
func (s *spec) check(path string, v any) (string, error) {
	fail := func(format string, args ...any) (string, error) { return path, fmt.Errorf(path+": "+format, args...) }
	switch s.kind {
	case "object":
		m, ok := v.(map[string]any)
		if !ok {
			return fail("not an object")
		}
		for _, k := range s.required {
			if _, ok := m[k]; !ok {
				return path + "." + k, fmt.Errorf("%s.%s: required", path, k)
			}
		}
		for k, sub := range s.props {
			if x, ok := m[k]; ok {
				if f, err := sub.check(path+"."+k, x); err != nil {
					return f, err
				}
			}
		}
	case "array":
		xs, ok := v.([]any)
		if !ok {
			return fail("not an array")
		}
		for i, x := range xs {
			if f, err := s.items.check(fmt.Sprintf("%s[%d]", path, i), x); err != nil {
				// The engine names the array, not the element: strip the index.
				return strings.SplitN(f, "[", 2)[0], err
			}
		}
	case "string", "uscc", "date", "stamp", "money", "enum":
		x, ok := v.(string)
		if !ok {
			return fail("not a string: %v", v)
		}
		switch s.kind {
		case "string":
			if utf8.RuneCountInString(x) < s.minLen {
				return fail("too short")
			}
			if s.maxLen > 0 && utf8.RuneCountInString(x) > s.maxLen {
				return fail("longer than %d characters", s.maxLen)
			}
		case "uscc":
			if !usccPattern.MatchString(x) || !voucherwatch.ValidUSCC(x) {
				return fail("bad USCC %q", x)
			}
		case "date":
			if _, err := time.Parse("2006-01-02", x); err != nil || !datePattern.MatchString(x) {
				return fail("bad date %q", x)
			}
		case "stamp":
			if _, err := time.Parse(time.RFC3339, x); err != nil || !stampPattern.MatchString(x) {
				return fail("bad timestamp %q", x)
			}
		case "money":
			if !moneyPattern.MatchString(x) {
				return fail("bad money %q", x)
			}
		case "enum":
			for _, e := range s.enum {
				if x == e {
					return "", nil
				}
			}
			return fail("%q not one of %v", x, s.enum)
		}
	case "datenull":
		if v == nil {
			return "", nil
		}
		return tDate.check(path, v)
	case "int", "number":
		n, ok := v.(json.Number)
		if !ok {
			return fail("not a number: %v", v)
		}
		f, err := n.Float64()
		if err != nil {
			return fail("bad number %s", n)
		}
		if s.kind == "int" && strings.ContainsAny(n.String(), ".eE") {
			return fail("not an integer: %s", n)
		}
		if f < s.min || f > s.max {
			return fail("%s out of [%v, %v]", n, s.min, s.max)
		}
	case "bool":
		if _, ok := v.(bool); !ok {
			return fail("not a boolean")
		}
	}
	return "", nil
}

// envelope is a decoded message: the header and the raw data.
type envelope struct {
	ID, Source, Type, Time string
	At                     time.Time
	Data                   map[string]any
}

// validate checks one message against the contract and returns the decoded envelope, or the
// dotted path of the field at fault ("" for the message as a whole) and the error.
func validate(m synth.Message) (envelope, string, error) {
	var env envelope
	if !utf8.Valid(m.Value) {
		return env, "", fmt.Errorf("not UTF-8")
	}
	if len(m.Value) > maxMessageBytes {
		return env, "", fmt.Errorf("%d bytes", len(m.Value))
	}
	dec := json.NewDecoder(bytes.NewReader(m.Value))
	dec.UseNumber()
	var raw map[string]any
	if err := dec.Decode(&raw); err != nil {
		return env, "", fmt.Errorf("not JSON: %w", err)
	}
	if dec.More() {
		return env, "", fmt.Errorf("trailing data")
	}
	head := obj([]string{"specversion", "id", "source", "type", "time", "data"}, map[string]*spec{
		"specversion": enum("1.0"), "id": {kind: "string", minLen: 1, maxLen: 128}, "source": str(1), "time": tStamp,
		"type": enum("registry.entity.v1", "contract.v1", "settlement.v1", "usage.v1", "claim.v1")})
	if f, err := head.check("", raw); err != nil {
		return env, strings.TrimPrefix(f, "."), err
	}
	env.ID, env.Source, env.Type, env.Time = raw["id"].(string), raw["source"].(string), raw["type"].(string), raw["time"].(string)
	env.At, _ = time.Parse(time.RFC3339, env.Time)
	data, ok := raw["data"].(map[string]any)
	if !ok {
		return env, "data", fmt.Errorf("data is not an object")
	}
	env.Data = data
	if f, err := dataSpecs[env.Type].check("data", data); err != nil {
		return env, f, err
	}
	if env.Type == "usage.v1" {
		ws, _ := time.Parse(time.RFC3339, data["window_start"].(string))
		we, _ := time.Parse(time.RFC3339, data["window_end"].(string))
		if !we.After(ws) {
			return env, "data.window_end", fmt.Errorf("window_end not after window_start")
		}
		if c, ok := data["cards"]; ok {
			cards, _ := c.(json.Number).Float64()
			ch, _ := data["card_hours"].(json.Number).Float64()
			if ch > cards*we.Sub(ws).Hours()+1e-6 {
				return env, "data.card_hours", fmt.Errorf("card_hours %v above cards × hours", ch)
			}
		}
	}
	return env, "", nil
}

// naturalKey is the Kafka key the contract prescribes for a record.
func naturalKey(env envelope) string {
	d := env.Data
	switch env.Type {
	case "registry.entity.v1":
		return d["uscc"].(string)
	case "contract.v1":
		return d["contract_no"].(string)
	case "settlement.v1":
		return d["invoice_code"].(string) + d["invoice_no"].(string)
	case "usage.v1":
		return d["resource_id"].(string)
	case "claim.v1":
		return d["claim_id"].(string)
	}
	return ""
}
