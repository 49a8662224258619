package ingest

import (
	"math"
	"time"

	"github.com/voucherwatch/voucherwatch"
)

// One decoder per record type. Each reads the data object member by member (unknown members
// are skipped: senders may add fields before the engine knows them), then checks what spans
// members: required members, orders of dates, bounds that depend on other fields. Members are
// tracked in a bit set, one bit per known member in the order of the type's keys table.

// usage.v1 members.
const (
	uSupplier = 1 << iota
	uBuyer
	uContractNo
	uTenant
	uResource
	uChipModel
	uChipOrigin
	uCards
	uWindowStart
	uWindowEnd
	uCardHours
	uUtilAvg
	uJobs
	uUsers
	uLoginOrgs
	uDatacenter
)

var usageKeys = []string{"supplier_uscc", "buyer_uscc", "contract_no", "tenant", "resource_id",
	"chip_model", "chip_origin", "cards", "window_start", "window_end", "card_hours", "util_avg",
	"jobs", "users", "login_orgs", "datacenter"}

const usageRequired = uSupplier | uBuyer | uResource | uWindowStart | uWindowEnd | uCardHours

// usage decodes usage.v1, the hot path: a million records at well over 150k/s.
func (d *Decoder) usage(s *scanner, now time.Time) (*voucherwatch.Usage, error) {
	u := new(voucherwatch.Usage)
	if err := s.enter(); err != nil {
		return nil, err
	}
	var seen uint32
	for first := true; ; first = false {
		key, ok, err := s.member(first)
		if err != nil {
			return nil, err
		}
		if !ok {
			break
		}
		var bit uint32
		switch key {
		case "supplier_uscc":
			bit = uSupplier
			u.SupplierUSCC, err = s.uscc()
		case "buyer_uscc":
			bit = uBuyer
			u.BuyerUSCC, err = s.uscc()
		case "contract_no":
			bit = uContractNo
			u.ContractNo, err = s.str()
		case "tenant":
			bit = uTenant
			u.Tenant, err = s.str()
		case "resource_id":
			bit = uResource
			u.ResourceID, err = s.nonEmpty()
		case "chip_model":
			bit = uChipModel
			u.ChipModel, err = s.str()
		case "chip_origin":
			bit = uChipOrigin
			u.ChipOrigin, err = s.enum(voucherwatch.OriginDomestic, voucherwatch.OriginForeign)
		case "cards":
			bit = uCards
			u.Cards, err = s.integer(1, maxCards)
		case "window_start":
			bit = uWindowStart
			u.WindowStart, err = s.timestamp()
		case "window_end":
			bit = uWindowEnd
			u.WindowEnd, err = s.timestamp()
			if err == nil {
				err = notFuture(u.WindowEnd, now)
			}
		case "card_hours":
			bit = uCardHours
			u.CardHours, err = s.number(0, math.MaxFloat64)
		case "util_avg":
			bit = uUtilAvg
			u.UtilAvg, err = s.number(0, 1)
		case "jobs":
			bit = uJobs
			u.Jobs, err = s.integer(0, maxCount)
		case "users":
			bit = uUsers
			u.Users, err = s.integer(0, maxCount)
		case "login_orgs":
			bit = uLoginOrgs
			err = s.array(func(int) error {
				v, err := s.uscc()
				u.LoginOrgs = append(u.LoginOrgs, v)
				return err
			})
		case "datacenter":
			bit = uDatacenter
			u.Datacenter, err = s.str()
		default:
			err = s.skip()
		}
		if err == nil && bit != 0 {
			err = once(&seen, bit)
		}
		if err != nil {
			return nil, at(key, err)
		}
	}
	if err := missing(seen, usageRequired, usageKeys); err != nil {
		return nil, err
	}
	window := u.WindowEnd.Sub(u.WindowStart)
	if window <= 0 {
		return nil, at("window_end", invalid("must be after window_start"))
	}
	if window > MaxUsageWindow {
		return nil, at("window_end", invalid("window must be at most %d days, got %.1f days", MaxUsageWindow/(24*time.Hour), window.Hours()/24))
	}
	// Metered card time cannot exceed the cards' time in the window. Without cards the bound
	// is the absurdity bound, so that 1e300 card-hours never reach the detectors.
	hours := window.Hours()
	if u.Cards > 0 {
		if limit := float64(u.Cards) * hours * (1 + CardHoursTolerance); u.CardHours > limit {
			return nil, at("card_hours", invalid("must be <= cards × window hours (%d × %g, %g%% tolerance), got %g",
				u.Cards, hours, CardHoursTolerance*100, u.CardHours))
		}
	} else if limit := maxCards * hours; u.CardHours > limit {
		return nil, at("card_hours", invalid("must be <= %d cards × window hours (%g), got %g", maxCards, hours, u.CardHours))
	}
	return u, nil
}

