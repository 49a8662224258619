package store

import (
	"cmp"
	"encoding/binary"
	"fmt"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/voucherwatch/voucherwatch"
)

// envelopeFields lead every record table: the record's identity and where Kafka had it.
var envelopeFields = []field[voucherwatch.Record]{
	stringField("source", func(r *voucherwatch.Record) string { return r.Source }),
	stringField("id", func(r *voucherwatch.Record) string { return r.ID }),
	{column{"rec_hash", "UInt64"}, func(col driver.BatchColumn, _ []*voucherwatch.Record, s *scratch) error {
		return col.Append(s.hashes)
	}},
	dateTimeField("event_time", func(r *voucherwatch.Record) time.Time { return r.Time }),
	stringField("kafka_topic", func(r *voucherwatch.Record) string { return r.Origin.Topic }),
	uint32Field("kafka_partition", func(r *voucherwatch.Record) int { return r.Origin.Partition }),
	uint64Field("kafka_offset", func(r *voucherwatch.Record) uint64 { return uint64(r.Origin.Offset) }),
	{column{"ingested_at", dateTimeType}, func(col driver.BatchColumn, recs []*voucherwatch.Record, s *scratch) error {
		s.times = s.times[:0]
		for range recs {
			s.times = append(s.times, s.ingestedAt)
		}
		return col.Append(s.times)
	}},
}

// recordTable is the table of one record type, as StoreRecords writes it.
type recordTable interface {
	// name is the table's name, also its tbl value in record_keys.
	name() string
	// columns lists every column, in the order of the insert.
	columns() []column
	hasBody(r *voucherwatch.Record) bool
	// keyTime is the record's at in record_keys: the time a re-sent copy of the record
	// repeats, by which the look-up finds it (see keyTimeEpoch).
	keyTime(r *voucherwatch.Record) time.Time
	// appendSortKey appends to dst the record's sorting key, encoded so that byte order is
	// the table's ORDER BY order (exactly so unless a string holds a NUL byte).
	appendSortKey(dst []byte, r *voucherwatch.Record) []byte
	// write appends the records column-wise to a batch prepared with insertSQL; s carries
	// their hashes and the time they are ingested.
	write(b driver.Batch, recs []*voucherwatch.Record, s *scratch) error
}

// table is the table of records whose body has type T.
type table[T any] struct {
	tbl  string
	body func(*voucherwatch.Record) *T
	// sortKey appends the body's part of the sorting key, all but source and id.
	sortKey func(dst []byte, body *T) []byte
	// at is the body's time in record_keys; nil for the epoch (keyTimeEpoch).
	at     func(body *T) time.Time
	fields []field[T]
}

func (t *table[T]) name() string { return t.tbl }

func (t *table[T]) hasBody(r *voucherwatch.Record) bool { return t.body(r) != nil }

// keyTimeEpoch is at in record_keys for the record types that are not looked up by time: a
// province holds some hundred thousand of them, so their keys are read whole.
var keyTimeEpoch = time.Unix(0, 0)

func (t *table[T]) keyTime(r *voucherwatch.Record) time.Time {
	if t.at == nil {
		return keyTimeEpoch
	}
	return t.at(t.body(r))
}

func (t *table[T]) appendSortKey(dst []byte, r *voucherwatch.Record) []byte {
	dst = t.sortKey(dst, t.body(r))
	return keyString(keyString(dst, r.Source), r.ID)
}

// keyString appends a string to a sorting key. The NUL after it sorts a string before its
// extensions, as ClickHouse compares strings.
func keyString(dst []byte, s string) []byte { return append(append(dst, s...), 0) }

// keyDateTime appends a DateTime, the seconds as an unsigned 32-bit number, to a sorting key.
func keyDateTime(dst []byte, t time.Time) []byte {
	return binary.BigEndian.AppendUint32(dst, uint32(t.Unix()))
}

func (t *table[T]) columns() []column {
	var cols []column
	for _, f := range envelopeFields {
		cols = append(cols, f.column)
	}
	for _, f := range t.fields {
		cols = append(cols, f.column)
	}
	return cols
}

