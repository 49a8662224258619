package ingest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/voucherwatch/voucherwatch"
	"github.com/voucherwatch/voucherwatch/synth"
)

var testPIIKey = []byte("test-pii-key-0123456789abcdef")

func testDecoder() *Decoder { return &Decoder{PIIKey: testPIIKey} }

// contractExamples returns the JSON blocks of docs/contract.md by record type: the document
// is where the examples live, so that the tests decode exactly what the document shows.
func contractExamples(t testing.TB) map[voucherwatch.RecordType][]byte {
	t.Helper()
	doc, err := os.ReadFile(filepath.Join("..", "docs", "contract.md"))
	if err != nil {
		t.Fatal(err)
	}
	blocks := regexp.MustCompile("(?s)```json\n(.*?)\n```").FindAllSubmatch(doc, -1)
	out := map[voucherwatch.RecordType][]byte{}
	for _, b := range blocks {
		var env struct{ Type voucherwatch.RecordType }
		if err := json.Unmarshal(b[1], &env); err != nil {
			t.Fatalf("docs/contract.md: json block is not JSON: %v\n%s", err, b[1])
		}
		if _, dup := out[env.Type]; dup {
			t.Fatalf("docs/contract.md: two examples of %s", env.Type)
		}
		out[env.Type] = b[1]
	}
	for _, typ := range voucherwatch.RecordTypes {
		if out[typ] == nil {
			t.Fatalf("docs/contract.md: no example of %s", typ)
		}
	}
	return out
}

func TestDecodeExamples(t *testing.T) {
	examples := contractExamples(t)
	date := func(s string) time.Time {
		d, _ := time.ParseInLocation("2006-01-02", s, voucherwatch.CST)
		return d
	}
	checks := map[voucherwatch.RecordType]func(t *testing.T, r voucherwatch.Record){
		voucherwatch.TypeRegistry: func(t *testing.T, r voucherwatch.Record) {
			e := r.Entity
			eq(t, "USCC", e.USCC, "91430200PQ3G7YMPXF")
			eq(t, "City", e.City, "430200")
			eq(t, "RegisteredOn", e.RegisteredOn, date("2012-11-08"))
			eq(t, "LegalRep.Name", e.LegalRep.Name, "杨敏")
			eq(t, "LegalRep.Masked", e.LegalRep.Masked, "432***********9348")
			eq(t, "LegalRep.Key", e.LegalRep.Key, PersonKey(testPIIKey, "id_card", "432449197201199348"))
			// The legal representative is also officers[0]: one person, one key.
			eq(t, "Officers[0].Person.Key", e.Officers[0].Person.Key, e.LegalRep.Key)
			eq(t, "len(Shareholders)", len(e.Shareholders), 4)
			eq(t, "Shareholders[0].Person.Name", e.Shareholders[0].Person.Name, "徐强")
			eq(t, "Shareholders[3].USCC", e.Shareholders[3].USCC, "91433100MDQ28CBNXU")
			eq(t, "Shareholders[1].SharePct", e.Shareholders[1].SharePct, 32.0)
			eq(t, "Officers[2].Role", e.Officers[2].Role, "supervisor")
			eq(t, "BankAccounts[0].AccountNo", e.BankAccounts[0].AccountNo, "8290924538334403370")
			eq(t, "Supplier.Registered", e.Supplier.Registered, true)
			eq(t, "Supplier.RegisteredOn", e.Supplier.RegisteredOn, date("2025-11-10"))
			eq(t, "Supplier.Capacity[2]", e.Supplier.Capacity[2], voucherwatch.Capacity{ChipModel: "H800", ChipOrigin: "foreign", Cards: 2048, Datacenter: "浏阳算力中心4号楼"})
		},
		voucherwatch.TypeContract: func(t *testing.T, r voucherwatch.Record) {
			c := r.Contract
			eq(t, "ContractNo", c.ContractNo, "HTMPXF-00001")
			eq(t, "BuyerUSCC", c.BuyerUSCC, "91433100MDQ28CBNXU")
			eq(t, "SignedOn", c.SignedOn, date("2025-12-30"))
			eq(t, "ServiceEnd", c.ServiceEnd, date("2026-06-30"))
			eq(t, "Amount", c.Amount, voucherwatch.Money(9709898))
			eq(t, "FiledOn.IsZero", c.FiledOn.IsZero(), true)
			eq(t, "ViaPlatform", c.ViaPlatform, true)
			eq(t, "Domains", c.Domains, []string{"具身智能"})
			eq(t, "Items[0]", c.Items[0], voucherwatch.Item{ServiceType: "compute_resource", ChipModel: "MLU370", ChipOrigin: "domestic",
				Cards: 8, UnitPrice: 351, Unit: "card_hour", Quantity: 27648.83, Amount: 9709898})
		},
		voucherwatch.TypeSettlement: func(t *testing.T, r voucherwatch.Record) {
			s := r.Settlement
			eq(t, "InvoiceCode", s.InvoiceCode, "")
			eq(t, "InvoiceNo", s.InvoiceNo, "81697117753369173107")
			eq(t, "InvoiceKey", s.InvoiceKey, "81697117753369173107")
			eq(t, "Amount", s.Amount, voucherwatch.Money(1618316))
			eq(t, "Tax", s.Tax, voucherwatch.Money(97099))
			eq(t, "PaidOn", s.PaidOn, date("2026-02-10"))
			eq(t, "PeriodEnd", s.PeriodEnd, date("2026-01-31"))
			eq(t, "Items[0].Quantity", s.Items[0].Quantity, 4608.138)
		},
		voucherwatch.TypeUsage: func(t *testing.T, r voucherwatch.Record) {
			u := r.Usage
			eq(t, "SupplierUSCC", u.SupplierUSCC, "91430200PQ3G7YMPXF")
			eq(t, "ResourceID", u.ResourceID, "HTMPXF-00001-N000")
			eq(t, "Cards", u.Cards, 8)
			eq(t, "WindowStart", u.WindowStart, time.Date(2026, 1, 1, 16, 0, 0, 0, time.UTC).In(voucherwatch.CST))
			eq(t, "WindowEnd-WindowStart", u.WindowEnd.Sub(u.WindowStart), 7*24*time.Hour)
			eq(t, "CardHours", u.CardHours, 1049.661)
			eq(t, "UtilAvg", u.UtilAvg, 0.642)
			eq(t, "Jobs, Users", [2]int{u.Jobs, u.Users}, [2]int{6, 4})
			eq(t, "LoginOrgs", u.LoginOrgs, []string{"91433100MDQ28CBNXU"})
		},
		voucherwatch.TypeClaim: func(t *testing.T, r voucherwatch.Record) {
			c := r.Claim
			eq(t, "ClaimID", c.ClaimID, "SB2026-00117")
			eq(t, "Round", c.Round, 2026)
			eq(t, "City", c.City, "431100")
			eq(t, "SubmittedOn", c.SubmittedOn, date("2026-11-14"))
			eq(t, "len(Invoices)", len(c.Invoices), 3)
			// Joined without a code: a 12-digit paper code (it starts with 0) and its 8-digit number.
			eq(t, "Invoices[1]", c.Invoices[1], voucherwatch.ClaimInvoice{InvoiceNo: "07288175959073472993", Amount: 22719145, Key: "07288175959073472993"})
			eq(t, "UsageAmount", c.UsageAmount, voucherwatch.Money(68157435))
			eq(t, "Requested", c.Requested, voucherwatch.Money(20447231))
			eq(t, "ChipOrigin", c.ChipOrigin, "mixed")
		},
	}
	for _, typ := range voucherwatch.RecordTypes {
		t.Run(string(typ), func(t *testing.T) {
			rec, err := testDecoder().Decode(typ, examples[typ])
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			eq(t, "Type", rec.Type, typ)
			var env struct{ ID, Source string }
			json.Unmarshal(examples[typ], &env)
			eq(t, "ID", rec.ID, env.ID)
			eq(t, "Source", rec.Source, env.Source)
			bodies := 0
			for _, p := range []any{rec.Entity, rec.Contract, rec.Settlement, rec.Usage, rec.Claim} {
				if !reflect.ValueOf(p).IsNil() {
					bodies++
				}
			}
			eq(t, "non-nil bodies", bodies, 1)
			checks[typ](t, rec)
		})
	}
}

