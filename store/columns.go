package store

import (
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/shopspring/decimal"

	"github.com/voucherwatch/voucherwatch"
)

// ClickHouse types used in more than one place.
const (
	dateTimeType = "DateTime('Asia/Shanghai')"
	moneyType    = "Decimal(18, 2)"
)

// column is one column of a table: its name and its ClickHouse type as system.columns spells
// it.
type column struct {
	name   string
	chType string
}

// scratch holds the slices one insert fills column after column. The driver copies what it is
// given, so one slice per Go type serves every column of the batch, and the next batch.
type scratch struct {
	// The batch's values that are not read from the records.
	hashes     []uint64 // rec_hash of each record
	ingestedAt time.Time
	// chunk is how many records are appended to every column before the next ones; 0:
	// defaultFillChunk.
	chunk int
	// peer, when set, is the scratch of a second goroutine that fills half of a large
	// batch's columns (see parallelFillMin).
	peer     *scratch
	parallel int // the batch from which peer is used; 0: parallelFillMin
	// flush, above 0, is how many records are sent per block (defaultFlushRows); gate is
	// called before the first block is sent, and flushed is set once one has been.
	flush   int
	gate    func() error
	flushed bool

	strs  []string
	u8    []uint8
	u16   []uint16
	u32   []uint32
	u64   []uint64
	f64   []float64
	times []time.Time
	dates []*time.Time
	decs  []decimal.Decimal

	// One row of an Array column.
	rowStrs []string
	rowU32  []uint32
	rowF64  []float64
	rowDecs []decimal.Decimal
}

// release drops the references the slices hold into the batch's records, so that a pooled
// scratch does not keep a batch alive.
func (s *scratch) release() {
	if s.peer != nil {
		s.peer.release()
	}
	s.hashes, s.gate = nil, nil
	clear(s.strs[:cap(s.strs)])
	clear(s.dates[:cap(s.dates)])
	clear(s.decs[:cap(s.decs)])
	clear(s.rowStrs[:cap(s.rowStrs)])
	clear(s.rowDecs[:cap(s.rowDecs)])
}

// field is one column of a record table and how to fill it, column-wise, from the records'
// bodies of type T.
type field[T any] struct {
	column
	write func(col driver.BatchColumn, bodies []*T, s *scratch) error
}

func fill[T, V any](buf *[]V, bodies []*T, get func(*T) V) []V {
	*buf = (*buf)[:0]
	for _, b := range bodies {
		*buf = append(*buf, get(b))
	}
	return *buf
}

func stringField[T any](name string, get func(*T) string) field[T] {
	return field[T]{column{name, "String"}, func(col driver.BatchColumn, bodies []*T, s *scratch) error {
		return col.Append(fill(&s.strs, bodies, get))
	}}
}

// flagField stores a bool as UInt8 (18.16 has no Bool).
func flagField[T any](name string, get func(*T) bool) field[T] {
	return field[T]{column{name, "UInt8"}, func(col driver.BatchColumn, bodies []*T, s *scratch) error {
		return col.Append(fill(&s.u8, bodies, func(b *T) uint8 { return flag(get(b)) }))
	}}
}

func flag(v bool) uint8 {
	if v {
		return 1
	}
	return 0
}

func uint16Field[T any](name string, get func(*T) int) field[T] {
	return field[T]{column{name, "UInt16"}, func(col driver.BatchColumn, bodies []*T, s *scratch) error {
		return col.Append(fill(&s.u16, bodies, func(b *T) uint16 { return uint16(get(b)) }))
	}}
}

func uint32Field[T any](name string, get func(*T) int) field[T] {
	return field[T]{column{name, "UInt32"}, func(col driver.BatchColumn, bodies []*T, s *scratch) error {
		return col.Append(fill(&s.u32, bodies, func(b *T) uint32 { return uint32(get(b)) }))
	}}
}

func uint64Field[T any](name string, get func(*T) uint64) field[T] {
	return field[T]{column{name, "UInt64"}, func(col driver.BatchColumn, bodies []*T, s *scratch) error {
		return col.Append(fill(&s.u64, bodies, get))
	}}
}

func float64Field[T any](name string, get func(*T) float64) field[T] {
	return field[T]{column{name, "Float64"}, func(col driver.BatchColumn, bodies []*T, s *scratch) error {
		return col.Append(fill(&s.f64, bodies, get))
	}}
}

