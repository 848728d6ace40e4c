package coordinator

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// metrics are the coordinator's Prometheus series, on a registry of its
// own so that several coordinators can live in one process.
type metrics struct {
	registry         *prometheus.Registry
	leaseLatency     prometheus.Histogram
	commitSeconds    prometheus.Histogram
	commitWrites     prometheus.Histogram
	rpcErrors        *prometheus.CounterVec
	trialTransitions *prometheus.CounterVec
	expiredLeases    prometheus.Counter
	quarantines      prometheus.Counter
}

func newMetrics(c *Coordinator) *metrics {
	m := &metrics{
		registry: prometheus.NewRegistry(),
		leaseLatency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "modsweep_lease_latency_seconds",
			Help: "Time from a LeaseTrial request to its committed lease, for requests that found a trial.",
			Buckets: []float64{
				0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1,
			},
		}),
		commitSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "modsweep_commit_seconds",
			Help:    "Duration of one bbolt commit, including its fsync.",
			Buckets: prometheus.ExponentialBuckets(0.0002, 2, 14),
		}),
		commitWrites: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "modsweep_commit_writes",
			Help:    "Key writes per bbolt commit; many agents share one commit.",
			Buckets: prometheus.ExponentialBuckets(1, 2, 14),
		}),
		rpcErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "modsweep_rpc_errors_total",
			Help: "RPCs that returned an error, by method and gRPC code.",
		}, []string{"method", "code"}),
		trialTransitions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "modsweep_trial_transitions_total",
			Help: "Trial state changes since start, by the state entered.",
		}, []string{"state"}),
		expiredLeases: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "modsweep_expired_leases_total",
			Help: "Leases that expired without a heartbeat and were reaped.",
		}),
		quarantines: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "modsweep_agent_quarantines_total",
			Help: "Agents quarantined for failing trials in a row.",
		}),
	}
	m.registry.MustRegister(
		m.leaseLatency, m.commitSeconds, m.commitWrites, m.rpcErrors,
		m.trialTransitions, m.expiredLeases, m.quarantines,
		&stateCollector{c: c},
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	return m
}

// Gatherer returns the registry that holds the coordinator's metrics.
func (c *Coordinator) Gatherer() prometheus.Gatherer { return c.metrics.registry }

var (
	trialsDesc = prometheus.NewDesc("modsweep_trials",
		"Trials of every stored sweep, by state.", []string{"state"}, nil)
	leasesDesc = prometheus.NewDesc("modsweep_active_leases",
		"Trials leased to agents now.", nil, nil)
	agentsDesc = prometheus.NewDesc("modsweep_agents",
		"Registered agents, by whether they are quarantined.", []string{"quarantined"}, nil)
)

// stateCollector reads trial and lease counts from the in-memory index at
// scrape time.
type stateCollector struct{ c *Coordinator }

func (s *stateCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- trialsDesc
	ch <- leasesDesc
	ch <- agentsDesc
}

func (s *stateCollector) Collect(ch chan<- prometheus.Metric) {
	c := s.c
	c.mu.Lock()
	totals := map[string]int64{}
	for _, sw := range c.sweeps {
		for state, n := range sw.counts {
			totals[state] += n
		}
	}
	leased := len(c.leased)
	quarantined := 0
	for _, a := range c.agents {
		if a.Quarantined {
			quarantined++
		}
	}
	agents := len(c.agents)
	c.mu.Unlock()

	for _, state := range trialStates {
		ch <- prometheus.MustNewConstMetric(trialsDesc, prometheus.GaugeValue, float64(totals[state]), state)
	}
	ch <- prometheus.MustNewConstMetric(leasesDesc, prometheus.GaugeValue, float64(leased))
	ch <- prometheus.MustNewConstMetric(agentsDesc, prometheus.GaugeValue, float64(agents-quarantined), "false")
	ch <- prometheus.MustNewConstMetric(agentsDesc, prometheus.GaugeValue, float64(quarantined), "true")
}
