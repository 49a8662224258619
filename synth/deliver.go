package synth

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"sort"
	"time"
)

// Senders that are platforms rather than enterprises.
const (
	SourceRegistry = "platform:hunan-registry"
	SourcePMS      = "platform:hunan-pms" // 项目管理系统: claims
)

// record is one wire record before it is encoded.
type record struct {
	topic, typ  string
	key, source string
	idPrefix    string
	id          string
	at          time.Time // envelope time
	pos         time.Time // where it is delivered; zero means at
	data        any
}

func (rec *record) position() time.Time {
	if rec.pos.IsZero() {
		return rec.at
	}
	return rec.pos
}

// deliver writes every record as a message, orders them as a broker would deliver them, adds the
// redeliveries and counts what the engine must end up storing.
func (w *world) deliver() *Province {
	r := rand.New(rand.NewPCG(uint64(w.cfg.Seed), 0xd6e8feb86659fd93))
	w.registryVersions(r)
	var recs []record
	for _, e := range w.entities {
		if e.noRegistry {
			continue
		}
		for _, v := range e.older {
			recs = append(recs, record{topic: TopicRegistry, typ: "registry.entity.v1", key: e.uscc(),
				source: SourceRegistry, idPrefix: "registry-", at: v.at, pos: v.pos, data: v.data})
		}
		recs = append(recs, record{topic: TopicRegistry, typ: "registry.entity.v1", key: e.uscc(),
			source: SourceRegistry, idPrefix: "registry-", at: e.finalAt, data: e.w})
	}
	for _, d := range w.deals {
		src := d.supplier.uscc()
		contract := func(c wContract, at time.Time) {
			recs = append(recs, record{topic: TopicContracts, typ: "contract.v1", key: c.ContractNo,
				source: src, idPrefix: "contract-", at: at, data: c})
		}
		switch {
		case d.filed != nil && d.republishFiling:
			// Sent at signing, then again with the filing: a newer version under a new id.
			unfiled := d.contract
			unfiled.FiledOn = nil
			contract(unfiled, d.contractAt)
			contract(d.contract, d.filed.Add(time.Duration(10*60+r.IntN(8*60))*time.Minute))
		case d.filed != nil && !d.via:
			// Sent once, when the filing was done.
			contract(d.contract, d.filed.Add(time.Duration(10*60+r.IntN(8*60))*time.Minute))
		default:
			contract(d.contract, d.contractAt)
		}
		for _, s := range d.settlements {
			recs = append(recs, record{topic: TopicSettlements, typ: "settlement.v1", key: s.w.InvoiceCode + s.w.InvoiceNo,
				source: src, idPrefix: "settlement-", at: s.at, data: s.w})
		}
		for _, u := range d.usageRecs {
			recs = append(recs, record{topic: TopicUsage, typ: "usage.v1", key: u.w.ResourceID,
				source: src, idPrefix: "usage-", at: u.at, data: u.w})
		}
	}
	for _, cs := range w.claims {
		recs = append(recs, record{topic: TopicClaims, typ: "claim.v1", key: cs.id,
			source: SourcePMS, idPrefix: "claim-", at: cs.at, data: cs.wire()})
	}
	kept := recs[:0]
	for _, rec := range recs {
		if !rec.at.After(w.end) {
			kept = append(kept, rec)
		}
	}
	recs = kept
	sort.SliceStable(recs, func(i, j int) bool { return recs[i].at.Before(recs[j].at) })
	// Each sender numbers its own records, so ids repeat across senders ("usage-0000825" from two
	// suppliers are two records): only (source, id) identifies a record.
	counters := map[string]int{}
	for i := range recs {
		k := recs[i].source + "|" + recs[i].idPrefix
		if _, ok := counters[k]; !ok {
			counters[k] = 100 + r.IntN(900)
		}
		counters[k]++
		recs[i].id = fmt.Sprintf("%s%07d", recs[i].idPrefix, counters[k])
	}

	type entry struct {
		pos time.Time
		seq int
		sub int
		msg Message
	}
	redelivered := map[string]int{}
	entries := make([]entry, 0, len(recs)+len(recs)/20)
	for i := range recs {
		rec := &recs[i]
		env := envelope{SpecVersion: "1.0", ID: rec.id, Source: rec.source, Type: rec.typ, Time: stamp(rec.at), Data: rec.data}
		msg := Message{Topic: rec.topic, Key: []byte(rec.key), Value: mustMarshal(env)}
		entries = append(entries, entry{pos: rec.position(), seq: i, msg: msg})
		if w.cfg.DuplicateRate <= 0 || r.Float64() >= w.cfg.DuplicateRate {
			continue
		}
		redelivered[rec.topic]++
		if r.IntN(2) == 0 {
			// A redelivery: the same bytes again, shortly after (a consumer retry, a rebalance).
			entries = append(entries, entry{pos: rec.position().Add(time.Duration(r.IntN(1800)) * time.Second), seq: i, sub: 1, msg: msg})
			continue
		}
		// A re-send: the sender publishes the record again later, serialised anew, so the bytes
		// differ and only (source, id) says it is the same record.
		value, err := json.MarshalIndent(env, "", " ")
		if err != nil {
			panic("synth: marshal: " + err.Error())
		}
		later := time.Duration(1+r.IntN(240)) * time.Hour
		entries = append(entries, entry{pos: rec.position().Add(later), seq: i, sub: 1,
			msg: Message{Topic: rec.topic, Key: msg.Key, Value: value}})
	}
	sort.SliceStable(entries, func(i, j int) bool {
		a, b := entries[i], entries[j]
		if !a.pos.Equal(b.pos) {
			return a.pos.Before(b.pos)
		}
		if a.seq != b.seq {
			return a.seq < b.seq
		}
		return a.sub < b.sub
	})
	p := &Province{Config: w.cfg, Truth: Truth{Cases: w.truth}}
	p.Messages = make([]Message, len(entries))
	for i, e := range entries {
		p.Messages[i] = e.msg
	}
	p.Stats = countStats(recs, redelivered)
	return p
}

