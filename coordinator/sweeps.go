package coordinator

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"
)

// submission is a validated, expanded sweep file.
type submission struct {
	name   string
	source string
	spec   []byte
	trials []trialSpec
	axes   map[string]int64
}

// submitResult is the result of a submission.
type submitResult struct {
	sweepID   string
	name      string
	trials    int
	newTrials int
	axes      map[string]int64
}

// sweepID derives a sweep's id from its name and trial ids, so the same
// file always maps to the same sweep and any change to the grid to a new
// one.
func sweepID(name string, trials []trialSpec) string {
	ids := make([]string, len(trials))
	for i, t := range trials {
		ids[i] = t.ID
	}
	slices.Sort(ids)
	h := sha256.New()
	fmt.Fprintf(h, "modsweep sweep\n%s\n", name)
	for _, id := range ids {
		fmt.Fprintln(h, id)
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}

// submit stores a sweep, or resumes it when it is already stored.
//
// A new sweep copies the results of trials that succeeded in an earlier
// sweep of the same name, so extending a file reruns nothing, and it stops
// those earlier sweeps that still have work, because it replaces them. Submitting a stored sweep again
// sets a stopped or cancelled sweep running and requeues its cancelled
// trials.
func (c *Coordinator) submit(sub submission) (submitResult, error) {
	id := sweepID(sub.name, sub.trials)
	res := submitResult{sweepID: id, name: sub.name, trials: len(sub.trials), axes: sub.axes}

	// Encode before taking the lock, so a bad configuration changes nothing.
	encoded := make([][]byte, len(sub.trials))
	for i, spec := range sub.trials {
		body, err := json.Marshal(spec)
		if err != nil {
			return submitResult{}, fmt.Errorf("%w: encode trial %s: %w", ErrInvalid, spec.ID, err)
		}
		encoded[i] = body
	}

	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return submitResult{}, ErrClosed
	}
	if s, ok := c.sweeps[id]; ok {
		ws := c.resumeLocked(s)
		b := c.enqueueLocked(ws...)
		c.mu.Unlock()
		if err := b.wait(); err != nil {
			return submitResult{}, err
		}
		c.log.Info("sweep submitted again", "sweep_id", id, "name", sub.name,
			"resumed", len(ws) > 0)
		return res, nil
	}

	now := time.Now()
	s := newMemSweep(sweepRecord{
		ID:        id,
		Name:      sub.name,
		State:     sweepRunning,
		CreatedAt: now,
		Source:    sub.source,
		Trials:    len(sub.trials),
		Axes:      sub.axes,
	}, sub.spec)
	ws := []write{sweepWrite(s), {top: bucketSpecs, key: id, value: sub.spec}}

	earlier, known := c.earlierResultsLocked(sub.name)
	for i, spec := range sub.trials {
		ws = append(ws, write{top: bucketConfigs, sweep: id, key: spec.ID, value: encoded[i]})

		t := &memTrial{id: spec.ID, sweep: s}
		t.st = trialState{ID: spec.ID, Index: spec.Index, State: statePending, UpdatedAt: now}
		if prev, ok := earlier[spec.ID]; ok {
			t.st = prev.st.clone()
			t.st.Index = spec.Index
			ws = append(ws, write{
				top: bucketResults, sweep: id, key: indexKey(spec.Index),
				copyFrom: prev.sweep.rec.ID, copyKey: indexKey(prev.st.Index),
			})
		}
		if !known[spec.ID] {
			res.newTrials++
		}
		ws = append(ws, trialWrite(t))
		c.addTrialLocked(t)
	}

	var stopped []string
	for _, old := range c.order {
		if old.rec.Name == sub.name && old.state() == sweepRunning {
			old.rec.State = sweepStopped
			ws = append(ws, sweepWrite(old))
			stopped = append(stopped, old.rec.ID)
		}
	}
	c.addSweepLocked(s)
	c.broadcastWork()
	// TODO: a sweep of 100000 trials writes about 100 MB of configurations
	// in this one commit (11 s on a loaded 2-core VM), and every other
	// commit waits behind it; 10000 trials take 0.2 s.
	reused := len(sub.trials) - int(s.counts[statePending])
	b := c.enqueueLocked(ws...)
	c.mu.Unlock()

	if err := b.wait(); err != nil {
		return submitResult{}, err
	}
	c.log.Info("sweep submitted", "sweep_id", id, "name", sub.name, "trials", res.trials,
		"new_trials", res.newTrials, "reused", reused,
		"stopped_sweeps", strings.Join(stopped, ","))
	return res, nil
}