// defaultFillChunk is how many records write appends to every column before it goes on to the
// next records. Column by column over a whole batch, each column's pass read every record (and
// the message its strings point into) again from memory: about 20 MB for 20,000 usage records,
// more than the caches hold. A chunk's records stay in the core's cache for all its columns
// (BenchmarkFillUsage).
const defaultFillChunk = 256

// parallelFillMin is the batch from which write fills its columns on two goroutines: the
// fill is the largest part of the engine's share of a batch's store stage, which the next
// batch waits for, and the columns are independent of one another.
const parallelFillMin = 8192

// defaultFlushRows is how many records an INSERT sends per block. The client's columns hold
// one block, not the whole batch: filling a batch of 100,000 usage records into one block
// grew every String column's buffers by doubling, 28 % of the bytes the live engine
// allocated, and the encoded block was another copy of the batch. The server squashes the
// blocks into one before writing (flushedBlocks), so a batch still makes one part per table.
const defaultFlushRows = 16384

// write appends the records to the batch. A batch larger than s.flush is sent in blocks of
// s.flush records as they are filled, all but the last; s.gate is called before the first is
// sent, and its error ends the fill before anything is sent.
func (t *table[T]) write(b driver.Batch, recs []*voucherwatch.Record, s *scratch) error {
	if s.flush <= 0 || len(recs) <= s.flush {
		return t.writeBlock(b, recs, s)
	}
	hashes := s.hashes
	defer func() { s.hashes = hashes }()
	for start := 0; start < len(recs); start += s.flush {
		end := min(start+s.flush, len(recs))
		s.hashes = hashes[start:end]
		if err := t.writeBlock(b, recs[start:end], s); err != nil {
			return err
		}
		if end == len(recs) {
			break // Send sends the last block and ends the INSERT
		}
		if start == 0 && s.gate != nil {
			if err := s.gate(); err != nil {
				return err
			}
		}
		s.flushed = true
		if err := b.Flush(); err != nil {
			return fmt.Errorf("send block: %w", err)
		}
	}
	return nil
}

// writeBlock appends the records to the batch's current block.
func (t *table[T]) writeBlock(b driver.Batch, recs []*voucherwatch.Record, s *scratch) error {
	cols := len(envelopeFields) + len(t.fields)
	if s.peer == nil || len(recs) < cmp.Or(s.parallel, parallelFillMin) {
		return t.writeColumns(b, recs, s, 0, cols)
	}
	// Each goroutine has a scratch of its own; half the columns each.
	p := s.peer
	p.hashes, p.ingestedAt, p.chunk = s.hashes, s.ingestedAt, s.chunk
	half := cols / 2
	done := make(chan error, 1)
	go func() { done <- t.writeColumns(b, recs, p, half, cols) }()
	err := t.writeColumns(b, recs, s, 0, half)
	return cmp.Or(err, <-done)
}

// writeColumns appends the records to the batch's columns lo to hi-1 (the envelope's, then
// the body's), all of them for a chunk of records before the next chunk.
func (t *table[T]) writeColumns(b driver.Batch, recs []*voucherwatch.Record, s *scratch, lo, hi int) error {
	hashes := s.hashes
	defer func() { s.hashes = hashes }()
	n := cmp.Or(s.chunk, defaultFillChunk)
	ne := len(envelopeFields)
	bodies := make([]*T, 0, min(len(recs), n))
	for start := 0; start < len(recs); start += n {
		chunk := recs[start:min(start+n, len(recs))]
		s.hashes = hashes[start : start+len(chunk)]
		if lo < ne {
			if err := writeFields(b, lo, envelopeFields[lo:min(hi, ne)], chunk, s); err != nil {
				return err
			}
		}
		if hi > ne {
			bodies = bodies[:0]
			for _, r := range chunk {
				bodies = append(bodies, t.body(r))
			}
			from := max(lo, ne)
			if err := writeFields(b, from, t.fields[from-ne:hi-ne], bodies, s); err != nil {
				return err
			}
		}
	}
	return nil
}

