package scraper

// Run statuses (scrape_runs.status; storage.Run.Status).
const (
	StatusRunning     = "running"
	StatusOK          = "ok"
	StatusFailed      = "failed"
	StatusSuspect     = "suspect"
	StatusNotModified = "not-modified"
)

// MaxErrorSamples is how many error messages a run record keeps.
const MaxErrorSamples = 20