// claim.v1 members.
const (
	clID = 1 << iota
	clApplicant
	clRound
	clSubmitted
	clCity
	clViaPlatform
	clContracts
	clInvoices
	clUsageAmount
	clRequested
	clChipOrigin
	clBankAccount
)

var claimKeys = []string{"claim_id", "applicant_uscc", "round", "submitted_on", "city",
	"via_platform", "contracts", "invoices", "usage_amount", "requested", "chip_origin", "bank_account"}

const claimRequired = clID | clApplicant | clRound | clSubmitted | clRequested

func (d *Decoder) claim(s *scanner) (*voucherwatch.Claim, error) {
	c := new(voucherwatch.Claim)
	if err := s.enter(); err != nil {
		return nil, err
	}
	var seen uint32
	for first := true; ; first = false {
		key, ok, err := s.member(first)
		if err != nil {
			return nil, err
		}
		if !ok {
			break
		}
		var bit uint32
		switch key {
		case "claim_id":
			bit = clID
			c.ClaimID, err = s.nonEmpty()
		case "applicant_uscc":
			bit = clApplicant
			c.ApplicantUSCC, err = s.uscc()
		case "round":
			bit = clRound
			c.Round, err = s.integer(2025, 2029)
		case "submitted_on":
			bit = clSubmitted
			c.SubmittedOn, err = s.date()
		case "city":
			// Optional; an empty string is read as absent, like null.
			bit = clCity
			c.City, err = s.city(true)
		case "via_platform":
			bit = clViaPlatform
			c.ViaPlatform, err = s.boolean()
		case "contracts":
			bit = clContracts
			err = s.array(func(int) error {
				v, err := s.nonEmpty()
				c.Contracts = append(c.Contracts, v)
				return err
			})
		case "invoices":
			bit = clInvoices
			err = s.array(func(int) error {
				inv, err := claimInvoice(s)
				c.Invoices = append(c.Invoices, inv)
				return err
			})
		case "usage_amount":
			bit = clUsageAmount
			c.UsageAmount, err = s.money(false)
		case "requested":
			bit = clRequested
			c.Requested, err = s.money(false)
		case "chip_origin":
			bit = clChipOrigin
			c.ChipOrigin, err = s.enum(voucherwatch.OriginDomestic, voucherwatch.OriginForeign, voucherwatch.OriginMixed)
		case "bank_account":
			bit = clBankAccount
			c.BankAccount, err = s.str()
		default:
			err = s.skip()
		}
		if err == nil && bit != 0 {
			err = once(&seen, bit)
		}
		if err != nil {
			return nil, at(key, err)
		}
	}
	if err := missing(seen, claimRequired, claimKeys); err != nil {
		return nil, err
	}
	return c, nil
}

var claimInvoiceKeys = []string{"invoice_code", "invoice_no", "amount"}