// earlierResultsLocked returns, for sweeps named name, the newest
// succeeded trial of each trial id, and the set of every trial id stored.
//
// TODO: a trial still leased in an earlier sweep is leased again in the
// new one; its result is not shared when it arrives.
func (c *Coordinator) earlierResultsLocked(name string) (map[string]*memTrial, map[string]bool) {
	succeeded := map[string]*memTrial{}
	known := map[string]bool{}
	for _, s := range c.order { // oldest first, so newer results overwrite
		if s.rec.Name != name {
			continue
		}
		for id, t := range s.trials {
			known[id] = true
			if t.st.State == stateSucceeded {
				succeeded[id] = t
			}
		}
	}
	return succeeded, known
}

// resumeLocked sets a stopped or cancelled sweep running again and requeues
// its cancelled trials. It returns the writes, none for a running sweep.
func (c *Coordinator) resumeLocked(s *memSweep) []write {
	if s.rec.State == sweepRunning {
		return nil
	}
	now := time.Now()
	s.rec.State = sweepRunning
	ws := []write{sweepWrite(s)}
	for _, t := range s.trials {
		if t.st.State == stateCancelled {
			c.setStateLocked(t, statePending, now)
			ws = append(ws, trialWrite(t))
		}
	}
	c.broadcastWork()
	return ws
}

// stopSweep drains a sweep: it gets no new leases; leased trials finish.
func (c *Coordinator) stopSweep(ref string) (sweepSummary, error) {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return sweepSummary{}, ErrClosed
	}
	s, err := c.findSweepLocked(ref)
	if err != nil {
		c.mu.Unlock()
		return sweepSummary{}, err
	}
	b := c.kickLocked()
	// A finished sweep has nothing to drain, so it stays done.
	if s.rec.State == sweepRunning && s.state() != sweepDone {
		s.rec.State = sweepStopped
		b = c.enqueueLocked(sweepWrite(s))
	}
	sum := c.summaryLocked(s, time.Now())
	c.mu.Unlock()

	if err := b.wait(); err != nil {
		return sweepSummary{}, err
	}
	c.log.Info("sweep stopped", "sweep_id", s.rec.ID, "name", s.rec.Name)
	return sum, nil
}

// cancelSweep cancels every pending and leased trial of a sweep. Agents
// holding a lease learn it from their next heartbeat.
func (c *Coordinator) cancelSweep(ref string) (sweepSummary, error) {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return sweepSummary{}, ErrClosed
	}
	s, err := c.findSweepLocked(ref)
	if err != nil {
		c.mu.Unlock()
		return sweepSummary{}, err
	}

	now := time.Now()
	if s.state() == sweepDone {
		// Nothing is left to cancel, and the record should keep saying
		// that the sweep finished.
		sum := c.summaryLocked(s, now)
		c.mu.Unlock()
		return sum, nil
	}
	s.rec.State = sweepCancelled
	ws := []write{sweepWrite(s)}
	for _, t := range s.trials {
		switch t.st.State {
		case stateLeased:
			n := len(t.st.Attempts)
			t.st.Attempts[n-1].Outcome = stateCancelled
			t.st.Attempts[n-1].EndedAt = now
		case statePending:
		default:
			continue
		}
		c.setStateLocked(t, stateCancelled, now)
		ws = append(ws, trialWrite(t))
	}
	for _, t := range s.pending {
		t.queued = false
	}
	s.pending = nil
	b := c.enqueueLocked(ws...)
	sum := c.summaryLocked(s, now)
	c.mu.Unlock()

	if err := b.wait(); err != nil {
		return sweepSummary{}, err
	}
	c.log.Info("sweep cancelled", "sweep_id", s.rec.ID, "name", s.rec.Name,
		"cancelled_trials", len(ws)-1)
	return sum, nil
}

