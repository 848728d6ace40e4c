package deploy

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// binaryFlags lists, per binary, the subcommand that the deployment files
// run and the flags that subcommand accepts. Keep it in step with the flag
// sets of cmd/coordinator and cmd/agent.
var binaryFlags = map[string]struct {
	subcommand string
	flags      []string
}{
	"coordinator": {"serve", []string{
		"listen", "data", "http", "token-file", "tls-cert", "tls-key", "client-ca",
		"insecure", "lease-ttl", "max-attempts", "log-level", "log-json",
	}},
	"agent": {"join", []string{
		"workers", "max-trials", "idle-exit", "name", "spool", "grace", "token-file",
		"tls-ca", "tls-cert", "tls-key", "insecure", "log-level", "log-json",
	}},
}

// boolFlags take no value.
var boolFlags = []string{"insecure", "log-json"}

// filesWithExt returns the files under the deploy folder whose names end in
// one of exts.
func filesWithExt(t *testing.T, exts ...string) []string {
	t.Helper()
	var files []string
	err := filepath.WalkDir(".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && slices.Contains(exts, filepath.Ext(p)) {
			files = append(files, p)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("walk deploy folder: %v", err)
	}
	return files
}

func TestFilesPresent(t *testing.T) {
	for _, p := range []string{
		"slurm/agents.sbatch", "slurm/coordinator.sh",
		"k8s/coordinator.yaml", "k8s/agents-job.yaml",
		"README.md", "Dockerfile",
	} {
		if _, err := os.Stat(p); err != nil {
			t.Errorf("missing deployment file: %v", err)
		}
	}
}

func TestScriptsParseWithBash(t *testing.T) {
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Fatalf("bash not found, but the scripts need it: %v", err)
	}
	scripts := filesWithExt(t, ".sh", ".sbatch")
	if len(scripts) < 2 {
		t.Fatalf("found %d scripts (%v), want at least agents.sbatch and coordinator.sh", len(scripts), scripts)
	}
	for _, s := range scripts {
		out, err := exec.Command(bash, "-n", s).CombinedOutput()
		if err != nil {
			t.Errorf("bash -n %s: %v\n%s", s, err, out)
		}
	}
}

// commandLines returns the logical lines of a shell script with
// continuation lines joined. Comment lines are kept with the "#" removed,
// so that commented alternatives and examples are checked too, but "#!"
// and "#SBATCH" lines are dropped.
func commandLines(r io.Reader) ([]string, error) {
	var lines []string
	var cur strings.Builder
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if strings.HasPrefix(line, "#!") || strings.HasPrefix(line, "#SBATCH") {
			continue
		}
		line = strings.TrimSpace(strings.TrimPrefix(line, "#"))
		if rest, ok := strings.CutSuffix(line, `\`); ok {
			cur.WriteString(rest + " ")
			continue
		}
		cur.WriteString(line)
		lines = append(lines, cur.String())
		cur.Reset()
	}
	if cur.Len() > 0 {
		lines = append(lines, cur.String())
	}
	return lines, sc.Err()
}

// flagName returns the name of a flag token ("--workers=2" is "workers"),
// or "" if the token is not a flag.
func flagName(token string) string {
	if len(token) < 2 || token[0] != '-' {
		return ""
	}
	name := strings.TrimLeft(token, "-")
	name, _, _ = strings.Cut(name, "=")
	return name
}

// scriptInvocations finds every "BINARY SUBCOMMAND" in the lines, where
// the token before the subcommand names the binary (a path or a variable
// such as $AGENT_BIN), and checks the flag names that follow it. It
// returns the number of invocations per binary.
func scriptInvocations(lines []string) (map[string]int, error) {
	found := map[string]int{}
	var errs []error
	for _, line := range lines {
		tokens := strings.Fields(strings.NewReplacer(`"`, "", "'", "", "`", "").Replace(line))
		for i := 1; i < len(tokens); i++ {
			for binary, spec := range binaryFlags {
				prev := strings.ToLower(tokens[i-1])
				if tokens[i] != spec.subcommand || !strings.Contains(prev, binary) {
					continue
				}
				found[binary]++
				for _, tok := range tokens[i+1:] {
					if name := flagName(tok); name != "" && !slices.Contains(spec.flags, name) {
						errs = append(errs, fmt.Errorf("%s %s: unknown flag %s in %q", binary, spec.subcommand, tok, line))
					}
				}
			}
		}
	}
	return found, errors.Join(errs...)
}