// TestDecodeExamplesMatchShared keeps docs/contract.md in step with the shared contract's
// examples, where a copy of shared/ lies beside the repository.
func TestDecodeExamplesMatchShared(t *testing.T) {
	dir := filepath.Join("..", "..", "shared", "contract", "examples")
	if _, err := os.Stat(dir); err != nil {
		t.Skip("no shared/ beside the repository")
	}
	for typ, doc := range contractExamples(t) {
		shared, err := os.ReadFile(filepath.Join(dir, string(typ)+".json"))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(bytes.TrimSpace(shared), bytes.TrimSpace(doc)) {
			t.Errorf("docs/contract.md: example of %s differs from shared/contract/examples", typ)
		}
	}
}

func eq[T any](t *testing.T, what string, got, want T) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s: got %v, want %v", what, got, want)
	}
}

// drop marks a member to delete in edit.
type dropMember struct{}

var drop dropMember

// rawJSON is spliced into a message as is.
type rawJSON string

// edit returns msg with the member at path ("data.items[0].amount") set to v, or removed when
// v is drop. Members come out in sorted order, so "data" precedes "type": the decoder must
// not depend on the senders' order.
func edit(t testing.TB, msg []byte, path string, v any) []byte {
	t.Helper()
	d := json.NewDecoder(bytes.NewReader(msg))
	d.UseNumber()
	var root any
	if err := d.Decode(&root); err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(path, ".")
	cur := root
	for i, p := range parts {
		name, idx := p, -1
		if j := strings.IndexByte(p, '['); j >= 0 {
			name = p[:j]
			idx, _ = strconv.Atoi(strings.TrimSuffix(p[j+1:], "]"))
		}
		obj := cur.(map[string]any)
		last := i == len(parts)-1
		switch {
		case last && idx < 0 && v == drop:
			delete(obj, name)
		case last && idx < 0:
			obj[name] = v
		case last:
			obj[name].([]any)[idx] = v
		case idx >= 0:
			cur = obj[name].([]any)[idx]
		default:
			cur = obj[name]
		}
	}
	out, err := json.Marshal(root)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func (r rawJSON) MarshalJSON() ([]byte, error) { return []byte(r), nil }

func TestDecodeRejects(t *testing.T) {
	ex := contractExamples(t)
	usage, claim, contract := ex[voucherwatch.TypeUsage], ex[voucherwatch.TypeClaim], ex[voucherwatch.TypeContract]
	settlement, registry := ex[voucherwatch.TypeSettlement], ex[voucherwatch.TypeRegistry]

	bigUsage := edit(t, usage, "data.padding", strings.Repeat("x", 600<<10))
	invalidUTF8 := bytes.Replace(usage, []byte("t-8CBNXU"), []byte("t-8CB\xffXU"), 1)
	dupKey := bytes.Replace(usage, []byte(`"cards": 8,`), []byte(`"cards": 8, "cards": 80000,`), 1)
	trailing := append(append([]byte{}, usage...), "}"...)

	tests := []struct {
		name  string
		typ   voucherwatch.RecordType
		msg   []byte
		field string
		text  string // a part of the reason
	}{
		{"notJSON", "usage.v1", []byte("hello, kafka"), "", "not valid JSON: unexpected character 'h' at byte 0"},
		{"truncatedJSON", "usage.v1", usage[:len(usage)/2], "", "unexpected end of input"},
		{"emptyMessage", "usage.v1", nil, "", "unexpected end of input at byte 0"},
		{"arrayMessage", "usage.v1", []byte(`[1, 2]`), "", "message must be a JSON object, got array"},
		{"trailingData", "usage.v1", trailing, "", "after the object"},
		{"oldSpecversion", "usage.v1", edit(t, usage, "specversion", "0.3"), "specversion", `must be "1.0", got "0.3"`},
		{"unknownType", "usage.v1", edit(t, usage, "type", "payment.v1"), "type", `got "payment.v1"`},
		{"typeNotOfTopic", "claim.v1", usage, "type", "usage.v1 is not accepted on this topic, which carries claim.v1"},
		{"typeNotOfTopicAfterData", "claim.v1", edit(t, usage, "data.extra", 1), "type", "not accepted on this topic"},
		{"missingID", "usage.v1", edit(t, usage, "id", drop), "id", "required"},
		{"nullData", "usage.v1", edit(t, usage, "data", nil), "data", "required"},
		{"dataNotObject", "usage.v1", edit(t, usage, "data", []int{1}), "data", "must be an object, got array"},
		{"idTooLong", "usage.v1", edit(t, usage, "id", strings.Repeat("u", 200)), "id", "must be 1 to 128 characters, got 200"},
		{"emptySource", "usage.v1", edit(t, usage, "source", ""), "source", "must not be empty"},
		{"timeWithoutOffset", "usage.v1", edit(t, usage, "time", "2026-01-09T00:00:00"), "time", "with offset"},
		{"missingResourceID", "usage.v1", edit(t, usage, "data.resource_id", drop), "data.resource_id", "required"},
		{"missingSignedOn", "contract.v1", edit(t, contract, "data.signed_on", drop), "data.signed_on", "required"},
		{"missingRequested", "claim.v1", edit(t, claim, "data.requested", drop), "data.requested", "required"},
		{"missingInvoiceCode", "settlement.v1", edit(t, settlement, "data.invoice_code", drop), "data.invoice_code", "required"},
		{"missingCity", "registry.entity.v1", edit(t, registry, "data.city", drop), "data.city", "required"},
		{"missingItemAmount", "contract.v1", edit(t, contract, "data.items[0].amount", drop), "data.items[0].amount", "required"},
		{"badUSCCCheck", "usage.v1", edit(t, usage, "data.supplier_uscc", "91430200PQ3G7YMPXA"), "data.supplier_uscc", `bad check character in USCC "91430200PQ3G7YMPXA"`},
		{"badHolderUSCC", "registry.entity.v1", edit(t, registry, "data.shareholders[1].uscc", "914307005E7R4XMW06"), "data.shareholders[1].uscc", "bad check character"},
		{"badLoginOrg", "usage.v1", edit(t, usage, "data.login_orgs[0]", "91433100MDQ28CBNXT"), "data.login_orgs[0]", "bad check character"},
		{"shortUSCC", "claim.v1", edit(t, claim, "data.applicant_uscc", "91431100X9GTAG5PL"), "data.applicant_uscc", "18-character USCC"},
		{"lowerCaseUSCC", "claim.v1", edit(t, claim, "data.applicant_uscc", "91431100x9gtag5plh"), "data.applicant_uscc", "18-character USCC"},
		{"negativeCards", "usage.v1", edit(t, usage, "data.cards", -8), "data.cards", "must be an integer >= 1, got -8"},
		{"zeroCards", "usage.v1", edit(t, usage, "data.cards", 0), "data.cards", "must be an integer >= 1, got 0"},
		{"fractionalCards", "usage.v1", edit(t, usage, "data.cards", rawJSON("8.5")), "data.cards", "must be an integer, got \"8.5\""},
		{"absurdCards", "usage.v1", edit(t, usage, "data.cards", rawJSON("1e300")), "data.cards", "must be an integer <= 1000000"},
		{"cardHoursOverCards", "usage.v1", edit(t, usage, "data.card_hours", 1400), "data.card_hours", "must be <= cards × window hours (8 × 168, 1% tolerance), got 1400"},
		{"cardHoursAbsurd", "usage.v1", edit(t, edit(t, usage, "data.cards", drop), "data.card_hours", rawJSON("1e300")), "data.card_hours", "got 1e+300"},
		{"cardHoursBeyondFloat", "usage.v1", edit(t, usage, "data.card_hours", rawJSON("1e400")), "data.card_hours", "must be a finite number, got 1e400"},
		{"negativeCardHours", "usage.v1", edit(t, usage, "data.card_hours", -1), "data.card_hours", "must be a number >= 0, got -1"},
		{"reversedWindow", "usage.v1", edit(t, edit(t, usage, "data.window_start", "2026-01-09T00:00:00+08:00"), "data.window_end", "2026-01-02T00:00:00+08:00"), "data.window_end", "must be after window_start"},
		{"emptyWindow", "usage.v1", edit(t, usage, "data.window_end", "2026-01-02T00:00:00+08:00"), "data.window_end", "must be after window_start"},
		{"windowTooLong", "usage.v1", edit(t, usage, "data.window_end", "2026-02-16T00:00:00+08:00"), "data.window_end", "at most 31 days"},
		{"timestampWithoutOffset", "usage.v1", edit(t, usage, "data.window_start", "2026-01-02T00:00:00"), "data.window_start", `got "2026-01-02T00:00:00"`},
		{"timestampBadHour", "usage.v1", edit(t, usage, "data.window_start", "2026-01-02T24:00:00+08:00"), "data.window_start", "RFC 3339"},
		{"badDate", "contract.v1", edit(t, contract, "data.signed_on", "2025-02-30"), "data.signed_on", `must be a date YYYY-MM-DD, got "2025-02-30"`},
		{"slashDate", "settlement.v1", edit(t, settlement, "data.paid_on", "2026/02/10"), "data.paid_on", "YYYY-MM-DD"},
		{"stringForNumber", "usage.v1", edit(t, usage, "data.cards", "8"), "data.cards", "must be an integer, got string"},
		{"stringForFloat", "usage.v1", edit(t, usage, "data.util_avg", "0.5"), "data.util_avg", "must be a number, got string"},
		{"stringForBool", "contract.v1", edit(t, contract, "data.via_platform", "true"), "data.via_platform", "must be a boolean, got string"},
		{"numberForMoney", "contract.v1", edit(t, contract, "data.amount", 97098.98), "data.amount", "must be a decimal string in yuan"},
		{"moneyThreeDecimals", "contract.v1", edit(t, contract, "data.amount", "97098.985"), "data.amount", `at most 2 decimals like "128000.00", got "97098.985"`},
		{"moneyWithComma", "claim.v1", edit(t, claim, "data.requested", "204,472.31"), "data.requested", "at most 2 decimals"},
		{"negativeClaimInvoice", "claim.v1", edit(t, claim, "data.invoices[2].amount", "-5.00"), "data.invoices[2].amount", "must not be negative"},
		{"negativeContractAmount", "contract.v1", edit(t, contract, "data.amount", "-1.00"), "data.amount", "must not be negative"},
		{"negativeUnitPrice", "settlement.v1", edit(t, settlement, "data.items[0].unit_price", "-3.51"), "data.items[0].unit_price", "must not be negative"},
		{"taxAgainstAmount", "settlement.v1", edit(t, settlement, "data.tax", "-970.99"), "data.tax", "must have the sign of amount"},
		{"digitalInvoiceShort", "settlement.v1", edit(t, settlement, "data.invoice_no", "8169711775336917310"), "data.invoice_no", "must be 20 digits"},
		{"claimInvoiceLetters", "claim.v1", edit(t, claim, "data.invoices[0].invoice_no", "INV-1"), "data.invoices[0].invoice_no", "must be digits"},
		{"claimInvoiceOnlySeparators", "claim.v1", edit(t, claim, "data.invoices[0].invoice_no", "- -"), "data.invoices[0].invoice_no", "must be digits"},
		{"claimInvoiceNumberWithoutCode", "claim.v1", edit(t, edit(t, claim, "data.invoices[0].invoice_code", ""), "data.invoices[0].invoice_no", "00012345"), "data.invoices[0].invoice_no", "must be 20 digits"},
		{"reversedPeriod", "settlement.v1", edit(t, settlement, "data.period_end", "2026-01-01"), "data.period_end", "must not be before period_start"},
		{"reversedService", "contract.v1", edit(t, contract, "data.service_end", "2025-01-01"), "data.service_end", "must not be before service_start"},
		{"priceWithoutUnit", "contract.v1", edit(t, contract, "data.items[0].unit", drop), "data.items[0].unit", "required"},
		{"invalidUTF8", "usage.v1", invalidUTF8, "", "not valid UTF-8"},
		{"messageTooLarge", "usage.v1", bigUsage, "", fmt.Sprintf("message is %d bytes, over the limit of 262144", len(bigUsage))},
		{"badChipOrigin", "usage.v1", edit(t, usage, "data.chip_origin", "local"), "data.chip_origin", `must be one of domestic, foreign; got "local"`},
		{"badServiceType", "contract.v1", edit(t, contract, "data.items[0].service_type", "gpu"), "data.items[0].service_type", "must be one of compute_resource"},
		{"badUnit", "settlement.v1", edit(t, settlement, "data.items[0].unit", "card_day"), "data.items[0].unit", "must be one of card_hour"},
		{"badRole", "registry.entity.v1", edit(t, registry, "data.officers[1].role", "chairman"), "data.officers[1].role", "must be one of director"},
		{"badHolderKind", "registry.entity.v1", edit(t, registry, "data.shareholders[2].kind", "fund"), "data.shareholders[2].kind", "must be one of enterprise, person"},
		{"badIDType", "registry.entity.v1", edit(t, registry, "data.contacts[0].id_type", "driver_licence"), "data.contacts[0].id_type", "must be one of id_card"},
		{"sharePct150", "registry.entity.v1", edit(t, registry, "data.shareholders[0].share_pct", 150), "data.shareholders[0].share_pct", "must be a number <= 100, got 150"},
		{"enterpriseHolderWithPerson", "registry.entity.v1", edit(t, registry, "data.shareholders[0].kind", "enterprise"), "data.shareholders[0].person", "not allowed"},
		{"idNumberWithoutType", "registry.entity.v1", edit(t, registry, "data.legal_rep.id_type", drop), "data.legal_rep.id_type", "required with id_number"},
		{"officerWithoutPerson", "registry.entity.v1", edit(t, registry, "data.officers[2].person", drop), "data.officers[2].person", "required"},
		{"supplierWithoutRegistered", "registry.entity.v1", edit(t, registry, "data.supplier.registered", drop), "data.supplier.registered", "required"},
		{"unknownCity", "registry.entity.v1", edit(t, registry, "data.city", "北京市"), "data.city", `must be a Hunan 市州 name or division code, got "北京市"`},
		{"unknownClaimCity", "claim.v1", edit(t, claim, "data.city", "440100"), "data.city", "Hunan"},
		{"roundTooLate", "claim.v1", edit(t, claim, "data.round", 2030), "data.round", "must be an integer <= 2029, got 2030"},
		{"utilAbove1", "usage.v1", edit(t, usage, "data.util_avg", 1.5), "data.util_avg", "must be a number <= 1, got 1.5"},
		{"negativeJobs", "usage.v1", edit(t, usage, "data.jobs", -1), "data.jobs", "must be an integer >= 0"},
		{"duplicateKey", "usage.v1", dupKey, "data.cards", "duplicate key"},
		{"loginOrgsNotArray", "usage.v1", edit(t, usage, "data.login_orgs", "91433100MDQ28CBNXU"), "data.login_orgs", "must be an array, got string"},
		{"emptyContractInClaim", "claim.v1", edit(t, claim, "data.contracts[0]", ""), "data.contracts[0]", "must not be empty"},
		{"hugeString", "usage.v1", edit(t, usage, "data.tenant", strings.Repeat("t", 5000)), "data.tenant", "at most 4096 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec, err := testDecoder().Decode(tt.typ, tt.msg)
			if err == nil {
				t.Fatalf("Decode accepted it: %+v", rec)
			}
			var e *voucherwatch.Error
			if !errors.As(err, &e) || e.Code != voucherwatch.EINVALID {
				t.Fatalf("got %T %v, want an EINVALID *voucherwatch.Error", err, err)
			}
			t.Log(err)
			if e.Field != tt.field {
				t.Errorf("field: got %q, want %q (%v)", e.Field, tt.field, err)
			}
			if !strings.Contains(err.Error(), tt.text) {
				t.Errorf("reason: got %q, want it to contain %q", err.Error(), tt.text)
			}
			if len(err.Error()) > 300 {
				t.Errorf("reason is %d bytes long; keep it short", len(err.Error()))
			}
		})
	}
}

