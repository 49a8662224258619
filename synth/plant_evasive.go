package synth

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
)

// plantEvasive plants the cases of a province whose cheats try to hide (Config.Evasive), one
// family of issue 16 after the other, each with the look-alikes that resemble its hiding:
//
//   - the same identifier written another valid way: an invoice cited joined, split, without
//     its leading zeros or with an 11-digit code; a phone with +86 and separators; an e-mail in
//     other case or with the dots a provider ignores; a bank account in groups; a legacy
//     15-digit identity card; a holder named in traditional or full-width characters;
//   - the same act done through a company under the same control: a sister's invoice, contract
//     or settlement in the applicant's claim, a sister reselling what the applicant bought;
//   - thin markets: a new chip with a few contracts, one of them far off its price;
//   - copies across time: an invoice of an earlier round's claim cited again.
//
// Each form is drawn at random among those that apply, so that no detector can be tuned to one.
func (w *world) plantEvasive() {
	w.evadeInvoiceForms()
	w.evadeThroughSister()
	w.evadeTies()
	w.evadeThinMarket()
}

// reformInvoice writes an invoice citation in another form the wire contract accepts (digits
// only; no code only for 20 digits), drawn among those that apply; the original when none does.
func reformInvoice(r *rand.Rand, code, no string) (string, string) {
	var forms [][2]string
	switch {
	case code == "" && len(no) == 20:
		forms = append(forms, [2]string{no[:12], no[12:]}, [2]string{no, no}) // split 12+8; repeated in the code field
	case len(code) == 12 && len(no) == 8:
		forms = append(forms, [2]string{"", code + no}) // joined in the number field
		if t := strings.TrimLeft(no, "0"); t != no && t != "" {
			forms = append(forms, [2]string{code, t}) // leading zeros lost
		}
		if code[0] == '0' {
			forms = append(forms, [2]string{code[1:], no}) // the code's leading 0 lost
		}
	}
	if len(forms) == 0 {
		return code, no
	}
	f := forms[r.IntN(len(forms))]
	return f[0], f[1]
}

// reformed is inv cited in another form.
func reformed(r *rand.Rand, inv wClaimInvoice) wClaimInvoice {
	inv.InvoiceCode, inv.InvoiceNo = reformInvoice(r, inv.InvoiceCode, inv.InvoiceNo)
	return inv
}