// writeFields appends rows to the batch's columns from first on, one field per column.
func writeFields[T any](b driver.Batch, first int, fields []field[T], rows []*T, s *scratch) error {
	for i, f := range fields {
		if err := f.write(b.Column(first+i), rows, s); err != nil {
			return fmt.Errorf("column %s: %w", f.name, err)
		}
	}
	return nil
}

// insertSQL is the INSERT a batch for t is prepared with. 18.16 needs the columns listed.
func insertSQL(t recordTable) string {
	cols := t.columns()
	names := make([]string, len(cols))
	for i, c := range cols {
		names[i] = c.name
	}
	return "INSERT INTO " + t.name() + " (" + strings.Join(names, ", ") + ")"
}

// recordTables maps each record type to its table. The migrations create the tables; a test
// checks that the columns here are the columns there.
var recordTables = map[voucherwatch.RecordType]recordTable{
	voucherwatch.TypeRegistry:   registryTable,
	voucherwatch.TypeContract:   contractsTable,
	voucherwatch.TypeSettlement: settlementsTable,
	voucherwatch.TypeUsage:      usageTable,
	voucherwatch.TypeClaim:      claimsTable,
}

type (
	entity     = voucherwatch.Entity
	contract   = voucherwatch.Contract
	settlement = voucherwatch.Settlement
	usage      = voucherwatch.Usage
	claim      = voucherwatch.Claim
	person     = voucherwatch.Person
	holder     = voucherwatch.Holder
	officer    = voucherwatch.Officer
	account    = voucherwatch.BankAccount
	capacity   = voucherwatch.Capacity
	item       = voucherwatch.Item
	invoice    = voucherwatch.ClaimInvoice
)

var usageTable = &table[usage]{
	tbl:  "usage",
	body: func(r *voucherwatch.Record) *usage { return r.Usage },
	// ORDER BY (supplier_uscc, resource_id, window_start, source, id)
	sortKey: func(dst []byte, u *usage) []byte {
		return keyDateTime(keyString(keyString(dst, u.SupplierUSCC), u.ResourceID), u.WindowStart)
	},
	// A usage record's window is what it meters: every copy of it carries the same one.
	at: func(u *usage) time.Time { return u.WindowStart },
	fields: []field[usage]{
		stringField("supplier_uscc", func(u *usage) string { return u.SupplierUSCC }),
		stringField("buyer_uscc", func(u *usage) string { return u.BuyerUSCC }),
		stringField("contract_no", func(u *usage) string { return u.ContractNo }),
		stringField("tenant", func(u *usage) string { return u.Tenant }),
		stringField("resource_id", func(u *usage) string { return u.ResourceID }),
		stringField("chip_model", func(u *usage) string { return u.ChipModel }),
		stringField("chip_origin", func(u *usage) string { return u.ChipOrigin }),
		uint32Field("cards", func(u *usage) int { return u.Cards }),
		dateTimeField("window_start", func(u *usage) time.Time { return u.WindowStart }),
		dateTimeField("window_end", func(u *usage) time.Time { return u.WindowEnd }),
		float64Field("card_hours", func(u *usage) float64 { return u.CardHours }),
		float64Field("util_avg", func(u *usage) float64 { return u.UtilAvg }),
		uint32Field("jobs", func(u *usage) int { return u.Jobs }),
		uint32Field("users", func(u *usage) int { return u.Users }),
		stringsField("login_orgs", func(u *usage) []string { return u.LoginOrgs }),
		stringField("datacenter", func(u *usage) string { return u.Datacenter }),
	},
}

