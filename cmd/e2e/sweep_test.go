package e2e

import (
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	modsweepv1 "github.com/modsweep/modsweep/proto/modsweep/v1"
)

func TestSweep_TwoAgentsRunSmoke(t *testing.T) {
	requireBinaries(t)
	c := newCluster(t, 5*time.Second)
	a := c.join("a", "--idle-exit", "3s")
	b := c.join("b", "--idle-exit", "3s")
	id := c.submit(filepath.Join("..", "..", "examples", "smoke.yaml"))

	c.waitDone(id, 60*time.Second)
	for _, p := range []*proc{a, b} {
		if code := p.wait(t, 20*time.Second); code != 0 {
			t.Errorf("%s exited with %d after its idle limit, want 0", p.name, code)
		}
	}

	r := c.report(id)
	if !r.Complete || r.Total != 12 || r.Counts["succeeded"] != 12 {
		t.Errorf("report: complete %v, total %d, counts %v; want 12 succeeded", r.Complete, r.Total, r.Counts)
	}
	for _, trial := range r.Trials {
		if trial.Attempts != 1 {
			t.Errorf("trial %s took %d attempts without any fault, want 1", trial.ID, trial.Attempts)
		}
	}
	checkExactlyOnce(t, c.trials(id), 12)
}

func TestSweep_AgentKilledMidTrial(t *testing.T) {
	requireBinaries(t)
	c := newCluster(t, 2*time.Second)
	victim := c.join("victim")
	id := c.submit(writeSweep(t, "kill-agent", 1200))

	// Kill the agent once its trial has reported progress. Trials of 1200
	// steps last a few seconds, so several heartbeats carry progress.
	var killed string
	waitFor(t, 30*time.Second, "a trial in progress on the victim", func() bool {
		for _, r := range c.trials(id) {
			if r.GetState() == modsweepv1.TrialState_TRIAL_STATE_LEASED && r.GetProgress().GetStep() > 0 {
				killed = r.GetTrial().GetId()
				return true
			}
		}
		return false
	})
	victim.kill()

	survivor := c.join("survivor", "--idle-exit", "3s")
	c.waitDone(id, 60*time.Second)
	if code := survivor.wait(t, 20*time.Second); code != 0 {
		t.Errorf("survivor exited with %d, want 0", code)
	}

	recs := c.trials(id)
	checkExactlyOnce(t, recs, 6)
	for _, r := range recs {
		if r.GetTrial().GetId() != killed {
			continue
		}
		attempts := r.GetAttempts()
		if len(attempts) < 2 || !strings.HasPrefix(attempts[0].GetAgentId(), "victim") ||
			!strings.HasPrefix(attempts[len(attempts)-1].GetAgentId(), "survivor") {
			t.Errorf("killed trial %s attempts %v: want the victim's attempt then the survivor's", killed, attempts)
		}
	}
	if r := c.report(id); !r.Complete {
		t.Errorf("report not complete: counts %v", r.Counts)
	}
}

func TestSweep_CoordinatorKilledAndRestarted(t *testing.T) {
	requireBinaries(t)
	c := newCluster(t, 3*time.Second)
	a := c.join("a", "--idle-exit", "8s")
	b := c.join("b", "--idle-exit", "8s")
	id := c.submit(writeSweep(t, "kill-coordinator", 150))

	// Kill the coordinator while trials are running and some are done.
	waitFor(t, 30*time.Second, "one finished and one running trial", func() bool {
		done, running := 0, 0
		for _, r := range c.trials(id) {
			switch r.GetState() {
			case modsweepv1.TrialState_TRIAL_STATE_SUCCEEDED:
				done++
			case modsweepv1.TrialState_TRIAL_STATE_LEASED:
				running++
			}
		}
		return done >= 1 && running >= 1
	})
	c.coord.kill()

	// A trial that finishes during the outage waits in its agent's spool.
	waitFor(t, 20*time.Second, "a result in an agent's spool", func() bool {
		return len(a.spooled())+len(b.spooled()) > 0
	})
	c.startCoordinator()

	c.waitDone(id, 60*time.Second)
	for _, p := range []*proc{a, b} {
		if code := p.wait(t, 30*time.Second); code != 0 {
			t.Errorf("%s exited with %d, want 0", p.name, code)
		}
		if left := p.spooled(); len(left) > 0 {
			t.Errorf("%s left %v in its spool", p.name, left)
		}
	}
	checkExactlyOnce(t, c.trials(id), 6)
	if r := c.report(id); !r.Complete || r.Counts["succeeded"] != 6 {
		t.Errorf("report: complete %v, counts %v; want 6 succeeded", r.Complete, r.Counts)
	}
}

func TestAgent_SIGTERMReleasesLease(t *testing.T) {
	requireBinaries(t)
	c := newCluster(t, 30*time.Second)
	p := c.join("stopper", "--grace", "100ms")
	id := c.submit(writeSweep(t, "sigterm", 5000))

	waitFor(t, 30*time.Second, "a leased trial", func() bool {
		for _, r := range c.trials(id) {
			if r.GetState() == modsweepv1.TrialState_TRIAL_STATE_LEASED {
				return true
			}
		}
		return false
	})
	p.signal(t, syscall.SIGTERM)
	if code := p.wait(t, 15*time.Second); code != 0 {
		t.Errorf("agent exited with %d after SIGTERM, want 0", code)
	}
	// The lease TTL is 30 s, so only a release can requeue the trial now.
	for _, r := range c.trials(id) {
		if r.GetState() != modsweepv1.TrialState_TRIAL_STATE_PENDING {
			t.Errorf("trial %s is %v after the agent stopped, want pending", r.GetTrial().GetId(), r.GetState())
		}
	}
}