// claimInvoice reads one invoice a claim cites. Its amount must not be negative: a claim
// cites what was paid, and a credit note is never grounds for a subsidy.
func claimInvoice(s *scanner) (voucherwatch.ClaimInvoice, error) {
	var inv voucherwatch.ClaimInvoice
	if c := s.peek(); c != '{' {
		return inv, s.wrongType(c, "an object")
	}
	if err := s.enter(); err != nil {
		return inv, err
	}
	var seen uint32
	for first := true; ; first = false {
		key, ok, err := s.member(first)
		if err != nil {
			return inv, err
		}
		if !ok {
			break
		}
		var bit uint32
		switch key {
		case "invoice_code":
			bit = 1
			inv.InvoiceCode, err = s.str()
		case "invoice_no":
			bit = 2
			inv.InvoiceNo, err = s.nonEmpty()
		case "amount":
			bit = 4
			inv.Amount, err = s.money(false)
		default:
			err = s.skip()
		}
		if err == nil && bit != 0 {
			err = once(&seen, bit)
		}
		if err != nil {
			return inv, at(key, err)
		}
	}
	if err := missing(seen, 2|4, claimInvoiceKeys); err != nil {
		return inv, err
	}
	inv.Key, _ = voucherwatch.CanonicalInvoice(inv.InvoiceCode, inv.InvoiceNo)
	return inv, invoiceNumber(inv.InvoiceCode, inv.InvoiceNo)
}

// contract.v1 members.
const (
	ctNo = 1 << iota
	ctName
	ctSupplier
	ctBuyer
	ctSigned
	ctServiceStart
	ctServiceEnd
	ctAmount
	ctItems
	ctDatacenter
	ctViaPlatform
	ctFiled
	ctDomains
	ctPurposes
)

var contractKeys = []string{"contract_no", "name", "supplier_uscc", "buyer_uscc", "signed_on",
	"service_start", "service_end", "amount", "items", "datacenter", "via_platform", "filed_on",
	"domains", "purposes"}

const contractRequired = ctNo | ctSupplier | ctBuyer | ctSigned | ctAmount

// contract decodes contract.v1. Whether a contract that needed filing (备案) was filed in time
// is policy (P3), judged by a detector, not bad input: such contracts are exactly what the
// engine must see.
func (d *Decoder) contract(s *scanner) (*voucherwatch.Contract, error) {
	c := new(voucherwatch.Contract)
	if err := s.enter(); err != nil {
		return nil, err
	}
	var seen uint32
	for first := true; ; first = false {
		key, ok, err := s.member(first)
		if err != nil {
			return nil, err
		}
		if !ok {
			break
		}
		var bit uint32
		switch key {
		case "contract_no":
			bit = ctNo
			c.ContractNo, err = s.nonEmpty()
		case "name":
			bit = ctName
			c.Name, err = s.str()
		case "supplier_uscc":
			bit = ctSupplier
			c.SupplierUSCC, err = s.uscc()
		case "buyer_uscc":
			bit = ctBuyer
			c.BuyerUSCC, err = s.uscc()
		case "signed_on":
			bit = ctSigned
			c.SignedOn, err = s.date()
		case "service_start":
			bit = ctServiceStart
			c.ServiceStart, err = s.date()
		case "service_end":
			bit = ctServiceEnd
			c.ServiceEnd, err = s.date()
		case "amount":
			bit = ctAmount
			c.Amount, err = s.money(false)
		case "items":
			bit = ctItems
			err = s.array(func(int) error {
				it, err := item(s, false)
				c.Items = append(c.Items, it)
				return err
			})
		case "datacenter":
			bit = ctDatacenter
			c.Datacenter, err = s.str()
		case "via_platform":
			bit = ctViaPlatform
			c.ViaPlatform, err = s.boolean()
		case "filed_on":
			bit = ctFiled
			c.FiledOn, err = s.date()
		case "domains":
			bit = ctDomains
			c.Domains, err = s.strList()
		case "purposes":
			bit = ctPurposes
			c.Purposes, err = s.strList()
		default:
			err = s.skip()
		}
		if err == nil && bit != 0 {
			err = once(&seen, bit)
		}
		if err != nil {
			return nil, at(key, err)
		}
	}
	if err := missing(seen, contractRequired, contractKeys); err != nil {
		return nil, err
	}
	if !c.ServiceStart.IsZero() && !c.ServiceEnd.IsZero() && c.ServiceEnd.Before(c.ServiceStart) {
		return nil, at("service_end", invalid("must not be before service_start"))
	}
	return c, nil
}

