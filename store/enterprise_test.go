package store

import (
	"fmt"
	"math"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/voucherwatch/voucherwatch"
)

// The enterprise whose file the tests read, a supplier it buys from, a buyer it sells to, and
// a look-alike whose USCC differs in the last character only.
const (
	fileUSCC      = "91430100MA4L0FILE1"
	upstreamUSCC  = "91430100MA4L0UPST2"
	downstreamUSC = "91430100MA4L0DOWN3"
	lookAlikeUSCC = "91430100MA4L0FILE2"
)

// everyFieldEntity is a registered supplier with every field the registry table keeps set.
// IDType is left empty: the table folds it into Key and does not keep it.
func everyFieldEntity(id string, at time.Time, name string) voucherwatch.Record {
	r := envelope(voucherwatch.TypeRegistry, "platform:hunan-registry", id)
	r.Time = at
	legal := voucherwatch.Person{Name: "赵六", Key: "pk-zhaoliu", Masked: "430***********5678", Phone: "13812345678", Email: "zhao@example.com"}
	r.Entity = &voucherwatch.Entity{
		USCC:              fileUSCC,
		Name:              name,
		City:              "430100",
		RegisteredAddress: "长沙市岳麓区麓谷大道1号",
		OfficeAddress:     "长沙市天心区芙蓉南路2号",
		RegisteredOn:      date(2018, 3, 14),
		IsSME:             true,
		LegalRep:          &legal,
		Contacts: []voucherwatch.Person{
			{Name: "钱七", Key: "pk-qianqi", Masked: "110***********0011", Phone: "13900001111", Email: "qian@example.com"},
			{Name: "孙八", Phone: "073188886666"},
		},
		Shareholders: []voucherwatch.Holder{
			{Kind: "enterprise", USCC: upstreamUSCC, Name: "上游算力有限公司", SharePct: 51.5},
			{Kind: "person", Person: &voucherwatch.Person{Name: "赵六", Key: "pk-zhaoliu", Masked: "430***********5678"}, Name: "赵六", SharePct: 30},
			{Kind: "enterprise", Name: "Foreign Capital Ltd", SharePct: 18.5},
		},
		Officers: []voucherwatch.Officer{
			{Role: "legal_representative", Person: legal},
			{Role: "director", Person: voucherwatch.Person{Name: "周九", Key: "pk-zhoujiu", Masked: "430***********9999", Phone: "13700009999", Email: "zhou@example.com"}},
		},
		BankAccounts: []voucherwatch.BankAccount{{Bank: "长沙银行", AccountNo: "6222000011110000"}, {Bank: "湖南农信", AccountNo: "6230900000000001"}},
		Credit:       voucherwatch.Credit{SeriouslyDishonest: true, MajorViolationWithin3Y: true},
		Supplier: &voucherwatch.SupplierProfile{
			Registered:   true,
			RegisteredOn: date(2025, 11, 3),
			IDCLicense:   true,
			Capacity: []voucherwatch.Capacity{
				{ChipModel: "Ascend 910B", ChipOrigin: voucherwatch.OriginDomestic, Cards: 512, Datacenter: "长沙"},
				{ChipModel: "H800", ChipOrigin: voucherwatch.OriginForeign, Cards: 64, Datacenter: "株洲"},
			},
		},
	}
	r.Entity.SetCanonicalKeys() // as the decoder does
	return r
}

// contractBetween is contract n from supplier to buyer, signed on the nth day of 2026.
func contractBetween(n int, supplier, buyer string) voucherwatch.Record {
	r := envelope(voucherwatch.TypeContract, supplier, fmt.Sprintf("contract-%s-%03d", supplier[len(supplier)-4:], n))
	r.Contract = &voucherwatch.Contract{
		ContractNo:   fmt.Sprintf("HT-%s-%03d", supplier[len(supplier)-4:], n),
		Name:         "算力租赁合同",
		SupplierUSCC: supplier,
		BuyerUSCC:    buyer,
		SignedOn:     date(2026, 1, 1).AddDate(0, 0, n),
		ServiceStart: date(2026, 2, 1),
		ServiceEnd:   date(2026, 12, 31),
		Amount:       12800001,
		Items: []voucherwatch.Item{
			{ServiceType: voucherwatch.ServiceComputeResource, ChipModel: "Ascend 910B", ChipOrigin: voucherwatch.OriginDomestic,
				Cards: 8, UnitPrice: 1299, Unit: voucherwatch.UnitCardHour, Quantity: 9000.5, Amount: 11691650},
			{ServiceType: voucherwatch.ServiceBandwidth, Amount: 1108351},
		},
		Datacenter:  "长沙",
		ViaPlatform: true,
		FiledOn:     date(2026, 1, 20).AddDate(0, 0, n),
		Domains:     []string{"智能制造"},
		Purposes:    []string{"模型训练", "推理"},
	}
	return r
}

