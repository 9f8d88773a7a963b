// A small HTTP server with a third-party module from the Go module proxy:
// `/` answers with the message from message.go and a number formatted by
// github.com/dustin/go-humanize; `/about` is served by about.go; every
// other path is 404.
package main

import (
	"fmt"
	"log"
	"net/http"
	"os"

	"github.com/dustin/go-humanize"
)

func main() {
	port := os.Getenv("PORT")
	if port == "" {
		port = "8080"
	}
	http.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/" {
			http.NotFound(w, r)
			return
		}
		fmt.Fprintln(w, message())
		fmt.Fprintf(w, "go-humanize says %s bytes is %s\n", humanize.Comma(1234567), humanize.Bytes(1234567))
	})
	log.Printf("listening on %s", port)
	log.Fatal(http.ListenAndServe(":"+port, nil))
}