// settlement.v1 members.
const (
	stID = 1 << iota
	stContractNo
	stSupplier
	stBuyer
	stInvoiceCode
	stInvoiceNo
	stInvoiceDate
	stAmount
	stTax
	stPaymentRef
	stPaidOn
	stPayer
	stPayee
	stPeriodStart
	stPeriodEnd
	stItems
)

var settlementKeys = []string{"settlement_id", "contract_no", "supplier_uscc", "buyer_uscc",
	"invoice_code", "invoice_no", "invoice_date", "amount", "tax", "payment_ref", "paid_on",
	"payer_account", "payee_account", "period_start", "period_end", "items"}

const settlementRequired = stID | stContractNo | stSupplier | stBuyer | stInvoiceCode | stInvoiceNo | stInvoiceDate | stAmount

// settlement decodes settlement.v1. Its amounts may be negative: a red-letter invoice (红字发票)
// reverses an earlier one and carries negative amount and tax. Tax must then have the sign of
// the amount; unit prices and quantities are never negative.
func (d *Decoder) settlement(s *scanner) (*voucherwatch.Settlement, error) {
	st := new(voucherwatch.Settlement)
	if err := s.enter(); err != nil {
		return nil, err
	}
	var seen uint32
	for first := true; ; first = false {
		key, ok, err := s.member(first)
		if err != nil {
			return nil, err
		}
		if !ok {
			break
		}
		var bit uint32
		switch key {
		case "settlement_id":
			bit = stID
			st.SettlementID, err = s.nonEmpty()
		case "contract_no":
			bit = stContractNo
			st.ContractNo, err = s.nonEmpty()
		case "supplier_uscc":
			bit = stSupplier
			st.SupplierUSCC, err = s.uscc()
		case "buyer_uscc":
			bit = stBuyer
			st.BuyerUSCC, err = s.uscc()
		case "invoice_code":
			bit = stInvoiceCode
			st.InvoiceCode, err = s.str()
		case "invoice_no":
			bit = stInvoiceNo
			st.InvoiceNo, err = s.nonEmpty()
		case "invoice_date":
			bit = stInvoiceDate
			st.InvoiceDate, err = s.date()
		case "amount":
			bit = stAmount
			st.Amount, err = s.money(true)
		case "tax":
			bit = stTax
			st.Tax, err = s.money(true)
		case "payment_ref":
			bit = stPaymentRef
			st.PaymentRef, err = s.str()
		case "paid_on":
			bit = stPaidOn
			st.PaidOn, err = s.date()
		case "payer_account":
			bit = stPayer
			st.PayerAccount, err = s.str()
		case "payee_account":
			bit = stPayee
			st.PayeeAccount, err = s.str()
		case "period_start":
			bit = stPeriodStart
			st.PeriodStart, err = s.date()
		case "period_end":
			bit = stPeriodEnd
			st.PeriodEnd, err = s.date()
		case "items":
			bit = stItems
			err = s.array(func(int) error {
				it, err := item(s, true)
				st.Items = append(st.Items, it)
				return err
			})
		default:
			err = s.skip()
		}
		if err == nil && bit != 0 {
			err = once(&seen, bit)
		}
		if err != nil {
			return nil, at(key, err)
		}
	}
	if err := missing(seen, settlementRequired, settlementKeys); err != nil {
		return nil, err
	}
	if err := invoiceNumber(st.InvoiceCode, st.InvoiceNo); err != nil {
		return nil, err
	}
	st.InvoiceKey, _ = voucherwatch.CanonicalInvoice(st.InvoiceCode, st.InvoiceNo)
	if (st.Amount < 0 && st.Tax > 0) || (st.Amount > 0 && st.Tax < 0) {
		return nil, at("tax", invalid("must have the sign of amount (%s), got %s", st.Amount, st.Tax))
	}
	if !st.PeriodStart.IsZero() && !st.PeriodEnd.IsZero() && st.PeriodEnd.Before(st.PeriodStart) {
		return nil, at("period_end", invalid("must not be before period_start"))
	}
	return st, nil
}

