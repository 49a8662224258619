package store_test

import (
	"context"
	"math"
	"reflect"
	"sort"
	"testing"
	"time"

	"github.com/voucherwatch/voucherwatch"
	"github.com/voucherwatch/voucherwatch/store"
	"github.com/voucherwatch/voucherwatch/store/storetest"
	"github.com/voucherwatch/voucherwatch/synth"
)

// TestEnterpriseFileProvince reads the files of a synthetic province's enterprises, whose
// records went through the engine's decoder (2 % of them delivered twice), and checks them
// against the decoded records: the newest registry version whole (but for what the registry
// table does not keep), and as many contracts, settlements and claims, and as many card-hours,
// as the records hold for each enterprise.
func TestEnterpriseFileProvince(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	db, err := store.Open(ctx, storetest.Database(t))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	p := synth.Generate(synth.DefaultConfig(1))
	byType := storetest.Decode(t, "enterprise-file-test", p.Messages)
	for typ, recs := range byType {
		if _, err := db.StoreRecords(ctx, typ, recs); err != nil {
			t.Fatalf("store %s: %v", typ, err)
		}
	}

	// What each enterprise's file should hold, from the decoded records.
	type key struct{ a, b string }
	newest := map[string]voucherwatch.Record{}
	versions := map[string]int{}
	for _, r := range byType[voucherwatch.TypeRegistry] {
		u := r.Entity.USCC
		versions[u]++
		if n, ok := newest[u]; !ok || r.Time.After(n.Time) || (r.Time.Equal(n.Time) && (r.Source > n.Source || (r.Source == n.Source && r.ID > n.ID))) {
			newest[u] = r
		}
	}
	contracts := map[string]map[key]bool{}
	latestContract := map[key]voucherwatch.Record{}
	for _, r := range byType[voucherwatch.TypeContract] {
		k := key{r.Contract.SupplierUSCC, r.Contract.ContractNo}
		if n, ok := latestContract[k]; !ok || r.Time.After(n.Time) || (r.Time.Equal(n.Time) && (r.Source > n.Source || (r.Source == n.Source && r.ID > n.ID))) {
			latestContract[k] = r
		}
	}
	for k, r := range latestContract {
		for _, u := range []string{r.Contract.SupplierUSCC, r.Contract.BuyerUSCC} {
			if contracts[u] == nil {
				contracts[u] = map[key]bool{}
			}
			contracts[u][k] = true
		}
	}
	settlements := map[string]map[key]bool{}
	for _, r := range byType[voucherwatch.TypeSettlement] {
		for _, u := range []string{r.Settlement.SupplierUSCC, r.Settlement.BuyerUSCC} {
			if settlements[u] == nil {
				settlements[u] = map[key]bool{}
			}
			settlements[u][key{r.Settlement.SupplierUSCC, r.Settlement.SettlementID}] = true
		}
	}
	claims := map[string]map[string]bool{}
	for _, r := range byType[voucherwatch.TypeClaim] {
		u := r.Claim.ApplicantUSCC
		if claims[u] == nil {
			claims[u] = map[string]bool{}
		}
		claims[u][r.Claim.ClaimID] = true
	}
	cardHours := map[string]float64{}
	seenUsage := map[key]bool{}
	for _, r := range byType[voucherwatch.TypeUsage] {
		if seenUsage[key{r.Source, r.ID}] {
			continue // delivered twice
		}
		seenUsage[key{r.Source, r.ID}] = true
		cardHours[r.Usage.SupplierUSCC] += r.Usage.CardHours
		if r.Usage.BuyerUSCC != r.Usage.SupplierUSCC {
			cardHours[r.Usage.BuyerUSCC] += r.Usage.CardHours
		}
	}

	// The enterprises with most registry versions and most dealings, and a sample of the rest.
	usccs := make([]string, 0, len(newest))
	for u := range newest {
		usccs = append(usccs, u)
	}
	sort.Slice(usccs, func(i, j int) bool {
		wi, wj := versions[usccs[i]]*1000+len(contracts[usccs[i]]), versions[usccs[j]]*1000+len(contracts[usccs[j]])
		if wi != wj {
			return wi > wj
		}
		return usccs[i] < usccs[j]
	})
	var sample []string
	for i, u := range usccs {
		if i < 25 || i%20 == 0 {
			sample = append(sample, u)
		}
	}
	var took time.Duration
	var multiVersion, nContracts, nSettlements, nClaims, nMonths int
	for _, u := range sample {
		start := time.Now()
		f, err := db.EnterpriseFile(ctx, u)
		took += time.Since(start)
		if err != nil {
			t.Fatalf("EnterpriseFile(%s): %v", u, err)
		}
		want := stored(*newest[u].Entity)
		if !reflect.DeepEqual(f.Entity, &want) {
			t.Errorf("%s (%d versions): entity\n got %+v\nwant %+v", u, versions[u], f.Entity, &want)
		}
		count := func(what string, got, want int) {
			if want > voucherwatch.MaxFileRows {
				want = voucherwatch.MaxFileRows
			}
			if got != want {
				t.Errorf("%s: got %d %s, want %d", u, got, what, want)
			}
		}
		if versions[u] > 1 {
			multiVersion++
		}
		nContracts, nSettlements, nClaims, nMonths = nContracts+len(f.Contracts), nSettlements+len(f.Settlements), nClaims+len(f.Claims), nMonths+len(f.Usage)
		count("contracts", len(f.Contracts), len(contracts[u]))
		count("settlements", len(f.Settlements), len(settlements[u]))
		count("claims", len(f.Claims), len(claims[u]))
		for i := 1; i < len(f.Contracts); i++ {
			if f.Contracts[i].SignedOn.After(f.Contracts[i-1].SignedOn) {
				t.Errorf("%s: contracts not newest first at %d", u, i)
			}
		}
		if len(f.Usage) < voucherwatch.MaxFileRows {
			sum := 0.0
			for _, m := range f.Usage {
				sum += m.CardHours
			}
			if math.Abs(sum-cardHours[u]) > 1e-6*math.Max(1, cardHours[u]) {
				t.Errorf("%s: usage sums to %.3f card-hours, want %.3f", u, sum, cardHours[u])
			}
		}
	}
	t.Logf("%d enterprise files (%d with several registry versions; %d contracts, %d settlements, %d claims, %d usage months) in %v, %v each",
		len(sample), multiVersion, nContracts, nSettlements, nClaims, nMonths, took, took/time.Duration(len(sample)))
	if multiVersion == 0 || nContracts == 0 || nSettlements == 0 || nClaims == 0 || nMonths == 0 {
		t.Errorf("the sample misses a kind of record; the test proves less than it says")
	}
}

// stored is an entity as the registry table keeps it: no identity-document type (folded into
// the person's key), and of a person holder only the holder's name, key and masked number.
func stored(e voucherwatch.Entity) voucherwatch.Entity {
	clear := func(p voucherwatch.Person) voucherwatch.Person { p.IDType = ""; return p }
	if e.LegalRep != nil {
		p := clear(*e.LegalRep)
		e.LegalRep = &p
	}
	e.Contacts = append([]voucherwatch.Person(nil), e.Contacts...)
	for i := range e.Contacts {
		e.Contacts[i] = clear(e.Contacts[i])
	}
	e.Officers = append([]voucherwatch.Officer(nil), e.Officers...)
	for i := range e.Officers {
		e.Officers[i].Person = clear(e.Officers[i].Person)
	}
	e.Shareholders = append([]voucherwatch.Holder(nil), e.Shareholders...)
	for i, h := range e.Shareholders {
		if h.Kind == "person" {
			p := voucherwatch.Person{Name: h.Name}
			if h.Person != nil {
				p.Key, p.Masked = h.Person.Key, h.Person.Masked
			}
			e.Shareholders[i].Person = &p
		}
	}
	return e
}
