package sweepcmd

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/modsweep/modsweep/core"
	pb "github.com/modsweep/modsweep/proto/modsweep/v1"
	"github.com/modsweep/modsweep/sweep/netplot"
)

func runShow(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "show", "TRIAL", "print one trial's configuration, measures and attempts, and draw its network")
	cf := addConnFlags(fs)
	plot := fs.String("plot", "", "draw the trained network in space to this file (.png or .svg)")
	threshold := fs.Float64("threshold", 0, "--plot draws connections with |w| above this; 0 uses the trial's theta_w")
	format := fs.String("format", "text", "output format: text or json (json prints the whole record with the result)")
	sweepRef := fs.String("sweep", "", "look in this sweep (id or name); default: the newest sweep that holds the trial")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return fmt.Errorf("%w: expected one trial id (or a unique prefix of one), got %d arguments", errUsage, len(pos))
	}
	if err := checkFormat(*format, "text", "json"); err != nil {
		return err
	}
	if *plot != "" {
		if err := checkPlotPath(*plot); err != nil {
			return err
		}
	}
	conn, client, err := cf.dial(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	rctx, cancel := context.WithTimeout(ctx, cf.timeout)
	defer cancel()
	resp, err := client.GetTrial(rctx, &pb.GetTrialRequest{TrialId: pos[0], SweepId: *sweepRef})
	if err != nil {
		return cf.wrap("get trial", err)
	}
	rec := resp.GetTrial()

	var res *core.Result
	if len(rec.GetResultJson()) > 0 {
		res = &core.Result{}
		if err := json.Unmarshal(rec.GetResultJson(), res); err != nil {
			return fmt.Errorf("decode result of trial %s: %w", rec.GetTrial().GetId(), err)
		}
	}

	if *format == "json" {
		var cfg any
		_ = json.Unmarshal(rec.GetTrial().GetConfigJson(), &cfg)
		out := map[string]any{
			"id":          rec.GetTrial().GetId(),
			"sweep_id":    rec.GetTrial().GetSweepId(),
			"state":       stateName(rec.GetState()),
			"config":      cfg,
			"attempts":    len(rec.GetAttempts()),
			"error":       rec.GetError(),
			"result":      res,
			"regularizer": rec.GetTrial().GetRegularizer(),
			"lambda":      rec.GetTrial().GetLambda(),
			"seed":        rec.GetTrial().GetSeed(),
		}
		if err := writeJSON(e.stdout, out); err != nil {
			return err
		}
	} else if err := writeTrial(e.stdout, rec, res); err != nil {
		return err
	}

	if *plot != "" {
		if res == nil {
			return fmt.Errorf("trial %s has no result to draw (state %s): wait until it succeeds", rec.GetTrial().GetId(), stateName(rec.GetState()))
		}
		opts := netplot.Options{
			Title: fmt.Sprintf("trial %s: %s, lambda %g, seed %d",
				rec.GetTrial().GetId(), rec.GetTrial().GetRegularizer(), rec.GetTrial().GetLambda(), rec.GetTrial().GetSeed()),
		}
		if *threshold < 0 {
			return fmt.Errorf("%w: --threshold %g: must be >= 0", errUsage, *threshold)
		}
		opts.Threshold = *threshold
		if err := netplot.Draw(res, *plot, opts); err != nil {
			return fmt.Errorf("draw network of trial %s: %w", rec.GetTrial().GetId(), err)
		}
		fmt.Fprintf(e.stderr, "network drawn to %s\n", *plot)
	}
	return nil
}

func stateName(s pb.TrialState) string {
	return strings.ToLower(strings.TrimPrefix(s.String(), "TRIAL_STATE_"))
}