var itemKeys = []string{"service_type", "chip_model", "chip_origin", "cards", "unit_price", "unit", "quantity", "amount"}

// item reads a contract or settlement line. Only a settlement's line amount may be negative
// (a credit note's lines).
func item(s *scanner, negativeAmount bool) (voucherwatch.Item, error) {
	var it voucherwatch.Item
	if c := s.peek(); c != '{' {
		return it, s.wrongType(c, "an object")
	}
	if err := s.enter(); err != nil {
		return it, err
	}
	var seen uint32
	for first := true; ; first = false {
		key, ok, err := s.member(first)
		if err != nil {
			return it, err
		}
		if !ok {
			break
		}
		var bit uint32
		switch key {
		case "service_type":
			bit = 1 << 0
			it.ServiceType, err = s.enum(voucherwatch.ServiceComputeResource, voucherwatch.ServiceComputeService,
				voucherwatch.ServiceModelService, voucherwatch.ServiceDomesticAdaptation,
				voucherwatch.ServiceBandwidth, voucherwatch.ServiceSecurity, voucherwatch.ServiceDatabase)
		case "chip_model":
			bit = 1 << 1
			it.ChipModel, err = s.str()
		case "chip_origin":
			bit = 1 << 2
			it.ChipOrigin, err = s.enum(voucherwatch.OriginDomestic, voucherwatch.OriginForeign)
		case "cards":
			bit = 1 << 3
			it.Cards, err = s.integer(0, maxCards)
		case "unit_price":
			bit = 1 << 4
			it.UnitPrice, err = s.money(false)
		case "unit":
			bit = 1 << 5
			it.Unit, err = s.enum(voucherwatch.UnitCardHour, voucherwatch.UnitCardMonth, voucherwatch.UnitTokenMillion)
		case "quantity":
			bit = 1 << 6
			it.Quantity, err = s.number(0, maxQuantity)
		case "amount":
			bit = 1 << 7
			it.Amount, err = s.money(negativeAmount)
		default:
			err = s.skip()
		}
		if err == nil && bit != 0 {
			err = once(&seen, bit)
		}
		if err != nil {
			return it, at(key, err)
		}
	}
	if err := missing(seen, 1<<0|1<<7, itemKeys); err != nil {
		return it, err
	}
	// A price without its unit cannot be compared with the market (M1d).
	if seen&(1<<4) != 0 && it.Unit == "" {
		return it, required("unit")
	}
	return it, nil
}

// registry.entity.v1 members.
const (
	enUSCC = 1 << iota
	enName
	enCity
	enRegAddress
	enOfficeAddress
	enRegisteredOn
	enSME
	enLegalRep
	enContacts
	enShareholders
	enOfficers
	enBankAccounts
	enCredit
	enSupplier
)

var entityKeys = []string{"uscc", "name", "city", "registered_address", "office_address",
	"registered_on", "is_sme", "legal_rep", "contacts", "shareholders", "officers",
	"bank_accounts", "credit", "supplier"}

const entityRequired = enUSCC | enName | enCity

