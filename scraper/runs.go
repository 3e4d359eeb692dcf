package scraper

// Run statuses (scrape_runs.status; storage.Run.Status).
const (
	StatusRunning     = "running"
	StatusOK          = "ok"
	StatusFailed      = "failed"
	StatusSuspect     = "suspect"
	StatusNotModified = "not-modified"
	// StatusEmpty: the board answered but nothing was found (a selector
	// that matches nothing, an empty feed); the run's errors say which.
	StatusEmpty = "empty"
	// StatusBackoff: no request was made, the board's host is backing off
	// (Retry-After, or failures in a row); the run's errors say until when.
	StatusBackoff = "backoff"
)

// MaxErrorSamples is how many error messages a run record keeps.
const MaxErrorSamples = 20
