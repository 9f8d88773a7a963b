package main

// `probe syncrules LABELS.json`: feeds an image's labels (a JSON object of
// label name to value, as `skopeo inspect` prints under "Labels") to
// Skaffold's own buildpacks.SyncRules — the function `skaffold dev` uses
// for auto sync — and prints the rules it returns as JSON.

import (
	"encoding/json"
	"fmt"
	"os"

	"github.com/GoogleContainerTools/skaffold/v2/pkg/skaffold/build/buildpacks"
)

func init() {
	commands["syncrules"] = syncRules
}

type rule struct {
	Src   string `json:"src"`
	Dest  string `json:"dest"`
	Strip string `json:"strip"`
}

func syncRules(args []string) error {
	if len(args) != 1 {
		return fmt.Errorf("usage: probe syncrules LABELS.json")
	}
	data, err := os.ReadFile(args[0])
	if err != nil {
		return err
	}
	var labels map[string]string
	if err := json.Unmarshal(data, &labels); err != nil {
		return fmt.Errorf("%s: want a JSON object of labels: %w", args[0], err)
	}
	rules, err := buildpacks.SyncRules(labels)
	if err != nil {
		return err
	}
	out := make([]rule, 0, len(rules))
	for _, r := range rules {
		out = append(out, rule{Src: r.Src, Dest: r.Dest, Strip: r.Strip})
	}
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}