func writeTrial(w io.Writer, rec *pb.TrialRecord, res *core.Result) error {
	t := rec.GetTrial()
	fmt.Fprintf(w, "trial %s of sweep %s: %s\n", t.GetId(), t.GetSweepId(), stateName(rec.GetState()))
	fmt.Fprintf(w, "regularizer %s, lambda %g, seed %d\n", t.GetRegularizer(), t.GetLambda(), t.GetSeed())
	if rec.GetError() != "" {
		fmt.Fprintf(w, "error: %s\n", rec.GetError())
	}
	if p := rec.GetProgress(); rec.GetState() == pb.TrialState_TRIAL_STATE_LEASED && p != nil {
		fmt.Fprintf(w, "progress: step %d of %d, loss %.4g\n", p.GetStep(), p.GetSteps(), p.GetLoss())
	}

	fmt.Fprintln(w, "\nconfiguration:")
	if err := writeConfig(w, t.GetConfigJson()); err != nil {
		return err
	}

	if res != nil {
		m := res.Measures
		fmt.Fprintln(w, "\nmeasures:")
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintf(tw, "  performance (mean, min)\t%.4f, %.4f\n", res.Final.Mean, res.Final.Min)
		fmt.Fprintf(tw, "  active neurons (weights > %g)\t%d\n", m.ThetaN, m.ActiveNeurons)
		fmt.Fprintf(tw, "  active neurons (task variance > %g)\t%d\n", m.ThetaActivity, m.ActiveNeuronsActivity)
		fmt.Fprintf(tw, "  wiring length (|w| > %g)\t%.3f over %d connections\n", m.ThetaW, m.WiringLength, m.Connections)
		fmt.Fprintf(tw, "  wiring length (weighted)\t%.3f\n", m.WiringLengthWeighted)
		fmt.Fprintf(tw, "  diagonal share of |W_rec|\t%.3f\n", m.DiagShare)
		fmt.Fprintf(tw, "  final loss\t%.5f\n", res.FinalLoss)
		fmt.Fprintf(tw, "  neuron swaps\t%d\n", res.Swaps)
		fmt.Fprintf(tw, "  training time\t%s\n", res.Duration.Round(time.Millisecond))
		if err := tw.Flush(); err != nil {
			return err
		}
		tasks := make([]string, 0, len(res.Final.PerTask))
		for name := range res.Final.PerTask {
			tasks = append(tasks, name)
		}
		sort.Strings(tasks)
		fmt.Fprintln(w, "\nperformance per task:")
		for _, name := range tasks {
			fmt.Fprintf(w, "  %-16s %.4f\n", name, res.Final.PerTask[name])
		}
	}

	if len(rec.GetAttempts()) > 0 {
		fmt.Fprintln(w, "\nattempts:")
		for _, a := range rec.GetAttempts() {
			fmt.Fprintf(w, "  #%d epoch %d agent %s started %s: %s\n", a.GetAttempt(), a.GetEpoch(), a.GetAgentId(),
				a.GetStartedAt().AsTime().Format(time.RFC3339), a.GetOutcome())
		}
	}
	return nil
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return fmt.Errorf("encode json: %w", err)
	}
	return nil
}

// writeConfig prints a trial configuration as aligned "field value" lines
// in the order of the JSON object.
func writeConfig(w io.Writer, configJSON []byte) error {
	dec := json.NewDecoder(bytes.NewReader(configJSON))
	dec.UseNumber()
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		fmt.Fprintf(w, "  %s\n", configJSON)
		return nil
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for dec.More() {
		key, err := dec.Token()
		if err != nil {
			return fmt.Errorf("decode trial configuration: %w", err)
		}
		var value json.RawMessage
		if err := dec.Decode(&value); err != nil {
			return fmt.Errorf("decode trial configuration field %v: %w", key, err)
		}
		var compact bytes.Buffer
		if err := json.Compact(&compact, value); err != nil {
			return fmt.Errorf("decode trial configuration field %v: %w", key, err)
		}
		fmt.Fprintf(tw, "  %v\t%s\n", key, compact.String())
	}
	return tw.Flush()
}
