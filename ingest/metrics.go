package ingest

import "github.com/prometheus/client_golang/prometheus"

// Metrics are the ingest counters an operator scrapes. Counters are per instance; the status
// endpoint gives the cluster-wide figures from Kafka and ClickHouse.
type Metrics struct {
	Consumed   *prometheus.CounterVec
	Stored     *prometheus.CounterVec
	Duplicates *prometheus.CounterVec
	Rejected   *prometheus.CounterVec
	Lag        *prometheus.GaugeVec
	BatchSize  *prometheus.HistogramVec
	InsertTime *prometheus.HistogramVec
	// Stages is where a batch's time went, per topic and stage: decode, then the store's
	// stages (voucherwatch.WriteStages: turn, prepare, lookup, wait, fill, send), then commit.
	Stages  *prometheus.HistogramVec
	Retries *prometheus.CounterVec

	// WatchdogRebuilds counts readers closed and reopened because they waited while their
	// topic's lag did not fall; Stalled is how long such a wait has lasted (0: progressing).
	WatchdogRebuilds *prometheus.CounterVec
	Stalled          *prometheus.GaugeVec
}

// NewMetrics creates the ingest metrics and registers them with reg (nil: not registered).
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		Consumed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "vw_ingest_consumed_total", Help: "Messages consumed and committed, per topic.",
		}, []string{"topic"}),
		Stored: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "vw_ingest_stored_total", Help: "Records stored for the first time, per topic.",
		}, []string{"topic"}),
		Duplicates: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "vw_ingest_duplicates_total", Help: "Messages recognised as already stored (same source and id), per topic.",
		}, []string{"topic"}),
		Rejected: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "vw_ingest_rejected_total", Help: "Messages sent to the dead-letter topic, per topic.",
		}, []string{"topic"}),
		Lag: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "vw_ingest_lag", Help: "Messages not yet committed by the consumer group, per topic.",
		}, []string{"topic"}),
		BatchSize: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "vw_ingest_batch_size", Help: "Messages per flushed batch.",
			Buckets: prometheus.ExponentialBuckets(1, 4, 9),
		}, []string{"topic"}),
		InsertTime: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "vw_ingest_insert_seconds", Help: "Time to store one batch in ClickHouse, retries included.",
			Buckets: prometheus.ExponentialBuckets(0.001, 3, 10),
		}, []string{"topic"}),
		Stages: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "vw_ingest_stage_seconds", Help: "Time one batch spent in each stage of ingest (decode, turn, prepare, lookup, wait, fill, send, commit), per topic and stage.",
			Buckets: prometheus.ExponentialBuckets(0.001, 3, 10),
		}, []string{"topic", "stage"}),
		Retries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "vw_ingest_retries_total", Help: "Retried operations after a dependency failed, per topic and operation.",
		}, []string{"topic", "op"}),
		WatchdogRebuilds: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "vw_ingest_watchdog_rebuilds_total", Help: "Readers the progress watchdog closed and reopened because no message came while the topic's lag did not fall, per topic.",
		}, []string{"topic"}),
		Stalled: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "vw_ingest_stalled_seconds", Help: "How long a reader of the topic has been stalled (waiting while the lag does not fall); 0 while it progresses.",
		}, []string{"topic"}),
	}
	if reg != nil {
		reg.MustRegister(m.Consumed, m.Stored, m.Duplicates, m.Rejected, m.Lag, m.BatchSize, m.InsertTime, m.Stages, m.Retries, m.WatchdogRebuilds, m.Stalled)
	}
	return m
}