func (w *world) evadeInvoiceForms() {
	r := w.pr
	// A supplementary claim cites an invoice of the applicant's first claim in another form; half
	// the time the first claim says it belongs to the previous round.
	for i := 0; i < 3; i++ {
		b := w.freshBuyer()
		d1, d2 := w.honest(b, w.plantSupplier(), 4), w.honest(b, w.plantSupplier(), 4)
		c1 := w.plantClaim(b, d1)
		c2 := w.draftClaim(r, b, []*deal{d2}, c1.submitted, false)
		w.resubmit(c2, c1, 8+r.IntN(12))
		w.claims = append(w.claims, c2)
		dup := c1.invoices[r.IntN(len(c1.invoices))]
		form := reformed(r, dup)
		c2.invoices = append(c2.invoices, form)
		c2.contracts = append(c2.contracts, d1.no)
		c2.recount()
		c2.request(1)
		note := "an invoice of the first claim cited again in another form"
		if r.IntN(2) == 0 {
			c1.round = c2.round - 1
			note += ", the first claim in the previous round"
		}
		w.addCase(Case{Detector: DetDuplicate, Kind: "invoice_in_two_claims", Clause: "M1b", Severity: "high",
			Subjects: subjects(d1, "claim_id", c2.id, "invoice_no", dup.InvoiceNo),
			Context: kv("other_claim_id", c1.id, "other_contract_no", d2.no, "other_supplier_uscc", d2.supplier.uscc(),
				"invoice_code", dup.InvoiceCode, "cited_code", form.InvoiceCode, "cited_no", form.InvoiceNo),
			Note: note})
	}
	// Another applicant cites someone's invoice in another form.
	for i := 0; i < 2; i++ {
		a, b := w.freshBuyer(), w.freshBuyer()
		da, db := w.honest(a, w.plantSupplier(), 4), w.honest(b, w.plantSupplier(), 4)
		ca, cb := w.plantClaim(a, da), w.plantClaim(b, db)
		dup := ca.invoices[r.IntN(len(ca.invoices))]
		form := reformed(r, dup)
		cb.invoices = append(cb.invoices, form)
		cb.recount()
		cb.request(1)
		w.addCase(Case{Detector: DetDuplicate, Kind: "invoice_in_two_claims", Clause: "M1b", Severity: "high",
			Subjects: subjects(da, "applicant_uscc", b.uscc(), "claim_id", cb.id, "invoice_no", dup.InvoiceNo),
			Context: kv("other_claim_id", ca.id, "other_applicant_uscc", a.uscc(), "other_contract_no", db.no,
				"other_supplier_uscc", db.supplier.uscc(), "invoice_code", dup.InvoiceCode, "other_invoice_no", form.InvoiceNo),
			Note: "another enterprise's invoice cited in another form"})
	}
	// The same claim filed again, every invoice in another form, the copy in the next round.
	{
		b := w.freshBuyer()
		d := w.honest(b, w.plantSupplier(), 4)
		c1 := w.plantClaim(b, d)
		c2 := *c1
		c2.invoices = nil
		for _, inv := range c1.invoices {
			c2.invoices = append(c2.invoices, reformed(r, inv))
		}
		c2.contracts = append([]string(nil), c1.contracts...)
		c2.round = c1.round + 1
		c2.id = fmt.Sprintf("SB%d-%05d", c2.round, 100+w.next("claim"))
		w.resubmit(&c2, c1, 5+r.IntN(10))
		w.claims = append(w.claims, &c2)
		w.addCase(Case{Detector: DetDuplicate, Kind: "claim_resubmitted", Clause: "M1b", Severity: "high",
			Subjects: subjects(d, "claim_id", c2.id), Context: kv("other_claim_id", c1.id),
			Note: "the same claim filed again under a new claim_id and round, its invoices in other forms"})
	}
	// Look-alike: two buyers of one paper-era supplier hold consecutive invoices, and one cites
	// its own in another form.
	var old []*entity
	for _, s := range w.suppliers[1:] {
		if s.oldInvoice {
			old = append(old, s)
		}
	}
	for i := 0; i < 2 && len(old) > 0; i++ {
		s := old[(i+1)%len(old)]
		a, b := w.freshBuyer(), w.freshBuyer()
		da, db := w.honest(a, s, 4), w.honest(b, s, 4)
		if da.supplier != s || db.supplier != s {
			continue
		}
		ia, ib := mainInvoices(da)[0], mainInvoices(db)[0]
		if ia.w.InvoiceCode != ib.w.InvoiceCode || len(ia.w.InvoiceNo) != 8 {
			continue
		}
		var n int
		fmt.Sscan(ia.w.InvoiceNo, &n)
		next := fixedDigits(uint64(n+1), 8)
		if w.taken["inv:"+ia.w.InvoiceCode+next] {
			continue
		}
		w.taken["inv:"+ia.w.InvoiceCode+next] = true
		ib.w.InvoiceNo = next
		ca := w.plantClaim(a, da)
		cb := w.plantClaim(b, db)
		for k := range cb.invoices {
			if cb.invoices[k].InvoiceNo == next {
				cb.invoices[k] = reformed(r, cb.invoices[k])
			}
		}
		w.addCase(Case{Detector: DetDuplicate, Kind: "consecutive_invoice_numbers", Clause: "M1b", LookAlike: true,
			Subjects: kv("applicant_uscc", b.uscc(), "supplier_uscc", s.uscc(), "claim_id", cb.id, "invoice_no", next),
			Context: kv("invoice_code", ia.w.InvoiceCode, "other_invoice_no", ia.w.InvoiceNo, "other_claim_id", ca.id,
				"other_applicant_uscc", a.uscc()),
			Note: "consecutive invoice numbers under one code, one cited in another form: two invoices"})
	}
}

