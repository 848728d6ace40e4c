package coordinator

import (
	"container/heap"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"
)

// memSweep is the in-memory index of one sweep.
type memSweep struct {
	rec     sweepRecord
	spec    []byte
	trials  map[string]*memTrial
	pending pendingQueue
	counts  map[string]int64
}

// memTrial is the in-memory copy of one trial's stored state.
type memTrial struct {
	id     string
	sweep  *memSweep
	st     trialState
	queued bool // in sweep.pending
}

// pendingQueue orders the pending trials of a sweep by expansion index, so
// leases go out in the same order whatever the number of agents.
type pendingQueue []*memTrial

func (q pendingQueue) Len() int           { return len(q) }
func (q pendingQueue) Less(i, j int) bool { return q[i].st.Index < q[j].st.Index }
func (q pendingQueue) Swap(i, j int)      { q[i], q[j] = q[j], q[i] }
func (q *pendingQueue) Push(x any)        { *q = append(*q, x.(*memTrial)) }
func (q *pendingQueue) Pop() any {
	old := *q
	t := old[len(old)-1]
	old[len(old)-1] = nil
	*q = old[:len(old)-1]
	return t
}

func newMemSweep(rec sweepRecord, spec []byte) *memSweep {
	return &memSweep{
		rec:    rec,
		spec:   spec,
		trials: map[string]*memTrial{},
		counts: map[string]int64{},
	}
}

// state returns the sweep state that clients see: a running sweep with no
// pending or leased trial left is done.
func (s *memSweep) state() string {
	if s.rec.State == sweepRunning && len(s.trials) > 0 &&
		s.counts[statePending] == 0 && s.counts[stateLeased] == 0 {
		return sweepDone
	}
	return s.rec.State
}

// addTrialLocked indexes t in its sweep and in the lease and pending sets.
func (c *Coordinator) addTrialLocked(t *memTrial) {
	t.sweep.trials[t.id] = t
	t.sweep.counts[t.st.State]++
	switch t.st.State {
	case statePending:
		c.queueLocked(t)
	case stateLeased:
		c.leased[t] = struct{}{}
	}
}

// setStateLocked moves t to state and keeps the counts, the lease set and
// the pending queue in step. A trial that becomes pending wakes pollers.
func (c *Coordinator) setStateLocked(t *memTrial, state string, now time.Time) {
	old := t.st.State
	t.st.State = state
	t.st.UpdatedAt = now
	t.sweep.counts[old]--
	t.sweep.counts[state]++
	c.metrics.trialTransitions.WithLabelValues(state).Inc()

	if old == stateLeased && state != stateLeased {
		delete(c.leased, t)
		t.st.ExpiresAt = time.Time{}
		t.st.Progress = nil
	}
	switch state {
	case stateLeased:
		c.leased[t] = struct{}{}
	case statePending:
		c.queueLocked(t)
	}
}

// queueLocked puts a pending trial in its sweep's queue and wakes pollers.
func (c *Coordinator) queueLocked(t *memTrial) {
	if t.queued {
		return
	}
	heap.Push(&t.sweep.pending, t)
	t.queued = true
	if t.sweep.rec.State == sweepRunning {
		c.broadcastWork()
	}
}

// nextPendingLocked pops the first pending trial of the oldest running
// sweep, or returns nil. Entries whose trial left the pending state are
// dropped on the way.
func (c *Coordinator) nextPendingLocked() *memTrial {
	for _, s := range c.order {
		if s.rec.State != sweepRunning {
			continue
		}
		for s.pending.Len() > 0 {
			t := heap.Pop(&s.pending).(*memTrial)
			t.queued = false
			if t.st.State == statePending {
				return t
			}
		}
	}
	return nil
}

// addSweepLocked indexes a sweep and keeps c.order sorted.
func (c *Coordinator) addSweepLocked(s *memSweep) {
	c.sweeps[s.rec.ID] = s
	c.order = append(c.order, s)
	slices.SortFunc(c.order, func(a, b *memSweep) int {
		if d := a.rec.CreatedAt.Compare(b.rec.CreatedAt); d != 0 {
			return d
		}
		return strings.Compare(a.rec.ID, b.rec.ID)
	})
}

// loadLocked replaces the in-memory index with the store's contents.
func (c *Coordinator) loadLocked() error {
	c.sweeps = map[string]*memSweep{}
	c.order = nil
	c.leased = map[*memTrial]struct{}{}
	c.agents = map[string]*agentRecord{}

	err := c.db.View(func(tx *bolt.Tx) error {
		if err := c.loadSweeps(tx); err != nil {
			return err
		}
		return tx.Bucket(bucketAgents).ForEach(func(k, v []byte) error {
			var a agentRecord
			if err := json.Unmarshal(v, &a); err != nil {
				return fmt.Errorf("decode agent %s: %w", k, err)
			}
			c.agents[a.ID] = &a
			return nil
		})
	})
	c.broadcastWork()
	c.broadcastChange()
	return err
}

func (c *Coordinator) loadSweeps(tx *bolt.Tx) error {
	specs := tx.Bucket(bucketSpecs)
	trials := tx.Bucket(bucketTrials)
	return tx.Bucket(bucketSweeps).ForEach(func(k, v []byte) error {
		var rec sweepRecord
		if err := json.Unmarshal(v, &rec); err != nil {
			return fmt.Errorf("decode sweep %s: %w", k, err)
		}
		s := newMemSweep(rec, slices.Clone(specs.Get(k)))
		c.addSweepLocked(s)

		b := trials.Bucket(k)
		if b == nil {
			return nil
		}
		return b.ForEach(func(tk, tv []byte) error {
			t := &memTrial{sweep: s}
			if err := json.Unmarshal(tv, &t.st); err != nil {
				return fmt.Errorf("decode trial %s/%x: %w", k, tk, err)
			}
			t.id = t.st.ID
			c.addTrialLocked(t)
			return nil
		})
	})
}

// trialWrite returns the write that stores t's state.
func trialWrite(t *memTrial) write {
	body, err := json.Marshal(t.st)
	if err != nil {
		// Marshal fails only for times outside the years 0-9999, which
		// time.Now does not return.
		panic(fmt.Sprintf("encode trial state: %v", err))
	}
	return write{top: bucketTrials, sweep: t.sweep.rec.ID, key: indexKey(t.st.Index), value: body}
}

// sweepWrite returns the write that stores s's record.
func sweepWrite(s *memSweep) write {
	body, err := json.Marshal(s.rec)
	if err != nil {
		panic(fmt.Sprintf("encode sweep record: %v", err))
	}
	return write{top: bucketSweeps, key: s.rec.ID, value: body}
}

// agentWrite returns the write that stores a.
func agentWrite(a *agentRecord) write {
	body, err := json.Marshal(a)
	if err != nil {
		panic(fmt.Sprintf("encode agent record: %v", err))
	}
	return write{top: bucketAgents, key: a.ID, value: body}
}

// oldestLeaseLocked returns the age of the oldest current lease of s.
func (c *Coordinator) oldestLeaseLocked(s *memSweep, now time.Time) time.Duration {
	var oldest time.Duration
	for t := range c.leased {
		if t.sweep == s {
			oldest = max(oldest, now.Sub(t.st.LeasedAt))
		}
	}
	return oldest
}