// itemFields are the parallel item_* arrays of contracts and settlements.
func itemFields[T any](items func(*T) []item) []field[T] {
	return []field[T]{
		eachStringField("item_service_type", items, func(i *item) string { return i.ServiceType }),
		eachStringField("item_chip_model", items, func(i *item) string { return i.ChipModel }),
		eachStringField("item_chip_origin", items, func(i *item) string { return i.ChipOrigin }),
		eachUint32Field("item_cards", items, func(i *item) int { return i.Cards }),
		eachMoneyField("item_unit_price", items, func(i *item) voucherwatch.Money { return i.UnitPrice }),
		eachStringField("item_unit", items, func(i *item) string { return i.Unit }),
		eachFloat64Field("item_quantity", items, func(i *item) float64 { return i.Quantity }),
		eachMoneyField("item_amount", items, func(i *item) voucherwatch.Money { return i.Amount }),
	}
}

var contractsTable = &table[contract]{
	tbl:  "contracts",
	body: func(r *voucherwatch.Record) *contract { return r.Contract },
	// ORDER BY (supplier_uscc, contract_no, source, id)
	sortKey: func(dst []byte, c *contract) []byte {
		return keyString(keyString(dst, c.SupplierUSCC), c.ContractNo)
	},
	fields: concat(
		[]field[contract]{
			stringField("contract_no", func(c *contract) string { return c.ContractNo }),
			stringField("name", func(c *contract) string { return c.Name }),
			stringField("supplier_uscc", func(c *contract) string { return c.SupplierUSCC }),
			stringField("buyer_uscc", func(c *contract) string { return c.BuyerUSCC }),
			dateField("signed_on", func(c *contract) time.Time { return c.SignedOn }),
			dateField("service_start", func(c *contract) time.Time { return c.ServiceStart }),
			dateField("service_end", func(c *contract) time.Time { return c.ServiceEnd }),
			moneyField("amount", func(c *contract) voucherwatch.Money { return c.Amount }),
		},
		itemFields(func(c *contract) []item { return c.Items }),
		[]field[contract]{
			stringField("datacenter", func(c *contract) string { return c.Datacenter }),
			flagField("via_platform", func(c *contract) bool { return c.ViaPlatform }),
			nullableDateField("filed_on", func(c *contract) time.Time { return c.FiledOn }),
			stringsField("domains", func(c *contract) []string { return c.Domains }),
			stringsField("purposes", func(c *contract) []string { return c.Purposes }),
		},
	),
}

var settlementsTable = &table[settlement]{
	tbl:  "settlements",
	body: func(r *voucherwatch.Record) *settlement { return r.Settlement },
	// ORDER BY (supplier_uscc, invoice_code, invoice_no, source, id)
	sortKey: func(dst []byte, s *settlement) []byte {
		return keyString(keyString(keyString(dst, s.SupplierUSCC), s.InvoiceCode), s.InvoiceNo)
	},
	fields: concat(
		[]field[settlement]{
			stringField("settlement_id", func(s *settlement) string { return s.SettlementID }),
			stringField("contract_no", func(s *settlement) string { return s.ContractNo }),
			stringField("supplier_uscc", func(s *settlement) string { return s.SupplierUSCC }),
			stringField("buyer_uscc", func(s *settlement) string { return s.BuyerUSCC }),
			stringField("invoice_code", func(s *settlement) string { return s.InvoiceCode }),
			stringField("invoice_no", func(s *settlement) string { return s.InvoiceNo }),
			stringField("invoice_key", func(s *settlement) string { return s.CanonicalKey() }),
			dateField("invoice_date", func(s *settlement) time.Time { return s.InvoiceDate }),
			moneyField("amount", func(s *settlement) voucherwatch.Money { return s.Amount }),
			moneyField("tax", func(s *settlement) voucherwatch.Money { return s.Tax }),
			stringField("payment_ref", func(s *settlement) string { return s.PaymentRef }),
			dateField("paid_on", func(s *settlement) time.Time { return s.PaidOn }),
			stringField("payer_account", func(s *settlement) string { return s.PayerAccount }),
			stringField("payee_account", func(s *settlement) string { return s.PayeeAccount }),
			dateField("period_start", func(s *settlement) time.Time { return s.PeriodStart }),
			dateField("period_end", func(s *settlement) time.Time { return s.PeriodEnd }),
		},
		itemFields(func(s *settlement) []item { return s.Items }),
	),
}