// controlGroup creates a holding company controlling two fresh buyers: the applicant and its
// sister.
func (w *world) controlGroup() (g, applicant, sister *entity) {
	r := w.pr
	g = w.shell("控股集团有限公司", "投资控股有限公司", "实业集团有限公司")
	applicant, sister = w.freshBuyer(), w.freshBuyer()
	setStake(applicant, g, float64(51+r.IntN(35)))
	setStake(sister, g, float64(51+r.IntN(35)))
	return g, applicant, sister
}

func (w *world) evadeThroughSister() {
	r := w.pr
	// The sister's invoice in the applicant's claim (the sister does not claim it).
	{
		g, a, s := w.controlGroup()
		ds, da := w.honest(s, w.plantSupplier(), 4), w.honest(a, w.plantSupplier(), 4)
		ca := w.plantClaim(a, da)
		inv := mainInvoices(ds)[r.IntN(len(mainInvoices(ds)))]
		cite := wClaimInvoice{InvoiceCode: inv.w.InvoiceCode, InvoiceNo: inv.w.InvoiceNo, Amount: inv.w.Amount}
		if r.IntN(2) == 0 {
			cite = reformed(r, cite)
		}
		ca.invoices = append(ca.invoices, cite)
		if r.IntN(2) == 0 {
			ca.contracts = append(ca.contracts, ds.no)
		}
		ca.recount()
		ca.request(1)
		w.addCase(Case{Detector: DetDuplicate, Kind: "invoice_of_another_buyer", Clause: "M1b", Severity: "high",
			Subjects: subjects(ds, "applicant_uscc", a.uscc(), "claim_id", ca.id, "invoice_no", inv.w.InvoiceNo),
			Context:  kv("buyer", s.uscc(), "controller", g.uscc(), "invoice_code", inv.w.InvoiceCode),
			Note:     "the applicant claims an invoice its sister company (same controller) bought"})
		w.addCase(Case{Detector: RuleInvoiceMismatch, Kind: "invoice_of_another_buyer", Clause: "P4", Severity: "high",
			Subjects: kv("applicant_uscc", a.uscc(), "claim_id", ca.id, "invoice_no", inv.w.InvoiceNo),
			Note:     "companion: the cited invoice was issued to another buyer"})
	}
	// A settlement made out to the applicant under its sister's contract.
	{
		g, a, s := w.controlGroup()
		ds, da := w.honest(s, w.plantSupplier(), 5), w.honest(a, w.plantSupplier(), 4)
		ca := w.plantClaim(a, da)
		mi := mainInvoices(ds)
		inv := mi[len(mi)-1]
		inv.w.BuyerUSCC = a.uscc()
		inv.w.PayerAccount = a.account()
		ca.invoices = append(ca.invoices, wClaimInvoice{InvoiceCode: inv.w.InvoiceCode, InvoiceNo: inv.w.InvoiceNo, Amount: inv.w.Amount})
		ca.recount()
		ca.request(1)
		w.addCase(Case{Detector: DetDuplicate, Kind: "settlement_not_to_contract_buyer", Clause: "M1b", Severity: "high",
			Subjects: subjects(ds, "applicant_uscc", a.uscc(), "claim_id", ca.id, "invoice_no", inv.w.InvoiceNo),
			Context:  kv("contract_buyer", s.uscc(), "controller", g.uscc(), "invoice_code", inv.w.InvoiceCode),
			Note:     "an invoice made out to the applicant under the contract of its sister company"})
	}
	// The sister's contract in the applicant's claim, without its invoices.
	{
		g, a, s := w.controlGroup()
		ds, da := w.honest(s, w.plantSupplier(), 4), w.honest(a, w.plantSupplier(), 4)
		ca := w.plantClaim(a, da)
		ca.contracts = append(ca.contracts, ds.no)
		w.addCase(Case{Detector: DetDuplicate, Kind: "contract_of_another_buyer", Clause: "M1b", Severity: "high",
			Subjects: subjects(ds, "applicant_uscc", a.uscc(), "claim_id", ca.id),
			Context:  kv("buyer", s.uscc(), "controller", g.uscc()),
			Note:     "the applicant cites the contract of its sister company"})
	}
	// Look-alike: sister companies buy from one supplier and each claims its own.
	{
		_, a, s := w.controlGroup()
		sup := w.plantSupplier()
		da, ds := w.honest(a, sup, 4), w.honest(s, sup, 4)
		ca := w.plantClaim(a, da)
		w.plantClaim(s, ds)
		w.addCase(Case{Detector: DetDuplicate, Kind: "sister_companies_own_claims", Clause: "M1b", LookAlike: true,
			Subjects: subjects(da, "claim_id", ca.id), Context: kv("sister", s.uscc()),
			Note: "two companies of one group each claim their own purchases from one supplier"})
	}

	// Resale by the sister of what the applicant bought.
	for i := 0; i < 2; i++ {
		g, a, s := w.controlGroup()
		var customers []*entity
		for k := 0; k < 2; k++ {
			customers = append(customers, w.freshBuyer())
		}
		d := w.plantDeal(a, w.plantSupplier(), 6, 64)
		d.unit = "card_hour"
		d.price = marketPrice(r, *d.chip, d.unit, d.cards)
		withLogins := i == 0
		d.loginOrgs = []string{a.uscc()}
		if withLogins {
			for _, c := range customers {
				d.loginOrgs = append(d.loginOrgs, c.uscc())
			}
		}
		w.realise(r, d)
		cs := w.plantClaim(a, d)
		var sales []string
		for k, c := range customers {
			sd := &deal{buyer: c, supplier: s, chip: d.chip, service: "compute_resource", billFactor: 1,
				separateNonSubs: true, noUsage: true, dc: d.dc, plan: d.plan, unit: "card_hour"}
			sd.cards = max(8, d.cards/len(customers)/8*8)
			sd.signed = d.signed.AddDate(0, 0, 2+3*k)
			sd.start = d.start.AddDate(0, 0, 1+k)
			sd.end = d.end
			sd.filed = &sd.signed
			sd.price = yuan(math.Min(d.chip.High, d.price.yuan()*(1.06+r.Float64()*0.08)))
			days := int(sd.end.Sub(sd.start).Hours()/24) + 1
			sd.metered = make([]float64, days)
			off := int(sd.start.Sub(d.start).Hours() / 24)
			for j := range sd.metered {
				sd.metered[j] = d.metered[off+j] / float64(len(customers)) * 0.9
			}
			w.realise(r, sd)
			sales = append(sales, sd.no)
			w.addCase(Case{Detector: RuleUnregistered, Kind: "bought_from_reseller", Clause: "M1a", Severity: "medium",
				Subjects: subjects(sd), Note: "companion of a resale case: the seller is a buyer, not a registered supplier"})
		}
		kind, sev := "resale_to_other_orgs", "high"
		if !withLogins {
			kind, sev = "resale_same_kind", "medium"
		}
		w.addCase(Case{Detector: DetResale, Kind: kind, Clause: "M1c", Severity: sev,
			Subjects: subjects(d, "claim_id", cs.id),
			Context:  kv("seller", s.uscc(), "controller", g.uscc(), "other_contract_no", strings.Join(sales, ",")),
			Note:     "a company under the applicant's control group sells on the chip the applicant bought"})
	}
	// Look-alike: the sister logs in on the applicant's compute and sells nothing.
	{
		_, a, s := w.controlGroup()
		d := w.plantDeal(a, w.plantSupplier(), 5, 32)
		d.loginOrgs = []string{a.uscc(), s.uscc()}
		w.realise(r, d)
		cs := w.plantClaim(a, d)
		w.addCase(Case{Detector: DetResale, Kind: "group_company_logins", Clause: "M1c", LookAlike: true,
			Subjects: subjects(d, "claim_id", cs.id), Context: kv("sister", s.uscc()),
			Note: "a company of the applicant's group uses the compute: its own use"})
	}
}

