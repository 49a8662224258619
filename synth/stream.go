package synth

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"time"
)

// streamResource is one metered resource of the benchmark stream, its JSON fragments encoded
// once so that each message only appends the window and the figures.
type streamResource struct {
	key    []byte // resource_id: the Kafka key
	source []byte // the supplier's USCC
	head   []byte // `,"data":{"supplier_uscc":...,"cards":8,` up to the window
	tail   []byte // `,"login_orgs":[...],"datacenter":"..."}}`
	cards  int
	next   int64 // start of the next window, Unix seconds
	node   StreamNode
}

// StreamNode is one metered resource of UsageStream's world, as its messages carry it: every
// field of its usage records but the window and the figures, and its first window's start.
// The scale benchmark's fast history path generates the same nodes' windows in ClickHouse.
type StreamNode struct {
	SupplierUSCC, BuyerUSCC, ContractNo, Tenant, ResourceID string
	ChipModel, ChipOrigin, Datacenter                       string
	Cards                                                   int
	LoginOrgs                                               []string
	FirstWindow                                             time.Time
}

// UsageStreamNodes returns the resources of UsageStream(seed, ...) in the order its messages
// cycle through them: message k is a window of node k mod len, the (k div len)-th of that node,
// hourly from its FirstWindow; every message's source is its node's supplier and its id
// "usage-" and k+1 in ten digits.
func UsageStreamNodes(seed int64) []StreamNode {
	s := newUsageStream(seed, 2000)
	out := make([]StreamNode, len(s.res))
	for i, r := range s.res {
		out[i] = r.node
	}
	return out
}

// usageStream is the small world behind UsageStream and BadUsage: a few suppliers letting
// nodes to a few dozen buyers, each node reporting hourly windows.
type usageStream struct {
	r     *rand.Rand
	res   []streamResource
	seq   uint64
	buf   []byte
	start int64
	// window is the length of a window in seconds: streamWindow unless a backfill says.
	window int64
}

const streamWindow = 3600 // seconds: the benchmark stream reports hourly windows

func newUsageStream(seed int64, resources int) *usageStream {
	r := rand.New(rand.NewPCG(uint64(seed), 0x2545f4914f6cdd1d))
	s := &usageStream{r: r, buf: make([]byte, 0, 1024), window: streamWindow}
	s.start = time.Date(2026, 1, 5, 0, 0, 0, 0, cst).Unix()
	city := func() string { return cities[r.IntN(3)].districts[0].code }
	suppliers := make([]string, 8)
	for i := range suppliers {
		suppliers[i] = newUSCC(r, city())
	}
	buyers := make([]string, 64)
	for i := range buyers {
		buyers[i] = newUSCC(r, city())
	}
	for i := 0; i < resources; i++ {
		sup := suppliers[i%len(suppliers)]
		buyer := buyers[r.IntN(len(buyers))]
		ch := pickChip(r, "")
		contract := fmt.Sprintf("HT%s-%05d", sup[14:], 1+i/4)
		rid := fmt.Sprintf("%s-N%03d", contract, i%4)
		dc := fmt.Sprintf("%s%d号楼", datacenters[i%len(datacenters)].name, 1+i%9)
		cards := 8
		if r.IntN(8) == 0 {
			cards = 4
		}
		head := fmt.Appendf(nil, `,"data":{"supplier_uscc":%q,"buyer_uscc":%q,"contract_no":%q,"tenant":"t-%s","resource_id":%q,"chip_model":%q,"chip_origin":%q,"cards":%d,`,
			sup, buyer, contract, buyer[12:], rid, ch.Model, ch.Origin, cards)
		tail := fmt.Appendf(nil, `,"login_orgs":[%q],"datacenter":%q}}`, buyer, dc)
		first := s.start + int64(r.IntN(24))*streamWindow
		s.res = append(s.res, streamResource{key: []byte(rid), source: []byte(sup), head: head, tail: tail, cards: cards,
			next: first, node: StreamNode{SupplierUSCC: sup, BuyerUSCC: buyer, ContractNo: contract, Tenant: "t-" + buyer[12:],
				ResourceID: rid, ChipModel: ch.Model, ChipOrigin: ch.Origin, Datacenter: dc, Cards: cards,
				LoginOrgs: []string{buyer}, FirstWindow: time.Unix(first, 0).In(cst)}})
	}
	return s
}

