// Command birjob is the job-alert service: scrapers, matcher, notification
// hub and web server in one binary. See the README, or run `birjob help`.
package main

import (
	"os"

	"github.com/birjob/birjob/internal/app"
)

func main() {
	os.Exit(app.Main(os.Args[1:], os.Stdout, os.Stderr))
}