// Phone, e-mail and account forms.

func reformPhone(r *rand.Rand, mobile string) string {
	if len(mobile) != 11 {
		return mobile
	}
	a, b, c := mobile[:3], mobile[3:7], mobile[7:]
	return pick(r, []string{
		"+86 " + a + " " + b + " " + c,
		"0086-" + a + "-" + b + "-" + c,
		"+86" + mobile,
		a + "-" + b + "-" + c,
		"(+86) " + a + b + c,
		"８６" + strings.Map(func(x rune) rune { return x - '0' + '０' }, mobile), // full width
	})
}

func reformEmail(r *rand.Rand, email string) string {
	local, domain, _ := strings.Cut(email, "@")
	return pick(r, []string{
		strings.ToUpper(local) + "@" + strings.ToUpper(domain),
		" " + local + "@" + strings.ToUpper(domain[:1]) + domain[1:] + " ",
		strings.ToUpper(email[:1]) + email[1:],
	})
}

func reformAccount(r *rand.Rand, no string) string {
	sep := pick(r, []string{" ", "-", " "})
	var groups []string
	for i := 0; i < len(no); i += 4 {
		groups = append(groups, no[i:min(i+4, len(no))])
	}
	return strings.Join(groups, sep)
}

// legacyID is the 15-digit form of an 18-digit identity number of someone born in the 1900s.
func legacyID(id string) (string, bool) {
	if len(id) != 18 || id[6:8] != "19" {
		return "", false
	}
	return id[:6] + id[8:17], true
}