// settlementBetween is settlement n, invoiced on the nth day of 2026.
func settlementBetween(n int, supplier, buyer string) voucherwatch.Record {
	r := envelope(voucherwatch.TypeSettlement, supplier, fmt.Sprintf("settlement-%s-%03d", supplier[len(supplier)-4:], n))
	r.Settlement = &voucherwatch.Settlement{
		SettlementID: fmt.Sprintf("JS-%s-%03d", supplier[len(supplier)-4:], n),
		ContractNo:   fmt.Sprintf("HT-%s-%03d", supplier[len(supplier)-4:], n),
		SupplierUSCC: supplier,
		BuyerUSCC:    buyer,
		InvoiceCode:  "043002100111",
		InvoiceNo:    fmt.Sprintf("%08d", n),
		InvoiceDate:  date(2026, 1, 1).AddDate(0, 0, n),
		Amount:       500000,
		Tax:          30000,
		PaymentRef:   fmt.Sprintf("PAY-%03d", n),
		PaidOn:       date(2026, 1, 3).AddDate(0, 0, n),
		PayerAccount: "6222000011112222",
		PayeeAccount: "6222000033334444",
		PeriodStart:  date(2026, 1, 1),
		PeriodEnd:    date(2026, 1, 31),
		Items: []voucherwatch.Item{
			{ServiceType: voucherwatch.ServiceComputeResource, ChipModel: "Ascend 910B", ChipOrigin: voucherwatch.OriginDomestic,
				Cards: 8, UnitPrice: 1250, Unit: voucherwatch.UnitCardHour, Quantity: 400, Amount: 500000},
		},
	}
	return r
}

// claimBy is claim n of an applicant, submitted on the nth day of March 2026.
func claimBy(n int, applicant string) voucherwatch.Record {
	r := envelope(voucherwatch.TypeClaim, applicant, fmt.Sprintf("claim-%s-%03d", applicant[len(applicant)-4:], n))
	r.Claim = &voucherwatch.Claim{
		ClaimID:       fmt.Sprintf("SB-%s-%03d", applicant[len(applicant)-4:], n),
		ApplicantUSCC: applicant,
		Round:         2026,
		SubmittedOn:   date(2026, 3, 1).AddDate(0, 0, n),
		City:          "430100",
		ViaPlatform:   true,
		Contracts:     []string{"HT-PST2-001"},
		Invoices: []voucherwatch.ClaimInvoice{
			{InvoiceNo: "26432000000012345678", Amount: 500000},
			{InvoiceCode: "043002100111", InvoiceNo: "00012345", Amount: 99},
		},
		UsageAmount: 500099,
		Requested:   150029,
		ChipOrigin:  voucherwatch.OriginDomestic,
		BankAccount: "6222000011112222",
	}
	return r
}

// meteredWindow is one usage window of hours hours from start.
func meteredWindow(id string, supplier, buyer, chip string, start time.Time, hours int, cardHours, util float64) voucherwatch.Record {
	r := envelope(voucherwatch.TypeUsage, supplier, id)
	r.Usage = &voucherwatch.Usage{
		SupplierUSCC: supplier, BuyerUSCC: buyer, ContractNo: "HT-1", Tenant: "t", ResourceID: "node-" + id,
		ChipModel: chip, ChipOrigin: voucherwatch.OriginDomestic, Cards: 8,
		WindowStart: start, WindowEnd: start.Add(time.Duration(hours) * time.Hour), CardHours: cardHours, UtilAvg: util,
	}
	return r
}

func fileOf(t *testing.T, db *DB, uscc string, maxRows int) voucherwatch.EnterpriseFile {
	t.Helper()
	f, err := db.enterpriseFile(testContext(t), uscc, maxRows)
	if err != nil {
		t.Fatalf("EnterpriseFile(%s): %v", uscc, err)
	}
	return f
}

