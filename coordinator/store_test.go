package coordinator

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	modsweepv1 "github.com/modsweep/modsweep/proto/modsweep/v1"
)

func TestRestart_KeepsAcknowledgedResults(t *testing.T) {
	e := startEnv(t, Config{LeaseTTL: 5 * time.Second})
	sub := e.submit("restart", 6)
	agent := e.register("a")

	finished := map[string]bool{}
	for range 3 {
		l := e.mustLease(agent).GetLease()
		if e.complete(agent, l, 0.6) != modsweepv1.Outcome_OUTCOME_ACCEPTED {
			t.Fatalf("completion of %s not accepted", l.GetTrialId())
		}
		finished[l.GetTrialId()] = true
	}
	inFlight := e.mustLease(agent).GetLease()

	e.restart()

	// The lease granted before the restart keeps its epoch and expiry.
	if got := e.complete(agent, inFlight, 0.4); got != modsweepv1.Outcome_OUTCOME_ACCEPTED {
		t.Errorf("completion of a lease granted before the restart: %v, want ACCEPTED", got)
	}
	finished[inFlight.GetTrialId()] = true

	for {
		resp, err := e.lease(agent)
		if err != nil {
			t.Fatalf("lease after restart: %v", err)
		}
		if !resp.GetFound() {
			break
		}
		id := resp.GetLease().GetTrialId()
		if finished[id] {
			t.Errorf("finished trial %s leased again after the restart", id)
		}
		e.complete(agent, resp.GetLease(), 0.5)
		finished[id] = true
	}
	if len(finished) != 6 {
		t.Errorf("%d trials finished, want 6", len(finished))
	}
	for _, r := range e.listTrials(sub.GetSweepId()) {
		if r.GetState() != modsweepv1.TrialState_TRIAL_STATE_SUCCEEDED {
			t.Errorf("trial %s is %v after restart, want SUCCEEDED", r.GetTrial().GetId(), r.GetState())
		}
		if len(r.GetAttempts()) != 1 {
			t.Errorf("trial %s has %d attempts, want 1", r.GetTrial().GetId(), len(r.GetAttempts()))
		}
	}
}

func TestRestart_ExpiredLeaseReaped(t *testing.T) {
	const ttl = 300 * time.Millisecond
	e := startEnv(t, Config{LeaseTTL: ttl})
	e.submit("reap", 1)
	agent := e.register("a")
	l := e.mustLease(agent).GetLease()

	e.stop()
	time.Sleep(ttl)
	e.start()

	waitFor(t, 3*ttl, "lease from before the restart reaped", func() bool {
		return e.getTrial(l.GetTrialId()).GetState() == modsweepv1.TrialState_TRIAL_STATE_PENDING
	})
	if got := e.mustLease(agent).GetLease().GetEpoch(); got != 2 {
		t.Errorf("new lease epoch %d, want 2", got)
	}
}

func TestSubmit_BadSweepStoresNothing(t *testing.T) {
	e := startEnv(t, Config{})
	bad := []byte("name: broken\nregularizers:\n  l1: {lambda: [-1]}\n")
	_, err := e.client.SubmitSweep(ctxTimeout(t, 5*time.Second), &modsweepv1.SubmitSweepRequest{
		Spec: bad, Source: "broken.yaml",
	})
	if status.Code(err) != codes.InvalidArgument {
		t.Fatalf("bad sweep: %v, want InvalidArgument", err)
	}
	if msg := status.Convert(err).Message(); !strings.Contains(msg, "broken.yaml") || !strings.Contains(msg, "-1") {
		t.Errorf("message %q does not name the file and the bad value", msg)
	}
	list, err := e.client.ListSweeps(ctxTimeout(t, 5*time.Second), &modsweepv1.ListSweepsRequest{})
	if err != nil {
		t.Fatalf("list sweeps: %v", err)
	}
	if len(list.GetSweeps()) != 0 {
		t.Errorf("%d sweeps stored after a rejected submit, want 0", len(list.GetSweeps()))
	}

	_, err = e.client.SubmitSweep(ctxTimeout(t, 5*time.Second), &modsweepv1.SubmitSweepRequest{})
	if status.Code(err) != codes.InvalidArgument {
		t.Errorf("empty sweep: %v, want InvalidArgument", err)
	}
}

