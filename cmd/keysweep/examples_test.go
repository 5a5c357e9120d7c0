package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/keysweep/keysweep/github"
)

// parseSweepArgs checks that args (after "keysweep github") are flags the
// command accepts, with a valid shard, and returns the shard.
func parseSweepArgs(t *testing.T, args []string) github.Shard {
	t.Helper()
	s := &streams{}
	cmd := newGitHubCmd(s)
	if err := cmd.ParseFlags(args); err != nil {
		t.Fatalf("flags %q: %v", args, err)
	}
	shard, err := cmd.Flags().GetString("shard")
	if err != nil {
		t.Fatal(err)
	}
	sh, err := github.ParseShard(shard)
	if err != nil {
		t.Fatalf("flags %q: %v", args, err)
	}
	return sh
}

// TestKubernetesExample checks that the CronJob is an Indexed Job whose
// pods each sweep a different shard with flags keysweep accepts.
func TestKubernetesExample(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile(filepath.Join("..", "..", "github", "examples", "kubernetes-cronjob.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var job struct {
		Kind string
		Spec struct {
			JobTemplate struct {
				Spec struct {
					CompletionMode string `yaml:"completionMode"`
					Completions    int
					Template       struct {
						Spec struct {
							Containers []struct {
								Args []string
							}
							Volumes []struct {
								PersistentVolumeClaim *struct {
									ClaimName string `yaml:"claimName"`
								} `yaml:"persistentVolumeClaim"`
							}
						}
					}
				}
			} `yaml:"jobTemplate"`
		}
	}
	dec := yaml.NewDecoder(strings.NewReader(string(data)))
	for job.Kind != "CronJob" {
		if err := dec.Decode(&job); err != nil {
			t.Fatalf("no CronJob in the example: %v", err)
		}
	}
	js := job.Spec.JobTemplate.Spec
	if js.CompletionMode != "Indexed" || js.Completions < 2 || len(js.Template.Spec.Containers) != 1 {
		t.Fatalf("not an Indexed Job of several pods: %+v", js)
	}
	args := js.Template.Spec.Containers[0].Args
	if len(args) == 0 || args[0] != "github" {
		t.Fatalf("args %q", args)
	}
	seen := map[int]bool{}
	for k := 0; k < js.Completions; k++ {
		var expanded []string
		for _, a := range args[1:] {
			expanded = append(expanded, strings.ReplaceAll(a, "$(JOB_COMPLETION_INDEX)", strconv.Itoa(k)))
		}
		sh := parseSweepArgs(t, expanded)
		if sh.N != js.Completions || sh.K != k {
			t.Errorf("pod %d sweeps shard %d/%d", k, sh.K, sh.N)
		}
		seen[sh.K] = true
	}
	if len(seen) != js.Completions {
		t.Errorf("shards covered: %v", seen)
	}
	hasPVC := false
	for _, v := range js.Template.Spec.Volumes {
		hasPVC = hasPVC || v.PersistentVolumeClaim != nil
	}
	if !hasPVC {
		t.Error("the cache is not on a persistent volume")
	}
}

// TestActionsExample checks that the workflow's matrix and the shards it
// passes agree, that it uploads SARIF, and that keysweep accepts its flags.
func TestActionsExample(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile(filepath.Join("..", "..", "github", "examples", "github-actions-sweep.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var wf struct {
		On   map[string]any `yaml:"on"`
		Jobs map[string]struct {
			Strategy struct {
				Matrix struct{ Shard []int }
			}
			Steps []struct {
				Uses string
				Run  string
			}
		}
	}
	if err := yaml.Unmarshal(data, &wf); err != nil {
		t.Fatal(err)
	}
	if _, ok := wf.On["schedule"]; !ok {
		t.Error("the workflow is not scheduled")
	}
	sweep := wf.Jobs["sweep"]
	shards := sweep.Strategy.Matrix.Shard
	expr := regexp.MustCompile(`\$\{\{\s*([^}]*?)\s*\}\}`)
	var script string
	sarif := false
	for _, st := range sweep.Steps {
		if strings.Contains(st.Run, "keysweep github") {
			script = st.Run
		}
		sarif = sarif || strings.HasPrefix(st.Uses, "github/codeql-action/upload-sarif")
	}
	if script == "" || !sarif {
		t.Fatalf("no sweep step, or no SARIF upload")
	}
	line := strings.ReplaceAll(script[strings.Index(script, "keysweep github")+len("keysweep github"):], "\\\n", " ")
	line = line[:strings.Index(line, "\n")]
	for _, k := range shards {
		expanded := expr.ReplaceAllStringFunc(line, func(m string) string {
			switch expr.FindStringSubmatch(m)[1] {
			case "matrix.shard":
				return strconv.Itoa(k)
			default:
				return "acme"
			}
		})
		var args []string
		for _, f := range strings.Fields(expanded) {
			args = append(args, strings.Trim(f, `"`))
		}
		sh := parseSweepArgs(t, args)
		if sh.K != k || sh.N != len(shards) {
			t.Errorf("matrix entry %d sweeps shard %d/%d of %d entries", k, sh.K, sh.N, len(shards))
		}
	}
}
