package coordinator

import (
	"html/template"
	"net/http"
	"time"
)

var statusTemplate = template.Must(template.New("status").Parse(`<!DOCTYPE html>
<html><head><meta charset="utf-8"><meta http-equiv="refresh" content="5">
<title>modsweep coordinator</title>
<style>body{font-family:sans-serif}td,th{padding:2px 10px;text-align:right}
td:first-child,th:first-child,td:nth-child(2),th:nth-child(2){text-align:left}</style>
</head><body>
<h1>modsweep coordinator</h1>
<p>{{.Agents}} agents registered ({{.Quarantined}} quarantined), {{.Leased}} trials leased,
lease TTL {{.LeaseTTL}}. <a href="/metrics">metrics</a></p>
<table>
<tr><th>sweep</th><th>name</th><th>state</th><th>total</th><th>pending</th><th>leased</th>
<th>succeeded</th><th>failed</th><th>cancelled</th><th>oldest lease</th><th>created</th></tr>
{{range .Sweeps}}<tr><td>{{.ID}}</td><td>{{.Name}}</td><td>{{.State}}</td><td>{{.Total}}</td>
<td>{{.Pending}}</td><td>{{.Leased}}</td><td>{{.Succeeded}}</td><td>{{.Failed}}</td>
<td>{{.Cancelled}}</td><td>{{.OldestLease}}</td><td>{{.Created}}</td></tr>
{{else}}<tr><td colspan="11">no sweeps yet</td></tr>{{end}}
</table></body></html>
`))

type statusRow struct {
	ID, Name, State, Created, OldestLease                string
	Total, Pending, Leased, Succeeded, Failed, Cancelled int64
}

// statusPage renders every sweep's counts as an HTML table that reloads
// every 5 seconds.
func (c *Coordinator) statusPage(w http.ResponseWriter, r *http.Request) {
	sums, err := c.sweepSummaries()
	if err != nil {
		http.Error(w, err.Error(), http.StatusServiceUnavailable)
		return
	}
	c.mu.Lock()
	data := struct {
		Agents, Quarantined, Leased int
		LeaseTTL                    time.Duration
		Sweeps                      []statusRow
	}{Agents: len(c.agents), Leased: len(c.leased), LeaseTTL: c.cfg.LeaseTTL}
	for _, a := range c.agents {
		if a.Quarantined {
			data.Quarantined++
		}
	}
	c.mu.Unlock()

	for i := len(sums) - 1; i >= 0; i-- { // newest first
		s := sums[i]
		data.Sweeps = append(data.Sweeps, statusRow{
			ID: s.rec.ID, Name: s.rec.Name, State: s.state,
			Created:     s.rec.CreatedAt.UTC().Format(time.DateTime),
			OldestLease: s.oldestAge.Round(time.Second).String(),
			Total:       s.total, Pending: s.counts[statePending], Leased: s.counts[stateLeased],
			Succeeded: s.counts[stateSucceeded], Failed: s.counts[stateFailed],
			Cancelled: s.counts[stateCancelled],
		})
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	if err := statusTemplate.Execute(w, data); err != nil {
		c.log.Error("render status page failed", "error", err)
	}
}
