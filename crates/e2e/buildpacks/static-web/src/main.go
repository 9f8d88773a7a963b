// static-web serves the files of its working directory on $PORT, the job
// Paketo's web-server buildpacks (nginx, httpd) do for static sites.
package main

import (
	"log"
	"net/http"
	"os"
)

func main() {
	port := os.Getenv("PORT")
	if port == "" {
		port = "8080"
	}
	log.Printf("serving %s on %s", must(os.Getwd()), port)
	log.Fatal(http.ListenAndServe(":"+port, http.FileServer(http.Dir("."))))
}

func must(s string, err error) string {
	if err != nil {
		log.Fatal(err)
	}
	return s
}
