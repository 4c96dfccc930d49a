// Package metrics serves Corral's Prometheus metrics: HTTP latency by
// route, what Corral costs the Proxmox nodes (requests by endpoint and
// status), open SSH and console sessions, jobs by state, and the VMID
// cache's hits and refreshes. It is off unless --metrics is set, and then
// answers only a bearer token from the environment.
package metrics

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"corral/proxmox"
	"corral/store"
)

// Sources are read on each scrape; a nil source is left out.
type Sources struct {
	// Sessions counts open shell sessions by door ("ssh", "console").
	Sessions func() map[string]int
	// Jobs counts container-creation jobs by state.
	Jobs func(context.Context) (map[store.JobState]int, error)
}

// Metrics holds Corral's registry and the instruments the code updates.
type Metrics struct {
	reg         *prometheus.Registry
	http        *prometheus.HistogramVec
	pveRequests *prometheus.CounterVec
	pveDuration *prometheus.HistogramVec
	vmidLookups *prometheus.CounterVec
	vmidRefresh *prometheus.HistogramVec
	src         *sourceCollector
}

// New registers every instrument, with the Go runtime's and the process's
// own (resident memory above all, for a Raspberry Pi). The sources are
// set later, once what they read exists (SetSources).
func New(log *slog.Logger) *Metrics {
	m := &Metrics{
		src: &sourceCollector{log: log},
		reg: prometheus.NewRegistry(),
		http: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "corral_http_request_duration_seconds", Help: "Time to answer an HTTP request, by route.",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"route", "method", "code"}),
		pveRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "corral_proxmox_requests_total", Help: "Requests Corral made to Proxmox nodes, by endpoint and answer.",
		}, []string{"endpoint", "method", "status"}),
		pveDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "corral_proxmox_request_duration_seconds", Help: "Time a Proxmox node took to answer, by endpoint.",
			Buckets: []float64{.01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}, []string{"endpoint", "method"}),
		vmidLookups: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "corral_vmid_lookups_total", Help: "VMID checks answered from the cache (hit) or by asking Proxmox (miss).",
		}, []string{"result"}),
		vmidRefresh: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "corral_vmid_refresh_duration_seconds", Help: "Time to refresh one cluster's used VMIDs.",
			Buckets: []float64{.01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}, []string{"result"}),
	}
	m.reg.MustRegister(m.http, m.pveRequests, m.pveDuration, m.vmidLookups, m.vmidRefresh,
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.src)
	return m
}

// SetSources sets what scrapes read; call it before serving.
func (m *Metrics) SetSources(src Sources) { m.src.src = src }

// Middleware times each request under its route pattern (/containers/:node/:vmid),
// never its path, so series stay few.
func (m *Metrics) Middleware() echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			start := time.Now()
			err := next(c)
			code := c.Response().Status
			if he, ok := err.(*echo.HTTPError); ok && !c.Response().Committed {
				code = he.Code
			}
			route := c.Path()
			if route == "" {
				route = "unmatched"
			}
			m.http.WithLabelValues(route, c.Request().Method, strconv.Itoa(code)).Observe(time.Since(start).Seconds())
			return err
		}
	}
}

// ObserveProxmox counts one request to a node (proxmox.WithObserver).
func (m *Metrics) ObserveProxmox(r proxmox.Request) {
	endpoint := proxmox.Endpoint(r.Path)
	status := strconv.Itoa(r.Status)
	if r.Status == 0 {
		status = strings.ToLower(r.Kind.String()) // no answer: why
	}
	m.pveRequests.WithLabelValues(endpoint, r.Method, status).Inc()
	m.pveDuration.WithLabelValues(endpoint, r.Method).Observe(r.Duration.Seconds())
}

// VMIDLookup counts one VMID check.
func (m *Metrics) VMIDLookup(hit bool) {
	result := "miss"
	if hit {
		result = "hit"
	}
	m.vmidLookups.WithLabelValues(result).Inc()
}

// VMIDRefresh records one cluster refresh of the VMID cache.
func (m *Metrics) VMIDRefresh(d time.Duration, err error) {
	result := "ok"
	if err != nil {
		result = "error"
	}
	m.vmidRefresh.WithLabelValues(result).Observe(d.Seconds())
}

// Handler serves the metrics to a scraper presenting token as a bearer
// token. The comparison is of fixed-length digests, in constant time.
func (m *Metrics) Handler(token string) echo.HandlerFunc {
	want := sha256.Sum256([]byte(token))
	serve := promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
	return func(c echo.Context) error {
		got, ok := strings.CutPrefix(c.Request().Header.Get(echo.HeaderAuthorization), "Bearer ")
		sum := sha256.Sum256([]byte(got))
		if !ok || token == "" || subtle.ConstantTimeCompare(sum[:], want[:]) != 1 {
			c.Response().Header().Set(echo.HeaderWWWAuthenticate, `Bearer realm="corral metrics"`)
			return c.String(http.StatusUnauthorized, "metrics need the bearer token from CORRAL_METRICS_TOKEN\n")
		}
		serve.ServeHTTP(c.Response(), c.Request())
		return nil
	}
}

// sourceCollector reads the Sources on each scrape.
type sourceCollector struct {
	src Sources
	log *slog.Logger
}

var (
	sessionsDesc = prometheus.NewDesc("corral_sessions", "Open shell sessions, by door.", []string{"door"}, nil)
	jobsDesc     = prometheus.NewDesc("corral_jobs", "Container-creation jobs, by state.", []string{"state"}, nil)
)

func (s *sourceCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- sessionsDesc
	ch <- jobsDesc
}

func (s *sourceCollector) Collect(ch chan<- prometheus.Metric) {
	if s.src.Sessions != nil {
		for door, n := range s.src.Sessions() {
			ch <- prometheus.MustNewConstMetric(sessionsDesc, prometheus.GaugeValue, float64(n), door)
		}
	}
	if s.src.Jobs != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		counts, err := s.src.Jobs(ctx)
		if err != nil {
			s.log.Warn("metrics: job counts", slog.Any("err", err))
			return
		}
		for state, n := range counts {
			ch <- prometheus.MustNewConstMetric(jobsDesc, prometheus.GaugeValue, float64(n), string(state))
		}
	}
}