func TestDecodeAccepts(t *testing.T) {
	ex := contractExamples(t)
	usage, settlement, contract, claim := ex[voucherwatch.TypeUsage], ex[voucherwatch.TypeSettlement], ex[voucherwatch.TypeContract], ex[voucherwatch.TypeClaim]
	registry := ex[voucherwatch.TypeRegistry]
	creditNote := edit(t, edit(t, edit(t, settlement, "data.amount", "-16183.16"), "data.tax", "-970.99"), "data.items[0].amount", "-16183.16")
	tests := []struct {
		name  string
		typ   voucherwatch.RecordType
		msg   []byte
		check func(t *testing.T, r voucherwatch.Record)
	}{
		{"unknownFieldsEverywhere", "usage.v1", edit(t, edit(t, usage, "data.gpu_temp", map[string]any{"max": []any{1, "a", nil, true}}), "subject", "x"), nil},
		{"extraCloudEventsAttributes", "usage.v1", edit(t, usage, "datacontenttype", "application/json"), nil},
		{"nullOptional", "usage.v1", edit(t, usage, "data.contract_no", nil), func(t *testing.T, r voucherwatch.Record) { eq(t, "ContractNo", r.Usage.ContractNo, "") }},
		{"cardsAbsent", "usage.v1", edit(t, usage, "data.cards", drop), func(t *testing.T, r voucherwatch.Record) { eq(t, "Cards", r.Usage.Cards, 0) }},
		{"integralFloatCards", "usage.v1", edit(t, usage, "data.cards", rawJSON("8.0")), func(t *testing.T, r voucherwatch.Record) { eq(t, "Cards", r.Usage.Cards, 8) }},
		{"cardHoursWithinTolerance", "usage.v1", edit(t, usage, "data.card_hours", 1350), nil},
		{"utcTimestamps", "usage.v1", edit(t, usage, "data.window_start", "2026-01-01T16:00:00.5Z"), func(t *testing.T, r voucherwatch.Record) {
			eq(t, "WindowStart", r.Usage.WindowStart, time.Date(2026, 1, 2, 0, 0, 0, 5e8, voucherwatch.CST))
		}},
		{"creditNote", "settlement.v1", creditNote, func(t *testing.T, r voucherwatch.Record) {
			eq(t, "Amount", r.Settlement.Amount, voucherwatch.Money(-1618316))
		}},
		{"filedOn", "contract.v1", edit(t, contract, "data.filed_on", "2026-01-05"), func(t *testing.T, r voucherwatch.Record) {
			eq(t, "FiledOn", r.Contract.FiledOn, time.Date(2026, 1, 5, 0, 0, 0, 0, voucherwatch.CST))
		}},
		{"claimCityName", "claim.v1", edit(t, claim, "data.city", "永州"), func(t *testing.T, r voucherwatch.Record) { eq(t, "City", r.Claim.City, "431100") }},
		{"claimCityEmpty", "claim.v1", edit(t, claim, "data.city", ""), func(t *testing.T, r voucherwatch.Record) { eq(t, "City", r.Claim.City, "") }},
		{"claimInvoiceWithCode", "claim.v1", edit(t, edit(t, claim, "data.invoices[0].invoice_code", "4300191130"), "data.invoices[0].invoice_no", "00012345"), nil},
		{"invoiceWrittenJoined", "claim.v1", edit(t, edit(t, claim, "data.invoices[0].invoice_code", ""), "data.invoices[0].invoice_no", "043001900104 00012345"), func(t *testing.T, r voucherwatch.Record) {
			eq(t, "Key", r.Claim.Invoices[0].Key, "04300190010400012345")
			eq(t, "InvoiceNo (as sent)", r.Claim.Invoices[0].InvoiceNo, "043001900104 00012345")
		}},
		{"invoiceWrittenLostZeros", "claim.v1", edit(t, edit(t, claim, "data.invoices[0].invoice_code", "043001900104"), "data.invoices[0].invoice_no", "12345"), func(t *testing.T, r voucherwatch.Record) {
			eq(t, "Key", r.Claim.Invoices[0].Key, "04300190010400012345")
			eq(t, "InvoiceNo (as sent)", r.Claim.Invoices[0].InvoiceNo, "12345")
		}},
		{"invoiceWrittenNoPrefix", "claim.v1", edit(t, edit(t, claim, "data.invoices[0].invoice_code", "043001900104"), "data.invoices[0].invoice_no", "No.00012345"), func(t *testing.T, r voucherwatch.Record) {
			eq(t, "Key", r.Claim.Invoices[0].Key, "04300190010400012345")
			eq(t, "InvoiceNo (as sent)", r.Claim.Invoices[0].InvoiceNo, "No.00012345")
		}},
		{"invoiceWrittenFullWidth", "claim.v1", edit(t, edit(t, claim, "data.invoices[0].invoice_code", "０４３００１９００１０４"), "data.invoices[0].invoice_no", "０００１２３４５"), func(t *testing.T, r voucherwatch.Record) {
			eq(t, "Key", r.Claim.Invoices[0].Key, "04300190010400012345")
			eq(t, "InvoiceNo (as sent)", r.Claim.Invoices[0].InvoiceNo, "０００１２３４５")
		}},
		{"invoiceWrittenGrouped", "claim.v1", edit(t, edit(t, claim, "data.invoices[0].invoice_code", "0430-0190-0104"), "data.invoices[0].invoice_no", "0001 2345"), func(t *testing.T, r voucherwatch.Record) {
			eq(t, "Key", r.Claim.Invoices[0].Key, "04300190010400012345")
			eq(t, "InvoiceNo (as sent)", r.Claim.Invoices[0].InvoiceNo, "0001 2345")
		}},
		{"invoiceWrittenDigitalSplit", "claim.v1", edit(t, edit(t, claim, "data.invoices[0].invoice_code", "264320001234"), "data.invoices[0].invoice_no", "56789012"), func(t *testing.T, r voucherwatch.Record) {
			eq(t, "Key", r.Claim.Invoices[0].Key, "26432000123456789012")
			eq(t, "InvoiceNo (as sent)", r.Claim.Invoices[0].InvoiceNo, "56789012")
		}},
		{"invoiceWrittenTenPlusEightJoined", "claim.v1", edit(t, edit(t, claim, "data.invoices[0].invoice_code", ""), "data.invoices[0].invoice_no", "430019113000012345"), func(t *testing.T, r voucherwatch.Record) {
			eq(t, "Key", r.Claim.Invoices[0].Key, "430019113000012345")
			eq(t, "InvoiceNo (as sent)", r.Claim.Invoices[0].InvoiceNo, "430019113000012345")
		}},
		{"registryCityName", "registry.entity.v1", edit(t, registry, "data.city", "湘西州"), func(t *testing.T, r voucherwatch.Record) { eq(t, "City", r.Entity.City, "433100") }},
		{"foreignHolderWithoutUSCC", "registry.entity.v1", edit(t, registry, "data.shareholders[1].uscc", drop), nil},
		{"escapedStrings", "usage.v1", edit(t, usage, "data.tenant", rawJSON(`"t-\u00e9\ud83d\ude00\"\\"`)), func(t *testing.T, r voucherwatch.Record) { eq(t, "Tenant", r.Usage.Tenant, "t-é😀\"\\") }},
		{"escapedKey", "usage.v1", bytes.Replace(usage, []byte(`"tenant"`), []byte(`"ten\u0061nt"`), 1), func(t *testing.T, r voucherwatch.Record) { eq(t, "Tenant", r.Usage.Tenant, "t-8CBNXU") }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec, err := testDecoder().Decode(tt.typ, tt.msg)
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if tt.check != nil {
				tt.check(t, rec)
			}
		})
	}
}

