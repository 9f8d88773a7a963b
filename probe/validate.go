package main

// `probe validate`: loads a skaffold.yaml the way `skaffold dev` does, with
// Skaffold v2.24's own parser (profiles activated by the `dev` command
// applied, defaults set) and validator, then reports, for each buildpacks
// artifact built from APP_DIR, the sync rules Skaffold ends up with and the
// destinations those rules give every file of the app. Matching uses the
// real bmatcuk/doublestar v1.3.4 and the mapping of Skaffold's
// sync.matchSyncRules (unexported there, so restated here).

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"github.com/GoogleContainerTools/skaffold/v2/pkg/skaffold/config"
	"github.com/GoogleContainerTools/skaffold/v2/pkg/skaffold/output/log"
	"github.com/GoogleContainerTools/skaffold/v2/pkg/skaffold/parser"
	"github.com/GoogleContainerTools/skaffold/v2/pkg/skaffold/schema/latest"
	"github.com/GoogleContainerTools/skaffold/v2/pkg/skaffold/schema/validation"
	"github.com/bmatcuk/doublestar"
	"github.com/sirupsen/logrus"
)

// noHook: SetupLogs requires a hook; this one fires for no level.
type noHook struct{}

func (noHook) Levels() []logrus.Level   { return nil }
func (noHook) Fire(*logrus.Entry) error { return nil }

func init() {
	commands["validate"] = validate
}

// manualRule: a manual sync rule as JSON with the field names of skaffold.yaml.
type manualRule struct {
	Src   string `json:"src"`
	Dest  string `json:"dest"`
	Strip string `json:"strip,omitempty"`
}

type validatedArtifact struct {
	Image      string              `json:"image"`
	Context    string              `json:"context"`
	AutoSync   bool                `json:"auto_sync"`
	Manual     []manualRule        `json:"manual"`
	Env        []string            `json:"env"`
	Buildpacks []string            `json:"buildpacks"`
	Files      map[string][]string `json:"files"`
}

func validate(args []string) error {
	flags := flag.NewFlagSet("validate", flag.ContinueOnError)
	file := flags.String("f", "skaffold.yaml", "the skaffold.yaml to load")
	app := flags.String("app", "", "the app directory whose artifacts to report (required)")
	workdir := flags.String("workdir", "/workspace", "the image's working dir, for relative destinations")
	command := flags.String("command", "dev", "the Skaffold command whose profiles are activated")
	if err := flags.Parse(args); err != nil {
		return err
	}
	if *app == "" {
		return errors.New("-app: required")
	}
	appDir, err := filepath.Abs(*app)
	if err != nil {
		return fmt.Errorf("-app %s: %w", *app, err)
	}
	absFile, err := filepath.Abs(*file)
	if err != nil {
		return fmt.Errorf("-f %s: %w", *file, err)
	}
	// Skaffold resolves artifact contexts against the directory it runs in:
	// run from the file's directory, as users do.
	if err := os.Chdir(filepath.Dir(absFile)); err != nil {
		return err
	}
	// Skaffold's `--auto-activation` defaults to true: profiles activate by command.
	opts := config.SkaffoldOptions{ConfigurationFile: absFile, Command: *command, ProfileAutoActivation: true}
	if err := log.SetupLogs(os.Stderr, "warn", false, noHook{}); err != nil {
		return err
	}
	configs, err := parser.GetConfigSet(context.Background(), opts)
	if err != nil {
		return fmt.Errorf("parse %s: %w", *file, err)
	}
	if err := validation.Process(configs, validation.GetValidationOpts(opts)); err != nil {
		return fmt.Errorf("validate %s: %w", *file, err)
	}
	var out []validatedArtifact
	for _, cfg := range configs {
		for _, a := range cfg.Build.Artifacts {
			if a.BuildpackArtifact == nil {
				continue
			}
			ctxDir, err := filepath.Abs(a.Workspace)
			if err != nil || ctxDir != appDir {
				continue
			}
			v := validatedArtifact{
				Image:      a.ImageName,
				Context:    a.Workspace,
				Env:        a.BuildpackArtifact.Env,
				Buildpacks: a.BuildpackArtifact.Buildpacks,
				Files:      map[string][]string{},
			}
			var manual []*latest.SyncRule
			if a.Sync != nil {
				manual = a.Sync.Manual
				v.AutoSync = a.Sync.Auto != nil && *a.Sync.Auto
			}
			for _, r := range manual {
				v.Manual = append(v.Manual, manualRule{Src: r.Src, Dest: r.Dest, Strip: r.Strip})
			}
			if err := matchFiles(appDir, manual, *workdir, v.Files); err != nil {
				return err
			}
			out = append(out, v)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Image < out[j].Image })
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

// matchFiles records, for every regular file below appDir that some rule
// selects, the destinations Skaffold would copy it to.
func matchFiles(appDir string, rules []*latest.SyncRule, workdir string, files map[string][]string) error {
	return filepath.WalkDir(appDir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(appDir, p)
		if err != nil {
			return err
		}
		var dsts []string
		for _, r := range rules {
			ok, err := doublestar.PathMatch(filepath.FromSlash(r.Src), rel)
			if err != nil {
				return fmt.Errorf("pattern %q: %w", r.Src, err)
			}
			if !ok {
				continue
			}
			wd := ""
			if !path.IsAbs(r.Dest) {
				wd = workdir
			}
			dsts = append(dsts, path.Join(wd, r.Dest, strings.TrimPrefix(filepath.ToSlash(rel), r.Strip)))
		}
		if len(dsts) > 0 {
			files[filepath.ToSlash(rel)] = dsts
		}
		return nil
	})
}