// TestEnterpriseFileEntityRoundTrip: the newest registry version comes back whole, equal to
// what was stored.
func TestEnterpriseFileEntityRoundTrip(t *testing.T) {
	db := newTestDB(t)
	older := everyFieldEntity("entity-v1", time.Date(2026, 3, 1, 8, 0, 0, 0, voucherwatch.CST), "旧名称有限公司")
	newer := everyFieldEntity("entity-v2", time.Date(2026, 3, 2, 8, 0, 0, 0, voucherwatch.CST), "湖南文件科技股份有限公司")
	store(t, db, voucherwatch.TypeRegistry, newer, older)

	start := time.Now()
	f, err := db.EnterpriseFile(testContext(t), fileUSCC)
	if err != nil {
		t.Fatalf("EnterpriseFile: %v", err)
	}
	t.Logf("EnterpriseFile took %v", time.Since(start))
	if f.Entity == nil {
		t.Fatalf("Entity: got nil, want the newest registry record")
	}
	if !reflect.DeepEqual(f.Entity, newer.Entity) {
		t.Errorf("Entity:\n got %+v\nwant %+v", *f.Entity, *newer.Entity)
	}
	if f.City() != "430100" || len(f.Contracts)+len(f.Settlements)+len(f.Usage)+len(f.Claims) != 0 || f.Truncated != nil {
		t.Errorf("file of an entity only: got city %q, %d contracts, %d settlements, %d usage, %d claims, truncated %v; want 430100 and nothing else",
			f.City(), len(f.Contracts), len(f.Settlements), len(f.Usage), len(f.Claims), f.Truncated)
	}

	// An entity without people, accounts or a supplier profile has nils, not empty values.
	store(t, db, voucherwatch.TypeRegistry, buyerWithoutPeople())
	f = fileOf(t, db, buyerUSCC, voucherwatch.MaxFileRows)
	if !reflect.DeepEqual(f.Entity, buyerWithoutPeople().Entity) {
		t.Errorf("bare entity: got %+v, want %+v", *f.Entity, *buyerWithoutPeople().Entity)
	}
}

// TestEnterpriseNames: the newest registry record names an enterprise; an enterprise the
// registry does not know has no name, however often it is asked for.
func TestEnterpriseNames(t *testing.T) {
	db := newTestDB(t)
	older := everyFieldEntity("entity-v1", time.Date(2026, 3, 1, 8, 0, 0, 0, voucherwatch.CST), "旧名称有限公司")
	newer := everyFieldEntity("entity-v2", time.Date(2026, 3, 2, 8, 0, 0, 0, voucherwatch.CST), "湖南文件科技股份有限公司")
	store(t, db, voucherwatch.TypeRegistry, newer, older, buyerWithoutPeople())
	got, err := db.EnterpriseNames(testContext(t), []string{fileUSCC, buyerUSCC, downstreamUSC, fileUSCC})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{fileUSCC: "湖南文件科技股份有限公司", buyerUSCC: buyerWithoutPeople().Entity.Name}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
	if got, err := db.EnterpriseNames(testContext(t), nil); err != nil || len(got) != 0 {
		t.Errorf("no USCCs: got %v, %v", got, err)
	}
}

