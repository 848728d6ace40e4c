// Package agent runs the trials that a modsweep coordinator leases out. Run
// is what "agent join HOST:PORT" calls on every machine that does work.
//
// # Slots and leases
//
// The agent has Config.Workers slots. A slot polls with LeaseTrial only
// while it is free, so the agent never holds a trial that it cannot start.
// The call's deadline is the coordinator's poll hold plus 10 s, so the
// coordinator returns found = false before the client gives up. A slot
// trains its trial with Config.Train (core.Train) on one goroutine.
//
// While a trial trains, the slot heartbeats at the interval the coordinator
// returned at registration, with the latest step, loss and performance. The
// trainer's context is cancelled at once when a heartbeat returns cancel (the
// trial was cancelled or leased again), or when no heartbeat was
// acknowledged for a whole lease TTL, because by then the coordinator has
// requeued the trial.
//
// # Results are never lost
//
// A finished result is written to the spool folder (temporary file, fsync,
// rename, folder fsync) before it is sent, and its file is removed only
// after a final outcome: ACCEPTED, ALREADY_COMPLETED or SUPERSEDED. The slot
// sends it once itself, asking the coordinator to chain the slot's next lease
// onto the completion. If that call fails, a single deliverer goroutine
// retries the file with capped exponential backoff (250 ms doubling to
// 10 s, each wait drawn from [d/2, d]) until it gets a final outcome. At
// start, the deliverer sends whatever an earlier run left in the spool.
// Failed attempts (a diverged trial, an invalid configuration, a trainer
// panic) go through the spool the same way, as FailTrial reports.
//
// # Outages and restarts
//
// Every call is retried with the same backoff while the coordinator is
// unreachable, and a repeated error is logged once per 30 s window, with the
// count of the errors held back. When the coordinator returns NotFound for
// the agent id, e.g. after it lost its agent records, the agent registers
// again and goes on. A coordinator that rejects the agent (protocol version,
// credentials) ends the run. A coordinator that quarantines the agent stops
// its polling, but the running trials still finish and are delivered.
//
// # Stopping
//
// Run returns when ctx is cancelled, after Config.MaxTrials trials, or after
// Config.IdleExit without work. On cancellation the slots stop polling,
// running trials get Config.Grace to finish, and the rest are stopped and
// their leases released so that another agent takes them at once.
package agent