func TestSubmit_ResubmitAndExtendReuseResults(t *testing.T) {
	e := startEnv(t, Config{})
	first := e.submit("grow", 2)
	if first.GetNewTrials() != 2 || first.GetTrials() != 2 {
		t.Fatalf("first submit: %d trials, %d new, want 2 and 2", first.GetTrials(), first.GetNewTrials())
	}
	if first.GetAxes()["seed"] != 2 {
		t.Errorf("seed axis has %d values, want 2", first.GetAxes()["seed"])
	}
	agent := e.register("a")
	done := e.mustLease(agent).GetLease()
	e.complete(agent, done, 0.75)

	again := e.submit("grow", 2)
	if again.GetSweepId() != first.GetSweepId() || again.GetNewTrials() != 0 {
		t.Errorf("resubmit: sweep %s with %d new trials, want %s with 0",
			again.GetSweepId(), again.GetNewTrials(), first.GetSweepId())
	}

	grown := e.submit("grow", 4)
	if grown.GetSweepId() == first.GetSweepId() {
		t.Fatalf("extended file kept sweep id %s", grown.GetSweepId())
	}
	if grown.GetNewTrials() != 2 {
		t.Errorf("extended file: %d new trials, want 2", grown.GetNewTrials())
	}
	old, err := e.client.GetSweep(ctxTimeout(t, 5*time.Second), &modsweepv1.GetSweepRequest{SweepId: first.GetSweepId()})
	if err != nil {
		t.Fatalf("get first sweep: %v", err)
	}
	if old.GetSweep().GetState() != modsweepv1.SweepState_SWEEP_STATE_STOPPED {
		t.Errorf("replaced sweep is %v, want STOPPED", old.GetSweep().GetState())
	}

	var leased []string
	for {
		resp, err := e.lease(agent)
		if err != nil {
			t.Fatalf("lease: %v", err)
		}
		if !resp.GetFound() {
			break
		}
		if resp.GetLease().GetSweepId() != grown.GetSweepId() {
			t.Errorf("leased from sweep %s, want the extended sweep %s",
				resp.GetLease().GetSweepId(), grown.GetSweepId())
		}
		leased = append(leased, resp.GetLease().GetTrialId())
		e.complete(agent, resp.GetLease(), 0.5)
	}
	if len(leased) != 3 {
		t.Errorf("extended sweep leased %d trials, want 3 (4 minus the reused one)", len(leased))
	}
	for _, id := range leased {
		if id == done.GetTrialId() {
			t.Errorf("reused trial %s ran again", id)
		}
	}
	rec := e.getTrial(done.GetTrialId())
	if rec.GetTrial().GetSweepId() != grown.GetSweepId() {
		t.Errorf("trial %s read from sweep %s, want the newest sweep %s",
			done.GetTrialId(), rec.GetTrial().GetSweepId(), grown.GetSweepId())
	}
	if string(rec.GetResultJson()) != `{"performance": 0.75}` {
		t.Errorf("reused result %q, want the first sweep's", rec.GetResultJson())
	}
}

func TestGetTrial_ByPrefix(t *testing.T) {
	e := startEnv(t, Config{})
	sub := e.submit("prefix", 40)
	records := e.listTrials(sub.GetSweepId())
	id := records[0].GetTrial().GetId()

	if got := e.getTrial(id[:10]).GetTrial().GetId(); got != id {
		t.Errorf("prefix %s found %s, want %s", id[:10], got, id)
	}
	// With 40 random hex ids, some first digit is shared by two of them.
	counts := map[byte]int{}
	for _, r := range records {
		counts[r.GetTrial().GetId()[0]]++
	}
	for digit, n := range counts {
		if n < 2 {
			continue
		}
		_, err := e.client.GetTrial(ctxTimeout(t, 5*time.Second), &modsweepv1.GetTrialRequest{TrialId: string(digit)})
		if status.Code(err) != codes.InvalidArgument {
			t.Errorf("ambiguous prefix %c: %v, want InvalidArgument", digit, err)
		}
		break
	}
	_, err := e.client.GetTrial(ctxTimeout(t, 5*time.Second), &modsweepv1.GetTrialRequest{TrialId: "zzzz"})
	if status.Code(err) != codes.NotFound {
		t.Errorf("unknown trial: %v, want NotFound", err)
	}
}

func TestOpen_LockedDatabaseFails(t *testing.T) {
	path := filepath.Join(t.TempDir(), "locked.db")
	c, err := Open(context.Background(), Config{Path: path})
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	defer c.Close()

	start := time.Now()
	_, err = Open(context.Background(), Config{Path: path, LockTimeout: 500 * time.Millisecond})
	took := time.Since(start)
	if !errors.Is(err, ErrDatabaseLocked) {
		t.Fatalf("second open: %v, want ErrDatabaseLocked", err)
	}
	if !strings.Contains(err.Error(), path) {
		t.Errorf("error %q does not name the path", err)
	}
	if took > 2*time.Second {
		t.Errorf("second open took %v, want about the 500ms lock timeout", took)
	}
}

func TestOpen_ForeignFileFails(t *testing.T) {
	dir := t.TempDir()
	garbage := filepath.Join(dir, "notes.txt")
	if err := os.WriteFile(garbage, []byte(strings.Repeat("not a database\n", 2000)), 0o600); err != nil {
		t.Fatal(err)
	}
	foreign := filepath.Join(dir, "other.db")
	db, err := bolt.Open(foreign, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		_, err := tx.CreateBucket([]byte("users"))
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	for _, path := range []string{garbage, foreign} {
		_, err := Open(context.Background(), Config{Path: path})
		if !errors.Is(err, ErrNotModsweepDatabase) {
			t.Errorf("open %s: %v, want ErrNotModsweepDatabase", path, err)
			continue
		}
		if !strings.Contains(err.Error(), path) {
			t.Errorf("error %q does not name the path", err)
		}
	}
}

func TestOpen_NewerSchemaFails(t *testing.T) {
	path := filepath.Join(t.TempDir(), "future.db")
	c, err := Open(context.Background(), Config{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketMeta).Put(keySchema, []byte("99"))
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	_, err = Open(context.Background(), Config{Path: path})
	if err == nil || !strings.Contains(err.Error(), "version is 99") {
		t.Errorf("open newer schema: %v, want an error naming version 99", err)
	}
}

func TestJSONFloat_RoundTripsSpecialValues(t *testing.T) {
	for _, x := range []float64{0, -1.5, 1e-300} {
		b, err := jsonFloat(x).MarshalJSON()
		if err != nil {
			t.Fatal(err)
		}
		var back jsonFloat
		if err := back.UnmarshalJSON(b); err != nil || float64(back) != x {
			t.Errorf("%v -> %s -> %v (%v)", x, b, back, err)
		}
	}
	for _, s := range []string{`"NaN"`, `"+Inf"`, `"-Inf"`} {
		var f jsonFloat
		if err := f.UnmarshalJSON([]byte(s)); err != nil {
			t.Errorf("decode %s: %v", s, err)
			continue
		}
		b, _ := f.MarshalJSON()
		if string(b) != s {
			t.Errorf("%s round-trips to %s", s, b)
		}
	}
}