// TestEnterpriseFileBothSides: the enterprise buys from one supplier and sells to one buyer;
// its file holds both sides, each record once, newest first, and nothing of the look-alike.
func TestEnterpriseFileBothSides(t *testing.T) {
	db := newTestDB(t)
	var contracts, settlements, claims []voucherwatch.Record
	for n := 1; n <= 3; n++ {
		contracts = append(contracts, contractBetween(n, upstreamUSCC, fileUSCC), contractBetween(10+n, fileUSCC, downstreamUSC))
		settlements = append(settlements, settlementBetween(n, upstreamUSCC, fileUSCC), settlementBetween(10+n, fileUSCC, downstreamUSC))
		claims = append(claims, claimBy(n, fileUSCC))
	}
	// The look-alike trades with both of the enterprise's partners and claims too.
	lookAlike := []voucherwatch.Record{contractBetween(50, upstreamUSCC, lookAlikeUSCC), contractBetween(51, lookAlikeUSCC, downstreamUSC)}
	store(t, db, voucherwatch.TypeContract, append(contracts, lookAlike...)...)
	store(t, db, voucherwatch.TypeSettlement, append(settlements, settlementBetween(50, upstreamUSCC, lookAlikeUSCC), settlementBetween(51, lookAlikeUSCC, downstreamUSC))...)
	store(t, db, voucherwatch.TypeClaim, append(claims, claimBy(50, lookAlikeUSCC))...)

	// Re-stored: the same records again, and a copy the way two racing writers leave one.
	store(t, db, voucherwatch.TypeContract, contracts...)
	store(t, db, voucherwatch.TypeClaim, claims...)
	for _, tbl := range []string{"contracts", "settlements", "claims"} {
		if err := db.conn.Exec(testContext(t), "INSERT INTO "+tbl+" SELECT * FROM "+tbl+" WHERE source = '"+upstreamUSCC+"' OR source = '"+fileUSCC+"'"); err != nil {
			t.Fatalf("copy %s: %v", tbl, err)
		}
	}
	// A contract amended under a new envelope id: the newer version replaces the older.
	amended := contractBetween(2, upstreamUSCC, fileUSCC)
	amended.ID += "-v2"
	amended.Time = amended.Time.Add(time.Hour)
	amended.Contract.Amount = 99900
	store(t, db, voucherwatch.TypeContract, amended)

	march := time.Date(2026, 3, 5, 10, 0, 0, 0, voucherwatch.CST)
	store(t, db, voucherwatch.TypeUsage,
		meteredWindow("u1", upstreamUSCC, fileUSCC, "Ascend 910B", march, 2, 16, 0.5),
		meteredWindow("u2", upstreamUSCC, fileUSCC, "Ascend 910B", march.Add(3*time.Hour), 2, 16, 1.0),
		meteredWindow("u3", fileUSCC, downstreamUSC, "Ascend 910B", march.AddDate(0, 1, 0), 1, 8, 0.25),
		meteredWindow("u4", upstreamUSCC, lookAlikeUSCC, "Ascend 910B", march, 1, 8, 0.9),
		// Across the end of March: 2 of its 4 hours fall in April.
		meteredWindow("u5", upstreamUSCC, fileUSCC, "H800", time.Date(2026, 3, 31, 22, 0, 0, 0, voucherwatch.CST), 4, 32, 0.5),
	)

	start := time.Now()
	f := fileOf(t, db, fileUSCC, voucherwatch.MaxFileRows)
	t.Logf("EnterpriseFile took %v", time.Since(start))
	if f.Entity != nil {
		t.Errorf("Entity: got %+v, want nil (no registry record)", f.Entity)
	}

	var gotContracts []string
	for _, c := range f.Contracts {
		gotContracts = append(gotContracts, c.ContractNo)
		if c.SupplierUSCC != fileUSCC && c.BuyerUSCC != fileUSCC {
			t.Errorf("contract %s between %s and %s: not the enterprise's", c.ContractNo, c.SupplierUSCC, c.BuyerUSCC)
		}
	}
	check(t, "contracts, newest first", gotContracts, []string{"HT-ILE1-013", "HT-ILE1-012", "HT-ILE1-011", "HT-PST2-003", "HT-PST2-002", "HT-PST2-001"})
	for _, c := range f.Contracts {
		if c.ContractNo == "HT-PST2-002" && c.Amount != 99900 {
			t.Errorf("amended contract: got amount %v, want the newer version's 999.00", c.Amount)
		}
		if c.ContractNo == "HT-PST2-001" && !reflect.DeepEqual(c, *contractBetween(1, upstreamUSCC, fileUSCC).Contract) {
			t.Errorf("contract round trip:\n got %+v\nwant %+v", c, *contractBetween(1, upstreamUSCC, fileUSCC).Contract)
		}
	}

	var gotSettlements []string
	for _, s := range f.Settlements {
		gotSettlements = append(gotSettlements, s.SettlementID)
	}
	check(t, "settlements, newest first", gotSettlements, []string{"JS-ILE1-013", "JS-ILE1-012", "JS-ILE1-011", "JS-PST2-003", "JS-PST2-002", "JS-PST2-001"})
	if want := *settlementBetween(12, fileUSCC, downstreamUSC).Settlement; !reflect.DeepEqual(f.Settlements[1], want) {
		t.Errorf("settlement round trip:\n got %+v\nwant %+v", f.Settlements[1], want)
	}

	var gotClaims []string
	for _, c := range f.Claims {
		gotClaims = append(gotClaims, c.ClaimID)
	}
	check(t, "claims, newest first", gotClaims, []string{"SB-ILE1-003", "SB-ILE1-002", "SB-ILE1-001"})
	if want := *claimBy(3, fileUSCC).Claim; !reflect.DeepEqual(f.Claims[0], want) {
		t.Errorf("claim round trip:\n got %+v\nwant %+v", f.Claims[0], want)
	}

	type month struct {
		month, supplier, buyer, chip string
		cardHours, util              float64
		windows                      int
	}
	var gotUsage []month
	for _, u := range f.Usage {
		gotUsage = append(gotUsage, month{u.Month.Format("2006-01-02"), u.SupplierUSCC[len(u.SupplierUSCC)-4:], u.BuyerUSCC[len(u.BuyerUSCC)-4:],
			u.ChipModel, math.Round(u.CardHours*1000) / 1000, math.Round(u.UtilAvg*1000) / 1000, u.Windows})
		if u.Month.Location() != voucherwatch.CST {
			t.Errorf("usage month %v: want midnight CST", u.Month)
		}
	}
	check(t, "usage by month", gotUsage, []month{
		{"2026-04-01", "PST2", "ILE1", "H800", 16, 0.5, 0}, // most card-hours first within a month
		{"2026-04-01", "ILE1", "OWN3", "Ascend 910B", 8, 0.25, 1},
		{"2026-03-01", "PST2", "ILE1", "Ascend 910B", 32, 0.75, 2},
		{"2026-03-01", "PST2", "ILE1", "H800", 16, 0.5, 1},
	})
	if f.Truncated != nil {
		t.Errorf("Truncated: got %v, want nil", f.Truncated)
	}

	// The look-alike's file holds its own records only.
	la := fileOf(t, db, lookAlikeUSCC, voucherwatch.MaxFileRows)
	if len(la.Contracts) != 2 || len(la.Settlements) != 2 || len(la.Claims) != 1 || len(la.Usage) != 1 {
		t.Errorf("look-alike: got %d contracts, %d settlements, %d claims, %d usage months; want 2, 2, 1, 1",
			len(la.Contracts), len(la.Settlements), len(la.Claims), len(la.Usage))
	}

	// A contract that named the downstream buyer, amended to another buyer, leaves its file.
	moved := contractBetween(13, fileUSCC, lookAlikeUSCC)
	moved.ID += "-v2"
	moved.Time = moved.Time.Add(time.Hour)
	store(t, db, voucherwatch.TypeContract, moved)
	down := fileOf(t, db, downstreamUSC, voucherwatch.MaxFileRows)
	var downContracts []string
	for _, c := range down.Contracts {
		downContracts = append(downContracts, c.ContractNo)
	}
	check(t, "downstream after the amendment", downContracts, []string{"HT-ILE2-051", "HT-ILE1-012", "HT-ILE1-011"})
}

