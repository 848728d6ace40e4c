package coordinator

// The bbolt file holds every sweep, trial and agent. Buckets:
//
//	meta/
//	    magic   -> "modsweep coordinator database"
//	    schema  -> "1"
//	sweeps/
//	    <sweep id> -> sweepRecord (JSON)
//	specs/
//	    <sweep id> -> the sweep file as submitted (YAML bytes)
//	configs/
//	    <sweep id>/            (one nested bucket per sweep)
//	        <trial id> -> trialSpec (JSON, written once at submit)
//	trials/
//	    <sweep id>/
//	        <index> -> trialState (JSON, rewritten on every state change)
//	results/
//	    <sweep id>/
//	        <index> -> core.Result JSON of the succeeded trial
//	agents/
//	    <agent id> -> agentRecord (JSON)
//
// <index> is the trial's expansion index as 8 big-endian bytes. The
// immutable configuration and the mutable state live in separate buckets,
// so a lease or heartbeat rewrites a few hundred bytes instead of the whole
// configuration. States and results are keyed by index rather than by the
// random-looking trial id, because leases go out in index order. Trials
// that change together then share leaf pages, so a commit writes a few
// pages instead of one per trial.

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"strconv"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
)

const (
	schemaVersion = 1
	magicValue    = "modsweep coordinator database"
)

var (
	bucketMeta    = []byte("meta")
	bucketSweeps  = []byte("sweeps")
	bucketSpecs   = []byte("specs")
	bucketConfigs = []byte("configs")
	bucketTrials  = []byte("trials")
	bucketResults = []byte("results")
	bucketAgents  = []byte("agents")

	keyMagic  = []byte("magic")
	keySchema = []byte("schema")

	topBuckets = [][]byte{
		bucketMeta, bucketSweeps, bucketSpecs, bucketConfigs,
		bucketTrials, bucketResults, bucketAgents,
	}
)

// ErrNotModsweepDatabase is returned by Open when the data file is a bbolt
// database written by another program.
var ErrNotModsweepDatabase = errors.New("not a modsweep database")

// ErrDatabaseLocked is returned by Open when another process holds the data
// file's lock.
var ErrDatabaseLocked = errors.New("database is locked by another process")

// openStore opens or creates the bbolt file at path and checks that it is a
// modsweep database of a schema this build reads. It gives up after
// lockTimeout when another process holds the file.
func openStore(path string, lockTimeout time.Duration) (*bolt.DB, error) {
	opts := &bolt.Options{
		Timeout:        lockTimeout,
		NoFreelistSync: true,
		FreelistType:   bolt.FreelistMapType,
		// Map 256 MiB of address space from the start: each remap as the
		// file grows re-reads every cached node and blocks readers. The
		// file itself still grows only as data is written.
		InitialMmapSize: 256 << 20,
	}
	db, err := bolt.Open(path, 0o600, opts)
	switch {
	case errors.Is(err, berrors.ErrTimeout):
		return nil, fmt.Errorf("open database %s: %w (waited %v): stop the other coordinator "+
			"or pass a different --data path", path, ErrDatabaseLocked, lockTimeout)
	case errors.Is(err, berrors.ErrInvalid), errors.Is(err, berrors.ErrVersionMismatch),
		errors.Is(err, berrors.ErrChecksum):
		return nil, fmt.Errorf("open database %s: %w: %w: the file is not a bbolt database or is "+
			"corrupt; pass a different --data path or restore the file from a backup",
			path, ErrNotModsweepDatabase, err)
	case err != nil:
		return nil, fmt.Errorf("open database %s: %w", path, err)
	}

	if err := db.Update(initSchema); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("open database %s: %w", path, err)
	}
	return db, nil
}