// TestDecodeClock checks the optional bound on timestamps in the future.
func TestDecodeClock(t *testing.T) {
	usage := contractExamples(t)[voucherwatch.TypeUsage]
	now := time.Date(2026, 1, 8, 12, 0, 0, 0, voucherwatch.CST) // before window_end and time
	if _, err := testDecoder().Decode(voucherwatch.TypeUsage, usage); err != nil {
		t.Fatalf("without a clock: %v", err)
	}
	d := &Decoder{PIIKey: testPIIKey, Now: func() time.Time { return now }}
	_, err := d.Decode(voucherwatch.TypeUsage, edit(t, usage, "time", "2026-01-08T12:00:00+08:00"))
	if e, ok := err.(*voucherwatch.Error); !ok || e.Field != "data.window_end" || !strings.Contains(e.Message, "future") {
		t.Errorf("got %v, want data.window_end in the future", err)
	}
	now = now.Add(48 * time.Hour)
	if _, err := d.Decode(voucherwatch.TypeUsage, usage); err != nil {
		t.Errorf("with the clock past the window: %v", err)
	}
}

// TestDecodeCopiesValue checks that a record does not alias the caller's buffer, which the
// Kafka client may reuse.
func TestDecodeCopiesValue(t *testing.T) {
	for typ, msg := range contractExamples(t) {
		buf := bytes.Clone(msg)
		rec, err := testDecoder().Decode(typ, buf)
		if err != nil {
			t.Fatal(err)
		}
		before := fmt.Sprintf("%+v", deref(reflect.ValueOf(rec)))
		for i := range buf {
			buf[i] = 'X'
		}
		if after := fmt.Sprintf("%+v", deref(reflect.ValueOf(rec))); after != before {
			t.Errorf("%s: the record changed with the caller's buffer", typ)
		}
	}
}