// countStats counts what the engine must store: one record per (source, id), one entity per key.
func countStats(recs []record, redelivered map[string]int) Stats {
	st := Stats{Topics: map[string]TopicStats{}}
	keys := map[string]map[string]bool{}
	buyers, sellers := map[string]bool{}, map[string]bool{}
	for _, rec := range recs {
		ts := st.Topics[rec.topic]
		ts.Unique++
		st.Topics[rec.topic] = ts
		if keys[rec.topic] == nil {
			keys[rec.topic] = map[string]bool{}
		}
		keys[rec.topic][rec.key] = true
		if c, ok := rec.data.(wContract); ok {
			buyers[c.BuyerUSCC] = true
			sellers[c.SupplierUSCC] = true
		}
	}
	for _, t := range Topics {
		ts := st.Topics[t]
		ts.Redeliveries = redelivered[t]
		ts.Messages = ts.Unique + ts.Redeliveries
		ts.Keys = len(keys[t])
		st.Topics[t] = ts
		st.Total.Messages += ts.Messages
		st.Total.Unique += ts.Unique
		st.Total.Redeliveries += ts.Redeliveries
		st.Total.Keys += ts.Keys
	}
	reg, con := st.Topics[TopicRegistry], st.Topics[TopicContracts]
	st.Entities = reg.Keys
	st.Buyers = len(buyers)
	st.Suppliers = len(sellers)
	st.Contracts = con.Keys
	st.Invoices = st.Topics[TopicSettlements].Keys
	st.UsageWindow = st.Topics[TopicUsage].Unique
	st.Claims = st.Topics[TopicClaims].Keys
	st.Versions = reg.Unique - reg.Keys + con.Unique - con.Keys
	return st
}

// registryVersions gives about one entity in twenty an older registry record, published in the
// initial load, and moves its current record later in the year: a changed phone, a move, a new
// director, a new account. One in five of these arrives out of order (the newer first), so only
// the envelope time says which is current.
func (w *world) registryVersions(r *rand.Rand) {
	from := midnight(w.start).AddDate(0, 1, 0)
	span := max(1, int(w.end.Sub(from).Hours()/24)-60)
	for _, e := range w.entities {
		if e.noRegistry || len(e.older) > 0 || r.IntN(100) >= 5 {
			continue
		}
		old := cloneEntity(e.w)
		c, d := e.city, pick(r, e.city.districts)
		switch r.IntN(4) {
		case 0:
			old.Contacts[0].Phone = w.unique(func() string { return newMobile(r) })
		case 1:
			old.OfficeAddress = w.address(r, c, d)
		case 2:
			old.Officers = append(old.Officers[:len(old.Officers):len(old.Officers)], wOfficer{Role: "director", Person: w.person(r, "")})
		default:
			if len(old.BankAccounts) > 1 {
				old.BankAccounts = old.BankAccounts[:1]
			} else {
				old.Contacts[0].Email = w.unique(func() string { return digits(r, 9) + "@qq.com" })
				if old.Contacts[0].Email[0] == '0' {
					old.Contacts[0].Email = "1" + old.Contacts[0].Email[1:]
				}
			}
		}
		v := regVersion{data: old, at: e.finalAt}
		e.finalAt = from.AddDate(0, 0, r.IntN(span)).Add(time.Duration(9*60+r.IntN(9*60)) * time.Minute)
		if r.IntN(5) == 0 {
			v.pos = e.finalAt.Add(time.Duration(1+r.IntN(72)) * time.Hour)
		}
		e.older = append(e.older, v)
	}
}