// next encodes the next window of resource i into the stream's buffer and returns the message;
// its Key and Value are only valid until the following call.
func (s *usageStream) next(i int) Message {
	res := &s.res[i]
	ws, we := res.next, res.next+s.window
	res.next = we
	s.seq++
	b := s.buf[:0]
	b = append(b, `{"specversion":"1.0","id":"usage-`...)
	b = appendPadded(b, s.seq, 10)
	b = append(b, `","source":"`...)
	b = append(b, res.source...)
	b = append(b, `","type":"usage.v1","time":"`...)
	b = appendStamp(b, we+300+int64(s.r.IntN(600)))
	b = append(b, '"')
	b = append(b, res.head...)
	b = append(b, `"window_start":"`...)
	b = appendStamp(b, ws)
	b = append(b, `","window_end":"`...)
	b = appendStamp(b, we)
	duty := 0.2 + s.r.Float64()*0.8
	b = append(b, `","card_hours":`...)
	b = strconv.AppendFloat(b, float64(res.cards)*duty*float64(s.window)/3600, 'f', 3, 64)
	b = append(b, `,"util_avg":`...)
	b = strconv.AppendFloat(b, 0.05+s.r.Float64()*0.9, 'f', 3, 64)
	b = append(b, `,"jobs":`...)
	b = strconv.AppendInt(b, int64(s.r.IntN(4)), 10)
	b = append(b, `,"users":`...)
	b = strconv.AppendInt(b, int64(1+s.r.IntN(4)), 10)
	b = append(b, res.tail...)
	s.buf = b
	return Message{Topic: TopicUsage, Key: res.key, Value: b}
}

// UsageStream calls fn with n valid usage.v1 messages, for benchmarks and load tests: 2,000
// nodes of eight suppliers reporting hourly windows, every (source, id) distinct, deterministic
// from seed. It allocates nothing per message: the Key and Value passed to fn are reused after
// fn returns, so fn must copy what it keeps. It stops at the first error fn returns.
func UsageStream(seed int64, n int, fn func(Message) error) error {
	s := newUsageStream(seed, 2000)
	for k := 0; k < n; k++ {
		if err := fn(s.next(k % len(s.res))); err != nil {
			return err
		}
	}
	return nil
}

// appendStamp writes Unix seconds as RFC 3339 in China Standard Time, without the time
// package's layout interpretation (the hot path of UsageStream).
func appendStamp(b []byte, unix int64) []byte {
	t := time.Unix(unix, 0).In(cst)
	y, mo, d := t.Date()
	h, mi, sec := t.Clock()
	b = appendPadded(b, uint64(y), 4)
	b = append(b, '-')
	b = appendPadded(b, uint64(mo), 2)
	b = append(b, '-')
	b = appendPadded(b, uint64(d), 2)
	b = append(b, 'T')
	b = appendPadded(b, uint64(h), 2)
	b = append(b, ':')
	b = appendPadded(b, uint64(mi), 2)
	b = append(b, ':')
	b = appendPadded(b, uint64(sec), 2)
	return append(b, "+08:00"...)
}

func appendPadded(b []byte, v uint64, width int) []byte {
	var tmp [20]byte
	i := len(tmp)
	for v > 0 || i == len(tmp) {
		i--
		tmp[i] = byte('0' + v%10)
		v /= 10
	}
	for len(tmp)-i < width {
		i--
		tmp[i] = '0'
	}
	return append(b, tmp[i:]...)
}