// entity decodes registry.entity.v1. Holdings are taken as given: their shares need not sum
// to 100 %, since registries carry stale and overlapping holdings and detectors weigh each.
func (d *Decoder) entity(s *scanner) (*voucherwatch.Entity, error) {
	e := new(voucherwatch.Entity)
	if err := s.enter(); err != nil {
		return nil, err
	}
	var seen uint32
	for first := true; ; first = false {
		key, ok, err := s.member(first)
		if err != nil {
			return nil, err
		}
		if !ok {
			break
		}
		var bit uint32
		switch key {
		case "uscc":
			bit = enUSCC
			e.USCC, err = s.uscc()
		case "name":
			bit = enName
			e.Name, err = s.nonEmpty()
		case "city":
			bit = enCity
			e.City, err = s.city(false)
		case "registered_address":
			bit = enRegAddress
			e.RegisteredAddress, err = s.str()
		case "office_address":
			bit = enOfficeAddress
			e.OfficeAddress, err = s.str()
		case "registered_on":
			bit = enRegisteredOn
			e.RegisteredOn, err = s.date()
		case "is_sme":
			bit = enSME
			e.IsSME, err = s.boolean()
		case "legal_rep":
			bit = enLegalRep
			var p voucherwatch.Person
			if p, err = d.person(s); err == nil {
				e.LegalRep = &p
			}
		case "contacts":
			bit = enContacts
			err = s.array(func(int) error {
				p, err := d.person(s)
				e.Contacts = append(e.Contacts, p)
				return err
			})
		case "shareholders":
			bit = enShareholders
			err = s.array(func(int) error {
				h, err := d.holder(s)
				e.Shareholders = append(e.Shareholders, h)
				return err
			})
		case "officers":
			bit = enOfficers
			err = s.array(func(int) error {
				o, err := d.officer(s)
				e.Officers = append(e.Officers, o)
				return err
			})
		case "bank_accounts":
			bit = enBankAccounts
			err = s.array(func(int) error {
				a, err := bankAccount(s)
				e.BankAccounts = append(e.BankAccounts, a)
				return err
			})
		case "credit":
			bit = enCredit
			e.Credit, err = credit(s)
		case "supplier":
			bit = enSupplier
			e.Supplier, err = supplierProfile(s)
		default:
			err = s.skip()
		}
		if err == nil && bit != 0 {
			err = once(&seen, bit)
		}
		if err != nil {
			return nil, at(key, err)
		}
	}
	if err := missing(seen, entityRequired, entityKeys); err != nil {
		return nil, err
	}
	e.SetCanonicalKeys()
	return e, nil
}

var personKeys = []string{"name", "id_type", "id_number", "phone", "email"}

// person reads a natural person. The identity number is read, normalised, hashed and masked
// here, and goes no further: not into the record, not into an error (no error quotes it).
func (d *Decoder) person(s *scanner) (voucherwatch.Person, error) {
	var p voucherwatch.Person
	if c := s.peek(); c != '{' {
		return p, s.wrongType(c, "an object")
	}
	if err := s.enter(); err != nil {
		return p, err
	}
	var seen uint32
	var idNumber string
	for first := true; ; first = false {
		key, ok, err := s.member(first)
		if err != nil {
			return p, err
		}
		if !ok {
			break
		}
		var bit uint32
		switch key {
		case "name":
			bit = 1 << 0
			p.Name, err = s.nonEmpty()
		case "id_type":
			bit = 1 << 1
			// Not quoted back: a sender that swaps id_type and id_number would leak the number.
			if p.IDType, err = s.enum("id_card", "passport", "officer_card"); err != nil {
				if _, ok := err.(*voucherwatch.Error); ok {
					err = invalid("must be one of id_card, passport, officer_card")
				}
			}
		case "id_number":
			bit = 1 << 2
			if c := s.peek(); c != '"' {
				err = s.wrongType(c, "a string")
			} else {
				idNumber, err = s.readString(false)
			}
		case "phone":
			bit = 1 << 3
			p.Phone, err = s.str()
		case "email":
			bit = 1 << 4
			p.Email, err = s.str()
		default:
			err = s.skip()
		}
		if err == nil && bit != 0 {
			err = once(&seen, bit)
		}
		if err != nil {
			return p, at(key, err)
		}
	}
	if err := missing(seen, 1<<0, personKeys); err != nil {
		return p, err
	}
	if normalizeID(idNumber) == "" {
		return p, nil
	}
	if len(idNumber) > 64 {
		return p, at("id_number", invalid("must be at most 64 bytes long"))
	}
	// The type is part of the person's identity: the same digits on a passport and an identity
	// card are different people.
	if p.IDType == "" {
		return p, at("id_type", invalid("required with id_number"))
	}
	if len(d.PIIKey) == 0 {
		return p, voucherwatch.Errorf(voucherwatch.EINTERNAL, "ingest: no PII key configured to hash identity numbers")
	}
	p.Key = PersonKey(d.PIIKey, p.IDType, idNumber)
	p.Masked = voucherwatch.MaskIDNumber(idNumber)
	return p, nil
}