// traditionalName writes a name in traditional characters where it has them, and its brackets
// full width: the registry of one side may keep a name as a Hong Kong or Taiwan filing wrote it.
func traditionalName(s string) string {
	return strings.Map(func(r rune) rune {
		if t, ok := hansToHant[r]; ok {
			return t
		}
		switch r {
		case '(':
			return '（'
		case ')':
			return '）'
		}
		return r
	}, s)
}

// hansToHant are the simplified characters of enterprise names with their traditional forms
// (one-to-one here, so the reverse is voucherwatch.CanonicalName's).
var hansToHant = map[rune]rune{
	'长': '長', '发': '發', '华': '華', '电': '電', '网': '網', '络': '絡', '数': '數', '据': '據', '云': '雲',
	'计': '計', '软': '軟', '设': '設', '产': '產', '业': '業', '实': '實', '团': '團', '资': '資', '术': '術',
	'务': '務', '东': '東', '广': '廣', '阳': '陽', '张': '張', '娄': '婁', '怀': '懷', '汇': '匯', '达': '達',
	'创': '創', '兴': '興', '辉': '輝', '联': '聯', '运': '運', '营': '營', '贸': '貿', '进': '進', '链': '鏈',
	'机': '機', '学': '學', '医': '醫', '疗': '療', '药': '藥', '车': '車', '湾': '灣', '区': '區', '县': '縣',
	'农': '農', '银': '銀', '证': '證', '传': '傳', '视': '視', '乐': '樂',
	'厂': '廠', '钢': '鋼', '铁': '鐵', '矿': '礦', '开': '開', '总': '總', '经': '經', '济': '濟',
}