func TestScriptsUseKnownFlags(t *testing.T) {
	want := map[string]string{
		filepath.Join("slurm", "agents.sbatch"):  "agent",
		filepath.Join("slurm", "coordinator.sh"): "coordinator",
	}
	for _, s := range filesWithExt(t, ".sh", ".sbatch") {
		f, err := os.Open(s)
		if err != nil {
			t.Fatal(err)
		}
		lines, err := commandLines(f)
		f.Close()
		if err != nil {
			t.Fatalf("read %s: %v", s, err)
		}
		found, err := scriptInvocations(lines)
		if err != nil {
			t.Errorf("%s: %v", s, err)
		}
		if binary, ok := want[s]; ok && found[binary] == 0 {
			t.Errorf("%s runs no %s %s", s, binary, binaryFlags[binary].subcommand)
		}
	}
}

func TestScriptFlagCheckRejectsTypo(t *testing.T) {
	lines, err := commandLines(strings.NewReader("exec \"$AGENT_BIN\" join host:7070 \\\n    --max-trial 1\n"))
	if err != nil {
		t.Fatal(err)
	}
	found, err := scriptInvocations(lines)
	if found["agent"] != 1 {
		t.Errorf("found %d agent invocations, want 1", found["agent"])
	}
	if err == nil || !strings.Contains(err.Error(), "--max-trial") {
		t.Errorf("error = %v, want one naming --max-trial", err)
	}
}

// readManifests decodes every YAML document in the file at p.
func readManifests(t *testing.T, p string) []map[string]any {
	t.Helper()
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var docs []map[string]any
	dec := yaml.NewDecoder(f)
	for {
		var doc map[string]any
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("%s: document %d does not parse as YAML: %v", p, len(docs)+1, err)
		}
		if doc != nil {
			docs = append(docs, doc)
		}
	}
	return docs
}

// dig returns the value at the key path in nested YAML maps, or nil.
func dig(v any, keys ...string) any {
	for _, k := range keys {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[k]
	}
	return v
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

func list(v any) []any {
	l, _ := v.([]any)
	return l
}

func stringList(v any) []string {
	var out []string
	for _, e := range list(v) {
		out = append(out, fmt.Sprint(e))
	}
	return out
}

// containers returns every container and init container in a manifest.
func containers(v any) []map[string]any {
	var out []map[string]any
	switch v := v.(type) {
	case map[string]any:
		for k, child := range v {
			if k == "containers" || k == "initContainers" {
				for _, c := range list(child) {
					if m, ok := c.(map[string]any); ok {
						out = append(out, m)
					}
				}
				continue
			}
			out = append(out, containers(child)...)
		}
	case []any:
		for _, child := range v {
			out = append(out, containers(child)...)
		}
	}
	return out
}

// checkCommand checks a container's command and args: the binary is
// coordinator or agent, the first argument is its subcommand, agent join
// has one HOST:PORT address, and every flag is known and has a value
// unless it is boolean.
func checkCommand(argv []string) error {
	if len(argv) < 2 {
		return fmt.Errorf("command %q: want a modsweep binary and its subcommand", argv)
	}
	binary := path.Base(argv[0])
	spec, ok := binaryFlags[binary]
	if !ok {
		return fmt.Errorf("command %q: binary %s is neither coordinator nor agent", argv, binary)
	}
	if argv[1] != spec.subcommand {
		return fmt.Errorf("command %q: %s subcommand is %q, want %q", argv, binary, argv[1], spec.subcommand)
	}
	rest := argv[2:]
	if binary == "agent" {
		if len(rest) == 0 || flagName(rest[0]) != "" || !strings.Contains(rest[0], ":") {
			return fmt.Errorf("command %q: agent join needs the coordinator HOST:PORT right after join", argv)
		}
		rest = rest[1:]
	}
	for i := 0; i < len(rest); i++ {
		tok := rest[i]
		name := flagName(tok)
		if name == "" {
			return fmt.Errorf("command %q: unexpected argument %q", argv, tok)
		}
		if !slices.Contains(spec.flags, name) {
			return fmt.Errorf("command %q: unknown %s %s flag %s", argv, binary, spec.subcommand, tok)
		}
		if slices.Contains(boolFlags, name) || strings.Contains(tok, "=") {
			continue
		}
		if i+1 == len(rest) || flagName(rest[i+1]) != "" {
			return fmt.Errorf("command %q: flag %s has no value", argv, tok)
		}
		i++
	}
	return nil
}

// flagValue returns the value of --name in argv, or "".
func flagValue(argv []string, name string) string {
	for i, tok := range argv {
		if flagName(tok) != name {
			continue
		}
		if _, v, ok := strings.Cut(tok, "="); ok {
			return v
		}
		if i+1 < len(argv) {
			return argv[i+1]
		}
	}
	return ""
}

func argv(container map[string]any) []string {
	return append(stringList(container["command"]), stringList(container["args"])...)
}

func TestCheckCommandRejectsBadArgs(t *testing.T) {
	cases := []struct {
		argv []string
		want string
	}{
		{[]string{"/usr/local/bin/coordinator", "serve", "--listne", ":1"}, "unknown coordinator serve flag --listne"},
		{[]string{"/usr/local/bin/coordinator", "serve", "--workers", "2"}, "unknown coordinator serve flag --workers"},
		{[]string{"/usr/local/bin/coordinator", "run"}, `subcommand is "run"`},
		{[]string{"/usr/local/bin/agent", "join", "--workers", "2"}, "HOST:PORT"},
		{[]string{"/usr/local/bin/agent", "join", "h:1", "--idle-exit"}, "--idle-exit has no value"},
		{[]string{"/usr/local/bin/agent", "join", "h:1", "extra"}, `unexpected argument "extra"`},
		{[]string{"/bin/sh", "-c", "agent"}, "neither coordinator nor agent"},
	}
	for _, tc := range cases {
		err := checkCommand(tc.argv)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("checkCommand(%q) = %v, want error containing %q", tc.argv, err, tc.want)
		}
	}
	if err := checkCommand([]string{"agent", "join", "h:1", "--log-json", "--workers=4", "--name", "a"}); err != nil {
		t.Errorf("valid agent command rejected: %v", err)
	}
}

