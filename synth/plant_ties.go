package synth

import "fmt"

// shell creates an intermediate enterprise (a holding or investment vehicle) owned by people.
func (w *world) shell(suffixes ...string) *entity {
	r := w.pr
	c := w.pickCity(r)
	name, b := w.firmName(r, c, "", suffixes)
	e := w.newEntity(r, kindShell, c, name, b.py)
	w.founders(r, e, 2)
	return e
}

func setOfficer(e *entity, role string, p wPerson) {
	e.w.Officers = append(e.w.Officers, wOfficer{Role: role, Person: p})
}

// plantTies plants D4/S4 related parties between a buyer and its supplier, and ties that are
// not ties.
func (w *world) plantTies() {
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
		setStake(b, s, 15)
		related("direct_stake", "high", d, cs, kv("holder", s.uscc(), "share_pct", "15"), "the supplier holds 15 % of the buyer")
	}
	{
		b, s, d, cs := pair()
		setStake(s, b, 2.5)
		related("direct_stake", "high", d, cs, kv("holder", b.uscc(), "share_pct", "2.5"), "the buyer holds 2.5 % of the supplier: any direct stake is a tie")
	}
	for i := 0; i < 2; i++ {
		b, s, d, cs := pair()
		g := w.shell("控股集团有限公司", "投资控股集团有限公司")
		h2 := w.shell("投资有限公司", "企业管理有限公司")
		setStake(h2, g, float64(55+r.IntN(30)))
		setStake(s, h2, float64(51+r.IntN(20)))
		ctx := kv("controller", g.uscc(), "supplier_chain", g.uscc()+">"+h2.uscc()+">"+s.uscc())
		if i == 0 {
			h1 := w.shell("科技发展有限公司", "投资有限公司")
			setStake(h1, g, float64(60+r.IntN(30)))
			setStake(b, h1, float64(51+r.IntN(30)))
			ctx["buyer_chain"] = g.uscc() + ">" + h1.uscc() + ">" + b.uscc()
		} else {
			setStake(b, g, float64(52+r.IntN(30)))
			ctx["buyer_chain"] = g.uscc() + ">" + b.uscc()
		}
		related("common_controller", "high", d, cs, ctx, "one group controls both through chains of majority stakes")
	}
	{
		b, s, d, cs := pair()
		x := w.shell("投资有限公司", "实业有限公司")
		setStake(x, s, 45)
		setStake(b, x, 60)
		related("indirect_ownership_over_20pct", "medium", d, cs, kv("via", x.uscc(), "integrated_pct", "27"),
			"the supplier holds 45 % of a firm that holds 60 % of the buyer: 27 % integrated")
	}
	for i := 0; i < 2; i++ {
		b, s, d, cs := pair()
		p := w.person(r, "")
		if i == 0 {
			setOfficer(b, "director", p)
			setOfficer(s, "supervisor", p)
		} else {
			b.w.LegalRep = &p
			b.w.Officers[0] = wOfficer{Role: "legal_rep", Person: p}
			setOfficer(s, "manager", p)
		}
		related("same_person", "high", d, cs, kv("person", p.Name, "id_number", p.IDNumber),
			"one person (one id number) is an officer on both sides")
	}
	{
		b, s, d, cs := pair()
		b.w.BankAccounts = append(b.w.BankAccounts, s.w.BankAccounts[0])
		related("shared_bank_account", "high", d, cs, kv("account_no", s.account()), "the buyer lists the supplier's account as its own")
	}
	{
		b, s, d, cs := pair()
		b.w.Contacts[0].Phone = s.w.Contacts[0].Phone
		related("shared_phone", "medium", d, cs, kv("phone", s.w.Contacts[0].Phone), "the buyer's contact has the supplier's contact's phone")
	}
	{
		b, s, d, cs := pair()
		b.w.LegalRep.Email = s.w.Contacts[0].Email
		b.w.Officers[0].Person.Email = s.w.Contacts[0].Email
		related("shared_email", "medium", d, cs, kv("email", s.w.Contacts[0].Email), "the buyer's legal representative uses the supplier's contact's e-mail")
	}
	{
		b, s, d, cs := pair()
		b.w.RegisteredAddress = s.w.OfficeAddress
		related("shared_address", "low", d, cs, kv("address", s.w.OfficeAddress), "registered at the supplier's office address: a hint, not proof")
	}
	{
		b, s, d, cs := pair()
		setStake(b, s, 4)
		setStake(s, b, 3)
		related("cross_holding", "high", d, cs, kv("buyer_in_supplier", "3", "supplier_in_buyer", "4"), "buyer and supplier hold each other")
	}

	// Look-alikes.
	for i := 0; i < 2; i++ {
		b, s, d, _ := pair()
		p1, p2 := w.person(r, ""), w.person(r, "")
		p1.Name, p2.Name = "王伟", "王伟"
		setOfficer(b, "director", p1)
		setOfficer(s, pick(r, []string{"supervisor", "director"}), p2)
		notRelated("same_name_other_person", d, kv("name", "王伟"), "two different people called 王伟 (different id numbers)")
	}
	{
		b, s, d, _ := pair()
		f := pick(r, w.funds)
		setStake(b, f, 6)
		setStake(s, f, 8)
		notRelated("fund_minority_both", d, kv("fund", f.uscc()), "a fund holds 6 % of the buyer and 8 % of the supplier")
	}
	{
		b, s, d, _ := pair()
		x := w.shell("投资有限公司", "咨询有限公司")
		setStake(x, s, 10)
		setStake(b, x, 10)
		notRelated("indirect_1pct", d, kv("via", x.uscc(), "integrated_pct", "1"), "10 % of 10 %: a 1 % indirect stake")
	}
	{
		a, c := w.freshBuyer(), w.freshBuyer()
		da, dc := w.honest(a, w.plantSupplier(), 4), w.honest(c, w.plantSupplier(), 4)
		w.plantClaim(a, da)
		w.plantClaim(c, dc)
		setStake(a, c, 5)
		setStake(c, a, 5)
		notRelated("cross_holding_not_trading", da, kv("other", c.uscc()), "two buyers hold each other but neither sells to the other")
	}
	{
		b, s, d, _ := pair()
		cty := s.city
		dist := pick(r, cty.districts)
		base := w.unique(func() string {
			return fmt.Sprintf("%s%s%s%d号%s%d栋", cty.name, dist.name, pick(r, cty.roads), 1+r.IntN(899), pick(r, buildings), 1+r.IntN(12))
		})
		s.w.OfficeAddress = base + "1203室"
		b.w.OfficeAddress = base + "1508室"
		notRelated("same_building_other_room", d, kv("building", base), "offices in one building, different rooms")
	}
}