// dateField stores the calendar date of a time in its own zone; a zero time becomes
// ClickHouse's zero date, 1970-01-01.
func dateField[T any](name string, get func(*T) time.Time) field[T] {
	return field[T]{column{name, "Date"}, func(col driver.BatchColumn, bodies []*T, s *scratch) error {
		return col.Append(fill(&s.times, bodies, get))
	}}
}

// nullableDateField stores a zero time as NULL.
func nullableDateField[T any](name string, get func(*T) time.Time) field[T] {
	return field[T]{column{name, "Nullable(Date)"}, func(col driver.BatchColumn, bodies []*T, s *scratch) error {
		s.times = fill(&s.times, bodies, get)
		s.dates = s.dates[:0]
		for i := range s.times {
			if s.times[i].IsZero() {
				s.dates = append(s.dates, nil)
			} else {
				s.dates = append(s.dates, &s.times[i])
			}
		}
		return col.Append(s.dates)
	}}
}

func dateTimeField[T any](name string, get func(*T) time.Time) field[T] {
	return field[T]{column{name, dateTimeType}, func(col driver.BatchColumn, bodies []*T, s *scratch) error {
		return col.Append(fill(&s.times, bodies, get))
	}}
}

func moneyField[T any](name string, get func(*T) voucherwatch.Money) field[T] {
	return field[T]{column{name, moneyType}, func(col driver.BatchColumn, bodies []*T, s *scratch) error {
		return col.Append(fill(&s.decs, bodies, func(b *T) decimal.Decimal { return yuan(get(b)) }))
	}}
}

// yuan converts fen to the Decimal(18, 2) the driver writes.
func yuan(m voucherwatch.Money) decimal.Decimal { return decimal.New(int64(m), -2) }

func stringsField[T any](name string, get func(*T) []string) field[T] {
	return field[T]{column{name, "Array(String)"}, func(col driver.BatchColumn, bodies []*T, s *scratch) error {
		for _, b := range bodies {
			v := get(b)
			if v == nil {
				v = []string{}
			}
			if err := col.AppendRow(v); err != nil {
				return err
			}
		}
		return nil
	}}
}

// eachRow appends, for every body, one Array row made of get applied to each element of the
// body's list. The row slice is reused: the driver copies it.
func eachRow[T, E, V any](col driver.BatchColumn, bodies []*T, row *[]V, list func(*T) []E, get func(*E) V) error {
	for _, b := range bodies {
		elems := list(b)
		*row = (*row)[:0]
		for i := range elems {
			*row = append(*row, get(&elems[i]))
		}
		if err := col.AppendRow(*row); err != nil {
			return err
		}
	}
	return nil
}

// The each*Field constructors make one parallel Array column per element field of a nested
// list: element i of every such column describes the list's element i.

func eachStringField[T, E any](name string, list func(*T) []E, get func(*E) string) field[T] {
	return field[T]{column{name, "Array(String)"}, func(col driver.BatchColumn, bodies []*T, s *scratch) error {
		return eachRow(col, bodies, &s.rowStrs, list, get)
	}}
}

func eachUint32Field[T, E any](name string, list func(*T) []E, get func(*E) int) field[T] {
	return field[T]{column{name, "Array(UInt32)"}, func(col driver.BatchColumn, bodies []*T, s *scratch) error {
		return eachRow(col, bodies, &s.rowU32, list, func(e *E) uint32 { return uint32(get(e)) })
	}}
}

func eachFloat64Field[T, E any](name string, list func(*T) []E, get func(*E) float64) field[T] {
	return field[T]{column{name, "Array(Float64)"}, func(col driver.BatchColumn, bodies []*T, s *scratch) error {
		return eachRow(col, bodies, &s.rowF64, list, get)
	}}
}

func eachMoneyField[T, E any](name string, list func(*T) []E, get func(*E) voucherwatch.Money) field[T] {
	return field[T]{column{name, "Array(" + moneyType + ")"}, func(col driver.BatchColumn, bodies []*T, s *scratch) error {
		return eachRow(col, bodies, &s.rowDecs, list, func(e *E) decimal.Decimal { return yuan(get(e)) })
	}}
}