var claimsTable = &table[claim]{
	tbl:  "claims",
	body: func(r *voucherwatch.Record) *claim { return r.Claim },
	// ORDER BY (applicant_uscc, claim_id, source, id)
	sortKey: func(dst []byte, c *claim) []byte {
		return keyString(keyString(dst, c.ApplicantUSCC), c.ClaimID)
	},
	fields: []field[claim]{
		stringField("claim_id", func(c *claim) string { return c.ClaimID }),
		stringField("applicant_uscc", func(c *claim) string { return c.ApplicantUSCC }),
		uint16Field("round", func(c *claim) int { return c.Round }),
		dateField("submitted_on", func(c *claim) time.Time { return c.SubmittedOn }),
		stringField("city", func(c *claim) string { return c.City }),
		flagField("via_platform", func(c *claim) bool { return c.ViaPlatform }),
		stringsField("contract_no", func(c *claim) []string { return c.Contracts }),
		eachStringField("invoice_code", claimInvoices, func(i *invoice) string { return i.InvoiceCode }),
		eachStringField("invoice_no", claimInvoices, func(i *invoice) string { return i.InvoiceNo }),
		eachStringField("invoice_key", claimInvoices, func(i *invoice) string { return i.CanonicalKey() }),
		eachMoneyField("invoice_amount", claimInvoices, func(i *invoice) voucherwatch.Money { return i.Amount }),
		moneyField("usage_amount", func(c *claim) voucherwatch.Money { return c.UsageAmount }),
		moneyField("requested", func(c *claim) voucherwatch.Money { return c.Requested }),
		stringField("chip_origin", func(c *claim) string { return c.ChipOrigin }),
		stringField("bank_account", func(c *claim) string { return c.BankAccount }),
	},
}

func claimInvoices(c *claim) []invoice { return c.Invoices }

var registryTable = &table[entity]{
	tbl:  "registry",
	body: func(r *voucherwatch.Record) *entity { return r.Entity },
	// ORDER BY (uscc, source, id)
	sortKey: func(dst []byte, e *entity) []byte { return keyString(dst, e.USCC) },
	fields: concat(
		[]field[entity]{
			stringField("uscc", func(e *entity) string { return e.USCC }),
			stringField("name", func(e *entity) string { return e.Name }),
			stringField("name_key", func(e *entity) string { return voucherwatch.CanonicalName(e.Name) }),
			stringField("city", func(e *entity) string { return e.City }),
			stringField("registered_address", func(e *entity) string { return e.RegisteredAddress }),
			stringField("office_address", func(e *entity) string { return e.OfficeAddress }),
			dateField("registered_on", func(e *entity) time.Time { return e.RegisteredOn }),
			flagField("is_sme", func(e *entity) bool { return e.IsSME }),
		},
		personFields("legal_rep_", func(e *entity) *person { return e.LegalRep }),
		[]field[entity]{
			eachStringField("contact_name", contacts, func(p *person) string { return p.Name }),
			eachStringField("contact_person_key", contacts, func(p *person) string { return p.Key }),
			eachStringField("contact_masked", contacts, func(p *person) string { return p.Masked }),
			eachStringField("contact_phone", contacts, func(p *person) string { return p.Phone }),
			eachStringField("contact_email", contacts, func(p *person) string { return p.Email }),
			eachStringField("contact_phone_key", contacts, func(p *person) string { return p.CanonicalPhoneKey() }),
			eachStringField("contact_email_key", contacts, func(p *person) string { return p.CanonicalEmailKey() }),

			eachStringField("holder_kind", holders, func(h *holder) string { return h.Kind }),
			eachStringField("holder_uscc", holders, func(h *holder) string { return h.USCC }),
			eachStringField("holder_person_key", holders, func(h *holder) string { return personOf(h).Key }),
			eachStringField("holder_masked", holders, func(h *holder) string { return personOf(h).Masked }),
			eachStringField("holder_name", holders, func(h *holder) string { return h.Name }),
			eachStringField("holder_name_key", holders, func(h *holder) string { return h.CanonicalNameKey() }),
			eachFloat64Field("holder_pct", holders, func(h *holder) float64 { return h.SharePct }),

			eachStringField("officer_role", officers, func(o *officer) string { return o.Role }),
			eachStringField("officer_person_key", officers, func(o *officer) string { return o.Person.Key }),
			eachStringField("officer_name", officers, func(o *officer) string { return o.Person.Name }),
			eachStringField("officer_masked", officers, func(o *officer) string { return o.Person.Masked }),
			eachStringField("officer_phone", officers, func(o *officer) string { return o.Person.Phone }),
			eachStringField("officer_email", officers, func(o *officer) string { return o.Person.Email }),
			eachStringField("officer_phone_key", officers, func(o *officer) string { return o.Person.CanonicalPhoneKey() }),
			eachStringField("officer_email_key", officers, func(o *officer) string { return o.Person.CanonicalEmailKey() }),

			eachStringField("bank_name", accounts, func(a *account) string { return a.Bank }),
			eachStringField("bank_account_no", accounts, func(a *account) string { return a.AccountNo }),
			eachStringField("bank_account_key", accounts, func(a *account) string { return a.CanonicalAccountKey() }),

			flagField("seriously_dishonest", func(e *entity) bool { return e.Credit.SeriouslyDishonest }),
			flagField("major_violation_within_3y", func(e *entity) bool { return e.Credit.MajorViolationWithin3Y }),

			flagField("is_supplier", func(e *entity) bool { return e.Supplier != nil }),
			flagField("supplier_registered", func(e *entity) bool { return e.Supplier != nil && e.Supplier.Registered }),
			dateField("supplier_registered_on", func(e *entity) time.Time { return supplierOf(e).RegisteredOn }),
			flagField("idc_license", func(e *entity) bool { return e.Supplier != nil && e.Supplier.IDCLicense }),
			eachStringField("capacity_chip_model", capacities, func(c *capacity) string { return c.ChipModel }),
			eachStringField("capacity_chip_origin", capacities, func(c *capacity) string { return c.ChipOrigin }),
			eachUint32Field("capacity_cards", capacities, func(c *capacity) int { return c.Cards }),
			eachStringField("capacity_datacenter", capacities, func(c *capacity) string { return c.Datacenter }),
		},
	),
}