func (w *world) evadeTies() {
	r := w.pr
	pair := func() (*entity, *entity, *deal, *claimSpec) {
		b, s := w.freshBuyer(), w.tieSupplier()
		d := w.honest(b, s, 4)
		s = d.supplier
		return b, s, d, w.plantClaim(b, d)
	}
	related := func(kind, sev string, d *deal, cs *claimSpec, ctx map[string]string, note string) {
		w.addCase(Case{Detector: DetRelated, Kind: kind, Clause: "D4", Severity: sev,
			Subjects: subjects(d, "claim_id", cs.id), Context: ctx, Note: note})
	}
	notRelated := func(kind string, d *deal, ctx map[string]string, note string) {
		w.addCase(Case{Detector: DetRelated, Kind: kind, Clause: "D4", LookAlike: true, Subjects: subjects(d), Context: ctx, Note: note})
	}
	{
		b, s, d, cs := pair()
		phone := reformPhone(r, s.w.Contacts[0].Phone)
		b.w.Contacts[0].Phone = phone
		related("shared_phone", "medium", d, cs, kv("phone", s.w.Contacts[0].Phone, "written", phone),
			"the buyer's contact has the supplier's contact's phone, written another way")
	}
	{
		b, s, d, cs := pair()
		email := reformEmail(r, s.w.Contacts[0].Email)
		b.w.LegalRep.Email = email
		b.w.Officers[0].Person.Email = email
		related("shared_email", "medium", d, cs, kv("email", s.w.Contacts[0].Email, "written", email),
			"the buyer's legal representative uses the supplier's contact's e-mail, in other case")
	}
	{
		b, s, d, cs := pair()
		acct := s.w.BankAccounts[0]
		acct.AccountNo = reformAccount(r, acct.AccountNo)
		b.w.BankAccounts = append(b.w.BankAccounts, acct)
		related("shared_bank_account", "high", d, cs, kv("account_no", s.account(), "written", acct.AccountNo),
			"the buyer lists the supplier's account as its own, in groups of digits")
	}
	for tries := 0; tries < 20; tries++ {
		p := w.person(r, "")
		legacy, ok := legacyID(p.IDNumber)
		if p.IDType != "id_card" || !ok {
			continue
		}
		b, s, d, cs := pair()
		setOfficer(b, "director", p)
		q := p
		q.IDNumber = legacy
		setOfficer(s, pick(r, []string{"supervisor", "manager"}), q)
		related("same_person", "high", d, cs, kv("person", p.Name, "id_number", p.IDNumber),
			"one person an officer on both sides, registered by the supplier with the legacy 15-digit card")
		break
	}
	{
		b, s, d, cs := pair()
		setStake(b, s, float64(5+r.IntN(20)))
		for k := range b.w.Shareholders {
			if h := &b.w.Shareholders[k]; h.USCC == s.uscc() {
				h.USCC, h.Name = "", traditionalName(s.w.Name)
			}
		}
		related("direct_stake", "high", d, cs, kv("holder", s.uscc()),
			"the supplier holds part of the buyer, named without its USCC in traditional characters")
	}

	// Look-alikes.
	{
		b, s, d, _ := pair()
		p1 := w.person(r, "")
		if p1.IDType == "id_card" && len(p1.IDNumber) == 18 {
			p2 := w.person(r, "")
			p2.Name, p2.IDType = p1.Name, "id_card"
			for seq := 0; seq < 10; seq++ {
				body := p1.IDNumber[:14] + fmt.Sprintf("%03d", (int(p1.IDNumber[14]-'0')*100+int(p1.IDNumber[15]-'0')*10+int(p1.IDNumber[16]-'0')+2+2*seq)%1000)
				id := body + string(IDCardCheck(body))
				if !w.taken[id] {
					w.taken[id] = true
					p2.IDNumber = id
					break
				}
			}
			setOfficer(b, "director", p1)
			setOfficer(s, "supervisor", p2)
			notRelated("same_name_same_birth_date", d, kv("name", p1.Name),
				"two people of one name born on one day: their identity numbers differ in the sequence digits")
		}
	}
	{
		b, s, d, _ := pair()
		no := s.w.BankAccounts[0].AccountNo
		if len(no) > 6 {
			other := w.unique(func() string { return no[:len(no)-4] + digits(r, 4) })
			b.w.BankAccounts = append(b.w.BankAccounts, wAccount{Bank: s.w.BankAccounts[0].Bank, AccountNo: other})
			notRelated("same_bank_branch", d, kv("account_no", other), "an account at the supplier's branch, all but the last digits alike")
		}
	}
	{
		b, s, d, _ := pair()
		cty := s.city
		dist := pick(r, cty.districts)
		base := w.unique(func() string {
			return fmt.Sprintf("%s%s%s%d号%s%d栋", cty.name, dist.name, pick(r, cty.roads), 1+r.IntN(899), pick(r, buildings), 1+r.IntN(12))
		})
		s.w.OfficeAddress = base + "12层"
		b.w.OfficeAddress = base + "15层"
		notRelated("same_building_other_floor", d, kv("building", base), "offices in one building, on other floors")
	}
	{
		b, s, d, _ := pair()
		f := pick(r, w.funds)
		setStake(b, f, float64(2+r.IntN(6)))
		setStake(s, f, float64(2+r.IntN(6)))
		notRelated("state_fund_small_stakes_both", d, kv("fund", f.uscc()), "a fund holds small stakes in both buyer and supplier")
	}
}

