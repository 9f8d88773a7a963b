// Command probe runs Skaffold v2.24's own code (imported as a library) on
// what skaffold-filesync produces, so tests compare our output with what
// Skaffold itself would do rather than with our reading of it.
//
// Each subcommand lives in its own file and registers itself in commands
// from an init function.
package main

import (
	"fmt"
	"os"
	"sort"
	"strings"
)

var commands = map[string]func(args []string) error{}

func main() {
	if len(os.Args) < 2 || commands[os.Args[1]] == nil {
		names := make([]string, 0, len(commands))
		for n := range commands {
			names = append(names, n)
		}
		sort.Strings(names)
		fmt.Fprintf(os.Stderr, "usage: probe COMMAND [ARGS]\ncommands: %s\n", strings.Join(names, ", "))
		os.Exit(2)
	}
	if err := commands[os.Args[1]](os.Args[2:]); err != nil {
		fmt.Fprintln(os.Stderr, "probe:", err)
		os.Exit(1)
	}
}