// TestEnterpriseFileTruncated: each list holds its newest rows up to the cap, and Truncated
// names those that had more.
func TestEnterpriseFileTruncated(t *testing.T) {
	db := newTestDB(t)
	var contracts, settlements, claims, usages []voucherwatch.Record
	for n := 1; n <= 4; n++ {
		contracts = append(contracts, contractBetween(n, upstreamUSCC, fileUSCC))
		settlements = append(settlements, settlementBetween(n, upstreamUSCC, fileUSCC))
	}
	for n := 1; n <= 3; n++ {
		claims = append(claims, claimBy(n, fileUSCC))
	}
	for m := 0; m < 5; m++ {
		usages = append(usages, meteredWindow(fmt.Sprintf("u%d", m), upstreamUSCC, fileUSCC, "Ascend 910B",
			time.Date(2026, time.Month(1+m), 10, 0, 0, 0, 0, voucherwatch.CST), 1, 8, 0.5))
	}
	store(t, db, voucherwatch.TypeContract, contracts...)
	store(t, db, voucherwatch.TypeSettlement, settlements...)
	store(t, db, voucherwatch.TypeClaim, claims...)
	store(t, db, voucherwatch.TypeUsage, usages...)

	f := fileOf(t, db, fileUSCC, 3)
	check(t, "truncated", f.Truncated, []string{"contracts", "settlements", "usage"})
	check(t, "lengths", []int{len(f.Contracts), len(f.Settlements), len(f.Usage), len(f.Claims)}, []int{3, 3, 3, 3})
	check(t, "newest contract kept", f.Contracts[0].ContractNo, "HT-PST2-004")
	check(t, "oldest contract kept", f.Contracts[2].ContractNo, "HT-PST2-002")
	check(t, "newest month kept", f.Usage[0].Month.Format("2006-01"), "2026-05")
	check(t, "oldest month kept", f.Usage[2].Month.Format("2006-01"), "2026-03")

	f = fileOf(t, db, fileUSCC, 5)
	if f.Truncated != nil {
		t.Errorf("cap above every list: got truncated %v, want nil", f.Truncated)
	}
}