// findSweepLocked resolves a sweep id, a unique id prefix, or a sweep name
// (the newest sweep of that name).
func (c *Coordinator) findSweepLocked(ref string) (*memSweep, error) {
	if ref == "" {
		return nil, fmt.Errorf("%w: sweep id is empty: pass a sweep id or name", ErrInvalid)
	}
	if s, ok := c.sweeps[ref]; ok {
		return s, nil
	}
	var byName, byPrefix *memSweep
	prefixMatches := 0
	for _, s := range c.order { // oldest first, so the last name match is the newest
		if s.rec.Name == ref {
			byName = s
		}
		if strings.HasPrefix(s.rec.ID, ref) {
			byPrefix = s
			prefixMatches++
		}
	}
	switch {
	case byName != nil:
		return byName, nil
	case prefixMatches == 1:
		return byPrefix, nil
	case prefixMatches > 1:
		return nil, fmt.Errorf("%w: sweep id prefix %q matches %d sweeps: give more digits",
			ErrInvalid, ref, prefixMatches)
	}
	return nil, fmt.Errorf("sweep %q: %w: list sweeps to see the stored ids and names", ref, ErrNotFound)
}

// sweepSummary is a sweep's record with its live trial counts.
type sweepSummary struct {
	rec        sweepRecord
	state      string
	counts     map[string]int64
	total      int64
	oldestAge  time.Duration
	spec       []byte
	changeWait <-chan struct{}
}

func (c *Coordinator) summaryLocked(s *memSweep, now time.Time) sweepSummary {
	return sweepSummary{
		rec:        s.rec,
		state:      s.state(),
		counts:     maps.Clone(s.counts),
		total:      int64(len(s.trials)),
		oldestAge:  c.oldestLeaseLocked(s, now),
		spec:       s.spec,
		changeWait: c.changed,
	}
}

// sweepSummaries returns every sweep, oldest first.
func (c *Coordinator) sweepSummaries() ([]sweepSummary, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil, ErrClosed
	}
	now := time.Now()
	out := make([]sweepSummary, 0, len(c.order))
	for _, s := range c.order {
		out = append(out, c.summaryLocked(s, now))
	}
	return out, nil
}

// sweepSummary returns one sweep by id, id prefix or name.
func (c *Coordinator) sweepSummary(ref string) (sweepSummary, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return sweepSummary{}, ErrClosed
	}
	s, err := c.findSweepLocked(ref)
	if err != nil {
		return sweepSummary{}, err
	}
	return c.summaryLocked(s, time.Now()), nil
}

// trialView is a trial as the store holds it.
type trialView struct {
	sweepID    string
	spec       trialSpec
	st         trialState
	resultJSON []byte
}

// listChunk is the number of trials per ListTrials message and per read
// transaction.
const listChunk = 256

// listTrials calls fn with the committed trials of a sweep in expansion
// order, listChunk at a time, keeping only the given states (all when
// states is empty). Each chunk is read in its own transaction, so a slow
// reader never holds the store.
func (c *Coordinator) listTrials(ref string, states []string, fn func([]trialView) error) error {
	sum, err := c.sweepSummary(ref)
	if err != nil {
		return err
	}
	id := sum.rec.ID
	var after []byte
	for {
		chunk, next, err := c.readTrialChunk(id, after, states)
		if err != nil {
			return err
		}
		if len(chunk) > 0 {
			if err := fn(chunk); err != nil {
				return err
			}
		}
		if next == nil {
			return nil
		}
		after = next
	}
}

// readTrialChunk reads up to listChunk trials whose index key sorts after
// after.
// It returns the last key read, or nil at the end.
func (c *Coordinator) readTrialChunk(sweepID string, after []byte, states []string) ([]trialView, []byte, error) {
	var out []trialView
	var last []byte
	err := c.db.View(func(tx *bolt.Tx) error {
		trials := tx.Bucket(bucketTrials).Bucket([]byte(sweepID))
		configs := tx.Bucket(bucketConfigs).Bucket([]byte(sweepID))
		if trials == nil || configs == nil {
			return nil
		}
		cur := trials.Cursor()
		k, v := cur.First()
		if after != nil {
			k, v = cur.Seek(after)
			if k != nil && bytes.Equal(k, after) {
				k, v = cur.Next()
			}
		}
		scanned := 0
		for ; k != nil && scanned < listChunk; k, v = cur.Next() {
			scanned++
			last = bytes.Clone(k)
			view, err := decodeTrial(sweepID, v, configs)
			if err != nil {
				return err
			}
			if len(states) == 0 || slices.Contains(states, view.st.State) {
				out = append(out, view)
			}
		}
		if k == nil {
			last = nil
		}
		return nil
	})
	if err != nil {
		return nil, nil, fmt.Errorf("read trials of sweep %s: %w", sweepID, err)
	}
	return out, last, nil
}