// personFields are the columns of one optional person: empty strings when absent. Only the
// keyed hash and the masked number are stored, never an identity number.
func personFields[T any](prefix string, get func(*T) *person) []field[T] {
	p := func(b *T) *person {
		if v := get(b); v != nil {
			return v
		}
		return &noPerson
	}
	return []field[T]{
		stringField(prefix+"name", func(b *T) string { return p(b).Name }),
		stringField(prefix+"person_key", func(b *T) string { return p(b).Key }),
		stringField(prefix+"masked", func(b *T) string { return p(b).Masked }),
		stringField(prefix+"phone", func(b *T) string { return p(b).Phone }),
		stringField(prefix+"email", func(b *T) string { return p(b).Email }),
		stringField(prefix+"phone_key", func(b *T) string { return p(b).CanonicalPhoneKey() }),
		stringField(prefix+"email_key", func(b *T) string { return p(b).CanonicalEmailKey() }),
	}
}

var (
	noPerson   person
	noSupplier voucherwatch.SupplierProfile
)

func contacts(e *entity) []person     { return e.Contacts }
func holders(e *entity) []holder      { return e.Shareholders }
func officers(e *entity) []officer    { return e.Officers }
func accounts(e *entity) []account    { return e.BankAccounts }
func capacities(e *entity) []capacity { return supplierOf(e).Capacity }

func personOf(h *holder) *person {
	if h.Person == nil {
		return &noPerson
	}
	return h.Person
}

func supplierOf(e *entity) *voucherwatch.SupplierProfile {
	if e.Supplier == nil {
		return &noSupplier
	}
	return e.Supplier
}

func concat[T any](parts ...[]field[T]) []field[T] {
	var all []field[T]
	for _, p := range parts {
		all = append(all, p...)
	}
	return all
}
