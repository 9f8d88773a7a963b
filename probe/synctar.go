package main

// `probe synctar PATHMAP.json`: writes to stdout the tar stream Skaffold's
// sync sends to `tar xmf - -C / --no-same-owner` in the container, made by
// Skaffold's own util.CreateMappedTar (root "/", as its kubectl and docker
// syncers call it). PATHMAP.json maps each local file to its destinations:
// {"/abs/local/file": ["/workspace/file"]}.

import (
	"context"
	"encoding/json"
	"fmt"
	"os"

	"github.com/GoogleContainerTools/skaffold/v2/pkg/skaffold/util"
)

func init() {
	commands["synctar"] = syncTar
}

func syncTar(args []string) error {
	if len(args) != 1 {
		return fmt.Errorf("usage: probe synctar PATHMAP.json")
	}
	data, err := os.ReadFile(args[0])
	if err != nil {
		return err
	}
	var pathMap map[string][]string
	if err := json.Unmarshal(data, &pathMap); err != nil {
		return fmt.Errorf("%s: want {\"local file\": [\"destination\", ...]}: %w", args[0], err)
	}
	return util.CreateMappedTar(context.Background(), os.Stdout, "/", pathMap)
}