// DecodeOwned gives the record Decode gives, without copying the message: the record's strings
// point into the value handed over (so that changing it shows), except a registry record's,
// which are copied so that the message, with its identity numbers, is not kept alive.
func TestDecodeOwned(t *testing.T) {
	for typ, msg := range contractExamples(t) {
		want, err := testDecoder().Decode(typ, msg)
		if err != nil {
			t.Fatal(err)
		}
		buf := bytes.Clone(msg)
		rec, err := testDecoder().DecodeOwned(typ, buf)
		if err != nil {
			t.Fatal(err)
		}
		before := fmt.Sprintf("%+v", deref(reflect.ValueOf(rec)))
		if w := fmt.Sprintf("%+v", deref(reflect.ValueOf(want))); before != w {
			t.Errorf("%s: DecodeOwned gave\n%s\nDecode\n%s", typ, before, w)
		}
		for i := range buf {
			buf[i] = 'X'
		}
		changed := fmt.Sprintf("%+v", deref(reflect.ValueOf(rec))) != before
		if typ == voucherwatch.TypeRegistry && changed {
			t.Errorf("%s: the record points into the message, which would keep its identity numbers in memory", typ)
		} else if typ != voucherwatch.TypeRegistry && !changed {
			t.Errorf("%s: the record did not point into the value handed over: it was copied", typ)
		}
	}
}

