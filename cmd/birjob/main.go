// Command birjob is the job-alert service: scrapers, matcher, notification
// hub and web server in one binary. See the README, or run `birjob help`.
//
// This package is the wiring, read from the top down: run.go parses the
// command line, app.go opens the database and runs the node's roles,
// parts.go builds the pipeline stages and the HTTP routes of those roles.
// Nothing imports it; it imports everything else.
package main

import "os"

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}