var holderKeys = []string{"kind", "uscc", "person", "name", "share_pct"}

// holder reads a shareholder. An enterprise holder may lack a USCC (foreign investors have
// none) but not carry a person, and a person holder not a USCC: the detectors follow
// investment ties by kind.
func (d *Decoder) holder(s *scanner) (voucherwatch.Holder, error) {
	var h voucherwatch.Holder
	if c := s.peek(); c != '{' {
		return h, s.wrongType(c, "an object")
	}
	if err := s.enter(); err != nil {
		return h, err
	}
	var seen uint32
	for first := true; ; first = false {
		key, ok, err := s.member(first)
		if err != nil {
			return h, err
		}
		if !ok {
			break
		}
		var bit uint32
		switch key {
		case "kind":
			bit = 1 << 0
			h.Kind, err = s.enum("enterprise", "person")
		case "uscc":
			bit = 1 << 1
			h.USCC, err = s.uscc()
		case "person":
			bit = 1 << 2
			var p voucherwatch.Person
			if p, err = d.person(s); err == nil {
				h.Person = &p
			}
		case "name":
			bit = 1 << 3
			h.Name, err = s.str()
		case "share_pct":
			bit = 1 << 4
			h.SharePct, err = s.number(0, 100)
		default:
			err = s.skip()
		}
		if err == nil && bit != 0 {
			err = once(&seen, bit)
		}
		if err != nil {
			return h, at(key, err)
		}
	}
	if err := missing(seen, 1<<0|1<<3|1<<4, holderKeys); err != nil {
		return h, err
	}
	if h.Kind == "enterprise" && h.Person != nil {
		return h, at("person", invalid("not allowed for an enterprise holder"))
	}
	if h.Kind == "person" && h.USCC != "" {
		return h, at("uscc", invalid("not allowed for a person holder"))
	}
	return h, nil
}

func (d *Decoder) officer(s *scanner) (voucherwatch.Officer, error) {
	var o voucherwatch.Officer
	if c := s.peek(); c != '{' {
		return o, s.wrongType(c, "an object")
	}
	if err := s.enter(); err != nil {
		return o, err
	}
	var seen uint32
	for first := true; ; first = false {
		key, ok, err := s.member(first)
		if err != nil {
			return o, err
		}
		if !ok {
			break
		}
		var bit uint32
		switch key {
		case "role":
			bit = 1 << 0
			o.Role, err = s.enum(voucherwatch.OfficerRoles...)
		case "person":
			bit = 1 << 1
			o.Person, err = d.person(s)
		default:
			err = s.skip()
		}
		if err == nil && bit != 0 {
			err = once(&seen, bit)
		}
		if err != nil {
			return o, at(key, err)
		}
	}
	return o, missing(seen, 1<<0|1<<1, []string{"role", "person"})
}

func bankAccount(s *scanner) (voucherwatch.BankAccount, error) {
	var a voucherwatch.BankAccount
	if c := s.peek(); c != '{' {
		return a, s.wrongType(c, "an object")
	}
	if err := s.enter(); err != nil {
		return a, err
	}
	var seen uint32
	for first := true; ; first = false {
		key, ok, err := s.member(first)
		if err != nil {
			return a, err
		}
		if !ok {
			break
		}
		var bit uint32
		switch key {
		case "bank":
			bit = 1 << 0
			a.Bank, err = s.str()
		case "account_no":
			bit = 1 << 1
			a.AccountNo, err = s.nonEmpty()
		default:
			err = s.skip()
		}
		if err == nil && bit != 0 {
			err = once(&seen, bit)
		}
		if err != nil {
			return a, at(key, err)
		}
	}
	return a, missing(seen, 1<<1, []string{"bank", "account_no"})
}

