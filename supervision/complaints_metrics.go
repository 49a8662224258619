package supervision

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/voucherwatch/voucherwatch"
)

// ComplaintMetrics serves the complaints' figures at /metrics: received, open and overdue, by
// city and category. They are the cluster's (read from the store), not the instance's; a
// scrape reads the store at most once per ComplaintMetricsMaxAge and otherwise serves the last
// reading, so that frequent scrapes of several instances cost little.
type ComplaintMetrics struct {
	counts func(ctx context.Context) ([]voucherwatch.ComplaintCount, error)
	log    *slog.Logger
	now    func() time.Time

	mu   sync.Mutex
	last []voucherwatch.ComplaintCount
	read time.Time
}

// ComplaintMetricsMaxAge is how old a reading of the complaint figures may be when served.
const ComplaintMetricsMaxAge = time.Minute

var (
	complaintsReceivedDesc = prometheus.NewDesc("vw_complaints_received", "Complaints received, whatever their stage.", []string{"city", "category"}, nil)
	complaintsOpenDesc     = prometheus.NewDesc("vw_complaints_open", "Complaints waiting for a decision (new, under review, waiting for an explanation).", []string{"city", "category"}, nil)
	complaintsOverdueDesc  = prometheus.NewDesc("vw_complaints_overdue", "Complaints waiting for an explanation past its deadline.", []string{"city", "category"}, nil)
)

// NewComplaintMetrics registers the complaint figures with reg; counts reads them (the
// store's ComplaintCounts as of now).
func NewComplaintMetrics(reg prometheus.Registerer, counts func(ctx context.Context) ([]voucherwatch.ComplaintCount, error), log *slog.Logger) *ComplaintMetrics {
	c := &ComplaintMetrics{counts: counts, log: log, now: time.Now}
	if reg != nil {
		reg.MustRegister(c)
	}
	return c
}

// Describe implements prometheus.Collector.
func (c *ComplaintMetrics) Describe(ch chan<- *prometheus.Desc) {
	ch <- complaintsReceivedDesc
	ch <- complaintsOpenDesc
	ch <- complaintsOverdueDesc
}

// Collect implements prometheus.Collector. A failed reading serves the last one, logged.
func (c *ComplaintMetrics) Collect(ch chan<- prometheus.Metric) {
	c.mu.Lock()
	if c.read.IsZero() || c.now().Sub(c.read) >= ComplaintMetricsMaxAge {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		got, err := c.counts(ctx)
		cancel()
		if err != nil {
			if c.log != nil {
				c.log.Warn("supervision: complaint figures", "err", err)
			}
		} else {
			c.last, c.read = got, c.now()
		}
	}
	last := c.last
	c.mu.Unlock()
	for _, n := range last {
		labels := []string{n.City, string(n.Category)}
		ch <- prometheus.MustNewConstMetric(complaintsReceivedDesc, prometheus.GaugeValue, float64(n.Received), labels...)
		ch <- prometheus.MustNewConstMetric(complaintsOpenDesc, prometheus.GaugeValue, float64(n.Open), labels...)
		ch <- prometheus.MustNewConstMetric(complaintsOverdueDesc, prometheus.GaugeValue, float64(n.Overdue), labels...)
	}
}
