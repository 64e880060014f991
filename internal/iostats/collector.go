package iostats

import (
	"github.com/prometheus/client_golang/prometheus"
)

// collector exports an IOStats to Prometheus. It reads the same atomics
// as Snapshot when scraped; nothing is registered globally.
type collector struct {
	s                              *IOStats
	calls, errors, latency, nbytes *prometheus.Desc
}

// Collector returns a Prometheus collector of s's counters; constLabels
// (say volume and brick) are added to every metric. The caller registers
// it where it wants.
func (s *IOStats) Collector(constLabels prometheus.Labels) prometheus.Collector {
	return &collector{
		s: s,
		calls: prometheus.NewDesc("gluster_fop_calls_total",
			"File operations handled, by fop.", []string{"fop"}, constLabels),
		errors: prometheus.NewDesc("gluster_fop_errors_total",
			"File operations that failed, by fop.", []string{"fop"}, constLabels),
		latency: prometheus.NewDesc("gluster_fop_latency_seconds_total",
			"Summed latency of file operations, by fop.", []string{"fop"}, constLabels),
		nbytes: prometheus.NewDesc("gluster_io_bytes_total",
			"Bytes read and written.", []string{"direction"}, constLabels),
	}
}

func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.calls
	ch <- c.errors
	ch <- c.latency
	ch <- c.nbytes
}

func (c *collector) Collect(ch chan<- prometheus.Metric) {
	snap := c.s.Snapshot()
	for name, o := range snap.Ops {
		ch <- prometheus.MustNewConstMetric(c.calls, prometheus.CounterValue, float64(o.Calls), name)
		ch <- prometheus.MustNewConstMetric(c.errors, prometheus.CounterValue, float64(o.Errors), name)
		ch <- prometheus.MustNewConstMetric(c.latency, prometheus.CounterValue, o.Total.Seconds(), name)
	}
	ch <- prometheus.MustNewConstMetric(c.nbytes, prometheus.CounterValue, float64(snap.BytesRead), "read")
	ch <- prometheus.MustNewConstMetric(c.nbytes, prometheus.CounterValue, float64(snap.BytesWritten), "write")
}
