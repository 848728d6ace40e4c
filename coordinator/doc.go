// Package coordinator is the single source of truth of every sweep: a gRPC
// service (CoordinatorService in proto/modsweep/v1) over one bbolt file.
// Clients submit and inspect sweeps; agents register, lease trials,
// heartbeat while they train and report results.
//
// # Lifecycle
//
// SubmitSweep parses and expands a sweep file with the sweep package and
// stores one record per trial. The sweep id is a hash of the sweep name
// and its trial ids, so submitting the same file again returns the same
// sweep (a stopped or cancelled one runs again, and its cancelled trials
// are requeued). An edited file is a new sweep: it copies the results of
// trials that succeeded in earlier sweeps of the same name, which it stops.
//
// A trial moves pending -> leased -> succeeded or failed; CancelSweep
// moves every pending and leased trial to cancelled. StopSweep drains a
// sweep: no new leases, and leased trials may still finish. A running
// sweep whose trials all ended is reported as done.
//
// # Leases and epochs
//
// LeaseTrial long-polls: it waits at most Config.PollHold for a pending
// trial of a running sweep, and returns found = false before the caller's
// deadline. Sweeps are served oldest first, and trials in expansion order. A
// call without a deadline is rejected with InvalidArgument, because a
// poll that never ends would hold a server goroutine forever.
//
// A lease is a token (sweep id, trial id, epoch). Each lease of a trial
// increments its epoch and attempt and expires Config.LeaseTTL after the
// lease or the last heartbeat. Heartbeat, CompleteTrial, FailTrial and
// ReleaseTrial present the token, and the coordinator replies:
//
//   - a token with an older epoch: OUTCOME_SUPERSEDED (a heartbeat gets
//     cancel = true), whatever the trial's state;
//   - the current epoch of a succeeded trial: OUTCOME_ALREADY_COMPLETED,
//     and the stored result stays the first one;
//   - the current epoch of a cancelled trial: OUTCOME_SUPERSEDED;
//   - the current epoch of a leased trial: OUTCOME_ACCEPTED.
//
// A completion whose lease expired is still accepted when no newer lease
// exists and the trial was not cancelled, because its result is valid.
//
// A failed or expired attempt requeues the trial until Config.MaxAttempts
// such attempts; then the trial is failed with the outcome of every
// attempt. A released attempt does not count. An agent that fails
// Config.QuarantineAfter attempts in a row is quarantined: its LeaseTrial
// calls get FailedPrecondition and its other leases are requeued. It is
// free again once it registers anew.
//
// A reaper runs every LeaseTTL/4 and requeues every expired lease,
// including one that never sent a heartbeat, recording the attempt as
// "expired". So a lease outlives its last heartbeat by at most 1.25 TTL.
//
// # Durability
//
// Every state change is applied to an in-memory index under one mutex
// and queued for the store. The RPC responds only after the bbolt
// transaction that holds it has committed (fsync included). One writer
// goroutine commits: while one transaction syncs, the next batch gathers,
// so concurrent agents share an fsync. An answer that changes nothing
// (such as OUTCOME_ALREADY_COMPLETED) also waits for the commit of the
// state it reports. If a commit fails, the index is rebuilt from the
// store and the waiting calls get the error.
//
// Open rebuilds the index from the store, so a restart resumes every
// sweep. Leases keep their stored expiry across a restart: an agent that
// reports in time with the right epoch is accepted, and the reaper
// requeues the rest.
//
// # Store layout
//
// The bucket tree is drawn at the top of store.go: sweeps, sweep files,
// trial configurations keyed by trial id, trial states and results keyed
// by expansion index, and agents, under a meta bucket with a marker and
// schema version. Open gives up after Config.LockTimeout when another
// process holds the file, and rejects a file that is not a modsweep
// database or has another schema version.
//
// # Serving
//
// Serve runs the gRPC service with the gRPC health service and,
// optionally, an HTTP status page with Prometheus metrics at /metrics. A
// listen address outside loopback requires a bearer token or mutual TLS
// unless ServeConfig.Insecure is set. A process that embeds the
// coordinator calls Open, passes ServerOptions to grpc.NewServer, calls
// Register, and calls Drain before stopping the server and Close after.
package coordinator
