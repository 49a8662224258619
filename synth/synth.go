// Package synth generates a synthetic province for the Hunan compute-voucher (算力券) programme:
// registered suppliers and their capacity, enterprises and their ownership, contracts,
// settlements, metered usage and subsidy claims, as the Kafka messages of the wire contract.
// Everything is deterministic from a seed. With Config.Plant it also plants fraud cases and
// look-alikes and records them in Truth, so that tests can measure the detectors' recall and
// precision; BadUsage gives malformed messages for the decoder's tests.
//
// The package builds its records from its own wire types and never imports the decoder, so that
// it can check the decoder rather than agree with it by construction.
package synth

import (
	"slices"
	"strings"
	"time"

	"github.com/voucherwatch/voucherwatch"
)

var cst = voucherwatch.CST

// Config says what province to generate. Zero values of Enterprises, Suppliers, Start and End
// take the defaults; DuplicateRate and Plant are taken as given.
type Config struct {
	Seed        int64
	Enterprises int       // demand-side enterprises, default 400; holding firms and funds come on top
	Suppliers   int       // compute suppliers, default 25 (a few of them unregistered)
	Start, End  time.Time // the period of trade, default 2025-11-01 .. 2026-11-30 (CST)
	// DuplicateRate is the share of each topic's records delivered twice: half as an immediate
	// redelivery of the same bytes, half re-sent later by the sender (same source and id,
	// re-serialised, so the bytes differ).
	DuplicateRate float64
	// Plant adds the fraud cases and look-alikes recorded in Province.Truth. They need months of
	// invoices before the claims: with a period shorter than 300 days nothing is planted.
	Plant bool
	// Evasive adds, with Plant, the cases of a province whose cheats try to hide: the same
	// identifier written another valid way, the same act done through a company under the same
	// control, thin markets, copies across rounds (plant_evasive.go), each with its look-alikes.
	Evasive bool
}

// DemoSeed is the seed of the province `voucherwatch demo` loads by default; the dashboards'
// test loads the same province, so every panel is known to show the demo's data.
const DemoSeed = 20261126

// DefaultConfig is the province the tests and the demo use: 400 enterprises, 25 suppliers, a
// year of trade, 2 % duplicates and the planted cases.
func DefaultConfig(seed int64) Config {
	return Config{Seed: seed, DuplicateRate: 0.02, Plant: true}.withDefaults()
}

// EvasiveConfig is DefaultConfig with the evading cases planted too (Config.Evasive).
func EvasiveConfig(seed int64) Config {
	c := DefaultConfig(seed)
	c.Evasive = true
	return c
}

func (c Config) withDefaults() Config {
	if c.Enterprises <= 0 {
		c.Enterprises = 400
	}
	if c.Suppliers <= 0 {
		c.Suppliers = 25
	}
	if c.Suppliers < 6 {
		c.Suppliers = 6 // plants need distinct suppliers to tie to distinct buyers
	}
	if c.Start.IsZero() {
		c.Start = time.Date(2025, 11, 1, 0, 0, 0, 0, cst)
	}
	if c.End.IsZero() {
		c.End = time.Date(2026, 11, 30, 23, 59, 59, 0, cst)
	}
	if c.DuplicateRate < 0 {
		c.DuplicateRate = 0
	}
	if c.DuplicateRate > 0.5 {
		c.DuplicateRate = 0.5
	}
	return c
}

// Message is one Kafka message: the topic, the key (the record's natural key) and the value
// (a CloudEvents 1.0 JSON envelope).
type Message struct {
	Topic string
	Key   []byte
	Value []byte
}

// Topic names: the contract's defaults.
const (
	TopicRegistry    = "vw.registry"
	TopicContracts   = "vw.contracts"
	TopicSettlements = "vw.settlements"
	TopicUsage       = "vw.usage"
	TopicClaims      = "vw.claims"
)

// Topics lists the topics in the order the records depend on each other.
var Topics = []string{TopicRegistry, TopicContracts, TopicSettlements, TopicUsage, TopicClaims}

// Province is a generated province: its messages in delivery order, the planted cases and the
// counts a test asserts the engine against.
type Province struct {
	Config   Config    // with the defaults filled in
	Messages []Message // all topics, ordered by envelope time, duplicates in place
	Truth    Truth
	Stats    Stats
}

// Topic returns the messages of one topic in delivery order.
func (p *Province) Topic(topic string) []Message {
	var out []Message
	for _, m := range p.Messages {
		if m.Topic == topic {
			out = append(out, m)
		}
	}
	return out
}