// initSchema creates the buckets of an empty file, or checks the marker and
// schema version of an existing one.
func initSchema(tx *bolt.Tx) error {
	meta := tx.Bucket(bucketMeta)
	if meta == nil {
		empty := true
		_ = tx.ForEach(func([]byte, *bolt.Bucket) error {
			empty = false
			return nil
		})
		if !empty {
			return fmt.Errorf("%w: the file has buckets but no %q bucket, so another program "+
				"wrote it: pass a different --data path", ErrNotModsweepDatabase, bucketMeta)
		}
		return createSchema(tx)
	}

	if magic := meta.Get(keyMagic); !bytes.Equal(magic, []byte(magicValue)) {
		return fmt.Errorf("%w: marker is %q, expected %q: pass a different --data path",
			ErrNotModsweepDatabase, magic, magicValue)
	}
	version, err := strconv.Atoi(string(meta.Get(keySchema)))
	if err != nil {
		return fmt.Errorf("%w: schema version %q is not a number", ErrNotModsweepDatabase,
			meta.Get(keySchema))
	}
	if version != schemaVersion {
		return fmt.Errorf("database schema version is %d but this coordinator reads version %d: "+
			"run a coordinator build of the matching version", version, schemaVersion)
	}
	for _, name := range topBuckets {
		if tx.Bucket(name) == nil {
			return fmt.Errorf("%w: bucket %q is missing: restore the file from a backup",
				ErrNotModsweepDatabase, name)
		}
	}
	return nil
}

func createSchema(tx *bolt.Tx) error {
	for _, name := range topBuckets {
		if _, err := tx.CreateBucket(name); err != nil {
			return fmt.Errorf("create bucket %q: %w", name, err)
		}
	}
	meta := tx.Bucket(bucketMeta)
	if err := meta.Put(keyMagic, []byte(magicValue)); err != nil {
		return fmt.Errorf("write database marker: %w", err)
	}
	if err := meta.Put(keySchema, []byte(strconv.Itoa(schemaVersion))); err != nil {
		return fmt.Errorf("write schema version: %w", err)
	}
	return nil
}

// fileExists reports whether path names an existing file.
func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// write is one key change inside a commit. A nil value deletes the key.
// When sweep is set, the key lives in the nested bucket top/sweep.
type write struct {
	top   []byte
	sweep string
	key   string
	value []byte
	// copyFrom, when set, names a sweep whose value under
	// top/copyFrom/copyKey is copied instead of value.
	copyFrom string
	copyKey  string
}

// indexKey returns the store key of the trial with expansion index i.
func indexKey(i int) string {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], uint64(i))
	return string(b[:])
}

func (w write) apply(tx *bolt.Tx) error {
	b := tx.Bucket(w.top)
	if w.sweep != "" {
		var err error
		b, err = b.CreateBucketIfNotExists([]byte(w.sweep))
		if err != nil {
			return fmt.Errorf("create bucket %s/%s: %w", w.top, w.sweep, err)
		}
	}
	value := w.value
	if w.copyFrom != "" {
		src := tx.Bucket(w.top).Bucket([]byte(w.copyFrom))
		if src == nil {
			return nil
		}
		// Copy, because the source slice is only valid inside tx and Put
		// may move pages.
		value = bytes.Clone(src.Get([]byte(w.copyKey)))
		if value == nil {
			return nil
		}
	}
	if value == nil {
		if err := b.Delete([]byte(w.key)); err != nil {
			return fmt.Errorf("delete %s/%s/%q: %w", w.top, w.sweep, w.key, err)
		}
		return nil
	}
	if err := b.Put([]byte(w.key), value); err != nil {
		return fmt.Errorf("write %s/%s/%q: %w", w.top, w.sweep, w.key, err)
	}
	return nil
}

// commitBatch is a group of writes committed in one bbolt transaction.
// Callers wait on done and then read err.
type commitBatch struct {
	writes []write
	done   chan struct{}
	err    error
}

func newCommitBatch() *commitBatch {
	return &commitBatch{done: make(chan struct{})}
}

// wait blocks until the batch is committed or failed.
func (b *commitBatch) wait() error {
	<-b.done
	return b.err
}