// deref collects every string reachable from v, following pointers, slices and structs:
// fmt's %+v prints nested pointers as addresses, so this is what "anywhere in the record"
// means.
func deref(v reflect.Value) []string {
	var out []string
	var walk func(v reflect.Value)
	walk = func(v reflect.Value) {
		switch v.Kind() {
		case reflect.Pointer, reflect.Interface:
			if !v.IsNil() {
				walk(v.Elem())
			}
		case reflect.Struct:
			if t, ok := v.Interface().(time.Time); ok {
				out = append(out, t.String())
				return
			}
			for i := 0; i < v.NumField(); i++ {
				walk(v.Field(i))
			}
		case reflect.Slice, reflect.Array:
			for i := 0; i < v.Len(); i++ {
				walk(v.Index(i))
			}
		case reflect.String:
			out = append(out, v.String())
		default:
			out = append(out, fmt.Sprint(v.Interface()))
		}
	}
	walk(v)
	return out
}

// TestDecodePII checks that identity numbers are replaced by key and mask, and appear
// nowhere: not in the record, not in a rejection's reason, not in what Sniff reads.
func TestDecodePII(t *testing.T) {
	registry := contractExamples(t)[voucherwatch.TypeRegistry]
	ids := regexp.MustCompile(`"id_number": "([^"]+)"`).FindAllSubmatch(registry, -1)
	if len(ids) < 5 {
		t.Fatalf("found %d id numbers in the example, want >= 5", len(ids))
	}
	leaks := func(t *testing.T, what, text string) {
		t.Helper()
		for _, id := range ids {
			if strings.Contains(strings.ToUpper(text), string(id[1])) {
				t.Errorf("%s contains identity number %s", what, id[1])
			}
		}
	}

	rec, err := testDecoder().Decode(voucherwatch.TypeRegistry, registry)
	if err != nil {
		t.Fatal(err)
	}
	leaks(t, "%+v of the record", fmt.Sprintf("%+v", rec))
	leaks(t, "%+v of the entity", fmt.Sprintf("%+v", *rec.Entity))
	leaks(t, "the record's strings", strings.Join(deref(reflect.ValueOf(rec)), "\n"))
	persons := []voucherwatch.Person{*rec.Entity.LegalRep, *rec.Entity.Shareholders[0].Person}
	persons = append(persons, rec.Entity.Contacts...)
	for _, o := range rec.Entity.Officers {
		persons = append(persons, o.Person)
	}
	for _, p := range persons {
		leaks(t, "%+v of a person", fmt.Sprintf("%+v", p))
		if len(p.Key) != 32 || len(p.Masked) != 18 || strings.Count(p.Masked, "*") != 11 {
			t.Errorf("person %s: key %q, masked %q: want 32 hex digits and 11 stars", p.Name, p.Key, p.Masked)
		}
	}

	// Rejections of records carrying identity numbers, including faults in the person itself.
	id := string(ids[0][1])
	bad := map[string][]byte{
		"idNumberAsNumber":   edit(t, registry, "data.legal_rep.id_number", rawJSON(id[:17])),
		"badIDType":          edit(t, registry, "data.legal_rep.id_type", id),
		"missingIDType":      edit(t, registry, "data.contacts[0].id_type", drop),
		"longIDNumber":       edit(t, registry, "data.contacts[0].id_number", strings.Repeat(id, 4)),
		"missingPersonName":  edit(t, registry, "data.officers[0].person.name", drop),
		"badCityNearIDs":     edit(t, registry, "data.city", "x"),
		"truncatedInIDs":     registry[:bytes.Index(registry, []byte(id))+10],
		"wrongTopic":         registry,
		"idNumberInUSCCSlot": edit(t, registry, "data.uscc", id),
		"idNumberAsCity":     edit(t, registry, "data.city", id),
		"idNumberAsDate":     edit(t, registry, "data.registered_on", "x"+id),
		"idNumberInLongText": edit(t, registry, "data.city", strings.Repeat("长沙", 15)+id),
	}
	for name, msg := range bad {
		typ := voucherwatch.TypeRegistry
		if name == "wrongTopic" {
			typ = voucherwatch.TypeUsage
		}
		_, err := testDecoder().Decode(typ, msg)
		if err == nil {
			t.Errorf("%s: accepted", name)
			continue
		}
		// Quoted values are masked: no reason holds the number, even in a member that
		// quotes what it got, even cut short.
		leaks(t, name+": reason "+strconv.Quote(err.Error()), err.Error())
		if e := (*voucherwatch.Error)(nil); errors.As(err, &e) && e.Field == "" && name != "truncatedInIDs" && name != "wrongTopic" {
			t.Errorf("%s: got reason %q without the field", name, err)
		}
		source, sid, supplier := Sniff(msg)
		leaks(t, name+": Sniff", source+sid+supplier)
	}

	// Without a key, identity numbers cannot be hashed safely: a misconfiguration, not bad input.
	_, err = (&Decoder{}).Decode(voucherwatch.TypeRegistry, registry)
	if voucherwatch.ErrorCode(err) != voucherwatch.EINTERNAL {
		t.Errorf("without a PII key: got %v, want EINTERNAL", err)
	}
}