// decodeTrial decodes a stored trial state and looks up its configuration.
func decodeTrial(sweepID string, value []byte, configs *bolt.Bucket) (trialView, error) {
	view := trialView{sweepID: sweepID}
	if err := json.Unmarshal(value, &view.st); err != nil {
		return view, fmt.Errorf("decode a trial state of sweep %s: %w", sweepID, err)
	}
	id := view.st.ID
	if spec := configs.Get([]byte(id)); spec != nil {
		if err := json.Unmarshal(spec, &view.spec); err != nil {
			return view, fmt.Errorf("decode trial configuration %s/%s: %w", sweepID, id, err)
		}
	}
	view.spec.ID = id
	return view, nil
}

// getTrial returns the trial whose id is ref or starts with ref, with its
// result. When several sweeps hold that trial, the newest sweep's record
// is returned.
func (c *Coordinator) getTrial(ref, sweepRef string) (trialView, error) {
	if ref == "" {
		return trialView{}, fmt.Errorf("%w: trial id is empty: pass a trial id or a unique prefix", ErrInvalid)
	}
	onlySweep := ""
	if sweepRef != "" {
		c.mu.Lock()
		s, err := c.findSweepLocked(sweepRef)
		c.mu.Unlock()
		if err != nil {
			return trialView{}, err
		}
		onlySweep = s.rec.ID
	}
	var view trialView
	err := c.db.View(func(tx *bolt.Tx) error {
		ids := map[string]bool{}
		var newest time.Time
		var newestSweep []byte
		var newestSpec trialSpec
		sweeps := tx.Bucket(bucketSweeps)
		configs := tx.Bucket(bucketConfigs)
		err := configs.ForEachBucket(func(sweepKey []byte) error {
			if onlySweep != "" && string(sweepKey) != onlySweep {
				return nil
			}
			var rec sweepRecord
			if err := json.Unmarshal(sweeps.Get(sweepKey), &rec); err != nil {
				return fmt.Errorf("decode sweep %s: %w", sweepKey, err)
			}
			cur := configs.Bucket(sweepKey).Cursor()
			for k, v := cur.Seek([]byte(ref)); k != nil && bytes.HasPrefix(k, []byte(ref)); k, v = cur.Next() {
				ids[string(k)] = true
				if newestSweep != nil && !rec.CreatedAt.After(newest) {
					continue
				}
				if err := json.Unmarshal(v, &newestSpec); err != nil {
					return fmt.Errorf("decode trial configuration %s/%s: %w", sweepKey, k, err)
				}
				newest, newestSweep = rec.CreatedAt, bytes.Clone(sweepKey)
			}
			return nil
		})
		if err != nil {
			return err
		}
		switch {
		case len(ids) == 0:
			return fmt.Errorf("trial %q: %w: list the sweep's trials to see their ids", ref, ErrNotFound)
		case len(ids) > 1:
			return fmt.Errorf("%w: trial id prefix %q matches %d trials (%s): give more digits",
				ErrInvalid, ref, len(ids), strings.Join(firstKeys(ids, 3), ", "))
		}

		key := []byte(indexKey(newestSpec.Index))
		view = trialView{sweepID: string(newestSweep), spec: newestSpec}
		state := tx.Bucket(bucketTrials).Bucket(newestSweep).Get(key)
		if err := json.Unmarshal(state, &view.st); err != nil {
			return fmt.Errorf("decode trial state %s/%s: %w", newestSweep, newestSpec.ID, err)
		}
		if results := tx.Bucket(bucketResults).Bucket(newestSweep); results != nil {
			view.resultJSON = bytes.Clone(results.Get(key))
		}
		return nil
	})
	return view, err
}

// firstKeys returns up to n keys of m in sorted order.
func firstKeys(m map[string]bool, n int) []string {
	keys := slices.Sorted(maps.Keys(m))
	if len(keys) > n {
		keys = append(keys[:n], "...")
	}
	return keys
}
