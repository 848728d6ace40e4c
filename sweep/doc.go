// Package sweep reads sweep files, expands them into trials with
// content-hash ids, and turns the recorded outcomes into reports: Pareto
// fronts, seed aggregates, hypervolume per regularizer, and table, CSV,
// JSON and plot output.
//
// # Sweep files
//
// A sweep file is YAML:
//
//	name: demo                    # required: 1 to 64 characters of a-z, 0-9, _ and -
//	description: free text        # optional
//	base:                         # any core.Config field by its yaml name;
//	  tasks: [fdgo, reactgo]      # unset fields keep core.Default()
//	  hidden: 64
//	  steps: 1500
//	regularizers:                 # required, at least one block
//	  none: {}                    # none takes no lambda
//	  l1: {lambda: [1e-4, 1e-3]}  # numbers >= 0, each listed once (or one number)
//	  bimt:
//	    lambda: [1e-4, 1e-3]
//	    swap_every: 100           # other fields apply to this regularizer only
//	seeds: [1, 2, 3]              # or {count: 3, start: 1}; default [1]
//	grid:                         # optional: other core.Config fields as axes
//	  learning_rate: [1e-3, 3e-3]
//	  hidden: [64, 144, {hidden: 96, grid_rows: 8, grid_cols: 12}]
//	limits: {max_trials: 10000}   # optional; 10000 by default, at most 100000
//
// The trials are the union, over the regularizer blocks, of the product of
// that block's lambdas, the grid axes and the seeds. So none contributes
// seeds × grid trials and never repeats once per lambda of another
// regularizer. The fields regularizer, lambda and seed belong to these
// axes and may not be set in base, in a block or on the grid.
//
// Each trial's configuration is built from core.Default() by applying, in
// order, base, the regularizer block and the trial's grid values, then the
// regularizer, lambda and seed. Config.Seed is the value from the seed axis,
// so the same file always gives the same seeds. A grid entry is either a
// value of its field or a mapping that sets the field together with others.
// Two axes may not set the same field. Wherever hidden is set without
// grid_rows or grid_cols and no later layer sets them, a perfect square
// gets a square grid (hidden 144 means 12 × 12). Any other size needs
// grid_rows and grid_cols beside it.
//
// Parse validates the whole file, including core.Config.Validate on every
// expanded trial. It reports every problem it finds, each with its line,
// the path of the field, the bad value and what is allowed. It rejects
// unknown fields at any depth, wrong types, negative, NaN or infinite
// lambdas, duplicate lambdas, seeds or grid values, unknown tasks and
// regularizers, empty axes, hidden sizes that do not fit the grid, and
// grids larger than limits.max_trials. Trials whose ids are equal are
// merged and the first one is kept (File.Merged counts them).
//
// # Trial identity
//
// TrialID hashes the normalised configuration (see TrialID), so the id
// depends only on what is trained. The key order and comments of the file
// do not matter, and changing one lambda changes only the ids of that
// lambda's trials. SchemaVersion is part of the hash.
//
// # Fronts and hypervolume
//
// Fronts ranks trials by non-dominated sorting over maximum performance,
// minimum active neurons (weight-based) and minimum wiring length (count
// based). A trial dominates another only if it is no worse in all three and
// strictly better in at least one, so equal trials share a front. Trials
// that did not succeed or have a missing, NaN or infinite objective are
// left out and listed with the reason. FrontsOn ranks over other objective
// sets, such as the 2-D projections PerfVsActiveNeurons and
// PerfVsWiringLength.
//
// Aggregate groups trials by regularizer, lambda and grid values and
// reports, for each measure, the median and the range (minimum and
// maximum) over seeds. It then ranks the groups' medians.
//
// The report's hypervolume is computed in three dimensions on scaled,
// minimised objectives: 1 - performance, active neurons divided by the
// reference and wiring length divided by the reference. The reference is
// performance 0 and HypervolumeMargin (1.1) times the largest active
// neuron count and wiring length of any usable trial in the report. The
// reference therefore maps to (1, 1, 1), and a volume is the fraction of
// the unit cube dominated. Volumes compare regularizers within one report,
// not across reports.
//
// # JSON report
//
// Report.Write with format "json" writes one object:
//
//	sweep                     string
//	generated_at              string, RFC 3339, UTC
//	schema_version            int (SchemaVersion)
//	total                     int, number of trials
//	complete                  bool, every trial succeeded
//	counts                    {pending, leased, succeeded, failed, cancelled: int}
//	oldest_lease_seconds      number, 0 when nothing is leased
//	thresholds                [{theta_n, theta_w, theta_activity: number, trials: int}]
//	trials                    [trial], sorted by regularizer, lambda, axes, seed, id
//	frontier                  [id], rank 1 over all trials
//	frontier_by_regularizer   {regularizer: [id]}
//	frontier_2d               {performance_vs_active_neurons: [id],
//	                           performance_vs_wiring_length: [id]}
//	excluded                  [{id, reason: string}]
//	seed_aggregated           [group]
//	seed_aggregated_frontier  [group key], groups of rank 1
//	hypervolume               {reference: {performance, active_neurons, wiring_length: number},
//	                           normalization: string,
//	                           by_regularizer: [{regularizer: string, trials, front_size: int,
//	                                             volume: number, groups: int, median_volume: number}]}
//
//	trial:   {id, state, regularizer: string, lambda: number, seed, attempts: int,
//	          axes: {name: string}, metrics: metrics or null,
//	          rank, rank_in_regularizer: int (absent when left out of the fronts),
//	          error: string (absent when empty), lease_age_seconds: number (absent when 0)}
//	metrics: {performance, performance_min, active_neurons, active_neurons_activity,
//	          wiring_length, wiring_length_weighted, diag_share, final_loss: number or null}
//	group:   {key, regularizer: string, lambda: number, axes: {name: string},
//	          trials: [id], rank: int, and for each metrics field
//	          {median, min, max: number or null}}
//
// A measure that is NaN or infinite is written as null.
package sweep