func TestSniff(t *testing.T) {
	ex := contractExamples(t)
	tests := []struct {
		name                   string
		msg                    []byte
		source, id, supplierID string
	}{
		{"usage", ex[voucherwatch.TypeUsage], "91430200PQ3G7YMPXF", "usage-0000825", "91430200PQ3G7YMPXF"},
		{"claimFromPlatform", ex[voucherwatch.TypeClaim], "platform:hunan-pms", "claim-0036792", ""},
		{"supplierFromData", edit(t, ex[voucherwatch.TypeUsage], "source", "platform:x"), "platform:x", "usage-0000825", "91430200PQ3G7YMPXF"},
		{"truncated", ex[voucherwatch.TypeUsage][:120], "91430200PQ3G7YMPXF", "usage-0000825", "91430200PQ3G7YMPXF"},
		{"notJSON", []byte("\x00\x01garbage"), "", "", ""},
		{"sourceNotString", []byte(`{"source": 5, "id": "a"}`), "", "a", ""},
		{"longID", []byte(`{"id": "` + strings.Repeat("é", 100) + `"}`), "", strings.Repeat("é", 64), ""},
		{"invalidUTF8", []byte("{\"id\": \"a\xffb\"}"), "", "a\uFFFDb", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			source, id, supplier := Sniff(tt.msg)
			eq(t, "source", source, tt.source)
			eq(t, "id", id, tt.id)
			eq(t, "supplier", supplier, tt.supplierID)
		})
	}
}