func credit(s *scanner) (voucherwatch.Credit, error) {
	var c voucherwatch.Credit
	if k := s.peek(); k != '{' {
		return c, s.wrongType(k, "an object")
	}
	if err := s.enter(); err != nil {
		return c, err
	}
	var seen uint32
	for first := true; ; first = false {
		key, ok, err := s.member(first)
		if err != nil {
			return c, err
		}
		if !ok {
			return c, nil
		}
		var bit uint32
		switch key {
		case "seriously_dishonest":
			bit = 1 << 0
			c.SeriouslyDishonest, err = s.boolean()
		case "major_violation_within_3y":
			bit = 1 << 1
			c.MajorViolationWithin3Y, err = s.boolean()
		default:
			err = s.skip()
		}
		if err == nil && bit != 0 {
			err = once(&seen, bit)
		}
		if err != nil {
			return c, at(key, err)
		}
	}
}

var supplierKeys = []string{"registered", "registered_on", "idc_license", "capacity"}

func supplierProfile(s *scanner) (*voucherwatch.SupplierProfile, error) {
	p := new(voucherwatch.SupplierProfile)
	if c := s.peek(); c != '{' {
		return nil, s.wrongType(c, "an object")
	}
	if err := s.enter(); err != nil {
		return nil, err
	}
	var seen uint32
	for first := true; ; first = false {
		key, ok, err := s.member(first)
		if err != nil {
			return nil, err
		}
		if !ok {
			break
		}
		var bit uint32
		switch key {
		case "registered":
			bit = 1 << 0
			p.Registered, err = s.boolean()
		case "registered_on":
			bit = 1 << 1
			p.RegisteredOn, err = s.date()
		case "idc_license":
			bit = 1 << 2
			p.IDCLicense, err = s.boolean()
		case "capacity":
			bit = 1 << 3
			err = s.array(func(int) error {
				c, err := capacity(s)
				p.Capacity = append(p.Capacity, c)
				return err
			})
		default:
			err = s.skip()
		}
		if err == nil && bit != 0 {
			err = once(&seen, bit)
		}
		if err != nil {
			return nil, at(key, err)
		}
	}
	if err := missing(seen, 1<<0, supplierKeys); err != nil {
		return nil, err
	}
	return p, nil
}

var capacityKeys = []string{"chip_model", "chip_origin", "cards", "datacenter"}

func capacity(s *scanner) (voucherwatch.Capacity, error) {
	var c voucherwatch.Capacity
	if k := s.peek(); k != '{' {
		return c, s.wrongType(k, "an object")
	}
	if err := s.enter(); err != nil {
		return c, err
	}
	var seen uint32
	for first := true; ; first = false {
		key, ok, err := s.member(first)
		if err != nil {
			return c, err
		}
		if !ok {
			break
		}
		var bit uint32
		switch key {
		case "chip_model":
			bit = 1 << 0
			c.ChipModel, err = s.str()
		case "chip_origin":
			bit = 1 << 1
			c.ChipOrigin, err = s.enum(voucherwatch.OriginDomestic, voucherwatch.OriginForeign)
		case "cards":
			bit = 1 << 2
			c.Cards, err = s.integer(0, maxCards)
		case "datacenter":
			bit = 1 << 3
			c.Datacenter, err = s.str()
		default:
			err = s.skip()
		}
		if err == nil && bit != 0 {
			err = once(&seen, bit)
		}
		if err != nil {
			return c, at(key, err)
		}
	}
	return c, missing(seen, 1<<0|1<<2, capacityKeys)
}
