package agent

import (
	"context"
	"math/rand/v2"
	"sync"
	"time"
)

// backoffPolicy is a capped exponential backoff: the n-th retry waits a
// random time in [d/2, d] with d = min(Base·2^n, Max). The jitter spreads
// the retries of many agents after a coordinator restart.
type backoffPolicy struct {
	Base time.Duration
	Max  time.Duration
}

var defaultBackoff = backoffPolicy{Base: 250 * time.Millisecond, Max: 10 * time.Second}

// backoff counts the failures of one retried call.
type backoff struct {
	policy   backoffPolicy
	failures int
}

// next returns the wait before the next retry and counts one failure.
func (b *backoff) next() time.Duration {
	d := b.policy.Max
	if b.failures < 30 {
		d = min(b.policy.Base<<b.failures, b.policy.Max)
	}
	b.failures++
	half := d / 2
	return half + rand.N(half+1)
}

// reset starts the backoff over after a success.
func (b *backoff) reset() { b.failures = 0 }

// wait sleeps for the next backoff delay. It returns ctx.Err() when ctx
// ends first.
func (b *backoff) wait(ctx context.Context) error {
	return sleep(ctx, b.next())
}

// sleep waits for d or until ctx ends, and returns ctx.Err() in that case.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// logLimiter lets a repeated error through once per window, so an agent
// that retries every few seconds during an outage writes a few lines, not
// thousands.
type logLimiter struct {
	window time.Duration

	mu   sync.Mutex
	last map[string]limitEntry
}

type limitEntry struct {
	at         time.Time
	suppressed int
}

func newLogLimiter(window time.Duration) *logLimiter {
	return &logLimiter{window: window, last: map[string]limitEntry{}}
}

// allow reports whether an error of the given kind may be logged now, and
// how many were held back since the last one that was.
func (l *logLimiter) allow(kind string) (ok bool, suppressed int) {
	l.mu.Lock()
	defer l.mu.Unlock()

	now := time.Now()
	e, seen := l.last[kind]
	if seen && now.Sub(e.at) < l.window {
		e.suppressed++
		l.last[kind] = e
		return false, 0
	}
	l.last[kind] = limitEntry{at: now}
	return true, e.suppressed
}

// clear resets the kind after a success, and reports whether an error of
// that kind was logged since the previous success.
func (l *logLimiter) clear(kind string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()

	_, seen := l.last[kind]
	delete(l.last, kind)
	return seen
}