// TestEnterpriseFileNotFound: an enterprise nothing is known about, also one that only
// appears as a shareholder of another, is ENOTFOUND.
func TestEnterpriseFileNotFound(t *testing.T) {
	db := newTestDB(t)
	store(t, db, voucherwatch.TypeRegistry, everyFieldEntity("entity-v1", time.Date(2026, 3, 1, 8, 0, 0, 0, voucherwatch.CST), "湖南文件科技股份有限公司"))
	for _, uscc := range []string{lookAlikeUSCC, upstreamUSCC, "", "'; DROP TABLE registry; --"} {
		_, err := db.EnterpriseFile(testContext(t), uscc)
		if code := voucherwatch.ErrorCode(err); code != voucherwatch.ENOTFOUND {
			t.Errorf("EnterpriseFile(%q): got %v (%s), want ENOTFOUND", uscc, err, code)
		}
	}
	if _, err := db.EnterpriseFile(testContext(t), fileUSCC); err != nil {
		t.Errorf("EnterpriseFile(%s): %v", fileUSCC, err)
	}
}

// TestSearchEnterprises: by part of the name or the start of the code, the newest name only,
// within a city when asked: a look-alike name in another city is found only without it.
func TestSearchEnterprises(t *testing.T) {
	db := newTestDB(t)
	older := everyFieldEntity("entity-v1", time.Date(2026, 3, 1, 8, 0, 0, 0, voucherwatch.CST), "旧名称有限公司")
	newer := everyFieldEntity("entity-v2", time.Date(2026, 3, 2, 8, 0, 0, 0, voucherwatch.CST), "湖南文件科技股份有限公司")
	other := envelope(voucherwatch.TypeRegistry, "platform:hunan-registry", "entity-zz")
	other.Entity = &voucherwatch.Entity{USCC: downstreamUSC, Name: "株洲文件科技有限公司", City: "430200"}
	store(t, db, voucherwatch.TypeRegistry, newer, older, other)
	ctx := testContext(t)
	for _, tc := range []struct {
		q, city string
		want    []string
	}{
		{"文件科技", "", []string{fileUSCC, downstreamUSC}},
		{"文件科技", "430100", []string{fileUSCC}},
		{"旧名称", "", nil}, // only the newest name counts
		{strings.ToLower(fileUSCC[:14]), "", []string{fileUSCC}},
		{"91430100", "430200", []string{downstreamUSC}},
		{"不存在的公司", "", nil},
		{"  ", "", nil},
	} {
		hits, more, err := db.SearchEnterprises(ctx, tc.q, tc.city)
		if err != nil {
			t.Fatalf("%q: %v", tc.q, err)
		}
		var got []string
		for _, h := range hits {
			got = append(got, h.USCC)
		}
		slices.Sort(got)
		want := slices.Clone(tc.want)
		slices.Sort(want)
		if !slices.Equal(got, want) || more {
			t.Errorf("search %q in %q: got %v (more %v), want %v", tc.q, tc.city, got, more, want)
		}
	}
}

// TestLatestEntitiesOf: the keyed look-up returns the newest registry version of each USCC
// asked for that the registry holds, as LatestEntities has it, and nothing of the others.
func TestLatestEntitiesOf(t *testing.T) {
	db := newTestDB(t)
	older := everyFieldEntity("entity-v1", time.Date(2026, 3, 1, 8, 0, 0, 0, voucherwatch.CST), "旧名称有限公司")
	newer := everyFieldEntity("entity-v2", time.Date(2026, 3, 2, 8, 0, 0, 0, voucherwatch.CST), "湖南文件科技股份有限公司")
	store(t, db, voucherwatch.TypeRegistry, newer, older, buyerWithoutPeople())
	all, err := db.LatestEntities(testContext(t))
	if err != nil {
		t.Fatal(err)
	}
	got, err := db.LatestEntitiesOf(testContext(t), []string{fileUSCC, "91430000NOSUCHONE0"})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].ID != "entity-v2" || !reflect.DeepEqual(got[0].Entity, *newer.Entity) {
		t.Fatalf("LatestEntitiesOf(%s, unknown): got %+v, want entity-v2 alone", fileUSCC, got)
	}
	for _, e := range all {
		if e.USCC == fileUSCC && !reflect.DeepEqual(e, got[0]) {
			t.Errorf("LatestEntitiesOf: got %+v, want LatestEntities' %+v", got[0], e)
		}
	}
	if none, err := db.LatestEntitiesOf(testContext(t), nil); err != nil || len(none) != 0 {
		t.Errorf("LatestEntitiesOf(none): got %d, %v; want none", len(none), err)
	}
}
