package main

import (
	"fmt"
	"net/http"
)

// Registers `/about`; deleting this file (and rebuilding) removes the page.
func init() {
	http.HandleFunc("/about", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, "About: a Go example with modules, of skaffold-filesync")
	})
}