// FuzzDecode checks that Decode never panics, accepts only JSON, returns exactly one body of
// the topic's type, and fails only with *voucherwatch.Error; and that Sniff never panics.
func FuzzDecode(f *testing.F) {
	for _, msg := range contractExamples(f) {
		f.Add(msg)
		for _, cut := range []int{1, 17, len(msg) / 3, len(msg) - 2} {
			f.Add(msg[:cut])
		}
	}
	f.Add([]byte(`{"specversion":"1.0","id":"a","source":"b","type":"usage.v1","time":"2026-01-01T00:00:00Z","data":{"x":[[[{}]]],"cards":"8"}}`))
	f.Add([]byte(`{"data":{"login_orgs":[null,"\ud800"]}}`))
	f.Fuzz(func(t *testing.T, msg []byte) {
		Sniff(msg)
		for _, typ := range voucherwatch.RecordTypes {
			rec, err := testDecoder().Decode(typ, msg)
			if err != nil {
				if _, ok := err.(*voucherwatch.Error); !ok {
					t.Fatalf("%s: error %T %v, want *voucherwatch.Error", typ, err, err)
				}
				continue
			}
			if !json.Valid(msg) {
				t.Fatalf("%s: accepted invalid JSON %q", typ, msg)
			}
			if rec.Type != typ {
				t.Fatalf("accepted type %q on a %s topic", rec.Type, typ)
			}
			n := 0
			for _, p := range []any{rec.Entity, rec.Contract, rec.Settlement, rec.Usage, rec.Claim} {
				if !reflect.ValueOf(p).IsNil() {
					n++
				}
			}
			if n != 1 {
				t.Fatalf("%s: %d bodies", typ, n)
			}
		}
	})
}

func BenchmarkDecodeUsage(b *testing.B) {
	msg := contractExamples(b)[voucherwatch.TypeUsage]
	d := testDecoder()
	b.ReportAllocs()
	b.SetBytes(int64(len(msg)))
	for b.Loop() {
		if _, err := d.Decode(voucherwatch.TypeUsage, msg); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecodeUsageStream decodes usage messages as producers send them (compact JSON,
// from synth's stream) and as the consumer does (DecodeOwned), over 4,096 distinct messages
// rather than one that stays in the cache.
func BenchmarkDecodeUsageStream(b *testing.B) {
	var msgs [][]byte
	if err := synth.UsageStream(5, 4096, func(m synth.Message) error {
		msgs = append(msgs, bytes.Clone(m.Value))
		return nil
	}); err != nil {
		b.Fatal(err)
	}
	d := testDecoder()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, err := d.DecodeOwned(voucherwatch.TypeUsage, msgs[i%len(msgs)]); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// BenchmarkDecode covers the other types, which are not on the hot path.
func BenchmarkDecode(b *testing.B) {
	for typ, msg := range contractExamples(b) {
		b.Run(string(typ), func(b *testing.B) {
			d := testDecoder()
			b.ReportAllocs()
			b.SetBytes(int64(len(msg)))
			for b.Loop() {
				if _, err := d.Decode(typ, msg); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
