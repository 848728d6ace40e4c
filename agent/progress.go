package agent

import (
	"context"
	"fmt"
	"io"
	"math"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/modsweep/modsweep/core"
)

// terminalRefresh is the redraw interval of the progress lines on a
// terminal.
const terminalRefresh = 250 * time.Millisecond

// shortIDLen is how many characters of a trial id the progress lines show.
const shortIDLen = 12

// board tracks what every slot is doing, for heartbeats and for the
// progress lines a person reads.
type board struct {
	mu    sync.Mutex
	slots []slotState
}

type slotState struct {
	busy    bool
	trialID string
	started time.Time
	p       core.Progress
}

func newBoard(slots int) *board {
	return &board{slots: make([]slotState, slots)}
}

// start marks slot as training trialID.
func (b *board) start(slot int, trialID string, steps int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.slots[slot] = slotState{
		busy:    true,
		trialID: trialID,
		started: time.Now(),
		p:       core.Progress{Steps: steps, Loss: math.NaN(), Perf: math.NaN()},
	}
}

// update records the trainer's latest progress in slot.
func (b *board) update(slot int, p core.Progress) {
	b.mu.Lock()
	b.slots[slot].p = p
	b.mu.Unlock()
}

// finish marks slot as idle.
func (b *board) finish(slot int) {
	b.mu.Lock()
	b.slots[slot] = slotState{}
	b.mu.Unlock()
}

// latest returns the latest progress of slot.
func (b *board) latest(slot int) core.Progress {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.slots[slot].p
}

// lines returns one line per slot; with busyOnly, only the busy slots.
func (b *board) lines(now time.Time, busyOnly bool) []string {
	b.mu.Lock()
	defer b.mu.Unlock()

	var out []string
	for i, s := range b.slots {
		if !s.busy {
			if !busyOnly {
				out = append(out, fmt.Sprintf("slot %d  idle", i+1))
			}
			continue
		}
		out = append(out, formatSlot(i, s, now))
	}
	return out
}

func formatSlot(i int, s slotState, now time.Time) string {
	id := s.trialID
	if len(id) > shortIDLen {
		id = id[:shortIDLen]
	}
	rate := 0.0
	if elapsed := now.Sub(s.started).Seconds(); elapsed > 0 {
		rate = float64(s.p.Step) / elapsed
	}
	if s.p.Step == 0 {
		// Before the first step there is no loss to show.
		return fmt.Sprintf("slot %d  trial %s  starting (%d steps)", i+1, id, s.p.Steps)
	}
	line := fmt.Sprintf("slot %d  trial %s  step %d/%d  loss %.4g", i+1, id, s.p.Step, s.p.Steps, s.p.Loss)
	if !math.IsNaN(s.p.Perf) {
		line += fmt.Sprintf("  perf %.3f", s.p.Perf)
	}
	return line + fmt.Sprintf("  %.1f steps/s", rate)
}

// render writes the progress lines to w until ctx ends: redrawn in place a
// few times a second when w is a Console or a terminal, one line per busy
// slot every interval otherwise.
func (b *board) render(ctx context.Context, w io.Writer, interval time.Duration) {
	console, ok := w.(*Console)
	if !ok && IsTerminal(w) {
		console = NewConsole(w)
	}
	if console != nil {
		interval = terminalRefresh
	}
	ticker := time.NewTicker(interval)
	defer ticker.Stop()
	for {
		select {
		case <-ctx.Done():
			if console != nil {
				console.draw(b.lines(time.Now(), false))
			}
			return
		case now := <-ticker.C:
			if console != nil {
				console.draw(b.lines(now, false))
				continue
			}
			for _, line := range b.lines(now, true) {
				fmt.Fprintln(w, line)
			}
		}
	}
}

// Console shares a terminal between the progress lines and the log: a log
// line written through it clears the progress lines, which the next redraw
// puts back below it, so neither overwrites the other. Pass it as
// Config.Progress and as the logger's output.
type Console struct {
	mu    sync.Mutex
	w     io.Writer
	drawn int // progress lines on the screen below the cursor's line
}

// NewConsole returns a Console that writes to the terminal w.
func NewConsole(w io.Writer) *Console {
	return &Console{w: w}
}

// Write writes log output above the progress lines.
func (c *Console) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.drawn > 0 {
		// Move up over the progress lines and clear to the end of the screen.
		if _, err := fmt.Fprintf(c.w, "\x1b[%dA\x1b[J", c.drawn); err != nil {
			return 0, err
		}
		c.drawn = 0
	}
	return c.w.Write(p)
}

// draw replaces the progress lines on the screen with lines.
func (c *Console) draw(lines []string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	var sb strings.Builder
	if c.drawn > 0 {
		fmt.Fprintf(&sb, "\x1b[%dA", c.drawn)
	}
	for _, line := range lines {
		sb.WriteString("\r\x1b[2K")
		sb.WriteString(line)
		sb.WriteByte('\n')
	}
	c.drawn = len(lines)
	_, _ = io.WriteString(c.w, sb.String())
}

// IsTerminal reports whether w is a character device such as a terminal,
// where progress lines are redrawn in place.
func IsTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	info, err := f.Stat()
	return err == nil && info.Mode()&os.ModeCharDevice != 0
}