func TestManifestsWellFormed(t *testing.T) {
	files := filesWithExt(t, ".yaml", ".yml")
	if len(files) < 2 {
		t.Fatalf("found %d manifests (%v), want at least coordinator.yaml and agents-job.yaml", len(files), files)
	}
	for _, p := range files {
		docs := readManifests(t, p)
		if len(docs) == 0 {
			t.Errorf("%s: no YAML documents", p)
		}
		for i, doc := range docs {
			for _, key := range [][]string{{"apiVersion"}, {"kind"}, {"metadata", "name"}} {
				if str(dig(doc, key...)) == "" {
					t.Errorf("%s: document %d has no %s", p, i+1, strings.Join(key, "."))
				}
			}
			for _, c := range containers(doc) {
				if err := checkCommand(argv(c)); err != nil {
					t.Errorf("%s: %s %s, container %s: %v", p, str(doc["kind"]), str(dig(doc, "metadata", "name")), str(c["name"]), err)
				}
			}
		}
	}
}

// byKind indexes manifests by kind, failing the test on a duplicate.
func byKind(t *testing.T, docs []map[string]any) map[string]map[string]any {
	t.Helper()
	out := map[string]map[string]any{}
	for _, d := range docs {
		k := str(d["kind"])
		if _, dup := out[k]; dup {
			t.Fatalf("two %s manifests in one file", k)
		}
		out[k] = d
	}
	return out
}

// mountedVolume returns the volume of the pod spec mounted by the
// container at the folder dir, or nil.
func mountedVolume(podSpec, container map[string]any, dir string) map[string]any {
	for _, m := range list(container["volumeMounts"]) {
		if str(dig(m, "mountPath")) != dir {
			continue
		}
		name := str(dig(m, "name"))
		for _, v := range list(podSpec["volumes"]) {
			if str(dig(v, "name")) == name {
				vm, _ := v.(map[string]any)
				return vm
			}
		}
		return map[string]any{"name": name} // a volume claim template
	}
	return nil
}