// TopicStats counts one topic's messages.
type TopicStats struct {
	Messages     int // messages delivered, duplicates included
	Unique       int // distinct (source, id): the records the engine must store
	Redeliveries int // Messages - Unique: deliveries the engine must recognise as already stored
	Keys         int // distinct Kafka keys: entities, contracts, invoices, resources, claims
}

// Stats describes a generated province.
type Stats struct {
	Topics      map[string]TopicStats
	Total       TopicStats
	Entities    int // enterprises in the registry (buyers, suppliers, holding firms, funds)
	Buyers      int // enterprises that bought compute
	Suppliers   int // entities that sold compute under contract (resellers included)
	Contracts   int // distinct contract numbers
	Invoices    int // distinct invoices
	UsageWindow int // distinct usage records
	Claims      int // distinct claims
	Versions    int // registry and contract records that are a newer version of an entity already sent
}

// Case is one planted finding, or a look-alike that must not be found.
type Case struct {
	// Detector is the alert's detector: duplicate_claim, price_out_of_range, related_party, resale,
	// or rule:<name> for the policy checks (rule:unregistered_supplier, rule:applicant_credit,
	// rule:annual_purchase, rule:late_filing, rule:non_subsidisable_item, rule:requested_over_limit,
	// rule:policy_window, rule:invoice_mismatch, rule:billed_above_metered, rule:usage_above_capacity).
	Detector string
	Kind     string // what was planted, e.g. "invoice_in_two_claims"
	Clause   string // the policy clause it rests on (policy.md): M1b, D4, C2 ...
	// LookAlike marks a case that resembles a finding but is legitimate: it must not be flagged
	// with high or medium severity.
	LookAlike bool
	// Severity is the severity an alert should have: high, medium or low; empty for look-alikes.
	Severity string
	// Subjects are the keys the alert should carry, as in the contract's alert subjects:
	// applicant_uscc, supplier_uscc, claim_id, contract_no, invoice_no, resource_id. See Matches.
	Subjects map[string]string
	// Context has further identifiers of the case (invoice_code, payment_ref, the intermediate
	// holder ...), for evidence checks. "other_<subject>" keys name the other side of a
	// duplicate (the first claim, the other applicant); their values may be comma-separated.
	Context map[string]string
	Note    string
}

// subjectKeys are the alert subjects of the contract, the anchor first.
var subjectKeys = []string{"applicant_uscc", "supplier_uscc", "resource_id", "claim_id", "contract_no", "invoice_no"}

// Matches reports whether an alert with these subjects is about the case. The alert must name
// the case's applicant (or, for a supplier-level case, its supplier; for a resource, the
// resource), and no subject both name may differ. A duplicate has two sides and a detector may
// report either: a value of the case's Context "other_<key>" counts as the case's own.
func (c Case) Matches(subjects map[string]string) bool {
	anchored := false
	for _, k := range subjectKeys {
		want, ok := c.Subjects[k]
		got, named := subjects[k]
		if !ok || !named {
			continue
		}
		same := got == want
		for _, alt := range strings.Split(c.Context["other_"+k], ",") {
			same = same || (alt != "" && got == alt)
		}
		if !same {
			return false
		}
		if !anchored && (k == "applicant_uscc" || c.Subjects["applicant_uscc"] == "") {
			anchored = true
		}
	}
	return anchored
}

// Truth is the set of planted cases.
type Truth struct{ Cases []Case }

// Findings returns the cases a detector should report (look-alikes excluded).
func (t Truth) Findings(detector string) []Case {
	var out []Case
	for _, c := range t.Cases {
		if c.Detector == detector && !c.LookAlike {
			out = append(out, c)
		}
	}
	return out
}

// LookAlikes returns the look-alikes planted for a detector.
func (t Truth) LookAlikes(detector string) []Case {
	var out []Case
	for _, c := range t.Cases {
		if c.Detector == detector && c.LookAlike {
			out = append(out, c)
		}
	}
	return out
}

// Detectors lists the detectors the cases name, sorted.
func (t Truth) Detectors() []string {
	var out []string
	for _, c := range t.Cases {
		out = append(out, c.Detector)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// Kinds counts the cases per "detector/kind", look-alikes marked with a trailing "~".
func (t Truth) Kinds() map[string]int {
	out := map[string]int{}
	for _, c := range t.Cases {
		k := c.Detector + "/" + c.Kind
		if c.LookAlike {
			k += "~"
		}
		out[k]++
	}
	return out
}

// Generate builds the province cfg describes. It is deterministic: the same cfg gives the same
// messages, byte for byte.
func Generate(cfg Config) *Province {
	cfg = cfg.withDefaults()
	w := newWorld(cfg)
	w.populate()
	w.trade()
	w.fileClaims()
	if cfg.Plant {
		w.plant() // after the honest claims, so plants can copy and distort them
	}
	return w.deliver()
}