// evasiveChips are new chips the ordinary market does not trade: few contracts each.
var evasiveChips = []Chip{
	{"Ascend 910C", "domestic", 16, 20, 0},
	{"H200", "foreign", 28, 34, 0},
	{"MLU690", "domestic", 9, 11, 0},
	{"B200", "foreign", 40, 48, 0},
}

func (w *world) evadeThinMarket() {
	r := w.pr
	chips := append([]Chip(nil), evasiveChips...)
	r.Shuffle(len(chips), func(i, j int) { chips[i], chips[j] = chips[j], chips[i] })
	for i, ch := range chips[:3] {
		sup := w.plantSupplier()
		cl := &capLine{chip: ch, cards: 512, dc: sup.caps[0].dc, used: make([]int32, w.days)}
		sup.caps = append(sup.caps, cl)
		sup.w.Supplier.Capacity = append(sup.w.Supplier.Capacity, wCapacity{ChipModel: ch.Model, ChipOrigin: ch.Origin, Cards: cl.cards, Datacenter: cl.dc})
		deal := func(b *entity, months int) *deal {
			d := w.plantDeal(b, sup, months, 8)
			d.supplier, d.cap, d.chip = sup, cl, &cl.chip
			d.unit = pick(r, []string{"card_hour", "card_hour", "card_month"})
			d.price = marketPrice(r, ch, d.unit, d.cards)
			return d
		}
		// A few honest contracts at the chip's price, however far it is from other chips'.
		for k := 0; k < 3; k++ {
			b := w.freshBuyer()
			d := deal(b, 4)
			w.realise(r, d)
			w.plantClaim(b, d)
			w.addCase(Case{Detector: DetPrice, Kind: "new_chip_market_price", Clause: "M1d", LookAlike: true,
				Subjects: subjects(d), Context: kv("chip_model", ch.Model, "unit_price", d.price.String()),
				Note: fmt.Sprintf("a new %s at its own market price, few contracts of it", ch.Model)})
		}
		if i == 2 {
			continue // a new chip with honest contracts only
		}
		b := w.freshBuyer()
		d := deal(b, 4)
		f := pick(r, []float64{3, 3.5, 0.3, 0.28})
		d.unit = "card_hour"
		d.price = yuan(ch.Mid() * f)
		w.realise(r, d)
		cs := w.plantClaim(b, d)
		kind := "unit_price_far_above"
		if f < 1 {
			kind = "unit_price_far_below"
		}
		w.addCase(Case{Detector: DetPrice, Kind: kind, Clause: "M1d", Severity: "high",
			Subjects: subjects(d, "claim_id", cs.id),
			Context:  kv("chip_model", ch.Model, "unit_price", d.price.String(), "market_card_hour", fmt.Sprintf("%.2f-%.2f", ch.Low, ch.High)),
			Note:     fmt.Sprintf("%.2f× the price of a %s, a chip of few contracts", f, ch.Model)})
	}
	// A bulk annual discount: a large buyer rents many cards for a year at a fifth off.
	{
		b := w.freshBuyer()
		b.large, b.w.IsSME = true, false
		d := w.plantDeal(b, w.suppliers[0], 12, 128)
		d.unit = "card_month"
		d.price = yuan(d.chip.Mid() * HoursPerCardMonth * (1 - CardMonthDiscount) * 0.78)
		w.realise(r, d)
		w.plantClaim(b, d)
		w.addCase(Case{Detector: DetPrice, Kind: "bulk_annual_discount", Clause: "M1d", LookAlike: true,
			Subjects: subjects(d), Context: kv("chip_model", d.chip.Model, "unit_price", d.price.String(), "cards", "128"),
			Note: "a year of 128 cards by the month at 22 % below the monthly rate"})
	}
}