func TestCoordinatorManifest(t *testing.T) {
	kinds := byKind(t, readManifests(t, filepath.Join("k8s", "coordinator.yaml")))
	sts, svc := kinds["StatefulSet"], kinds["Service"]
	if sts == nil || svc == nil {
		t.Fatalf("coordinator.yaml has kinds %v, want a StatefulSet and a Service", slices.Sorted(maps.Keys(kinds)))
	}
	if r := dig(sts, "spec", "replicas"); r != 1 {
		t.Errorf("StatefulSet replicas = %v, want 1: bbolt allows one process per file", r)
	}

	podSpec, _ := dig(sts, "spec", "template", "spec").(map[string]any)
	cs := containers(podSpec)
	if len(cs) != 1 {
		t.Fatalf("coordinator pod has %d containers, want 1", len(cs))
	}
	c := cs[0]
	args := argv(c)

	listen := flagValue(args, "listen")
	_, port, _ := strings.Cut(listen, ":")
	for _, probe := range []string{"readinessProbe", "livenessProbe"} {
		if got := fmt.Sprint(dig(c, probe, "grpc", "port")); got != port {
			t.Errorf("%s grpc port = %s, want the --listen port %s", probe, got, port)
		}
	}

	dataDir := path.Dir(flagValue(args, "data"))
	claims := list(dig(sts, "spec", "volumeClaimTemplates"))
	vol := mountedVolume(podSpec, c, dataDir)
	switch {
	case vol == nil:
		t.Errorf("nothing is mounted at %s, the folder of --data", dataDir)
	case !slices.ContainsFunc(claims, func(cl any) bool { return str(dig(cl, "metadata", "name")) == str(vol["name"]) }):
		t.Errorf("volume %s at %s is not a volume claim template, so the database would not persist", vol["name"], dataDir)
	}

	tokenDir := path.Dir(flagValue(args, "token-file"))
	if v := mountedVolume(podSpec, c, tokenDir); str(dig(v, "secret", "secretName")) == "" {
		t.Errorf("the folder of --token-file %s is not mounted from a Secret", tokenDir)
	}

	podLabels, _ := dig(sts, "spec", "template", "metadata", "labels").(map[string]any)
	selector, _ := dig(svc, "spec", "selector").(map[string]any)
	if len(selector) == 0 {
		t.Error("Service has no selector")
	}
	for k, v := range selector {
		if podLabels[k] != v {
			t.Errorf("Service selects %s=%v, but the pod label is %v", k, v, podLabels[k])
		}
	}
	if !slices.ContainsFunc(list(dig(svc, "spec", "ports")), func(p any) bool { return fmt.Sprint(dig(p, "port")) == port }) {
		t.Errorf("Service exposes no port %s", port)
	}
}

func TestAgentsJobManifest(t *testing.T) {
	svc := byKind(t, readManifests(t, filepath.Join("k8s", "coordinator.yaml")))["Service"]
	job := byKind(t, readManifests(t, filepath.Join("k8s", "agents-job.yaml")))["Job"]
	if job == nil || svc == nil {
		t.Fatal("want a Job in agents-job.yaml and a Service in coordinator.yaml")
	}

	par, comp := dig(job, "spec", "parallelism"), dig(job, "spec", "completions")
	if n, ok := par.(int); !ok || n < 1 {
		t.Errorf("Job parallelism = %v, want a count >= 1", par)
	}
	if par != comp {
		t.Errorf("Job parallelism %v != completions %v: each agent pod is one completion", par, comp)
	}

	podSpec, _ := dig(job, "spec", "template", "spec").(map[string]any)
	cs := containers(podSpec)
	if len(cs) != 1 {
		t.Fatalf("agent pod has %d containers, want 1", len(cs))
	}
	c := cs[0]
	args := argv(c)

	if err := checkCommand(args); err != nil {
		t.Fatalf("agent container: %v", err)
	}
	// checkCommand ensured the form agent join HOST:PORT ...
	host, port, _ := strings.Cut(args[2], ":")
	if host != str(dig(svc, "metadata", "name")) {
		t.Errorf("agents join %s, want the coordinator Service %s", host, str(dig(svc, "metadata", "name")))
	}
	if !slices.ContainsFunc(list(dig(svc, "spec", "ports")), func(p any) bool { return fmt.Sprint(dig(p, "port")) == port }) {
		t.Errorf("agents join port %s, which the Service does not expose", port)
	}
	if flagValue(args, "idle-exit") == "" {
		t.Error("agents have no --idle-exit, so the Job would never complete")
	}

	workers, err := strconv.Atoi(flagValue(args, "workers"))
	if err != nil {
		t.Fatalf("agent --workers is not a count: %v", err)
	}
	cpu := fmt.Sprint(dig(c, "resources", "requests", "cpu"))
	if cpu != strconv.Itoa(workers) {
		t.Errorf("cpu request %s, want one CPU per worker (%d)", cpu, workers)
	}
	if dig(c, "resources", "requests", "memory") == nil {
		t.Error("agent container has no memory request")
	}

	tokenDir := path.Dir(flagValue(args, "token-file"))
	if v := mountedVolume(podSpec, c, tokenDir); str(dig(v, "secret", "secretName")) == "" {
		t.Errorf("the folder of --token-file %s is not mounted from a Secret", tokenDir)
	}
}
